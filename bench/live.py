"""Benchmark the live channel: N pages open on one board while M takes change: how fast, at what cost.

    .venv/bin/python bench/live.py [--clients 200 1000] [--wakeups table redis] [--changes 50]
                                   [--idle-seconds 60] [--web-workers 2] [--roles owner editor viewer]

Three kinds of process, as in production: the studio's server (uvicorn, --web-workers
processes); the open pages (bench/live_clients.py, a process of its own: N Server-Sent
Event streams on the board, `/projects/<pk>/events/`, each from the cursor a page is drawn
at, spread over members of --roles as a team's tabs would be); and this one, which books a
project with M running takes, then, as a worker would, moves each take's progress once (M
changes, 20 ms apart) and measures.

For each wake-up (`table`: each web process reads the change table every LIVE_POLL_SECONDS,
the embedded default; `redis`: woken by Redis pub/sub, REDIS_URL from the environment or a
redis-server this starts on a free port) and each --clients count, in a throwaway DATA_DIR
and SQLite database (or DATABASE_URL), it prints:

- delivery: p50 / p95 / max over every (page, change) pair, from just before the change is
  committed to its bytes reaching the page (time.monotonic, one clock for every process),
  and how many were lost (not there 20 s after the last change);
- web CPU per delivery: the web processes' CPU (user + system, from /proc: robust to a
  busy box, unlike wall time) from the first change until every page had every change,
  divided by pages × changes; and the same total per change;
- memory per stream: the web processes' resident memory with the pages open, less before
  (after a warm-up), divided by pages; and the web CPU each page's opening cost (its
  request, replay, presence, and everyone's presence list redrawn);
- idle: the HTTP requests the open pages made per minute per page over --idle-seconds with
  nothing changing (uvicorn's access log: keep-alive comments on an open stream are not
  requests), and the web processes' CPU meanwhile.

Targets: p95 ≤ 1 s at 200 streams with either wake-up and at 1,000 with
Redis; idle ≤ 2 requests per minute per page. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
REDIS_ENV = ("CACHE_URL", "REDIS_URL", "CELERY_BROKER_URL")

from bench import database  # noqa: E402 (needs ROOT on sys.path first)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[200])
    parser.add_argument("--wakeups", nargs="+", choices=["table", "redis"], default=["table", "redis"])
    parser.add_argument("--changes", type=int, default=50)
    parser.add_argument("--idle-seconds", type=float, default=60)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--roles", nargs="+", default=["owner", "editor", "viewer"],
                        choices=["owner", "editor", "reviewer", "viewer"])
    return parser.parse_args()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the machine's figures ---------------------------------------------------------------------

def children(pid: int) -> list[int]:
    """The web processes a uvicorn started (not multiprocessing's resource tracker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if (int(stat[stat.rfind(")") + 2:].split()[1]) == pid
                    and b"resource_tracker" not in (entry / "cmdline").read_bytes()):
                found.append(int(entry.name))
    return found


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        stat = Path(f"/proc/{pid}/stat").read_text()
        fields = stat[stat.rfind(")") + 2:].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS


def rss_kb(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def settle(pids: list[int], *, quiet: float = 0.05, longest: float = 60) -> None:
    """Wait until the web processes are nearly idle (the pages' openings and presence drawn)."""
    deadline = time.monotonic() + longest
    while time.monotonic() < deadline:
        before = cpu_seconds(pids)
        time.sleep(0.5)
        if cpu_seconds(pids) - before <= quiet:
            return


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else float("nan")


# --- the studio ------------------------------------------------------------------------------------

def setup_django(tmp: Path, redis_url: str) -> None:
    for name in REDIS_ENV:
        if os.environ.get(name, "").startswith(("redis://", "rediss://")):
            del os.environ[name]  # only the wake-up this run measures
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "studio_site.settings",
        "DATA_DIR": str(tmp / "data"),
        "MEDIA_ROOT": str(tmp / "media"),
        "C2PA_DIR": str(tmp / "c2pa"),
        # The server runs as in production (DEBUG off): its pages name static files by their hashed
        # names, so it needs its own collected copy (a fresh clone has none).
        "STATIC_ROOT": str(tmp / "static"),
        "DATABASE_URL": os.environ.get("DATABASE_URL") or f"sqlite:///{tmp / 'bench.sqlite3'}",
        "LOG_LEVEL": "WARNING",
        "DEBUG": "false",
        "SECURE_COOKIES": "false",
        "LIVE_KEEPALIVE_SECONDS": "15",
        **({"REDIS_URL": redis_url} if redis_url else {}),
    })
    database.migrate()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)


