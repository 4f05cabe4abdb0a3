"""Audio files by what they are, decoded to samples, and their loudness evened out.

A file is what PyAV finds in its bytes (never its name): its container and codec must both be on the
allow-list below. Probing reads the headers only, which is cheap enough for a web request; decoding
(a worker's job) stops as soon as a file runs past the length it may have, so a file whose header
lies about its length costs no more than an honest one.

Everything the studio mixes is mono float32 at 48 kHz, the previz's and AAC's usual rate.
"""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from django.utils.translation import gettext, ngettext

SAMPLE_RATE = 48_000

# container (as FFmpeg names what it found) -> (the suffix the studio stores it under, codecs allowed)
_PCM = {"pcm_s16le", "pcm_s24le", "pcm_s32le", "pcm_f32le", "pcm_f64le", "pcm_u8", "pcm_s16be", "pcm_s24be"}
CONTAINERS = {
    "wav": ("wav", _PCM),
    "mp3": ("mp3", {"mp3", "mp3float"}),
    "aac": ("aac", {"aac"}),
    "mov,mp4,m4a,3gp,3g2,mj2": ("m4a", {"aac", "alac"}),
    "flac": ("flac", {"flac"}),
    "ogg": ("ogg", {"opus", "vorbis", "flac"}),
    "matroska,webm": ("webm", {"opus", "vorbis"}),
}
BED_KINDS = {"wav", "mp3", "aac", "m4a", "flac"}  # music or ambience, as an editor exports it
RECORDING_KINDS = BED_KINDS | {"ogg", "webm"}  # and what a browser's MediaRecorder makes
CONTENT_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg", "aac": "audio/aac", "m4a": "audio/mp4",
                 "flac": "audio/flac", "ogg": "audio/ogg", "webm": "audio/webm"}
TARGET_LOUDNESS_DB = -20.0  # dBFS, gated RMS
PEAK_CEILING_DB = -1.0


class AudioError(ValueError):
    """Not an audio file the studio takes, or not one that decodes; the message says which in words."""


@dataclass(frozen=True)
class AudioInfo:
    kind: str  # the stored suffix: wav, mp3, aac, m4a, flac, ogg, webm
    codec: str
    seconds: float | None  # None: the headers do not say (a browser's recording): decoding will tell
    channels: int
    sample_rate: int


def probe_audio(path: Path, *, kinds=RECORDING_KINDS) -> AudioInfo:
    """What the file at `path` is, from its bytes and headers only."""
    try:
        with av.open(str(path), "r", metadata_errors="ignore") as container:
            found = container.format.name
            stream = container.streams.audio[0] if container.streams.audio else None
            if found not in CONTAINERS or stream is None:
                raise AudioError(gettext("This is not a sound file the studio reads."))
            kind, codecs = CONTAINERS[found]
            codec = stream.codec_context.name
            if kind not in kinds or codec not in codecs:
                raise AudioError(gettext("Sound of this kind (%(kind)s, %(codec)s) is not taken here.") % {"kind": kind, "codec": codec})
            seconds = None
            if container.duration is not None and container.duration > 0:
                seconds = container.duration / av.time_base
            elif stream.duration and stream.time_base:
                seconds = float(stream.duration * stream.time_base)
            return AudioInfo(kind=kind, codec=codec, seconds=seconds, channels=stream.codec_context.channels or 1,
                             sample_rate=stream.codec_context.sample_rate or 0)
    except AudioError:
        raise
    except (av.FFmpegError, OSError, ValueError, IndexError):
        raise AudioError(gettext("This is not a sound file the studio reads."))


