"""Stitching approved takes into one MP4: stream copy when the clips allow it, else re-encode.

A stream copy (remux) is what an editor would expect from "export": no generation loss and
about as fast as copying the files. It is only safe when every clip could have come out of
one encoder run: same codecs, same picture size (the project's), same frame rate and the same
codec set-up (H.264/HEVC parameter sets live in the container's extradata, and a decoder
given one clip's with another clip's frames shows garbage). Anything else is decoded and
re-encoded to the project's size, letterboxed when the shape differs.

Each clip lasts exactly as long as its video track; the stitched file's duration is their sum.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from generation.words import Said, said

Progress = Callable[[float], None]  # fraction done, 0.0–1.0

AUDIO_RATE = 48_000
AUDIO_CHUNK = 1024  # AAC-LC frame size


class StitchError(Exception):
    """A clip that cannot be read at all (not a fallback case: the export fails), as stored words: the failed
    export says it again in each reader's language."""

    def __init__(self, words: Said) -> None:
        super().__init__(words)
        self.words = words


class _RemuxAbandoned(Exception):
    """Stream copy turned out unsafe half-way (timestamps would go backwards): why, as stored words (the
    exports page says why the cut was re-encoded)."""

    def __init__(self, words: Said) -> None:
        super().__init__(words)
        self.words = words


@dataclass(frozen=True)
class ClipSignature:
    """What decides whether clips can be stream-copied into one file."""

    duration: Fraction  # seconds, of the video track
    width: int
    height: int
    fps: Fraction
    video_codec: str
    pix_fmt: str
    video_extradata: bytes
    audio_codec: str | None
    audio_rate: int | None
    audio_channels: int | None
    audio_extradata: bytes


@dataclass(frozen=True)
class StitchResult:
    method: str  # "remux" | "reencode"
    why: Said | None  # why it re-encoded (None for a remux), worded for each reader of the exports page
    duration: float
    width: int
    height: int
    clips: tuple[ClipSignature, ...]  # what each input turned out to be

    @property
    def reason(self) -> str:
        """Why it re-encoded, in English ("" for a remux): the manifest's and the log's words."""
        return self.why.english() if self.why is not None else ""


# An MP4's moov box names codecs, sizes, timing and codec set-up: no need for FFmpeg to
# read packets to find them (1.7 instead of 4.4 ms per clip). It then leaves pix_fmt
# unknown, which the encoder set-up (H.264/HEVC parameter sets) pins down for a remux;
# a clip whose moov says too little fails the remux test and is decoded in full.
FAST_PROBE = {"analyzeduration": "0", "probesize": "32", "fpsprobesize": "0"}


def _open(path: Path):
    try:
        return av.open(str(path), options=FAST_PROBE)
    except (av.FFmpegError, OSError) as exc:
        # FFmpeg's own reason stays in its words.
        raise StitchError(said("stitch.not_playable", file=Path(path).name, reason=str(exc))) from exc


def _signature(container, name: str) -> ClipSignature:
    if not container.streams.video:
        raise StitchError(said("stitch.no_video", file=name))
    video = container.streams.video[0]
    audio = container.streams.audio[0] if container.streams.audio else None
    vcc = video.codec_context
    return ClipSignature(
        duration=_video_duration(container, video),
        width=vcc.width,
        height=vcc.height,
        fps=Fraction(video.average_rate or video.guessed_rate or 24),
        video_codec=vcc.name,
        pix_fmt=vcc.pix_fmt or "",
        video_extradata=bytes(vcc.extradata or b""),
        audio_codec=audio.codec_context.name if audio else None,
        audio_rate=audio.codec_context.sample_rate if audio else None,
        audio_channels=audio.codec_context.channels if audio else None,
        audio_extradata=bytes(audio.codec_context.extradata or b"") if audio else b"",
    )


def _video_duration(container, video) -> Fraction:
    if video.duration and video.time_base:
        return video.duration * video.time_base
    if container.duration:
        return Fraction(container.duration, av.time_base)
    if video.frames and video.average_rate:
        return video.frames / Fraction(video.average_rate)
    raise StitchError(said("stitch.no_duration"))


