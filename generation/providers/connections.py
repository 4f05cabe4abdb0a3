"""Actions on a team's provider connections."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from generation.catalog import declaration_problems, retired_entry_for
from generation.models import (
    LOOKUP_WINDOW_DEFAULT,
    LOOKUP_WINDOW_MAX,
    LOOKUP_WINDOW_MIN,
    CatalogModel,
    ProviderConnection,
)
from generation.providers import Credentials, ModelSource, ProviderError, facts_for, provider_for
from generation.providers import tasks as provider_tasks
from generation.providers.base import ProviderFacts
from generation.providers.google_auth import KeyProblem, service_account_from_json
from generation.providers.openai_videos import declared_fields_problems
from generation.providers.vertex import bucket_problem, project_problem, region_problem
from generation.words import Said, english, said, stored
from projects.audit import audit_record, changes, url_for_log
from projects.live import ChangeKind, live_publish
from projects.models import AuditAction

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from projects.models import Team



def _lookup_window(seconds: int) -> int:
    if isinstance(seconds, bool) or not isinstance(seconds, int) or not LOOKUP_WINDOW_MIN <= seconds <= LOOKUP_WINDOW_MAX:
        raise ValidationError(gettext("The look-up window is a whole number of seconds from {low} to {high}.").format(
            low=LOOKUP_WINDOW_MIN, high=LOOKUP_WINDOW_MAX))
    return seconds


CLOUD_OPTIONS = ("project", "region", "output_uri", "service_account")


def _cloud_options(facts: ProviderFacts, *, key: str, project: str, region: str, output_uri: str, before: dict[str, Any]) -> dict[str, Any]:
    """A Google Cloud connection's options (project, region, output bucket, the key's account), checked:
    the form says it first, this holds for every caller."""
    if not facts.cloud_project:
        if project or region or output_uri:
            raise ValidationError(gettext("%(provider)s needs no Google Cloud setting.") % {"provider": facts.title})
        return dict(before)
    options = dict(before)
    if key and facts.credentials == Credentials.SERVICE_ACCOUNT:
        try:
            options["service_account"] = service_account_from_json(key).client_email
        except KeyProblem as problem:
            raise ValidationError(problem.message)
    options.update(project=project, region=region, output_uri=output_uri.rstrip("/"))
    problems = [p for p in (project_problem(project), region_problem(region), bucket_problem(output_uri)) if p]
    if problems:
        raise ValidationError(problems)
    return {name: value for name, value in options.items() if value}


def connection_create(*, team: Team, user: User, kind: str, label: str, base_url: str = "", auth_style: str = "bearer",
                      api_key: str = "", webhook_secret: str = "",
                      lookup_window_seconds: int = LOOKUP_WINDOW_DEFAULT, service_account_key: str = "",
                      project: str = "", region: str = "", output_uri: str = "") -> ProviderConnection:
    """A team's new connection. A Google Cloud one (ProviderFacts.credentials, cloud_project) takes its service
    account's JSON key, stored encrypted like any key, and its project, region and optional output bucket."""
    facts = facts_for(kind)
    if facts is None:
        raise ValidationError(gettext("The studio cannot talk to “%(kind)s” connections.") % {"kind": kind})
    if facts.built_in:
        raise ValidationError(gettext("The local previz connection is built in."))
    if facts.credentials == Credentials.SERVICE_ACCOUNT:
        if api_key or not service_account_key:
            raise ValidationError(gettext("%(provider)s connects with a service account's JSON key.")
                                  % {"provider": facts.title})
        api_key = service_account_key
    connection = ProviderConnection(team=team, kind=kind, label=label, base_url=base_url,
                                    auth_style=auth_style, created_by=user,
                                    lookup_window_seconds=_lookup_window(lookup_window_seconds),
                                    options=_cloud_options(facts, key=api_key, project=project, region=region,
                                                           output_uri=output_uri, before={}))
    connection.set_api_key(api_key)
    connection.set_webhook_secret(webhook_secret)
    key_name = "service_account_key" if service_account_key else "api_key"
    with transaction.atomic():
        connection = _save_with_unique_label(connection)
        audit_record(team=team, actor=user, action=AuditAction.CONNECTION_ADDED, target=connection,
                     target_label=connection.label,
                     details={"kind": kind, **_settings_of(connection),
                              **{name: "set" for name, value in ((key_name, api_key),
                                                                 ("webhook_secret", webhook_secret)) if value}})
    if facts.webhook_secret_from_api and not webhook_secret:
        # The provider hands out the account's webhook secret (Replicate): a test right away fetches
        # it, so the owner need not paste it (and learns at once whether the key works).
        connection_request_test(connection=connection)
    return connection