def decode_audio(path: Path, *, max_seconds: float) -> np.ndarray:
    """The file's first audio stream as mono float32 at 48 kHz. Longer than `max_seconds`: AudioError,
    raised as soon as decoding gets there."""
    limit = int(max_seconds * SAMPLE_RATE) + SAMPLE_RATE // 10
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    parts, total = [], 0
    try:
        with av.open(str(path), "r", metadata_errors="ignore") as container:
            for frame in container.decode(audio=0):
                frame.pts = None  # a file's odd timestamps must not make the resampler pad or drop
                for out in resampler.resample(frame):
                    parts.append(out.to_ndarray()[0])
                    total += out.samples
                if total > limit:
                    raise AudioError(gettext("The sound lasts more than %(length)s.") % {"length": _duration_words(max_seconds)})
            for out in resampler.resample(None):
                parts.append(out.to_ndarray()[0])
    except AudioError:
        raise
    except (av.FFmpegError, OSError, ValueError, IndexError):
        raise AudioError(gettext("The sound file is damaged: it could not be decoded."))
    samples = np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)
    if not len(samples):
        raise AudioError(gettext("The sound file holds no sound."))
    return samples


def resample(samples: np.ndarray, rate_in: int, rate_out: int = SAMPLE_RATE) -> np.ndarray:
    """Mono float32 samples at another rate (PyAV's resampler: FFmpeg's swresample)."""
    if rate_in == rate_out or not len(samples):
        return samples.astype(np.float32)
    resampler = av.AudioResampler(format="flt", layout="mono", rate=rate_out)
    frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples, np.float32)[None, :], format="flt",
                                       layout="mono")
    frame.sample_rate = rate_in
    parts = [f.to_ndarray()[0] for f in (*resampler.resample(frame), *resampler.resample(None))]
    return np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)


def loudness_db(samples: np.ndarray, rate: int = SAMPLE_RATE) -> float:
    """Gated RMS loudness in dBFS: 400 ms blocks, silence (< -70 dBFS) and blocks 10 dB under the rest
    left out, as EBU R 128 gates (without its K-weighting, which a voice track barely needs)."""
    block = max(1, int(rate * 0.4))
    n = len(samples) // block
    if n == 0:
        power = np.array([float(np.mean(np.square(samples)))]) if len(samples) else np.array([0.0])
    else:
        power = np.mean(np.square(samples[:n * block].reshape(n, block)), axis=1)
    power = power[power > 10 ** (-70 / 10)]
    if not len(power):
        return -np.inf
    power = power[power > np.mean(power) * 10 ** (-10 / 10)]
    return float(10 * np.log10(np.mean(power)))


def normalise_loudness(samples: np.ndarray, *, target_db: float = TARGET_LOUDNESS_DB,
                       ceiling_db: float = PEAK_CEILING_DB) -> tuple[np.ndarray, float]:
    """The samples at the target loudness (never clipping: the gain stops at the peak ceiling), and the
    gain applied in dB. Silence stays silence."""
    level = loudness_db(samples)
    if not np.isfinite(level):
        return samples.astype(np.float32), 0.0
    gain_db = target_db - level
    peak = float(np.max(np.abs(samples)))
    if peak > 0:
        gain_db = min(gain_db, ceiling_db - 20 * np.log10(peak))
    return (samples * 10 ** (gain_db / 20)).astype(np.float32), float(gain_db)


def wav_bytes(samples: np.ndarray, rate: int = SAMPLE_RATE) -> bytes:
    """16-bit mono PCM WAV."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())
    return buffer.getvalue()


def read_wav(fileobj) -> np.ndarray:
    """A WAV this module wrote, back as float32 samples at its rate (48 kHz)."""
    with wave.open(fileobj, "rb") as source:
        if source.getsampwidth() != 2 or source.getnchannels() != 1:
            raise AudioError(gettext("Not a studio sound file."))
        pcm = np.frombuffer(source.readframes(source.getnframes()), dtype="<i2")
        rate = source.getframerate()
    return resample(pcm.astype(np.float32) / 32768.0, rate, SAMPLE_RATE)


def _duration_words(seconds: float) -> str:
    minutes = seconds / 60
    if minutes >= 1 and minutes == int(minutes):
        return ngettext("%(n)d minute", "%(n)d minutes", int(minutes)) % {"n": int(minutes)}
    return ngettext("%(n)s second", "%(n)s seconds", int(seconds)) % {"n": f"{seconds:g}"}
