"""Benchmark the live channel: N pages open on one project, M takes change, how fast each page hears.

    .venv/bin/python bench/live.py [--clients 200] [--changes 50] [--idle-seconds 60] [--web-workers 2]

In a throwaway DATA_DIR and SQLite database (or the DATABASE_URL / CELERY_BROKER_URL of
the environment: with a redis:// broker the web processes are woken by Redis pub/sub),
it books a project with M running takes, starts the studio's production server
(uvicorn, --web-workers processes) and opens N Server-Sent Event streams on the board
(`/projects/<pk>/events/`), each as a logged-in member, as N browser tabs would. Then,
from this process, as a worker would, it moves each take's progress once (M changes,
20 ms apart) and records when each page received each change.

Prints the p50 / p95 / max delivery latency over every (page, change) pair, how many
were lost, and — after --idle-seconds with nothing changing — the HTTP requests the idle
pages made per minute (an idle page keeps its one stream open: keep-alive comments on it
are not requests). Targets (issue #11 §3): p95 ≤ 1 s; idle ≤ 2 requests per minute per page.
Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import database  # noqa: E402 (needs ROOT on sys.path first)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--changes", type=int, default=50)
    parser.add_argument("--idle-seconds", type=float, default=60)
    parser.add_argument("--web-workers", type=int, default=2)
    return parser.parse_args()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def setup_django(tmp: Path) -> dict:
    env = {
        "DJANGO_SETTINGS_MODULE": "studio_site.settings",
        "DATA_DIR": str(tmp / "data"),
        "MEDIA_ROOT": str(tmp / "media"),
        "C2PA_DIR": str(tmp / "c2pa"),
        "DATABASE_URL": os.environ.get("DATABASE_URL") or f"sqlite:///{tmp / 'bench.sqlite3'}",
        "LOG_LEVEL": "WARNING",
        "DEBUG": "false",
        "SECURE_COOKIES": "false",
    }
    os.environ.update(env)
    database.migrate()
    import django

    django.setup()
    return env


def book(changes: int):
    """A team, an editor, a project with one running take per scene; the editor's session cookie."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from generation.models import Render, Status
    from projects.models import Membership, Role
    from projects.storyboard import services

    owner = get_user_model().objects.create_user("bench-owner", password="x" * 20)
    team = services.team_create(name="Bench", owner=owner)
    editor = get_user_model().objects.create_user("bench-editor", password="x" * 20)
    Membership.objects.create(team=team, user=editor, role=Role.EDITOR)
    project = services.project_create(team=team, user=owner, name="Live bench")
    local = team.connections.get(kind="local")
    takes = []
    for i in range(changes):
        scene = services.scene_create(project=project, user=owner, title=f"Scene {i + 1}",
                                      prompt="A harbour at dawn.", duration=4, size="1280x720")
        takes.append(Render.objects.create(
            scene=scene, number=1, connection=local, provider="local", model="previz-animatic-1",
            recipe={"parameters": {"seconds": 4, "size": "1280x720"}}, status=Status.RUNNING, progress=5,
            created_by=owner))
    client = Client()
    client.force_login(editor)
    return project, takes, client.cookies[settings.SESSION_COOKIE_NAME].value


EVENT_ID = re.compile(rb"(?:^|\n)id: (\d+)\n")


class Page:
    """One open tab: its stream, and when each change reached it."""

    def __init__(self):
        self.received: dict[int, float] = {}
        self.connected = asyncio.Event()

    async def run(self, http, url: str, stop: asyncio.Event):
        # Bytes, not lines: 200 pages' parsing shares the two cores with the server under test.
        async with http.stream("GET", url, headers={"Accept": "text/event-stream"}) as response:
            self.connected.set()
            tail = b""
            async for chunk in response.aiter_raw():
                now = time.monotonic()
                data = tail + chunk
                for match in EVENT_ID.finditer(data):
                    self.received.setdefault(int(match.group(1)), now)
                tail = data[-32:]  # an id cut in two by the chunking is found next time
                if stop.is_set():
                    return


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else float("nan")


