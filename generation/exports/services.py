"""Exporting a project's approved cut: plan it, book it once per click, build it in a worker.

An export holds only takes that were approved, finished and are not withheld: a take whose
cast member revoked consent never leaves the studio, and the plan is made again when the
worker starts, so a revocation between the click and the run still counts.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import c2pa
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.paginator import Page, Paginator
from django.db import IntegrityError, transaction
from django.db.models import Case, CharField, Count, F, OuterRef, Prefetch, Q, Subquery, Value, When
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext, gettext_lazy

from generation.exports import media as export_media
from generation.exports import package as export_package
from generation.exports import pdf as export_pdf
from generation.exports import tasks as export_tasks
from generation.exports.markers import ReviewNote
from generation.models import Export, ExportStatus, PdfLayout, ProvenanceState, Render, Status
from generation.previz import animatic
from generation.previz.jobs import claim_generator
from generation.provenance import credentials as provenance
from generation.provenance import ingredients
from generation.provenance.take_signing import consent_entry
from generation.renders.services import form_key
from generation.sound import mixing, speech
from generation.sound.audio import wav_bytes
from generation.storage.scratch import FinishedFile, scratch_dir
from generation.words import Said, said, stored
from projects.audit import audit_record, take_label
from projects.characters.consent import consent_state
from projects.models import (
    AuditAction,
    Character,
    Comment,
    Decision,
    DialogueLine,
    ProjectField,
    ReviewDecision,
)
from projects.review import playall
from projects.storyboard.casting import scene_lines
from projects.storyboard.fields import field_words

if TYPE_CHECKING:
    from projects.models import Scene

log = logging.getLogger(__name__)

NOTHING_TO_EXPORT = gettext_lazy("No scene has an approved take to export yet: approve at least one take first.")
ALREADY_RUNNING = gettext_lazy("An export of this project is already running; it will appear below when it is "
                               "ready.")
# An export that has not reported progress for this long lost its worker.
STALE_AFTER = timedelta(minutes=15)


class ExportRefused(Exception):
    """A reason the export cannot be made, stored as codes and worded for whoever reads the failed export."""

    def __init__(self, words: Said) -> None:
        super().__init__(words)
        self.words = words


# --- Planning -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedScene:
    scene: Scene
    take: Render | None  # the take that goes into the export (None when left out)
    reason: str  # why it is left out; "" when included
    override_reason: str = ""  # an owner's reason for approving it though its checks failed
    fields: tuple = ()  # the project's own fields the scene fills: (name, value) pairs, in the project's order

    @property
    def included_take(self) -> Render:
        """The take of a scene the plan includes (what ExportPlan.included holds)."""
        if self.take is None:
            raise ValueError(f"scene {self.scene.number} is left out of the export: {self.reason}")
        return self.take


@dataclass(frozen=True)
class ExportPlan:
    scenes: list[PlannedScene]

    @property
    def included(self) -> list[PlannedScene]:
        return [p for p in self.scenes if p.take is not None]

    @property
    def left_out(self) -> list[PlannedScene]:
        return [p for p in self.scenes if p.take is None]


# Why a scene's approved take stays out of the export, decided in the database for every scene at once (a
# 1,000-scene exports page compiled each scene's checks in Python); "" when it goes in.
DROPPED, NO_TAKE, WITHHELD, NO_VIDEO, BLOCKED = "dropped", "no-take", "withheld", "no-video", "blocked"


def _planned_rows(project):
    """The project's board scenes in order, each annotated `left_out` (one of the codes above, or "") and, for a
    take whose checks failed but that an owner approved anyway, `latest_note`: that approval's reason."""
    approvals = (ReviewDecision.objects.filter(take=OuterRef("approved_take"),
                                               decision__in=[Decision.APPROVED, Decision.APPROVED_OVERRIDE])
                 .order_by("-at", "-pk"))
    take = "approved_take__"
    # Render.needs_override, in SQL: content credentials found invalid, or a delivery other than booked.
    needs_override = Q(**{take + "c2pa_state": ProvenanceState.INVALID}) | ~Q(**{take + "delivery_problems": []})
    overridden = Q(latest_decision=Decision.APPROVED_OVERRIDE)
    return (project.scenes.select_related("approved_take", "approved_by")
            .annotate(latest_decision=Subquery(approvals.values("decision")[:1]),
                      latest_note=Subquery(approvals.values("note")[:1]))
            .annotate(left_out=Case(
                When(in_cut=False, then=Value(DROPPED)),
                When(approved_take__isnull=True, then=Value(NO_TAKE)),
                When(**{take + "quarantined_at__isnull": False}, then=Value(WITHHELD)),
                When(~Q(**{take + "status": Status.SUCCEEDED}) | Q(**{take + "video": ""}), then=Value(NO_VIDEO)),
                When(needs_override & (Q(latest_decision__isnull=True) | ~overridden), then=Value(BLOCKED)),
                default=Value(""), output_field=CharField()))
            .order_by("position", "pk"))


