"""One way of writing a moment on the pages that play takes: the player's HH:MM:SS:FF.

The review page once showed three (00:00:01:04 under the player, 00:01.2 on comments, "Now at
00:01.2" under the timeline); compare and Play all ran clocks of their own in the second style.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in
from tests.browser.main_pages import enter_as_guest, furnish, main_pages, open_page

TIMECODE = re.compile(r"^\d\d:\d\d:\d\d:\d\d$")
SECONDS_AND_TENTHS = re.compile(r"\b\d\d:\d\d\.\d\b")


@pytest.fixture
def studio(project, owner, editor, reviewer, make_scene, finished_take):
    return furnish(project=project, owner=owner, editor=editor, reviewer=reviewer, make_scene=make_scene,
                   finished_take=finished_take)


def other_time_formats(page: Page) -> list[str]:
    return SECONDS_AND_TENTHS.findall(page.locator("body").inner_text())


def test_the_review_page_writes_every_moment_as_the_player_does(page: Page, live_server, owner, studio):
    log_in(page, live_server.url, owner)
    open_page(page, live_server.url + main_pages(studio)["review"])
    moment = page.get_by_test_id("comment-timecode").first
    expect(moment).to_have_text("00:00:00:12")  # the comment at 0.5 s of a 24 fps take
    moment.click()  # seeks the player there
    expect(page.get_by_test_id("timecode")).to_have_text("00:00:00:12")
    expect(page.get_by_text("Now at")).to_have_count(0)
    assert other_time_formats(page) == []


def test_compare_and_play_all_run_their_clocks_in_the_players_timecode(page: Page, live_server, owner, studio):
    log_in(page, live_server.url, owner)
    pages = main_pages(studio)
    open_page(page, live_server.url + pages["compare"])
    page.get_by_test_id("compare-scrub").evaluate(
        "el => { el.value = '500'; el.dispatchEvent(new Event('input', {bubbles: true})); }")
    expect(page.get_by_test_id("compare-time")).to_have_text("00:00:01:00")  # half of 2 s
    assert other_time_formats(page) == []

    open_page(page, live_server.url + pages["play all"])
    expect(page.get_by_test_id("cut-total")).to_have_text("00:00:06:00")  # three 2-second scenes, one a card
    page.evaluate("document.querySelectorAll('[data-cut-video]').forEach(v => { v.muted = true; })")
    page.get_by_test_id("cut-play").click()
    page.wait_for_function("() => document.querySelector('[data-testid=cut-player]').currentTime > 0.3")
    expect(page.get_by_test_id("cut-time")).to_have_text(TIMECODE)
    expect(page.get_by_test_id("cut-time")).not_to_have_text("00:00:00:00")
    assert other_time_formats(page) == []


def test_the_guest_page_writes_moments_as_the_player_does(browser, live_server, studio):
    page = enter_as_guest(browser.new_context().new_page(), live_server.url, studio.guest_token)
    expect(page.get_by_test_id("comment-timecode")).to_have_count(2)  # the two comments shared with guests
    assert sorted(page.get_by_test_id("comment-timecode").all_inner_texts()) == ["00:00:00:09", "00:00:00:12"]
    assert other_time_formats(page) == []
    page.context.close()
