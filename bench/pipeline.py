"""Benchmark the render pipeline end to end: N remote takes through a real Celery worker.

    .venv/bin/python bench/pipeline.py [--provider openai|veo|fal|runway|comfyui] [--renders 200]
                                       [--job-seconds 20] [--webhooks] [--redis]
                                       [--booking batch|single] [--pool prefork] [--concurrency 2]
                                       [--workers 1] [--warmup 20] [--warmup-rounds 1] [--typical-seconds S]
                                       [--finish-takes 30] [--finish-only] [--keep]

A local fake provider runs every job for exactly `--job-seconds` T of real time, all
in parallel: by default tests/fakes/provider_server.py (OpenAI Videos format, a
gateway), or with --provider the fake of Veo, fal, Runway or ComfyUI (bench/drivers.py).
The studio books N takes on a connection to it: by default with one "Render scenes"
click over N scenes (generation.renders.batch.render_batch), with --booking single by
services.render_create per take (N clicks, one idempotency key each), and real `celery worker` subprocesses submit, poll and
download them, against a throwaway database and broker. By default that is one
worker with a prefork pool of 2, as `./studio start` runs it; --pool, --concurrency
and --workers measure other deployments:

- database: a SQLite file in a temporary DATA_DIR; with a PostgreSQL DATABASE_URL set
  (PostgreSQL), a throwaway database `bench_…` created on that server and
  dropped afterwards (the role needs CREATEDB);
- broker: the filesystem broker under the temporary DATA_DIR, or
  CELERY_BROKER_URL when set (tasks go to a queue of the bench's own, purged
  afterwards).

With --webhooks (openai, fal) the studio is served by a WSGI server thread at
PUBLIC_BASE_URL, and the fake POSTs a signed event there the moment each job
finishes (the gateway connection gets a webhook secret; fal signs with its keys).

Prints (asserts nothing):
- finishing a take, stage by stage (bench/finish.py): the worker's CPU from the poll that sees
  a job done to the take stored, measured in this process on a fake whose jobs are done at
  once (--finish-takes takes; --finish-only stops there). Target ≤ 40 ms of thread CPU.
- makespan ÷ ideal: makespan = booking starts → last take succeeded; ideal
  = T, as the provider runs every job at once. Target ≤ 1.15.
- polls per take: the mean of Render.poll_count, and the status requests the
  fake saw ÷ N. Target ≤ 8 (≈ 0 with webhooks).
- creates per take: jobs the fake accepted during the batch ÷ N. Must be exactly 1.
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_RATIO = 1.15
TARGET_POLLS = 8

from bench import database  # noqa: E402 (needs ROOT on sys.path first)
from bench.drivers import DRIVERS, SECONDS, SIZE  # noqa: E402
from bench.finish import TARGET_MS as TARGET_FINISH_MS  # noqa: E402

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from generation.models import ProviderConnection
    from projects.models import Project, Scene, Team
from bench.finish import Finishes, finish_breakdown  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--provider", choices=list(DRIVERS), default="openai",
                        help="the local fake (and adapter) measured; openai = an OpenAI-format gateway")
    parser.add_argument("--renders", type=int, default=200, help="number of takes (N)")
    parser.add_argument("--job-seconds", type=float, default=20.0,
                        help="how long every provider job runs (T, the ideal makespan)")
    parser.add_argument("--webhooks", action="store_true",
                        help="configure a webhook secret + PUBLIC_BASE_URL; the gateway calls back")
    # Defaults: the deployment `./studio start` runs (one worker, prefork pool of 2).
    parser.add_argument("--pool", choices=("threads", "prefork"), default="prefork",
                        help="the workers' Celery pool")
    parser.add_argument("--concurrency", type=int, default=2,
                        help="threads (or child processes) per worker")
    parser.add_argument("--workers", type=int, default=1,
                        help="worker processes started (each `celery worker` command is one)")
    parser.add_argument("--scenes", type=int, default=20,
                        help="scenes the takes are spread over (--booking single; batch uses one per take)")
    parser.add_argument("--booking", choices=["batch", "single"], default="batch",
                        help="batch: one 'Render scenes' click books a take per scene (generation.renders.batch); "
                             "single: render_create per take, as N clicks on scene cards")
    parser.add_argument("--redis", action="store_true",
                        help="broker: a private redis-server started (and stopped) by the bench")
    parser.add_argument("--timeout", type=float, default=None,
                        help="give up after this many seconds (default 5 T + 120)")
    parser.add_argument("--warmup", type=int, default=20,
                        help="takes per warm-up round before the measured batch (0: cold start)")
    parser.add_argument("--warmup-rounds", type=int, default=1)
    parser.add_argument("--typical-seconds", type=int, default=None,
                        help="start the poll schedule from this job time (the model's catalog entry) "
                             "instead of the catalog's, e.g. with --warmup 0")
    parser.add_argument("--finish-takes", type=int, default=30,
                        help="takes finished in this process for the per-stage CPU breakdown (0: none)")
    parser.add_argument("--finish-only", action="store_true",
                        help="print the per-stage breakdown only: no broker, no worker, no batch")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and log")
    args = parser.parse_args()
    if args.webhooks and not DRIVERS[args.provider].webhooks:
        parser.error(f"--webhooks: {DRIVERS[args.provider].label} sends no webhooks; drop the flag.")
    return args


# --- throwaway database / broker -------------------------------------------------

def start_redis(folder: Path) -> tuple[str, Callable[[], None]]:
    """A private redis-server on a free loopback port; returns (broker URL, stop)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder.mkdir(parents=True, exist_ok=True)
    pidfile = folder / "redis.pid"
    subprocess.run(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--daemonize", "yes",
         "--pidfile", str(pidfile), "--dir", str(folder), "--logfile", str(folder / "redis.log"),
         "--save", "", "--appendonly", "no"],
        check=True, capture_output=True,
    )
    url = f"redis://127.0.0.1:{port}/0"
    import redis

    deadline = time.monotonic() + 10
    while True:
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise SystemExit(f"redis-server did not start:\n{tail(folder / 'redis.log')}")
            time.sleep(0.05)

    def stop() -> None:
        if pidfile.exists():
            os.kill(int(pidfile.read_text().strip()), signal.SIGTERM)

    return url, stop