def start_redis(tmp: Path) -> tuple[str, Path | None]:
    """REDIS_URL from the environment, else a redis-server of our own (and its pid file, to stop it)."""
    for name in REDIS_ENV:
        if os.environ.get(name, "").startswith(("redis://", "rediss://")):
            return os.environ[name], None
    if not shutil.which("redis-server"):
        raise SystemExit("--wakeups redis needs REDIS_URL or redis-server on the PATH")
    port, pidfile = free_port(), tmp / "redis.pid"
    subprocess.run(["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--daemonize", "yes",
                    "--pidfile", str(pidfile), "--dir", str(tmp), "--save", "", "--appendonly", "no"], check=True)
    for _ in range(100):
        if pidfile.exists():
            break
        time.sleep(0.05)
    return f"redis://127.0.0.1:{port}/0", pidfile


def book(changes: int, roles: list[str]):
    """A team with a member of each role, a project with one running take per scene; each member's cookie."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from generation.models import Render, Status
    from projects.models import Membership
    from projects.storyboard import services
    from projects.teams import services as team_services

    users = get_user_model().objects
    owner = users.create_user("bench-owner", password="x" * 20)
    team = team_services.team_create(name="Bench", owner=owner)
    members = {"owner": owner}
    for role in set(roles) - {"owner"}:
        members[role] = users.create_user(f"bench-{role}", password="x" * 20)
        Membership.objects.create(team=team, user=members[role], role=role)
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
    cookies = {}
    for role in roles:
        client = Client()
        client.force_login(members[role])
        cookies[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return project, takes, cookies


def start_server(tmp: Path, port: int, workers: int) -> subprocess.Popen:
    with (tmp / "access.log").open("w") as log:
        server = subprocess.Popen(
            [str(ROOT / ".venv/bin/uvicorn"), "studio_site.asgi:application", "--host", "127.0.0.1",
             "--port", str(port), "--workers", str(workers), "--log-config",
             str(ROOT / "studio_site/uvicorn-logging.json"), "--timeout-graceful-shutdown", "2"],
            cwd=ROOT, env={**os.environ, "LOG_FORMAT": "json"}, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
    import httpx

    for _ in range(300):
        try:
            httpx.get(f"http://127.0.0.1:{port}/livez", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    for _ in range(100):  # every worker up
        pids = children(server.pid)
        if len(pids) >= workers or workers == 1:
            break
        time.sleep(0.1)
    return server


class Pages:
    """The open tabs: bench/live_clients.py in its own process."""

    def __init__(self):
        self.process = subprocess.Popen([sys.executable, str(ROOT / "bench/live_clients.py")], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)

    def ask(self, **command) -> dict:
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer:
            raise SystemExit("the pages' process died")
        return json.loads(answer)

    def open(self, port: int, project, cookies: dict, count: int, after: int | None) -> dict:
        roles = list(cookies)
        pages = [{"cookie": cookies[roles[i % len(roles)]],
                  "path": f"/projects/{project.pk}/events/?client={uuid.uuid4()}"
                          + (f"&after={after}" if after is not None else "")} for i in range(count)]
        return self.ask(cmd="open", host="127.0.0.1", port=port, pages=pages)

    def close(self) -> None:
        if self.process.poll() is None:
            self.ask(cmd="close")
            self.process.wait(10)


def _requests(access_log: Path) -> int:
    # uvicorn logs a request when its response starts: a stream counts once, when it opens.
    return len(re.findall(r'"event": "request"', access_log.read_text()))


# --- one run -----------------------------------------------------------------------------------------

def publish(takes) -> dict[int, float]:
    """Move each take's progress once, as a worker would; when each change was published."""
    from generation.models import Status
    from projects.models import ChangeEvent

    published: dict[int, float] = {}
    for take in takes:
        before = ChangeEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
        at = time.monotonic()
        take.advance(Status.RUNNING, progress=50)
        for event_id in ChangeEvent.objects.filter(id__gt=before, take_id=take.pk).values_list("id", flat=True):
            published[event_id] = at
        time.sleep(0.02)
    return published


