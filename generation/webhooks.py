"""Receiving provider webhooks: verify, deduplicate, then let the poll task do the work.

A webhook only says "look now": the take's state always comes from polling the
provider, so a forged or lost webhook can never corrupt a take.
"""

from __future__ import annotations

import json

from django.db import IntegrityError, transaction

from generation.models import ProviderConnection, Render, Status, WebhookEvent
from generation.providers.webhooks import WebhookError, verify_standard_webhook
from projects.inputs import has_control_characters


class WebhookRefused(Exception):
    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


class WebhookAlreadyProcessed(Exception):
    """A delivery we already have. Senders retry anything but a 2xx, so this is answered 200."""


def _job_id(connection: ProviderConnection, payload: dict) -> tuple[str, str]:
    if connection.kind == "openai-videos":  # {type, data: {id}}
        return str((payload.get("data") or {}).get("id", "")), str(payload.get("type", ""))
    return str(payload.get("id", "")), str(payload.get("status", ""))  # Replicate: the prediction


def _storable(value: str, field: str, what: str) -> str:
    """Refuse what the column cannot hold (PostgreSQL raises on NUL and on text past varchar(n))."""
    limit = WebhookEvent._meta.get_field(field).max_length
    if len(value) > limit or has_control_characters(value):
        raise WebhookRefused(400, f"The {what} is longer than {limit} characters or holds control characters.")
    return value


def webhook_receive(*, connection: ProviderConnection, headers, body: bytes) -> Render | None:
    """Returns the take nudged, if any. Raises WebhookRefused (no state changed)."""
    secret = connection.webhook_secret
    if not secret:
        raise WebhookRefused(400, "This connection has no webhook secret configured.")
    try:
        webhook_id = verify_standard_webhook(secret=secret, headers=headers, body=body)
    except WebhookError as exc:
        raise WebhookRefused(401, exc.reason)
    try:
        payload = json.loads(body)
    except ValueError:
        raise WebhookRefused(400, "The webhook body is not JSON.")
    job_id, event_type = _job_id(connection, payload if isinstance(payload, dict) else {})
    _storable(webhook_id, "webhook_id", "webhook-id header")
    _storable(job_id, "job_id", "job id")
    _storable(event_type, "event_type", "event type")
    try:
        with transaction.atomic():
            WebhookEvent.objects.create(connection=connection, webhook_id=webhook_id, job_id=job_id,
                                        event_type=event_type)
    except IntegrityError:
        raise WebhookAlreadyProcessed()
    render = Render.objects.filter(connection=connection, provider_job_id=job_id, status=Status.RUNNING).first()
    if render is not None:
        from generation.tasks import poll_render

        poll_render.delay(render.pk)
    return render
