"""Provider registry. One module per provider behind generation.providers.base.Provider.

Finding a kind's adapter and what it declares (adapter_class, facts_for) lives in facts.py,
re-exported here. Beside the adapters: a team's connections (connections.py,
connection_views.py), keys encrypted at rest (crypto.py), ComfyUI workflows (comfy_workflows.py,
workflow_views.py) and receiving webhooks (webhook_receive.py; signature checks are in webhooks.py).
"""


from __future__ import annotations

import json
import threading
import time
from typing import TYPE_CHECKING, Any

from generation.models import ComfyWorkflow, ConnectionKind
from generation.words import said

from .base import (
    CancelRefund,
    CharacterSet,
    Credentials,
    ExtendRequest,
    JobListing,
    JobProbe,
    JobState,
    ListedModel,
    ModelListing,
    ModelSource,
    ModelSpec,
    Provider,
    ProviderError,
    ProviderFacts,
    RenderRequest,
    Shot,
    WebhookNotice,
    WebhookScheme,
    shots_prompt,
)
from .facts import adapter_class, facts_for

if TYPE_CHECKING:
    from generation.models import ProviderConnection



def _sleep(seconds: float) -> None:
    # One indirection, so tests can record retry waits instead of sleeping them.
    time.sleep(seconds)


_ADAPTERS: dict[tuple[Any, ...], Provider] = {}
_ADAPTERS_LOCK = threading.Lock()


def provider_for(connection: ProviderConnection | None) -> Provider:
    """The adapter for a team's connection (its key decrypted only here).

    One adapter, and so one pooled httpx client, per connection and process;
    editing the connection (URL, auth, key) gives it a fresh one.
    """
    if connection is None or connection.kind == "local":  # the registry's own entry: no client to pool
        return _build(connection)
    cache_key = (connection.pk, connection.kind, connection.base_url, connection.auth_style,
                 connection.api_key_encrypted, connection.webhook_secret_encrypted,
                 json.dumps(connection.options or {}, sort_keys=True))
    with _ADAPTERS_LOCK:
        adapter = _ADAPTERS.get(cache_key)
        if adapter is None:
            for stale in [k for k in _ADAPTERS if k[0] == connection.pk]:
                del _ADAPTERS[stale]
            adapter = _ADAPTERS[cache_key] = _build(connection)
    return adapter


def _build(connection: ProviderConnection | None) -> Provider:
    if connection is None:  # a take of the built-in previz (or whose connection was removed): drawn here
        return _local(connection)
    builder = _BUILDERS.get(connection.kind)
    if builder is None:
        raise ProviderError(said("provider.unknown_kind", kind=connection.kind))
    return builder(connection)


def _local(connection: ProviderConnection | None) -> Provider:
    from .local_previz import LocalPrevizProvider

    return LocalPrevizProvider()


def _openai_videos(connection: ProviderConnection) -> Provider:
    from .openai_videos import OpenAIVideosProvider

    return OpenAIVideosProvider(base_url=connection.base_url, api_key=connection.api_key,
                                auth_style=connection.auth_style, name=connection.label,
                                sleep=lambda s: _sleep(s))


def _replicate(connection: ProviderConnection) -> Provider:
    from .replicate import DEFAULT_BASE_URL, ReplicateProvider

    return ReplicateProvider(api_key=connection.api_key, base_url=connection.base_url or DEFAULT_BASE_URL,
                             name=connection.label, webhook_url=webhook_url_for(connection),
                             sleep=lambda s: _sleep(s))


def _veo(connection: ProviderConnection) -> Provider:
    from .veo import DEFAULT_BASE_URL, VeoProvider

    return VeoProvider(api_key=connection.api_key, base_url=connection.base_url or DEFAULT_BASE_URL,
                       name=connection.label, sleep=lambda s: _sleep(s))


