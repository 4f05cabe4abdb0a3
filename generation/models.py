"""Renders (takes) and the job book of the built-in previz provider."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class InvalidTransition(Exception):
    pass


class Status(models.TextChoices):
    QUEUED = "queued", "Queued"
    SUBMITTING = "submitting", "Submitting"
    RUNNING = "running", "Rendering"
    DOWNLOADING = "downloading", "Downloading"
    SUCCEEDED = "succeeded", "Done"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"


TERMINAL = {Status.SUCCEEDED, Status.FAILED, Status.CANCELED}

# status → the statuses it may move to. RUNNING → RUNNING is a progress update.
TRANSITIONS = {
    Status.QUEUED: {Status.SUBMITTING, Status.FAILED, Status.CANCELED},
    Status.SUBMITTING: {Status.RUNNING, Status.FAILED, Status.CANCELED},
    Status.RUNNING: {Status.RUNNING, Status.DOWNLOADING, Status.FAILED, Status.CANCELED},
    Status.DOWNLOADING: {Status.SUCCEEDED, Status.FAILED},
    Status.SUCCEEDED: set(),
    Status.FAILED: set(),
    Status.CANCELED: set(),
}


def _render_upload_to(render, filename):
    return f"renders/{render.scene.project.team_id}/{render.scene.project_id}/{render.pk}/{filename}"


class ProvenanceState(models.TextChoices):
    TRUSTED = "trusted", "Trusted"
    VALID = "valid", "Valid, untrusted signer"
    INVALID = "invalid", "Invalid"
    NONE = "none", "No manifest"


class Render(models.Model):
    """One provider job for one scene: a take."""

    scene = models.ForeignKey("projects.Scene", on_delete=models.CASCADE, related_name="renders")
    parent = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="children",
        help_text="The take this one retries or remixes.",
    )
    provider = models.CharField(max_length=64)
    model = models.CharField(max_length=128)
    recipe = models.JSONField(help_text="The exact request sent to the provider.")
    idempotency_key = models.UUIDField(unique=True, default=uuid.uuid4)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    provider_job_id = models.CharField(max_length=200, blank=True)
    error_message = models.TextField(blank=True)
    poll_count = models.PositiveIntegerField(default=0)
    video = models.FileField(upload_to=_render_upload_to, blank=True, max_length=300)
    thumbnail = models.FileField(upload_to=_render_upload_to, blank=True, max_length=300)
    duration_seconds = models.FloatField(null=True, blank=True)
    c2pa_manifest = models.JSONField(null=True, blank=True)
    c2pa_state = models.CharField(max_length=16, choices=ProvenanceState.choices, blank=True)
    c2pa_codes = models.JSONField(default=list, blank=True)
    c2pa_summary = models.JSONField(default=dict, blank=True)
    cost = models.DecimalField(max_digits=10, decimal_places=4, default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status"])]

    def __str__(self):
        return f"Take {self.pk} of {self.scene} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status not in TERMINAL

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL

    def advance(self, to: str, **changes) -> bool:
        """Move to status `to` if the row is still in a state that allows it.

        The check and the write are one conditional UPDATE, so two workers
        racing for the same take cannot both win. Returns False when another
        worker moved the row first; raises when this instance's own status
        can never reach `to`.
        """
        if to not in TRANSITIONS[self.status]:
            raise InvalidTransition(f"A {self.status} take cannot become {to}.")
        if to in TERMINAL:
            changes.setdefault("finished_at", timezone.now())
        changes["updated_at"] = timezone.now()
        sources = [s for s, targets in TRANSITIONS.items() if to in targets]
        won = (
            Render.objects.filter(pk=self.pk, status=self.status, status__in=sources)
            .update(status=to, **changes)
        )
        if won:
            self.status = to
            for field, value in changes.items():
                setattr(self, field, value)
        return bool(won)

    def mark_failed(self, message: str) -> bool:
        return self.advance(Status.FAILED, error_message=message)


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

    def __str__(self):
        return f"previz job {self.id} ({self.status})"
