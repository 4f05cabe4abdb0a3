"""Warning a team before a model its scenes use retires.

The catalog announces a retirement as a *deprecated* model with its `lifecycle_date` (the day it
is due to stop rendering; see generation.catalog). Once a day the beat runs `retirement_warn`: for each model
retiring within 30 days, each team with scenes that use it gets, once (a RetirementNotice row per
team and model claims it), an activity entry per affected project and an email to its owners
naming the scenes and where to move them. Board frames show a chip on their own (`lifecycle_labels`).
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from urllib.parse import urlencode

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from generation.catalog import retired_entries, retired_q, retirement_of
from generation.models import CatalogModel, Lifecycle, ProviderConnection, RetirementNotice
from generation.renders.retarget import used_value, with_used_model
from generation.words import said
from projects.activity.feed import record
from projects.activity.notifications import notify, studio_address
from projects.models import Membership, NotificationKind, Role, Scene

log = logging.getLogger(__name__)
WARN_DAYS = 30


def retiring_models(today: datetime.date | None = None, days: int = WARN_DAYS) -> QuerySet[CatalogModel]:
    """Models still rendering that retire within `days` days."""
    today = today or timezone.localdate()
    return CatalogModel.objects.filter(lifecycle=Lifecycle.DEPRECATED, lifecycle_date__gt=today,
                                       lifecycle_date__lte=today + datetime.timedelta(days=days))


def _values_of(model: CatalogModel, connections: list[ProviderConnection]) -> set[str]:
    """The "connection:model" values under which `model` is used: its own connection, or (shipped)
    every connection of its kind that does not register a model of the same id over it."""
    if model.connection_id:
        return {f"{model.connection_id}:{model.model_id}"}
    overridden = set(CatalogModel.objects.filter(connection__in=connections, model_id=model.model_id)
                     .values_list("connection_id", flat=True))
    return {f"{c.pk}:{model.model_id}" for c in connections if c.pk not in overridden}


def retirement_warn(today: datetime.date | None = None) -> int:
    """Warn every team whose scenes use a model retiring soon, once per model; returns the warnings sent."""
    sent = 0
    for model in retiring_models(today):
        connections = list(ProviderConnection.objects.filter(pk=model.connection_id) if model.connection_id
                           else ProviderConnection.objects.filter(kind=model.kind))
        values = _values_of(model, connections)
        scenes = with_used_model(Scene.objects.filter(project__team_id__in={c.team_id for c in connections})
                                 .select_related("project")).order_by("project_id", "position", "pk")
        by_team = defaultdict(list)
        for scene in scenes:
            if used_value(scene) in values:
                by_team[scene.project.team_id].append(scene)
        for team_id, team_scenes in by_team.items():
            sent += _warn_team(team_id, model, team_scenes)
    return sent


def _warn_team(team_id: int, model: CatalogModel, scenes: list[Scene]) -> int:
    if model.lifecycle_date is None:  # retiring_models finds dated models only
        return 0
    try:
        with transaction.atomic():
            # The claim: a second run (or a second beat) finds the row and warns nobody twice.
            RetirementNotice.objects.create(team_id=team_id, model=model, retires_on=model.lifecycle_date)
            by_project = defaultdict(list)
            for scene in scenes:
                by_project[scene.project].append(scene)
            lines, moves = [], []
            for project, project_scenes in by_project.items():
                names = ", ".join(f"{s.number}. {s.title}" for s in project_scenes)
                record(project=project, kind="model_retiring", actor_name="studio",
                       text=said("feed.model_retiring", model=model.display_name,
                                 when=f"{model.lifecycle_date:%Y-%m-%d}", count=len(project_scenes), names=names))
                moves.append(reverse("generation:scene_retarget", args=[project.pk]) + "?" + urlencode(
                    {"from": used_value(project_scenes[0])}))
                lines.append((project.name, names, f"{studio_address()}{moves[-1]}"))
            owners = [m.user for m in Membership.objects.filter(team_id=team_id, role=Role.OWNER)
                      .select_related("user")]
            words = {"model": model.display_name, "when": f"{model.lifecycle_date:%Y-%m-%d}"}

            def subject() -> str:
                return gettext("%(model)s retires on %(when)s") % words

            def body() -> str:  # said once per owner, in that owner's language
                moves_said = "\n".join(gettext("- %(project)s: %(scenes)s\n  Move them: %(url)s")
                                        % {"project": name, "scenes": names, "url": url} for name, names, url in lines)
                return (gettext("%(model)s stops rendering on %(when)s. These scenes use it:") % words + "\n\n"
                        + moves_said + "\n\n" + gettext("Each move shows what changes and what it costs before "
                                                         "anything is saved; nothing is booked."))

            # The inbox entry leads to the first project's move; the email names every project's.
            notify(owners, "model_retiring", kind=NotificationKind.MODEL_RETIRING, team_id=team_id,
                   subject=subject, path=moves[0], body=body)
    except IntegrityError:
        return 0
    log.info("warned team %s that %s retires on %s", team_id, model.model_id, model.lifecycle_date,
             extra={"team_id": team_id, "model": model.model_id})
    return 1


# The chips of a board: (connection id or kind, model id) -> words.
LifecycleLabels = dict[tuple[int | str, str], str]


def lifecycle_labels(team_id: int, today: datetime.date | None = None) -> LifecycleLabels:
    """The chip a board frame shows for a scene whose model is retired or retires within 30 days, keyed
    (connection id, model id) for a team's registered models and (kind, model id) for shipped ones.
    One query, whatever the board's size; read it with `label_for`."""
    today = today or timezone.localdate()
    soon = today + datetime.timedelta(days=WARN_DAYS)
    ending = retired_q() | Q(lifecycle=Lifecycle.DEPRECATED, lifecycle_date__lte=soon)
    # Every model the team registered too: one may be a retired model under another name ("openai/sora-2").
    rows = list(CatalogModel.objects.filter(Q(ending, connection__isnull=True) | Q(connection__team_id=team_id)))
    retired = retired_entries(rows)
    labels: LifecycleLabels = {}
    for model in rows:
        key = (model.connection_id or model.kind, model.model_id)
        if model.is_retired:
            labels[key] = f"{model.display_name} retired"
        elif model.lifecycle == Lifecycle.DEPRECATED and model.lifecycle_date and model.lifecycle_date <= soon:
            labels[key] = (f"{model.display_name} retires {model.lifecycle_date:%Y-%m-%d}"
                           if model.lifecycle_date > today
                           else f"{model.display_name} was due to retire {model.lifecycle_date:%Y-%m-%d}")
        elif alias_of := retirement_of(model, entries=retired):
            labels[key] = f"{alias_of.display_name} retired"
    return labels


def label_for(labels: LifecycleLabels, *, connection_id: int, kind: str, model_id: str) -> str:
    """The chip for a scene using `model_id` on that connection (of that kind), or ""."""
    return labels.get((connection_id, model_id)) or labels.get((kind, model_id), "")
