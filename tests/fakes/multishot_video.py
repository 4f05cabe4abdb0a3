"""Multi-shot videos as a provider returns them, for the strict fakes and the splitting tests.

Each shot is a picture of its own (a coarse random texture sliding sideways, a different one per
shot), with a hard cut to the next, encoded with libx264 and an AAC track, like a provider's MP4.
`offsets` puts each cut a few frames off the booked boundary, as real multi-shot models do; with
`keyframes_at_cuts` the encoder starts each shot on a keyframe of its own (as x264's scene-cut
detection does), without it the cut falls wherever the encoder's GOP happens to be.

Videos are made once per process and parameters (they take a fraction of a second at 320×180,
a few at 1080p), and handed out as bytes.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import av
import numpy as np

FPS = 24


@functools.lru_cache(maxsize=32)
def multishot_mp4(durations: tuple[float, ...], *, size: str = "320x180", offsets: tuple[int, ...] = (),
                  keyframes_at_cuts: bool = True, fps: int = FPS, gop: int = 48) -> bytes:
    """An MP4 of the shots `durations` (seconds), each cut `offsets[k]` frames after its booked place."""
    width, height = (int(v) for v in size.split("x"))
    starts, at = [], 0.0
    for seconds in durations[:-1]:
        at += seconds
        starts.append(round(at * fps))
    cuts = [start + (offsets[k] if k < len(offsets) else 0) for k, start in enumerate(starts)]
    total = round(sum(durations) * fps)
    with tempfile.TemporaryDirectory(prefix="multishot-fake-") as tmp:
        path = Path(tmp) / "group.mp4"
        _encode(path, width=width, height=height, fps=fps, total=total, cuts=cuts,
                keyframes_at_cuts=keyframes_at_cuts, gop=gop)
        return path.read_bytes()


def cut_frames(durations, *, offsets=(), fps: int = FPS) -> list[int]:
    """Where `multishot_mp4` put its cuts (the first frame of each shot after the first)."""
    frames, at = [], 0.0
    for k, seconds in enumerate(durations[:-1]):
        at += seconds
        frames.append(round(at * fps) + (offsets[k] if k < len(offsets) else 0))
    return frames


def _encode(path: Path, *, width: int, height: int, fps: int, total: int, cuts: list[int], keyframes_at_cuts: bool,
            gop: int) -> None:
    rng = np.random.default_rng(7)
    block = 8
    with av.open(str(path), "w", format="mp4") as container:
        options = {"preset": "veryfast" if keyframes_at_cuts else "ultrafast", "crf": "28"}
        video = container.add_stream("libx264", rate=fps, options=options)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.codec_context.gop_size = gop
        audio = container.add_stream("aac", rate=48000, layout="mono")
        texture, start = np.zeros((0, 0, 3), np.uint8), 0  # both set at frame 0
        for i in range(total):
            if i == 0 or i in cuts:
                texture = rng.integers(0, 255, (height // block + 1, width // block + total + 1, 3),
                                       dtype=np.uint8).repeat(block, 0).repeat(block, 1)
                start = i
            shift = (i - start) * 2
            picture = np.ascontiguousarray(texture[:height, shift:shift + width])
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = i
            if keyframes_at_cuts and i in cuts:
                frame.pict_type = av.video.frame.PictureType.I
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode(None):
            container.mux(packet)
        pcm = (0.05 * np.sin(np.arange(int(total / fps * 48000)) / 48000 * 2 * np.pi * 220)).astype(np.float32)
        for s in range(0, len(pcm), 1024):
            chunk = av.AudioFrame.from_ndarray(pcm[None, s:s + 1024], format="fltp", layout="mono")
            chunk.sample_rate, chunk.pts = 48000, s
            for packet in audio.encode(chunk):
                container.mux(packet)
        for packet in audio.encode(None):
            container.mux(packet)
