"""An editor's cut brought back: upload a timeline, read it in a worker, show what it changes, accept some.

The upload is stored and read by a Celery task (`cut_import_read`), never by the web worker: the reading
runs timeline_reader.py as a child process capped in memory and time (a 50 MB timeline or an XML bomb
costs that process, never the worker). Its clips are matched to the board's scenes and takes by what the
studio's own export wrote (generation/exports/package.py: the take id in OTIO metadata, the reel S001T002
in an EDL, the clip file 01-dawn.mp4), else by a take's file name, else by the scene's title. What the
cut changes becomes a diff of separate changes (the order, each scene's duration, scenes dropped from or
back in the cut, each marker the editor added); the user accepts all or some, and that makes one board
revision (projects/storyboard/revisions.py). Nothing is deleted: a scene dropped from the cut stays on
the board, out of the cut (`Scene.in_cut`), so Play all and exports leave it out.
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
import tempfile
import unicodedata
import uuid
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.defaultfilters import slugify
from django.utils import timezone, translation
from django.utils.translation import gettext

from generation.exports import tasks as export_tasks
from generation.exports.timeline_words import refusal_said, warning_words
from generation.models import CutImport, CutImportStatus, Render
from generation.words import said
from projects import selectors
from projects.activity.feed import record
from projects.models import ActivityKind, RevisionKind, Scene
from projects.models.storyboard import MAX_SCENE_SECONDS, MIN_SCENE_SECONDS
from projects.review import services as review
from projects.storyboard import services as storyboard
from projects.storyboard.revisions import board_revision

log = logging.getLogger(__name__)

READER = Path(__file__).with_name("timeline_reader.py")
REEL = re.compile(r"^S(\d{3})T(\d{3})$")
EXPORTED_FILE = re.compile(r"^(\d{1,4})-(.*)\.mp4$", re.IGNORECASE)


# --- Upload ---------------------------------------------------------------------------------------


def cut_import_create(*, project, user, upload, idempotency_key: str = "") -> CutImport:
    """Keep the uploaded timeline and queue its reading (once per form: a second click returns the first)."""
    if upload is None:
        raise ValidationError(gettext("Choose a timeline file to upload (.otio, .edl, .xml or .fcpxml)."))
    if upload.size == 0:
        raise ValidationError(gettext("The file is empty: export the timeline again from the editing program."))
    limit = settings.CUT_IMPORT_MAX_MB
    if upload.size > limit * 1024 * 1024:
        raise ValidationError(gettext("The file is larger than %(limit)s MB: the studio reads timelines up to "
                                      "that size.") % {"limit": limit})
    key = _key(idempotency_key)
    if key and (same := CutImport.objects.filter(idempotency_key=key, project=project).first()):
        return same
    cut_import = CutImport(project=project, created_by=user, filename=str(upload.name or "")[-200:],
                           size=upload.size, **({"idempotency_key": key} if key else {}))
    cut_import.upload.save("timeline", upload, save=False)
    cut_import.save()
    # The worker words what it finds (a refusal, each change's why) in the language this page is read in.
    export_tasks.read_cut_import.delay_on_commit(cut_import.pk, translation.get_language() or "")
    return cut_import


def _key(value: str) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return ""


# --- Reading (in the worker) ----------------------------------------------------------------------


def cut_import_read(cut_import_id: int, *, language: str = "") -> None:
    """Read the timeline and work out its diff against the board, worded in `language` (the uploader's, or
    the studio's default). Claimed once: a repeat does nothing."""
    with translation.override(language or settings.LANGUAGE_CODE):
        _read(cut_import_id)


def _read(cut_import_id: int) -> None:
    if not CutImport.objects.filter(pk=cut_import_id, status=CutImportStatus.QUEUED).update(
            status=CutImportStatus.READING, updated_at=timezone.now()):
        return
    cut_import = CutImport.objects.select_related("project").get(pk=cut_import_id)
    cut_import.publish_change()
    result = read_timeline(cut_import)
    if not result.get("ok"):
        cut_import.mark_failed(result["error"])
        return
    diff = cut_diff(project=cut_import.project, clips=result["clips"])
    diff["warnings"] = [warning_words(w) for w in result.get("warnings", [])]
    CutImport.objects.filter(pk=cut_import.pk, status=CutImportStatus.READING).update(
        status=CutImportStatus.READY, kind=result["kind"], timeline_name=result.get("name", "")[:200], diff=diff,
        updated_at=timezone.now())
    cut_import.publish_change()


def read_timeline(cut_import: CutImport) -> dict:
    """What timeline_reader.py read, or {"ok": False, "error": its stored words}; the file is
    copied out of storage first."""
    memory, seconds = settings.CUT_IMPORT_MEMORY_MB, settings.CUT_IMPORT_SECONDS
    limits = said("timeline.limits", memory=memory, seconds=seconds)
    with tempfile.NamedTemporaryFile(prefix="studio-cut-", suffix=".timeline") as copy:
        with cut_import.upload.open("rb") as stored:
            for chunk in iter(lambda: stored.read(1 << 20), b""):
                copy.write(chunk)
        copy.flush()
        try:
            done = subprocess.run([sys.executable, "-I", str(READER), copy.name, str(memory)],
                                  capture_output=True, timeout=seconds, check=False)
        except subprocess.TimeoutExpired:
            return {"ok": False, "error": limits}
    try:
        result = json.loads(done.stdout or b"null")
    except ValueError:
        result = None
    if not isinstance(result, dict) or result.get("error") == "memory":
        log.warning("cut import %s: reader ended %s: %s", cut_import.pk, done.returncode, done.stderr[-500:])
        return {"ok": False, "error": limits}
    if not result.get("ok"):
        return {"ok": False, "error": refusal_said(result.get("error"))}
    return result


# --- Matching and the diff ------------------------------------------------------------------------


def _words(text: str) -> str:
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.casefold()).split())


