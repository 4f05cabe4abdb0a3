"""A parsed screenplay waiting for the user's go-ahead: the preview is stored here, never round-tripped."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

SCRIPT_IMPORT_LIFETIME = timedelta(days=1)


class ScriptImport(models.Model):
    token = models.CharField(max_length=64, unique=True)
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="script_imports")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, help_text="Fountain or Final Draft, as detected from the content")
    split = models.CharField(max_length=16, default="heading")
    scenes = models.JSONField(default=list, help_text="[{title, action, dialogue, prompt, speakers, duration}] in script order")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    @property
    def expired(self) -> bool:
        return self.created_at < timezone.now() - SCRIPT_IMPORT_LIFETIME
