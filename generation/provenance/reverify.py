"""Recomputing stored takes' provenance verdicts when what they depend on changes.

A verdict depends on the file and on the trust configuration (C2PA_TRUST_ANCHORS, the
studio's own CA, the way files are classified). Files do not change once stored, so only a
change of configuration, seen as a new `provenance.anchors_fingerprint()`, calls for a
recheck; it reads each stored file through the storage API (local disk or a bucket) and
never asks a provider for anything.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from django.core.cache import cache

from generation.models import Render, Status, VerdictFingerprint
from generation.provenance import credentials as provenance
from generation.provenance import ingredients
from generation.storage.scratch import scratch_dir
from projects.live import ChangeKind, live_publish_for_scene

log = logging.getLogger(__name__)

# One re-verification at a time across every host: a key in the shared cache (Redis, else the
# database cache, whose add() is one INSERT exactly one writer wins). It expires, so a holder
# that died stops blocking; longer than the task's hard time limit, so a live run is never doubled.
LOCK_KEY = "generation:reverify-provenance"
LOCK_SECONDS = 3600


class ReverifyBusy(Exception):
    """Another process is re-verifying right now."""


@dataclass
class Reverified:
    checked: int = 0
    changed: int = 0
    unreadable: int = 0
    skipped: bool = False  # the fingerprint had not changed


def studio_signed(take: Render) -> bool:
    return bool((take.c2pa_summary or {}).get("studio_signed"))


def renders_reverify_provenance(*, only_if_changed: bool = False) -> Reverified:
    """Read every finished take's stored video again and store its verdict if it moved."""
    fingerprint = provenance.anchors_fingerprint()
    stored = VerdictFingerprint.objects.filter(pk=1).first()  # one row, always pk 1
    if only_if_changed and stored is not None and stored.fingerprint == fingerprint:
        return Reverified(skipped=True)
    result = Reverified()
    takes = Render.objects.filter(status=Status.SUCCEEDED).exclude(video="").order_by("pk")
    for take in takes.only("pk", "scene_id", "video", "c2pa_state", "c2pa_codes", "c2pa_summary").iterator():
        result.checked += 1
        try:
            with scratch_dir("studio-reverify-") as tmp:
                local = ingredients.local_path(take.video, Path(tmp) / "video.mp4")
                # A copy the studio signed shows its provider's verdict (its parent ingredient).
                read = provenance.read_kept_with_settings if studio_signed(take) else provenance.read_with_settings
                report = read(local)
        except OSError as exc:  # gone from storage: keep the last verdict, say so in the log
            log.warning("take %s: stored video unreadable for re-verification: %s", take.pk, exc)
            result.unreadable += 1
            continue
        fields = provenance.take_fields(report, summary={
            k: v for k, v in (take.c2pa_summary or {}).items() if k.startswith("studio_")})
        if (fields["c2pa_state"], fields["c2pa_codes"], fields["c2pa_summary"]) == (
                take.c2pa_state, take.c2pa_codes, take.c2pa_summary):
            continue
        Render.objects.filter(pk=take.pk).update(**fields)
        result.changed += 1
        # Open boards and panels redraw the take's chip.
        live_publish_for_scene(kind=ChangeKind.TAKE_PROGRESS, scene_id=take.scene_id, take_id=take.pk,
                               data={"status": Status.SUCCEEDED, "moved": False})
    VerdictFingerprint.objects.update_or_create(pk=1, defaults={"fingerprint": fingerprint})
    log.info("provenance re-verified: %s checked, %s changed, %s unreadable",
             result.checked, result.changed, result.unreadable)
    return result


def renders_reverify_provenance_once(*, holder: str) -> Reverified:
    """What a worker does as it starts (deployments that start workers without ./studio: docker,
    systemd): recompute verdicts if the trust configuration changed since they were computed,
    in one process only. Raises ReverifyBusy while another process holds the lock."""
    fingerprint = provenance.anchors_fingerprint()
    if VerdictFingerprint.objects.filter(pk=1, fingerprint=fingerprint).exists():
        return Reverified(skipped=True)  # the usual start: nothing to take a lock for
    if not cache.add(LOCK_KEY, holder, LOCK_SECONDS):
        raise ReverifyBusy(f"{cache.get(LOCK_KEY) or 'another process'} is re-verifying provenance")
    try:
        # Checked again under the lock: a run that just finished elsewhere recorded the fingerprint.
        return renders_reverify_provenance(only_if_changed=True)
    finally:
        cache.delete(LOCK_KEY)
