"""Benchmark the activity page as a project's history grows: server CPU must stay flat.

    .venv/bin/python bench/activity.py [--scenes 1000] [--histories 1000 10000 50000] [--runs 7]

In a throwaway DATA_DIR and SQLite database (or, with a PostgreSQL DATABASE_URL, a throwaway
`bench_…` database on that server: the role needs CREATEDB) it builds the project tests/realistic.py describes
(`--scenes` scenes × 5 takes, comments, cast, approvals), then grows its feed to each size of
`--histories` in turn (tests/realistic.py `add_history`: each take's start and finish, three
comments, decisions and edits, a minute apart, older than what is there). At each size it asks,
with Django's test Client as an editor:

- the newest page's query alone (rows fetched, no page drawn);
- the page (the newest entries), and filtered to comments, to one scene, and by a scene search;
- "Older activity" from the middle of the history (htmx), where the page offers it.

For each it prints the queries, the median server CPU (`time.thread_time` around the request:
robust to a busy box) and wall time of `--runs` requests after one warm-up, the HTML size, and
the ratio of the largest history's CPU to the smallest's. Target: flat, ≤ 1.5.
Asserts nothing.
"""

from __future__ import annotations

import argparse
import atexit
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import database  # noqa: E402 (needs ROOT on sys.path first)

TARGET_RATIO = 1.5


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenes", type=int, default=1000)
    parser.add_argument("--histories", type=int, nargs="+", default=[1000, 10000, 50000],
                        help="feed entries the project holds at each measurement, in increasing order")
    parser.add_argument("--runs", type=int, default=7)
    return parser.parse_args()


def setup_django(tmp: Path) -> str:
    """Settings and a migrated throwaway database; returns which database it is."""
    given = os.environ.get("DATABASE_URL", "")
    url, which = f"sqlite:///{tmp / 'bench.sqlite3'}", "SQLite (throwaway file)"
    if given.startswith(("postgres", "postgis")):
        url, drop = database.throwaway_postgres(given)
        atexit.register(drop)
        which = f"PostgreSQL (throwaway database on {urlsplit(given).hostname})"
    database.setup_in_process(tmp, url)
    return which


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
    cpu, wall = [], []
    for _ in range(runs):
        started_cpu, started = time.thread_time(), time.perf_counter()
        client.get(url, **headers)
        cpu.append((time.thread_time() - started_cpu) * 1000)
        wall.append((time.perf_counter() - started) * 1000)
    return {"queries": len(captured), "cpu": statistics.median(cpu), "wall": statistics.median(wall),
            "bytes": len(response.content), "html": response.content.decode()}


def bare_query(project, runs: int) -> dict:
    """The newest page's query alone, rows fetched (the database's share of the page)."""
    from projects import selectors

    if hasattr(selectors, "activity_page"):
        def fetch():
            return selectors.activity_page(project=project).entries
    else:  # a tree from before keyset pages
        def fetch():
            return list(selectors.activity_for(project=project)[:200])
    fetch()
    cpu, wall = [], []
    for _ in range(runs):
        started_cpu, started = time.thread_time(), time.perf_counter()
        rows = fetch()
        cpu.append((time.thread_time() - started_cpu) * 1000)
        wall.append((time.perf_counter() - started) * 1000)
    return {"queries": 1, "cpu": statistics.median(cpu), "wall": statistics.median(wall), "bytes": 0,
            "rows": len(rows)}


def pages(client, project, scene, runs: int, middle_cursor: str | None) -> dict[str, dict]:
    from django.urls import reverse

    url = reverse("projects:project_activity", args=[project.pk])
    measured = {
        "the newest page's query alone": bare_query(project, runs),
        "feed": measure(client, url, runs),
        "feed, comments": measure(client, f"{url}?kind=comments", runs),
        "feed, one scene": measure(client, f"{url}?scene={scene.pk}", runs),
        "feed, scene search": measure(client, f"{url}?scene_q={scene.number}", runs),
    }
    if middle_cursor:
        measured["older, from the middle (htmx)"] = measure(client, f"{url}?before={middle_cursor}", runs,
                                                            HTTP_HX_REQUEST="true")
    return measured


def cursor_at(project, index: int) -> str | None:
    """The page's cursor for the entry `index` from the newest, if the page speaks in cursors."""
    from projects.models import Activity

    try:
        from projects.selectors.review import ActivityCursor
    except ImportError:  # a tree from before keyset pages
        return None
    row = Activity.objects.filter(project=project).order_by("-at", "-pk").values_list("at", "pk")[index]
    return ActivityCursor(*row).token


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="studio-bench-activity-") as tmp:
        which = setup_django(Path(tmp))
        from django.test import Client

        from tests.realistic import add_history, build_project

        started = time.perf_counter()
        built = build_project(scenes=args.scenes)
        print(f"built {args.scenes} scenes × 5 takes in {time.perf_counter() - started:.1f} s", flush=True)
        client = Client()
        client.force_login(built.editor)
        scene = built.scenes[len(built.scenes) // 2]
        results: dict[int, dict[str, dict]] = {}
        for size in args.histories:
            have = built.project.activity.count()
            if size > have:
                add_history(built, entries=size - have)
            results[size] = pages(client, built.project, scene, args.runs, cursor_at(built.project, size // 2))
            print(f"measured at {built.project.activity.count()} feed entries", flush=True)

        small, large = min(args.histories), max(args.histories)
        print(f"\nload average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {which}; {args.scenes} scenes; "
              f"median of {args.runs} requests; CPU = this process's thread CPU (time.thread_time: with "
              f"PostgreSQL the query's own work is in the server, seen in wall time)")
        print(f"{'page':<32}" + "".join(f"{f'{n} entries: q  CPU ms  wall ms  KB':>40}" for n in args.histories)
              + f"{f'CPU {large} ÷ {small}':>16}")
        for page in results[small]:
            row = f"{page:<32}"
            for n in args.histories:
                r = results[n].get(page)
                row += (f"{r['queries']:>20}{r['cpu']:>8.1f}{r['wall']:>8.1f}{r['bytes'] / 1024:>4.0f}" if r
                        else f"{'n/a':>40}")
            a, b = results[small][page], results[large].get(page)
            row += f"{b['cpu'] / a['cpu']:>16.2f}" if b else f"{'n/a':>16}"
            print(row)
        ratio = results[large]["feed"]["cpu"] / results[small]["feed"]["cpu"]
        print(f"\nfeed CPU at {large} ÷ at {small} entries: {ratio:.2f}  target ≤ {TARGET_RATIO} (flat): "
              f"{'met' if ratio <= TARGET_RATIO else 'MISSED'}")


if __name__ == "__main__":
    main()
