"""A line replaced by a recording: made in the browser (MediaRecorder) or uploaded.

The web request only checks the file (its size, what its bytes are, the length its headers claim) and
keeps it as it came; a worker decodes it, evens out its loudness and re-times the scene. A recording of
a real person's line is their recorded voice: it is taken, and used, only under a consent that covers
voice (voice_problem), and a revoked consent withholds it as it withholds their takes.
"""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext

from generation.sound.audio import (
    RECORDING_KINDS,
    SAMPLE_RATE,
    AudioError,
    decode_audio,
    normalise_loudness,
    wav_bytes,
)
from generation.sound.uploads import checked_upload
from generation.storage.scratch import scratch_dir
from projects.characters.consent import voice_problem
from projects.models import DialogueLine, LineRecording, SoundStatus
from projects.storyboard.sound import (
    tasks as sound_tasks,  # the tasks call back into this module, as modules
)

MAX_SECONDS = 120
MAX_BYTES = 25 * 1024 * 1024


def line_recording_upload(*, line: DialogueLine, user, upload) -> LineRecording:
    """Keep `upload` as the line's recording (replacing an earlier one), to be prepared by a worker."""
    project = line.scene.project
    speaker = line.character if line.character_id else None
    if speaker is not None and (problem := voice_problem(speaker, project=project)):
        raise PermissionDenied(problem)
    try:
        info = checked_upload(upload, kinds=RECORDING_KINDS, max_bytes=MAX_BYTES, max_seconds=MAX_SECONDS,
                              what=gettext("A line's recording"))
    except AudioError as exc:
        raise ValidationError(str(exc))
    with transaction.atomic():
        old = LineRecording.objects.filter(line=line).first()
        if old is not None:
            _delete_files(old)
            old.delete()
        recording = LineRecording(line=line, kind=info.kind, character=speaker, uploaded_by=user,
                                  seconds=info.seconds)
        recording.original.save(f"original.{info.kind}", upload, save=False)
        recording.save()
        sound_tasks.sound_prepare_recording.delay_on_commit(recording.pk)
    return recording


def line_recording_remove(*, line: DialogueLine) -> None:
    """Back to the engine's voice."""
    recording = LineRecording.objects.filter(line=line).first()
    if recording is None:
        return
    _delete_files(recording)
    recording.delete()
    sound_tasks.sound_voice_scene.delay_on_commit(line.scene_id)


def recording_withheld(recording: LineRecording, *, project) -> str | None:
    """Why this recording may not be heard now (its person's consent no longer covers it), or None."""
    character = recording.character
    if character is None:
        return None
    return voice_problem(character, project=project)


def recording_prepare(recording_id: int) -> LineRecording | None:
    """The worker's side: decode, even out the loudness, keep the result beside the original."""
    recording = LineRecording.objects.filter(pk=recording_id, status=SoundStatus.PROCESSING).first()
    if recording is None:
        return None  # prepared already, or replaced
    try:
        with scratch_dir("studio-recording-") as tmp, recording.original.open("rb") as source:
            path = Path(tmp) / "original"
            path.write_bytes(source.read())
            samples = decode_audio(path, max_seconds=MAX_SECONDS)
    except AudioError as exc:
        LineRecording.objects.filter(pk=recording.pk).update(status=SoundStatus.FAILED, error=str(exc)[:300])
        return recording
    samples, gain = normalise_loudness(samples)
    recording.audio.save("normalised.wav", ContentFile(wav_bytes(samples)), save=False)
    LineRecording.objects.filter(pk=recording.pk, status=SoundStatus.PROCESSING).update(
        audio=recording.audio.name, seconds=len(samples) / SAMPLE_RATE, gain_db=gain, status=SoundStatus.READY)
    recording.refresh_from_db()
    return recording


def _delete_files(recording: LineRecording) -> None:
    for field in (recording.original, recording.audio):
        if field:
            field.delete(save=False)
