"""Fields of the team's own (projects/models/fields.py): owners define, rename and delete them; editors fill
a scene's values in its panel (with the scene's version check) or on many selected scenes at once.

Every value is checked here, before anything is written: a number field given text, a choice that is not
on the list, a text of 100,000 characters, a field with 10,000 choices are refused with a message and
nothing is saved.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import TypedDict

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext, ngettext

from generation.words import said
from projects.activity.feed import record
from projects.audit import audit_record, changes
from projects.inputs import has_control_characters
from projects.live import ChangeKind, live_publish
from projects.models import AuditAction, FieldKind, Project, ProjectField, RevisionKind, Scene
from projects.models.fields import (
    MAX_CHOICE,
    MAX_CHOICES,
    MAX_FIELD_NAME,
    MAX_FIELDS,
    MAX_NUMBER,
    MAX_TAGS,
    MAX_TEXT_VALUE,
    FieldValue,
)
from projects.storyboard.revisions import board_revision
from projects.storyboard.services import SceneConflict, project_touch, scene_ids_from

# What an owner may paste as a choice list: well past 100 choices of 60 characters, far short of a flood.
MAX_CHOICES_TEXT = MAX_CHOICES * (MAX_CHOICE + 2)
# The board's own query parameters: a field whose filter would read as one of them is named otherwise.
RESERVED_KEYS = {"view", "undo", "page", "q", "scene", "field", "value", "status", "cast", "after", "all"}


class KeptField(TypedDict):
    """A scene's value of one field as a board revision keeps it, with the field's name at the time."""

    name: str
    value: FieldValue


def field_filter_key(name: str) -> str:
    """The field's query parameter on the board: "Shot type" → ?shot_type=Wide."""
    return slugify(name).replace("-", "_")


def empty_value(field: ProjectField) -> FieldValue:
    return [] if field.kind == FieldKind.TAGS else ""


def value_text(field: ProjectField, value: object) -> str:
    """A value as a person reads it (and as a form shows it): tags joined by commas."""
    if isinstance(value, list):
        return ", ".join(value)
    return "" if value is None else str(value)


def field_words(*, values: Mapping[str, object] | None, fields: list[ProjectField]) -> tuple[tuple[str, str], ...]:
    """A scene's values as (field name, value as read) pairs, in the project's order, the empty left out:
    what exports carry (PDF, comments CSV, OTIO metadata, Fountain notes)."""
    return tuple((f.name, text) for f in fields if (text := value_text(f, (values or {}).get(f.key))))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def field_value_clean(field: ProjectField, raw: object) -> FieldValue:
    """A value typed for `field`, as stored: raises ValidationError in words naming the field."""
    name = field.name
    if isinstance(raw, list):
        raw = ",".join(str(part) for part in raw)
    raw = "" if raw is None else str(raw)
    if has_control_characters(raw):
        raise ValidationError(gettext("%(field)s contains control characters (such as NUL) that can't be stored.")
                              % {"field": name})
    limit = MAX_TAGS * (MAX_CHOICE + 2) if field.kind == FieldKind.TAGS else MAX_TEXT_VALUE
    if len(raw) > limit:
        raise ValidationError(gettext("%(field)s can be at most %(most)d characters (this one has %(has)d).")
                              % {"field": name, "most": limit, "has": len(raw)})
    text = _one_line(raw)
    if field.kind == FieldKind.TEXT:
        return text
    if field.kind == FieldKind.NUMBER:
        return _number(field, text)
    if field.kind == FieldKind.CHOICE:
        if not text:
            return ""
        by_fold: dict[str, str] = {choice.casefold(): choice for choice in field.choices}
        if text.casefold() not in by_fold:
            raise ValidationError(gettext("“%(value)s” is not one of %(field)s's choices: pick one from the list.")
                                  % {"value": text[:MAX_CHOICE], "field": name})
        return by_fold[text.casefold()]
    return _tags(field, text)


def _number(field: ProjectField, text: str) -> str:
    if not text:
        return ""
    try:
        number = Decimal(text.replace(",", ".") if text.count(",") == 1 and "." not in text else text)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise ValidationError(gettext("%(field)s is a number: “%(value)s” is not one (e.g. 35 or 2.8).")
                              % {"field": field.name, "value": text[:40]})
    if abs(number) >= MAX_NUMBER or number != number.quantize(Decimal("0.0001")):
        raise ValidationError(gettext("%(field)s takes numbers below a billion, with at most 4 decimals.")
                              % {"field": field.name})
    number = number.quantize(Decimal("0.0001")).normalize()
    return format(number, "f")


