"""The mix's arithmetic on mono 48 kHz float32 samples: lines laid out in time, the bed's stretch of a
range, the bed ducked under speech, and the sum. No models: callers pass samples and times.

Times are seconds from the start of whatever is mixed (a scene, or the board from its first scene).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from generation.sound.audio import SAMPLE_RATE

HOP = SAMPLE_RATE // 100  # 10 ms: the ducking's resolution
SPEECH_GATE_DB = -45.0  # a 10 ms stretch of the dialogue track louder than this is speech


@dataclass(frozen=True)
class Cue:
    """One line placed in time: its samples start at `start`; `text` is what a subtitle says."""

    start: float
    samples: np.ndarray
    text: str = ""
    speaker: str = ""

    @property
    def seconds(self) -> float:
        return len(self.samples) / SAMPLE_RATE

    @property
    def end(self) -> float:
        return self.start + self.seconds


def line_starts(durations: Sequence[float], *, pause: float) -> list[float]:
    """When each line starts when lines follow each other with `pause` before the first, between lines
    (and after the last, which `spoken_length` counts)."""
    starts, at = [], pause
    for seconds in durations:
        starts.append(at)
        at += seconds + pause
    return starts


def spoken_length(durations: Sequence[float], *, pause: float) -> float:
    """How long lines laid out by `line_starts` last, the pause after the last included."""
    return pause + sum(d + pause for d in durations) if durations else 0.0


def dialogue_track(cues: Sequence[Cue], seconds: float) -> np.ndarray:
    """The cues summed into a track `seconds` long (what runs past the end is cut there)."""
    track = np.zeros(int(round(seconds * SAMPLE_RATE)), np.float32)
    for cue in cues:
        at = int(round(cue.start * SAMPLE_RATE))
        if at >= len(track) or at + len(cue.samples) <= 0:
            continue
        piece = cue.samples[max(0, -at):len(track) - at]
        track[max(0, at):max(0, at) + len(piece)] += piece
    return track


def bed_segment(bed: np.ndarray | None, *, bed_start: float, level_db: float, t0: float, t1: float) -> np.ndarray:
    """The stretch [t0, t1) of a bed that starts playing at `bed_start`, at its level (silence where
    the bed is not playing: before it starts and after it ends)."""
    out = np.zeros(int(round((t1 - t0) * SAMPLE_RATE)), np.float32)
    if bed is None or not len(bed):
        return out
    first = int(round((t0 - bed_start) * SAMPLE_RATE))  # the bed's sample at t0
    lo, hi = max(0, first), min(len(bed), first + len(out))
    if hi > lo:
        out[lo - first:hi - first] = bed[lo:hi] * np.float32(10 ** (level_db / 20))
    return out


def speech_mask(dialogue: np.ndarray) -> np.ndarray:
    """1.0 for each 10 ms hop where the dialogue track speaks, else 0.0."""
    n = int(np.ceil(len(dialogue) / HOP))
    padded = np.zeros(n * HOP, np.float32)
    padded[:len(dialogue)] = dialogue
    power = np.mean(np.square(padded.reshape(n, HOP)), axis=1)
    return (power > 10 ** (SPEECH_GATE_DB / 10)).astype(np.float32)


def duck(bed: np.ndarray, dialogue: np.ndarray, *, depth_db: float, attack: float = 0.08,
         release: float = 0.4) -> np.ndarray:
    """The bed lowered by `depth_db` (negative) wherever the dialogue speaks: it dips over `attack`
    seconds before a line (the gain looks ahead) and comes back over `release` after it."""
    if not len(bed) or depth_db >= 0:
        return bed
    mask = speech_mask(dialogue[:len(bed)] if len(dialogue) >= len(bed)
                       else np.pad(dialogue, (0, len(bed) - len(dialogue))))
    floor = 10 ** (depth_db / 20)
    before, after = max(1, int(attack * 100)), max(1, int(release * 100))
    # A line's hops pull the gain down `before` hops early; after it the gain ramps back up.
    ahead = np.convolve(mask, np.ones(before, np.float32), mode="full")[before - 1:before - 1 + len(mask)] > 0
    ducked = np.zeros(len(mask), np.float32)
    level = 0.0
    for i, on in enumerate(ahead):
        level = 1.0 if on else max(0.0, level - 1.0 / after)
        ducked[i] = level
    ramp_in = np.convolve(ducked, np.ones(before, np.float32) / before, mode="full")[:len(ducked)]
    depth = np.maximum(ducked, ramp_in)
    gain_hops = 1.0 - (1.0 - floor) * np.clip(depth, 0.0, 1.0)
    gain = np.repeat(gain_hops, HOP)[:len(bed)].astype(np.float32)
    return bed * gain


def mix(*tracks: np.ndarray | None) -> np.ndarray:
    """The tracks summed (the longest sets the length), kept under full scale by a soft limit."""
    sounding = [t for t in tracks if t is not None and len(t)]
    if not sounding:
        return np.zeros(0, np.float32)
    out = np.zeros(max(len(t) for t in sounding), np.float32)
    for track in sounding:
        out[:len(track)] += track
    peak = float(np.max(np.abs(out))) if len(out) else 0.0
    if peak > 0.98:
        out = np.tanh(out).astype(np.float32)  # only a sum that would clip is bent
    return out


def level(samples: np.ndarray, level_db: float) -> np.ndarray:
    return (samples * np.float32(10 ** (level_db / 20))).astype(np.float32)


def encode_aac(samples: np.ndarray, path, *, bit_rate: int = 128_000) -> None:
    """Mono samples written as an AAC (.m4a) file with PyAV: no external binary."""
    import av

    with av.open(str(path), "w", format="ipod") as container:
        stream = container.add_stream("aac", rate=SAMPLE_RATE, layout="mono")
        stream.codec_context.bit_rate = bit_rate
        chunk = stream.codec_context.frame_size or 1024
        for start in range(0, len(samples), chunk):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples[None, start:start + chunk], np.float32),
                                               format="fltp", layout="mono")
            frame.sample_rate, frame.pts = SAMPLE_RATE, start
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
