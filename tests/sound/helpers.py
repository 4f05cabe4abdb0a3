"""Sound files made for the tests: real encodes by PyAV, and a few that lie."""

from __future__ import annotations

import io

import av
import numpy as np
from django.core.files.uploadedfile import SimpleUploadedFile

RATE = 48_000


def tone(seconds: float, *, freq: float = 220.0, amplitude: float = 0.3, rate: int = RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def encoded(samples: np.ndarray, *, fmt: str, codec: str, rate: int = RATE) -> bytes:
    """`samples` (mono float) encoded by PyAV into container `fmt` with `codec`."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=rate, layout="mono")
        assert isinstance(stream, av.audio.stream.AudioStream)
        formats = stream.codec_context.codec.audio_formats
        assert formats, f"{codec} encodes no audio"
        sample_format = formats[0].name
        chunk = stream.codec_context.frame_size or 1024
        for start in range(0, len(samples), chunk):
            frame = av.AudioFrame.from_ndarray(samples[None, start:start + chunk].astype(np.float32), format="flt",
                                               layout="mono")
            frame.sample_rate, frame.pts = rate, start
            frame = av.AudioResampler(format=sample_format, layout="mono", rate=rate).resample(frame)[0]
            frame.pts = start
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()


def wav(samples: np.ndarray, rate: int = RATE) -> bytes:
    from generation.sound.audio import wav_bytes

    return wav_bytes(samples, rate)


def lying_flac(claimed_seconds: float, *, real_seconds: float = 1.0, rate: int = RATE) -> bytes:
    """A real FLAC of `real_seconds` whose STREAMINFO claims `claimed_seconds` (a header readers trust)."""
    data = bytearray(encoded(tone(real_seconds), fmt="flac", codec="flac", rate=rate))
    assert data[:4] == b"fLaC"
    at = 4 + 4 + 10  # "fLaC", the block header, then min/max block and frame sizes
    packed = int.from_bytes(data[at:at + 8], "big")
    packed = (packed & ~((1 << 36) - 1)) | int(claimed_seconds * rate)
    data[at:at + 8] = packed.to_bytes(8, "big")
    return bytes(data)


def upload(data: bytes, name: str = "take.wav", content_type: str = "audio/wav") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def band_energy(samples: np.ndarray, *, low: float = 300.0, high: float = 3400.0, rate: int = RATE) -> float:
    """Mean power of `samples` in the speech band [low, high] Hz."""
    if not len(samples):
        return 0.0
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples)))) ** 2
    freqs = np.fft.rfftfreq(len(samples), 1 / rate)
    return float(spectrum[(freqs >= low) & (freqs <= high)].sum() / len(samples))


def soundtrack(take) -> np.ndarray:
    """A take's sound, decoded to mono at the studio's rate."""
    with take.video.open("rb") as fh, av.open(fh) as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
        parts = [out.to_ndarray()[0] for frame in container.decode(audio=0) for out in resampler.resample(frame)]
    return np.concatenate(parts)


def window(samples: np.ndarray, start: float, end: float) -> np.ndarray:
    return samples[int(start * RATE):int(end * RATE)]
