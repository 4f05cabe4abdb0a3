"""A worker died while sending a take and the gateway refuses to list its jobs: the take may have been
created and billed, and nothing can tell. The editor sees it said plainly on the board frame, the take
card and the spend line, with where to look at the provider, never as a plain "Failed"; the
committed spend keeps its cost.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone
from playwright.sync_api import expect

from generation import tasks
from generation.models import Render, Status
from generation.providers import connections
from generation.renders import pipeline, services
from tests.browser.conftest import log_in
from tests.browser.test_storyboard_journey import frame, scene_card
from tests.fakes import provider_server as fake


def test_an_editor_sees_an_unconfirmed_take_as_maybe_billed_everywhere(
        new_context, live_server, provider_server, team, project, owner, editor, make_scene,
        django_capture_on_commit_callbacks, monkeypatch):
    gateway = connections.connection_create(
        team=team, user=owner, kind="openai-videos", label="Gateway", base_url=provider_server.openai_base,
        api_key=provider_server.api_key)
    connections.catalog_register_model(connection=gateway, model_id="veo-3.1", display_name="Veo via gateway",
                                       sizes=["1280x720"], durations=[4, 8], price_per_second=0.4)
    scene = make_scene(title="Dawn", duration=4)
    # Booked, and the worker that took its submission died before the provider answered (live
    # server tests commit at once, so the enqueue itself is what is left out).
    monkeypatch.setattr(tasks.submit_render, "delay_on_commit", lambda *args: None)
    monkeypatch.setattr(fake, "openai_list", lambda server, h, r: fake.openai_error(
        h, 403, "Listing videos is not enabled on this gateway.", code="forbidden"))
    take, _ = services.render_create(scene=scene, user=editor, connection=gateway, model_id="veo-3.1",
                                     idempotency_key=uuid.uuid4())
    past = timezone.now() - timedelta(seconds=31)
    Render.objects.filter(pk=take.pk).update(status=Status.SUBMITTING, submitted_at=past, lease_until=past)
    with django_capture_on_commit_callbacks(execute=True):
        counts = pipeline.renders_resume_stalled()
    assert counts["unconfirmed"] == 1, counts

    page = log_in(new_context().new_page(), live_server.url, editor)
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    expect(frame(page, "Dawn").get_by_test_id("frame-status")).to_have_text("Unconfirmed — may be billed")
    expect(page.get_by_test_id("unconfirmed-spend")).to_have_text("incl. $1.60 unconfirmed — may be billed")
    card = scene_card(page, "Dawn").get_by_test_id("take")
    expect(card.get_by_test_id("take-status")).to_have_text("Unconfirmed — may be billed")
    expect(card.get_by_test_id("take-error")).to_contain_text(f"GET {provider_server.openai_base}/videos")
    expect(card.get_by_test_id("take-error")).to_contain_text("Its cost stays counted in the budget.")

    page.goto(f"{live_server.url}/takes/{take.pk}/review/")
    expect(page.get_by_test_id("take-unconfirmed")).to_contain_text("Unconfirmed — may be billed.")
    project.refresh_from_db()
    assert project.render_spend == Decimal("1.6")
