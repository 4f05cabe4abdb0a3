"""Provider registry. One module per provider behind generation.providers.base.Provider."""

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


__all__ = [
    "JobState", "ModelSpec", "Provider", "ProviderError", "RenderRequest",
    "all_providers", "get_provider",
]
