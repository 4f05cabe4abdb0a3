"""Cutting a multi-shot take back into its shots: one file per scene.

A provider that renders several shots in one request returns one file, with each cut only
roughly where the booked durations put it (a few frames off is common; a model that keeps the
order of shots but not their timings can be a second off). So each boundary is found, not
assumed: near each booked boundary the studio looks for the cut, then copies every shot out.

Finding a cut costs as little as it can. The file is demuxed once, into memory, and nothing is
decoded when the bitstream already says where the cut is: encoders start a new picture at a
hard cut (an I-frame, or a P-frame coded mostly from scratch, several times the size of its
neighbours). One keyframe near the booked boundary and no such outsized frame beside it: that
keyframe is the cut. Anything else (no keyframe, several candidates, an outsized P-frame) is
settled by the pictures: the frames around the boundary are decoded and the cut is where one
frame differs most from the one before it, when that difference stands out. Nothing found: the
booked time stands, rounded to a frame.

Each shot is then copied out of the packets already in memory: a plain stream copy when it
starts on a keyframe and ends on one (or at the end of the file, or in a stream without
reordered frames), otherwise only that shot is re-encoded from the decoded frames. Audio packets
are copied as they are. So a group whose cuts sit on keyframes costs about one remux of the
file (bench/multishot.py measures it against a plain stream copy of the same file).
"""

from __future__ import annotations

import bisect
import logging
import statistics
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, cast

import av
import numpy as np
from av.audio.stream import AudioStream
from av.container import InputContainer, OutputContainer
from av.stream import Stream
from av.video.codeccontext import VideoCodecContext
from av.video.stream import VideoStream
from django.utils.translation import gettext

log = logging.getLogger(__name__)

# How far around a booked boundary to look for the cut, in seconds: a provider that keeps the booked
# timings lands within a few frames; one that keeps only the order of shots, within about a second.
# Never more than a third of the shorter shot beside the boundary, so a cut is never taken for the next.
WINDOW_EXACT = 0.5
WINDOW_ORDER = 1.5
# A P/B-frame at least this many times the median of the frames around it, and this share of a typical
# keyframe, was coded mostly from scratch: the picture changed there.
OUTSIZED = 4.0
OUTSIZED_OF_KEYFRAME = 0.1
# Pictures compared 64×36 in grey (0–255): a cut changes the mean by far more than motion does.
THUMB = (64, 36)
CUT_DIFFERENCE = 12.0  # the smallest mean change that is a cut
CUT_STANDS_OUT = 2.5  # … and at least this many times the next largest change around it
REENCODE = {"preset": "veryfast", "crf": "18"}
MUX_OPTIONS = {"movflags": "+faststart"}
MAX_BYTES = 2 * 1024**3  # a group file is held in memory while it is cut: a few MB a second at 1080p


class SplitError(ValueError):
    """The file cannot be cut into the booked shots (no video, fewer frames than shots)."""


@dataclass(frozen=True)
class Boundary:
    """Where one shot ends and the next begins."""

    booked: float  # seconds, from the booked durations
    frame: int  # the first frame of the next shot
    seconds: float
    found_by: str  # "keyframe" (the bitstream), "picture" (decoded frames), "booked" (nothing stood out)


@dataclass(frozen=True)
class Part:
    """One shot cut out of the group file."""

    index: int
    path: Path
    start_frame: int
    end_frame: int  # exclusive
    start: float  # seconds in the group file
    end: float
    booked_start: float
    booked_end: float
    copied: bool  # stream copy; False: this shot was re-encoded

    def facts(self) -> dict[str, Any]:
        """What a take's recipe and manifest record of its range."""
        data = asdict(self)
        data.pop("path")
        return data


@dataclass
class Split:
    fps: float
    frames: int
    duration: float
    boundaries: list[Boundary] = field(default_factory=list)
    parts: list[Part] = field(default_factory=list)


@dataclass
class _Video:
    """The group file's packets, in memory, with each frame's place in presentation order."""

    stream: VideoStream
    packets: list[av.Packet[Any]]  # video packets in decode order
    audio_stream: AudioStream | None
    audio: list[av.Packet[Any]]  # audio packets
    frame_pts: list[int]  # pts of frame i (presentation order)
    keyframe: list[bool]  # per frame
    size: list[int]  # packet size per frame
    packet_of_frame: list[int]  # index in `packets` of frame i
    fps: float
    reordered: bool  # B-frames: decode order is not presentation order

    @property
    def time_base(self) -> Fraction:
        time_base = self.stream.time_base
        assert time_base is not None, "a stream read from a file has a time base"
        return time_base