def remux_obstacle(signatures: Sequence[ClipSignature], *, width: int, height: int) -> Said | None:
    """Why these clips cannot be stream-copied into a width×height file (None when they can)."""
    first = signatures[0]
    for number, sig in enumerate(signatures, start=1):
        if (sig.width, sig.height) != (width, height):
            return said("remux.size", number=number, size=f"{sig.width}×{sig.height}", project=f"{width}×{height}")
        if sig.video_codec not in {"h264", "hevc"} or not sig.video_extradata:
            return said("remux.codec", number=number, codec=sig.video_codec)
        for differs, mine, theirs in (
            ("remux.video_codec_differs", sig.video_codec, first.video_codec),
            ("remux.frame_rate_differs", sig.fps, first.fps),
            # The parameter sets fix profile, chroma format and bit depth: equal set-up means
            # equal pixel format too (which the fast probe does not always report).
            ("remux.encoder_differs", sig.video_extradata, first.video_extradata),
            ("remux.audio_differs", (sig.audio_codec, sig.audio_rate, sig.audio_channels),
             (first.audio_codec, first.audio_rate, first.audio_channels)),
            ("remux.audio_setup_differs", sig.audio_extradata, first.audio_extradata),
        ):
            if mine != theirs:
                return said(differs, number=number)
    return None


def stitch(paths: Sequence[Path], out_path: Path, *, width: int, height: int,
           on_progress: Progress | None = None) -> StitchResult:
    """Write the clips, in order, as one MP4 at width×height."""
    if not paths:
        raise StitchError(said("stitch.no_clips"))
    report = on_progress or (lambda _done: None)
    with ExitStack() as stack:
        # Each clip is opened once: probed here, then read by the remux.
        sources = [stack.enter_context(_open(p)) for p in paths]
        signatures = [_signature(src, Path(p).name) for src, p in zip(sources, paths)]
        total = sum(s.duration for s in signatures)
        why = remux_obstacle(signatures, width=width, height=height)
        if why is None:
            try:
                _remux(sources, signatures, out_path, report)
                return StitchResult("remux", None, float(total), width, height, tuple(signatures))
            except _RemuxAbandoned as exc:
                why = exc.words
    _reencode(paths, signatures, out_path, width=width, height=height,
              fps=signatures[0].fps, report=report)
    return StitchResult("reencode", why, float(total), width, height, tuple(signatures))


# ------------------------------------------------------------------------------- remux


def _remux(sources, signatures, out_path: Path, report: Progress) -> None:
    """Stream copy: every packet moves once, its timestamps shifted to where its clip starts.

    This loop runs once per packet (~70 per second of video), so it sticks to integer
    arithmetic in each stream's own time base; Fractions appear once per clip.
    """
    total = float(sum(s.duration for s in signatures)) or 1.0
    first = sources[0]
    with av.open(str(out_path), "w", format="mp4") as out:
        v_out = out.add_stream_from_template(first.streams.video[0])
        a_out = out.add_stream_from_template(first.streams.audio[0]) if first.streams.audio else None
        mux = out.mux_one
        offset = Fraction(0)  # where the current clip starts, in seconds
        last_video_end = None  # seconds: the previous clip's last video dts
        for index, (src, sig) in enumerate(zip(sources, signatures)):
            v_in = src.streams.video[0]
            v_idx, v_tb = v_in.index, v_in.time_base
            v_shift = round(offset / v_tb) - (v_in.start_time or 0)
            # Raw dts at or below this would land on or before the previous clip's last frame.
            v_floor = (math.floor(last_video_end / v_tb) - v_shift) if last_video_end is not None else None
            streams = [v_in]
            if a_out is not None:
                a_in = src.streams.audio[0]
                a_start = a_in.start_time or 0
                a_shift = round(offset / a_in.time_base) - a_start
                # AAC's priming packet sits before time zero: keep it only in the first clip,
                # where nothing plays before it. Sound running past the picture's end would
                # delay the next clip's: drop it.
                a_min = a_start if index else -(1 << 62)
                a_end = a_start + round(sig.duration / a_in.time_base)
                streams.append(a_in)
            last_dts = None
            for packet in src.demux(*streams):
                dts = packet.dts
                if dts is None:  # the demuxer's end-of-stream marker
                    continue
                if packet.stream_index == v_idx:
                    if v_floor is not None and dts <= v_floor:
                        raise _RemuxAbandoned(said("remux.overlap", number=index + 1, previous=index))
                    v_floor, last_dts = None, dts  # within one file the demuxer keeps dts rising
                    packet.dts = dts + v_shift
                    packet.pts += v_shift
                    packet.stream = v_out
                else:
                    pts = packet.pts
                    if pts < a_min or pts >= a_end:
                        continue
                    packet.dts = dts + a_shift
                    packet.pts = pts + a_shift
                    packet.stream = a_out
                mux(packet)
            if last_dts is not None:
                last_video_end = (last_dts + v_shift) * v_tb
            offset += sig.duration
            report(float(offset) / total)


