"""A project's sound bed: music or ambience under the whole board, from a start time, at a level,
dipping under every line. Checked in the request (size, kind from the bytes, length from the
headers), decoded and evened out by a worker; the original is kept as uploaded."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext

from generation.sound.audio import (
    BED_KINDS,
    SAMPLE_RATE,
    AudioError,
    decode_audio,
    normalise_loudness,
    read_wav,
    wav_bytes,
)
from generation.sound.uploads import checked_upload
from generation.storage.scratch import scratch_dir
from projects.live import ChangeKind, live_publish
from projects.models import Project, SoundBed, SoundStatus
from projects.storyboard.sound import (
    tasks as sound_tasks,  # the tasks call back into this module, as modules
)

MAX_SECONDS = 30 * 60
MAX_BYTES = 200 * 1024 * 1024


def sound_bed_upload(*, project: Project, user, upload) -> SoundBed:
    """Keep `upload` as the project's bed (replacing the one it had, whose placement carries over)."""
    try:
        info = checked_upload(upload, kinds=BED_KINDS, max_bytes=MAX_BYTES, max_seconds=MAX_SECONDS,
                              what=gettext("A sound bed"))
    except AudioError as exc:
        raise ValidationError(str(exc))
    with transaction.atomic():
        old = SoundBed.objects.filter(project=project).first()
        placement = {"start_at": old.start_at, "level_db": old.level_db, "duck_db": old.duck_db} if old else {}
        if old is not None:
            _delete_files(old)
            old.delete()
        bed = SoundBed(project=project, kind=info.kind, seconds=info.seconds, uploaded_by=user,
                       name=(upload.name or "")[:200], **placement)
        bed.original.save(f"bed.{info.kind}", upload, save=False)
        bed.save()
        sound_tasks.sound_prepare_bed.delay_on_commit(bed.pk)
    return bed


def sound_bed_place(*, project: Project, start_at: float, level_db: float, duck_db: float) -> SoundBed:
    bed = SoundBed.objects.filter(project=project).first()
    if bed is None:
        raise ValidationError(gettext("Upload a sound bed first."))
    bed.start_at, bed.level_db, bed.duck_db = start_at, level_db, duck_db
    bed.full_clean(exclude=["project", "original", "uploaded_by"])
    SoundBed.objects.filter(pk=bed.pk).update(start_at=start_at, level_db=level_db, duck_db=duck_db)
    return bed


def sound_bed_remove(*, project: Project) -> None:
    bed = SoundBed.objects.filter(project=project).first()
    if bed is not None:
        _delete_files(bed)
        bed.delete()


def bed_prepare(bed_id: int) -> SoundBed | None:
    """The worker's side: decode (stopping at the length a bed may have), even out, keep beside the original."""
    bed = SoundBed.objects.filter(pk=bed_id, status=SoundStatus.PROCESSING).first()
    if bed is None:
        return None
    try:
        with scratch_dir("studio-bed-") as tmp:
            path = Path(tmp) / "original"
            with bed.original.open("rb") as source, path.open("wb") as out:
                for chunk in iter(lambda: source.read(1024 * 1024), b""):
                    out.write(chunk)
            samples = decode_audio(path, max_seconds=MAX_SECONDS)
    except AudioError as exc:
        SoundBed.objects.filter(pk=bed.pk).update(status=SoundStatus.FAILED, error=str(exc)[:300])
        _announce(bed)
        return bed
    samples, _gain = normalise_loudness(samples)
    bed.audio.save("bed.wav", ContentFile(wav_bytes(samples)), save=False)
    SoundBed.objects.filter(pk=bed.pk, status=SoundStatus.PROCESSING).update(
        audio=bed.audio.name, seconds=len(samples) / SAMPLE_RATE, status=SoundStatus.READY)
    bed.refresh_from_db()
    _announce(bed)
    return bed


def bed_samples(bed: SoundBed | None):
    """The prepared bed's samples, or None while it is not ready."""
    if bed is None or bed.status != SoundStatus.READY or not bed.audio:
        return None
    with bed.audio.open("rb") as fh:
        return read_wav(fh)


def _announce(bed: SoundBed) -> None:
    live_publish(kind=ChangeKind.SCENE_EDITED, project=bed.project, data={"fields": ["sound"]})


def _delete_files(bed: SoundBed) -> None:
    for field in (bed.original, bed.audio):
        if field:
            field.delete(save=False)