def booked_boundaries(durations: list[float], *, total: float, exact: bool) -> list[float]:
    """Where the cuts should be, in seconds: after each shot's booked duration. When the model keeps
    only the order of shots, their durations are scaled to the length it delivered."""
    booked_total = sum(durations)
    scale = total / booked_total if (not exact and booked_total and total) else 1.0
    edges, at = [], 0.0
    for seconds in durations[:-1]:
        at += seconds
        edges.append(at * scale)
    return edges


def split_group(src: Path, *, durations: list[float], out_dir: Path, exact: bool = True) -> Split:
    """Cut `src` into len(durations) files under `out_dir` (part-1.mp4, …): see the module's words."""
    if len(durations) < 2:
        raise SplitError(gettext("A multi-shot take has at least two shots."))
    if Path(src).stat().st_size > MAX_BYTES:
        raise SplitError(gettext("The file is too large to cut into shots."))
    try:
        with av.open(str(src)) as container:
            video = _demux(container)
            split = _split(video, durations=durations, out_dir=Path(out_dir), exact=exact)
    except av.FFmpegError as exc:
        # FFmpeg's own reason stays in its words.
        raise SplitError(gettext("The file could not be cut into shots: %(why)s") % {"why": exc}) from exc
    return split


def _demux(container: InputContainer) -> _Video:
    if not container.streams.video:
        raise SplitError(gettext("The file has no video to cut."))
    stream = container.streams.video[0]
    audio_stream = container.streams.audio[0] if container.streams.audio else None
    wanted = [stream] + ([audio_stream] if audio_stream is not None else [])
    packets: list[av.Packet[Any]] = []
    audio: list[av.Packet[Any]] = []
    for packet in container.demux(wanted):
        if packet.dts is None and packet.pts is None:
            continue  # the demuxer's flush packet
        (packets if packet.stream.index == stream.index else audio).append(packet)
    packets = [p for p in packets if p.pts is not None]
    pts = [p.pts for p in packets if p.pts is not None]  # the same, each packet's
    if not packets:
        raise SplitError(gettext("The file has no video frames."))
    order = sorted(range(len(packets)), key=lambda i: pts[i])
    frame_pts = [pts[i] for i in order]
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    reordered = any(pts[i] < pts[i - 1] for i in range(1, len(packets)))
    return _Video(stream=stream, packets=packets, audio_stream=audio_stream, audio=audio, frame_pts=frame_pts,
                  keyframe=[bool(packets[i].is_keyframe) for i in order], size=[packets[i].size for i in order],
                  packet_of_frame=order, fps=float(rate) if rate else 24.0, reordered=reordered)


def _seconds(video: _Video, frame: int) -> float:
    if frame >= len(video.frame_pts):
        last = video.frame_pts[-1] - video.frame_pts[0]
        return float(last * video.time_base) + (frame - len(video.frame_pts) + 1) / video.fps
    return float((video.frame_pts[frame] - video.frame_pts[0]) * video.time_base)


def _frame_at(video: _Video, seconds: float) -> int:
    """The frame shown at `seconds` (the nearest frame start)."""
    target = video.frame_pts[0] + round(seconds / float(video.time_base))
    i = bisect.bisect_left(video.frame_pts, target)
    if i >= len(video.frame_pts):
        return len(video.frame_pts)
    if i > 0 and abs(video.frame_pts[i - 1] - target) <= abs(video.frame_pts[i] - target):
        return i - 1
    return i