def run(args, wakeup: str, clients: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="studio-bench-live-"))
    redis_url, redis_pid = start_redis(tmp) if wakeup == "redis" else ("", None)
    setup_django(tmp, redis_url)
    from django.conf import settings

    from projects.live.stream import cursor_now

    project, takes, cookies = book(args.changes, args.roles)
    port = free_port()
    server = start_server(tmp, port, args.web_workers)
    pages = None
    try:
        web = children(server.pid) or [server.pid]
        mode = "Redis pub/sub" if settings.LIVE_REDIS_URL else f"a table read every {settings.LIVE_POLL_SECONDS} s"
        print(f"{clients} pages ({', '.join(args.roles)}), {args.changes} changes, {len(web)} web processes, "
              f"{settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, wake-ups by {mode}; "
              f"load {os.getloadavg()[0]:.2f}", flush=True)
        warm = Pages()  # a few streams first: what every process loads once is not a stream's memory
        warm.open(port, project, cookies, 4 * len(web), None)
        warm.close()
        settle(web)
        rss_before = rss_kb(web)

        pages = Pages()
        cpu_before = cpu_seconds(web)
        opened = pages.open(port, project, cookies, clients, cursor_now())
        if opened["failures"]:
            print(f"  {opened['failures']} pages could not open their stream, e.g. {opened['failed'][:2]}")
        settle(web)
        per_stream = (rss_kb(web) - rss_before) / max(1, opened["connected"])
        opening = (cpu_seconds(web) - cpu_before) / max(1, opened["connected"])

        cpu_before, reading_before = cpu_seconds(web), cpu_seconds([pages.process.pid])
        published = publish(takes)
        times = pages.ask(cmd="wait", ids=list(published), timeout=20)["times"]
        cpu, reading = cpu_seconds(web) - cpu_before, cpu_seconds([pages.process.pid]) - reading_before
        latencies = [t - published[int(i)] for i, ts in times.items() for t in ts if t is not None]
        lost = sum(t is None for ts in times.values() for t in ts)
        deliveries = opened["connected"] * len(published)
        print(f"  delivery over {opened['connected']} pages × {len(published)} changes: "
              f"p50 {percentile(latencies, 0.5) * 1000:.0f} ms, p95 {percentile(latencies, 0.95) * 1000:.0f} ms, "
              f"max {max(latencies, default=float('nan')) * 1000:.0f} ms, lost {lost}")
        print(f"  web CPU {cpu:.2f} s = {cpu / max(1, deliveries) * 1000:.3f} ms per delivery, "
              f"{cpu / max(1, len(published)) * 1000:.0f} ms per change; "
              f"memory {per_stream:.0f} KB per stream; opening {opening * 1000:.1f} ms per stream; "
              f"the pages' own process {reading:.2f} s", flush=True)

        if args.idle_seconds > 0:
            access_log = tmp / "access.log"
            requests, cpu_before = _requests(access_log), cpu_seconds(web)
            time.sleep(args.idle_seconds)
            made, cpu = _requests(access_log) - requests, cpu_seconds(web) - cpu_before
            minutes = args.idle_seconds / 60
            print(f"  idle {args.idle_seconds:.0f} s: {made / opened['connected'] / minutes:.2f} requests per minute "
                  f"per page ({made} in all), web CPU {cpu / args.idle_seconds * 100:.1f} % of a core", flush=True)
    finally:
        if pages is not None:
            pages.close()
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
    runs = [(wakeup, clients) for clients in args.clients for wakeup in args.wakeups]
    if len(runs) == 1:
        run(args, *runs[0])
        return
    # One process per run: each starts from a fresh database, settings and server.
    for wakeup, clients in runs:
        subprocess.run([sys.executable, __file__, "--wakeups", wakeup, "--clients", str(clients),
                        "--changes", str(args.changes), "--idle-seconds", str(args.idle_seconds),
                        "--web-workers", str(args.web_workers), "--roles", *args.roles], check=False)


if __name__ == "__main__":
    main()
