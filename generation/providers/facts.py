"""Where a connection kind's adapter and its declared facts (ProviderFacts: address, auth, webhooks,
cancel, job list, cost reports, continuity on the wire…) are found, without building a client or
decrypting a key. The one home of this lookup: the package re-exports it, and the catalog asks here,
so it never depends on the registry or the adapters' modules (each is imported on first ask).
"""

import importlib

from generation.words import said

from .base import Provider, ProviderError, ProviderFacts

# Connection kind → (module, class) of its adapter; imported on first ask.
_ADAPTER_CLASSES = {
    "local": ("local_previz", "LocalPrevizProvider"),
    "openai-videos": ("openai_videos", "OpenAIVideosProvider"),
    "replicate": ("replicate", "ReplicateProvider"),
    "veo": ("veo", "VeoProvider"),
    "vertex": ("vertex", "VertexProvider"),
    "runway": ("runway", "RunwayProvider"),
    "fal": ("fal", "FalProvider"),
    "comfyui": ("comfyui", "ComfyUIProvider"),
}


def adapter_class(kind: str) -> type[Provider]:
    """The adapter class for a connection kind (ProviderError for a kind the studio has no adapter for)."""
    if kind not in _ADAPTER_CLASSES:
        raise ProviderError(said("provider.unknown_kind", kind=kind))
    module, name = _ADAPTER_CLASSES[kind]
    adapter: type[Provider] = getattr(importlib.import_module(f".{module}", "generation.providers"), name)
    return adapter


def facts_for(kind: str) -> ProviderFacts | None:
    """What the adapter of a connection kind declares (None for a kind the studio has no adapter for)."""
    try:
        return adapter_class(kind).facts
    except ProviderError:
        return None
