"""Exports of the approved cut, and cuts imported back from an editor."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from generation.models.takes import Render, RenderQuerySet
from generation.words import Said, recorded, worded
from projects.live import ChangeKind, live_publish_for_project


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Exporting")
    SUCCEEDED = "succeeded", _("Ready")
    FAILED = "failed", _("Failed")


class PdfLayout(models.TextChoices):
    SCENES = "scenes", _("One scene per row (3 a page), with the full prompt")
    GRID = "grid", _("Grid of 6 frames a page, with notes")


def _export_upload_to(export: Export, filename: str) -> str:
    return f"exports/{export.project.team_id}/{export.project_id}/{export.pk}/{filename}"


class Export(models.Model):
    """One "export approved cut" click: a stitched MP4, a ZIP for editors, a PDF storyboard and
    a CSV of the review comments."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="exports")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    idempotency_key = models.UUIDField(unique=True, default=uuid.uuid4)
    status = models.CharField(max_length=16, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    error_message = models.TextField(blank=True, help_text="Why it failed, in English (for logs and older rows)")
    error_words = models.JSONField(default=list, blank=True,
                                   help_text="Why it failed, as codes worded in each reader's language")
    takes = models.ManyToManyField(Render, blank=True, related_name="exports",
                                   help_text="The approved takes this export contains")
    mp4 = models.FileField(upload_to=_export_upload_to, blank=True, max_length=300)
    zip = models.FileField(upload_to=_export_upload_to, blank=True, max_length=300)
    pdf = models.FileField(upload_to=_export_upload_to, blank=True, max_length=300)
    csv = models.FileField(upload_to=_export_upload_to, blank=True, max_length=300,
                           help_text="The review comments of the exported takes, for producers")
    pdf_layout = models.CharField(max_length=8, choices=PdfLayout.choices, default=PdfLayout.SCENES)
    burn_captions = models.BooleanField(default=False, help_text="The lines' captions drawn into the cut's picture")
    summary = models.JSONField(default=dict, blank=True,
                               help_text="Scenes included and left out, durations, remux or re-encode")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Export {self.pk} of {self.project} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in {ExportStatus.QUEUED, ExportStatus.RUNNING}

    def withheld_takes(self) -> RenderQuerySet:
        """Takes in this export whose consent was revoked since: its files must not be handed out."""
        return self.takes.filter(quarantined_at__isnull=False)

    def report_progress(self, percent: int) -> None:
        percent = max(0, min(99, int(percent)))  # 100 means "files stored"
        if Export.objects.filter(pk=self.pk, status=ExportStatus.RUNNING).update(
                progress=percent, updated_at=timezone.now()):
            self.publish_change()
        self.progress = percent

    @property
    def error_text(self) -> str:
        """Why it failed, in the reader's language (an export started by a French teammate fails in French for
        them and in English for the others); a row from before the codes shows its stored words."""
        return worded(self.error_words) or self.error_message

    @property
    def reencode_text(self) -> str:
        """Why the cut was re-encoded, in the reader's language; an export from before the codes shows its
        stored English."""
        summary = self.summary or {}
        return worded(summary.get("reencode_words")) or str(summary.get("reencode_reason") or "")

    def mark_failed(self, words: str | Said | Sequence[Said]) -> None:
        """Words given as codes (generation.words) are said again in each reader's language; plain text is
        that text for everyone."""
        message, codes = recorded(words)
        if Export.objects.filter(pk=self.pk).exclude(status=ExportStatus.SUCCEEDED).update(
                status=ExportStatus.FAILED, error_message=message, error_words=codes, finished_at=timezone.now(),
                updated_at=timezone.now()):
            self.publish_change()
        self.status, self.error_message, self.error_words = ExportStatus.FAILED, message, codes

    def publish_change(self) -> None:
        """The export's row on every open exports page shows its new progress or outcome."""
        live_publish_for_project(kind=ChangeKind.EXPORT_CHANGED, project_id=self.project_id, object_id=self.pk)


class CutImportStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting for a worker")
    READING = "reading", _("Reading the timeline")
    READY = "ready", _("Ready to review")
    FAILED = "failed", _("Could not be read")
    ACCEPTED = "accepted", _("Accepted")


def _cut_import_upload_to(cut_import: CutImport, filename: str) -> str:
    # Never the uploader's name in the path: it is kept in `filename`, for the page only.
    return f"cut-imports/{cut_import.project.team_id}/{cut_import.project_id}/{uuid.uuid4().hex}.timeline"


class CutImport(models.Model):
    """An editor's cut brought back: the timeline file as uploaded, what a worker read in it (the diff
    against the board, generation/exports/cut_import.py) and, once someone accepted some of it, the
    board revision that made."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="cut_imports")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   related_name="+")
    idempotency_key = models.UUIDField(unique=True, default=uuid.uuid4)
    upload = models.FileField(upload_to=_cut_import_upload_to, max_length=300)
    filename = models.CharField(max_length=200, help_text="The file's name as uploaded (shown, never used as a path)")
    size = models.BigIntegerField(default=0)
    kind = models.CharField(max_length=16, blank=True, help_text="otio, edl, fcp_xml or fcpxml, from its content")
    status = models.CharField(max_length=16, choices=CutImportStatus.choices, default=CutImportStatus.QUEUED)
    error_message = models.TextField(blank=True, help_text="Why it could not be read, in English (for logs and "
                                                           "older rows)")
    error_words = models.JSONField(default=list, blank=True,
                                   help_text="Why it could not be read, as codes worded in each reader's language")
    timeline_name = models.CharField(max_length=200, blank=True)
    diff = models.JSONField(default=dict, blank=True, help_text="The changes read, against the board when read")
    accepted_changes = models.JSONField(default=list, blank=True, help_text="The ids of the changes accepted")
    revision = models.ForeignKey("projects.BoardRevision", on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+")
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    accepted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Cut import {self.pk} of {self.project_id} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in {CutImportStatus.QUEUED, CutImportStatus.READING}

    @property
    def error_text(self) -> str:
        """Why it could not be read, in the reader's language; a row from before the codes shows its stored words."""
        return worded(self.error_words) or self.error_message

    def mark_failed(self, words: str | Said | Sequence[Said]) -> None:
        """It could not be read: the words name the line or clip. Nothing on the board changed. Words given as
        codes (generation.words) are said again in each reader's language; plain text is that text for everyone."""
        message, codes = recorded(words)
        if CutImport.objects.filter(pk=self.pk, status__in=[CutImportStatus.QUEUED, CutImportStatus.READING]).update(
                status=CutImportStatus.FAILED, error_message=message, error_words=codes, updated_at=timezone.now()):
            self.publish_change()
        self.status, self.error_message, self.error_words = CutImportStatus.FAILED, message, codes

    def publish_change(self) -> None:
        """Its status region on every open page of it shows what the worker found."""
        live_publish_for_project(kind=ChangeKind.CUT_IMPORT_CHANGED, project_id=self.project_id, object_id=self.pk)
