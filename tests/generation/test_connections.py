"""Provider connections and the model catalog, as an owner and a renderer see them."""

import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from generation import catalog
from generation.models import CatalogModel, ProviderConnection, Render
from generation.providers import connections
from generation.renders import services

SECRET = "sk-live-very-secret-123"
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def gateway(team, owner):
    return connections.connection_create(
        team=team, user=owner, kind="openai-videos", label="Our gateway",
        base_url="http://127.0.0.1:4001/v1", api_key=SECRET, webhook_secret="whsec_c2VjcmV0",
    )


def add(client, team, **overrides):
    # A gateway on this machine: the form checks where a base URL leads, and the tests allow loopback.
    data = {"kind": "openai-videos", "label": "LiteLLM", "base_url": "http://127.0.0.1:4000/v1",
            "auth_style": "bearer", "api_key": SECRET, "webhook_secret": ""}
    data.update(overrides)
    return client.post(reverse("generation:connection_list", args=[team.pk]), data)


def test_an_owner_adds_a_connection_whose_key_is_encrypted_and_never_shown(client_for, owner, team):
    client = client_for(owner)
    add(client, team)
    connection = ProviderConnection.objects.get(label="LiteLLM")
    assert SECRET not in connection.api_key_encrypted
    assert connection.api_key == SECRET
    assert SECRET not in repr(connection)
    assert SECRET not in client.get(reverse("generation:connection_list", args=[team.pk])).content.decode()
    edit = client.get(reverse("generation:connection_edit", args=[team.pk, connection.pk])).content.decode()
    assert SECRET not in edit and "Leave blank to keep the stored key." in edit


def test_saving_an_edit_with_a_blank_key_keeps_the_stored_key(client_for, owner, team, gateway):
    client_for(owner).post(reverse("generation:connection_edit", args=[team.pk, gateway.pk]),
                           {"label": "Renamed", "base_url": gateway.base_url, "auth_style": "api-key", "api_key": ""})
    gateway.refresh_from_db()
    assert (gateway.label, gateway.auth_style, gateway.api_key) == ("Renamed", "api-key", SECRET)


@pytest.mark.parametrize("overrides, message", [
    ({"base_url": ""}, "needs the gateway&#x27;s base URL"),
    ({"api_key": ""}, "Paste the API key"),
    ({"base_url": "not a url"}, "Enter a valid URL."),
])
def test_bad_connection_input_is_refused_and_keeps_the_label(client_for, owner, team, overrides, message):
    html = add(client_for(owner), team, label="Keep me", **overrides).content.decode()
    assert message in html and 'value="Keep me"' in html
    assert not ProviderConnection.objects.filter(label="Keep me").exists()


def test_a_second_connection_with_the_same_label_is_refused(client_for, owner, team, gateway):
    html = add(client_for(owner), team, label="Our gateway").content.decode()
    assert "already has a connection called" in html


@pytest.mark.parametrize("role", ["editor", "reviewer", "viewer"])
def test_only_owners_manage_connections(request, client_for, team, role, gateway):
    client = client_for(request.getfixturevalue(role))
    assert add(client, team, label="Sneaky").status_code == 403
    assert client.post(reverse("generation:connection_test", args=[team.pk, gateway.pk])).status_code == 403
    assert client.get(reverse("generation:connection_edit", args=[team.pk, gateway.pk])).status_code == 403


def test_another_teams_user_gets_404_on_connection_pages(client_for, outsider, team, gateway):
    client = client_for(outsider)
    for method, name, args in [
        ("get", "connection_list", [team.pk]), ("post", "connection_list", [team.pk]),
        ("get", "connection_edit", [team.pk, gateway.pk]), ("post", "connection_test", [team.pk, gateway.pk]),
        ("get", "connection_status", [team.pk, gateway.pk]), ("post", "model_register", [team.pk, gateway.pk]),
    ]:
        assert getattr(client, method)(reverse(f"generation:{name}", args=args)).status_code == 404, name


def test_testing_the_local_connection_reports_ready(client_for, owner, team, django_capture_on_commit_callbacks):
    local = team.connections.get(kind="local")
    with django_capture_on_commit_callbacks(execute=True):
        client_for(owner).post(reverse("generation:connection_test", args=[team.pk, local.pk]), **HX)
    local.refresh_from_db()
    assert local.last_test_ok is True and local.last_test_message == "Local previz is ready."


def test_retired_sora_models_are_not_offered_but_registered_gateway_models_are(team, gateway):
    connections.catalog_register_model(connection=gateway, model_id="seedance-2.0", display_name="Seedance 2",
                                       sizes=["1280x720"], durations=[5, 10], price_per_second=0.25)
    offered = {(t.connection.label, t.model.model_id) for t in catalog.available_targets(team)}
    assert ("Our gateway", "seedance-2.0") in offered
    assert ("Local previz", "previz-animatic-1") in offered
    assert not any(model_id.startswith("sora-2") for _, model_id in offered)


