"""`./studio start` serves like production and stops cleanly; the documented production settings pass check --deploy."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# The production environment README.md documents (TLS proxy in front).
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "x7Hq9-production-secret-key-of-more-than-fifty-characters-kP2m",
    "ALLOWED_HOSTS": "studio.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://studio.example.com",
    "BEHIND_TLS_PROXY": "true",
}


def test_the_documented_production_settings_pass_check_deploy(tmp_path):
    env = {**os.environ, **PRODUCTION_ENV, "DATA_DIR": str(tmp_path)}
    for name in ("SECURE_COOKIES", "DJANGO_ALLOW_ASYNC_UNSAFE", "DEBUG"):
        env.pop(name, None)
    env.update(PRODUCTION_ENV)
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _descendants(pid: int) -> set[int]:
    """Every process below `pid` (children, grandchildren …), from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            parents.setdefault(ppid, []).append(int(entry.name))
    found, stack = set(), [pid]
    while stack:
        for child in parents.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture(scope="module")
def studio_folder(tmp_path_factory):
    """The data and static folders of this module's studios. The first start is a new user's
    first (migrations, collected files, the demo); later ones are `./studio start` run again,
    which keeps everything and skips that work (~20 s here)."""
    return tmp_path_factory.mktemp("studio")


@pytest.fixture
def studio(tmp_path, studio_folder):
    """`./studio start` as a new user runs it: embedded defaults, its own data folder and port."""
    port = _free_port()
    env = {key: value for key, value in os.environ.items()
           if key not in {"DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "CELERY_TASK_ALWAYS_EAGER"}}
    env.update(DATA_DIR=str(studio_folder / "data"), STATIC_ROOT=str(studio_folder / "static"), PORT=str(port),
               WEB_WORKERS="2", WORKERS="1", STOP_TIMEOUT="10")
    log = (tmp_path / "studio.log").open("w+")
    # As at a terminal: Ctrl-C is not ignored. A suite started in the background (`.ci/run &`) has
    # SIGINT ignored, every child inherits that, and a shell cannot trap a signal ignored on entry.
    process = subprocess.Popen([str(ROOT / "studio"), "start"], cwd=ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        try:
            with urllib.request.urlopen(base + "/livez", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            log.seek(0)
            pytest.fail("the studio did not start:\n" + log.read()[-4000:])
        time.sleep(0.3)
    # The services run in process groups of their own: note them now, so a test that failed to stop
    # the studio still leaves nothing running once the script itself is killed.
    started = _descendants(process.pid)
    yield process, base, log
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    for pid in started | _descendants(process.pid):
        for kill in (os.killpg, os.kill):  # a service's whole group (its pool, its workers), then the pid
            try:
                kill(pid, signal.SIGKILL)
            except OSError:
                pass


def _wait_for_worker(base: str) -> str:
    deadline = time.monotonic() + 60
    body = ""
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=10) as response:
                return response.read().decode()
        except urllib.error.HTTPError as error:
            body = error.read().decode()
        time.sleep(0.5)
    pytest.fail("/healthz never became healthy:\n" + body)


def _stops_cleanly(process, log, send) -> None:
    children = _descendants(process.pid)
    assert len(children) >= 4, "expected a Celery worker (with its pool) and uvicorn with two workers"
    send()
    try:
        process.wait(timeout=40)
    except subprocess.TimeoutExpired:
        pytest.fail("./studio start did not stop")
    time.sleep(0.5)
    left = sorted(pid for pid in children if _alive(pid))
    log.seek(0)
    assert left == [], f"processes left running: {left}\n" + log.read()[-3000:]


@pytest.mark.integration
def test_start_serves_with_uvicorn_and_sigterm_stops_everything(studio):
    process, base, log = studio
    with urllib.request.urlopen(base + "/login/", timeout=10) as response:
        assert response.status == 200
        assert response.headers["server"] == "uvicorn"
    with urllib.request.urlopen(base + "/static/studio/studio.css", timeout=10) as response:
        assert response.status == 200  # WhiteNoise serves the collected files
    assert _wait_for_worker(base).splitlines() == ["database: ok", "broker: ok", "storage: ok", "worker: ok"]
    log.seek(0)
    assert "Demo login: username demo" in log.read()
    _stops_cleanly(process, log, lambda: os.kill(process.pid, signal.SIGTERM))


@pytest.mark.integration
def test_ctrl_c_stops_the_web_server_and_the_worker(studio):
    process, base, log = studio
    _wait_for_worker(base)
    # Ctrl-C at a terminal signals the whole foreground process group.
    _stops_cleanly(process, log, lambda: os.killpg(process.pid, signal.SIGINT))
