"""A real Celery worker process for tests: helpers plus the `real_worker` fixture.

Unit tests run tasks inline (eager). Tests that request `real_worker` get a
separate `celery worker` process that shares the test database (committed
data: the fixture requests `transactional_db`), the broker and the media /
previz / C2PA folders with the test process (and with pytest-django's
`live_server`, which runs in a thread of the test process), and does all the
work: submit → previz job → polls → finish. Works with the zero-set-up
defaults (SQLite file + filesystem broker) and with DATABASE_URL /
CELERY_BROKER_URL (PostgreSQL + Redis in CI).

Tasks go to a queue unique to each test, so a developer's running studio (which
may share the filesystem broker folder) or a parallel test run cannot take them.
The worker sends its own follow-up tasks (poll, finish, previz job) to the same
queue because CELERY_TASK_DEFAULT_QUEUE is set in its environment.

Expose the fixture to a test folder from its conftest.py:

    from tests.worker import real_worker  # noqa: F401

Because `real_worker` depends on `transactional_db`, pytest stops the worker
(and drops its queue) before the database is flushed after the test.
"""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from django.apps import apps as django_apps
from django.conf import settings as django_settings
from django.db import connection
from django.db.models.signals import post_migrate
from kombu import Exchange, Queue

from generation.models import Render, Status
from studio_site.celery import app as celery_app

# Worker start (~2-5 s) + a 2-second previz render + polls, on a slow 2-core CI box.
RENDER_TIMEOUT = float(os.environ.get("INTEGRATION_RENDER_TIMEOUT", "90"))
LOG_TAIL_CHARS = 6000


def database_url() -> str:
    """The test database (not the development one) as a URL the worker's settings parse."""
    db = connection.settings_dict
    engine = db["ENGINE"]
    if engine == "django.db.backends.sqlite3":
        name = str(db["NAME"])
        if name == ":memory:" or name.startswith("file:"):
            pytest.fail("A real worker needs a file SQLite test database (TEST NAME).")
        return f"sqlite:///{Path(name).resolve()}"
    if engine in ("django.db.backends.postgresql", "django.db.backends.postgresql_psycopg2"):
        user = quote(db.get("USER") or "", safe="")
        password = db.get("PASSWORD") or ""
        auth = f"{user}:{quote(password, safe='')}@" if password else (f"{user}@" if user else "")
        host = db.get("HOST") or ""
        host = quote(host, safe="") if host.startswith("/") else host  # a socket folder
        port = f":{db['PORT']}" if db.get("PORT") else ""
        options = {
            k: v for k, v in (db.get("OPTIONS") or {}).items() if isinstance(v, (str, int))
        }
        query = f"?{urlencode(options)}" if options else ""
        return f"postgres://{auth}{host}{port}/{quote(str(db['NAME']), safe='')}{query}"
    pytest.fail(f"No DATABASE_URL recipe for {engine} for a real worker.")


def log_tail(log_path: Path) -> str:
    try:
        text = log_path.read_text(errors="replace")
    except FileNotFoundError:
        return "(no worker log)"
    return text[-LOG_TAIL_CHARS:]


