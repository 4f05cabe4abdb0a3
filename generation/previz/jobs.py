"""The previz provider's worker side: draw, sign and thumbnail one job."""

from __future__ import annotations

import io
import logging
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image

from generation.models import PrevizJob
from generation.previz import animatic
from generation.provenance import credentials as provenance
from generation.sound import speech
from generation.storage import reference
from generation.storage.scratch import FinishedFile, scratch_dir
from projects.models import Scene
from projects.storyboard.sound.mix import previz_sound, previz_sound_recipe

log = logging.getLogger(__name__)

# Previz frames are drawn by an algorithm, not a trained model.
ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/algorithmicMedia"


OUTPUTS = {"video": "video.mp4", "thumbnail": "thumbnail.jpg"}


def output_name(job_id, variant: str) -> str:
    """Where a finished job's file lives in the media storage: shared by every worker, so the
    worker that finishes the take need not be the one that rendered it."""
    return f"previz/{job_id}/{OUTPUTS[variant]}"


def claim_generator() -> str:
    return f"Storyboard Studio/{settings.STUDIO_VERSION}"


def previz_job_run(job_id: str) -> None:
    # Claim: only one worker renders a job, and a re-delivered task is a no-op.
    if not PrevizJob.objects.filter(pk=job_id, status="queued").update(
        status="running", heartbeat_at=timezone.now()
    ):
        return
    job = PrevizJob.objects.get(pk=job_id)
    spec = job.spec
    width, height = (int(v) for v in spec["size"].split("x"))

    def report(percent: int) -> None:
        # Keep 100 for "signed and ready"; drawing is the first 95 %.
        PrevizJob.objects.filter(pk=job_id, status="running").update(
            progress=min(95, int(percent * 0.95)), heartbeat_at=timezone.now()
        )

    try:
        with scratch_dir("studio-previz-") as tmp:
            _render(spec, Path(tmp), width=width, height=height, report=report)
            _publish(job_id, Path(tmp))
    except Exception as exc:  # the job fails; the worker stays up
        log.exception("previz job %s failed", job_id)
        PrevizJob.objects.filter(pk=job_id).update(
            status="failed", error=str(exc)[:2000], finished_at=timezone.now()  # worded by the adapter's poll
        )
        return
    PrevizJob.objects.filter(pk=job_id, status="running").update(
        status="succeeded", progress=100, finished_at=timezone.now()
    )


def _render(spec: dict, folder: Path, *, width: int, height: int, report) -> None:
    """Draw, sign and thumbnail the job into `folder` (scratch: a killed render is swept)."""
    raw = folder / "unsigned.mp4"
    if spec.get("shots"):
        _render_shots(spec, raw, width=width, height=height, report=report)
    else:
        _render_one(spec, raw, width=width, height=height, report=report)
    provenance.sign_mp4(
        src=raw,
        dst=folder / "video.mp4",
        identity=provenance.studio_identity(),
        title=spec.get("title") or "Previz",
        claim_generator=claim_generator(),
        digital_source_type=ALGORITHMIC_MEDIA,
        recipe=spec.get("recipe", {}),
        software_agent=f"{claim_generator()} local previz",
    )
    raw.unlink(missing_ok=True)
    animatic.extract_thumbnail(folder / "video.mp4", folder / "thumbnail.jpg")


def _render_shots(spec: dict, raw: Path, *, width: int, height: int, report) -> None:
    """A multi-shot take: each shot drawn as its scene, the first from the take's start frame, each with the
    portraits of its own cast."""
    recipe = spec.get("recipe") or {}
    casts = [shot.get("previz_cast", []) for shot in recipe.get("shots", [])]
    shots = []
    booked = recipe.get("shots", [])
    for index, shot in enumerate(spec["shots"]):
        cast = casts[index] if index < len(casts) else []
        # Each shot speaks its own scene's lines, timed from the shot's start, as a single scene's previz does.
        audio, subtitles = _voice_over({"seconds": shot["seconds"], "recipe": booked[index]}) \
            if index < len(booked) else (None, None)
        shots.append({**shot, "background": _reference_image(spec) if index == 0 else None,
                      "cast": [(entry["name"], image) for entry in cast if (image := _open_image(entry["image"]))],
                      "audio": audio, "subtitles": subtitles})
    animatic.render_shots(out_path=raw, width=width, height=height, shots=shots, on_progress=report)


