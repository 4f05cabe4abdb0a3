"""A provider hands back a 2 s portrait clip for a booked 4 s landscape take.

The reviewer sees, on the take's review page, what was delivered against what was booked,
and cannot approve it; the owner approves it anyway with a written reason, and the scene
then shows the take as approved.
"""

from __future__ import annotations

import uuid

from playwright.sync_api import expect

from generation.providers import connections
from generation.renders import services
from tests.browser.conftest import log_in, log_in_through_the_form


def test_a_take_delivered_other_than_booked_needs_the_owners_reason_to_be_approved(
        new_context, live_server, provider_server, team, owner, reviewer, editor, make_scene,
        django_capture_on_commit_callbacks):
    gateway = connections.connection_create(
        team=team, user=owner, kind="openai-videos", label="Gateway", base_url=provider_server.openai_base,
        api_key=provider_server.api_key)
    connections.catalog_register_model(connection=gateway, model_id="veo-3.1", display_name="Veo via gateway",
                                       sizes=["1280x720"], durations=[4, 8], price_per_second=0.4)
    scene = make_scene(title="Dawn", duration=4)
    with django_capture_on_commit_callbacks(execute=True):
        take, _ = services.render_create(scene=scene, user=editor, connection=gateway, model_id="veo-3.1",
                                         idempotency_key=uuid.uuid4())

    page = log_in_through_the_form(new_context().new_page(), live_server.url, reviewer)  # a reviewer at the real form
    page.goto(f"{live_server.url}/takes/{take.pk}/review/")
    problems = page.get_by_test_id("delivery-problems")
    expect(problems).to_contain_text("Delivered 720×1280, 2.0 s; booked 1280×720, 4 s")
    page.get_by_test_id("approve-button").click()
    expect(page.get_by_test_id("decision-error")).to_contain_text("other than what was booked")
    expect(page.get_by_test_id("approved-badge")).to_have_count(0)

    studio = log_in(new_context().new_page(), live_server.url, owner)
    studio.goto(f"{live_server.url}/takes/{take.pk}/review/")
    studio.get_by_test_id("override-reason").fill("Portrait suits the phone cut.")
    studio.get_by_test_id("approve-button").click()
    expect(studio.get_by_test_id("approved-badge")).to_be_visible()  # answered in place
    studio.reload()
    expect(studio.get_by_test_id("approved-badge")).to_be_visible()
