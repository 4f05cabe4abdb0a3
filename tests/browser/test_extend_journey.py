"""Extend a take in the browser: the take card's Extend form books the continuation into
the same stack, the review player marks where it begins, and Play all plays the whole extended take once it
is approved."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from generation.models import Render
from tests.browser.conftest import log_in
from tests.browser.test_storyboard_journey import scene_card


@pytest.fixture
def harbour(browser: Browser, live_server, owner, project, make_scene, finished_take, previz_without_encode):
    """One scene with one finished 2-second take; the owner has the board open."""
    dawn = make_scene(title="Harbour")
    take = finished_take(dawn)
    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    log_in(page, live_server.url, owner)
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    yield page, dawn, take
    page.context.close()


def test_extending_a_take_adds_it_to_the_stack_marks_the_join_and_plays_in_the_cut(harbour, live_server):
    page, dawn, take = harbour
    panel = scene_card(page, "Harbour")
    card = panel.get_by_test_id("take").filter(has_text="Take 1")

    extend = card.get_by_test_id("extend")
    extend.locator("summary").click()
    extend.get_by_test_id("extend-choice").select_option(label="+3 s · Previz animatic · $0.00")
    extend.get_by_test_id("extend-prompt").fill("The mist lifts; a gull lands on the rail.")
    extend.get_by_test_id("extend-what-will-be-sent").click()
    expect(extend.get_by_test_id("extend-join")).to_contain_text("The continuation begins at 00:00:02:00")
    extend.get_by_test_id("extend-button").click()

    extension = panel.get_by_test_id("take").filter(has_text="Take 2")
    expect(extension.get_by_test_id("lineage")).to_have_text("Extension of take 1")
    expect(extension.get_by_test_id("take-join")).to_have_text("+3 s, joined at 2.00 s", timeout=20_000)
    child = Render.objects.get(parent=take)
    assert child.duration_seconds == pytest.approx(5.0, abs=0.1)

    # The review player marks the join on its timeline; clicking the mark goes there.
    extension.get_by_test_id("review-link").click()
    expect(page.get_by_test_id("review-join")).to_contain_text("Extension of take 1")
    marker = page.get_by_test_id("join-marker")
    expect(marker).to_be_visible()
    page.wait_for_function("() => document.querySelector('[data-testid=review-player]').readyState >= 1")
    bar = page.locator("[data-marker-bar]").bounding_box()
    mark = marker.bounding_box()
    at = (mark["x"] + mark["width"] / 2 - bar["x"]) / bar["width"]
    assert at == pytest.approx(child.join_seconds / child.duration_seconds, abs=0.02), at
    marker.click()
    page.wait_for_function(
        f"() => Math.abs(document.querySelector('[data-testid=review-player]').currentTime - {child.join_seconds}) < 0.05")
    expect(page.get_by_test_id("timecode")).to_have_text("00:00:02:00")

    # Approved, the extension is the scene's take in Play all, and plays past the join.
    page.get_by_test_id("approve-button").click()
    expect(page.get_by_test_id("scene-status")).to_have_text("Approved")
    page.goto(f"{live_server.url}/projects/{dawn.project_id}/cut/")
    expect(page.get_by_test_id("cut-scene")).to_have_count(1)
    expect(page.get_by_test_id("cut-scene")).to_contain_text("take 2 · 5.0 s")
    expect(page.get_by_test_id("cut-total")).to_have_text("00:00:05:00")
    page.get_by_test_id("cut-play").click()
    page.wait_for_function("() => document.querySelector('[data-testid=cut-player]').currentTime > 2.3",
                           timeout=15_000)
    assert page.get_by_test_id("cut-player").evaluate("v => v.currentSrc").endswith(f"/takes/{child.pk}/video/")
