"""The catalog follows the provider, in a real browser: an owner checks a fal connection for model changes,
accepts one new model and one retirement (and not a third change), and books the new model.

fal's model search and price list are the strict fake's (tests/fakes/fal_server.py), as fal publishes them:
it has added Veo 3.1 Lite, lets Veo 3.1 Fast render 10 s too, and no longer lists Seedance 2.0. Celery runs
eagerly: the check ends within its click, and the take within its booking.
"""

from __future__ import annotations

import datetime
import os
import re
from decimal import Decimal

from django.utils import timezone
from playwright.sync_api import expect

from generation.models import CatalogModel, Render
from generation.providers import connections
from projects.models import AuditAction, AuditEntry
from tests.browser.test_provider_journey import (
    RENDER_TIMEOUT_MS,
    choose_target,
    connection_card,
    open_providers,
    render_select,
)
from tests.browser.test_storyboard_journey import refresh_until_settled, scene_card
from tests.fakes.fal_server import VEO_PUBLISHED

LITE, FAST = "fal-ai/veo3.1/lite", "fal-ai/veo3.1/fast"
SEEDANCE = "bytedance/seedance-2.0/text-to-video"
# Set to a folder to keep the page at 1440 and 390 px wide at each step (for a person to look at).
SHOTS = os.environ.get("STUDIO_SCREENSHOTS", "")


def shoot(page, name: str) -> None:
    if not SHOTS:
        return
    for width, height in ((1440, 1000), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=f"{SHOTS}/{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_an_owner_accepts_a_new_model_and_a_retirement_then_books_the_new_model(
        logged_in_page, owner, team, make_scene, fal_server, live_server, settings):
    settings.FAL_API_URL = fal_server.api_url
    fal = connections.connection_create(team=team, user=owner, kind="fal", label="fal", base_url=fal_server.url,
                                        api_key=fal_server.api_key)
    fal_server.published[LITE] = ("Veo 3.1 Lite", "text-to-video", "Veo31Lite", VEO_PUBLISHED)
    fal_server.prices[LITE] = (0.05, "second")
    name, category, schema, properties = fal_server.published[FAST]
    fal_server.published[FAST] = (name, category, schema, {**properties, "duration": (
        {"type": "string", "enum": ["4s", "6s", "8s", "10s"]}, False)})
    del fal_server.published[SEEDANCE]
    scene = make_scene(title="Dawn", duration=4, size="1280x720")
    page = logged_in_page(owner)

    open_providers(page, team)
    connection_card(page, "fal").get_by_test_id("connection-models").click()
    changes = page.get_by_test_id("catalog-changes")
    expect(changes.get_by_test_id("check-status")).to_have_text("Not checked yet.")
    changes.get_by_test_id("check-models").click()
    changes = page.get_by_test_id("catalog-changes")
    expect(changes.get_by_test_id("check-status")).to_contain_text("3 changes to review")

    new = changes.get_by_test_id("proposed-change").filter(has_text=LITE)
    expect(new).to_contain_text("New model")
    expect(new.get_by_test_id("change-details")).to_contain_text("1280x720, 720x1280, 1920x1080, 1080x1920")
    expect(new).to_contain_text("fal lists $0.05: confirm it, or write your own.")
    expect(new.get_by_label("Price per second (US$)")).to_have_value("0.05")
    expect(new.get_by_test_id("change-note").last).to_contain_text("also offers 1:1")
    changed = changes.get_by_test_id("proposed-change").filter(has_text=FAST)
    expect(changed.get_by_test_id("change-details")).to_have_text("Seconds: 4, 6, 8 → 4, 6, 8, 10")
    gone = changes.get_by_test_id("proposed-change").filter(has_text=SEEDANCE)
    expect(gone.get_by_test_id("change-details")).to_contain_text("fal no longer lists it")
    retire_on = timezone.localdate() + datetime.timedelta(days=14)
    expect(gone.get_by_label("Retires on")).to_have_value(f"{retire_on:%Y-%m-%d}")
    shoot(page, "models-changes")

    # The new model and the retirement; Fast's longer take is left for later.
    new.get_by_test_id("accept-change").check()
    gone.get_by_test_id("accept-change").check()
    changes.get_by_test_id("accept-selected").click()
    expect(page.get_by_role("status").filter(has_text="Accepted 2 changes on fal.")).to_be_visible()
    row = page.get_by_test_id("catalog-entry").filter(has_text=LITE)
    expect(row.get_by_test_id("entry-origin")).to_have_text("registered by this team")
    expect(row.get_by_test_id("entry-price")).to_have_text("$0.05")
    expect(page.get_by_test_id("catalog-entry").filter(has_text=SEEDANCE).get_by_test_id("entry-lifecycle")).to_have_text(
        f"Deprecated (retires {retire_on:%Y-%m-%d})")
    changes = page.get_by_test_id("catalog-changes")
    expect(changes.get_by_test_id("change-accepted")).to_have_count(2)
    expect(changes.get_by_test_id("accept-change")).to_have_count(1)  # Fast's change waits
    shoot(page, "models-accepted")

    # Book the new model: 4 s at the confirmed $0.05 a second.
    page.goto(f"{live_server.url}/projects/{scene.project_id}/")
    card = scene_card(page, "Dawn")
    choose_target(render_select(card), re.compile(r"^fal — Veo 3\.1 Lite · est\. \$0\.20$"))
    card.get_by_test_id("render-button").click()
    take = card.get_by_test_id("take")
    expect(take).to_have_count(1)
    refresh_until_settled(take, RENDER_TIMEOUT_MS)
    expect(take).to_have_attribute("data-status", "succeeded")
    expect(take.locator(".take-head")).to_contain_text("$0.20")

    (submit,) = fal_server.seen("POST", "/" + LITE)
    assert submit.json == {"prompt": Render.objects.get(scene=scene).recipe["prompt"], "duration": "4s",
                           "aspect_ratio": "16:9", "resolution": "720p", "generate_audio": True}
    assert Render.objects.get(scene=scene).cost == Decimal("0.20")
    assert CatalogModel.objects.get(connection=fal, model_id=SEEDANCE).lifecycle == "deprecated"
    assert set(AuditEntry.objects.filter(team=team).values_list("action", flat=True)) >= {
        AuditAction.MODEL_ADDED_FROM_PROVIDER, AuditAction.PROVIDER_CHANGE_ACCEPTED}
