"""Review: time-coded comments on takes, approval decisions, the activity feed,
notification preferences and guest review links."""

import hashlib
import json
import secrets

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import models
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from generation.words import worded


class CommentQuerySet(models.QuerySet):
    def for_guests(self):
        """What a guest of a review link may read: shared comments, never a request for changes
        (an internal decision note), and a reply only when its thread is shared too."""
        return self.filter(shared=True, requests_changes=False).filter(
            models.Q(parent__isnull=True) | models.Q(parent__shared=True, parent__requests_changes=False))


class Comment(models.Model):
    """A note on a take, anchored at a moment (or a range) of its video.

    Written by a team member (`author`) or by a guest through a review link
    (`guest_name` + `via_link`). Edits keep the earlier wording as revisions.

    `shared`: whether guests of the take's review links may read it. A guest's own
    words are always shared; a teammate's comment is team-only unless they share it.
    """

    take = models.ForeignKey("generation.Render", on_delete=models.CASCADE, related_name="comments")
    parent = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies",
                               help_text="The comment this one answers (threads are one level deep)")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    guest_name = models.CharField(max_length=80, blank=True)
    # A marker an editor left in a timeline brought back into the studio (an editor's cut): its author's
    # name as the timeline wrote it (maybe none), and the member who imported it.
    written_by = models.CharField(max_length=80, blank=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    via_link = models.ForeignKey(
        "projects.ReviewLink", on_delete=models.SET_NULL, null=True, blank=True, related_name="comments"
    )
    body = models.TextField(max_length=5000)
    at_seconds = models.FloatField(null=True, blank=True, help_text="Timecode the comment is anchored to")
    until_seconds = models.FloatField(null=True, blank=True, help_text="End of the range, if a range")
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requests_changes = models.BooleanField(default=False)
    retake = models.ForeignKey(
        "generation.Render", on_delete=models.SET_NULL, null=True, blank=True, related_name="requested_in",
        help_text="The take rendered because of this comment",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    shared = models.BooleanField(
        "Shared with guests", default=False,
        help_text="Guests of a review link showing this take can read it (a reply: only if its thread is shared)",
    )
    drawing = models.JSONField(
        default=list, blank=True,
        help_text="Shapes drawn on the frame (projects/drawing.py), coordinates 0..1 of the frame",
    )

    objects = CommentQuerySet.as_manager()

    class Meta:
        ordering = [models.F("at_seconds").asc(nulls_last=True), "created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(until_seconds__isnull=True)
                | models.Q(at_seconds__isnull=False, until_seconds__gt=models.F("at_seconds")),
                name="comment_range_ends_after_start",
            ),
        ]

    def __str__(self):
        return f"{self.who} at {self.timecode or '—'}: {self.body[:40]}"

    @property
    def who(self) -> str:
        if self.author is not None:
            return self.author.get_username()
        if self.from_cut:
            return (gettext("%(name)s (editor's cut)") % {"name": self.written_by} if self.written_by
                    else gettext("editor's cut"))
        return gettext("%(name)s (guest)") % {"name": self.guest_name} if self.guest_name else gettext("someone")

    @property
    def who_in_english(self) -> str:
        """`who` as the feed stores it: in English, for logs and exports; pages say it in each reader's language
        (Activity.who)."""
        with translation.override("en"):
            return self.who

    @property
    def from_cut(self) -> bool:
        """A marker of an imported editor's cut (its author is a name as the timeline wrote it)."""
        return self.author_id is None and not self.guest_name and (bool(self.written_by) or bool(self.imported_by_id))

    @property
    def timecode(self) -> str:
        if self.at_seconds is None:
            return ""
        text = format_timecode(self.at_seconds)
        if self.until_seconds is not None:
            text += f"–{format_timecode(self.until_seconds)}"
        return text

    @property
    def drawing_json(self) -> str:
        """The drawing for the player (a data attribute, escaped by the template)."""
        return json.dumps(self.drawing or [], separators=(",", ":"))

    @property
    def is_resolved(self) -> bool:
        return self.resolved_at is not None

    @property
    def by_guest(self) -> bool:
        # Not just "no author": a teammate's comment loses its author when their account is deleted.
        return self.author_id is None and bool(self.guest_name)


def format_timecode(seconds: float) -> str:
    """00:02.4 — minutes, seconds and tenths, the way the player shows it."""
    tenths = int(round(max(seconds, 0) * 10))
    minutes, rest = divmod(tenths, 600)
    return f"{minutes:02d}:{rest // 10:02d}.{rest % 10}"


class CommentRevision(models.Model):
    """The wording a comment had before an edit."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="revisions")
    body = models.TextField()
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    replaced_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["replaced_at"]


class Decision(models.TextChoices):
    APPROVED = "approved", _("Approved")
    # An owner approved a take whose checks failed (e.g. tampered credentials); the note is the reason.
    APPROVED_OVERRIDE = "approved_override", _("Approved despite failed checks")
    # An owner remixed a take whose checks failed; the note is the reason. The remix's recipe keeps it too.
    REMIX_OVERRIDE = "remix_override", _("Remixed despite failed checks")
    # An owner extended a take whose checks failed; the note is the reason, kept in the extension's recipe too.
    EXTEND_OVERRIDE = "extend_override", _("Extended despite failed checks")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    APPROVAL_WITHDRAWN = "withdrawn", _("Approval withdrawn")


class ReviewDecision(models.Model):
    """One decision on one take of a scene. Append-only: the history is the record."""

    scene = models.ForeignKey("projects.Scene", on_delete=models.CASCADE, related_name="decisions")
    take = models.ForeignKey("generation.Render", on_delete=models.CASCADE, related_name="decisions")
    decision = models.CharField(max_length=20, choices=Decision.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    comment = models.ForeignKey(Comment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Review decisions are history; they cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Review decisions are history; they cannot be deleted.")


class SceneStatus(models.TextChoices):
    NO_TAKE = "no_take", _("No take")
    IN_REVIEW = "in_review", _("Ready for review")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    APPROVED = "approved", _("Approved")
    # The newest take failed (refused by moderation, expired, …) and nothing was approved: not "in review",
    # there is nothing new to review. The same word as the take's own status (generation.models.Status).
    FAILED = "failed", _("Failed")


class ActivityKind(models.TextChoices):
    RENDER_STARTED = "render_started", _("Render started")
    RENDER_FINISHED = "render_finished", _("Render finished")
    RENDER_FAILED = "render_failed", _("Render failed")
    COMMENT = "comment", _("Comment")
    APPROVED = "approved", _("Approved")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    SCENE_EDITED = "scene_edited", _("Scene edited")
    PROJECT_CREATED = "project_created", _("Project created")
    SCENE_CREATED = "scene_created", _("Scene added")
    SCENES_REORDERED = "scenes_reordered", _("Scenes reordered")
    SCENE_DELETED = "scene_deleted", _("Scene deleted")
    SCENE_RESTORED = "scene_restored", _("Scene restored")
    SCENES_PURGED = "scenes_purged", _("Scenes deleted forever")
    REMIX_OVERRIDE = "remix_override", _("Remixed despite failed checks")
    EXTEND_OVERRIDE = "extend_override", _("Extended despite failed checks")
    SCRIPT_IMPORTED = "script_imported", _("Script imported")
    CUT_IMPORTED = "cut_imported", _("Editor's cut imported")
    REVISION_RESTORED = "revision_restored", _("Board revision restored")
    SCENE_RETARGETED = "scene_retargeted", _("Scene moved to another model")
    MODEL_RETIRING = "model_retiring", _("Model retiring")


# The feed's filters: a name a user picks → the kinds it shows.
ACTIVITY_FILTERS = {
    "renders": [ActivityKind.RENDER_STARTED, ActivityKind.RENDER_FINISHED, ActivityKind.RENDER_FAILED],
    "comments": [ActivityKind.COMMENT],
    "approvals": [ActivityKind.APPROVED, ActivityKind.CHANGES_REQUESTED, ActivityKind.REMIX_OVERRIDE,
                  ActivityKind.EXTEND_OVERRIDE],
    "edits": [ActivityKind.PROJECT_CREATED, ActivityKind.SCENE_CREATED, ActivityKind.SCENE_EDITED,
              ActivityKind.SCENES_REORDERED, ActivityKind.SCENE_DELETED, ActivityKind.SCENE_RESTORED,
              ActivityKind.SCENES_PURGED, ActivityKind.SCRIPT_IMPORTED, ActivityKind.CUT_IMPORTED,
              ActivityKind.REVISION_RESTORED, ActivityKind.SCENE_RETARGETED, ActivityKind.MODEL_RETIRING],
}

# What each filter is called in the feed's menu.
ACTIVITY_FILTER_NAMES = {"renders": _("Renders"), "comments": _("Comments"), "approvals": _("Approvals"),
                         "edits": _("Edits")}


# How the feed stores a guest's name (Comment.who_in_english), read again in the reader's language (Activity.who).
GUEST_SUFFIX = " (guest)"


class Activity(models.Model):
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="activity")
    scene = models.ForeignKey("projects.Scene", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    take = models.ForeignKey("generation.Render", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=24, choices=ActivityKind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+")
    actor_name = models.CharField(max_length=120, blank=True, help_text="A guest's name, or 'studio'")
    text = models.CharField(max_length=500)
    # The same line as codes and their parameters (generation.words), said again in each reader's language
    # (`said`); [] for a line stored before the codes, or one nobody coded: its text is shown.
    words = models.JSONField(default=list, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name_plural = "activity"
        # A page of the feed (newest first, from a (time, id) cursor) reads its rows in index order
        # and stops after one page, however long the history: no sort of every entry.
        indexes = [
            models.Index(fields=["project", "-at", "-id"], name="activity_project_newest"),
            models.Index(fields=["scene", "-at", "-id"], name="activity_scene_newest"),
        ]

    @property
    def who(self) -> str:
        if self.actor is not None:
            return self.actor.get_username()
        if not self.actor_name or self.actor_name.lower() == "studio":
            return gettext("studio")
        if self.actor_name.endswith(GUEST_SUFFIX):  # a guest's comment, stored in English (Comment.who_in_english)
            return gettext("%(name)s (guest)") % {"name": self.actor_name.removesuffix(GUEST_SUFFIX)}
        return self.actor_name

    @property
    def said(self) -> str:
        """The line in the reader's language where it was stored as codes, else as it was stored."""
        return worded(self.words) or self.text


class NotificationPreference(models.Model):
    """What a user wants by email. Missing row = the defaults (everything on)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_prefs")
    mentions = models.BooleanField(_("When someone @mentions me"), default=True)
    approvals = models.BooleanField(_("When a take I rendered or commented on is approved"), default=True)
    changes_requested = models.BooleanField(_("When changes are requested on a take I rendered or commented on"),
                                            default=True)
    renders_finished = models.BooleanField(_("When a take I started finishes or fails"), default=True)
    replies = models.BooleanField(_("When someone replies to a comment thread I wrote in"), default=True)
    budgets = models.BooleanField(_("When a budget I own reaches 80 % or 100 % (owners)"), default=True)
    model_retiring = models.BooleanField(_("When a model our scenes use will retire soon (owners)"), default=True)
    link_guessing = models.BooleanField(_("When someone guesses at the password of a review link I made"),
                                        default=True)

    EVENTS = ("mentions", "approvals", "changes_requested", "renders_finished", "replies", "budgets",
              "model_retiring", "link_guessing")


class RenderDigest(models.Model):
    """Finished and failed takes reach their author as one email, a short while after the
    first one settles: a storyboard rendered in one go is one email, not one per take."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="render_digest")
    last_activity_id = models.PositiveBigIntegerField(default=0, help_text="Feed entries up to this one were sent")
    due_at = models.DateTimeField(null=True, blank=True, help_text="When the scheduled digest goes out")
    base_url = models.CharField(max_length=200, blank=True,
                                help_text="The studio's address when the author last booked a take")


def _link_token() -> str:
    return secrets.token_urlsafe(24)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ReviewLink(models.Model):
    """A link for reviewers outside the team: comment-only, expiring, revocable.

    Only a hash of the token is stored; the link itself is shown once, when made.
    """

    class Scope(models.TextChoices):
        SCENES = "scenes", _("Selected scenes")
        CUT = "cut", _("The approved cut")

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="review_links")
    label = models.CharField(max_length=120)
    token_hash = models.CharField(max_length=64, unique=True)
    scope = models.CharField(max_length=8, choices=Scope.choices, default=Scope.SCENES)
    scenes = models.ManyToManyField("projects.Scene", blank=True, related_name="review_links")
    password = models.CharField(max_length=200, blank=True, help_text="Hashed; empty = no password")
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.label

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()

    @property
    def has_password(self) -> bool:
        return bool(self.password)

    def set_password(self, raw: str) -> None:
        self.password = make_password(raw) if raw else ""

    def check_password(self, raw: str) -> bool:
        return bool(self.password) and check_password(raw, self.password)

    @classmethod
    def new_token(cls) -> tuple[str, str]:
        token = _link_token()
        return token, hash_token(token)


