"""Read models of the character library: characters with their consent, one character's page,
and a person's own likenesses across teams."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from projects.characters.consent import consent_state
from projects.models import Character, ConsentAction, ConsentEvent, ConsentGrant, Membership
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


def _described(event: ConsentEvent) -> ConsentEvent:
    """The event with its details as (label, words) pairs for the log."""
    items = []
    for key, value in (event.details or {}).items():
        if key == "providers" and not value:
            text = "all"
        elif key == "expires_at":
            text = f"{timezone.localtime(datetime.fromisoformat(value)):%-d %b %Y}" if value else "no expiry"
        elif isinstance(value, list):
            text = ", ".join(str(v) for v in value) or "none"
        else:
            text = str(value)
        items.append((key.replace("_", " ").capitalize(), text))
    event.detail_items = items
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
