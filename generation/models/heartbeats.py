"""Worker heartbeats and the reconciliation runs that compare takes with the providers' own lists."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from generation.models.connections import ConnectionKind


class WorkerHeartbeat(models.Model):
    """When each Celery worker last ran a task: /healthz reports a worker alive from it.

    Written by a periodic task a worker has to take off the broker, so a fresh
    heartbeat also says the broker delivers.
    """

    hostname = models.CharField(max_length=200, primary_key=True)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.hostname} seen {self.seen_at:%Y-%m-%d %H:%M:%S}"


class ReconciliationRun(models.Model):
    """An owner's comparison of a provider's usage export with the takes the studio recorded.

    The parsed rows and the differences found are kept as they were on that day, so a run can be
    reopened later (and compared with a newer one) even after takes changed."""

    team = models.ForeignKey("projects.Team", on_delete=models.CASCADE, related_name="reconciliations")
    provider = models.CharField(max_length=32, choices=ConnectionKind.choices)
    period_start = models.DateField()
    period_end = models.DateField()
    csv_shape = models.CharField(max_length=16, help_text="generic or replicate")
    rows = models.JSONField(default=list, help_text="The usage rows as parsed: job_id, model, billed_usd, created_at")
    result = models.JSONField(default=dict, help_text="Matches and differences found (generation/spend/reconcile.py)")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Reconciliation {self.pk} of {self.get_provider_display()} {self.period_start}–{self.period_end}"