def _planned(scene, own_fields) -> PlannedScene:
    """A scene of `_planned_rows` as the plan tells it: its take, or in words why it has none."""
    take = scene.approved_take
    reason = ""
    if scene.left_out == DROPPED:
        reason = gettext("Dropped from the cut (it stays on the board; put it back in the cut to export it).")
    elif scene.left_out == NO_TAKE:
        reason = gettext("No approved take.")
    elif scene.left_out == WITHHELD:
        reason = gettext("Approved take %(number)s is withheld: %(why)s.") % {
            "number": take.number, "why": take.quarantine_reason or gettext("consent revoked")}
    elif scene.left_out == NO_VIDEO:
        reason = gettext("Approved take %(number)s has no video.") % {"number": take.number}
    elif scene.left_out == BLOCKED:
        # Approved before its verdict turned (e.g. re-verified): only an owner's reason lets it out.
        reason = (gettext("Approved take %(number)s has tampered or broken content credentials; an owner can "
                          "approve it anyway with a written reason on its review page.")
                  if take.provenance_broken else
                  gettext("Approved take %(number)s was delivered other than booked; an owner can approve it "
                          "anyway with a written reason on its review page.")) % {"number": take.number}
    override = scene.latest_note if not reason and take.needs_override else ""
    return PlannedScene(scene, None if reason else take, reason, override or "",
                        fields=field_words(values=scene.field_values, fields=own_fields))


def export_plan(project, *, with_lines: bool = True) -> ExportPlan:
    """Every scene in order, with the take it contributes or why it contributes none.

    `with_lines=False` skips reading every scene's dialogue lines (the export needs them for captions and
    stems; the exports page reads `export_plan_page`)."""
    own_fields = list(ProjectField.objects.filter(project=project))
    scenes = _planned_rows(project)
    if with_lines:
        scenes = scenes.prefetch_related(Prefetch("lines", queryset=DialogueLine.objects.select_related("character")))
    return ExportPlan([_planned(scene, own_fields) for scene in scenes])


PLAN_ROWS_PER_PAGE = 50


@dataclass(frozen=True)
class ExportPlanPage:
    """What the exports page shows of the plan: its counts over every scene, and a page of each list."""
    scenes: int
    included: Page  # of PlannedScene
    left_out: Page  # of PlannedScene


def export_plan_page(project, *, included_page=None, left_out_page=None) -> ExportPlanPage:
    """The plan's counts for every scene and a page of the scenes going in and of those left out (a 1,000-scene
    project listed 1,000 rows). Pages past the end (or "abc") answer the nearest page."""
    own_fields = list(ProjectField.objects.filter(project=project))
    rows = _planned_rows(project)
    counts = {row["left_out"]: row["n"] for row in rows.order_by().values("left_out").annotate(n=Count("pk"))}

    def page(queryset, number):
        found = Paginator(queryset, PLAN_ROWS_PER_PAGE).get_page(number)
        found.object_list = [_planned(scene, own_fields) for scene in found.object_list]
        return found

    return ExportPlanPage(scenes=sum(counts.values()), included=page(rows.filter(left_out=""), included_page),
                          left_out=page(rows.exclude(left_out=""), left_out_page))