def purge_queue(queue: str, *, delete: bool = True) -> None:
    """Drop the tasks in the bench's queue (pending countdown polls) and, unless told not to, the
    queue itself from a shared broker."""
    from kombu import Exchange, Queue

    from studio_site.celery import app

    try:
        with app.connection_for_write() as conn:
            bound = Queue(queue, Exchange(queue), routing_key=queue)(conn.default_channel)
            bound.declare()
            bound.purge()
            if delete:
                bound.delete()
    except Exception as exc:  # best effort
        print(f"could not purge queue {queue}: {exc}")


# --- worker -----------------------------------------------------------------------

def start_worker(env: dict, queue: str, pool: str, concurrency: int, log_path: Path,
                 name: str) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "studio_site", "worker", f"--loglevel={env['LOG_LEVEL']}",
         f"--pool={pool}", f"--concurrency={concurrency}", "-Q", queue, "-n", f"{name}@%h",
         "--without-mingle", "--without-gossip", "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    def copy_with_timestamps() -> None:  # the studio's log format has none
        with log_path.open("w") as log:
            assert proc.stdout is not None  # started with stdout=PIPE
            for line in iter(proc.stdout.readline, b""):
                stamp = time.strftime("%H:%M:%S", time.localtime()) + f"{time.time() % 1:.3f}"[1:]
                log.write(f"{stamp} {line.decode(errors='replace')}")
                log.flush()

    threading.Thread(target=copy_with_timestamps, daemon=True).start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the worker exited ({proc.returncode}):\n{tail(log_path)}")
        if log_path.exists() and " ready." in log_path.read_text(errors="replace"):
            return proc
        time.sleep(0.1)
    stop_worker(proc)
    raise SystemExit(f"the worker did not become ready in 60 s:\n{tail(log_path)}")


