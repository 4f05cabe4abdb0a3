"""Error reporting to Sentry, when the operator gives a DSN (SENTRY_DSN)."""

from __future__ import annotations

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration


def sentry_init(dsn: str, *, release: str, environment: str = "production", traces_sample_rate: float = 0.0,
                **options) -> None:
    """Called from settings (so web and worker both report), hence no Django imports here."""
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        # Prompts, likenesses and unreleased footage are the team's: no user data,
        # request bodies or local variables leave the studio with an error.
        data_collection={"user_info": False, "http_bodies": [], "stack_frame_variables": False,
                         "database_query_data": False},
        max_request_body_size="never",
        traces_sample_rate=traces_sample_rate,
        **options,
    )
