"""Two clips made one: a take and its continuation, when a provider returns only the new part.

The studio always keeps the whole clip of an extended take. Where both clips carry the same streams
with the same codec parameters (codec, size, sample rate, channels and the codec's own setup bytes),
their packets are copied into one MP4 one after the other, the second shifted to start where the
first ends: nothing is decoded, nothing loses quality. Otherwise both are decoded and encoded again
(H.264 and AAC, at the first clip's size and sample rate). Either way the join is where the first
clip's picture ends, in seconds of the joined clip.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

STREAM_COPY, RE_ENCODED = "stream copy", "re-encoded"


@dataclass(frozen=True)
class Joined:
    join_seconds: float  # where the second clip begins in the joined one
    duration: float  # of the joined clip's picture
    method: str  # STREAM_COPY or RE_ENCODED


def join_clips(first: Path, second: Path, out: Path) -> Joined:
    """Write `first` then `second` into `out` (an MP4). ValueError when either is not a playable video."""
    out = Path(out)
    tmp = out.with_name(f".{out.name}.part")
    try:
        with av.open(str(first)) as a, av.open(str(second)) as b:
            if not a.streams.video or not b.streams.video:
                raise ValueError("both clips need a picture")
            copy = _same_parameters(a, b)
            join = _copy(a, b, tmp) if copy else _encode(a, b, tmp)
        os.replace(tmp, out)
    except av.FFmpegError as exc:
        tmp.unlink(missing_ok=True)
        raise ValueError(f"the clips could not be joined ({exc})") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    with av.open(str(out)) as joined:
        duration = _picture_seconds(joined)
    return Joined(join_seconds=round(join, 3), duration=round(duration, 3), method=STREAM_COPY if copy else RE_ENCODED)


def _signature(container) -> list[tuple]:
    """What must be equal for packets of two files to play as one stream each."""
    out: list[tuple] = []
    for stream in (*container.streams.video[:1], *container.streams.audio[:1]):
        cc = stream.codec_context
        if stream.type == "video":
            out.append(("video", cc.name, cc.width, cc.height, cc.pix_fmt, bytes(cc.extradata or b"")))
        else:
            out.append(("audio", cc.name, cc.sample_rate, cc.channels, bytes(cc.extradata or b"")))
    return out


def _same_parameters(a, b) -> bool:
    return _signature(a) == _signature(b)


def _seconds(value, time_base) -> float:
    return float(value * time_base) if value is not None and time_base else 0.0


def _picture_seconds(container) -> float:
    stream = container.streams.video[0]
    if stream.duration:
        return _seconds(stream.duration, stream.time_base)
    return (container.duration or 0) / av.time_base


def _copy(a, b, tmp: Path) -> float:
    """Stream copy: `a`'s packets, then `b`'s shifted past them; returns the join in seconds."""
    kept = (*a.streams.video[:1], *a.streams.audio[:1])
    with av.open(str(tmp), "w", format="mp4", options={"movflags": "+faststart"}) as out:
        streams = {s.type: out.add_stream_from_template(s) for s in kept}
        ends: dict[str, float] = {}  # each stream's end in `a`, in seconds
        last_dts: dict[str, float] = {}
        for packet in a.demux(*kept):
            if packet.dts is None:  # a demuxer's flush packet
                continue
            kind = packet.stream.type
            tb = packet.time_base
            ends[kind] = max(ends.get(kind, 0.0), _seconds(packet.pts + (packet.duration or 0), tb))
            last_dts[kind] = _seconds(packet.dts, tb)
            packet.stream = streams[kind]
            out.mux(packet)
        join = ends["video"]
        others = (*b.streams.video[:1], *b.streams.audio[:1])
        starts = {s.type: _seconds(s.start_time or 0, s.time_base) for s in others}
        for packet in b.demux(*others):
            if packet.dts is None:
                continue
            kind = packet.stream.type
            if kind not in streams:
                continue
            tb = packet.time_base
            if kind == "audio" and packet.pts is not None and _seconds(packet.pts, tb) < starts[kind]:
                continue  # the encoder's priming, which the second clip's edit list hides: not part of its sound
            # Past the end of the same stream in `a` (an audio track a hair longer than the picture
            # starts the second clip's sound a hair later), and never at or before a's last timestamp.
            shift_seconds = max(join, ends.get(kind, 0.0)) - starts[kind]
            shift = int(round(shift_seconds / tb))
            packet.pts = packet.pts + shift if packet.pts is not None else None
            packet.dts = packet.dts + shift
            if _seconds(packet.dts, tb) <= last_dts.get(kind, -1.0):
                packet.dts = int(round(last_dts[kind] / tb)) + 1
            if packet.pts is not None and packet.pts < packet.dts:
                packet.pts = packet.dts
            last_dts[kind] = _seconds(packet.dts, tb)
            packet.stream = streams[kind]
            out.mux(packet)
    return join


def _encode(a, b, tmp: Path) -> float:
    """Decode both and encode once more, at `a`'s picture size and rate and its sound's sample rate."""
    first = a.streams.video[0]
    width, height = first.codec_context.width, first.codec_context.height
    rate = first.average_rate or first.guessed_rate or Fraction(24)
    with_sound = bool(a.streams.audio or b.streams.audio)
    sample_rate = (a.streams.audio[0].codec_context.sample_rate if a.streams.audio
                   else b.streams.audio[0].codec_context.sample_rate if b.streams.audio else 48000)
    with av.open(str(tmp), "w", format="mp4", options={"movflags": "+faststart"}) as out:
        video = out.add_stream("libx264", rate=rate, options={"preset": "veryfast", "crf": "20"})
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        audio = out.add_stream("aac", rate=sample_rate, layout="stereo") if with_sound else None
        frames = 0
        sound_pts = 0
        join = 0.0
        for index, clip in enumerate((a, b)):
            picture = _write_picture(clip, out, video, width, height, rate, start=frames)
            if audio is not None:
                sound_pts = _write_sound(clip, out, audio, sample_rate, start=sound_pts,
                                         seconds=picture / float(rate))
                # A part that ends early in sound is padded so the next part's sound starts with its picture.
                target = int(round((frames + picture) / float(rate) * sample_rate))
                if sound_pts < target:
                    sound_pts = _write_silence(out, audio, sample_rate, start=sound_pts, samples=target - sound_pts)
            frames += picture
            if index == 0:
                join = frames / float(rate)
        out.mux(video.encode(None))
        if audio is not None:
            out.mux(audio.encode(None))
    return join


def _write_picture(clip, out, video, width, height, rate, *, start: int) -> int:
    count = 0
    for frame in clip.decode(clip.streams.video[0]):
        frame = frame.reformat(width=width, height=height, format="yuv420p")
        frame.pts = start + count
        frame.time_base = Fraction(1) / rate
        out.mux(video.encode(frame))
        count += 1
    return count


def _write_sound(clip, out, audio, sample_rate: int, *, start: int, seconds: float) -> int:
    """The clip's sound, resampled, up to the end of its picture; returns the next sample's number."""
    if not clip.streams.audio:
        return start
    clip.seek(0)
    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=sample_rate)
    limit = start + int(round(seconds * sample_rate))
    pts = start
    for frame in clip.decode(clip.streams.audio[0]):
        for chunk in resampler.resample(frame):
            if pts >= limit:
                return pts
            chunk.pts = pts
            chunk.time_base = Fraction(1, sample_rate)
            out.mux(audio.encode(chunk))
            pts += chunk.samples
    return pts


def _write_silence(out, audio, sample_rate: int, *, start: int, samples: int) -> int:
    pts = start
    while samples > 0:
        n = min(1024, samples)
        frame = av.AudioFrame.from_ndarray(np.zeros((2, n), dtype=np.float32), format="fltp", layout="stereo")
        frame.sample_rate = sample_rate
        frame.pts = pts
        frame.time_base = Fraction(1, sample_rate)
        out.mux(audio.encode(frame))
        pts += n
        samples -= n
    return pts