def connection_update(*, connection: ProviderConnection, user: User, label: str, base_url: str, auth_style: str,
                      api_key: str = "", webhook_secret: str = "",
                      lookup_window_seconds: int | None = None, service_account_key: str = "",
                      project: str = "", region: str = "", output_uri: str = "") -> ProviderConnection:
    """Blank secret fields keep the stored secret: keys are write-only."""
    facts = facts_for(connection.kind)
    before = _settings_of(connection)
    if facts is not None and facts.credentials == Credentials.SERVICE_ACCOUNT:
        if api_key:
            raise ValidationError(gettext("%(provider)s connects with a service account's JSON key.")
                                  % {"provider": facts.title})
        api_key = service_account_key
    if facts is not None:
        connection.options = _cloud_options(facts, key=api_key, project=project, region=region,
                                            output_uri=output_uri, before=connection.options or {})
    connection.label, connection.base_url, connection.auth_style = label, base_url, auth_style
    if lookup_window_seconds is not None:
        connection.lookup_window_seconds = _lookup_window(lookup_window_seconds)
    if api_key:
        connection.set_api_key(api_key)
    if webhook_secret:
        connection.set_webhook_secret(webhook_secret)
    key_name = "service_account_key" if service_account_key else "api_key"
    with transaction.atomic():
        connection = _save_with_unique_label(connection)
        changed = changes(before, _settings_of(connection))
        # Only that a secret was replaced: not its value, nor any part of it.
        changed.update({name: "replaced" for name, value in ((key_name, api_key),
                                                             ("webhook_secret", webhook_secret)) if value})
        if changed:
            audit_record(team=connection.team_id, actor=user, action=AuditAction.CONNECTION_CHANGED,
                         target=connection, target_label=connection.label, details={"changes": changed})
    return connection


def _settings_of(connection: ProviderConnection) -> dict[str, Any]:
    """What the log keeps of a connection's settings (the base URL without a password in it)."""
    return {"label": connection.label, "base_url": url_for_log(connection.base_url),
            "auth_style": connection.auth_style,
            # A Google Cloud connection's project, region, bucket and service account (its email, not its key).
            **({name: (connection.options or {}).get(name, "") for name in CLOUD_OPTIONS}
               if getattr(facts_for(connection.kind), "cloud_project", False) else {})}


def _save_with_unique_label(connection: ProviderConnection) -> ProviderConnection:
    try:
        with transaction.atomic():
            connection.save()
    except IntegrityError:
        raise ValidationError(gettext("Your team already has a connection called “%(label)s”.")
                              % {"label": connection.label})
    return connection


def connection_request_test(*, connection: ProviderConnection) -> None:
    ProviderConnection.objects.filter(pk=connection.pk).update(
        last_tested_at=None, last_test_ok=None, last_test_message="Testing…",
        last_test_words=stored(said("connection.testing")),
    )
    provider_tasks.test_connection.delay_on_commit(connection.pk)


def connection_test(connection_id: int) -> None:
    """One cheap authenticated call; the result in plain words."""
    connection = ProviderConnection.objects.filter(pk=connection_id).first()
    if connection is None:
        return
    answer: str | Said
    try:
        provider = provider_for(connection)
        answer, ok = provider.test_connection(), True
    except ProviderError as exc:
        answer, ok = exc.words or exc.message, False
    # Said by the worker, read by whoever opens the page: kept as codes, worded when shown.
    words = [answer] if isinstance(answer, Said) else []
    message = english(answer) if isinstance(answer, Said) else answer
    # Replicate hands out the account's webhook secret: no need to make the owner paste it.
    if (ok and provider.facts.webhook_secret_from_api and isinstance(provider, HandsOutWebhookSecret)
            and not connection.webhook_secret_encrypted):
        fetched = _fetch_webhook_secret(connection, provider)
        words, message = [*words, fetched] if words else [], f"{message} {english(fetched)}"
    ProviderConnection.objects.filter(pk=connection.pk).update(
        last_tested_at=timezone.now(), last_test_ok=ok, last_test_message=message[:500],
        last_test_words=stored(words),
    )
    # The owner's connections page shows the result as soon as it is in.
    live_publish(kind=ChangeKind.CONNECTION_TESTED, team_id=connection.team_id, object_id=connection.pk)



@runtime_checkable
class HandsOutWebhookSecret(Protocol):
    """An adapter whose provider's API hands out the account's webhook signing secret
    (ProviderFacts.webhook_secret_from_api: only such an adapter has the method)."""

    def webhook_secret(self) -> str: ...