# --- Booking ----------------------------------------------------------------------------------


def export_create(*, project, user, idempotency_key, pdf_layout: str = PdfLayout.SCENES,
                  burn_captions: bool = False) -> tuple[Export, bool]:
    """Book one export and enqueue it. The same form key sent twice finds the first export.

    `pdf_layout`: the storyboard PDF's, one of PdfLayout (three scenes a page, or a grid of six);
    `burn_captions`: draw the lines' captions into the cut's picture (which re-encodes it)."""
    if pdf_layout not in PdfLayout.values:
        raise ValidationError(gettext("Choose a layout for the storyboard PDF: one scene per row, or a grid."))
    key = form_key(idempotency_key)
    existing = Export.objects.filter(idempotency_key=key).first()
    if existing is not None:
        if existing.project_id != project.pk:
            raise ValidationError(gettext("This form was already used for another project; reload the page."))
        return existing, False
    if not export_plan(project).included:
        raise ValidationError(str(NOTHING_TO_EXPORT))
    _fail_stale_exports(project)
    try:
        with transaction.atomic():
            # Lock the project row: two clicks from two people still make one running export.
            type(project).objects.select_for_update().filter(pk=project.pk).first()
            if project.exports.filter(status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING]).exists():
                raise ValidationError(str(ALREADY_RUNNING))
            export = Export.objects.create(project=project, created_by=user, idempotency_key=key,
                                           pdf_layout=pdf_layout, burn_captions=burn_captions)
            # The worker words a failure in the language of the page the export was started from.
            export_tasks.run_export.delay_on_commit(export.pk, translation.get_language() or "")
    except IntegrityError:  # the same key raced in from a second request, which won
        return Export.objects.get(idempotency_key=key), False
    return export, True


def _fail_stale_exports(project) -> None:
    stale = project.exports.filter(status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING],
                                   updated_at__lt=timezone.now() - STALE_AFTER)
    for export in stale:
        export.mark_failed(said("export.worker_stopped"))


# --- Running (worker side) ------------------------------------------------------------------


def export_run(export_id: int, *, language: str = "") -> None:
    """Build the export's files, a failure worded in `language` (the studio's default when none came with the
    task). A redelivered task finds the export claimed and does nothing."""
    with translation.override(language or settings.LANGUAGE_CODE):
        _run(export_id)


def _run(export_id: int) -> None:
    if not Export.objects.filter(pk=export_id, status=ExportStatus.QUEUED).update(
        status=ExportStatus.RUNNING, progress=1, updated_at=timezone.now()
    ):
        return
    export = Export.objects.select_related("project__team").get(pk=export_id)
    export.publish_change()
    try:
        _build(export)
    except ExportRefused as refused:
        export.mark_failed(refused.words)
    except export_media.StitchError as exc:
        export.mark_failed(said("export.clip_unreadable", why=exc.words))
    except Exception:  # the export fails, plainly; the worker and the details stay in the log
        log.exception("export %s failed", export_id)
        export.mark_failed(said("export.unexpected"))


def export_crashed(export_id: int, exc: BaseException, *, language: str = "") -> None:
    with translation.override(language or settings.LANGUAGE_CODE):
        Export.objects.get(pk=export_id).mark_failed(said("export.stopped", error=type(exc).__name__))


class _Progress:
    """Writes progress only when someone could see it move: each write is a database UPDATE
    (with its commit), and the exports page looks once a second. So at least 5 points more,
    and at most twice a second; a short export writes none until it is done."""

    EVERY = 0.5  # seconds

    def __init__(self, export: Export, clock=time.monotonic):
        self.export, self.last, self.clock = export, export.progress, clock
        self.written_at = clock()

    def __call__(self, percent: float) -> None:
        now = self.clock()
        if percent >= self.last + 5 and now - self.written_at >= self.EVERY:
            self.last, self.written_at = int(percent), now
            self.export.report_progress(self.last)


