"""Provider registry. One module per provider behind generation.providers.base.Provider."""

import time

from .base import JobState, ModelSpec, Provider, ProviderError, RenderRequest


def all_providers() -> dict[str, Provider]:
    from .local_previz import LocalPrevizProvider

    providers = [LocalPrevizProvider()]
    return {p.key: p for p in providers}


def get_provider(key: str) -> Provider:
    try:
        return all_providers()[key]
    except KeyError:
        raise ProviderError(f"Unknown provider “{key}”.") from None


def _sleep(seconds: float) -> None:
    # One indirection, so tests can record retry waits instead of sleeping them.
    time.sleep(seconds)


def provider_for(connection) -> Provider:
    """The adapter for a team's connection (its key decrypted only here)."""
    kind = connection.kind if connection is not None else "local"
    if kind == "local":
        from .local_previz import LocalPrevizProvider

        return LocalPrevizProvider()
    if kind == "openai-videos":
        from .openai_videos import OpenAIVideosProvider

        return OpenAIVideosProvider(base_url=connection.base_url, api_key=connection.api_key,
                                    auth_style=connection.auth_style, name=connection.label,
                                    sleep=lambda s: _sleep(s))
    if kind == "replicate":
        from .replicate import DEFAULT_BASE_URL, ReplicateProvider

        return ReplicateProvider(api_key=connection.api_key, base_url=connection.base_url or DEFAULT_BASE_URL,
                                 name=connection.label, webhook_url=webhook_url_for(connection),
                                 sleep=lambda s: _sleep(s))
    raise ProviderError(f"The studio cannot talk to “{kind}” connections.")


def webhook_url_for(connection) -> str | None:
    """Where the provider should call back, when this studio is reachable and has a secret."""
    from django.conf import settings
    from django.urls import reverse

    if not (settings.PUBLIC_BASE_URL and connection.webhook_secret_encrypted):
        return None
    return settings.PUBLIC_BASE_URL.rstrip("/") + reverse("generation:webhook", args=[connection.webhook_token])


__all__ = [
    "JobState", "ModelSpec", "Provider", "ProviderError", "RenderRequest",
    "all_providers", "get_provider", "provider_for", "webhook_url_for",
]
