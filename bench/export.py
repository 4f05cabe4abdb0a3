"""Benchmark exporting an approved cut against a plain PyAV remux of the same clips.

    .venv/bin/python bench/export.py [--clips 20] [--seconds 8] [--runs 3] [--cache DIR]

Renders N previz takes of S seconds at 1280x720 once (signed and thumbnailed like real
previz takes) into a cache folder, then, in a throwaway DATA_DIR and SQLite database,
books a project whose N scenes each have one of them approved. Each run then times:

- the export: `generation.exports.services.export_run` called inline (no broker), i.e. plan, stitch,
  C2PA signing with N ingredients, ZIP, PDF and storing the three files, with the parts
  as the export records them in its summary (ingredients = adding each take's ingredient
  archive, which the approval prepared, sign = embedding the manifest into the cut;
  package = waiting for the ZIP and PDF, written on a second thread meanwhile);
- a plain PyAV remux of the same N files into one MP4 (stream copy, timestamps offset).

Prints best and median wall times and export ÷ remux (target ≤ 1.3), plus the load
average: other processes on the box skew wall times. Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import database  # noqa: E402 (needs ROOT on sys.path first)

WIDTH, HEIGHT = 1280, 720
CACHE_VERSION = "v1"  # bump when the renderer's output changes
ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/algorithmicMedia"  # as previz takes


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "studio-bench-export")
    return parser.parse_args()


def render_clips(folder: Path, count: int, seconds: int) -> list[tuple[Path, Path]]:
    """(video, thumbnail) per clip, rendered once and reused by later runs."""
    from generation.previz import animatic
    from generation.provenance import credentials as provenance

    folder = folder / f"{CACHE_VERSION}-{WIDTH}x{HEIGHT}-{seconds}s"
    folder.mkdir(parents=True, exist_ok=True)
    identity = provenance.ensure_local_identity(folder / "c2pa")
    clips = []
    for i in range(count):
        video, thumb = folder / f"clip-{i + 1:02d}.mp4", folder / f"clip-{i + 1:02d}.jpg"
        if not (video.exists() and thumb.exists()):
            raw = folder / f"raw-{i + 1:02d}.mp4"
            title = f"Shot {i + 1}"
            animatic.render_animatic(
                out_path=raw, width=WIDTH, height=HEIGHT, seconds=seconds, title=title, scene_number=i + 1,
                prompt=f"Shot {i + 1}: a harbour at dawn, mist on the water, gulls wheel over the masts.",
                camera_notes="slow push-in")
            provenance.sign_mp4(src=raw, dst=video, identity=identity, title=title,
                                claim_generator="Storyboard Studio/bench", digital_source_type=ALGORITHMIC_MEDIA,
                                recipe={"bench": True, "shot": i + 1})
            raw.unlink()
            animatic.extract_thumbnail(video, thumb, exact=False)
            print(f"  rendered {video.name}", flush=True)
        clips.append((video, thumb))
    return clips


def plain_remux(paths: list[Path], out: Path) -> None:
    """The reference: concatenate by stream copy, the way one would write it with PyAV."""
    import av

    with av.open(str(out), "w", format="mp4") as container:
        with av.open(str(paths[0])) as first:
            v_out = container.add_stream_from_template(first.streams.video[0])
            a_out = container.add_stream_from_template(first.streams.audio[0])
        v_offset = a_offset = 0
        for path in paths:
            with av.open(str(path)) as src:
                video, audio = src.streams.video[0], src.streams.audio[0]
                for packet in src.demux(video, audio):
                    if packet.dts is None or packet.pts is None:  # the demuxer's closing empty packets
                        continue
                    if packet.stream.index == video.index:
                        packet.pts += v_offset
                        packet.dts += v_offset
                        packet.stream = v_out
                    else:
                        if packet.pts < 0 and a_offset:  # the AAC priming packet of later clips
                            continue
                        packet.pts += a_offset
                        packet.dts += a_offset
                        packet.stream = a_out
                    container.mux(packet)
                v_offset += video.duration or 0
                a_offset += audio.duration or 0


def setup_django(tmp: Path) -> None:
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "studio_site.settings",
        "DATA_DIR": str(tmp / "data"),
        "MEDIA_ROOT": str(tmp / "media"),
        "C2PA_DIR": str(tmp / "c2pa"),
        "DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
    })
    database.migrate()
    import django

    django.setup()


def book_project(clips: list[tuple[Path, Path]], seconds: int):
    """A project whose every scene has one approved, finished take (the cached clips)."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from generation.models import Render, Status
    from generation.provenance.credentials import read_provenance
    from projects.review import services as review
    from projects.storyboard import services as projects
    from projects.teams import services as team_services

    user = get_user_model().objects.create_user("bench", "bench@example.com", None)
    team = team_services.team_create(name="Bench Pictures", owner=user)
    project = projects.project_create(team=team, user=user, name="Export bench")
    media = Path(settings.MEDIA_ROOT)
    for i, (video, thumb) in enumerate(clips):
        scene = projects.scene_create(
            project=project, user=user, title=f"Shot {i + 1}", duration=seconds, size=f"{WIDTH}x{HEIGHT}",
            prompt=f"Shot {i + 1}: a harbour at dawn, mist on the water, gulls wheel over the masts.",
            camera_notes="slow push-in")
        folder = media / "renders" / "bench" / f"{i + 1:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(video, folder / "video.mp4")
        shutil.copy(thumb, folder / "thumbnail.jpg")
        report = read_provenance(folder / "video.mp4")
        take = Render.objects.create(
            scene=scene, number=1, provider="local", model="previz-animatic-1", status=Status.SUCCEEDED, progress=100,
            recipe={"prompt": scene.prompt, "parameters": {"seconds": seconds, "size": scene.size}},
            video=str((folder / "video.mp4").relative_to(media)),
            thumbnail=str((folder / "thumbnail.jpg").relative_to(media)),
            duration_seconds=seconds, c2pa_state=report.state, c2pa_codes=report.codes,
            c2pa_summary={"signer": report.signer, "verdict": report.verdict}, created_by=user,
            finished_at=timezone.now())
        review.take_approve(take=take, user=user)
    return project, user