def _fetch_webhook_secret(connection: ProviderConnection, provider: HandsOutWebhookSecret) -> Said:
    """Replicate signs webhooks with one secret per account, which its API hands out
    (ProviderFacts.webhook_secret_from_api): fetch it once, so the owner need not copy it over.
    Words for the test result."""
    try:
        connection.set_webhook_secret(provider.webhook_secret())
    except ProviderError as exc:
        return said("replicate.secret_unfetched", why=exc.words or exc.message)
    # Only if still unset: an owner may have pasted a secret (or changed the key) meanwhile.
    with transaction.atomic():
        if not ProviderConnection.objects.filter(pk=connection.pk, webhook_secret_encrypted="").update(
                webhook_secret_encrypted=connection.webhook_secret_encrypted):
            return said("replicate.secret_kept")
        # The worker changed a secret: nobody pressed a button for it, the studio did.
        audit_record(team=connection.team_id, actor=None, action=AuditAction.CONNECTION_CHANGED,
                     target=connection, target_label=connection.label,
                     details={"changes": {"webhook_secret": "fetched"}})
    return said("replicate.secret_fetched")


def catalog_register_model(*, connection: ProviderConnection, model_id: str, display_name: str,
                           sizes: list[str], durations: list[int], price_per_second: float,
                           image_input: bool = False, native_characters: bool = False,
                           supports_remix: bool = False, typical_seconds: int | None = None,
                           extra_fields: dict[str, str] | None = None, extend_seconds: list[int] | None = None,
                           extend_returns: str = "", shot_timing: str = "", shots_max: int | None = None,
                           shots_seconds_min: int | None = None, shots_seconds_max: int | None = None,
                           shot_min_seconds: int | None = None, storyboard_field: str = "",
                           user: User | None = None) -> CatalogModel:
    """An owner registers a model that their gateway serves (e.g. a Seedance or Wan id).

    What the gateway accepts beyond the OpenAI format's own fields is declared here, per model:
    native characters and constant extra fields; the adapter sends nothing else. So is what the
    model can do for continuity (extension lengths, multi-shot limits): the format carries a start
    frame only, so an end frame or likeness references cannot be declared (catalog.declaration_problems)."""
    facts = facts_for(connection.kind)
    if facts is None or facts.model_source != ModelSource.REGISTERED:
        raise ValidationError(gettext("Models can be registered on OpenAI-format gateway connections."))
    retired = retired_entry_for(model_id)
    if retired is not None:
        facts_of = {"model": model_id, "name": retired.display_name}
        if retired.lifecycle_date:
            raise ValidationError(gettext("“%(model)s” is %(name)s, which was retired on %(date)s: a gateway cannot "
                                          "render it any more. Register a live model instead.")
                                  % {**facts_of, "date": retired.lifecycle_date.isoformat()})
        raise ValidationError(gettext("“%(model)s” is %(name)s, which was retired: a gateway cannot render it any "
                                      "more. Register a live model instead.") % facts_of)
    schema = {**({"characters": "id[]"} if native_characters else {}),
              **({"storyboard": storyboard_field} if storyboard_field else {}),
              **({"extra": dict(extra_fields)} if extra_fields else {})}
    problems = declared_fields_problems(schema)
    if problems:
        raise ValidationError(problems)
    model = CatalogModel(
        kind=connection.kind, connection=connection, model_id=model_id,
        display_name=display_name or model_id, sizes=sizes, durations=durations,
        input_kinds=["text"] + (["image"] if image_input else []), input_schema=schema,
        supports_remix=supports_remix, typical_seconds=typical_seconds or None,
        price_per_second={"*": float(price_per_second)}, extend_seconds=list(extend_seconds or []),
        extend_returns=extend_returns, shot_timing=shot_timing, shots_max=shots_max,
        shots_seconds_min=shots_seconds_min, shots_seconds_max=shots_seconds_max, shot_min_seconds=shot_min_seconds,
    )
    if problems := declaration_problems(model):
        raise ValidationError(problems)
    try:
        with transaction.atomic():
            model.save()
            audit_record(team=connection.team_id, actor=user, action=AuditAction.MODEL_REGISTERED, target=model,
                         target_label=f"{model.display_name} ({model_id})",
                         details={"connection": connection.label, "price_per_second": model.price_per_second,
                                  "sizes": sizes, "durations": durations, "input_kinds": model.input_kinds,
                                  "supports_remix": supports_remix, "native_characters": native_characters,
                                  "extra_fields": dict(extra_fields or {}),
                                  **({"storyboard_field": storyboard_field} if storyboard_field else {})})
            return model
    except IntegrityError:
        raise ValidationError(gettext("“%(model)s” is already registered on %(label)s.")
                              % {"model": model_id, "label": connection.label})

