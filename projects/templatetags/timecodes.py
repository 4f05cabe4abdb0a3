"""Moments on review pages, written as the player under the video writes them (HH:MM:SS:FF)."""

from django import template

from projects.timecode import timecode_at

register = template.Library()


@register.filter
def moment(comment, fps) -> str:
    """{{ comment|moment:take.frame_rate }}: "00:00:01:04", "00:00:00:07–00:00:01:00" for a range, "" for none."""
    if comment.at_seconds is None:
        return ""
    text = timecode_at(comment.at_seconds, fps)
    if comment.until_seconds is not None:
        text += f"–{timecode_at(comment.until_seconds, fps)}"
    return text


@register.filter
def timecode(seconds, fps) -> str:
    """{{ total|timecode:fps }}: a length or a position in seconds, as the player writes it."""
    return timecode_at(float(seconds or 0), fps)
