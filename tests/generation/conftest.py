"""Provider connections on the strict local fake, shared by the generation tests that book remote takes."""

import pytest

from generation.providers import connections


@pytest.fixture
def gateway(team, owner, provider_server):
    """An OpenAI-format gateway on the fake, serving Veo 3.1 at 1280x720 for 4 or 8 s ($0.40 a second)."""
    connection = connections.connection_create(
        team=team, user=owner, kind="openai-videos", label="Gateway", base_url=provider_server.openai_base,
        api_key=provider_server.api_key)
    connections.catalog_register_model(connection=connection, model_id="veo-3.1", display_name="Veo via gateway",
                                       sizes=["1280x720"], durations=[4, 8], price_per_second=0.4)
    return connection


@pytest.fixture
def replicate(team, owner, provider_server):
    return connections.connection_create(team=team, user=owner, kind="replicate", label="Replicate",
                                         base_url=provider_server.replicate_base, api_key=provider_server.api_key)
