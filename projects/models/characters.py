"""Characters (cameos): reusable likenesses, and the consent that makes a person's usable.

A person character is usable only while the person it depicts has granted
consent for that project and provider. Every grant, change and revocation is
written to an append-only log.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from generation.sound.speech import DEFAULT_PITCH, DEFAULT_RATE
from projects.models.sound import PITCH_VALIDATORS, RATE_VALIDATORS


class CharacterKind(models.TextChoices):
    PERSON = "person", _("A real person (their likeness)")
    FICTIONAL = "fictional", _("A fictional character (depicts no real person)")


# Extensions a stored upload may keep. Services name files from what Pillow/PyAV detected;
# any other name (an admin upload, a bug) is stored as .bin, which is only ever downloaded.
STORED_SUFFIXES = {"jpg", "png", "webp", "mp4", "mov", "wav", "mp3", "aac", "m4a", "flac", "ogg", "webm"}


def stored_suffix(filename: str) -> str:
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return suffix if suffix in STORED_SUFFIXES else "bin"


def _character_upload_to(instance, filename):
    character = instance if isinstance(instance, Character) else instance.character
    suffix = stored_suffix(filename)
    return f"characters/{character.team_id}/{character.pk or 'new'}/{uuid.uuid4().hex}.{suffix}"


class Character(models.Model):
    # Set on the rows a page reads by the selectors that build it (projects/selectors/), not columns.
    state_key: str
    state: str
    active: ConsentGrant | None
    still_member: bool

    team = models.ForeignKey("projects.Team", on_delete=models.CASCADE, related_name="characters")
    name = models.CharField(max_length=80)
    description = models.TextField(blank=True, help_text="Looks, wardrobe, manner: woven into prompts")
    kind = models.CharField(max_length=16, choices=CharacterKind.choices)
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="likenesses",
        help_text="For a real person: their own account. Only they can grant consent.",
    )
    reference_video = models.FileField(upload_to=_character_upload_to, blank=True, max_length=300)
    # The scratch voice-over's voice for the character (generation/sound/speech.py); empty: a default.
    voice = models.CharField(max_length=16, blank=True)
    voice_rate = models.PositiveSmallIntegerField(default=DEFAULT_RATE, validators=RATE_VALIDATORS)
    voice_pitch = models.PositiveSmallIntegerField(default=DEFAULT_PITCH, validators=PITCH_VALIDATORS)
    # A recording of the person's own voice: a likeness, kept and heard only under a grant covering voice.
    voice_sample = models.FileField(upload_to=_character_upload_to, blank=True, max_length=300)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="character_name_unique_in_team")]

    def __str__(self):
        return self.name

    @property
    def is_person(self) -> bool:
        return self.kind == CharacterKind.PERSON

    def active_grant(self):
        return self.grants.filter(revoked_at__isnull=True).order_by("-granted_at").first()


class CharacterImage(models.Model):
    character = models.ForeignKey(Character, on_delete=models.CASCADE, related_name="images")
    image = models.FileField(upload_to=_character_upload_to, max_length=300)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "pk"]


class ConsentScope(models.TextChoices):
    TEAM = "team", _("Every project of the team")
    PROJECTS = "projects", _("Selected projects only")


class ConsentGrant(models.Model):
    """The person's permission. Never edited in place: a change revokes and re-grants."""

    character = models.ForeignKey(Character, on_delete=models.CASCADE, related_name="grants")
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    scope = models.CharField(max_length=16, choices=ConsentScope.choices, default=ConsentScope.TEAM)
    projects = models.ManyToManyField("projects.Project", blank=True, related_name="+")
    providers = models.JSONField(default=list, blank=True, help_text="Connection kinds allowed; empty = all")
    expires_at = models.DateTimeField(null=True, blank=True)
    # The person's recorded voice too (a voice sample, recordings of their lines); images alone otherwise.
    covers_voice = models.BooleanField(default=False)
    granted_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-granted_at"]


class ConsentAction(models.TextChoices):
    GRANTED = "granted", _("Granted consent")
    CHANGED = "changed", _("Changed consent")
    REVOKED = "revoked", _("Revoked consent")
    DECLARED_FICTIONAL = "declared_fictional", _("Declared fictional")
    FILES_DELETED = "files_deleted", _("Deleted files on request")


class ConsentEvent(models.Model):
    """Append-only: rows are only ever added (save refuses updates, delete is refused)."""

    # Set for the consent log by projects/selectors/characters.py: (label, words) pairs.
    detail_items: list[tuple[str, str]]

    character = models.ForeignKey(Character, on_delete=models.CASCADE, related_name="consent_events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    action = models.CharField(max_length=32, choices=ConsentAction.choices)
    details = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-pk"]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("The consent log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("The consent log is append-only.")
