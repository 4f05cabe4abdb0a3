"""Board revisions: the storyboard's scenes and order as they stood after a change worth keeping.

A revision lists the board's scenes in order, each by its id and the digest of its content (title,
prompt, duration, size, camera notes, dialogue, cast, whether it is in the cut, the approved take). The
content itself is a SceneVersion, stored once per project and digest: a reorder makes a revision of a
few bytes, and only a scene whose content changed adds a row. Revisions are history: never edited
(only named) and never deleted while their project lives (projects/storyboard/revisions.py).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from generation.words import worded

MAX_REVISION_NAME = 120


class RevisionKind(models.TextChoices):
    EDITS = "edits", _("Edits since the last revision")
    NAMED = "named", _("Named by hand")
    CUT_IMPORT = "cut_import", _("Editor's cut imported")
    SCRIPT_IMPORT = "script_import", _("Script imported")
    REORDER = "reorder", _("Scenes reordered")
    BULK_MOVE = "bulk_move", _("Scenes moved")
    BULK_TRASH = "bulk_trash", _("Scenes deleted")
    BULK_FIELDS = "bulk_fields", _("Fields set on selected scenes")
    RETARGET = "retarget", _("Scenes moved to another model")
    RESTORE = "restore", _("Revision restored")


class SceneVersion(models.Model):
    """One scene's content as a revision saw it, kept once per project and content digest."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="+")
    digest = models.CharField(max_length=64)
    content = models.JSONField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "digest"], name="scene_version_once_per_project")]


class BoardRevision(models.Model):
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField(help_text="1, 2, 3 … within its project")
    kind = models.CharField(max_length=16, choices=RevisionKind.choices)
    summary = models.CharField(max_length=500, blank=True, help_text="What made it, in words (English)")
    summary_words = models.JSONField(default=list, blank=True,
                                     help_text="What made it, as codes worded in the reader's language "
                                               "(generation/words.py); empty on revisions made before them")
    name = models.CharField(max_length=MAX_REVISION_NAME, blank=True, help_text="A name someone gave it")
    named_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+")
    # [[scene id, SceneVersion digest], …] in board order.
    scenes = models.JSONField(default=list)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["project", "number"], name="revision_number_once_per_project")]

    def __str__(self):
        return f"Revision {self.number} of {self.project_id}"

    @property
    def label(self) -> str:
        """ "v2 sent to client" when named, else what made it."""
        return self.name or self.get_kind_display()

    @property
    def summary_text(self) -> str:
        """What made it, in the reader's language (as it was stored, on revisions made before the codes)."""
        return worded(self.summary_words) if self.summary_words else self.summary
