"""Bring your own provider, end to end in a real browser.

An owner adds an OpenAI-format connection pointing at the local fake provider
server (tests/fakes/provider_server.py), tests it (and sees a wrong key
refused), registers a model the gateway serves, renders a scene on it and sees
the estimated cost in the render form and the actual cost on the take.

Celery runs eagerly here (tests/conftest.py): "Test connection" and "Render
take" finish within their requests, and the page's polling only has to notice.
"""

from __future__ import annotations

import re
from decimal import Decimal

from playwright.sync_api import Locator, Page, expect

from generation.models import Render
from generation.providers import connections
from tests.browser.test_storyboard_journey import refresh_until_settled, scene_card

RENDER_TIMEOUT_MS = 30_000
GOOD_LABEL = "Harbour gateway"
BAD_LABEL = "Gateway with a stale key"
WRONG_KEY = "sk-wrong-9876543210"


# --- Steps, named the way a user would say them ------------------------------

def open_providers(page: Page, team) -> None:
    page.locator(".topbar").get_by_role("link", name="Providers").click()
    expect(page).to_have_url(re.compile(rf"/teams/{team.pk}/connections/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{team.name}: providers")


def add_connection(page: Page, *, label: str, base_url: str, api_key: str) -> Locator:
    form = page.locator("section.card", has=page.get_by_role(
        "heading", name="Add a provider connection"))
    form.get_by_label(re.compile(r"^Provider\b")).select_option("openai-videos")
    form.get_by_label("Name", exact=True).fill(label)
    form.get_by_label("Base URL").fill(base_url)
    form.get_by_label(re.compile(r"^How the key is sent")).select_option("bearer")
    form.get_by_label("API key").fill(api_key)
    form.get_by_role("button", name="Add connection").click()
    expect(page.get_by_role("status")).to_contain_text(f"Added {label}.")
    card = connection_card(page, label)
    expect(card).to_have_count(1)
    expect(card).to_contain_text("key stored")
    return card


def connection_card(page: Page, label: str) -> Locator:
    return page.get_by_test_id("connection").filter(
        has=page.get_by_role("heading", level=2, name=label, exact=True)
    )


def run_connection_test(card: Locator) -> Locator:
    card.get_by_test_id("test-connection").click()
    result = card.get_by_test_id("test-result")
    # "Testing…" first unless the task already finished; then ✓ or ✗.
    expect(result).to_contain_text(re.compile("[✓✗]"))
    return result


def register_model(page: Page, card: Locator, *, model_id: str, display_name: str, sizes: str,
                   durations: str, price: str) -> None:
    card.locator("summary", has_text="Register a model this gateway serves").click()
    card.get_by_label("Model id").fill(model_id)
    card.get_by_label("Display name").fill(display_name)
    card.get_by_label("Sizes").fill(sizes)
    card.get_by_label("Durations").fill(durations)
    card.get_by_label("Price per second").fill(price)
    card.get_by_role("button", name="Register model").click()
    expect(page.get_by_role("status")).to_contain_text(f"Registered {model_id}")


def render_select(card: Locator) -> Locator:
    return card.get_by_test_id("takes").get_by_label("Render with")


def choose_target(select: Locator, text: re.Pattern) -> None:
    option = select.locator("option").filter(has_text=text)
    expect(option).to_have_count(1)
    select.select_option(option.get_attribute("value"))
    expect(select.locator("option:checked")).to_have_text(text)


# --- The journey ----------------------------------------------------------------

def test_owner_renders_a_scene_on_their_own_gateway(
    logged_in_page, owner, team, make_scene, provider_server, live_server,
):
    scene = make_scene(title="Dawn", duration=4, size="1280x720")
    page = logged_in_page(owner)
    open_providers(page, team)

    # A connection with the right key: stored, never shown again, and it works.
    good = add_connection(page, label=GOOD_LABEL, base_url=provider_server.openai_base,
                          api_key=provider_server.api_key)
    assert provider_server.api_key not in page.content()
    expect(page.get_by_label("API key")).to_have_value("")
    result = run_connection_test(good)
    expect(result).to_contain_text("✓")
    expect(result).to_contain_text(f"Connected to {GOOD_LABEL}")
    assert provider_server.seen("GET", r"/openai/v1/videos"), provider_server.requests

    # A connection with a wrong key: the test says so in plain words.
    bad = add_connection(page, label=BAD_LABEL, base_url=provider_server.openai_base,
                         api_key=WRONG_KEY)
    assert WRONG_KEY not in page.content()
    result = run_connection_test(bad)
    expect(result).to_contain_text("✗")
    expect(result).to_contain_text("Authentication failed")
    # Testing the bad one leaves the good one's verdict alone.
    expect(connection_card(page, GOOD_LABEL).get_by_test_id("test-result")).to_contain_text("✓")

    # The gateway serves Veo 3.1: register it on the good connection.
    good = connection_card(page, GOOD_LABEL)
    register_model(page, good, model_id="veo-3.1", display_name="Veo gateway",
                   sizes="1280x720", durations="4, 8", price="0.4")
    expect(good.get_by_role("listitem").filter(has_text="Veo gateway")).to_contain_text("veo-3.1")
    expect(connection_card(page, BAD_LABEL).get_by_role("listitem")).to_have_count(0)
    for secret in (provider_server.api_key, WRONG_KEY):
        assert secret not in page.content()

    # On the storyboard, the render form offers it with its estimate.
    page.goto(f"{live_server.url}/projects/{scene.project_id}/")
    card = scene_card(page, "Dawn")
    select = render_select(card)
    estimate = re.compile(rf"^{re.escape(GOOD_LABEL)} — Veo gateway · est\. \$1\.60$")
    choose_target(select, estimate)
    card.get_by_test_id("render-button").click()

    take = card.get_by_test_id("take")
    expect(take).to_have_count(1)
    refresh_until_settled(take, RENDER_TIMEOUT_MS)
    expect(take).to_have_attribute("data-status", "succeeded")
    expect(take.locator(".take-head")).to_contain_text("$1.60")
    expect(take.get_by_test_id("take-video")).to_be_visible()
    provenance = take.get_by_test_id("provenance")
    provenance.locator("summary").click()
    expect(provenance.get_by_test_id("provenance-state")).to_have_text("Intact, unknown signer")

    # The gateway was asked exactly once, for what the scene needs.
    assert provider_server.accepted["success"] == 1, provider_server.accepted
    (create,) = provider_server.seen("POST", r"/openai/v1/videos")
    assert {k: create.fields[k] for k in ("model", "seconds", "size")} == {
        "model": "veo-3.1", "seconds": "4", "size": "1280x720"}
    render = Render.objects.get(scene=scene)
    assert (render.model, render.cost) == ("veo-3.1", Decimal("1.60")), render


def test_a_retired_model_is_not_offered(logged_in_page, owner, team, make_scene, live_server):
    # An OpenAI-format connection: its shipped models (every Sora) are all retired.
    connections.connection_create(team=team, user=owner, kind="openai-videos", label="Old OpenAI",
                                  base_url="https://api.openai.example/v1", api_key="sk-old")
    scene = make_scene(title="Dawn", duration=4, size="1280x720")
    page = logged_in_page(owner)
    page.goto(f"{live_server.url}/projects/{scene.project_id}/")

    select = render_select(scene_card(page, "Dawn"))
    expect(select.locator("option")).not_to_have_count(0)
    expect(select.locator("option", has_text=re.compile("sora", re.IGNORECASE))).to_have_count(0)
    expect(select.locator("option:checked")).to_have_text(re.compile(r"^Local previz — "))
