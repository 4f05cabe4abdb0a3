"""A review room on the compare page: Rita presents two takes side by side, Eddie's pair of players follows hers over
the live channel (play, pause, seek, a frame step) and so does his view when she switches to a wipe."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import log_in

LIVE = 5_000
FRAME = 1 / 24
BOTH = "[...document.querySelectorAll('[data-compare-video]')]"


def lead_time(page: Page) -> float:
    return page.evaluate("document.querySelector('[data-compare-video]').currentTime")


def wait_ready(page: Page) -> None:
    page.wait_for_function(f"() => {BOTH}.length === 2 && {BOTH}.every(v => v.readyState >= 1 && v.duration > 0)")


def wait_both_paused_near(page: Page, at: float, frames: int = 2) -> None:
    page.wait_for_function(
        f"([at, tol]) => {BOTH}.every(v => v.paused && Math.abs(v.currentTime - at) <= tol)",
        arg=[at, frames * FRAME + 1e-3], timeout=LIVE)


@pytest.fixture
def pair(scene, render_take):
    return render_take(scene), render_take(scene)


@pytest.fixture
def rita_and_eddie(browser: Browser, live_server, reviewer, editor, pair):
    pages = [log_in(browser.new_context().new_page(), live_server.url, user) for user in (reviewer, editor)]
    yield pages
    for page in pages:
        page.context.close()


def test_everyone_in_a_compare_room_follows_the_presenters_pair_and_view(rita_and_eddie, live_server, scene, pair):
    rita, eddie = rita_and_eddie
    compare = f"{live_server.url}/scenes/{scene.pk}/compare/?a={pair[0].pk}&b={pair[1].pk}"
    rita.goto(compare)
    rita.get_by_test_id("room-open").click()
    expect(rita.get_by_test_id("room-presenter")).to_contain_text("You are presenting")
    wait_ready(rita)

    # Eddie finds the room on the same compare and joins it.
    eddie.goto(compare)
    eddie.get_by_test_id("room-join").click()
    expect(eddie.get_by_test_id("room-presenter")).to_contain_text("Following rita's player.")
    wait_ready(eddie)

    # Rita plays both: both of Eddie's play. She pauses: both of his stop at her frame.
    rita.get_by_test_id("compare-play").click()
    eddie.wait_for_function(f"() => {BOTH}.every(v => !v.paused)", timeout=LIVE)
    expect(eddie.get_by_test_id("compare-play")).to_have_text("Pause both")
    rita.wait_for_timeout(500)
    rita.get_by_test_id("compare-play").click()
    rita.wait_for_function(f"() => {BOTH}.every(v => v.paused)")
    wait_both_paused_near(eddie, lead_time(rita))

    # She seeks, then steps one frame forward: Eddie's pair lands on the same frame.
    rita.evaluate("document.querySelector('[data-compare-video]').currentTime = 1.5")
    wait_both_paused_near(eddie, 1.5)
    rita.get_by_test_id("frame-forward").click()
    rita.wait_for_function("() => document.querySelector('[data-compare-video]').currentTime > 1.5")
    wait_both_paused_near(eddie, lead_time(rita), frames=1)

    # She shows a wipe: Eddie's compare is a wipe too.
    rita.get_by_test_id("compare-mode-wipe").check()
    eddie.wait_for_function("() => document.querySelector('[data-compare]').dataset.mode === 'wipe'", timeout=LIVE)
    expect(eddie.get_by_test_id("compare-mode-wipe")).to_be_checked()

    # A late joiner opens the room's address: the pair at the room's moment, in the wipe.
    late = eddie.context.new_page()
    late.goto(rita.url)
    wait_ready(late)
    wait_both_paused_near(late, lead_time(rita), frames=1)
    expect(late.get_by_test_id("compare-mode-wipe")).to_be_checked()
    late.close()