class _Board:
    def __init__(self, project):
        self.scenes = list(Scene.objects.filter(project=project).order_by("position", "pk")
                           .select_related("approved_take"))
        self.by_pk = {s.pk: s for s in self.scenes}
        self.takes = {t.pk: t for t in Render.objects.filter(scene__in=self.scenes).only(
            "pk", "scene_id", "number", "video")}
        self.by_file = {}
        for take in self.takes.values():
            if take.video:
                self.by_file.setdefault(take.video.name.rsplit("/", 1)[-1].casefold(), take)

    def slugged(self, slug: str) -> list[Scene]:
        return [s for s in self.scenes if (slugify(s.title)[:60] or "scene") == slug]

    def take_of(self, scene: Scene, number: int | None):
        if number is not None:
            found = next((t for t in self.takes.values() if t.scene_id == scene.pk and t.number == number), None)
            if found is not None:
                return found
        return scene.approved_take


def match_clip(board: _Board, clip: dict):
    """(scene, take or None) the clip is, or (None, why not)."""
    take = board.takes.get(clip.get("take_id"))
    if take is not None:  # the studio's OTIO: the take itself
        return board.by_pk[take.scene_id], take
    reel = REEL.match(clip.get("reel") or "")
    exported = EXPORTED_FILE.match(clip.get("file") or "")
    if exported:
        number, slug = int(exported.group(1)), exported.group(2).casefold()
        candidates = board.slugged(slug)
        scene = (candidates[0] if len(candidates) == 1
                 else next((s for s in candidates if s.number == number), None))
        if scene is not None:
            return scene, board.take_of(scene, int(reel.group(2)) if reel else None)
    if (take := board.by_file.get((clip.get("file") or "").casefold())) is not None:
        return board.by_pk[take.scene_id], take
    named = [s for s in board.scenes if _words(s.title) == _words(clip.get("name", ""))]
    if len(named) == 1:
        scene = named[0]
        return scene, board.take_of(scene, int(reel.group(2)) if reel else None)
    if len(named) > 1:
        return None, gettext("%(count)s scenes are called “%(name)s”: the clip could be any of them.") % {
            "count": len(named), "name": clip.get("name", "")}
    return None, gettext("No scene or take on the board matches it (by the studio's export names, a take's "
                         "file name or a scene's title).")


