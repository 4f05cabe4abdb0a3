"""Read models of a team's provider connections, for the Providers page."""

from __future__ import annotations

from django.db.models import Prefetch

from generation.models import ComfyWorkflow, ProviderConnection
from generation.providers import adapter_class, facts_for


def team_connections(*, team) -> list[ProviderConnection]:
    """The team's connections, each with its models, workflows and `facts`: what its adapter declares
    (None for a kind the studio has no adapter for), so the page never restates a provider's facts."""
    connections = list(ProviderConnection.objects.filter(team=team).prefetch_related(
        "models", Prefetch("workflows", queryset=ComfyWorkflow.objects.defer("graph"))))
    for connection in connections:
        connection.facts = facts_for(connection.kind)
        # Where it calls: its base URL, else its provider's (a Vertex connection's regional endpoint).
        connection.address = (adapter_class(connection.kind).address(base_url=connection.base_url,
                                                                     options=connection.options or {})
                              if connection.facts is not None else connection.base_url)
    return connections
