"""Previz jobs: the local animatic renderer's queue."""

from __future__ import annotations

import uuid

from django.db import models


class PrevizJob(models.Model):
    """A job of the built-in previz provider.

    The provider is deliberately shaped like a remote service: submit books a
    job here, a worker task renders it, polls read it back.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    spec = models.JSONField()
    status = models.CharField(max_length=16, default="queued")
    progress = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # A heartbeat: set at claim and at every progress report, so a job whose
    # worker died can be told from one that is merely slow.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"previz job {self.id} ({self.status})"