def _tags(field: ProjectField, text: str) -> list[str]:
    tags: dict[str, str] = {}
    for part in text.split(","):
        tag = part.strip()
        if not tag:
            continue
        if len(tag) > MAX_CHOICE:
            raise ValidationError(gettext("A tag of %(field)s is at most %(most)d characters.")
                                  % {"field": field.name, "most": MAX_CHOICE})
        known = next((c for c in field.choices if c.casefold() == tag.casefold()), tag)
        tags.setdefault(known.casefold(), known)
    if len(tags) > MAX_TAGS:
        raise ValidationError(gettext("%(field)s takes at most %(most)d tags on a scene.")
                              % {"field": field.name, "most": MAX_TAGS})
    return list(tags.values())


# --- Defining fields (owners) ------------------------------------------------------------------------


def _clean_name(project: Project, name: object, *, field: ProjectField | None = None) -> str:
    name = _one_line(name if isinstance(name, str) else "")
    if not name:
        raise ValidationError(gettext("Name the field (e.g. Shot type, Lens, Location)."))
    if has_control_characters(name):
        raise ValidationError(gettext("The name contains control characters (such as NUL) that can't be stored."))
    if len(name) > MAX_FIELD_NAME:
        raise ValidationError(gettext("A field's name is at most %(most)d characters (this one has %(has)d).")
                              % {"most": MAX_FIELD_NAME, "has": len(name)})
    key = field_filter_key(name)
    if not key or key in RESERVED_KEYS:
        raise ValidationError(gettext("Name the field with letters or digits, and not “%(name)s”: the board's "
                                      "filter needs the name.") % {"name": name})
    others = project.fields.exclude(pk=field.pk) if field is not None else project.fields.all()
    if any(field_filter_key(other) == key for other in others.values_list("name", flat=True)):
        raise ValidationError(gettext("This project already has a field named “%(name)s”.") % {"name": name})
    return name


def _clean_choices(kind: str, choices: str | Sequence[str]) -> list[str]:
    if isinstance(choices, str):
        if len(choices) > MAX_CHOICES_TEXT:
            raise ValidationError(gettext("A field offers at most %(most)d choices of %(length)d characters: this "
                                          "list is %(has)d characters long. Nothing was saved.")
                                  % {"most": MAX_CHOICES, "length": MAX_CHOICE, "has": len(choices)})
        choices = re.split(r"[\n,]", choices)
    if has_control_characters("".join(choices)):
        raise ValidationError(gettext("The choices contain control characters (such as NUL) that can't be stored."))
    cleaned: dict[str, str] = {}
    for choice in (_one_line(c) for c in choices):
        if not choice:
            continue
        if len(choice) > MAX_CHOICE:
            raise ValidationError(gettext("A choice is at most %(most)d characters: “%(start)s…” is longer.")
                                  % {"most": MAX_CHOICE, "start": choice[:30]})
        cleaned.setdefault(choice.casefold(), choice)
    if len(cleaned) > MAX_CHOICES:
        raise ValidationError(gettext("A field offers at most %(most)d choices (this list has %(has)d). Nothing was "
                                      "saved.") % {"most": MAX_CHOICES, "has": len(cleaned)})
    if kind == FieldKind.CHOICE and not cleaned:
        raise ValidationError(gettext("List the choices, one a line (e.g. Wide, Medium, Close-up)."))
    if kind in (FieldKind.TEXT, FieldKind.NUMBER):
        return []
    return list(cleaned.values())