def stop_worker(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()  # warm shutdown
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # its own session: only its process group
            proc.wait(timeout=10)


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by a process and its live descendants (Linux /proc)."""
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue  # gone meanwhile
    return total


def tail(path: Path, chars: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except FileNotFoundError:
        return "(no log)"


def fatal_line(log_path: Path) -> str:
    lines = log_path.read_text(errors="replace").splitlines() if log_path.exists() else []
    fatal = [line for line in lines if "Unrecoverable error" in line or "Error:" in line]
    return f"its log says: {fatal[0].split(' ', 1)[1]}" if fatal else "see the log"


def serve_studio():
    """The studio's WSGI app on a thread (for webhooks); returns (server, base URL)."""
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)  # the webhook view's key fetches, per request
    httpd = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler)
    httpd.set_app(get_wsgi_application())
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


# --- the bench ----------------------------------------------------------------------

def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


@dataclass
class Run:
    """What one run owns: its folder, the environment its processes share, what to undo."""

    args: argparse.Namespace
    tmp: Path
    queue: str
    env: dict = field(default_factory=dict)
    database: str = ""
    broker: str = ""
    cleanups: list[Callable[[], None]] = field(default_factory=list)
    workers: list[tuple[subprocess.Popen, Path]] = field(default_factory=list)

    def clean_up(self) -> None:
        for cleanup in reversed(self.cleanups):
            try:
                cleanup()
            except Exception as exc:  # best effort: clean up the rest
                print(f"cleanup: {exc}")
        if self.args.keep:
            print(f"kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


@dataclass
class Studio:
    """What the bench books on: a user's team and project, its scenes, the provider's connection."""

    driver: Any  # one of bench/drivers.py's DRIVERS
    user: User
    team: Team
    project: Project
    scenes: list[Scene]
    connection: ProviderConnection
    model_id: str


@dataclass
class Batch:
    ids: list[int]
    started: float
    booked: float
    waited: float = 0.0
    worker_cpu: float = 0.0


def prepare(run: Run) -> None:
    """Everything the studio writes goes under the run's folder, for the bench and its workers
    alike: settings, a throwaway database (migrated) and broker."""
    data_dir = run.tmp / "data"
    run.env.update({
        "DJANGO_SETTINGS_MODULE": "studio_site.settings",
        # The fake providers listen on loopback, which the studio calls only where the operator allows it.
        "OUTBOUND_ALLOWED_PRIVATE_ADDRESSES": "127.0.0.0/8,::1",
        "DATA_DIR": str(data_dir),
        "MEDIA_ROOT": str(run.tmp / "media"),
        "C2PA_DIR": str(run.tmp / "c2pa"),
        "CELERY_TASK_DEFAULT_QUEUE": run.queue,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "INFO"),
        "PYTHONUNBUFFERED": "1",
    })
    given_db = os.environ.get("DATABASE_URL", "")
    if given_db.startswith(("postgres", "postgis")):
        run.env["DATABASE_URL"], drop = database.throwaway_postgres(given_db)
        run.cleanups.append(drop)
        run.database = f"PostgreSQL (throwaway database on {urlsplit(given_db).hostname})"
    else:
        run.env["DATABASE_URL"] = f"sqlite:///{data_dir / 'bench.sqlite3'}"
        run.database = "SQLite (throwaway file)"
    if run.args.redis and not run.args.finish_only:
        run.env["CELERY_BROKER_URL"], stop_redis = start_redis(run.tmp / "redis")
        run.cleanups.append(stop_redis)
        run.broker = f"{run.env['CELERY_BROKER_URL']} (private redis-server)"
    else:
        run.broker = os.environ.get("CELERY_BROKER_URL") or "studiofs:// (throwaway folder)"
    os.environ.update(run.env)
    database.migrate()

    import django

    django.setup()
    from django.db import connections

    from studio_site.celery import app as celery_app

    celery_app.conf.task_always_eager = False
    if not run.broker.startswith(("studiofs", "filesystem")):
        run.cleanups.append(lambda: purge_queue(run.queue))
    run.cleanups.append(connections.close_all)