def _vertex(connection: ProviderConnection) -> Provider:
    from django.conf import settings

    from .vertex import VertexProvider

    options = connection.options or {}
    return VertexProvider(service_account=connection.api_key, project=options.get("project", ""),
                          region=options.get("region", ""), output_uri=options.get("output_uri", ""),
                          base_url=connection.base_url, storage_url=settings.GOOGLE_STORAGE_URL,
                          name=connection.label, sleep=lambda s: _sleep(s))


def _runway(connection: ProviderConnection) -> Provider:
    from .runway import DEFAULT_BASE_URL, RunwayProvider

    return RunwayProvider(api_key=connection.api_key, base_url=connection.base_url or DEFAULT_BASE_URL,
                          name=connection.label, sleep=lambda s: _sleep(s))


def _fal(connection: ProviderConnection) -> Provider:
    from django.conf import settings

    from .fal import DEFAULT_BASE_URL, FalProvider

    return FalProvider(api_key=connection.api_key, base_url=connection.base_url or DEFAULT_BASE_URL,
                       name=connection.label, webhook_url=webhook_url_for(connection),
                       api_url=settings.FAL_API_URL, sleep=lambda s: _sleep(s))
def _comfyui(connection: ProviderConnection) -> Provider:
    from .comfyui import ComfyUIProvider, Workflow

    def workflow_for(model_id: str) -> Workflow | None:
        # Read at submit, not when the adapter is built: an owner may remap a workflow meanwhile.
        workflow = ComfyWorkflow.objects.filter(connection_id=connection.pk, slug=model_id).first()
        if workflow is None or not workflow.inputs:
            return None
        return Workflow(graph=workflow.graph, inputs=workflow.inputs, frames_rule=workflow.frames_rule,
                        fps=workflow.fps)

    return ComfyUIProvider(base_url=connection.base_url, api_key=connection.api_key, name=connection.label,
                           workflows=workflow_for, client_id=f"storyboard-studio-{connection.pk}",
                           sleep=lambda s: _sleep(s))


# Connection kind → adapter factory. Adapters are imported lazily: a worker that only
# renders previz never loads a remote provider's module.
_BUILDERS = {
    "local": _local,
    "openai-videos": _openai_videos,
    "replicate": _replicate,
    "veo": _veo,
    "vertex": _vertex,
    "runway": _runway,
    "fal": _fal,
    "comfyui": _comfyui,
}


def remote_kinds() -> list[tuple[str, str]]:
    """(kind, label) of every remote provider the studio has an adapter for, for the connection form (the
    label in the active language)."""
    return [(value, str(label)) for value, label in ConnectionKind.choices
            if value in _BUILDERS and not adapter_class(value).facts.built_in]


def webhook_url_for(connection: ProviderConnection | None) -> str | None:
    """Where the provider should call back: when this studio is reachable, the provider calls back at
    all, and the connection has what checks its signatures (its secret, or the provider's own keys)."""
    if connection is None:  # a take whose connection was removed
        return None
    from django.conf import settings
    from django.urls import reverse

    facts = facts_for(connection.kind)
    scheme = facts.webhooks if facts is not None else WebhookScheme.NONE
    signed = (scheme == WebhookScheme.FAL_KEYS
              or (scheme == WebhookScheme.STANDARD and connection.webhook_secret_encrypted))
    if not (settings.PUBLIC_BASE_URL and signed):
        return None
    return settings.PUBLIC_BASE_URL.rstrip("/") + reverse("generation:webhook", args=[connection.webhook_token])


__all__ = [
    "CancelRefund", "CharacterSet", "Credentials", "ExtendRequest", "JobListing", "JobProbe", "JobState", "ListedModel",
    "ModelListing", "ModelSource", "ModelSpec", "Provider", "ProviderError", "ProviderFacts", "RenderRequest", "Shot",
    "WebhookNotice", "WebhookScheme", "shots_prompt",
    "adapter_class", "facts_for", "provider_for", "remote_kinds", "webhook_url_for",
]