class Worker:
    def __init__(self, proc: subprocess.Popen, log_path: Path, queue: str, *, command=(), env=None):
        self.proc = proc
        self.log_path = log_path
        self.queue = queue
        self._command, self._env = list(command), env

    def kill(self) -> None:
        """kill -9 the worker process by its pid, as an OOM killer or a lost machine would."""
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def start_again(self, *extra_args: str) -> None:
        """A new worker process on the same queue, database and folders (after kill())."""
        assert self.proc.poll() is not None, "start_again() replaces a worker that has stopped"
        with self.log_path.open("ab") as log_file:
            log_file.write(b"\n--- worker started again ---\n")
            self.proc = subprocess.Popen(
                [*self._command, *extra_args], cwd=django_settings.BASE_DIR, env=self._env,
                stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def tail(self) -> str:
        return f"\n--- worker log ({self.log_path}) ---\n{log_tail(self.log_path)}"

    def assert_healthy(self, what: str = "") -> None:
        """Fail at once, with the log, if the worker died or a task raised."""
        if self.proc.poll() is not None:
            pytest.fail(f"The worker exited with code {self.proc.returncode}{what}.{self.tail()}")
        if "raised unexpected" in self.log():
            pytest.fail(f"A task failed in the worker{what}.{self.tail()}")

    def wait_for_render(self, render_id: int, timeout: float = RENDER_TIMEOUT) -> Render:
        """Poll the shared database until the take is terminal; fail with the worker log."""
        deadline = time.monotonic() + timeout
        status = None
        while time.monotonic() < deadline:
            status = Render.objects.filter(pk=render_id).values_list("status", flat=True).first()
            if status in (Status.SUCCEEDED, Status.FAILED, Status.CANCELED):
                return Render.objects.get(pk=render_id)
            if self.proc.poll() is not None:
                pytest.fail(
                    f"The worker exited with code {self.proc.returncode} while take "
                    f"{render_id} was {status!r}.{self.tail()}"
                )
            time.sleep(0.2)
        pytest.fail(f"Take {render_id} still {status!r} after {timeout:.0f} s.{self.tail()}")

    def wait_for_log(self, needle: str, count: int, timeout: float = 30) -> int:
        deadline = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < deadline:
            seen = self.log().count(needle)
            if seen >= count or self.proc.poll() is not None:
                break
            time.sleep(0.2)
        return seen


def cleanup_queue(queue: str) -> None:
    """Drop what is left of the test's queue (pending ETA polls, bindings) from the broker."""
    try:
        with celery_app.connection_for_write() as conn:
            # A channel deletes only the bindings it knows: declare, then purge and delete.
            bound = Queue(queue, Exchange(queue), routing_key=queue)(conn.default_channel)
            bound.declare()
            bound.purge()
            bound.delete()
    except Exception as exc:  # best effort: never hide the test's own result
        print(f"could not clean up queue {queue}: {exc}")
    celery_app.amqp.queues.pop(queue, None)
    options = celery_app.conf.broker_transport_options or {}
    if celery_app.conf.broker_url.startswith(("studiofs://", "filesystem://")) and options.get("control_folder"):
        Path(options["control_folder"], f"{queue}.exchange").unlink(missing_ok=True)


def stop(proc: subprocess.Popen) -> None:
    """Kill the worker (its whole process group) once its test is over.

    Nothing it would still do matters then, and a warm shutdown (SIGTERM) cost each such test ~5 s:
    the worker notices the signal only between two 2-second polls of the broker, then takes its
    time to exit. The message it holds is not acknowledged; its queue is deleted next."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(timeout=10)


# Data migrations whose rows the app needs at run time (the shipped model catalog), in the order
# migrate runs them.
DATA_MIGRATIONS = [
    ("generation.migrations.0005_ship_catalog_and_local_connections", "forwards"),
    ("generation.migrations.0015_previz_takes_reference_images", "take_images"),
    ("generation.migrations.0020_ship_veo_catalog", "forwards"),
    ("generation.migrations.0021_ship_runway_catalog", "forwards"),
    ("generation.migrations.0022_ship_fal_catalog", "forwards"),
    ("generation.migrations.0024_catalog_typical_job_time", "seed"),
    ("generation.migrations.0025_declared_characters_and_provider_cleanup", "declare_characters"),
    # What each shipped model can do for continuity (end frames, extension lengths, likeness references).
    ("generation.migrations.0033_catalog_continuity_capabilities", "forwards"),
    ("generation.migrations.0034_replicate_veo_reference_rule", "forwards"),
    ("generation.migrations.0035_fal_seedance_720p", "forwards"),
    ("generation.migrations.0038_ship_vertex_veo_and_retire_gemini_previews", "forwards"),
    # Vertex's rows declare no extension until its adapter sends one (ProviderFacts.extends).
    ("generation.migrations.0041_vertex_declares_no_extension_yet", "forwards"),
    ("generation.migrations.0044_ship_multishot_catalog", "forwards"),
    ("generation.migrations.0045_ship_gemini_omni_flash", "forwards"),
    # Kling 3.0 on fal: Pro and Standard, from text or a start frame, with audio and elements.
    ("generation.migrations.0046_ship_kling3_family", "forwards"),
]


def _write_shipped_rows(sender, **kwargs) -> None:
    if sender.label == "generation":  # post_migrate is sent once per app; the rows are generation's
        for name, step in DATA_MIGRATIONS:
            getattr(importlib.import_module(name), step)(django_apps, None)


@pytest.fixture(scope="session", autouse=True)
def _shipped_rows_come_back_after_every_flush():
    """Put back what data migrations wrote whenever a test's data is flushed.

    Transactional tests (`transactional_db`, `live_server`) end with a flush
    that also empties the rows data migrations wrote, so any test after one in
    the same process (in whatever order parallel workers take the files) would
    find no model catalog. Django's flush then sends post_migrate, as it does
    to recreate content types: the rows are written again there. Django's
    serialized rollback cannot restore them here: Playwright runs an event loop
    in the test thread, so the test gets a fresh connection object without the
    snapshot taken at setup, and the rollback is silently skipped. Re-running
    the (idempotent) migrations' forward steps is explicit and cheap.
    """
    post_migrate.connect(_write_shipped_rows, dispatch_uid="tests-shipped-rows")
    yield
    post_migrate.disconnect(dispatch_uid="tests-shipped-rows")


@pytest.fixture
def migrated_data(transactional_db):
    """A test on committed data, with the rows data migrations wrote (put back after every flush)."""


@pytest.fixture
def real_worker(migrated_data, transactional_db, settings, tmp_path):
    """A real `celery worker` process on a queue of its own, sharing DB, broker and files."""
    queue = f"studio-it-{uuid.uuid4().hex[:12]}"
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.C2PA_DIR = tmp_path / "c2pa"

    broker_url = celery_app.conf.broker_url
    data_dir = Path(django_settings.DATA_DIR)
    if broker_url.startswith(("studiofs://", "filesystem://")):
        # The worker derives its broker folders from DATA_DIR, as this process did at import.
        folder_in = Path(celery_app.conf.broker_transport_options["data_folder_in"])
        assert folder_in == data_dir / "broker" / "queue", (
            f"broker folder {folder_in} is not under DATA_DIR {data_dir}; the worker would "
            "not see this process's tasks"
        )

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "studio_site.settings",
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": broker_url,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "STUDIO_TMP_DIR": str(settings.STUDIO_TMP_DIR),
        "C2PA_DIR": str(settings.C2PA_DIR),
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
        # The fake providers listen on loopback (tests/conftest.py allows it in this process too).
        "OUTBOUND_ALLOWED_PRIVATE_ADDRESSES": ",".join(django_settings.OUTBOUND_ALLOWED_PRIVATE_ADDRESSES),
    }
    log_path = tmp_path / "worker.log"
    log_file = log_path.open("wb")
    command = [
        sys.executable, "-m", "celery", "-A", "studio_site", "worker",
        "--loglevel=INFO", "--pool=solo", "--concurrency=1", "-Q", queue,
        "-n", f"{queue}@%h", "--without-mingle", "--without-gossip", "--without-heartbeat",
    ]
    proc = subprocess.Popen(
        command,
        cwd=django_settings.BASE_DIR,
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    was_eager = celery_app.conf.task_always_eager
    old_queue = celery_app.conf.task_default_queue
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = queue
    try:
        worker = Worker(proc, log_path, queue, command=command, env=env)
        yield worker
    finally:
        celery_app.conf.task_default_queue = old_queue
        celery_app.conf.task_always_eager = was_eager
        stop(worker.proc)
        log_file.close()
        cleanup_queue(queue)
        # Shown by pytest only when the test failed or errored.
        print(f"--- worker log tail ({log_path}) ---\n{log_tail(log_path)}")
