"""Benchmark the local previz renderer against a plain PyAV encode.

    .venv/bin/python bench/previz.py [--runs 3] [--seconds 8]

Renders an 8 s 1280x720 animatic (video + audio bed) and, as references, encodes the
same number of frames (192 at 8 s) of one precomputed frame with plain PyAV (from_ndarray, same
x264 settings, no audio), fed as rgb24 and as yuv420p.  Prints wall time, CPU time and multiple of real time; asserts nothing.
The machine's load average is printed too: other processes skew wall times.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import av  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from generation.previz.animatic import probe_video, render_animatic  # noqa: E402

WIDTH, HEIGHT, SECONDS, FPS = 1280, 720, 8, 24
X264 = {"preset": "ultrafast", "qp": "23"}  # the renderer's settings


def timed(fn) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def photo(width: int, height: int, seed: int) -> Image.Image:
    """A photo-like stand-in (noise over gradients): as costly to fit and encode as a real one."""
    rng = np.random.default_rng(seed)
    y = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    x = np.linspace(0, 1, width, dtype=np.float32)[None, :, None]
    base = 255 * (0.3 + 0.5 * x * y) * np.array([0.9, 0.7, 0.5], np.float32)
    return Image.fromarray(np.clip(base + rng.normal(0, 18, (height, width, 3)), 0, 255).astype(np.uint8))


def render(out: Path, *, seconds: int, scene: bool = False) -> None:
    """`scene`: the full previz of a scene with a reference image, two cast portraits and
    four lines of dialogue as subtitles, one in Japanese (drawn with the CJK fallback font)."""
    dialogue = ("\nKEEPER: Storm’s coming — light the lamp.\nMARÍA: “Already lit.”\n"
                "KEEPER: Then we wait.\nYUKI: 灯台の写真を撮ろう。") if scene else ""
    render_animatic(
        out_path=out, width=WIDTH, height=HEIGHT, seconds=seconds, fps=FPS, scene_number=3,
        title="The Lighthouse Keeper",
        prompt="A weathered lighthouse keeper climbs the spiral stairs at dusk, lantern in "
               "hand, as a storm rolls in over the cliffs and gulls wheel around the tower." + dialogue,
        camera_notes="Slow push-in, low angle, 35mm",
        background=photo(WIDTH, HEIGHT, 1) if scene else None,
        cast=[("Keeper", photo(300, 400, 2)), ("María", photo(300, 400, 3))] if scene else (),
    )


def plain_encode(out: Path, *, seconds: int, fmt: str = "rgb24") -> None:
    """192 frames of one precomputed gradient, fed with from_ndarray as rgb24 (PyAV
    converts every frame) or as ready-made yuv420p (the bare x264 cost)."""
    y = np.linspace(40, 200, HEIGHT, dtype=np.float32)[:, None, None]
    x = np.linspace(0, 1, WIDTH, dtype=np.float32)[None, :, None]
    rgb = (y * (0.6 + 0.4 * x) * np.array([1.0, 0.8, 0.6], np.float32)).astype(np.uint8)
    pixels = rgb if fmt == "rgb24" else av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(
        format="yuv420p").to_ndarray()
    with av.open(str(out), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=FPS, options=X264)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.thread_type = "AUTO"
        for i in range(seconds * FPS):
            frame = av.VideoFrame.from_ndarray(pixels, format=fmt)
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def report(label: str, runs: list[tuple[float, float]], seconds: int) -> None:
    walls = [wall for wall, _ in runs]
    best, median = min(walls), statistics.median(walls)
    cpu = statistics.median(c for _, c in runs)
    print(f"{label:<48} best {best:6.3f} s = {seconds / best:5.1f}x real time | "
          f"median {median:6.3f} s = {seconds / median:5.1f}x | cpu {cpu:5.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=SECONDS, help="length of each clip")
    args = parser.parse_args()
    seconds = args.seconds

    print(f"{seconds} s {WIDTH}x{HEIGHT} @ {FPS} fps = {seconds * FPS} frames; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; PyAV {av.__version__}")
    with tempfile.TemporaryDirectory() as tmp:
        animatic, reference = Path(tmp) / "animatic.mp4", Path(tmp) / "plain.mp4"
        cases = {
            "render_animatic (video + AAC bed)": lambda: render(animatic, seconds=seconds),
            "render_animatic, scene: image + cast + subtitles": lambda: render(animatic, seconds=seconds, scene=True),
            "plain PyAV, constant rgb24 frame (video only)": lambda: plain_encode(reference, seconds=seconds),
            "plain PyAV, constant yuv420p frame (video only)":
                lambda: plain_encode(reference, seconds=seconds, fmt="yuv420p"),
        }
        render(animatic, seconds=seconds)  # warm-up: first-call font loading, page faults
        results: dict[str, list[tuple[float, float]]] = {label: [] for label in cases}
        for _ in range(args.runs):  # interleaved, so a burst of load hits every case alike
            for label, case in cases.items():
                results[label].append(timed(case))
        for label, runs in results.items():
            report(label, runs, seconds)
        info = probe_video(animatic)
        print(f"output: {info.width}x{info.height} {info.video_codec}/{info.pix_fmt} "
              f"{info.fps:g} fps {info.duration:g} s, audio {info.audio_codec} "
              f"{info.audio_sample_rate} Hz, {animatic.stat().st_size / 1024:.0f} KiB")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
