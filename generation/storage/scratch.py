"""Scratch space for work in progress: one studio folder, swept when what is in it goes stale.

Takes, submits, exports and ingredients are downloaded or built in a temporary folder before
they go to storage. A worker killed mid-task (OOM, deploy, the hard time limit) never runs
the cleanup, and a 100 MB partial video would stay in /tmp forever. So every such folder lives
under settings.STUDIO_TMP_DIR, and a periodic task removes entries nothing has written to for
longer than any task may run.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.files import File

log = logging.getLogger(__name__)


def scratch_root() -> Path:
    root = Path(settings.STUDIO_TMP_DIR)
    root.mkdir(parents=True, exist_ok=True)
    return root


def scratch_dir(prefix: str) -> tempfile.TemporaryDirectory:
    """A temporary folder under the studio's scratch root, removed on exit like any other."""
    return tempfile.TemporaryDirectory(prefix=prefix, dir=scratch_root())


class FinishedFile(File):
    """A complete scratch file, open for reading, on its way into storage: the file system
    storage (on the same disk) moves it into place instead of copying every byte again; a
    bucket storage reads it in chunks (a multipart upload), never whole into memory."""

    def temporary_file_path(self) -> str:
        assert self.file is not None  # made from an open file
        return self.file.name


def _newest_mtime(path: Path) -> float:
    """When anything in `path` was last written: a folder's own mtime does not change while a
    file inside it grows, so a live download is judged by its newest file."""
    newest = path.lstat().st_mtime
    if path.is_dir() and not path.is_symlink():
        for folder, dirs, files in os.walk(path):
            for name in (*dirs, *files):
                try:
                    newest = max(newest, os.lstat(os.path.join(folder, name)).st_mtime)
                except FileNotFoundError:  # removed while we looked
                    pass
    return newest


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _stale(paths, cutoff: float) -> list[Path]:
    stale = []
    for path in paths:
        try:
            if _newest_mtime(path) < cutoff:
                stale.append(path)
        except FileNotFoundError:  # its task finished and cleaned up meanwhile
            pass
    return stale


def scratch_sweep(*, max_age_seconds: float | None = None, now: float | None = None) -> int:
    """Remove scratch entries older than the limit.

    Returns how many were removed. The limit is far above every task's hard time limit, so
    an entry that old belongs to no live task.
    """
    max_age = settings.STUDIO_TMP_MAX_AGE_SECONDS if max_age_seconds is None else max_age_seconds
    cutoff = (time.time() if now is None else now) - max_age
    removed = _stale(scratch_root().iterdir(), cutoff)
    for path in removed:
        log.info("removing stale scratch %s", path)
        _remove(path)
    return len(removed)
