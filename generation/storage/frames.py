"""One exact frame of a stored video, as a PNG: what a take hands the next scene as its start frame.

Exact means decoded, not the nearest keyframe: seeking lands on the keyframe at or before a moment,
so this decodes forward from there to the frame asked for, and to the very end for the last frame
(a take's last keyframe may be a second or more before its last frame). Frames are numbered from 0
in presentation order, at the stream's own start, as the studio's player numbers them.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import av
from PIL import Image, PngImagePlugin

# How far before the end to seek for the last frame: a GOP is rarely longer. When nothing decodes
# from there (an odd file), the whole stream is decoded instead.
TAIL_SECONDS = 4.0
INDEX_KEY = "studio-frame"  # the frame's number, kept in the PNG's text chunk


@dataclass(frozen=True)
class Frame:
    png: bytes
    index: int  # its number in the video, from 0
    width: int
    height: int


def extract(source, *, index: int | None = None) -> Frame:
    """Frame `index` of the video in `source` (a path or a binary file object), or its last decoded
    frame when `index` is None. ValueError when it is not a playable video or has no such frame."""
    if index is not None and index < 0:
        raise ValueError("a frame number is 0 or more")
    try:
        with av.open(source if isinstance(source, str) else source, mode="r") as container:
            if not container.streams.video:
                raise ValueError("the file has no video")
            stream = container.streams.video[0]
            picked = _pick(container, stream, index)
    except av.FFmpegError as exc:
        raise ValueError(f"not a playable video ({exc})") from exc
    if picked is None:
        raise ValueError("no frame decodes from this video" if index is None
                         else f"the video has no frame {index}")
    frame, number = picked
    image = frame.to_image()  # honours the stream's colour tags
    info = PngImagePlugin.PngInfo()
    info.add_text(INDEX_KEY, str(number))
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info)
    return Frame(out.getvalue(), number, image.width, image.height)


def index_of(png: bytes) -> int | None:
    """The frame number an extracted PNG carries, or None."""
    with Image.open(io.BytesIO(png)) as image:
        value = getattr(image, "text", {}).get(INDEX_KEY)
    return int(value) if value and value.isdigit() else None


def _rate(stream) -> float:
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    return float(rate) if rate else 24.0


def _start(stream) -> float:
    return float(stream.start_time * stream.time_base) if stream.start_time is not None and stream.time_base else 0.0


def _number(frame, stream) -> int:
    if frame.time is None:
        return -1
    return max(0, round((frame.time - _start(stream)) * _rate(stream)))


def _pick(container, stream, index: int | None):
    """(frame, its number), decoding forward from the keyframe before the moment asked for."""
    duration = (float(stream.duration * stream.time_base) if stream.duration and stream.time_base
                else (container.duration or 0) / av.time_base)
    if index is None:
        target = max(0.0, duration - TAIL_SECONDS)
    else:
        target = index / _rate(stream)
    if target > 0:
        container.seek(int((target + _start(stream)) / stream.time_base), stream=stream, backward=True)
    last = None
    for frame in container.decode(stream):
        number = _number(frame, stream)
        if index is not None and number >= index:
            return (frame, number) if number == index else (last or (frame, number))
        last = (frame, number)
    if index is None and last is None and target > 0:
        container.seek(0, stream=stream, backward=True)
        for frame in container.decode(stream):
            last = (frame, _number(frame, stream))
    if index is not None:
        return None  # the video ends before frame `index`
    return last


def stored_name(*, team_id: int, project_id: int, take_id: int, index: int | None) -> str:
    """Where a take's extracted frame is kept: beside nothing else, under the take's own folder of frames."""
    which = "last" if index is None else f"frame-{int(index)}"
    return f"frames/{team_id}/{project_id}/{take_id}/{which}.png"


def delete_stored(storage, *, team_id: int, project_id: int, take_id: int) -> list[str]:
    """Delete every frame extracted from a take (its likeness goes with it); returns the names deleted."""
    folder = f"frames/{team_id}/{project_id}/{take_id}"
    try:
        _dirs, files = storage.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return []
    deleted = []
    for name in files:
        storage.delete(f"{folder}/{name}")
        deleted.append(f"{folder}/{name}")
    return deleted