def _render_one(spec: dict, raw: Path, *, width: int, height: int, report) -> None:
    audio, subtitles = _voice_over(spec)
    animatic.render_animatic(
        out_path=raw,
        width=width,
        height=height,
        seconds=int(spec["seconds"]),
        title=spec.get("title", ""),
        prompt=spec["prompt"],
        scene_number=int(spec.get("scene_number", 1)),
        camera_notes=spec.get("camera_notes", ""),
        on_progress=report,
        background=_reference_image(spec),
        cast=_cast_portraits(spec),
        audio=audio,
        subtitles=subtitles,
    )


def _voice_over(spec: dict):
    """The scene's lines spoken (and its bed under them) with a subtitle for each while it is spoken;
    (None, None) for a scene without lines, which keeps the pad tone and the prompt's subtitles.

    The voices, recordings and bed are the scene's as the job runs (read here, in the worker, so booking
    a take or planning a batch costs no query more): a recording whose person's consent was revoked
    meanwhile is not heard. A scene deleted since speaks its recipe's lines in default voices."""
    recipe = spec.get("recipe") or {}
    if not recipe.get("dialogue"):
        return None, None
    scene_id = (recipe.get("scene") or {}).get("id")
    scene = Scene.objects.select_related("project").filter(pk=scene_id).first() if scene_id is not None else None
    sound = previz_sound_recipe(scene) if scene is not None else {"lines": [
        {"speaker": e["speaker"], "text": e["text"], "voice": speech.default_voice(e["speaker"]),
         "rate": speech.DEFAULT_RATE, "pitch": speech.DEFAULT_PITCH} for e in recipe["dialogue"]]}
    if not sound.get("lines"):
        return None, None
    seconds = int(spec["seconds"])
    audio, cues = previz_sound(sound, seconds=seconds, storage=default_storage)
    return audio, [(cue.start, min(cue.end, seconds), f"{cue.speaker}: {cue.text}") for cue in cues]


def _open_image(name: str) -> Image.Image | None:
    """A stored, verified upload as a decoded image; None (the previz goes on without it) when
    it is gone or unreadable: a missing picture must not cost the whole animatic."""
    try:
        with default_storage.open(name, "rb") as fh:
            image = Image.open(fh)
            image.load()
            return image
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        log.warning("previz: image %s unusable (%s); drawing without it", name, exc)
        return None


def _reference_image(spec: dict) -> Image.Image | None:
    """What the animatic draws from: the extended take's last frame for an extension, the take's start frame
    (a frame of the scene before, when it starts from one), else the scene's reference image."""
    recipe = spec.get("recipe") or {}
    # An extension continues from the extended take's last frame.
    pinned = (recipe.get("extend_of") or {}).get("last_frame") or recipe.get("start_frame") or recipe.get(
        "reference_image")
    if not pinned:
        return None
    try:
        with default_storage.open(pinned["original"], "rb") as original:
            fitted = reference.fit(original, size=spec["size"], mode=pinned.get("fit", "crop"))
        return Image.open(io.BytesIO(fitted))
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        log.warning("previz: reference image %s unusable (%s)", pinned.get("original"), exc)
        return None


def _cast_portraits(spec: dict) -> list[tuple[str, Image.Image]]:
    cast = (spec.get("recipe") or {}).get("previz_cast", [])
    return [(entry["name"], image) for entry in cast if (image := _open_image(entry["image"]))]


def _publish(job_id: str, folder: Path) -> None:
    """The finished files go to the media storage, where any worker can download them."""
    for variant in ("video", "thumbnail"):
        name = output_name(job_id, variant)
        default_storage.delete(name)  # left by an earlier run of a job requeued as stalled
        with (folder / Path(name).name).open("rb") as fh:
            default_storage.save(name, FinishedFile(fh))


def previz_jobs_requeue_stalled(*, older_than) -> list[str]:
    """Jobs whose worker died mid-render go back to the queue (drawing is free to redo)."""
    stalled = list(
        PrevizJob.objects.filter(status="running", heartbeat_at__lt=older_than).values_list("pk", flat=True)
    )
    requeued = []
    for job_id in stalled:
        if PrevizJob.objects.filter(pk=job_id, status="running", heartbeat_at__lt=older_than).update(
            status="queued", progress=0
        ):
            requeued.append(str(job_id))
    return requeued