async def drive(args, base: str, cookie: str, project, takes) -> None:
    import httpx
    from asgiref.sync import sync_to_async

    from generation.models import Status
    from projects.live.stream import cursor_now
    from projects.models import ChangeEvent

    stop = asyncio.Event()
    limits = httpx.Limits(max_connections=args.clients + 10, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base, cookies={"sessionid": cookie}, limits=limits,
                                 timeout=httpx.Timeout(30, read=None)) as http:
        pages = [Page() for _ in range(args.clients)]
        # Each page asks from the cursor it was drawn at, as the board's own stream element does.
        cursor = await sync_to_async(cursor_now)()
        tasks = [asyncio.create_task(page.run(http, f"/projects/{project.pk}/events/?client={i:08d}-0000-4000-8000-"
                                                    f"000000000000&after={cursor}", stop))
                 for i, page in enumerate(pages)]
        await asyncio.wait_for(asyncio.gather(*(p.connected.wait() for p in pages)), 60)
        await asyncio.sleep(2)  # every page past its replay and presence

        published: dict[int, float] = {}

        def change(take, progress):
            before = ChangeEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
            at = time.monotonic()
            take.advance(Status.RUNNING, progress=progress)
            for event_id in ChangeEvent.objects.filter(id__gt=before, take_id=take.pk).values_list("id", flat=True):
                published[event_id] = at

        for i, take in enumerate(takes):
            await sync_to_async(change, thread_sensitive=True)(take, 50)
            await asyncio.sleep(0.02)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(len(set(published) - set(p.received)) for p in pages):
            await asyncio.sleep(0.1)

        latencies, lost = [], 0
        for page in pages:
            for event_id, at in published.items():
                if event_id in page.received:
                    latencies.append(page.received[event_id] - at)
                else:
                    lost += 1
        print(f"delivery over {len(pages)} pages × {len(published)} changes: "
              f"p50 {percentile(latencies, 0.5) * 1000:.0f} ms, p95 {percentile(latencies, 0.95) * 1000:.0f} ms, "
              f"max {max(latencies, default=float('nan')) * 1000:.0f} ms, lost {lost}")

        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def main() -> None:
    args = parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="studio-bench-live-"))
    env = setup_django(tmp)
    project, takes, cookie = book(args.changes)
    port = free_port()
    access_log = tmp / "access.log"
    server_env = {**os.environ, **env, "LOG_FORMAT": "json", "LIVE_KEEPALIVE_SECONDS": "15"}
    with access_log.open("w") as log:
        server = subprocess.Popen(
            [str(ROOT / ".venv/bin/uvicorn"), "studio_site.asgi:application", "--host", "127.0.0.1",
             "--port", str(port), "--workers", str(args.web_workers), "--log-config",
             str(ROOT / "studio_site/uvicorn-logging.json"), "--timeout-graceful-shutdown", "2"],
            cwd=ROOT, env=server_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        import httpx

        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                httpx.get(base + "/livez", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        from django.conf import settings

        mode = "Redis pub/sub" if settings.LIVE_REDIS_URL else f"table read every {settings.LIVE_POLL_SECONDS} s"
        print(f"studio live bench: {args.clients} pages, {args.changes} changes, {args.web_workers} web workers, "
              f"{settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, wake-ups by {mode}; "
              f"load {os.getloadavg()[0]:.2f}")
        asyncio.run(drive(args, base, cookie, project, takes))
        if args.idle_seconds > 0:
            asyncio.run(idle(args, base, cookie, project, access_log))
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()


async def idle(args, base: str, cookie: str, project, access_log: Path) -> None:
    """Open the pages, let nothing happen for --idle-seconds, count the requests they made meanwhile."""
    import httpx

    stop = asyncio.Event()
    limits = httpx.Limits(max_connections=args.clients + 10, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base, cookies={"sessionid": cookie}, limits=limits,
                                 timeout=httpx.Timeout(30, read=None)) as http:
        pages = [Page() for _ in range(args.clients)]
        tasks = [asyncio.create_task(page.run(http, f"/projects/{project.pk}/events/", stop)) for page in pages]
        await asyncio.wait_for(asyncio.gather(*(p.connected.wait() for p in pages)), 60)
        await asyncio.sleep(1)
        before = _requests(access_log)
        await asyncio.sleep(args.idle_seconds)
        made = _requests(access_log) - before
        per_minute = made / len(pages) / (args.idle_seconds / 60)
        print(f"idle for {args.idle_seconds:.0f} s: {made} requests from {len(pages)} pages "
              f"= {per_minute:.2f} requests per minute per page")
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _requests(access_log: Path) -> int:
    # uvicorn logs a request when its response starts: a stream counts once, when it opens.
    return len(re.findall(r'"event": "request"', access_log.read_text()))


if __name__ == "__main__":
    main()