def _build(export: Export) -> None:
    project = export.project
    plan = export_plan(project)  # again: consent may have been revoked since the click
    if not plan.included:
        raise ExportRefused(said("export.nothing_approved"))
    width, height = (int(v) for v in project.default_size.split("x"))
    base = slugify(project.name)[:60] or "project"
    progress, timings = _Progress(export), {}

    def timed(part: str, percent: int, work):
        started = time.perf_counter()
        result = work()
        timings[part] = time.perf_counter() - started
        progress(percent)
        return result

    anchors = provenance.trust_anchors_from_settings()
    approved = [_approved_take(p) for p in plan.included]
    with scratch_dir("studio-export-") as tmp, \
            export_package.CutSigner(title=f"{project.name}: approved cut", project=project.name,
                                     claim_generator=_claim_generator(), trust_anchors_pem=anchors) as signer, \
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="export-side") as side:
        workdir = Path(tmp)
        paths = [_clip_path(p, a, workdir) for p, a in zip(plan.included, approved)]
        # Two threads: this one stitches and then signs the cut; the side thread meanwhile
        # adds the takes as C2PA ingredients, then writes the ZIP and the PDF. Both kinds of
        # side work run mostly outside the GIL (c2pa-rs, hashing, file I/O). Whatever the
        # side thread needs from the database or storage is read here, on this thread.
        # An overridden take's ingredient is its re-signed clip, never the archive of the stored file.
        prepared = [None if a.override_reason
                    else ingredients.stored(p.included_take, title=a.ingredient_title, trust_anchors_pem=anchors)
                    for p, a in zip(plan.included, approved)]
        manifest = side.submit(_add_ingredients, signer, approved, paths, prepared, anchors)
        stitched = timed("stitch", 70, lambda: export_media.stitch(
            paths, workdir / "stitched.mp4", width=width, height=height,
            on_progress=lambda done: progress(2 + 68 * done)))
        notes = review_notes([p.included_take for p in plan.included])
        clips = [_export_clip(a, p, path, sig, notes.get(p.included_take.pk, ()))
                 for a, p, path, sig in zip(approved, plan.included, paths, stitched.clips)]
        sound, mixed = timed("sound", 71, lambda: _cut_sound(project, plan, clips, workdir))
        picture = workdir / "stitched.mp4"
        burned = export.burn_captions and sound is not None and bool(sound.cues)
        if burned:
            picture = workdir / "captioned.mp4"
            timed("captions", 72, lambda: export_media.burn_captions(
                workdir / "stitched.mp4", picture, [(c["start"], c["end"], f"{c['speaker']}: {c['text']}")
                                                   for c in sound.cues],
                tile=lambda text: animatic.caption_tile(text, width=width, height=height)))
        if mixed is not None:  # the cut carries the mix: the voice-over and bed over the takes' own sound
            scored = workdir / "scored.mp4"
            timed("mix", 72, lambda: _score(project, picture, scored, mixed, stitched.duration,
                                            takes_from=workdir / "stitched.mp4"))
            picture = scored

        archive = workdir / f"{base}-export.zip"
        board = workdir / f"{base}-storyboard.pdf"
        notes_csv = workdir / f"{base}-comments.csv"
        subtitle = (f"Storyboard · {len(clips)} of {len(plan.scenes)} scenes approved · "
                    f"{stitched.duration:.1f} s · exported {timezone.localtime():%d %b %Y %H:%M}")
        panels = _panels(plan, clips, workdir)
        archives = timed("ingredients", 72, manifest.result)  # waiting for them, if not added yet
        if sound is not None:
            signer.add_sound(sound, **_sound_facts(sound.recipe, project))
        for planned, take, written, was in zip(plan.included, approved, archives, prepared):
            # Approved before archives existed, renamed since, or new anchors (an override's archive
            # is of its re-signed clip: written for this export only).
            if was is None and not take.override_reason:
                ingredients.store(planned.included_take, written, title=take.ingredient_title, trust_anchors_pem=anchors)
        package = side.submit(_write_package, clips, panels, archive, board, notes_csv,
                              name=f"{project.name}: approved cut", title=project.name, subtitle=subtitle,
                              layout=export.pdf_layout, sound=sound)

        mp4 = workdir / f"{base}-cut.mp4"
        how = ("remuxed without re-encoding" if stitched.method == "remux"
               else f"re-encoded to {width}×{height} ({stitched.reason})")
        if mixed is not None:
            how += ", with the voice-over and sound bed mixed over the takes' own sound"
        if burned:
            how += ", the lines' captions burned into the picture (re-encoded)"
        timed("sign", 85, lambda: signer.sign(src=picture, dst=mp4,
                                              identity=provenance.studio_identity(), how=how))
        # Only what this thread still waits for counts: the rest overlapped the signing.
        package_timings = timed("package", 97, package.result)

        export.summary = {**_summary(plan, clips, stitched, timings),
                          "package_timings": {k: round(v, 3) for k, v in package_timings.items()}}
        for name, path in (("mp4", mp4), ("zip", archive), ("pdf", board), ("csv", notes_csv)):
            with path.open("rb") as fh:
                getattr(export, name).save(path.name, FinishedFile(fh), save=False)
    with transaction.atomic():
        won = Export.objects.filter(pk=export.pk, status=ExportStatus.RUNNING).update(
            status=ExportStatus.SUCCEEDED, progress=100, mp4=export.mp4.name, zip=export.zip.name,
            pdf=export.pdf.name, csv=export.csv.name, summary=export.summary, finished_at=timezone.now(), updated_at=timezone.now(),
        )
        if won:
            export.takes.set([p.included_take for p in plan.included])
            _audit_overridden(export, plan)
            export.publish_change()
    if not won:  # failed meanwhile (declared stale): do not keep files nobody points at
        for field in (export.mp4, export.zip, export.pdf, export.csv):
            field.delete(save=False)


