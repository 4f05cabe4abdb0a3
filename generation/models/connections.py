"""Provider connections: a team's account at a provider (its kind, key, base URL and webhook token)."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from generation.storage.crypto import decrypt, encrypt
from generation.words import worded

if TYPE_CHECKING:
    from generation.providers.base import ProviderFacts


class ConnectionKind(models.TextChoices):
    LOCAL = "local", _("Local previz (built in)")
    OPENAI_VIDEOS = "openai-videos", _("OpenAI Videos format (any compatible gateway)")
    REPLICATE = "replicate", "Replicate"
    # One API key for both of the Gemini API's video models: Veo 3.1 (predictLongRunning) and Gemini Omni
    # Flash (the Interactions API), the one Google offers first now (generation/providers/gemini_omni.py).
    VEO = "veo", _("Google Gemini API (Veo, Gemini Omni)")
    VERTEX = "vertex", _("Google Vertex AI (Veo, service account)")
    FAL = "fal", _("fal (queue API)")
    RUNWAY = "runway", "Runway"
    COMFYUI = "comfyui", _("ComfyUI (self-hosted)")


class AuthStyle(models.TextChoices):
    BEARER = "bearer", "Authorization: Bearer <key>"
    API_KEY = "api-key", "api-key: <key> (Azure)"


def _webhook_token() -> str:
    return secrets.token_urlsafe(24)


# After an unclear answer to a create, how long the provider's list is searched for the job (seconds;
# generation/renders/lookups.py): a connection's own choice within these bounds.
LOOKUP_WINDOW_MIN, LOOKUP_WINDOW_MAX, LOOKUP_WINDOW_DEFAULT = 30, 3600, 300


class ProviderConnection(models.Model):
    """A team's account at one provider. Keys are encrypted and never shown again."""

    # Set for the Providers page by generation/providers/selectors.py, not columns: what its adapter
    # declares (None for a kind without one) and the address it calls.
    facts: ProviderFacts | None
    address: str
    webhook_url: str  # where it calls back, set by the Providers page's view

    team = models.ForeignKey("projects.Team", on_delete=models.CASCADE, related_name="connections")
    kind = models.CharField(_("provider"), max_length=32, choices=ConnectionKind.choices)
    label = models.CharField(_("name"), max_length=120)
    base_url = models.URLField(_("base URL"), blank=True)
    auth_style = models.CharField(_("how the key is sent"), max_length=16, choices=AuthStyle.choices,
                                  default=AuthStyle.BEARER)
    api_key_encrypted = models.TextField(blank=True)
    webhook_secret_encrypted = models.TextField(blank=True)
    webhook_token = models.CharField(max_length=64, unique=True, default=_webhook_token)
    # What a provider needs beyond an address and a key, as its adapter's facts ask for it: Google Cloud's
    # {"project", "region", "output_uri" (gs://…, optional), "service_account" (the key's client_email,
    # shown on the card; the key itself is api_key_encrypted)}.
    options = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_tested_at = models.DateTimeField(null=True, blank=True)
    last_test_ok = models.BooleanField(null=True)
    last_test_message = models.CharField(max_length=500, blank=True)
    # The same, as codes and their parameters (generation.words): the worker that ran the test speaks no
    # one's language, so the page words it for whoever reads it. [] on rows tested before the codes.
    last_test_words = models.JSONField(default=list, blank=True)
    # After an unclear answer to a create, how long the provider's list is searched for the job before
    # the create is sent again, and watched for a second job after a resend: a slow gateway may list a
    # job minutes after it took the create.
    lookup_window_seconds = models.PositiveIntegerField(
        default=LOOKUP_WINDOW_DEFAULT, validators=[MinValueValidator(LOOKUP_WINDOW_MIN),
                                                   MaxValueValidator(LOOKUP_WINDOW_MAX)],
        help_text=_("Seconds to look for a job in the provider's list after an unclear answer (30–3600)"))

    class Meta:
        ordering = ["kind", "label"]
        constraints = [
            models.UniqueConstraint(fields=["team", "label"], name="connection_label_unique_in_team")
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def last_test_text(self) -> str:
        """The last test's answer in the active language (its stored English when it has no codes)."""
        return worded(self.last_test_words) or self.last_test_message

    def __repr__(self) -> str:  # never leak the key into logs
        return f"<ProviderConnection {self.pk} {self.kind} {self.label!r}>"

    @property
    def api_key(self) -> str:
        return decrypt(self.api_key_encrypted)

    def set_api_key(self, value: str) -> None:
        self.api_key_encrypted = encrypt(value)

    @property
    def webhook_secret(self) -> str:
        return decrypt(self.webhook_secret_encrypted)

    def set_webhook_secret(self, value: str) -> None:
        self.webhook_secret_encrypted = encrypt(value)

    @property
    def has_api_key(self) -> bool:
        return bool(self.api_key_encrypted)
