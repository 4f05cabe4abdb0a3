"""Benchmark cutting a multi-shot take into its scenes against a plain stream copy of the same file.

    .venv/bin/python bench/multishot.py [--shots 5] [--seconds 15] [--size 1920x1080] [--runs 7] [--cache DIR]

Makes once (into a cache folder) a group file like a provider's: S seconds of SHOTS hard-cut
shots at SIZE, libx264 + AAC, each cut a few frames off the booked boundary. Two files: one whose
encoder put a keyframe at each cut (as x264's scene-cut detection does: every shot is a stream
copy) and one whose cuts fall mid-GOP (every shot after the first is re-encoded).
Each run then times, on the same file:

- the split: `generation.renders.splitting.split_group` (demux once into memory, find each cut
  near its booked boundary, write one MP4 per shot), as the pipeline calls it;
- a plain PyAV stream copy of the whole file into one MP4 (what any cut costs at least), once as
  is and once with the index moved to the front (`+faststart`), as every stored take is written:
  the like-for-like reference.

Prints best and median wall times, CPU time, where each cut was found, and split ÷ copy for
the keyframe file (target ≤ 1.5 against the like-for-like copy; against the bare copy too, for
the record), plus the load average. The target reads CPU time: both take tens of milliseconds
at 1080p, which a busy box's scheduling swamps in wall time (the wall ratio is printed too).
Asserts nothing.
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CACHE_VERSION = "v1"  # bump when the fake's encoder changes
OFFSETS = (2, -3, 1, -2, 3, -1)  # frames off the booked cut, as real multi-shot models land
T = TypeVar("T")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shots", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "studio-bench-multishot")
    return parser.parse_args()


def group_file(folder: Path, durations: tuple[float, ...], size: str, *, keyframes: bool) -> Path:
    """The group file, made once per parameters and reused by later runs."""
    from tests.fakes.multishot_video import multishot_mp4

    lengths = "-".join(f"{d:g}" for d in durations)
    path = folder / f"{CACHE_VERSION}-{size}-{lengths}-{'keyframes' if keyframes else 'mid-gop'}.mp4"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        data = multishot_mp4(durations, size=size, offsets=OFFSETS[:len(durations) - 1],
                             keyframes_at_cuts=keyframes)
        path.with_suffix(".part").write_bytes(data)
        path.with_suffix(".part").rename(path)
        print(f"  made {path.name} ({len(data) / 1e6:.1f} MB) in {time.perf_counter() - started:.1f} s", flush=True)
    return path


def plain_copy(src: Path, out: Path, *, faststart: bool) -> None:
    """The reference: every packet of the file copied into a new MP4, as one would write it with PyAV.
    `faststart`: with its index at the front, as every take the studio stores is (so it plays from the
    first bytes): a second pass over the file, which the split pays for each part too."""
    import av

    options = {"movflags": "+faststart"} if faststart else {}
    with av.open(str(src)) as source, av.open(str(out), "w", format="mp4", options=options) as target:
        streams = {s.index: target.add_stream_from_template(s) for s in (*source.streams.video,
                                                                          *source.streams.audio)}
        for packet in source.demux(*[source.streams[i] for i in streams]):
            if packet.dts is None:
                continue
            packet.stream = streams[packet.stream.index]
            target.mux(packet)


def timed(action: Callable[[], T]) -> tuple[float, float, T]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = action()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def measure(name: str, runs: int, action: Callable[[], T]) -> tuple[list[float], list[float], T]:
    walls: list[float] = []
    cpus: list[float] = []
    result: Any = None
    for _ in range(runs):
        wall, cpu, result = timed(action)
        walls.append(wall)
        cpus.append(cpu)
    print(f"{name:<34} best {min(walls):7.3f} s | median {statistics.median(walls):7.3f} s | "
          f"cpu {statistics.median(cpus):6.3f} s", flush=True)
    return walls, cpus, result


def main() -> None:
    args = parse_args()
    if not 2 <= args.shots <= len(OFFSETS) + 1:
        sys.exit(f"--shots must be between 2 and {len(OFFSETS) + 1}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio_site.settings")
    from generation.renders.splitting import split_group

    durations = tuple([args.seconds / args.shots] * args.shots)
    print(f"group: {args.shots} shots of {durations[0]:g} s at {args.size}, cuts {OFFSETS[:args.shots - 1]} "
          f"frames off the booked boundaries · runs {args.runs} · load average "
          f"{' '.join(f'{v:.1f}' for v in os.getloadavg())}", flush=True)
    ratios = {}
    with tempfile.TemporaryDirectory(prefix="bench-multishot-") as tmp:
        work = Path(tmp)
        for keyframes, label in ((True, "keyframes at the cuts"), (False, "cuts mid-GOP")):
            src = group_file(args.cache, durations, args.size, keyframes=keyframes)
            out = work / "parts"

            def split(src=src, out=out):
                shutil.rmtree(out, ignore_errors=True)
                return split_group(src, durations=list(durations), out_dir=out, exact=True)

            bare_walls, bare_cpus, _ = measure(f"plain stream copy ({label})", args.runs,
                                       functools.partial(plain_copy, src, work / "copy.mp4", faststart=False))
            copy_walls, copy_cpus, _ = measure(f"plain copy, faststart ({label})", args.runs,
                                       functools.partial(plain_copy, src, work / "copy.mp4", faststart=True))
            split_walls, split_cpus, result = measure(f"split into {args.shots} takes ({label})", args.runs, split)
            copied = sum(part.copied for part in result.parts)
            found = ", ".join(f"{b.booked:.3f}→{b.seconds:.3f} s by {b.found_by}" for b in result.boundaries)
            print(f"  cuts: {found}")
            print(f"  parts: {copied} of {len(result.parts)} stream-copied, "
                  f"{len(result.parts) - copied} re-encoded")
            med = statistics.median
            ratios[label] = med(split_cpus) / med(copy_cpus)
            print(f"  split ÷ plain copy, CPU: {med(split_cpus) / med(bare_cpus):.2f} · ÷ plain copy with "
                  f"faststart (like for like): {ratios[label]:.2f} · wall, like for like: "
                  f"{med(split_walls) / med(copy_walls):.2f}", flush=True)
    ratio = ratios["keyframes at the cuts"]
    print(f"split ÷ plain stream copy (like for like, CPU), keyframes at the cuts: {ratio:.2f}  target ≤ 1.5: "
          f"{'met' if ratio <= 1.5 else 'MISSED'}")


if __name__ == "__main__":
    main()