def _split(video: _Video, *, durations: list[float], out_dir: Path, exact: bool) -> Split:
    count = len(video.frame_pts)
    if count < len(durations):
        raise SplitError(gettext("The file has %(frames)s frames: too few for %(shots)s shots.") % {
            "frames": count, "shots": len(durations)})
    total = count / video.fps
    booked = booked_boundaries(durations, total=total, exact=exact)
    nominal = [min(count - 1, max(1, _frame_at(video, b))) for b in booked]
    edges = [0, *nominal, count]
    boundaries = []
    for k, b in enumerate(booked):
        shorter = min(edges[k + 1] - edges[k], edges[k + 2] - edges[k + 1])
        reach = max(1, min(round((WINDOW_EXACT if exact else WINDOW_ORDER) * video.fps), shorter // 3))
        low = max(edges[k] + 1, nominal[k] - reach)  # the previous cut, found already, bounds this one
        high = min(count - 1, nominal[k] + reach)
        frame, found_by = _find_cut(video, nominal[k], low, high)
        edges[k + 1] = frame
        boundaries.append(Boundary(booked=round(b, 3), frame=frame, seconds=round(_seconds(video, frame), 3),
                                   found_by=found_by))
    cum = [0.0]
    for seconds in durations:
        cum.append(cum[-1] + seconds)
    if not exact:
        cum = [c * total / cum[-1] for c in cum]
    split = Split(fps=video.fps, frames=count, duration=round(total, 3), boundaries=boundaries)
    out_dir.mkdir(parents=True, exist_ok=True)
    for k in range(len(durations)):
        start, end = edges[k], edges[k + 1]
        path = out_dir / f"part-{k + 1}.mp4"
        copied = _copyable(video, start, end)
        (_copy if copied else _reencode)(video, start, end, path)
        split.parts.append(Part(index=k, path=path, start_frame=start, end_frame=end,
                                start=round(_seconds(video, start), 3), end=round(_seconds(video, end), 3),
                                booked_start=round(cum[k], 3), booked_end=round(cum[k + 1], 3), copied=copied))
    return split


# --- finding a cut ----------------------------------------------------------------------------


def _find_cut(video: _Video, nominal: int, low: int, high: int) -> tuple[int, str]:
    if high < low:
        return nominal, "booked"
    window = range(low, high + 1)
    keys = [i for i in window if video.keyframe[i]]
    outsized = _outsized(video, window)
    if len(keys) == 1 and not outsized:
        return keys[0], "keyframe"
    found = _cut_in_pictures(video, low, high)
    if found is not None:
        return found, "picture"
    return nominal, "booked"


def _outsized(video: _Video, window: range) -> list[int]:
    """Frames in `window` coded mostly from scratch though not keyframes: where a picture changed."""
    around = range(max(0, window.start - len(window)), min(len(video.size), window.stop + len(window)))
    sizes = [video.size[i] for i in around if not video.keyframe[i]]
    if not sizes:
        return []
    typical = statistics.median(sizes)
    keys = [video.size[i] for i in range(len(video.size)) if video.keyframe[i]]
    floor = OUTSIZED_OF_KEYFRAME * statistics.median(keys) if keys else 0
    return [i for i in window if not video.keyframe[i] and video.size[i] >= max(OUTSIZED * typical, floor)]


def _cut_in_pictures(video: _Video, low: int, high: int) -> int | None:
    """The frame in [low, high] that differs most from the one before it, when that change stands out."""
    pictures = _decode(video, low - 1, high + 1, thumb=True)
    changes = {i: float(np.abs(pictures[i].astype(np.int16) - pictures[i - 1].astype(np.int16)).mean())
               for i in range(low, high + 1) if i in pictures and i - 1 in pictures}
    if not changes:
        return None
    best = max(changes, key=lambda i: changes[i])
    others = sorted((v for i, v in changes.items() if abs(i - best) > 1), reverse=True)
    runner_up = others[0] if others else 0.0
    if changes[best] >= CUT_DIFFERENCE and changes[best] >= CUT_STANDS_OUT * runner_up:
        return best
    return None


def _decode(video: _Video, first: int, stop: int, *, thumb: bool) -> dict[int, Any]:
    """Frames first..stop-1 (presentation order), decoded from the keyframe at or before `first`:
    small grey arrays when `thumb`, else the VideoFrames themselves."""
    first = max(0, first)
    stop = min(len(video.frame_pts), stop)
    key = first
    while key > 0 and not video.keyframe[key]:
        key -= 1
    start_packet = video.packet_of_frame[key]
    wanted = {video.frame_pts[i]: i for i in range(first, stop)}
    last_pts = video.frame_pts[stop - 1]
    decoder = cast(VideoCodecContext, av.CodecContext.create(video.stream.codec_context.name, "r"))
    if video.stream.codec_context.extradata:
        decoder.extradata = video.stream.codec_context.extradata
    frames: dict[int, Any] = {}

    def keep(frame: av.VideoFrame) -> None:
        index = wanted.get(frame.pts) if frame.pts is not None else None
        if index is None:
            return
        if thumb:
            small = frame.reformat(width=THUMB[0], height=THUMB[1], format="gray", interpolation="AREA")
            frames[index] = small.to_ndarray().copy()
        else:
            frames[index] = frame

    for packet in video.packets[start_packet:]:
        for frame in decoder.decode(packet):
            keep(frame)
        if len(frames) == len(wanted) or (packet.pts is not None and packet.pts > last_pts
                                           and len(frames) >= len(wanted) - 2 and not video.reordered):
            break
    else:
        for frame in decoder.decode(None):
            keep(frame)
    if len(frames) < len(wanted):
        for frame in decoder.decode(None):
            keep(frame)
    return frames


# --- writing the parts ------------------------------------------------------------------------


def _copyable(video: _Video, start: int, end: int) -> bool:
    """A stream copy decodes on its own when it starts on a keyframe and nothing after its end is needed
    to decode it: it ends on a keyframe, at the end of the file, or frames are never reordered."""
    if not video.keyframe[start]:
        return False
    return end >= len(video.frame_pts) or video.keyframe[end] or not video.reordered


def _audio_packets(video: _Video, start: int, end: int) -> list[av.Packet[Any]]:
    """Copies of the audio packets heard during frames start..end-1, their timestamps from the shot's start."""
    if video.audio_stream is None:
        return []
    atb = video.audio_stream.time_base
    assert atb is not None, "a stream read from a file has a time base"
    origin = video.frame_pts[0] * video.time_base + Fraction(_seconds(video, start)).limit_denominator(10**6)
    begin = int(origin / atb)
    finish = (int((video.frame_pts[0] * video.time_base
                   + Fraction(_seconds(video, end)).limit_denominator(10**6)) / atb)
              if end < len(video.frame_pts) else None)
    copies = []
    for packet in video.audio:
        if packet.pts is None or packet.pts < begin or (finish is not None and packet.pts >= finish):
            continue
        copies.append(_rebased(packet, begin))
    return copies


def _rebased(packet: av.Packet[Any], offset: int) -> av.Packet[Any]:
    """A copy of `packet` (muxing takes a packet's data) with its timestamps moved back by `offset`."""
    assert packet.pts is not None, "only packets with a time are copied"
    copy = av.Packet(bytes(packet))
    copy.pts = packet.pts - offset
    copy.dts = (packet.dts if packet.dts is not None else packet.pts) - offset
    copy.duration = packet.duration
    copy.is_keyframe = packet.is_keyframe
    copy.time_base = packet.time_base
    return copy


def _mux_in_time_order(out: OutputContainer, streams: list[Stream], packets: list[list[av.Packet[Any]]]) -> None:
    """Mux (stream, packet) pairs interleaved by time, as players read them."""
    pairs = [(stream, packet) for stream, group in zip(streams, packets) for packet in group]
    pairs.sort(key=lambda sp: _dts_seconds(sp[1]))
    for stream, packet in pairs:
        packet.stream = stream
        out.mux(packet)


def _dts_seconds(packet: av.Packet[Any]) -> float:
    assert packet.dts is not None, "copied and encoded packets have a decode time"
    return float(packet.dts * packet.time_base)


def _copy(video: _Video, start: int, end: int, path: Path) -> None:
    """The shot's packets as they are, its timestamps from 0."""
    first_pts = video.frame_pts[start]
    members = set(video.packet_of_frame[start:end])
    frames = [_rebased(p, first_pts) for i, p in enumerate(video.packets) if i in members]
    with av.open(str(path), "w", format="mp4", options=MUX_OPTIONS) as out:
        streams: list[Stream] = [out.add_stream_from_template(video.stream)]
        groups = [frames]
        if video.audio_stream is not None:
            streams.append(out.add_stream_from_template(video.audio_stream))
            groups.append(_audio_packets(video, start, end))
        _mux_in_time_order(out, streams, groups)


def _reencode(video: _Video, start: int, end: int, path: Path) -> None:
    """Only this shot, decoded from the keyframe before it and encoded again (H.264), its audio copied."""
    frames = _decode(video, start, end, thumb=False)
    source = video.stream.codec_context
    rate = video.stream.average_rate or Fraction(round(video.fps * 1000), 1000)
    with av.open(str(path), "w", format="mp4", options=MUX_OPTIONS) as out:
        out_video = out.add_stream("libx264", rate=rate, options=dict(REENCODE))
        out_video.width, out_video.height, out_video.pix_fmt = source.width, source.height, "yuv420p"
        out_audio = out.add_stream_from_template(video.audio_stream) if video.audio_stream is not None else None
        encoded: list[av.Packet[Any]] = []
        for n, index in enumerate(range(start, end)):
            frame = frames.get(index)
            if frame is None:
                continue
            frame = frame.reformat(format="yuv420p") if frame.format.name != "yuv420p" else frame
            frame.pts, frame.time_base = n, 1 / Fraction(rate)
            encoded += out_video.encode(frame)
        encoded += out_video.encode(None)
        streams: list[Stream] = [out_video]
        groups = [encoded]
        if out_audio is not None:
            streams.append(out_audio)
            groups.append(_audio_packets(video, start, end))
        _mux_in_time_order(out, streams, groups)
