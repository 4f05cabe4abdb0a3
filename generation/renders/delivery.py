"""Check what a provider delivered against what the take booked.

Providers sometimes hand back something other than what was paid for: a 2 s portrait
clip for a booked 4 s landscape take. The take is still stored (it was billed, and the
team may want to see it), but the mismatch is written on it in plain words and blocks
approval until an owner overrides it with a reason. The recorded cost never changes:
it stays what the provider billed.

What "plays in the player" means here: the studio stores, signs (C2PA) and stitches MP4,
so the container must be ISO BMFF (MP4/MOV) carrying H.264, VP9 or AV1 video, and AAC or
Opus audio if any. Every current browser plays those in MP4. H.265/HEVC is refused:
Firefox cannot play it and Chrome only with hardware support, so a reviewer could see a
black frame. WebM is refused because C2PA cannot be signed into it.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generation.previz import animatic

if TYPE_CHECKING:
    from generation.models import Render


PLAYABLE_VIDEO = {"h264", "vp9", "av1", "libdav1d", "libaom-av1"}
PLAYABLE_AUDIO = {"aac", "opus", "libopus"}
# A delivered clip may differ from the booked length by rounding to frames or audio
# packets; more than half a second (or 10 % of a long take) is a different clip.
DURATION_TOLERANCE = 0.5
DURATION_TOLERANCE_SHARE = 0.10


def _size(value: str) -> tuple[int, int]:
    width, height = str(value).lower().split("x")
    return int(width), int(height)


def _fmt_seconds(seconds: float) -> str:
    return f"{seconds:g}" if float(seconds).is_integer() else f"{seconds:.1f}"


def delivered_facts(path: Path) -> dict[str, Any]:
    """What the file is, read from its bytes (PyAV), never from its name; ValueError if no video.

    From the headers alone: every fact the check reads is there without decoding a frame (the
    pixel format, the one fact that needs a decoded frame, is not kept).
    """
    info, container = animatic.probe_headers(path)
    if not (info.width and info.height):  # headers that do not say (a raw stream): decode a frame
        info = animatic.probe_video(path)
    facts = asdict(info)
    del facts["pix_fmt"]
    facts["duration"] = round(float(info.duration or 0), 3)
    facts["container"] = container or "other"
    return facts


def delivery_problems(facts: dict[str, Any], *, size: str, seconds: float, audio_expected: bool) -> list[str]:
    """Plain-words mismatches between what was delivered and what was booked (empty when none)."""
    problems = []
    if facts.get("container") not in ("mp4", "mov") or facts.get("video_codec") not in PLAYABLE_VIDEO:
        problems.append(f"the video is {facts.get('video_codec') or 'unknown'} in "
                        f"{facts.get('container') or 'an unknown container'}, which the player cannot play "
                        "everywhere (expected H.264, VP9 or AV1 in MP4)")
    audio = facts.get("audio_codec")
    if audio and audio not in PLAYABLE_AUDIO:
        problems.append(f"the sound is {audio} (expected AAC or Opus)")
    width, height = _size(size)
    if (facts.get("width"), facts.get("height")) != (width, height):
        problems.append(f"{facts.get('width')}×{facts.get('height')} instead of the booked {width}×{height}")
    duration = float(facts.get("duration") or 0)
    if abs(duration - float(seconds)) > max(DURATION_TOLERANCE, DURATION_TOLERANCE_SHARE * float(seconds)):
        problems.append(f"{_fmt_seconds(duration)} s instead of the booked {_fmt_seconds(float(seconds))} s")
    if audio_expected and not audio:
        problems.append("no sound, though the model promises audio")
    return problems


def delivery_summary(take: Render) -> str:
    """ "delivered 720×1280, 2.0 s; booked 1280×720, 4 s", or "" for a take delivered as booked."""
    if not take.delivery_problems:
        return ""
    facts = take.delivered or {}
    params = (take.recipe or {}).get("parameters", {})
    width, height = _size(params.get("size", "0x0"))
    return (f"Delivered {facts.get('width')}×{facts.get('height')}, {float(facts.get('duration') or 0):.1f} s; "
            f"booked {width}×{height}, {params.get('seconds')} s")


def delivery_blocks_approval(take: Render) -> str | None:
    """Why the take cannot be approved as delivered (an owner may override), or None."""
    if not take.delivery_problems:
        return None
    return ("The provider delivered something other than what was booked: "
            + "; ".join(take.delivery_problems) + ".")
