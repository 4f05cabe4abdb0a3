"""Webhook deliveries received from providers (each recorded once)."""

from __future__ import annotations

from django.db import models

from generation.models.connections import ProviderConnection


class WebhookEvent(models.Model):
    """A verified webhook delivery, kept so a replayed one is recognised."""

    connection = models.ForeignKey(ProviderConnection, on_delete=models.CASCADE, related_name="webhook_events")
    webhook_id = models.CharField(max_length=200)
    job_id = models.CharField(max_length=200, blank=True)
    event_type = models.CharField(max_length=100, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "webhook_id"], name="webhook_delivered_once")
        ]
