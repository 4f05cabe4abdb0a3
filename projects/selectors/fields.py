"""Read models of the project's own fields: what a frame shows of them, the panel's form, the board's filter."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from projects.inputs import CONTROL_CHARACTERS
from projects.models import FieldKind, Project, ProjectField, Scene
from projects.models.fields import FieldValue
from projects.storyboard.fields import field_filter_key, value_text

FRAME_FIELDS = 3  # values a frame shows (the panel has them all); the board stays light at 200 scenes
FRAME_VALUE = 24  # characters of each


@dataclass
class FieldShown:
    name: str
    text: str

    @property
    def short(self) -> str:
        return self.text if len(self.text) <= FRAME_VALUE else self.text[:FRAME_VALUE - 1] + "…"


@dataclass
class FieldRow:
    """One field in a scene's panel: its input's value (as typed, after a refusal) and its base."""

    field: ProjectField
    value: str
    base: str

    @property
    def key(self) -> str:
        return self.field.key

    @property
    def choices(self) -> list[str]:
        choices: list[str] = self.field.choices  # a JSON list, of strings as services.field_create keeps it
        return choices

    @property
    def kind(self) -> str:
        return self.field.kind


@dataclass(frozen=True)
class FieldFilter:
    """One of the project's own fields in the board's filter (?shot_type=Wide): part of the board's BoardFilter
    (projects/selectors/storyboard.py), which finds the scenes in the database, page by page."""

    field: ProjectField
    wanted: str

    @property
    def key(self) -> str:
        return field_filter_key(self.field.name)

    def holds(self, value: FieldValue | None) -> bool:
        """Whether a scene's stored value matches: text holds the words, a choice or a number is them
        (case aside), tags hold any one tag that is them."""
        held = value if isinstance(value, list) else [value] if value else []
        wanted = self.wanted.casefold()
        if self.field.kind == FieldKind.TEXT:
            return any(wanted in str(v).casefold() for v in held)
        return any(str(v).casefold() == wanted for v in held)


def project_fields(*, project: Project) -> list[ProjectField]:
    return list(ProjectField.objects.filter(project=project))


def shown_values(fields: list[ProjectField], values: Mapping[str, FieldValue] | None) -> list[FieldShown]:
    """A scene's values in the project's order of fields, the empty ones left out."""
    shown: list[FieldShown] = []
    for field in fields:
        text = value_text(field, (values or {}).get(field.key))
        if text:
            shown.append(FieldShown(field.name, text))
    return shown


def scene_field_rows(*, fields: list[ProjectField], scene: Scene,
                     typed: Mapping[str, str] | None = None) -> list[FieldRow]:
    values = scene.field_values or {}
    rows: list[FieldRow] = []
    for field in fields:
        stored = value_text(field, values.get(field.key))
        rows.append(FieldRow(field=field, value=typed.get(field.key, stored) if typed else stored, base=stored))
    return rows


def field_filters(*, fields: list[ProjectField], query: Mapping[str, object]) -> tuple[FieldFilter, ...]:
    """The board's ?shot_type=Wide: one filter for each field named in the query (unknown names ignored)."""
    filters: list[FieldFilter] = []
    for field in fields:
        wanted = " ".join(CONTROL_CHARACTERS.sub("", str(query.get(field_filter_key(field.name), ""))).split())
        if wanted:
            filters.append(FieldFilter(field=field, wanted=wanted[:200]))
    return tuple(filters)