def _clip_path(planned: PlannedScene, approved: export_package.ApprovedTake, workdir: Path) -> Path:
    """The take's clip as the export hands it over: the stored file, or for a take an owner
    approved though its checks failed, that file signed again saying so (who, when, why)."""
    take = planned.included_take
    stored = ingredients.local_path(take.video, workdir / f"take-{take.pk}.mp4")
    if not approved.override_reason:
        return stored
    signed = workdir / f"take-{take.pk}-approved.mp4"
    try:
        export_package.sign_overridden_clip(approved, src=stored, dst=signed, identity=provenance.studio_identity(),
                                            claim_generator=_claim_generator())
    except c2pa.C2paError as exc:  # e.g. a container C2PA cannot embed in: the cut's manifest still says it
        log.warning("export: take %s could not be signed with its override: %s", take.pk, exc)
        return stored
    return signed


def _add_ingredients(signer, approved, paths, prepared, anchors) -> list[bytes]:
    """Every take as an ingredient of the cut, writing the archives not prepared at approval
    (this runs on the export's side thread). Returns the archives, in order."""
    archives = [archive or provenance.ingredient_archive(
                    path, title=take.ingredient_title, label=provenance.ingredient_label(take.take_id),
                    trust_anchors_pem=anchors)
                for take, path, archive in zip(approved, paths, prepared)]
    signer.add_ingredients(approved, archives)
    return archives


def _write_package(clips, panels, archive: Path, board: Path, notes_csv: Path, *, name: str, title: str,
                   subtitle: str, layout: str, sound: export_package.CutSound | None = None) -> dict:
    """The ZIP, the PDF and the CSV, from plain data only (this runs on the export's side thread)."""
    timings = {}
    started = time.perf_counter()
    export_package.write_zip(clips, archive, timeline_name=name, sound=sound)
    notes_csv.write_text(export_package.comments_csv(clips), encoding="utf-8")
    timings["zip"] = time.perf_counter() - started
    started = time.perf_counter()
    export_pdf.write_storyboard(panels, board, title=title, subtitle=subtitle, layout=layout)
    timings["pdf"] = time.perf_counter() - started
    return timings


