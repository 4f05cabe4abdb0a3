"""Receiving provider webhooks: verify, deduplicate, then let the poll task do the work.

A webhook only says "look now": the take's state always comes from polling the
provider, so a forged or lost webhook can never corrupt a take.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import CharField

from generation.models import ProviderConnection, Render, Status, WebhookEvent
from generation.providers import ProviderError, WebhookNotice, WebhookScheme, adapter_class
from generation.providers.base import Provider
from generation.providers.fal import verify_fal_webhook
from generation.providers.webhooks import WebhookError, verify_standard_webhook
from generation.renders import tasks as render_tasks
from projects.inputs import has_control_characters


class WebhookRefused(Exception):
    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


class WebhookAlreadyProcessed(Exception):
    """A delivery we already have. Senders retry anything but a 2xx, so this is answered 200."""


def _storable(value: str, field: str, what: str) -> str:
    """Refuse what the column cannot hold (PostgreSQL raises on NUL and on text past varchar(n))."""
    column = WebhookEvent._meta.get_field(field)
    limit = column.max_length if isinstance(column, CharField) else None
    if (limit is not None and len(value) > limit) or has_control_characters(value):
        raise WebhookRefused(400, f"The {what} is longer than {limit} characters or holds control characters.")
    return value


def _adapter(connection: ProviderConnection) -> type[Provider]:
    """The connection's adapter class, if its provider calls back at all."""
    try:
        adapter = adapter_class(connection.kind)
    except ProviderError:
        adapter = None
    if adapter is None or adapter.facts.webhooks == WebhookScheme.NONE:
        raise WebhookRefused(400, "This provider sends no webhooks: the studio polls its takes.")
    return adapter


def _verified(connection: ProviderConnection, scheme: WebhookScheme, headers: Mapping[str, str], body: bytes) -> tuple[str, dict[str, Any]]:
    """(delivery id to deduplicate on, payload) of a webhook whose signature checks out."""
    try:
        if scheme == WebhookScheme.FAL_KEYS:  # Ed25519, keys from fal's JWKS; one delivery per request
            webhook_id = verify_fal_webhook(headers=headers, body=body, jwks_url=settings.FAL_JWKS_URL,
                                            cache=cache)
        else:
            secret = connection.webhook_secret
            if not secret:
                raise WebhookRefused(400, "This connection has no webhook secret configured.")
            webhook_id = verify_standard_webhook(secret=secret, headers=headers, body=body)
    except WebhookError as exc:
        raise WebhookRefused(401, exc.reason)
    try:
        payload = json.loads(body)
    except ValueError:
        raise WebhookRefused(400, "The webhook body is not JSON.")
    return webhook_id, payload if isinstance(payload, dict) else {}


def webhook_receive(*, connection: ProviderConnection, headers: Mapping[str, str], body: bytes) -> Render | None:
    """Returns the take nudged, if any. Raises WebhookRefused (no state changed)."""
    adapter = _adapter(connection)
    scheme = adapter.facts.webhooks
    webhook_id, payload = _verified(connection, scheme, headers, body)
    notice: WebhookNotice = adapter.webhook_notice(payload)
    if scheme == WebhookScheme.FAL_KEYS and notice.job_id != webhook_id:
        # The signature covers the header's request id; the body must be about the same request.
        raise WebhookRefused(401, "The body's request_id is not the signed one.")
    job_id, event_type = notice.job_id, notice.event
    _storable(webhook_id, "webhook_id", "webhook-id header")
    _storable(job_id, "job_id", "job id")
    _storable(event_type, "event_type", "event type")
    try:
        with transaction.atomic():
            WebhookEvent.objects.create(connection=connection, webhook_id=webhook_id, job_id=job_id,
                                        event_type=event_type)
    except IntegrityError:
        raise WebhookAlreadyProcessed()
    running = Render.objects.filter(connection=connection, status=Status.RUNNING)
    if notice.stored_prefix:  # the take stores more than the provider's id (fal: its request's URLs too)
        render = running.filter(provider_job_id__startswith=notice.stored_prefix).first()
    else:
        render = running.filter(provider_job_id=job_id).first()
    if render is not None:
        render_tasks.poll_render.delay(render.pk)
    return render