def cut_diff(*, project, clips: list[dict]) -> dict:
    """The changes the cut makes to the board, each with an id the form accepts it by."""
    board = _Board(project)
    seen, cut, unmatched = set(), [], []
    for index, clip in enumerate(clips, start=1):
        scene, take = match_clip(board, clip)
        label = clip.get("name") or clip.get("file") or gettext("clip %(n)s") % {"n": index}
        if scene is None:
            unmatched.append({"clip": index, "name": label, "file": clip.get("file", ""), "why": take})
            continue
        if scene.pk in seen:
            unmatched.append({"clip": index, "name": label, "file": clip.get("file", ""),
                              "why": gettext("Scene %(title)s is already earlier in the cut: only its first clip "
                                             "is read.") % {"title": scene.title}})
            continue
        seen.add(scene.pk)
        cut.append((clip, scene, take))
    changes = []
    order = [scene.pk for _clip, scene, _take in cut]
    was = [s.pk for s in board.scenes if s.pk in seen]
    if order != was:
        changes.append({"id": "order", "kind": "order", "order": order,
                        "before": [_scene_words(board.by_pk[pk]) for pk in was],
                        "after": [_scene_words(board.by_pk[pk]) for pk in order]})
    for clip, scene, take in cut:
        if not scene.in_cut:
            changes.append({"id": f"return:{scene.pk}", "kind": "return", "scene": scene.pk,
                            "title": _scene_words(scene)})
        seconds = round(min(max(clip["duration"], MIN_SCENE_SECONDS), MAX_SCENE_SECONDS))
        if seconds != scene.duration:
            changes.append({"id": f"duration:{scene.pk}", "kind": "duration", "scene": scene.pk,
                            "title": _scene_words(scene), "before": scene.duration, "after": seconds,
                            "cut": clip["duration"]})
    for scene in board.scenes:
        # Only a scene that was in the exported cut (it has an approved take) can have been dropped from it.
        if scene.pk not in seen and scene.in_cut and scene.approved_take_id:
            changes.append({"id": f"drop:{scene.pk}", "kind": "drop", "scene": scene.pk,
                            "title": _scene_words(scene)})
    changes += _new_markers(cut, unmatched)
    return {"changes": changes, "unmatched": unmatched, "clips": len(clips)}


def _scene_words(scene: Scene) -> str:
    return f"{scene.number}. {scene.title}"


def _new_markers(cut, unmatched) -> list[dict]:
    """Markers the editor added: not a comment the export wrote (by its id, or its words in an EDL/XML)."""
    takes = [take for _clip, _scene, take in cut if take is not None]
    known_ids: dict[int, set[int]] = {}
    known_words: dict[int, list[str]] = {}
    for comment in selectors.comments_for_takes(takes):
        known_ids.setdefault(comment.take_id, set()).add(comment.pk)
        known_words.setdefault(comment.take_id, []).append(_words(f"{comment.who}: {comment.body}"))
    found, number = [], 0
    for clip, scene, take in cut:
        for marker in clip["markers"]:
            text = (marker.get("text") or marker.get("comment") or marker.get("name") or "").strip()
            if not text:
                continue
            if take is None:
                unmatched.append({"clip": None, "name": clip.get("name", ""), "file": clip.get("file", ""),
                                  "why": gettext("Its marker “%(text)s” has no take to land on: scene %(title)s "
                                                 "has no approved take.") % {"text": text[:80],
                                                                              "title": scene.title}})
                continue
            if marker.get("comment_id") in known_ids.get(take.pk, ()):
                continue
            words = _words(marker.get("name") or text)
            if words and any(w.startswith(words) or words.startswith(w) for w in known_words.get(take.pk, ())):
                continue
            number += 1
            found.append({"id": f"marker:{number}", "kind": "marker", "scene": scene.pk, "take": take.pk,
                          "title": _scene_words(scene), "take_number": take.number, "at": marker["at"],
                          "author": (marker.get("author") or "")[:80], "text": text[:5000]})
    return found


