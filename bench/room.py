"""Benchmark a review room: from the presenter's player event to the followers' pages, over the live channel.

    .venv/bin/python bench/room.py [--followers 10] [--events 40] [--gap 0.3] [--wakeups table redis]
                                   [--web-workers 2]

As bench/live.py (whose server, Redis and pages it reuses): the studio's server (uvicorn, --web-workers
processes), the followers' pages in a process of their own (bench/live_clients.py: each a Server-Sent Events
stream of the project, as a room's page holds), and this process as the presenter's browser: it opens a room on a
finished take and sends --events player events (`POST /rooms/<id>/state/`, seq numbered, play / pause / seek in
turn) --gap seconds apart, as a presenter playing, pausing and scrubbing does.

For each wake-up (`table`: each web process reads the change table every LIVE_POLL_SECONDS, the embedded default;
`redis`: woken by Redis pub/sub), it prints:

- presenter → follower: p50 / p95 / max over every (follower, event) pair, from just before the presenter's
  request is sent to the event's bytes reaching the follower's stream (time.monotonic, one clock for every
  process), and how many were lost (not there 10 s after the last event);
- the presenter's request itself (its answer, 204): p50 / p95.

Target: the followers' players within 250 ms of the presenter's. A follower's page applies the
state as it arrives (static/studio/room.js: a seek or a pause, no request). Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.live import (  # noqa: E402
    Pages,
    children,
    free_port,
    percentile,
    settle,
    setup_django,
    start_redis,
    start_server,
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--followers", type=int, default=10)
    parser.add_argument("--events", type=int, default=40)
    parser.add_argument("--gap", type=float, default=0.3, help="seconds between the presenter's events")
    parser.add_argument("--wakeups", nargs="+", choices=["table", "redis"], default=["table", "redis"])
    parser.add_argument("--web-workers", type=int, default=2)
    return parser.parse_args()


def book():
    """A team, a project with a finished take and a room on it presented by the owner; both members' cookies."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from generation.models import Render, Status
    from projects.models import Membership
    from projects.review import rooms
    from projects.storyboard import services
    from projects.teams import services as teams

    users = get_user_model().objects
    owner = users.create_user("bench-presenter", password="x" * 20)
    follower = users.create_user("bench-follower", password="x" * 20)
    team = teams.team_create(name="Bench", owner=owner)
    Membership.objects.create(team=team, user=follower, role="reviewer")
    project = services.project_create(team=team, user=owner, name="Room bench")
    scene = services.scene_create(project=project, user=owner, title="Dawn", prompt="A harbour at dawn.",
                                  duration=8, size="1280x720")
    take = Render.objects.create(scene=scene, number=1, connection=team.connections.get(kind="local"),
                                 provider="local", model="previz-animatic-1", status=Status.SUCCEEDED,
                                 duration_seconds=8.0, recipe={"parameters": {"seconds": 8}}, created_by=owner)
    room = rooms.room_open(take=take, user=owner)
    cookies = {}
    for role, user in (("presenter", owner), ("follower", follower)):
        client = Client()
        client.force_login(user)
        cookies[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return project, room, cookies


def present(port: int, room, cookie: str, events: int, gap: float) -> tuple[dict[int, float], list[float]]:
    """The presenter's events, as room.js sends them: when each was sent (by the change it made), and each answer's time."""
    import httpx
    from django.conf import settings

    from projects.models import ChangeEvent, ChangeKind

    base = f"http://127.0.0.1:{port}"
    sent: dict[int, float] = {}
    answers: list[float] = []
    with httpx.Client(base_url=base, cookies={settings.SESSION_COOKIE_NAME: cookie}, timeout=10) as client:
        page = client.get(f"/rooms/{room.pk}/")
        found = re.search(r'"X-CSRFToken":\s*"([^"]+)"', page.text)
        assert found is not None, "the room's page carries its CSRF token"
        token = found.group(1)
        headers = {"X-CSRFToken": token, "Referer": f"{base}/rooms/{room.pk}/"}
        for n in range(1, events + 1):
            before = ChangeEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
            playing = "1" if n % 3 == 1 else "0"  # play, pause, seek, play, ...
            at = time.monotonic()
            answer = client.post(f"/rooms/{room.pk}/state/", headers=headers,
                                 data={"seq": str(n), "position": f"{(n * 0.37) % 8:.3f}", "playing": playing})
            answers.append(time.monotonic() - at)
            if answer.status_code != 204:
                raise SystemExit(f"the presenter's event {n} was answered {answer.status_code}: {answer.text[:200]}")
            for event_id in ChangeEvent.objects.filter(id__gt=before, kind=ChangeKind.ROOM_CHANGED,
                                                       object_id=room.pk).values_list("id", flat=True):
                sent[event_id] = at
            time.sleep(gap)
    return sent, answers


def run(args, wakeup: str) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="studio-bench-room-"))
    redis_url, redis_pid = start_redis(tmp) if wakeup == "redis" else ("", None)
    setup_django(tmp, redis_url)
    from django.conf import settings

    from projects.live.stream import cursor_now

    server = pages = None
    try:  # from here on, whatever fails, the Redis and the web server this run started are stopped
        project, room, cookies = book()
        port = free_port()
        server = start_server(tmp, port, args.web_workers)
        web = children(server.pid) or [server.pid]
        mode = "Redis pub/sub" if settings.LIVE_REDIS_URL else f"a table read every {settings.LIVE_POLL_SECONDS} s"
        print(f"{args.followers} followers, {args.events} presenter events {args.gap} s apart, {len(web)} web "
              f"processes, {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, wake-ups by {mode}; "
              f"load {os.getloadavg()[0]:.2f}", flush=True)
        pages = Pages()
        opened = pages.open(port, project, {"follower": cookies["follower"]}, args.followers, cursor_now())
        if opened["failures"]:
            print(f"  {opened['failures']} followers could not open their stream, e.g. {opened['failed'][:2]}")
        settle(web)
        sent, answers = present(port, room, cookies["presenter"], args.events, args.gap)
        times = pages.ask(cmd="wait", ids=list(sent), timeout=10)["times"]
        latencies = [t - sent[int(i)] for i, ts in times.items() for t in ts if t is not None]
        lost = sum(t is None for ts in times.values() for t in ts)
        print(f"  presenter → follower over {opened['connected']} followers × {len(sent)} events: "
              f"p50 {percentile(latencies, 0.5) * 1000:.0f} ms, p95 {percentile(latencies, 0.95) * 1000:.0f} ms, "
              f"max {max(latencies, default=float('nan')) * 1000:.0f} ms, lost {lost}")
        print(f"  the presenter's request: p50 {percentile(answers, 0.5) * 1000:.0f} ms, "
              f"p95 {percentile(answers, 0.95) * 1000:.0f} ms", flush=True)
    finally:
        if pages is not None:
            pages.close()
        if server is not None:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
        if redis_pid is not None and redis_pid.exists():
            os.kill(int(redis_pid.read_text()), 15)
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    args = parse_args()
    if len(args.wakeups) == 1:
        run(args, args.wakeups[0])
        return
    for wakeup in args.wakeups:  # one process per run: a fresh database, settings and server
        subprocess.run([sys.executable, __file__, "--wakeups", wakeup, "--followers", str(args.followers),
                        "--events", str(args.events), "--gap", str(args.gap),
                        "--web-workers", str(args.web_workers)], check=False)


if __name__ == "__main__":
    main()
