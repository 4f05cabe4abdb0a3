"""Board revisions: the storyboard as it stood after each change worth keeping, to compare and restore.

Every accepted editor's cut, script import and bulk change (a drag reorder, moving or deleting selected
scenes, a re-target) runs inside `board_revision`, which records the board after the change. Before it,
when the board no longer matches the newest revision (scenes were edited one by one since), the board as
it stood is recorded first ("Edits since the last revision"): whatever a change replaced can be restored.
Anyone on the team can also name the board as it is now, or name a revision ("v2 sent to client").

A revision is the board's scenes in order, each as its id and the digest of its content (`scene_content`);
the contents are SceneVersion rows kept once per project and digest. Comparing two revisions is
`compare_boards`; restoring one is projects/storyboard/restore.py (as new edits: history stays).

Locks: the project row first, as every change of the board takes it (services.project_touch), so the
revision numbers of one project are handed out one at a time.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from generation.words import Said, english, said, stored
from projects.inputs import clean_text
from projects.models import (
    MAX_REVISION_NAME,
    BoardRevision,
    DialogueLine,
    Project,
    ProjectField,
    RevisionKind,
    Scene,
    SceneVersion,
)

# The content a revision keeps of each scene, in the order a comparison lists its changes.
CONTENT_FIELDS = ("title", "prompt", "duration", "size", "camera_notes", "dialogue", "cast", "fields", "in_cut",
                  "approved_take")
FIELD_LABELS = {
    "title": gettext_lazy("Title"), "prompt": gettext_lazy("Prompt"), "duration": gettext_lazy("Duration"),
    "size": gettext_lazy("Size"), "camera_notes": gettext_lazy("Camera notes"),
    "dialogue": gettext_lazy("Dialogue"), "cast": gettext_lazy("Cast"), "fields": gettext_lazy("Fields"),
    "in_cut": gettext_lazy("In the cut"),
    "approved_take": gettext_lazy("Approved take"),
}


# --- What a revision keeps ------------------------------------------------------------------------


def board_snapshot(project: Project) -> list[tuple[int, dict]]:
    """The board's scenes in order, each with its content. Four queries, whatever the board holds.

    A scene's values of the project's own fields are kept (with each field's name, as a comparison shows it)
    only when it has some: a scene without any keeps the content, and the digest, it had before fields."""
    rows = list(Scene.objects.filter(project=project).order_by("position", "pk").values(
        "pk", "title", "prompt", "duration", "size", "camera_notes", "in_cut", "approved_take_id",
        "approved_take__number", "field_values"))
    own_fields = list(ProjectField.objects.filter(project=project))
    ids = [row["pk"] for row in rows]
    lines: dict[int, list] = {}
    for line in (DialogueLine.objects.filter(scene_id__in=ids).order_by("scene_id", "position", "pk")
                 .values("scene_id", "character_id", "speaker", "parenthetical", "text", "after_prompt_lines")):
        lines.setdefault(line["scene_id"], []).append({
            "speaker": line["speaker"], "character": line["character_id"], "parenthetical": line["parenthetical"],
            "text": line["text"], "after": line["after_prompt_lines"]})
    cast: dict[int, list] = {}
    for pair in Scene.cast.through.objects.filter(scene_id__in=ids).values("scene_id", "character_id",
                                                                            "character__name"):
        cast.setdefault(pair["scene_id"], []).append({"id": pair["character_id"], "name": pair["character__name"]})
    return [(row["pk"], {
        "title": row["title"], "prompt": row["prompt"], "duration": row["duration"], "size": row["size"],
        "camera_notes": row["camera_notes"], "in_cut": row["in_cut"],
        "dialogue": lines.get(row["pk"], []),
        "cast": sorted(cast.get(row["pk"], []), key=lambda c: (c["name"].casefold(), c["id"])),
        "approved_take": ({"id": row["approved_take_id"], "number": row["approved_take__number"]}
                          if row["approved_take_id"] else None),
        **_field_content(row["field_values"], own_fields),
    }) for row in rows]


def _field_content(values: dict | None, own_fields: list[ProjectField]) -> dict:
    given = values or {}
    kept = {f.key: {"name": f.name, "value": given[f.key]} for f in own_fields if given.get(f.key)
            not in (None, "", [])}
    return {"fields": kept} if kept else {}


def content_digest(content: dict) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":"),
                                     ensure_ascii=False).encode()).hexdigest()


def _store(project: Project, snapshot: list[tuple[int, dict]]) -> list[list]:
    """Keep each scene's content once per project; the revision's list of [scene id, digest]."""
    digests = [content_digest(content) for _pk, content in snapshot]
    SceneVersion.objects.bulk_create(
        [SceneVersion(project=project, digest=digest, content=content)
         for (_pk, content), digest in zip(snapshot, digests)], ignore_conflicts=True)
    return [[pk, digest] for (pk, _content), digest in zip(snapshot, digests)]


# --- Recording revisions --------------------------------------------------------------------------


def _lock(project: Project) -> None:
    # The project row, first: as services.project_touch takes it (the order every change of a board locks in).
    Project.objects.filter(pk=project.pk).update(updated_at=timezone.now())


def _newest(project: Project) -> BoardRevision | None:
    return BoardRevision.objects.filter(project=project).order_by("-number").first()


def _create(project: Project, user, kind: str, entries: list[list], summary: str | Said = "",
            name: str = "") -> BoardRevision:
    number = (BoardRevision.objects.filter(project=project).aggregate(n=Max("number"))["n"] or 0) + 1
    # Said: worded in each reader's language on the Revisions page; the English stays for the record.
    words = stored(summary) if isinstance(summary, Said) else []
    return BoardRevision.objects.create(
        project=project, number=number, kind=kind, scenes=entries, name=name, summary_words=words,
        summary=(english(summary) if isinstance(summary, Said) else summary)[:500],
        named_by=user if name and getattr(user, "pk", None) else None,
        created_by=user if getattr(user, "pk", None) else None)


@dataclass
class Recording:
    """What `board_revision` made: set `summary` inside the block to say what the change was."""

    summary: str | Said = ""
    revision: BoardRevision | None = None
    before: BoardRevision | None = None  # the board as it stood, when it had changed since the newest


@contextmanager
def board_revision(*, project: Project, user, kind: str, summary: str | Said = "") -> Iterator[Recording]:
    """Around one change of the board (in the caller's transaction): the board before it is kept when it
    is not the newest revision already, and the board after it becomes a revision of `kind` (none when
    the change changed nothing a revision keeps)."""
    recording = Recording(summary=summary)
    with transaction.atomic():
        _lock(project)
        before = _store(project, board_snapshot(project))
        newest = _newest(project)
        if newest is None or newest.scenes != before:
            recording.before = _create(project, user, RevisionKind.EDITS, before, summary=_edits_summary(newest))
        yield recording
        after = _store(project, board_snapshot(project))
        if after != before:
            recording.revision = _create(project, user, kind, after, summary=recording.summary)


def _edits_summary(newest: BoardRevision | None) -> Said:
    if newest is None:
        return said("revision.before_first")
    return said("revision.edits_since", number=newest.number)


def revision_name_board(*, project: Project, user, name: str) -> BoardRevision:
    """Name the board as it is now ("v2 sent to client"): the newest revision when it is the board and has
    no name yet, else a new revision of the board under that name."""
    name = _clean_name(name)
    if not name:
        raise ValidationError(gettext("Give the revision a name, for example “v2 sent to client”."))
    with transaction.atomic():
        _lock(project)
        entries = _store(project, board_snapshot(project))
        newest = _newest(project)
        if newest is not None and newest.scenes == entries and not newest.name:
            return revision_name(revision=newest, user=user, name=name)
        return _create(project, user, RevisionKind.NAMED, entries, name=name)


def revision_name(*, revision: BoardRevision, user, name: str) -> BoardRevision:
    """Name (or rename; an empty name clears it) a revision. Its content never changes."""
    name = _clean_name(name)
    BoardRevision.objects.filter(pk=revision.pk).update(name=name, named_by=user if name else None)
    revision.name, revision.named_by = name, user if name else None
    return revision


def _clean_name(name) -> str:
    name = " ".join(clean_text(str(name or ""), what=gettext("The revision's name")).split())
    if len(name) > MAX_REVISION_NAME:
        raise ValidationError(gettext("A revision's name is at most %(max)s characters.") % {"max": MAX_REVISION_NAME})
    return name


def revision_contents(revisions) -> dict[str, dict]:
    """The scene contents the revisions list, by digest (one query)."""
    revisions = list(revisions)
    if not revisions:
        return {}
    digests = {digest for revision in revisions for _pk, digest in revision.scenes}
    return dict(SceneVersion.objects.filter(project_id=revisions[0].project_id, digest__in=digests)
                .values_list("digest", "content"))


def revision_board(revision: BoardRevision, contents: dict[str, dict]) -> list[tuple[int, dict]]:
    return [(pk, contents[digest]) for pk, digest in revision.scenes if digest in contents]


# --- Comparing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    name: str
    before: object
    after: object

    @property
    def label(self) -> str:
        return str(FIELD_LABELS[self.name])

    @property
    def before_words(self) -> str:
        return field_words(self.name, self.before)

    @property
    def after_words(self) -> str:
        return field_words(self.name, self.after)


@dataclass
class SceneDiff:
    scene_id: int
    before: dict | None  # its content in the first board (None: added since)
    after: dict | None  # in the second (None: removed since)
    before_number: int | None = None
    after_number: int | None = None
    moved: bool = False
    fields: list[FieldChange] = field(default_factory=list)

    @property
    def title(self) -> str:
        return (self.after or self.before or {})["title"]

    @property
    def status(self) -> str:
        if self.before is None:
            return "added"
        if self.after is None:
            return "removed"
        if self.fields:
            return "edited"
        return "moved" if self.moved else "same"

    @property
    def approval(self) -> FieldChange | None:
        return next((f for f in self.fields if f.name == "approved_take"), None)


@dataclass
class BoardDiff:
    scenes: list[SceneDiff]

    @property
    def changed(self) -> list[SceneDiff]:
        return [s for s in self.scenes if s.status != "same"]

    def count(self, status: str) -> int:
        return sum(1 for s in self.scenes if s.status == status or (status == "moved" and s.moved))

    @property
    def approvals_changed(self) -> int:
        return sum(1 for s in self.scenes if s.approval)


def compare_boards(first: list[tuple[int, dict]], second: list[tuple[int, dict]]) -> BoardDiff:
    """What changed from the first board to the second: scenes added, removed, moved (out of the order the
    others kept) and edited field by field, approvals included. Listed in the second board's order, each
    removed scene after the one it followed."""
    a, b = dict(first), dict(second)
    a_order, b_order = [pk for pk, _ in first], [pk for pk, _ in second]
    a_number = {pk: i + 1 for i, pk in enumerate(a_order)}
    b_number = {pk: i + 1 for i, pk in enumerate(b_order)}
    common_a = [pk for pk in a_order if pk in b]
    common_b = [pk for pk in b_order if pk in a]
    kept = set()
    for block in difflib.SequenceMatcher(a=common_a, b=common_b, autojunk=False).get_matching_blocks():
        kept.update(common_a[block.a:block.a + block.size])
    diffs = {}
    for pk in set(a) | set(b):
        before, after = a.get(pk), b.get(pk)
        fields = ([FieldChange(name, before.get(name), after.get(name)) for name in CONTENT_FIELDS
                   if _comparable(name, before.get(name)) != _comparable(name, after.get(name))]
                  if before is not None and after is not None else [])
        diffs[pk] = SceneDiff(scene_id=pk, before=before, after=after, before_number=a_number.get(pk),
                              after_number=b_number.get(pk), fields=fields,
                              moved=before is not None and after is not None and pk not in kept)
    ordered = [diffs[pk] for pk in b_order]
    for index, pk in enumerate(a_order):  # each removed scene after the scene it followed
        if pk in b:
            continue
        previous = next((p for p in reversed(a_order[:index]) if p in b), None)
        at = 0 if previous is None else next(i for i, d in enumerate(ordered) if d.scene_id == previous) + 1
        while at < len(ordered) and ordered[at].after is None:
            at += 1
        ordered.insert(at, diffs[pk])
    return BoardDiff(ordered)


def _comparable(name: str, value):
    if name == "approved_take":
        return (value or {}).get("id")
    if name == "cast":
        return sorted(c["id"] for c in value or [])
    return value


def field_words(name: str, value) -> str:
    """A field's value as a comparison shows it."""
    if name == "duration":
        return gettext("%(seconds)s s") % {"seconds": value}
    if name == "in_cut":
        return gettext("in the cut") if value else gettext("out of the cut")
    if name == "approved_take":
        return gettext("take %(number)s") % {"number": value["number"]} if value else gettext("none")
    if name == "cast":
        return ", ".join(c["name"] for c in value or []) or gettext("nobody")
    if name == "fields":
        return "; ".join(f"{kept['name']}: " + (", ".join(map(str, kept["value"])) if isinstance(kept["value"], list)
                                                else str(kept["value"])) for kept in (value or {}).values()
                         ) or gettext("none")
    if name == "dialogue":
        return "\n".join(f"{line['speaker']}: " + (f"({line['parenthetical']}) " if line["parenthetical"] else "")
                         + line["text"] for line in value or []) or gettext("no lines")
    return str(value or "")