def _streams(video, audio):
    return [s for s in (video, audio) if s is not None]


# ---------------------------------------------------------------------------- re-encode


class _AudioTrack:
    """Continuous AAC: each clip's sound trimmed or padded with silence to its picture."""

    def __init__(self, stream, layout: str):
        self.stream, self.layout = stream, layout
        self.channels = 2 if layout == "stereo" else 1
        self.samples = 0  # samples encoded so far: the next AAC frame's pts
        self.pending = np.zeros((self.channels, 0), np.float32)
        self.limit = 0  # samples the track may hold up to the current clip's end
        self.resampler: av.AudioResampler | None = None

    def begin_clip(self, end_seconds: Fraction) -> None:
        self.limit = round(end_seconds * AUDIO_RATE)
        # A fresh resampler per clip: clips may differ in rate and layout.
        self.resampler = av.AudioResampler(format="fltp", layout=self.layout, rate=AUDIO_RATE)

    def push(self, frame, mux) -> None:
        assert self.resampler is not None, "begin_clip() comes first"
        for out in self.resampler.resample(frame):
            self._add(out.to_ndarray(), mux)

    def end_clip(self, mux) -> None:
        assert self.resampler is not None, "begin_clip() comes first"
        for out in self.resampler.resample(None):
            self._add(out.to_ndarray(), mux)
        missing = self.limit - self.samples - self.pending.shape[1]
        if missing > 0:  # a clip without sound, or with less sound than picture
            self._add(np.zeros((self.channels, missing), np.float32), mux)

    def close(self, mux) -> None:
        if self.pending.shape[1]:
            self._encode(self.pending, mux)
        mux(self.stream.encode(None))

    def _add(self, pcm: np.ndarray, mux) -> None:
        room = self.limit - self.samples - self.pending.shape[1]
        if room > 0:
            self.pending = np.concatenate([self.pending, pcm[:, :room]], axis=1)
        # Whole AAC frames only; a short remainder carries over into the next clip.
        while self.pending.shape[1] >= AUDIO_CHUNK:
            self._encode(self.pending[:, :AUDIO_CHUNK], mux)
            self.pending = self.pending[:, AUDIO_CHUNK:]

    def _encode(self, pcm: np.ndarray, mux) -> None:
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(pcm), format="fltp", layout=self.layout)
        frame.sample_rate, frame.pts = AUDIO_RATE, self.samples
        self.samples += pcm.shape[1]
        mux(self.stream.encode(frame))


