"""An uploaded sound checked in a web request: its size, what its bytes are, and the length its headers
claim. Nothing is decoded here (a worker does that), so a two-hour file costs a web worker a header read."""

from __future__ import annotations

from pathlib import Path

from django.utils.translation import gettext

from generation.sound.audio import AudioError, AudioInfo, probe_audio
from generation.storage.scratch import scratch_dir


def checked_upload(upload, *, kinds, max_bytes: int, max_seconds: float, what: str) -> AudioInfo:
    """What `upload` is, or AudioError saying in words why it is refused. The file is read back from
    the start afterwards, ready to be stored."""
    if upload.size > max_bytes:
        raise AudioError(gettext("%(what)s is at most %(mb)d MB; this file is %(size).0f MB.") % {
            "what": what, "mb": max_bytes // (1024 * 1024), "size": upload.size / (1024 * 1024)})
    with scratch_dir("studio-sound-") as tmp:
        path = Path(tmp) / "upload"  # no suffix: FFmpeg must tell the format from the bytes alone
        with path.open("wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        upload.seek(0)
        info = probe_audio(path, kinds=kinds)
    if info.seconds is not None and info.seconds > max_seconds + 0.05:
        raise AudioError(gettext("%(what)s lasts at most %(max)s; this one lasts %(length)s.") % {
            "what": what, "max": clock(max_seconds), "length": clock(info.seconds)})
    return info


def clock(seconds: float) -> str:
    """1:05:00, 2:30, 0:04: a length as people read it."""
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
