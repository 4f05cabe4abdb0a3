"""Timecodes as the studio's player writes them: HH:MM:SS:FF, non-drop, at a take's frame rate.

static/studio/player.js draws the same under every player; the review pages and the markers an
export writes (generation/exports/markers.py) use these, so a moment reads the same everywhere.
A leaf: it imports nothing of the studio.
"""

from __future__ import annotations

import math
from fractions import Fraction


def frame_at(seconds: float | None, fps: Fraction) -> int:
    """The frame showing at `seconds` (the player's frame, not the nearest one)."""
    if not seconds or seconds < 0:
        return 0
    return math.floor(Fraction(seconds).limit_denominator(1_000_000) * fps + Fraction(1, 1_000_000))


def timecode(frame: int, fps: Fraction) -> str:
    """HH:MM:SS:FF, non-drop, counting frames at the clip's (nominal) rate."""
    nominal = max(1, round(fps))
    seconds, frames = divmod(max(frame, 0), nominal)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}:{frames:02d}"


def timecode_at(seconds: float | None, fps: float | Fraction) -> str:
    """The timecode the player shows at `seconds` of a take running at `fps` (a float such as 23.976)."""
    rate = Fraction(fps).limit_denominator(1001) if fps and fps > 0 else Fraction(24)
    return timecode(frame_at(seconds, rate), rate)