class ReviewRoom(models.Model):
    """A review room on a take: everyone in it follows the presenter's player.

    The player's state lives here, so a late joiner starts at the current moment: where the presenter
    was (`position`) at `updated_at`, and whether it was playing since. `seq` numbers the presenter's
    events: one numbered at or below it is stale (sent earlier, arrived later) and changes nothing.
    A room on the compare page shows two takes of a scene: `take` on the left, `other_take` on the right, both
    players at the room's moment, in the presenter's view (`compare_mode`). A room on Play all shows the project's
    whole sequence: no take; `scene` is the scene playing and `position` the time in it."""

    class Kind(models.TextChoices):
        TAKE = "take", _("A take")
        COMPARE = "compare", _("A compare of two takes")
        PLAY_ALL = "play_all", _("Play all")

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="review_rooms")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.TAKE,
                            help_text="What the room shows: a take, a compare of two takes, or Play all")
    take = models.ForeignKey("generation.Render", on_delete=models.CASCADE, related_name="review_rooms",
                             null=True, blank=True,
                             help_text="The take the room watches now (the presenter may switch); a compare's left; "
                                       "empty on Play all")
    scene = models.ForeignKey("projects.Scene", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                              help_text="Play all: the scene playing (empty: the sequence's start)")
    other_take = models.ForeignKey("generation.Render", on_delete=models.CASCADE, null=True, blank=True,
                                   related_name="+", help_text="A compare's right take (empty: a room on one take)")
    compare_mode = models.CharField(max_length=10, blank=True, default="",
                                    help_text="A compare's view as the presenter shows it: side, wipe or overlay")
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                  related_name="+")
    presenter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+")
    position = models.FloatField(default=0.0, help_text="Seconds into the take at updated_at")
    playing = models.BooleanField(default=False)
    rate = models.FloatField(default=1.0, help_text="The presenter's playback speed (1: real time; 2: twice as fast)")
    seq = models.PositiveIntegerField(default=0)
    drawing = models.JSONField(default=list, blank=True,
                               help_text="The presenter's drawing over the paused frame (projects/review/drawing.py)")
    updated_at = models.DateTimeField(default=timezone.now)
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]

    def __str__(self) -> str:
        return "Room on the project's Play all" if self.is_play_all else f"Room on take {self.take_id}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def is_compare(self) -> bool:
        return self.kind == self.Kind.COMPARE

    @property
    def is_play_all(self) -> bool:
        return self.kind == self.Kind.PLAY_ALL

    @property
    def length(self) -> float | None:
        """Seconds the room can be at: its take's, or the longer of a compare's two."""
        shown = [take for take in (self.take, self.other_take) if take is not None]  # none on Play all: no cap
        lengths = [float(t.duration_seconds) for t in shown if t.duration_seconds]
        return max(lengths) if lengths else None

    def shared_time(self, now=None) -> float:
        """The moment everyone in the room is at now: where the presenter left it, plus the time played since, at the
        presenter's speed."""
        position = self.position
        if self.playing:
            position += max(((now or timezone.now()) - self.updated_at).total_seconds(), 0.0) * self.rate
        length = self.length
        return round(min(position, length) if length else position, 3)
