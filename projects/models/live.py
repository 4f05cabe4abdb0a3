"""The live channel's record: what changed on a project, and who has it open.

Every change a teammate or a worker makes is written here in the same
transaction as the change itself; each web process reads the table once for
all its open pages and pushes the change to them (Server-Sent Events). The id
is the cursor a page reconnects from (Last-Event-ID).
"""

from django.conf import settings
from django.db import models


class ChangeKind(models.TextChoices):
    SCENE_CREATED = "scene_created"
    SCENE_EDITED = "scene_edited"
    SCENE_DELETED = "scene_deleted"  # deleted: moved to the trash
    SCENE_RESTORED = "scene_restored"  # back from the trash
    SCENES_REORDERED = "scenes_reordered"
    TAKE_QUEUED = "take_queued"
    TAKE_PROGRESS = "take_progress"
    TAKE_FINISHED = "take_finished"
    TAKE_FAILED = "take_failed"
    TAKE_APPROVED = "take_approved"
    COMMENT_ADDED = "comment_added"
    COMMENT_RESOLVED = "comment_resolved"
    COMMENT_EDITED = "comment_edited"  # its wording, or whom it is shared with
    DECISION_MADE = "decision_made"
    EXPORT_CHANGED = "export_changed"
    CUT_IMPORT_CHANGED = "cut_import_changed"  # an editor's cut was read (or could not be), or accepted
    CONNECTION_TESTED = "connection_tested"
    CATALOG_CHECKED = "catalog_checked"  # a connection's check for model changes ended
    PLAY_ALL_SOUND_READY = "play_all_sound_ready"  # Play all's mix is made: open Play all pages swap it in
    ROOM_CHANGED = "room_changed"  # a review room: its presenter, and where their player is
    FIELDS_CHANGED = "fields_changed"  # the project's own fields: one added, renamed, its choices changed, deleted
    PRESENCE = "presence"
    NOTIFICATION = "notification"


class ChangeEvent(models.Model):
    """One change, addressed to a team and (usually) one of its projects.

    Scene and take are plain ids, not foreign keys: a "scene deleted" event
    outlives its scene.
    """

    team = models.ForeignKey("projects.Team", on_delete=models.CASCADE, related_name="+")
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, null=True, blank=True,
                                related_name="+")
    kind = models.CharField(max_length=32, choices=ChangeKind.choices)
    scene_id = models.BigIntegerField(null=True, blank=True)
    take_id = models.BigIntegerField(null=True, blank=True)
    object_id = models.BigIntegerField(null=True, blank=True, help_text="An export, a connection or a comment")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+")
    data = models.JSONField(default=dict, blank=True)
    # A change only one person hears of (their bell): delivered to their pages alone.
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True,
                                  related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["project", "id"]), models.Index(fields=["team", "id"])]

    def __str__(self):
        return f"#{self.pk} {self.kind} (project {self.project_id})"


class Presence(models.Model):
    """A page a member has open on a project (one row per open page), kept alive by its live stream."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    client = models.CharField(max_length=64, help_text="The page's own id (one per open tab), prefixed by its user's")
    stream = models.CharField(max_length=40, blank=True,
                              help_text="The page's current stream: an old one ending late leaves the row alone")
    editing_scene_id = models.BigIntegerField(null=True, blank=True)
    seen_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "client"], name="presence_one_row_per_page")]
