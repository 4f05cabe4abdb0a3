"""The team's world: teams and their members, projects and their ordered scenes."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

# Frame sizes a scene may ask for ("WxH"). Providers narrow this further.
SIZE_CHOICES = [
    ("1280x720", "1280×720 landscape (720p)"),
    ("720x1280", "720×1280 portrait (720p)"),
    ("1920x1080", "1920×1080 landscape (1080p)"),
    ("1080x1920", "1080×1920 portrait (1080p)"),
    ("1024x1024", "1024×1024 square"),
]
MIN_SCENE_SECONDS = 1
MAX_SCENE_SECONDS = 20


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    EDITOR = "editor", "Editor"
    REVIEWER = "reviewer", "Reviewer"
    VIEWER = "viewer", "Viewer"


class Team(models.Model):
    name = models.CharField(max_length=120)
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="teams"
    )

    def __str__(self):
        return self.name


class Membership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="one_membership_per_team")
        ]
        ordering = ["team__name"]

    def __str__(self):
        return f"{self.user} in {self.team} ({self.role})"

    # What each role may do. Viewers only read.
    @property
    def can_edit(self) -> bool:
        return self.role in {Role.OWNER, Role.EDITOR}

    @property
    def can_review(self) -> bool:
        return self.role in {Role.OWNER, Role.REVIEWER}

    @property
    def can_manage(self) -> bool:
        return self.role == Role.OWNER


def _invitation_token() -> str:
    return secrets.token_urlsafe(32)


INVITATION_LIFETIME = timedelta(days=7)


class Invitation(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.EDITOR)
    token = models.CharField(max_length=64, unique=True, default=_invitation_token)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def save(self, *args, **kwargs):
        if not self.expires_at:
            self.expires_at = timezone.now() + INVITATION_LIFETIME
        super().save(*args, **kwargs)

    @property
    def is_usable(self) -> bool:
        return self.accepted_at is None and self.expires_at > timezone.now()


class Project(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="projects")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    default_size = models.CharField(max_length=16, choices=SIZE_CHOICES, default="1280x720")
    default_duration = models.PositiveSmallIntegerField(
        default=4,
        validators=[MinValueValidator(MIN_SCENE_SECONDS), MaxValueValidator(MAX_SCENE_SECONDS)],
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self):
        return self.name


def _reference_upload_to(scene, filename):
    # A new name per upload: takes keep pointing at the original they used.
    import uuid

    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "img"
    return f"references/{scene.project.team_id}/{scene.project_id}/{scene.pk}/{uuid.uuid4().hex}.{suffix}"


class Scene(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="scenes")
    position = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    prompt = models.TextField(max_length=32000)
    duration = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(MIN_SCENE_SECONDS), MaxValueValidator(MAX_SCENE_SECONDS)],
        help_text="Seconds",
    )
    size = models.CharField(max_length=16, choices=SIZE_CHOICES)
    camera_notes = models.CharField(max_length=500, blank=True)
    reference_image = models.FileField(upload_to=_reference_upload_to, blank=True, max_length=300,
                                       help_text="Image-to-video: the first frame or look to start from")
    reference_fit = models.CharField(max_length=8, choices=[("crop", "Crop to fill"), ("pad", "Pad to fit")],
                                     default="crop")
    # Optimistic locking: every save bumps it; a save based on an older
    # version is refused instead of overwriting a colleague's edit.
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    approved_take = models.ForeignKey(
        "generation.Render", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self):
        return f"{self.number}. {self.title}"

    @property
    def number(self) -> int:
        return self.position + 1

    def clean(self):
        # Blank prompts are caught by the field; this catches whitespace-only ones.
        if self.prompt and not self.prompt.strip():
            raise ValidationError({"prompt": "Describe what happens in the scene."})
