"""The project's trash: deleting scenes moves them here with their takes, comments and approvals.

- `scene_trash`, `scene_bulk_trash`: the board's Delete (one scene, the selected ones, and a script
  import that replaces the storyboard). The board is renumbered and every open board drops the frames.
  One delete is one batch: its Undo (`trash_undo`) brings back exactly those scenes.
- `scene_restore` (the Trash page) and `trash_undo` put scenes back where they were: between the two
  scenes they sat between when they left, while those two are still next to each other on the board;
  else, that place being taken, at the end.
- `scene_delete_forever`, `trash_empty` (owners) and `trash_purge_expired` (the daily beat, after
  TRASH_DAYS) delete for good: the files leave storage once the transaction has committed and the
  comments go, but the scene and take rows stay (no prompt, no files), so what was spent on them still
  counts on every spend page and in every budget. A scene with a take still rendering waits.

Nothing here gives money back, and a take keeps rendering while its scene is in the trash.

Locks, in the studio's order (projects/storyboard/services.py, generation/spend/budget.py): the project
row, then the project's scene rows (board and trash), as a reorder takes them. A delete, a restore, an
undo and a delete forever of one project therefore queue up, and the second sees what the first did:
an undo after a teammate's restore finds the scenes back already and says so; nothing comes back twice,
and nothing just restored is deleted forever.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from generation.models import TERMINAL, Render, ShotGroup
from generation.words import Said, said
from projects.activity.feed import record
from projects.audit import audit_record
from projects.live import ChangeKind, live_publish_many
from projects.models import (
    ActivityKind,
    AuditAction,
    Comment,
    Project,
    ReviewLink,
    RevisionKind,
    Scene,
)
from projects.storyboard import tasks as storyboard_tasks
from projects.storyboard.revisions import board_revision
from projects.storyboard.services import StaleOrder, project_touch, save_order, scene_ids_from

log = logging.getLogger(__name__)
LOST = object()  # a neighbour that can no longer be found: the scene's place is gone


@dataclass
class Trashed:
    """What one delete moved to the trash: its batch (the Undo's key) and the scenes, as they were."""

    batch: uuid.UUID
    scenes: list[Scene]


@dataclass
class Restored:
    scenes: list[Scene] = field(default_factory=list)  # back on the board, in board order
    at_end: list[Scene] = field(default_factory=list)  # of those, the ones whose place was taken
    already: list[Scene] = field(default_factory=list)  # back before this asked (`restored_by` says who)
    gone: list[Scene] = field(default_factory=list)  # deleted forever before this asked


@dataclass
class Purged:
    scenes: list[Scene] = field(default_factory=list)  # deleted forever
    busy: list[Scene] = field(default_factory=list)  # left in the trash: a take still on its way
    missing: list[Scene] = field(default_factory=list)  # no longer in the trash (restored meanwhile)
    takes: int = 0


# --- Into the trash ------------------------------------------------------------------------------


def scene_trash(*, scene: Scene, user) -> Trashed:
    # One scene from its panel: its Undo is the way back (a board revision is kept for bulk changes).
    return scene_bulk_trash(project=scene.project, scene_ids=[scene.pk], user=user, revision=False)


def scene_bulk_trash(*, project: Project, scene_ids, user, revision: bool = True) -> Trashed:
    """Move the selected scenes to the trash (one batch) and renumber the board; with `revision`, the board
    before and after is kept as a board revision (a caller making its own, as a script import, says no)."""
    ids = set(scene_ids_from(scene_ids))
    if not ids:
        raise ValidationError(gettext("Select at least one scene to delete."))
    with transaction.atomic():
        project_touch(project)
        if not revision:
            return _bulk_trash(project, ids, user)
        with board_revision(project=project, user=user, kind=RevisionKind.BULK_TRASH) as recording:
            trashed = _bulk_trash(project, ids, user)
            recording.summary = _deleted_words(trashed.scenes)
        return trashed


def _deleted_words(chosen: list[Scene]) -> Said:
    if len(chosen) == 1:
        return said("feed.scene_deleted", number=chosen[0].number, title=chosen[0].title)
    return said("feed.scenes_deleted", count=len(chosen), titles=", ".join(s.title for s in chosen))


def _bulk_trash(project: Project, ids: set[int], user) -> Trashed:
    with transaction.atomic():
        board = list(Scene.objects.select_for_update().filter(project=project).order_by("position", "pk"))
        chosen = [s for s in board if s.pk in ids]
        if len(chosen) != len(ids):
            raise StaleOrder(gettext("Some selected scenes are no longer on the storyboard; nothing was deleted."))
        batch, now = uuid.uuid4(), timezone.now()
        remaining = list(board)
        # As if they left one by one from the top: each remembers the neighbours it had as it left, and
        # restoring the batch bottom-up (the reverse) finds every one of them next to each other again.
        for scene in chosen:
            index = remaining.index(scene)
            after = remaining[index - 1].pk if index else None
            before = remaining[index + 1].pk if index + 1 < len(remaining) else None
            remaining.pop(index)
            Scene.all_objects.filter(pk=scene.pk).update(trashed_at=now, trashed_by=user, trash_batch=batch,
                                                         trashed_after=after, trashed_before=before)
            scene.trashed_at, scene.trashed_by, scene.trash_batch = now, user, batch
        _feed(project, ActivityKind.SCENE_DELETED, user, _deleted_words(chosen),
              scene=chosen[0] if len(chosen) == 1 else None)
        live_publish_many([dict(kind=ChangeKind.SCENE_DELETED, project=project, scene_id=s.pk, actor=user)
                           for s in chosen])
        save_order(remaining, user)
    return Trashed(batch=batch, scenes=chosen)


# --- Back from the trash -------------------------------------------------------------------------


def scene_restore(*, project: Project, scene_ids, user) -> Restored:
    """Put these scenes of the project's trash back on the board (the Trash page's Restore)."""
    ids = set(scene_ids_from(scene_ids))
    if not ids:
        raise ValidationError(gettext("Select at least one scene to restore."))
    return _restore(project, Q(pk__in=ids), user, expected=len(ids))


def trash_undo(*, project: Project, batch, user) -> Restored:
    """The Undo right after a delete: restore what that delete moved to the trash and is still there."""
    try:
        batch = uuid.UUID(str(batch))
    except ValueError:
        raise ValidationError(gettext("This Undo is out of date: restore the scenes from the Trash page.")) from None
    return _restore(project, Q(trash_batch=batch), user)


def _restore(project: Project, which: Q, user, *, expected: int | None = None) -> Restored:
    with transaction.atomic():
        project_touch(project)
        rows = list(Scene.all_objects.select_for_update().filter(project=project, purged_at__isnull=True)
                    .order_by("position", "pk"))
        asked = list(Scene.all_objects.filter(which, project=project).select_related("restored_by")
                     .order_by("position", "pk"))
        if expected is not None and len(asked) != expected:
            raise ValidationError(gettext("Some of these scenes are not in this project; reload the page."))
        board = [s for s in rows if s.trashed_at is None]
        trash = {s.pk: s for s in rows if s.trashed_at is not None}
        result = Restored(already=[s for s in asked if s.trashed_at is None],
                          gone=[s for s in asked if s.purged_at is not None])
        # What left last comes back first, as undoing one delete after another would (a batch left
        # top-down, so it comes back bottom-up): each finds the neighbours it remembers as it left them.
        # Any other order ends the same, through the re-pointing below.
        wanted = sorted((trash[s.pk] for s in asked if s.pk in trash),
                        key=lambda s: (s.trashed_at, s.position, s.pk), reverse=True)
        if not wanted:
            return result
        forever = {pk: (after, before) for pk, after, before in Scene.all_objects.filter(
            project=project, purged_at__isnull=False).values_list("pk", "trashed_after", "trashed_before")}
        moved_anchors: set[Scene] = set()
        for scene in wanted:
            del trash[scene.pk]
            after, after_passed = _on_board(scene.trashed_after, 0, board, trash, forever)
            before, before_passed = _on_board(scene.trashed_before, 1, board, trash, forever)
            index = _place_between(board, after, before)
            if index is None:
                board.append(scene)
                result.at_end.append(scene)
                continue
            board.insert(index, scene)
            # Scenes still in the trash that sat on either side of this one now sit next to it: they
            # come back beside it, whichever of them is restored first.
            for passed in after_passed:
                passed.trashed_before = scene.pk
                moved_anchors.add(passed)
            for passed in before_passed:
                passed.trashed_after = scene.pk
                moved_anchors.add(passed)
        for anchor in moved_anchors - set(wanted):
            Scene.all_objects.filter(pk=anchor.pk).update(trashed_after=anchor.trashed_after,
                                                          trashed_before=anchor.trashed_before)
        # The batch stays on the scene: an Undo of the same delete, clicked later, finds them back and says so.
        Scene.all_objects.filter(pk__in=[s.pk for s in wanted]).update(trashed_at=None, trashed_by=None,
                                                                       restored_by=user)
        for scene in wanted:
            scene.trashed_at, scene.trashed_by, scene.restored_by = None, None, user
        live_publish_many([dict(kind=ChangeKind.SCENE_RESTORED, project=project, scene_id=s.pk, actor=user)
                           for s in wanted])
        # The order event comes after the frames it places: every open board inserts them, then orders them.
        save_order(board, user, project=project, publish=True)
        result.scenes = [s for s in board if s in set(wanted)]
        names = ", ".join(f"{s.number}. {s.title}" for s in result.scenes)
        _feed(project, ActivityKind.SCENE_RESTORED, user, said("feed.scenes_restored", names=names),
              scene=result.scenes[0] if len(result.scenes) == 1 else None)
    return result


def _on_board(pk, side: int, board: list[Scene], trash: dict, forever: dict):
    """Follow a remembered neighbour (side 0: the one before, 1: the one after) through the trash and
    the scenes deleted forever, to the board. Returns the board scene's id, None (the board's edge) or
    LOST, and the scenes still in the trash passed on the way."""
    on_board = {s.pk for s in board}
    passed: list[Scene] = []
    seen: set[int] = set()
    while pk is not None and pk not in on_board:
        if pk in seen:
            return LOST, passed
        seen.add(pk)
        if pk in trash:
            passed.append(trash[pk])
            pk = (trash[pk].trashed_after, trash[pk].trashed_before)[side]
        elif pk in forever:
            pk = forever[pk][side]
        else:
            return LOST, passed  # a scene of no project of ours any more
    return pk, passed


def _place_between(board: list[Scene], after, before) -> int | None:
    """The index between `after` and `before` (None: the edge) when they are still next to each other."""
    if after is LOST or before is LOST:
        return None
    ids = [s.pk for s in board]
    index = 0 if after is None else ids.index(after) + 1
    if before is None:
        return index if index == len(ids) else None
    return index if index < len(ids) and ids[index] == before else None


# --- Deleted forever ------------------------------------------------------------------------------


def scene_delete_forever(*, project: Project, scene_ids, user) -> Purged:
    """An owner deletes these scenes of the trash for good (their spend stays on record)."""
    ids = set(scene_ids_from(scene_ids))
    if not ids:
        raise ValidationError(gettext("Select at least one scene to delete forever."))
    return _purge(project, ids, user=user, action=AuditAction.SCENES_DELETED_FOREVER)


def trash_empty(*, project: Project, user) -> Purged:
    """An owner deletes everything in the project's trash for good."""
    return _purge(project, None, user=user, action=AuditAction.TRASH_EMPTIED)


def trash_purge_expired(*, now=None) -> int:
    """The daily beat: scenes in any project's trash for more than TRASH_DAYS are deleted forever, one
    project per transaction. Returns how many went. Running it twice deletes nothing twice."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.TRASH_DAYS)
    expired = Scene.all_objects.in_trash().filter(trashed_at__lt=cutoff)
    count = 0
    for project in Project.objects.filter(pk__in=expired.values("project_id")).select_related("team"):
        ids = set(expired.filter(project=project).values_list("pk", flat=True))
        count += len(_purge(project, ids, user=None, action=AuditAction.TRASH_PURGED).scenes)
    return count


def _purge(project: Project, ids: set[int] | None, *, user, action: str) -> Purged:
    """Delete these scenes of the trash forever (None: all of it), except those still rendering."""
    with transaction.atomic():
        trashed = Scene.all_objects.in_trash().select_for_update().filter(project=project)
        scenes = list((trashed if ids is None else trashed.filter(pk__in=ids)).order_by("position", "pk"))
        result = Purged()
        if ids is not None and len(scenes) != len(ids):
            found = {s.pk for s in scenes}
            result.missing = list(Scene.all_objects.filter(project=project, pk__in=ids - found)
                                  .select_related("restored_by"))
        busy = set(Render.objects.filter(scene__in=scenes).exclude(status__in=TERMINAL)
                   .values_list("scene_id", flat=True))
        result.busy = [s for s in scenes if s.pk in busy]
        doomed = [s for s in scenes if s.pk not in busy]
        if not doomed:
            return result
        result.scenes = doomed
        pks = [s.pk for s in doomed]
        takes = Render.objects.filter(scene_id__in=pks)
        files = _stored_files(project, doomed, takes)
        result.takes = takes.count()
        Comment.objects.filter(take__scene_id__in=pks).delete()  # with their edits, replies and drawings
        for pk, recipe in takes.values_list("pk", "recipe"):
            # The exact request sent is kept as far as billing needs it: model and parameters, no prompt.
            Render.objects.filter(pk=pk).update(recipe={"parameters": (recipe or {}).get("parameters", {})})
        takes.update(video="", thumbnail="", c2pa_ingredient="", c2pa_ingredient_key="")
        for group in ShotGroup.objects.filter(parts__in=takes).distinct():
            # Its request loses every shot's words too (a deleted scene's prompt is among them); what billing
            # needs stays: the model, the parameters, each shot's length.
            recipe = group.recipe or {}
            group.recipe = {"model": recipe.get("model"), "parameters": recipe.get("parameters", {}),
                            "shot_timing": recipe.get("shot_timing", ""),
                            "shots": [{"scene": {"id": shot["scene"]["id"]}, "seconds": shot["seconds"],
                                       "start": shot["start"]} for shot in recipe.get("shots", [])]}
            group.video = ""
            group.save(update_fields=["recipe", "video"])
        Scene.cast.through.objects.filter(scene_id__in=pks).delete()
        ReviewLink.scenes.through.objects.filter(scene_id__in=pks).delete()
        Scene.all_objects.filter(pk__in=pks).update(purged_at=timezone.now(), prompt="", camera_notes="",
                                                   reference_image="")
        names = [f"{s.number}. {s.title}" for s in doomed]
        details = {"scenes": names, "takes": result.takes, "files_deleted": len(files)}
        if action == AuditAction.TRASH_PURGED:
            details["days_in_trash"] = settings.TRASH_DAYS
        audit_record(team=project.team_id, actor=user, action=action, target=project, details=details)
        _feed(project, ActivityKind.SCENES_PURGED, user,
              said("feed.scenes_purged", names=", ".join(names)))
        if files:
            storyboard_tasks.delete_stored_files.delay_on_commit(sorted(files))
    return result


def _stored_files(project: Project, scenes: list[Scene], takes) -> set[str]:
    """Every stored file of these scenes and their takes that no other scene or take still uses."""
    names: set[str] = set()
    for video, thumbnail, ingredient, recipe in takes.values_list("video", "thumbnail", "c2pa_ingredient", "recipe"):
        names.update(n for n in (video, thumbnail, ingredient) if n)
        original = ((recipe or {}).get("reference_image") or {}).get("original")
        if original:
            names.add(original)
    for scene in scenes:
        if scene.reference_image.name:
            names.add(scene.reference_image.name)
        # Earlier uploads no take used are kept beside the current one (their folder is the scene's own).
        folder = f"references/{project.team_id}/{project.pk}/{scene.pk}"
        try:
            names.update(f"{folder}/{name}" for name in default_storage.listdir(folder)[1])
        except (OSError, NotImplementedError):
            pass  # no folder: the scene never had a reference image
    # A multi-shot take's whole file shows these scenes too: it goes with the first of them deleted forever.
    names.update(ShotGroup.objects.filter(parts__in=takes).exclude(video="").values_list("video", flat=True))
    pks = [s.pk for s in scenes]
    shared = Render.objects.exclude(scene_id__in=pks).filter(
        Q(video__in=names) | Q(thumbnail__in=names) | Q(c2pa_ingredient__in=names))
    still_used = {n for row in shared.values_list("video", "thumbnail", "c2pa_ingredient") for n in row}
    still_used |= set(Scene.all_objects.exclude(pk__in=pks).filter(reference_image__in=names)
                      .values_list("reference_image", flat=True))
    return names - still_used


def stored_files_delete(names: list[str]) -> list[str]:
    """Delete these files from storage (a file already gone is fine). Returns the ones the storage refused."""
    failed = []
    for name in names:
        try:
            default_storage.delete(name)
        except OSError as exc:
            log.warning("trash: could not delete %s: %s", name, exc)
            failed.append(name)
    return failed


# --- Shared -----------------------------------------------------------------------------------------


def _feed(project: Project, kind: str, user, text: str | Said, scene: Scene | None = None) -> None:
    record(project=project, kind=kind, actor=user if getattr(user, "pk", None) else None, scene=scene, text=text)


def restored_words(result: Restored) -> list[str]:
    """What a restore or an undo did, in sentences (each one whole, for translators)."""
    words = []
    if result.scenes:
        words.append(ngettext("Restored %(count)d scene.", "Restored %(count)d scenes.", len(result.scenes))
                     % {"count": len(result.scenes)})
    if result.at_end:
        words.append(ngettext("Its place was taken, so it is now last: %(scenes)s.",
                              "Their places were taken, so they are now last: %(scenes)s.", len(result.at_end))
                     % {"scenes": _titles(result.at_end)})
    by_whom: dict[str, list[Scene]] = {}
    for scene in result.already:
        name = scene.restored_by.get_username() if scene.restored_by else gettext("someone")
        by_whom.setdefault(name, []).append(scene)
    for name, scenes in by_whom.items():
        words.append(ngettext("%(name)s had already restored %(scenes)s: it is on the board.",
                              "%(name)s had already restored %(scenes)s: they are on the board.", len(scenes))
                     % {"name": name, "scenes": _titles(scenes)})
    if result.gone:
        words.append(ngettext("%(scenes)s was deleted forever meanwhile.",
                              "%(scenes)s were deleted forever meanwhile.", len(result.gone))
                     % {"scenes": _titles(result.gone)})
    if not words:
        words.append(gettext("Nothing to restore: those scenes are no longer in the trash."))
    return words


def purged_words(result: Purged) -> list[str]:
    words = []
    if result.scenes:
        words.append(ngettext(
            "Deleted %(count)d scene forever, with its takes. What was spent on them stays on the spend pages.",
            "Deleted %(count)d scenes forever, with their takes. What was spent on them stays on the spend pages.",
            len(result.scenes)) % {"count": len(result.scenes)})
    if result.busy:
        words.append(ngettext("%(scenes)s has a take still rendering: it stays in the trash until the take ends.",
                              "%(scenes)s have takes still rendering: they stay in the trash until the takes end.",
                              len(result.busy)) % {"scenes": _titles(result.busy)})
    if result.missing:
        words.append(ngettext("%(scenes)s is no longer in the trash (restored meanwhile): it was not deleted.",
                              "%(scenes)s are no longer in the trash (restored meanwhile): they were not deleted.",
                              len(result.missing)) % {"scenes": _titles(result.missing)})
    if not words:
        words.append(gettext("The trash is empty: nothing was deleted."))
    return words


def _titles(scenes: list[Scene]) -> str:
    return ", ".join(f"“{s.title}”" for s in scenes)
