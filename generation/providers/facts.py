"""What each adapter declares about its wire (Provider class attributes: cancel, job list, end frames…),
read without building a client or decrypting a key. The catalog asks here, so it never depends on the
adapters' modules: each is imported on first ask.
"""

import importlib

from .base import Provider, ProviderError

# Connection kind → (module, class) of its adapter, for what an adapter declares about its wire
# (Provider class attributes) without building a client or decrypting a key; imported on first ask.
_ADAPTER_CLASSES = {
    "local": ("local_previz", "LocalPrevizProvider"),
    "openai-videos": ("openai_videos", "OpenAIVideosProvider"),
    "replicate": ("replicate", "ReplicateProvider"),
    "veo": ("veo", "VeoProvider"),
    "runway": ("runway", "RunwayProvider"),
    "fal": ("fal", "FalProvider"),
    "comfyui": ("comfyui", "ComfyUIProvider"),
}


def adapter_class(kind: str) -> type[Provider]:
    """The adapter class for a connection kind (ProviderError for a kind the studio has no adapter for)."""
    if kind not in _ADAPTER_CLASSES:
        raise ProviderError(f"The studio cannot talk to “{kind}” connections.")
    module, name = _ADAPTER_CLASSES[kind]
    return getattr(importlib.import_module(f".{module}", "generation.providers"), name)


