"""Read models of the character library: characters with their consent, one character's page,
and a person's own likenesses across teams."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_lazy, ngettext

from projects.characters.consent import consent_state
from projects.models import (
    Character,
    ConsentAction,
    ConsentEvent,
    ConsentGrant,
    ConsentScope,
    Membership,
)
from projects.selectors.storyboard import with_changes_requested


def characters_with_consent(characters: QuerySet[Character]) -> QuerySet[Character]:
    """`characters` with everything consent_state and the pages read fetched alongside."""
    declarations = ConsentEvent.objects.filter(action=ConsentAction.DECLARED_FICTIONAL).select_related("actor")
    return characters.select_related("team", "person", "created_by").prefetch_related(
        "images", "grants__projects", Prefetch("consent_events", queryset=declarations, to_attr="declarations"),
    )


def consent_rows(characters: QuerySet[Character]) -> list[Character]:
    """The characters, each with `state_key`, `state` (words) and `active` (its standing grant)."""
    rows = list(characters_with_consent(characters))
    now = timezone.now()
    for character in rows:
        state = consent_state(character, now=now)
        character.state_key, character.state, character.active = state.key, state.label, state.grant
    return rows


def likenesses_for(*, user) -> list[Character]:
    """The user's own likenesses in every team, including teams they left (`still_member` says which)."""
    characters = consent_rows(Character.objects.filter(person=user).order_by("team__name", "name"))
    member_of = set(Membership.objects.filter(user=user).values_list("team_id", flat=True))
    for character in characters:
        character.still_member = character.team_id in member_of
    return characters


# The names of what a consent event stored, for the log (the details are stored with English keys).
DETAIL_LABELS = {
    "scope": gettext_lazy("Scope"), "projects": gettext_lazy("Projects"), "providers": gettext_lazy("Providers"),
    "expires_at": gettext_lazy("Expires on"), "voice": gettext_lazy("Voice"), "statement": gettext_lazy("Statement"),
    "takes_quarantined": gettext_lazy("Takes withheld"), "takes_withheld": gettext_lazy("Takes withheld"),
    "files": gettext_lazy("Files deleted"), "files_deleted": gettext_lazy("Files deleted"),
    "receipt": gettext_lazy("Receipt"),
}


def _detail_text(key: str, value: object) -> str:
    if key == "providers" and not value:
        return gettext("all")
    if key == "expires_at":
        return date_format(timezone.localtime(datetime.fromisoformat(str(value))), "j M Y") if value else gettext(
            "no expiry")
    if key == "scope" and value in ConsentScope.values:
        return str(ConsentScope(value).label)
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if key == "statement":  # stored in English (consent.FICTIONAL_STATEMENT), said in the reader's language
        return gettext(str(value))
    if key == "receipt" and isinstance(value, str) and (count := re.match(r"(\d+) take\(s\) deleted$", value)):
        return ngettext("%(count)d take deleted", "%(count)d takes deleted", int(count[1])) % {"count": int(count[1])}
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or gettext("none")
    return str(value)


def _described(event: ConsentEvent) -> ConsentEvent:
    """The event with its details as (label, words) pairs for the log, in the reader's language."""
    event.detail_items = [(str(DETAIL_LABELS.get(key, key.replace("_", " ").capitalize())), _detail_text(key, value))
                          for key, value in (event.details or {}).items()]
    return event


@dataclass
class CharacterPage:
    character: Character  # with `state_key` and `state` set
    active: ConsentGrant | None
    events: list[ConsentEvent]  # each with `detail_items`
    scenes: QuerySet
    takes: list

    @property
    def withheld(self) -> int:
        return sum(1 for take in self.takes if take.quarantined_at)


def character_page_for(*, character: Character) -> CharacterPage:
    """One character's page: its consent, the log of consent events, the scenes and takes casting it."""
    state = consent_state(character)
    character.state_key, character.state = state.key, state.label
    return CharacterPage(
        character=character, active=character.active_grant(),
        events=[_described(event) for event in character.consent_events.select_related("actor")],
        scenes=character.scenes.select_related("project").order_by("project__name", "position"),
        takes=list(with_changes_requested(character.renders.select_related("scene__project")).order_by("-created_at")),
    )
