"""Benchmark the board, its pages and the pages that list every scene at 10, 200 and 1,000 scenes × 5 takes.

    .venv/bin/python bench/board.py [--sizes 10 200 1000] [--runs 7]

In a throwaway DATA_DIR and SQLite database it builds, per size, the project
tests/realistic.py describes (retakes with lineage, 3 comments per take incl. a reply,
a cast of 2 with consent, half the scenes approved, one take still rendering), then
asks with Django's test Client, logged in as an editor:

- the board page (`/projects/<pk>/`: its first page of frames), the next page of frames as the list's
  scrolling asks for it, and the list filtered by status and by one of the project's own fields,
- the side panel of a scene with 5 takes as htmx asks for it, and loaded as a page,
- "Render scenes" (every scene) and its plan partial, Play all (the cut) with what it asks for once loaded
  (its sound's state, and one stop's details: a card's lines), the exports page and the project's spend page.

For each it prints the queries, the median server CPU time of `--runs` requests (after one warm-up;
`time.thread_time`: this thread only, robust to a busy box) and the HTML bytes; then the ratio of each
figure at the largest size to the smallest. Targets: the board ≤ 300 KB and its CPU
1,000 ÷ 10 ≤ 2; Render scenes, Play all, exports and spend CPU 1,000 ÷ 10 ≤ 3. Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import database  # noqa: E402 (needs ROOT on sys.path first)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 200, 1000])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--only", default="", help="measure only the pages whose name holds this (e.g. 'play all')")
    return parser.parse_args()


def setup_django(tmp: Path) -> None:
    database.setup_in_process(tmp, f"sqlite:///{tmp / 'bench.sqlite3'}")


def measure(client, url: str, runs: int, **headers) -> dict:
    from django.db import connection

    response = client.get(url, **headers)  # warm-up
    assert response.status_code == 200, (url, response.status_code)
    captured = []

    def count(execute, sql, params, many, context):
        captured.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        response = client.get(url, **headers)
    times = []
    for _ in range(runs):
        start = time.thread_time()
        client.get(url, **headers)
        times.append((time.thread_time() - start) * 1000)
    return {"queries": len(captured), "ms": statistics.median(times), "bytes": len(response.content)}


def mix_made(project) -> None:
    """Play all's mix as a worker leaves it (ready, its captions kept), without speaking 3,000 lines: the
    captions page then reads the mix's cues, as it does once the sound is there."""
    from projects.models import PlayAllMix, SoundStatus
    from projects.review import playall
    from projects.selectors import cut_sequence_for

    mix, inputs = playall.play_all_mix_request(project=project, entries=cut_sequence_for(project=project).timings)
    cues = playall.recipe_cues(playall.recipe_from(inputs))
    PlayAllMix.objects.filter(pk=mix.pk).update(status=SoundStatus.READY, cues=cues,
                                                captions=playall.captions_vtt(cues))


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="studio-bench-board-") as tmp:
        setup_django(Path(tmp))
        from django.test import Client
        from django.urls import reverse

        from tests.realistic import build_project

        results: dict[int, dict[str, dict]] = {}
        for size in args.sizes:
            start = time.perf_counter()
            built = build_project(scenes=size)
            print(f"built {size} scenes × 5 takes in {time.perf_counter() - start:.1f} s", flush=True)
            client = Client()
            client.force_login(built.editor)
            pk, scene = built.project.pk, built.scenes[1].pk
            batch = reverse("generation:batch_render", args=[pk]) + "?scope=all"
            frames = reverse("projects:board_page", args=[pk])
            hx = {"HTTP_HX_REQUEST": "true"}
            pages = {
                "board": (reverse("projects:project_detail", args=[pk]), {}),
                "next frames (htmx)": (frames + f"?after={min(size - 1, 23)}", hx),
                "filter status (htmx)": (frames + "?status=approved", hx),
                # A third of the scenes are Wide shots (tests/realistic.py fills the project's own fields).
                "filter field (htmx)": (frames + "?shot_type=Wide", hx),
                "panel (htmx)": (reverse("projects:scene_panel", args=[pk, scene]), hx),
                "panel page": (reverse("projects:scene_panel", args=[pk, scene]), {}),
                "render scenes": (batch, {}),
                "render plan (htmx)": (batch, hx),
                "play all": (reverse("projects:project_cut", args=[pk]), {}),
                # What Play all asks for once loaded: its sound's state, and a stop's details as it comes up.
                "play all sound (htmx)": (reverse("projects:project_cut_sound_state", args=[pk]), hx),
                # The whole board's captions, read once the mix is made (the sound's state asked for it).
                "play all captions": (reverse("projects:project_cut_captions", args=[pk]), {}),
                "play all stop": (reverse("projects:project_cut_stop", args=[pk, built.scenes[size // 2].pk]), {}),
                "exports": (reverse("generation:export_list", args=[pk]), {}),
                "spend": (reverse("generation:project_spend", args=[pk]), {}),
            }
            results[size] = {}
            for name, (url, headers) in pages.items():
                if args.only not in name:
                    continue
                if name == "play all captions":
                    mix_made(built.project)
                results[size][name] = measure(client, url, args.runs, **headers)
        small, large = min(args.sizes), max(args.sizes)
        print(f"\nload average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(f"{'page':<22}" + "".join(f"{f'N={n}: queries  cpu ms  KB':>30}" for n in args.sizes)
              + f"{f'ratio {large}/{small}: q  cpu  KB':>30}")
        for page in results[small]:
            row = f"{page:<22}"
            for n in args.sizes:
                r = results[n][page]
                row += f"{r['queries']:>18}{r['ms']:>6.0f}{r['bytes'] / 1024:>6.0f}"
            a, b = results[small][page], results[large][page]
            row += f"{b['queries'] / a['queries']:>18.2f}{b['ms'] / a['ms']:>6.2f}{b['bytes'] / a['bytes']:>6.1f}"
            print(row)
        if "board" not in results[large]:
            return
        board = results[large]["board"]
        cpu = board["ms"] / results[small]["board"]["ms"]
        print(f"\nboard at {large} scenes: {board['bytes'] / 1024:.0f} KB, CPU {large}/{small} {cpu:.2f}  "
              f"target ≤ 300 KB and ≤ 2: {'met' if board['bytes'] <= 300 * 1024 and cpu <= 2 else 'MISSED'}")
        print("targets: queries equal and ≤ 29; Render scenes, Play all, exports, spend CPU "
              f"{large}/{small} ≤ 3")


if __name__ == "__main__":
    main()