def book_studio(run: Run) -> Studio:
    """Through the studio's services: a user, team, project, scenes and the provider's connection."""
    from django.contrib.auth import get_user_model

    from projects.storyboard import services as projects
    from projects.teams import services as team_services

    args = run.args
    driver = DRIVERS[args.provider](args.job_seconds)
    run.cleanups.append(driver.close)
    user = get_user_model().objects.create_user("bench", "bench@example.com", None)
    team = team_services.team_create(name="Bench Pictures", owner=user)
    project = projects.project_create(team=team, user=user, name="Pipeline bench")
    count = max(args.renders, args.warmup) if args.booking == "batch" else max(1, min(args.renders, args.scenes))
    if args.finish_only:
        count = 0
    scenes = [projects.scene_create(project=project, user=user, title=f"Shot {i + 1}", **SCENE)
              for i in range(count)]
    connection = driver.connection(team=team, user=user, webhooks=args.webhooks)
    if args.typical_seconds:
        from generation.models import CatalogModel

        CatalogModel.objects.filter(model_id=driver.model).update(typical_seconds=args.typical_seconds)
    return Studio(driver, user, team, project, scenes, connection, driver.model)


SCENE: dict[str, Any] = {"prompt": "A harbour at dawn, mist on the water, gulls overhead.", "duration": SECONDS, "size": SIZE,
         "camera_notes": "slow push-in"}


def start_workers(run: Run, studio: Studio) -> None:
    """The studio's workers (and, with --webhooks, the studio's web side for the fake to call)."""
    from django.conf import settings

    worker_env = {**os.environ}
    if run.args.webhooks:
        httpd, public = serve_studio()
        run.cleanups += [httpd.server_close, httpd.shutdown]
        settings.PUBLIC_BASE_URL = worker_env["PUBLIC_BASE_URL"] = public
        studio.driver.webhooks_on(studio.connection, public, settings)
    for number in range(1, run.args.workers + 1):
        log_path = run.tmp / f"worker-{number}.log"
        proc = start_worker(worker_env, run.queue, run.args.pool, run.args.concurrency, log_path,
                            f"{run.queue}-{number}")
        run.workers.append((proc, log_path))
        run.cleanups.append(functools.partial(stop_worker, proc))


def book(run: Run, studio: Studio, count: int) -> Batch:
    """`count` takes: one "Render scenes" click, or (--booking single) one render_create each."""
    from generation.renders import batch, services

    started = time.time()
    if run.args.booking == "batch":
        takes = batch.render_batch(project=studio.project, user=studio.user, connection=studio.connection,
                                   model_id=studio.model_id, scene_ids=[s.pk for s in studio.scenes[:count]],
                                   idempotency_key=uuid.uuid4())
        return Batch([t.pk for t in takes], started, time.time())
    ids = [services.render_create(scene=studio.scenes[i % len(studio.scenes)], user=studio.user,
                                  connection=studio.connection, model_id=studio.model_id,
                                  idempotency_key=uuid.uuid4())[0].pk
           for i in range(count)]
    return Batch(ids, started, time.time())


def wait(run: Run, batch_: Batch, label: str) -> None:
    """Until every take of the batch is terminal; stops the bench if a worker died or time ran out."""
    from django.db.models import Count

    from generation.models import TERMINAL, Render

    timeout = run.args.timeout or 5 * run.args.job_seconds + 120
    deadline, last_print = time.monotonic() + timeout, time.monotonic()
    while True:
        counts = dict(Render.objects.filter(pk__in=batch_.ids).values_list("status")
                      .annotate(c=Count("pk")).values_list("status", "c"))
        if sum(c for s, c in counts.items() if s in TERMINAL) >= len(batch_.ids):
            return
        for worker, log_path in run.workers:
            if worker.poll() is not None:
                raise SystemExit(f"{label}: THE WORKER DIED (exit {worker.returncode}) at "
                                 f"t={time.time() - batch_.started:.1f} s with {counts}; "
                                 f"{fatal_line(log_path)}\n--- log tail ---\n{tail(log_path, 2500)}")
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up after {timeout:.0f} s: {counts}\n{tail(run.workers[0][1])}")
        if time.monotonic() - last_print >= 5:
            last_print = time.monotonic()
            print(f"  {label} t={time.time() - batch_.started:5.1f} s  "
                  + "  ".join(f"{s} {c}" for s, c in sorted(counts.items())), flush=True)
        time.sleep(0.25)