def test_another_teams_connections_are_never_offered(team, make_team, make_user):
    other = make_team("Other", owner=make_user())
    connections.connection_create(team=other, user=None, kind="replicate", label="Theirs", api_key="k")
    assert all(t.connection.team_id == team.pk for t in catalog.available_targets(team))


def test_a_retired_model_is_refused_naming_live_alternatives(scene, editor, gateway):
    with pytest.raises(ValidationError) as refused:
        services.render_create(scene=scene, user=editor, connection=gateway, model_id="sora-2",
                               idempotency_key=uuid.uuid4())
    message = refused.value.messages[0]
    assert message == "Sora 2 was retired on 2026-09-24. Models that fit this scene: Previz animatic (free)."
    assert not Render.objects.exists()


def test_the_shipped_catalog_keeps_sora_prices_for_history(db):
    sora = CatalogModel.objects.get(model_id="sora-2", connection=None)
    pro = CatalogModel.objects.get(model_id="sora-2-pro", connection=None)
    assert sora.is_retired and str(sora.lifecycle_date) == "2026-09-24"
    assert (sora.price_for("1280x720"), pro.price_for("1280x720"), pro.price_for("1792x1024")) == (
        Decimal("0.1"), Decimal("0.3"), Decimal("0.5"))
    assert CatalogModel.objects.get(model_id="sora-2-2025-12-08").snapshot_of == "sora-2"
    assert CatalogModel.objects.filter(kind="replicate", model_id__in=["google/veo-3.1", "wan-video/wan-2.7-t2v"]).count() == 2


def test_a_take_records_the_resolved_model_and_its_price(scene, editor, gateway):
    connections.catalog_register_model(connection=gateway, model_id="wan-2.7", display_name="Wan",
                                       sizes=["1280x720"], durations=[2, 5], price_per_second=0.25)
    take, _ = services.render_create(scene=scene, user=editor, connection=gateway, model_id="wan-2.7",
                                     idempotency_key=uuid.uuid4())
    assert (take.model, take.cost, take.recipe["connection"]) == ("wan-2.7", Decimal("0.50"), "Our gateway")


def test_the_render_form_shows_each_options_estimated_cost(client_for, editor, project, scene, gateway):
    connections.catalog_register_model(connection=gateway, model_id="wan-2.7", display_name="Wan",
                                       sizes=["1280x720"], durations=[2, 5], price_per_second=0.25)
    html = client_for(editor).get(reverse("projects:scene_panel", args=[project.pk, scene.pk])).content.decode()
    assert "Our gateway — Wan · est. $0.50" in html
    assert "Local previz — Previz animatic · est. $0.00" in html


def test_a_size_the_model_cannot_render_is_refused_in_the_page(client_for, editor, scene, gateway):
    connections.catalog_register_model(connection=gateway, model_id="wan-2.7", display_name="Wan",
                                       sizes=["720x1280"], durations=[2], price_per_second=0.25)
    html = client_for(editor).post(reverse("generation:render_create", args=[scene.pk]),
                                   {"target": f"{gateway.pk}:wan-2.7", "idempotency_key": str(uuid.uuid4())},
                                   **HX).content.decode()
    assert "Wan renders 720x1280, not 1280x720." in html
    assert not Render.objects.exists()


@pytest.mark.parametrize("field, value, message", [
    ("sizes", "1280 by 720", "Sizes are WIDTHxHEIGHT"),
    ("sizes", "１２８０x720", "is not a size"),  # digits other than ASCII: the adapter would send them as they are
    ("durations", "five", "whole seconds"),
])
def test_registering_a_model_with_bad_input_says_why(client_for, owner, team, gateway, field, value, message):
    data = {"model_id": "m", "sizes": "1280x720", "durations": "5", "price_per_second": "0.1", field: value}
    response = client_for(owner).post(reverse("generation:model_register", args=[team.pk, gateway.pk]), data,
                                      follow=True)
    assert message in response.content.decode()
    assert not CatalogModel.objects.filter(model_id="m").exists()


def test_owners_see_the_connections_unguessable_webhook_url(client_for, owner, team, gateway, editor):
    page = client_for(owner).get(reverse("generation:connection_list", args=[team.pk])).content.decode()
    assert f"/webhooks/{gateway.webhook_token}/" in page and len(gateway.webhook_token) >= 32
    other = connections.connection_create(team=team, user=owner, kind="replicate", label="R", api_key="k")
    assert other.webhook_token != gateway.webhook_token
    assert gateway.webhook_token not in client_for(editor).get(
        reverse("generation:connection_list", args=[team.pk])).content.decode()


def test_one_adapter_per_connection_until_the_connection_changes(gateway):
    from generation.providers import provider_for

    first = provider_for(gateway)
    assert provider_for(ProviderConnection.objects.get(pk=gateway.pk)) is first
    gateway.set_api_key("sk-rotated")
    gateway.save()
    assert provider_for(gateway) is not first


