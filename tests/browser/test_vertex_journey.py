"""Google Vertex AI, end to end in a real browser.

An owner adds a Vertex AI connection on the Providers page with a service account's JSON key (pasted once,
never shown again), a project and a region, pointing at the local fakes of Google's token service, Vertex AI
and Cloud Storage (tests/fakes/vertex_server.py); tests it (a token is minted, the account is named); and
renders a scene on Veo 3.1 Fast, which plays.

Celery runs eagerly here (tests/conftest.py): "Test connection" and "Render take" finish within their
requests, and the page only has to notice.
"""

from __future__ import annotations

import re
from decimal import Decimal

from playwright.sync_api import expect

from generation.models import ProviderConnection, Render
from tests.browser.test_provider_journey import (
    choose_target,
    connection_card,
    open_providers,
    render_select,
    run_connection_test,
)
from tests.browser.test_storyboard_journey import refresh_until_settled, scene_card

RENDER_TIMEOUT_MS = 30_000
LABEL = "Harbour Vertex"


def test_owner_connects_vertex_with_a_service_account_and_renders_a_take(
        logged_in_page, owner, team, make_scene, vertex_server, live_server, settings):
    settings.GOOGLE_STORAGE_URL = vertex_server.storage_url
    scene = make_scene(title="Dawn", duration=8, size="1280x720")
    page = logged_in_page(owner)
    open_providers(page, team)

    form = page.locator("section.card", has=page.get_by_role("heading", name="Add a provider connection"))
    form.get_by_label(re.compile(r"^Provider\b")).select_option("vertex")
    form.get_by_label("Name", exact=True).fill(LABEL)
    form.get_by_label("Base URL").fill(vertex_server.url)  # the fake; blank in production
    # A mistake first: the key of a person's gcloud sign-in is refused in words, and nothing is kept.
    form.get_by_label("Service account key").fill('{"type": "authorized_user", "refresh_token": "1//0g-secret"}')
    form.get_by_role("button", name="Add connection").click()
    expect(page.get_by_role("alert").filter(has_text="a person's sign-in")).to_be_visible()
    expect(page.get_by_label("Service account key")).to_have_value("")
    assert "1//0g-secret" not in page.content()

    form = page.locator("section.card", has=page.get_by_role("heading", name="Add a provider connection"))
    form.get_by_label("Service account key").fill(vertex_server.key_json())
    form.get_by_label("Google Cloud project id").fill(vertex_server.project)
    form.get_by_label("Region").fill("us-central1")
    form.get_by_role("button", name="Add connection").click()
    expect(page.get_by_role("status")).to_contain_text(f"Added {LABEL}.")

    card = connection_card(page, LABEL)
    expect(card).to_contain_text("key stored")
    expect(card.get_by_test_id("connection-cloud")).to_contain_text(
        f"Project {vertex_server.project} · region us-central1 · service account {vertex_server.client_email}")
    expect(card.get_by_test_id("connection-polled")).to_contain_text("Google Vertex AI sends no webhooks")
    assert "PRIVATE KEY" not in page.content()
    result = run_connection_test(card)
    expect(result).to_contain_text("✓")
    expect(result).to_contain_text(f"Google accepted the service account {vertex_server.client_email}")

    page.goto(f"{live_server.url}/projects/{scene.project_id}/")
    take_card = scene_card(page, "Dawn")
    choose_target(render_select(take_card), re.compile(rf"^{LABEL} — Veo 3\.1 Fast \(Vertex AI\) · est\. \$1\.20$"))
    take_card.get_by_test_id("render-button").click()

    take = take_card.get_by_test_id("take")
    expect(take).to_have_count(1)
    refresh_until_settled(take, RENDER_TIMEOUT_MS)
    expect(take).to_have_attribute("data-status", "succeeded")
    expect(take.get_by_test_id("take-video")).to_be_visible()

    connection = ProviderConnection.objects.get(team=team, label=LABEL)
    render = Render.objects.get(scene=scene)
    assert (render.connection_id, render.model, render.cost) == (connection.pk, "veo-3.1-fast-generate-001",
                                                                 Decimal("1.20"))
    assert vertex_server.accepted == {"success": 1}
    (create,) = vertex_server.seen("POST", r".*/models/veo-3\.1-fast-generate-001:predictLongRunning")
    assert create.json["parameters"]["durationSeconds"] == 8