def _fit(frame, width: int, height: int):
    """The frame at width×height, yuv420p; letterboxed (black bars) when the shape differs."""
    if frame.width * height == frame.height * width:
        return frame.reformat(width=width, height=height, format="yuv420p")
    scale = min(width / frame.width, height / frame.height)
    w, h = max(2, int(frame.width * scale) // 2 * 2), max(2, int(frame.height * scale) // 2 * 2)
    small = frame.reformat(width=w, height=h, format="yuv420p")
    canvas = av.VideoFrame(width, height, "yuv420p")
    x, y = (width - w) // 4 * 2, (height - h) // 4 * 2
    for plane_out, plane_in, fill, div in zip(canvas.planes, small.planes, (16, 128, 128), (1, 2, 2)):
        dst = np.frombuffer(memoryview(plane_out), np.uint8).reshape(plane_out.height, plane_out.line_size)
        src = np.frombuffer(memoryview(plane_in), np.uint8).reshape(plane_in.height, plane_in.line_size)
        dst[:] = fill
        dst[y // div:y // div + h // div, x // div:x // div + w // div] = src[:h // div, :w // div]
    return canvas


def _reencode(paths, signatures, out_path: Path, *, width: int, height: int, fps: Fraction,
              report: Progress) -> None:
    total = float(sum(s.duration for s in signatures)) or 1.0
    with av.open(str(out_path), "w", format="mp4") as out:
        video = out.add_stream("libx264", rate=fps, options={"preset": "veryfast", "crf": "20"})
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.thread_type = "AUTO"
        audio = None
        if any(s.audio_codec for s in signatures):
            layout = "stereo" if any((s.audio_channels or 0) > 1 for s in signatures) else "mono"
            # The "fast" coder: half the CPU of the default, and AAC is a third of this loop.
            stream = out.add_stream("aac", rate=AUDIO_RATE, layout=layout, options={"aac_coder": "fast"})
            stream.codec_context.bit_rate = 128_000 if layout == "stereo" else 96_000
            audio = _AudioTrack(stream, layout)
        # Opens the encoders now: their time base, which every frame is stamped with, is only set
        # then. Left to the first mux, a file whose first packets are picture would have none.
        out.start_encoding()
        mux = out.mux
        offset = Fraction(0)
        next_index = 0  # output frame number; frame n shows at n / fps
        for path, sig in zip(paths, signatures):
            end = offset + sig.duration
            last_index = round(end * fps)  # this clip's frames are next_index .. last_index-1
            if audio is not None:
                audio.begin_clip(end)
            with av.open(str(path)) as src:
                v_in = src.streams.video[0]
                v_in.thread_type = "AUTO"
                a_in = src.streams.audio[0] if (audio and src.streams.audio) else None
                start = v_in.start_time * v_in.time_base if v_in.start_time and v_in.time_base else 0
                held = None
                for packet in src.demux(*_streams(v_in, a_in)):
                    for frame in packet.decode():
                        if audio is not None and a_in is not None and packet.stream.index == a_in.index:
                            audio.push(frame, mux)
                            continue
                        at = offset + (frame.pts * frame.time_base - start if frame.pts is not None else 0)
                        index = round(at * fps)
                        # Drop frames beyond the picture's end or doubling up on one slot
                        # (faster source); repeat the previous one to fill gaps (slower source).
                        if index >= last_index or index < next_index:
                            continue
                        fitted = _fit(frame, width, height)
                        while held is not None and next_index < index:
                            _encode_at(video, held, next_index, mux)
                            next_index += 1
                        _encode_at(video, fitted, index, mux)
                        next_index, held = index + 1, fitted
                while held is not None and next_index < last_index:  # pad a short clip
                    _encode_at(video, held, next_index, mux)
                    next_index += 1
            if audio is not None:
                audio.end_clip(mux)
            offset = end
            report(float(offset) / total)
        mux(video.encode(None))
        if audio is not None:
            audio.close(mux)


def _encode_at(stream, frame, index: int, mux) -> None:
    # The encoder keeps its own reference to what it was sent, so re-sending a held
    # frame with a new pts is safe.
    frame.pts = index
    frame.time_base = stream.codec_context.time_base
    mux(stream.encode(frame))


# --- The cut's sound --------------------------------------------------------------------------


def audio_of(path: Path) -> np.ndarray | None:
    """The file's sound as mono float32 at 48 kHz (the takes' own sound, stitched), or None when it has none."""
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return None
        resampler = av.AudioResampler(format="flt", layout="mono", rate=AUDIO_RATE)
        parts: list[np.ndarray] = []
        for frame in container.decode(container.streams.audio[0]):
            frame.pts = None  # resample by count: the stitched clips' priming must not shift the sound
            parts.extend(out.to_ndarray()[0] for out in resampler.resample(frame))
        parts.extend(out.to_ndarray()[0] for out in resampler.resample(None))
    return np.concatenate(parts).astype(np.float32) if parts else None


def with_sound(src: Path, dst: Path, samples: np.ndarray, *, seconds: float) -> None:
    """`dst` = `src`'s picture, stream-copied, with `samples` (mono 48 kHz) as its only sound, AAC,
    cut or padded with silence to `seconds` (the picture's length)."""
    length = int(round(seconds * AUDIO_RATE))
    pcm = np.zeros(length, np.float32)
    pcm[:min(length, len(samples))] = samples[:length]
    with av.open(str(src)) as source, av.open(str(dst), "w", format="mp4") as out:
        v_in = source.streams.video[0]
        v_out = out.add_stream_from_template(v_in)
        a_out = out.add_stream("aac", rate=AUDIO_RATE, layout="mono")
        a_out.codec_context.bit_rate = 128_000
        at = 0  # the next sample to encode: sound is written as the picture advances (interleaved, not buffered)

        def sound_until(t: float) -> None:
            nonlocal at
            while at < length and at < t * AUDIO_RATE:
                frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(pcm[None, at:at + AUDIO_CHUNK]),
                                                   format="fltp", layout="mono")
                frame.sample_rate, frame.pts = AUDIO_RATE, at
                out.mux(a_out.encode(frame))
                at += AUDIO_CHUNK

        v_tb = v_in.time_base
        assert v_tb is not None, "a stream read from a file has a time base"
        for packet in source.demux(v_in):
            if packet.dts is None:
                continue
            sound_until(float(packet.dts * v_tb) + 0.5)
            packet.stream = v_out
            out.mux_one(packet)
        sound_until(math.inf)
        out.mux(a_out.encode(None))


def burn_captions(src: Path, dst: Path, cues: Sequence[tuple[float, float, str]], *,
                  tile: Callable[[str], tuple[np.ndarray, np.ndarray, np.ndarray]]) -> None:
    """`dst` = `src`'s picture re-encoded (H.264, the same size and rate) with each cue's words on the
    frames it spans, low and centred; no sound (the caller adds the mix). `tile(text)` draws a caption
    as YUV 4:2:0 planes; each caption is drawn once."""
    tiles: dict[str, tuple] = {}
    with av.open(str(src)) as source, av.open(str(dst), "w", format="mp4") as out:
        v_in = source.streams.video[0]
        rate = v_in.average_rate or Fraction(24)
        v_out = out.add_stream("libx264", rate=rate)
        v_out.width, v_out.height, v_out.pix_fmt = v_in.codec_context.width, v_in.codec_context.height, "yuv420p"
        v_out.options = {"preset": "veryfast", "crf": "20"}
        # The same colour as the cut it redraws: untagged, a player (and a decoder asked for RGB) reads
        # the levels differently and the whole picture shifts, not only where the captions are.
        colour = {name: getattr(v_in.codec_context, name)
                  for name in ("color_range", "colorspace", "color_primaries", "color_trc")}
        for name, value in colour.items():
            setattr(v_out.codec_context, name, value)
        height, width = v_out.height, v_out.width
        for index, frame in enumerate(source.decode(v_in)):
            at = float(frame.time) if frame.time is not None else index / float(rate)
            due = next((text for start, end, text in cues if start <= at < end), None)
            if due is not None:
                planes = frame.to_ndarray(format="yuv420p")
                ty, tu, tv = tiles.setdefault(due, tile(due))
                h, w = ty.shape
                h, w = min(h, height - 2) // 2 * 2, min(w, width) // 2 * 2
                top, left = (height - _even_of(height * 0.04) - h) // 2 * 2, (width - w) // 4 * 2
                y = planes[:height]
                u = planes[height:height + height // 4].reshape(height // 2, width // 2)
                v = planes[height + height // 4:].reshape(height // 2, width // 2)
                y[top:top + h, left:left + w] = ty[:h, :w]
                u[top // 2:(top + h) // 2, left // 2:(left + w) // 2] = tu[:h // 2, :w // 2]
                v[top // 2:(top + h) // 2, left // 2:(left + w) // 2] = tv[:h // 2, :w // 2]
                frame = av.VideoFrame.from_ndarray(planes, format="yuv420p")
            else:
                frame = frame.reformat(format="yuv420p")
            for name, value in colour.items():
                setattr(frame, name, value)
            frame.pts = index
            frame.time_base = 1 / rate
            out.mux(v_out.encode(frame))
        out.mux(v_out.encode(None))


def _even_of(value: float) -> int:
    return int(round(value / 2)) * 2