# --- Accepting --------------------------------------------------------------------------------------


def cut_import_accept(*, cut_import: CutImport, user, change_ids) -> CutImport:
    """Make the accepted changes as one board revision. Once: a second click (or a teammate's) is refused."""
    wanted = {str(c) for c in change_ids or ()}
    changes = [c for c in (cut_import.diff or {}).get("changes", []) if c["id"] in wanted]
    if not changes:
        raise ValidationError(gettext("Tick at least one change to accept."))
    project = cut_import.project
    with transaction.atomic():
        if not CutImport.objects.filter(pk=cut_import.pk, status=CutImportStatus.READY).update(
                status=CutImportStatus.ACCEPTED, accepted_by=user, accepted_at=timezone.now(),
                accepted_changes=[c["id"] for c in changes], updated_at=timezone.now()):
            raise ValidationError(gettext("This cut was already accepted (or is not read yet): reload the page."))
        name = cut_import.timeline_name or cut_import.filename
        with board_revision(project=project, user=user, kind=RevisionKind.CUT_IMPORT) as recording:
            applied = _apply(project, user, changes)
            line = said("feed.cut_accepted", name=name, count=applied)
            recording.summary = line
        cut_import.revision = recording.revision
        CutImport.objects.filter(pk=cut_import.pk).update(revision=recording.revision)
        record(project=project, kind=ActivityKind.CUT_IMPORTED, actor=user, text=line)
    cut_import.refresh_from_db()
    cut_import.publish_change()
    return cut_import


def _apply(project, user, changes) -> int:
    scenes = {s.pk: s for s in Scene.objects.filter(project=project)}  # a scene trashed since is skipped
    applied = 0
    for change in changes:
        scene = scenes.get(change.get("scene"))
        kind = change["kind"]
        if kind in ("drop", "return") and scene is not None:
            storyboard.scene_set_in_cut(scene=scene, user=user, in_cut=kind == "return")
        elif kind == "duration" and scene is not None:
            scene.refresh_from_db()
            storyboard.scene_update(scene=scene, expected_version=scene.version, user=user, duration=change["after"])
        elif kind == "marker" and scene is not None:
            take = Render.objects.filter(pk=change["take"], scene=scene).first()
            if take is None:
                continue
            review.comment_import(take=take, body=change["text"], at=change["at"], written_by=change["author"],
                                  imported_by=user)
        elif kind == "order":
            _reorder(project, user, change["order"])
        else:
            continue
        applied += 1
    return applied


def _reorder(project, user, order: list[int]) -> None:
    """The cut's scenes in the cut's order, in the places they hold on the board; the others stay put."""
    board = list(Scene.objects.filter(project=project).order_by("position", "pk"))
    present = {s.pk for s in board}
    order = [pk for pk in order if pk in present]
    chosen, by_pk = set(order), {s.pk: s for s in board}
    queue = iter(order)
    ordered = [by_pk[next(queue)] if s.pk in chosen else s for s in board]
    storyboard.save_order(ordered, user, project=project)


def cut_import_crashed(cut_import_id: int, *, language: str = "") -> None:
    cut_import = CutImport.objects.filter(pk=cut_import_id).first()
    if cut_import is not None:
        with translation.override(language or settings.LANGUAGE_CODE):
            cut_import.mark_failed(said("timeline.worker_stopped"))