def field_create(*, project: Project, user: User, name: str, kind: str, choices: str | Sequence[str] = "") -> ProjectField:
    """A new field at the end of the project's list."""
    if kind not in FieldKind.values:
        raise ValidationError(gettext("Choose what the field holds: text, a number, a choice or tags."))
    name = _clean_name(project, name)
    choices = _clean_choices(kind, choices)
    with transaction.atomic():
        project_touch(project)  # the project's fields are numbered one at a time
        count = project.fields.count()
        if count >= MAX_FIELDS:
            raise ValidationError(gettext("A project has at most %(most)d fields.") % {"most": MAX_FIELDS})
        try:
            with transaction.atomic():
                field = ProjectField.objects.create(project=project, name=name, kind=kind, choices=choices,
                                                    position=count)
        except IntegrityError:  # a teammate added it a moment before
            raise ValidationError(gettext("This project already has a field named “%(name)s”.") % {"name": name})
        record(project=project, kind="scene_edited", actor=user, text=said("feed.field_added", name=name))
        audit_record(team=project.team_id, actor=user, action=AuditAction.FIELD_ADDED, target=field,
                     target_label=_audit_label(project, name),
                     details={"in_project": project.name, "field_kind": kind, "choices": choices})
        _fields_changed(project, user, field)
    return field


def _fields_changed(project: Project, user: User, field: ProjectField) -> None:
    """Open boards and panels of the project fetch its fields as they are now (a new filter box, a new name)."""
    live_publish(kind=ChangeKind.FIELDS_CHANGED, project=project, actor=user, object_id=field.pk)


def _audit_label(project: Project, name: str) -> str:
    """How the audit log names a field: project / field (as they were named then)."""
    return f"{project.name} / {name}"


def field_update(*, field: ProjectField, user: User, name: str,
                 choices: str | Sequence[str] | None = None) -> ProjectField:
    """Rename a field (its values stay: they are kept by its id) and, for a choice or tags field, change
    its list. A choice scenes on the board still hold cannot be taken off the list (nothing is saved, the
    message says which and how many): their panels would offer a value the field no longer has."""
    project = field.project
    name = _clean_name(project, name, field=field)
    choices = field.choices if choices is None else _clean_choices(field.kind, choices)
    before = {"name": field.name, "choices": list(field.choices)}
    if field.kind == FieldKind.CHOICE:
        _refuse_held_choices(field, choices)
    after = {"name": name, "choices": list(choices)}
    try:
        with transaction.atomic():
            ProjectField.objects.filter(pk=field.pk).update(name=name, choices=choices)
            if before != after:
                audit_record(team=project.team_id, actor=user, action=AuditAction.FIELD_CHANGED, target=field,
                             target_label=_audit_label(project, name),
                             details={"in_project": project.name, "changes": changes(before, after)})
                _fields_changed(project, user, field)
    except IntegrityError:
        raise ValidationError(gettext("This project already has a field named “%(name)s”.") % {"name": name})
    field.name, field.choices = name, choices
    if before["name"] != name:
        record(project=project, kind="scene_edited", actor=user,
               text=said("feed.field_renamed", before=str(before["name"]), after=name))
    return field


def _refuse_held_choices(field: ProjectField, choices: Sequence[str]) -> None:
    kept = {choice.casefold() for choice in choices}
    held: dict[str, int] = {}
    for values in Scene.objects.filter(project=field.project_id, field_values__has_key=field.key).values_list(
            "field_values", flat=True):
        value = (values or {}).get(field.key)
        if isinstance(value, str) and value and value.casefold() not in kept:
            held[value] = held.get(value, 0) + 1
    if held:
        words = ", ".join(ngettext("“%(choice)s” (%(count)d scene)", "“%(choice)s” (%(count)d scenes)", count)
                          % {"choice": choice, "count": count} for choice, count in sorted(held.items()))
        raise ValidationError(gettext("Scenes still hold %(choices)s: nothing was saved. Filter the board by "
                                      "%(field)s, select those scenes and set another value first, then take the "
                                      "choice off the list.") % {"choices": words, "field": field.name})


def field_holders(*, field: ProjectField) -> int:
    """How many scenes on the board hold a value of the field (deleting it asks, saying so)."""
    return Scene.objects.filter(project=field.project_id, field_values__has_key=field.key).count()