def main() -> None:
    args = parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-export-"))
    try:
        print(f"clips: {args.clips} × {args.seconds} s at {WIDTH}x{HEIGHT} (cache {args.cache})", flush=True)
        clips = render_clips(args.cache, args.clips, args.seconds)
        setup_django(tmp)

        from generation.exports.services import export_run
        from generation.models import Export, ExportStatus

        project, user = book_project(clips, args.seconds)
        # What the worker does after each approval (generation.tasks.prepare_ingredient):
        # read the take's manifest once, so exports don't. Off the export's clock, as in use.
        from generation.provenance import ingredients

        started = time.perf_counter()
        for scene in project.scenes.all():
            ingredients.prepare(scene.approved_take_id)
        print(f"ingredients prepared at approval: {time.perf_counter() - started:.3f} s for {args.clips} takes",
              flush=True)
        paths = [Path(t.video.path) for t in
                 (s.approved_take for s in project.scenes.select_related("approved_take").order_by("position"))]
        size = sum(p.stat().st_size for p in paths)
        print(f"{len(paths)} approved takes, {size / 1e6:.1f} MB; load average {os.getloadavg()[0]:.2f}",
              flush=True)

        exports, remuxes, parts = [], [], []
        for run in range(args.runs + 1):  # run 0 warms up imports, fonts and caches
            started = time.perf_counter()
            plain_remux(paths, tmp / "plain.mp4")
            remux = time.perf_counter() - started

            export = Export.objects.create(project=project, created_by=user)
            started = time.perf_counter()
            export_run(export.pk)
            elapsed = time.perf_counter() - started
            export.refresh_from_db()
            if export.status != ExportStatus.SUCCEEDED:
                raise SystemExit(f"export failed: {export.error_message}")
            timings = export.summary["timings"]
            part = {**timings, "other": elapsed - sum(timings.values())}  # plan, database, storing
            overlapped = export.summary.get("package_timings", {})
            label = "warm-up" if run == 0 else f"run {run}"
            print(f"{label}: export {elapsed:.3f} s ({export.summary['method']}) · plain remux {remux:.3f} s"
                  f" · ratio {elapsed / remux:.2f}\n    "
                  + ", ".join(f"{k} {v:.3f}" for k, v in part.items())
                  + (" · beside the signing: " + ", ".join(f"{k} {v:.3f}" for k, v in overlapped.items())
                     if overlapped else ""), flush=True)
            if run:
                exports.append(elapsed)
                remuxes.append(remux)
                parts.append(part)

        print()
        print(f"export:      best {min(exports):.3f} s, median {statistics.median(exports):.3f} s")
        print(f"plain remux: best {min(remuxes):.3f} s, median {statistics.median(remuxes):.3f} s")
        print("parts (median s): " + ", ".join(
            f"{key} {statistics.median(p[key] for p in parts):.3f}" for key in parts[0])
)
        print(f"export ÷ plain remux: {statistics.median(exports) / statistics.median(remuxes):.2f} "
              f"(medians), {min(exports) / min(remuxes):.2f} (bests); target ≤ 1.3")
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    finally:
        if "django.db" in sys.modules and os.environ.get("DJANGO_SETTINGS_MODULE"):
            from django.db import connections

            connections.close_all()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