def _cut_sound(project, plan: ExportPlan, clips, workdir: Path):
    """The cut's voice-over and bed, laid out on the exported clips' own lengths (as Play all lays
    them out on its sequence): the stems written as WAV beside the cut, the captions, and the mixed
    samples (None when the cut has no lines and no bed). A recording whose person's consent was
    revoked is never in it: the engine's voice speaks that line (playall.sound_recipe)."""
    entries, at = [], 0.0
    for planned, clip in zip(plan.included, clips):
        entries.append(playall.PlayEntry(scene=planned.scene, take=planned.take, kind=playall.APPROVED,
                                         start=at, duration=clip.duration))
        at += clip.duration
    recipe = playall.sound_recipe(project, entries)
    has_lines = any(stop["lines"] for stop in recipe["stops"])
    if not has_lines and not recipe.get("bed"):
        return None, None
    made = playall.recipe_sound(recipe, storage=default_storage)
    stems = {}
    for name, samples, present in (("dialogue", made.dialogue, has_lines), ("bed", made.bed, bool(recipe.get("bed")))):
        if present:
            stems[name] = workdir / f"{name}.wav"
            stems[name].write_bytes(wav_bytes(samples))
    sound = export_package.CutSound(seconds=at, dialogue=stems.get("dialogue"), bed=stems.get("bed"),
                                    cues=tuple(made.cues), srt=playall.captions_srt(made.cues),
                                    vtt=playall.captions_vtt(made.cues), recipe=recipe)
    return sound, made


def _score(project, src: Path, dst: Path, made: playall.SequenceSound, seconds: float, *, takes_from: Path) -> None:
    """`src`'s picture with the mix as its sound: voice-over, bed, and the takes' own sound (read from
    the stitched cut, `takes_from`) at the project's level for it (as Play all plays them)."""
    takes = export_media.audio_of(takes_from)
    under = mixing.level(takes, project.take_audio_level_db) if takes is not None else None
    export_media.with_sound(src, dst, mixing.mix(made.dialogue, made.bed, under), seconds=seconds)


def _sound_facts(recipe: dict, project) -> dict:
    """What the cut's manifest says of its sound: the engine's voices, each recorded line with the
    consent grant in force for the person whose voice it is, the bed's file."""
    said = [item for stop in recipe["stops"] for item in stop["lines"]]
    people = {c.pk: c for c in Character.objects.filter(pk__in={i.get("character") for i in said} - {None})}
    recorded = []
    for item in said:
        if not item.get("recording"):
            continue
        character = people.get(item.get("character"))
        grant = consent_state(character).grant if character is not None and character.is_person else None
        recorded.append({"line": item["line"], "speaker": item["speaker"],
                         **(consent_entry(character.pk, grant) if character is not None
                            else {"character": None, "grant": None, "sha256": None})})
    voice = {"engine": speech.ENGINE, "voices": sorted({i["voice"] for i in said if not i.get("recording")}),
             "recorded": recorded}
    bed = recipe.get("bed") or {}
    return {"voice": voice, "bed": {"file": bed.get("audio", ""), "start_at": bed.get("start_at"),
                                    "level_db": bed.get("level_db")}}


def _claim_generator() -> str:
    return claim_generator()


def _approval_words(scene) -> str:
    when = timezone.localtime(scene.approved_at) if scene.approved_at else None
    who = scene.approved_by.get_username() if scene.approved_by else "someone"
    return f"Approved: take {scene.approved_take.number} by {who}" + (f", {when:%d %b %Y %H:%M}" if when else "")