def warm_up(run: Run, studio: Studio) -> None:
    """Warm-up rounds give the poll schedule a history of job times, as a studio in use has."""
    from generation.models import Render, Status
    from generation.renders import pipeline

    args = run.args
    for round_ in range(args.warmup_rounds if args.warmup else 0):
        batch_ = book(run, studio, args.warmup)
        wait(run, batch_, f"warm-up {round_ + 1}")
        done = Render.objects.filter(pk__in=batch_.ids, status=Status.SUCCEEDED)
        last = max((r.finished_at.timestamp() for r in done if r.finished_at), default=time.time())
        print(f"warm-up round {round_ + 1}: {args.warmup} takes, {done.count()} succeeded, "
              f"makespan ÷ ideal {(last - batch_.started) / args.job_seconds:.3f}")
    expectation = getattr(pipeline, "expected_seconds", None)
    probe = Render.objects.filter(connection=studio.connection).first()
    if expectation is not None and probe is not None:
        print(f"the studio's expected job time for this connection and model before the "
              f"measured batch: {expectation(probe):.2f} s (pipeline.expected_seconds)")


def measure(run: Run, studio: Studio) -> tuple[Batch, int]:
    """The measured batch; returns it and the jobs the fake had accepted before it."""
    jobs_before = studio.driver.job_count()
    cpu_before = sum(cpu_seconds(proc.pid) for proc, _ in run.workers)
    batch_ = book(run, studio, run.args.renders)
    wait(run, batch_, "measured")
    batch_.worker_cpu = sum(cpu_seconds(proc.pid) for proc, _ in run.workers) - cpu_before
    batch_.waited = time.time() - batch_.started
    return batch_, jobs_before


def report(run: Run, studio: Studio, batch_: Batch, jobs_before: int) -> None:
    from generation.models import Render, Status

    args, n = run.args, run.args.renders
    renders = list(Render.objects.filter(pk__in=batch_.ids))
    succeeded = [r for r in renders if r.status == Status.SUCCEEDED]
    seen = studio.driver.figures(renders, jobs_before)
    report_booking(args, batch_, renders, seen)
    report_timing(studio, batch_, succeeded, seen, job_seconds=args.job_seconds, n=n)
    report_requests(args, renders, seen, n=n)
    print(f"worker CPU during the measured batch: {batch_.worker_cpu:.1f} s over {batch_.waited:.1f} s "
          f"({batch_.worker_cpu / batch_.waited:.2f} of {os.cpu_count()} cores), "
          f"{1000 * batch_.worker_cpu / n:.0f} ms per take (submit, every poll, finish)")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


def report_booking(args, batch_: Batch, renders: list, seen) -> None:
    from generation.models import Status

    how = "one Render scenes click, generation.renders.batch" if args.booking == "batch" else "render_create each"
    print(f"booking {args.renders} takes ({how}): {batch_.booked - batch_.started:.2f} s")
    submitted = [r.submitted_at.timestamp() for r in renders if r.submitted_at]
    if submitted:
        print(f"submissions: first {min(submitted) - batch_.started:.2f} s, last "
              f"{max(submitted) - batch_.started:.2f} s after booking started ({seen.creates} jobs at the provider)")
    print("outcomes: " + ", ".join(f"{s} {c}" for s, c in sorted(Counter(r.status for r in renders).items())))
    errors = Counter(r.error_message for r in renders if r.status != Status.SUCCEEDED)
    for message, count in errors.most_common(3):
        print(f"  {count} × {message}")


def report_timing(studio: Studio, batch_: Batch, succeeded: list, seen, *, job_seconds: float, n: int) -> None:
    """Per take: job done → the poll that saw it → take succeeded; and makespan ÷ ideal."""
    wall = time.time() - time.monotonic()  # the fake's times (monotonic, this process) as wall times
    detect, finish = [], []
    for r in succeeded:
        key = studio.driver.job_key(r.provider_job_id)
        if key not in seen.done_at:
            continue
        done_at = seen.done_at[key] + wall
        after = [t + wall for t in seen.polls.get(key, []) if t + wall >= done_at]
        if after:
            detect.append(min(after) - done_at)
            finish.append(r.finished_at.timestamp() - min(after))
    if detect:
        print(f"per take, job done → first poll that saw it: median {statistics.median(detect):.2f} s, "
              f"p95 {pct(detect, 0.95):.2f} s, max {max(detect):.2f} s; that poll → take succeeded (download, "
              f"probe, C2PA, store): median {statistics.median(finish):.2f} s, max {max(finish):.2f} s")
    if not succeeded:
        print("makespan ÷ ideal: n/a (no take succeeded)")
        return
    makespan = max(r.finished_at.timestamp() for r in succeeded) - batch_.started
    ratio = makespan / job_seconds
    print(f"makespan {makespan:.2f} s (booking starts → last take succeeded); ideal {job_seconds:g} s")
    print(f"makespan ÷ ideal: {ratio:.3f}  target ≤ {TARGET_RATIO}: "
          f"{'met' if ratio <= TARGET_RATIO and len(succeeded) == n else 'MISSED'}")


