"""The benches' throwaway database: migrated from scratch, or copied from a migrated SQLite file.

Migrating every app from nothing costs ~4 s of CPU. The suite runs each bench at a tiny size
(tests/bench/) and migrates one SQLite file once: BENCH_SQLITE_TEMPLATE names it, and a bench
on a SQLite database copies it instead of migrating. Without it (a person running a bench),
the database is migrated as `./studio start` would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


def migrate(env: dict | None = None) -> None:
    """Bring the database of `env` (default: this process's environment) to the latest schema."""
    env = {**os.environ, **(env or {})}
    url, template = env.get("DATABASE_URL", ""), env.get("BENCH_SQLITE_TEMPLATE", "")
    if template and url.startswith("sqlite:///"):
        target = Path(url.removeprefix("sqlite:///"))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template, target)
        return
    done = subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"migrate failed:\n{done.stdout}{done.stderr}")


def setup_in_process(tmp: Path, url: str) -> None:
    """Settings for a bench that asks pages through Django's test Client in this process (no server):
    the database at `url`, migrated, plain static URLs (no collectstatic manifest) and any host."""
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "studio_site.settings",
        "DATA_DIR": str(tmp / "data"),
        "MEDIA_ROOT": str(tmp / "media"),
        "C2PA_DIR": str(tmp / "c2pa"),
        "DATABASE_URL": url,
        "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
        "DEBUG": "false",
    })
    migrate()
    import django
    from django.conf import settings

    django.setup()
    settings.STORAGES = {**settings.STORAGES,
                         "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    settings.ALLOWED_HOSTS = ["*"]
    settings.SECURE_SSL_REDIRECT = False


def throwaway_postgres(url: str) -> tuple[str, Callable[[], None]]:
    """Create a fresh database next to the one DATABASE_URL names; returns (url, drop)."""
    import psycopg

    name = f"bench_{uuid.uuid4().hex[:10]}"
    parts = urlsplit(url)
    admin = urlunsplit((parts.scheme.replace("postgis", "postgresql"), parts.netloc,
                        parts.path, parts.query, ""))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, "")), drop