def _approved_take(planned: PlannedScene) -> export_package.ApprovedTake:
    scene, take = planned.scene, planned.included_take
    return export_package.ApprovedTake(
        scene_number=scene.number,
        title=scene.title,
        take_id=take.pk,
        take_number=take.number,
        approved_by=scene.approved_by.get_username() if scene.approved_by else "",
        approved_at=scene.approved_at.isoformat() if scene.approved_at else "",
        override_reason=planned.override_reason,
        failed_checks={"content_credentials": take.c2pa_state or "none", "codes": list(take.c2pa_codes or []),
                       "delivery_problems": list(take.delivery_problems or [])} if planned.override_reason else {},
    )


def _audit_overridden(export: Export, plan: ExportPlan) -> None:
    """Each take that left the studio in this export only because an owner overrode its failed checks,
    in the team's audit log: the export is where the override's take reaches people outside."""
    for planned in plan.included:
        if planned.override_reason:
            audit_record(team=export.project.team_id, actor=export.created_by, action=AuditAction.EXPORTED_DESPITE_CHECKS,
                         target=planned.included_take, target_label=take_label(planned.included_take),
                         details={"export": export.pk, "note": planned.override_reason,
                                  "approved_by": planned.scene.approved_by.get_username()
                                  if planned.scene.approved_by else ""})


def review_notes(takes) -> dict[int, tuple[ReviewNote, ...]]:
    """The review comments on these takes (a team's takes: the comments of the team's review,
    guests' included), by take id, as threads in the order of the take's timeline."""
    comments = (Comment.objects.filter(take__in=takes).select_related("author")
                .order_by(F("at_seconds").asc(nulls_first=True), "created_at", "pk"))
    threads: dict[int, list[Comment]] = {}
    replies: dict[int, list[Comment]] = {}
    for comment in comments:
        if comment.parent_id is None:
            threads.setdefault(comment.take_id, []).append(comment)
        else:
            replies.setdefault(comment.parent_id, []).append(comment)

    def note(comment, answers=()) -> ReviewNote:
        return ReviewNote(
            comment_id=comment.pk, author=comment.who, text=comment.body,
            at_seconds=comment.at_seconds, until_seconds=comment.until_seconds,
            resolved=comment.is_resolved, shared=comment.shared,
            # Drawings on frames come with their comment where the review has them.
            drawing=getattr(comment, "drawing", None),
            replies=tuple(note(r) for r in sorted(answers, key=lambda r: (r.created_at, r.pk))),
        )

    return {take_id: tuple(note(c, replies.get(c.pk, ())) for c in top) for take_id, top in threads.items()}


def _export_clip(approved: export_package.ApprovedTake, planned: PlannedScene, path: Path,
                 signature, notes: tuple[ReviewNote, ...] = ()) -> export_package.ExportClip:
    take = planned.included_take
    summary = take.c2pa_summary or {}
    return export_package.ExportClip(
        **{f.name: getattr(approved, f.name) for f in dataclass_fields(approved)},
        path=path,
        notes=notes,
        fields=planned.fields,
        duration=float(signature.duration),
        fps=signature.fps,
        provenance={
            "provider": take.provider,
            "model": take.model,
            "cost_usd": str(take.cost),
            "recipe": take.recipe,
            "c2pa": {
                # As verified when the take was stored; the export's own manifest carries
                # each take's validation as of its approval (its ingredient archive, which is
                # written again when the trust anchors change).
                "state": take.c2pa_state or "none",
                "verdict": summary.get("verdict", ""),
                "signer": summary.get("signer"),
                "claim_generator": summary.get("claim_generator"),
                "codes": take.c2pa_codes,
                "checked_at": take.finished_at.isoformat() if take.finished_at else None,
                **({"approved_despite_failed_checks": planned.override_reason} if planned.override_reason else {}),
            },
            # The scene was edited after this take was approved: the recipe above is what made it.
            **({"scene_edited_since_approval": list(planned.scene.approval_stale_fields)}
               if planned.scene.approval_stale_fields else {}),
        },
    )