def report_requests(args, renders: list, seen, *, n: int) -> None:
    """Polls, downloads and creates per take, as the studio counted them and as the fake saw them."""
    poll_counts = [r.poll_count for r in renders]
    mean_polls = statistics.mean(poll_counts)
    print(f"polls per take (Render.poll_count): mean {mean_polls:.2f}, min {min(poll_counts)}, "
          f"max {max(poll_counts)}")
    server_polls = seen.poll_count / n
    print(f"polls per take (status requests seen by the provider ÷ N): {server_polls:.2f}  "
          f"target ≤ {TARGET_POLLS}{' (≈ 0 with webhooks)' if args.webhooks else ''}: "
          f"{'met' if max(server_polls, mean_polls) <= TARGET_POLLS else 'MISSED'}")
    print(f"video downloads: {seen.downloads}")
    print(f"creates per take (jobs the provider accepted ÷ N): {seen.creates / n:.2f}  must be exactly 1: "
          f"{'met' if seen.creates == n else 'MISSED'}")
    if args.webhooks:
        outcomes = Counter(str(o) for _, o in seen.webhooks)
        print("webhook deliveries: " + (", ".join(f"HTTP {o} × {c}" for o, c in outcomes.items()) or "none"))


def report_finishes(studio: Studio, finishes: Finishes) -> None:
    print(f"finishing a take, stage by stage ({len(finishes.takes)} takes of {studio.model_id} on "
          f"{studio.driver.label}, finished in this process; median ms per take):")
    print(f"  {'stage':<28}{'thread CPU':>12}{'process CPU':>13}{'wall':>8}")
    for label in Finishes.labels():
        print(f"  {label:<28}" + "".join(f"{finishes.median_ms(label, clock):>{width}.1f}"
                                         for clock, width in (("thread", 12), ("process", 13), ("wall", 8))))
    total = finishes.median_ms("total", "thread")
    print(f"worker CPU to finish a take (poll that sees it done → stored, thread CPU): {total:.1f} ms  "
          f"target ≤ {TARGET_FINISH_MS} ms: {'met' if total <= TARGET_FINISH_MS else 'MISSED'}")


def main() -> None:
    args = parse_args()
    run = Run(args, Path(tempfile.mkdtemp(prefix="bench-pipeline-")), f"bench-{uuid.uuid4().hex[:10]}")
    try:
        prepare(run)
        studio = book_studio(run)
        print(f"{studio.driver.label}: {args.renders} takes of {studio.model_id} {SIZE} {SECONDS} s, every provider "
              f"job {args.job_seconds:g} s; webhooks {'on' if args.webhooks else 'off'}; workers: {args.workers} "
              f"process{'es' if args.workers > 1 else ''} × {args.pool} pool × {args.concurrency}; "
              f"{run.database}; broker {run.broker}; {os.cpu_count()} CPUs, "
              f"load average {os.getloadavg()[0]:.2f}", flush=True)
        if args.finish_takes:
            report_finishes(studio, finish_breakdown(
                driver_class=DRIVERS[args.provider], user=studio.user, model=studio.model_id,
                takes=args.finish_takes, scene=SCENE))
            purge_queue(run.queue, delete=False)  # what those takes queued: no worker must run it
        if args.finish_only:
            return
        start_workers(run, studio)
        warm_up(run, studio)
        report(run, studio, *measure(run, studio))
    finally:
        run.clean_up()


if __name__ == "__main__":
    main()
