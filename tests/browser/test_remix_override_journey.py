"""A provider delivered a 2 s portrait clip for a booked 4 s landscape take; remixing it is
refused like approving it. The editor reads that an owner can override; the owner remixes it
anyway with a written reason, the remix lands in the take stack, and the scene's decision
history shows the reason.
"""

from __future__ import annotations

import uuid

from playwright.sync_api import expect

from generation.models import CatalogModel, Render
from generation.providers import connections
from generation.renders import services
from tests.browser.conftest import log_in
from tests.browser.test_storyboard_journey import scene_card

REASON = "Portrait suits the phone cut; remix the light only."


def test_an_owner_remixes_a_blocked_take_with_a_reason_the_editor_is_told_who_can(
        new_context, live_server, provider_server, team, project, owner, editor, make_scene,
        django_capture_on_commit_callbacks):
    gateway = connections.connection_create(
        team=team, user=owner, kind="openai-videos", label="Gateway", base_url=provider_server.openai_base,
        api_key=provider_server.api_key)
    model = connections.catalog_register_model(connection=gateway, model_id="veo-3.1", display_name="Veo via gateway",
                                               sizes=["1280x720"], durations=[4, 8], price_per_second=0.4)
    CatalogModel.objects.filter(pk=model.pk).update(supports_remix=True)
    scene = make_scene(title="Dawn", duration=4)
    with django_capture_on_commit_callbacks(execute=True):
        take, _ = services.render_create(scene=scene, user=editor, connection=gateway, model_id="veo-3.1",
                                         idempotency_key=uuid.uuid4())
    take.refresh_from_db()
    assert take.delivery_problems  # the fake delivers 720×1280, 2 s

    desk = log_in(new_context().new_page(), live_server.url, editor)
    desk.goto(f"{live_server.url}/projects/{project.pk}/")
    card = scene_card(desk, "Dawn").get_by_test_id("take")
    expect(card.get_by_test_id("remix-blocked")).to_contain_text(
        "cannot be remixed. An owner can remix it anyway with a written reason.")
    expect(card.get_by_test_id("remix-button")).to_have_count(0)

    studio = log_in(new_context().new_page(), live_server.url, owner)
    studio.goto(f"{live_server.url}/projects/{project.pk}/")
    card = scene_card(studio, "Dawn").get_by_test_id("take")
    card.get_by_text("Remix this take anyway").click()
    card.get_by_role("textbox", name="What should change?").fill("Warmer light")
    card.get_by_test_id("remix-override-reason").fill(REASON)
    card.get_by_test_id("remix-button").click()
    panel = scene_card(studio, "Dawn")
    expect(panel.get_by_test_id("lineage")).to_have_text(f"Remix of take {take.number}")

    studio.goto(f"{live_server.url}/takes/{take.pk}/review/")
    history = studio.get_by_test_id("decision-history")
    expect(history).to_contain_text(f"Remixed despite failed checks: take {take.number} by {owner.get_username()}")
    expect(history).to_contain_text(REASON)
    remix = Render.objects.get(parent=take)
    assert REASON in remix.recipe["remix_override"]["reason"]