def field_delete(*, field: ProjectField, user: User) -> int:
    """Delete the field and every scene's value of it (the trash's scenes too); returns how many scenes on
    the board held one. Open boards redraw those frames."""
    project = field.project
    with transaction.atomic():
        project_touch(project)
        holding = list(Scene.all_objects.select_for_update().filter(project=project, field_values__has_key=field.key)
                       .only("pk", "field_values", "trashed_at"))
        for scene in holding:
            values = dict(scene.field_values)
            values.pop(field.key, None)
            Scene.all_objects.filter(pk=scene.pk).update(field_values=values)
        audit_record(team=project.team_id, actor=user, action=AuditAction.FIELD_DELETED, target=field,
                     target_label=_audit_label(project, field.name),
                     details={"in_project": project.name, "field_kind": field.kind, "choices": field.choices,
                              "scenes_holding": sum(1 for scene in holding if scene.trashed_at is None)})
        _fields_changed(project, user, field)
        field.delete()
        record(project=project, kind="scene_edited", actor=user, text=said("feed.field_deleted", name=field.name))
        for scene in holding:
            if scene.trashed_at is None:
                live_publish(kind=ChangeKind.SCENE_EDITED, project=project, scene_id=scene.pk, actor=user,
                             data={"fields": ["fields"]})
    return sum(1 for scene in holding if scene.trashed_at is None)


# --- Filling values (editors) ------------------------------------------------------------------------


def _cleaned(fields: dict[str, ProjectField], values: Mapping[str, object]) -> dict[str, FieldValue]:
    """Each typed value cleaned; every problem at once, in one ValidationError."""
    cleaned: dict[str, FieldValue] = {}
    problems: list[str] = []
    for key, raw in values.items():
        field = fields.get(str(key))
        if field is None:
            continue  # deleted by an owner since the form was drawn: nothing to keep it in
        try:
            cleaned[field.key] = field_value_clean(field, raw)
        except ValidationError as exc:
            problems.extend(exc.messages)
    if problems:
        raise ValidationError(problems)
    return cleaned


def _written(now: Mapping[str, object], writing: Mapping[str, object]) -> dict[str, object]:
    values = dict(now)
    for key, value in writing.items():
        if value in ("", []):
            values.pop(key, None)
        else:
            values[key] = value
    return values


def scene_fields_set(*, scene: Scene, user: User, expected_version: int, values: Mapping[str, object],
                     base: Mapping[str, object] | None = None) -> Scene:
    """Save a scene's field values as typed in its panel, opened on version `expected_version`.

    As the scene's own editor (services.scene_update): if a teammate saved meanwhile, only the values this
    person changed from `base` (the values the form opened with) are written, and a value both changed is a
    SceneConflict naming the fields."""
    fields = {f.key: f for f in ProjectField.objects.filter(project=scene.project_id)}
    cleaned = _cleaned(fields, values)
    base = None if base is None else _cleaned_base(fields, base)
    for _attempt in range(3):
        current = Scene.objects.filter(pk=scene.pk).first()
        if current is None:
            raise ValidationError(gettext("This scene was moved to the trash meanwhile: nothing was saved. "
                                          "Restore it from the project's Trash to save your edit."))
        now = current.field_values or {}
        if current.version == expected_version:
            writing = cleaned
        elif base is None:
            raise SceneConflict(current)
        else:
            blank = {key: empty_value(fields[key]) for key in cleaned}
            mine = {k: v for k, v in cleaned.items() if v != base.get(k, blank[k])}
            clashes = [k for k, v in mine.items()
                       if now.get(k, blank[k]) != base.get(k, blank[k]) and now.get(k, blank[k]) != v]
            if clashes:
                raise SceneConflict(current, fields=[fields[k].name for k in clashes])
            writing = mine
        new = _written(now, writing)
        if new == now:
            return current
        if Scene.objects.filter(pk=scene.pk, version=current.version).update(
                field_values=new, version=F("version") + 1, updated_by=user, updated_at=timezone.now()):
            break
    else:
        raise SceneConflict(Scene.objects.get(pk=scene.pk))
    scene.refresh_from_db()
    names = ", ".join(fields[k].name for k in fields if now.get(k) != new.get(k))  # the team's own names
    record(project=scene.project, kind="scene_edited", actor=user, scene=scene,
           text=said("feed.edited", scene=scene.title, what=names))
    live_publish(kind=ChangeKind.SCENE_EDITED, project=scene.project, scene_id=scene.pk, actor=user,
                 data={"fields": ["fields"], "version": scene.version})
    return scene


