"""ComfyUI workflows an owner uploaded and mapped as models."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from generation.models.catalog import CatalogModel
from generation.models.connections import ProviderConnection


class FramesRule(models.TextChoices):
    ANY = "any", _("Any number of frames")
    EIGHT_N_PLUS_ONE = "8n+1", _("8n+1 frames (LTX-Video)")
    FOUR_N_PLUS_ONE = "4n+1", _("4n+1 frames (Wan 2.x, HunyuanVideo)")


class ComfyWorkflow(models.Model):
    """A ComfyUI graph (API format) a team uploaded, and which of its inputs the studio fills.

    `inputs` maps a role (prompt, negative_prompt, width, height, length, fps, seed, image: the start
    frame, end_image: the end frame, source_video: the take a workflow extends, shots: a shot list for several
    scenes in one take) to [node_id, input_name]; booked takes render on the catalog entry it registers on the
    connection.
    """

    ROLES = ("prompt", "negative_prompt", "width", "height", "length", "fps", "seed", "image", "end_image",
             "source_video", "shots")

    team = models.ForeignKey("projects.Team", on_delete=models.CASCADE, related_name="comfy_workflows")
    connection = models.ForeignKey(ProviderConnection, on_delete=models.CASCADE, related_name="workflows")
    catalog_model = models.OneToOneField(CatalogModel, on_delete=models.SET_NULL, null=True, blank=True,
                                         related_name="workflow")
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, help_text="The catalog model id this workflow renders as")
    graph = models.JSONField(help_text="The workflow in ComfyUI's API format: {node_id: {class_type, inputs}}")
    inputs = models.JSONField(default=dict, blank=True, help_text="role → [node_id, input_name]")
    frames_rule = models.CharField(max_length=8, choices=FramesRule.choices, default=FramesRule.ANY)
    fps = models.PositiveSmallIntegerField(default=24)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                    blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "slug"], name="comfy_workflow_slug_unique"),
        ]

    def __str__(self) -> str:
        return self.name