@pytest.mark.parametrize("kind", ["local", "openai-videos", "replicate", "veo", "vertex", "runway", "fal", "comfyui"])
def test_what_an_adapter_declares_is_read_from_the_class_that_polls_the_connection(team, owner, kind):
    # The poll schedule reads an adapter's declarations (reports_job_time) without building it.
    from generation.providers import adapter_class, provider_for

    connection = team.connections.filter(kind=kind).first() or ProviderConnection(
        team=team, kind=kind, label=kind, base_url="https://provider.example", created_by=owner)
    connection.set_api_key("k")
    connection.save()
    assert type(provider_for(connection)) is adapter_class(kind)


def test_a_kind_without_an_adapter_has_no_class_either(db):
    from generation.providers import ProviderError, adapter_class

    with pytest.raises(ProviderError, match="cannot talk to “sora” connections"):
        adapter_class("sora")


# --- the Providers page says what each connection's adapter declares -----------------------------

def connection_card(page: str, label: str) -> str:
    """The card of the connection called `label` on the Providers page."""
    start = page.index(f"<h2>{label}</h2>")
    return page[start:page.index("</section>", start)]


def test_a_veo_connection_shows_googles_address_and_header_and_asks_for_no_webhook(client_for, owner, team):
    connections.connection_create(team=team, user=owner, kind="veo", label="Google", api_key="AIzaSy-key")

    card = connection_card(client_for(owner).get(reverse("generation:connection_list", args=[team.pk]))
                           .content.decode(), "Google")

    assert "https://generativelanguage.googleapis.com" in card and "x-goog-api-key: &lt;key&gt;" in card
    assert "api.replicate.com" not in card and "Authorization: Bearer" not in card
    # Named for the connection (the Gemini API serves Veo and Gemini Omni), not for one of its models.
    assert "Google Gemini API sends no webhooks: the studio polls each take." in card
    assert "Google Veo" not in card
    assert 'data-testid="webhook-url"' not in card


@pytest.mark.parametrize("kind, address, header", [
    ("replicate", "https://api.replicate.com/v1", "Authorization: Bearer &lt;key&gt;"),
    ("fal", "https://queue.fal.run", "Authorization: Key &lt;key&gt;"),
    ("runway", "https://api.dev.runwayml.com", "X-Runway-Version: 2024-11-06"),
])
def test_each_connection_shows_its_providers_own_address_and_header(client_for, owner, team, kind, address,
                                                                    header):
    connections.connection_create(team=team, user=owner, kind=kind, label="Theirs", api_key="k:s")
    card = connection_card(client_for(owner).get(reverse("generation:connection_list", args=[team.pk]))
                           .content.decode(), "Theirs")
    assert address in card and header in card


def test_a_gateway_shows_the_header_its_owner_chose(client_for, owner, team, gateway):
    gateway.auth_style = "api-key"
    gateway.save()
    card = connection_card(client_for(owner).get(reverse("generation:connection_list", args=[team.pk]))
                           .content.decode(), "Our gateway")
    assert "http://127.0.0.1:4001/v1" in card and "api-key: &lt;key&gt; (Azure)" in card
    assert "(secret stored)" in card


@pytest.mark.parametrize("overrides, field, words", [
    ({"kind": "runway", "base_url": "", "webhook_secret": "whsec_c2VjcmV0"}, "webhook_secret",
     "Runway sends no webhooks"),
    ({"kind": "fal", "base_url": "", "webhook_secret": "whsec_c2VjcmV0"}, "webhook_secret",
     "fal signs its webhooks with its own published keys"),
    ({"kind": "replicate", "base_url": "", "auth_style": "api-key"}, "auth_style",
     "Replicate takes its key as Authorization: Bearer"),
    ({"kind": "comfyui", "base_url": ""}, "base_url", "needs your server&#x27;s address"),
])
def test_the_connection_form_refuses_what_the_provider_has_no_use_for(client_for, owner, team, overrides, field,
                                                                      words):
    html = add(client_for(owner), team, label="Keep me", **overrides).content.decode()
    assert words in html
    assert not ProviderConnection.objects.filter(label="Keep me").exists()


def test_a_comfyui_connection_needs_no_key(client_for, owner, team):
    add(client_for(owner), team, kind="comfyui", label="Our GPU", base_url="http://127.0.0.1:8188", api_key="")
    assert ProviderConnection.objects.filter(label="Our GPU", kind="comfyui").exists()


def test_the_base_url_help_names_each_providers_default_address(client_for, owner, team):
    page = client_for(owner).get(reverse("generation:connection_list", args=[team.pk])).content.decode()
    for address in ("https://api.replicate.com/v1", "https://generativelanguage.googleapis.com",
                    "https://queue.fal.run", "https://api.dev.runwayml.com"):
        assert f"leave blank for {address}." in page
