"""The team's audit log: what owners answer for, who changed it and when.

Every service that changes such a thing (a connection or its key, a catalog entry or its price, a
budget or a cap, a model policy, a role, an invitation, a removal, consent, an override of failed
checks, a guest link) calls `audit_record` in its own transaction, so the entry exists exactly when
the change does. Services of every layer write here, so this package sits in the foundation: it
imports models and nothing of any domain (import-linter keeps it so).

Secrets never enter the log: a key or a webhook secret is recorded as the word of what happened to
it ("set", "replaced", "fetched"), never its value nor any part of it.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from django.db.models import Model

from projects.models import AuditEntry

# Fields whose values are secrets: in `details` they may only say what happened to them.
SECRET_FIELDS = frozenset({"api_key", "webhook_secret", "password", "token", "token_hash", "api_key_encrypted",
                           "webhook_secret_encrypted", "webhook_token", "service_account_key"})
SECRET_WORDS = frozenset({"set", "replaced", "removed", "fetched", True, False})


def audit_entry(*, team, actor, action: str, target: Model | None = None, details: dict | None = None,
                target_type: str = "", target_label: str = "", actor_name: str = "") -> AuditEntry:
    """The unsaved entry (for bulk_create); see `audit_record`."""
    details = details or {}
    _refuse_secrets(details)
    actor = actor if getattr(actor, "pk", None) else None
    return AuditEntry(
        team_id=getattr(team, "pk", team), action=action,
        actor=actor, actor_name=(actor.get_username() if actor else actor_name)[:150],
        target_type=target_type or ((target._meta.model_name or "") if target is not None else ""),
        target_id=getattr(target, "pk", None), target_label=(target_label or str(target or ""))[:300],
        details=details,
    )


def audit_record(*, team, actor, action: str, target: Model | None = None, details: dict | None = None,
                 target_type: str = "", target_label: str = "", actor_name: str = "") -> AuditEntry:
    """Write one entry of `team`'s log. Call it inside the transaction that makes the change.

    `actor`: the user who made it; None (with `actor_name` for a guest) when a guest or the studio
    itself did. `target`: the changed row (its type, id and `target_label`, else its str(), are kept
    as they are now). `details`: what changed, as `changes(before, after)` and plain facts; values are
    JSON (Decimal and dates as text)."""
    entry = audit_entry(team=team, actor=actor, action=action, target=target, details=details,
                        target_type=target_type, target_label=target_label, actor_name=actor_name)
    entry.save()
    return entry


def changes(before: dict, after: dict) -> dict:
    """{field: [before, after]} for each field whose value differs (a secret field only says it was replaced)."""
    diff = {}
    for name, new in after.items():
        old = before.get(name)
        if old != new:
            diff[name] = "replaced" if name in SECRET_FIELDS else [old, new]
    return diff


def take_label(take) -> str:
    """How the log names a take: project / scene #number (the number needs no translation)."""
    scene = take.scene
    return f"{scene.project.name} / {scene.title} #{take.number}"


def url_for_log(url: str) -> str:
    """A URL as the log keeps it: a password in its user part (https://user:secret@host) is left out."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        netloc = f"{parts.username}:***@{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    except ValueError:  # not a URL the form would have kept: nothing of it is worth the risk
        return ""
    return urlunsplit(parts._replace(netloc=netloc))


def _refuse_secrets(details: dict) -> None:
    """A programming error, caught in tests: a secret's value on its way into the log. Recorders name
    fields at the top of `details` and in its "changes"; deeper dicts are data (sizes, extra fields)."""
    for fields in (details, details.get("changes") or {}):
        for name, value in fields.items():
            if name in SECRET_FIELDS and not (isinstance(value, (str, bool)) and value in SECRET_WORDS):
                raise ValueError(f"The audit log never keeps a secret's value ({name}).")