def scene_fields_restore(*, scene: Scene, user: User, kept: Mapping[str, KeptField]) -> list[str]:
    """Give a scene the field values a board revision kept (`{key: {"name", "value"}}`), as one edit: what a
    restore does. A value whose field was deleted since cannot come back: its field's name is returned."""
    own = {f.key for f in ProjectField.objects.filter(project=scene.project_id)}
    values = {key: entry["value"] for key, entry in kept.items() if key in own}
    if values != (scene.field_values or {}):
        Scene.objects.filter(pk=scene.pk).update(field_values=values, version=F("version") + 1, updated_by=user,
                                                 updated_at=timezone.now())
        scene.refresh_from_db()
        live_publish(kind=ChangeKind.SCENE_EDITED, project=scene.project, scene_id=scene.pk, actor=user,
                     data={"fields": ["fields"], "version": scene.version})
    return [entry["name"] for key, entry in kept.items() if key not in own]


def _cleaned_base(fields: dict[str, ProjectField], base: Mapping[str, object]) -> dict[str, FieldValue] | None:
    try:
        return _cleaned(fields, base)
    except ValidationError:
        return None  # a doctored base merges nothing: any teammate's save since is a conflict


def scene_bulk_fields_set(*, project: Project, user: User, scene_ids: str | Iterable[str | int], field: ProjectField,
                          value: object) -> list[Scene]:
    """One field's value on every selected scene (empty: cleared). Refused whole when the value is not one
    the field takes, or a selected scene has left the board."""
    if field.project_id != project.pk:
        raise ValidationError(gettext("Choose one of this project's fields."))
    ids = set(scene_ids_from(scene_ids))
    if not ids:
        raise ValidationError(gettext("Select at least one scene."))
    cleaned = field_value_clean(field, value)
    with transaction.atomic(), board_revision(project=project, user=user, kind=RevisionKind.BULK_FIELDS,
                                              summary=said("revision.field_set", field=field.name)):
        project_touch(project)
        scenes = list(Scene.objects.select_for_update().filter(project=project, pk__in=ids))
        if len(scenes) != len(ids):
            raise ValidationError(gettext("Some selected scenes are no longer on the storyboard; nothing was "
                                          "changed. Reload the board and select again."))
        changed: list[Scene] = []
        for scene in scenes:
            now = scene.field_values or {}
            new = _written(now, {field.key: cleaned})
            if new != now:
                Scene.objects.filter(pk=scene.pk).update(field_values=new, version=F("version") + 1,
                                                         updated_by=user, updated_at=timezone.now())
                changed.append(scene)
        if changed:
            shown = value_text(field, cleaned)
            record(project=project, kind="scene_edited", actor=user,
                   text=said("feed.field_set", field=field.name, value=shown, count=len(changed)) if shown
                   else said("feed.field_set_nothing", field=field.name, count=len(changed)))
        for scene in changed:
            live_publish(kind=ChangeKind.SCENE_EDITED, project=project, scene_id=scene.pk, actor=user,
                         data={"fields": ["fields"]})
    return changed


def bulk_message(*, field: ProjectField, changed: int, value: object) -> str:
    shown = value_text(field, value)
    if not changed:
        return gettext("The selected scenes already had that value: nothing changed.")
    if shown:
        return ngettext("%(field)s set to %(value)s on %(count)d scene.",
                        "%(field)s set to %(value)s on %(count)d scenes.", changed) % {
            "field": field.name, "value": shown, "count": changed}
    return ngettext("%(field)s cleared on %(count)d scene.", "%(field)s cleared on %(count)d scenes.", changed) % {
        "field": field.name, "count": changed}


def scene_fields_from_properties(*, scene: Scene, properties: Mapping[str, object] | None,
                                 fields: list[ProjectField]) -> dict[str, str]:
    """A new scene's values from a script's scene properties, for each field whose name matches one (as the
    board's filter names it: "Shot Type" matches "shot type"). A value the field would refuse is left out:
    the scene imports all the same. Returns what was filled, by field name."""
    by_key = {field_filter_key(name): value for name, value in (properties or {}).items()}
    values: dict[str, FieldValue] = {}
    filled: dict[str, str] = {}
    for field in fields:
        raw = by_key.get(field.filter_key)
        if raw is None:
            continue
        try:
            value = field_value_clean(field, raw)
        except ValidationError:
            continue
        if value not in ("", []):
            values[field.key], filled[field.name] = value, value_text(field, value)
    if values:
        Scene.objects.filter(pk=scene.pk).update(field_values=_written(scene.field_values or {}, values))
        scene.field_values = _written(scene.field_values or {}, values)
    return filled
