"""Benchmark the board and the side panel at 10 and at 200 scenes × 5 takes.

    .venv/bin/python bench/board.py [--sizes 10 200] [--runs 7]

In a throwaway DATA_DIR and SQLite database it builds, per size, the project
tests/realistic.py describes (retakes with lineage, 3 comments per take incl. a reply,
a cast of 2 with consent, half the scenes approved, one take still rendering), then
asks with Django's test Client, logged in as an editor:

- the board page (`/projects/<pk>/`),
- the side panel of a scene with 5 takes as htmx asks for it, and loaded as a page,
- "Render scenes" (every scene) and its plan partial.

For each it prints the queries, the median server time of `--runs` requests (after one
warm-up) and the HTML bytes; for the largest size, the ratio of each to the smallest.
Targets: queries identical at every size and ≤ 25; board HTML ≤ 300 KB at
200 scenes; server time 200 ÷ 10 ≤ 3. Asserts nothing.
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
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 200])
    parser.add_argument("--runs", type=int, default=7)
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
        start = time.perf_counter()
        client.get(url, **headers)
        times.append((time.perf_counter() - start) * 1000)
    return {"queries": len(captured), "ms": statistics.median(times), "bytes": len(response.content)}


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
            results[size] = {
                "board": measure(client, reverse("projects:project_detail", args=[pk]), args.runs),
                "panel (htmx)": measure(client, reverse("projects:scene_panel", args=[pk, scene]), args.runs,
                                        HTTP_HX_REQUEST="true"),
                "panel page": measure(client, reverse("projects:scene_panel", args=[pk, scene]), args.runs),
                "render scenes": measure(client, batch, args.runs),
                "render plan (htmx)": measure(client, batch, args.runs, HTTP_HX_REQUEST="true"),
            }
        small, large = min(args.sizes), max(args.sizes)
        print(f"\nload average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(f"{'page':<20}" + "".join(f"{f'N={n}: queries  ms  KB':>30}" for n in args.sizes)
              + f"{f'ratio {large}/{small}: q  ms  KB':>30}")
        for page in results[small]:
            row = f"{page:<20}"
            for n in args.sizes:
                r = results[n][page]
                row += f"{r['queries']:>18}{r['ms']:>6.0f}{r['bytes'] / 1024:>6.0f}"
            a, b = results[small][page], results[large][page]
            row += f"{b['queries'] / a['queries']:>18.2f}{b['ms'] / a['ms']:>6.2f}{b['bytes'] / a['bytes']:>6.1f}"
            print(row)
        print("\ntargets: queries equal and ≤ 25; board ≤ 300 KB at 200 scenes; server time 200/10 ≤ 3")


if __name__ == "__main__":
    main()
