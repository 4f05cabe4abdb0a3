"""Hourly: remove what killed workers left in scratch space. Its name stays `generation.tasks.*`."""

import logging

from celery import shared_task

from generation.storage import scratch

log = logging.getLogger(__name__)


@shared_task(name="generation.tasks.sweep_studio_tmp", ignore_result=True, soft_time_limit=300, time_limit=330)
def sweep_studio_tmp() -> None:
    """Partial downloads and builds of workers that were killed (see generation/storage/scratch.py)."""
    removed = scratch.scratch_sweep()
    if removed:
        log.info("removed %d stale scratch entries", removed)