def _panels(plan: ExportPlan, clips, workdir: Path) -> list[export_pdf.BoardPanel]:
    by_scene = {c.scene_number: c for c in clips}
    panels = []
    for planned in plan.scenes:
        scene, take = planned.scene, planned.take
        clip = by_scene.get(scene.number) if take else None
        thumbnail = None
        if take is not None and take.thumbnail:  # never a withheld take's picture
            thumbnail = ingredients.local_path(take.thumbnail, workdir / f"thumb-{take.pk}.jpg")
        prompt, dialogue = _words_of(scene, take)
        panels.append(export_pdf.BoardPanel(
            number=scene.number, title=scene.title, prompt=prompt, dialogue=dialogue,
            duration=round(clip.duration, 2) if clip else scene.duration,
            approval=_approval_words(scene) if take else f"Not in the cut: {planned.reason}",
            approved=take is not None, thumbnail=thumbnail, notes=scene.camera_notes,
            fields=" · ".join(f"{name}: {text}" for name, text in planned.fields),
            drawings=_frame_drawings(take, clip.path, workdir) if take is not None and clip else (),
        ))
    return panels


def _words_of(scene, take) -> tuple[str, tuple[export_pdf.PanelLine, ...]]:
    """A take beside the prompt and dialogue that made it (its recipe), not the scene's edited since;
    a scene without a take beside its own. The dialogue is printed as lines, not inside the prompt."""
    if take is None:
        return scene.prompt, tuple(export_pdf.PanelLine(line.speaker_name, line.parenthetical, line.text)
                                   for line in scene_lines(scene))
    recipe = take.recipe or {}
    if "dialogue" not in recipe:  # made before lines were data: any dialogue is in its prompt
        return recipe.get("prompt", scene.prompt), ()
    # The prompt as sent is the action, the lines and then anything added after them (the cast described).
    sent, woven = recipe.get("prompt", ""), recipe.get("scene_prompt", "")
    added = sent[len(woven):] if woven and sent.startswith(woven) else ""
    return (recipe.get("action", "") + added).strip(), tuple(
        export_pdf.PanelLine(d["speaker"], d.get("parenthetical", ""), d["text"]) for d in recipe["dialogue"])


MAX_DRAWINGS_PER_TAKE = 6


def _frame_drawings(take, video: Path, workdir: Path) -> tuple[export_pdf.FrameDrawing, ...]:
    """Reviewers' drawings on the approved take, each with the frame it was drawn on."""
    comments = take.comments.filter(parent__isnull=True, at_seconds__isnull=False).select_related("author")
    drawings = []
    for comment in comments:
        if not comment.drawing:
            continue
        frame = workdir / f"frame-{comment.pk}.jpg"
        try:
            animatic.extract_thumbnail(video, frame, at_seconds=comment.at_seconds, max_width=960)
        except ValueError:  # the cut still exports; this note goes without its frame
            log.warning("export: no frame at %ss of take %s for comment %s", comment.at_seconds, take.pk, comment.pk)
            continue
        drawings.append(export_pdf.FrameDrawing(frame=frame, shapes=tuple(comment.drawing),
                                                caption=f"{comment.timecode} {comment.who}: {comment.body}"))
        if len(drawings) == MAX_DRAWINGS_PER_TAKE:
            break
    return tuple(drawings)


def _summary(plan: ExportPlan, clips, stitched, timings: dict) -> dict:
    return {
        "included": [{"scene": c.scene_number, "title": c.title, "take": c.take_number, "take_id": c.take_id,
                      "duration": round(c.duration, 3), "approved_by": c.approved_by} for c in clips],
        "left_out": [{"scene": p.scene.number, "title": p.scene.title, "reason": p.reason}
                     for p in plan.left_out],
        "duration": round(stitched.duration, 3),
        "size": f"{stitched.width}x{stitched.height}",
        "method": stitched.method,
        "reencode_reason": stitched.reason,  # English, for the manifest; the page words reencode_words
        "reencode_words": stored(stitched.why) if stitched.why is not None else [],
        "timings": {k: round(v, 3) for k, v in timings.items()},
    }
