"""What a page marks `hidden` is not on the screen, on every main page.

A stylesheet rule that gives an element a display (`.row { display:flex }`, `video
{ display:block }`) beats the browser's own `[hidden] { display:none }`: the drawing toolbar
showed before "Draw on frame", the Blend slider in side-by-side and wipe modes, and Play all's
preloading second player sat under the first and pushed the transport far down.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import box_of, log_in
from tests.browser.main_pages import enter_as_guest, furnish, main_pages, open_page

# Elements carrying `hidden` that still take up room on the screen.
SHOWN_THOUGH_HIDDEN = """() => Array.from(document.querySelectorAll('[hidden]')).filter(el => {
    const box = el.getBoundingClientRect();
    return getComputedStyle(el).display !== 'none' && (box.width > 0 || box.height > 0);
}).map(el => el.outerHTML.slice(0, 160))"""


@pytest.fixture
def studio(project, owner, editor, reviewer, make_scene, finished_take):
    return furnish(project=project, owner=owner, editor=editor, reviewer=reviewer, make_scene=make_scene,
                   finished_take=finished_take)


def shown_though_hidden(page: Page) -> list[str]:
    return page.evaluate(SHOWN_THOUGH_HIDDEN)


def test_nothing_hidden_shows_on_any_main_page(page: Page, live_server, owner, studio):
    log_in(page, live_server.url, owner)
    offenders = {}
    for name, path in main_pages(studio).items():
        open_page(page, live_server.url + path)
        # Each page really has something hidden to check (the live channel's element, at least).
        assert page.locator("[hidden]").count() >= 1, name
        if shown := shown_though_hidden(page):
            offenders[name] = shown
    assert not offenders


def test_the_drawing_tools_stay_away_until_draw_on_frame(page: Page, live_server, owner, studio):
    log_in(page, live_server.url, owner)
    open_page(page, live_server.url + main_pages(studio)["review"])
    expect(page.get_by_test_id("draw-tool-arrow")).to_be_hidden()
    page.get_by_test_id("draw-toggle").click()
    expect(page.get_by_test_id("draw-tool-arrow")).to_be_visible()
    page.get_by_test_id("draw-toggle").click()
    expect(page.get_by_test_id("draw-tool-arrow")).to_be_hidden()


def test_the_blend_slider_shows_in_overlay_mode_only(page: Page, live_server, owner, studio):
    log_in(page, live_server.url, owner)
    open_page(page, live_server.url + main_pages(studio)["compare"])
    blend = page.get_by_test_id("compare-blend")
    expect(blend).to_be_hidden()
    page.get_by_test_id("compare-mode-wipe").check()
    expect(blend).to_be_hidden()
    assert shown_though_hidden(page) == []
    page.get_by_test_id("compare-mode-overlay").check()
    expect(blend).to_be_visible()


def test_play_all_shows_one_player_with_its_transport_right_under_it(page: Page, live_server, owner, studio):
    log_in(page, live_server.url, owner)
    open_page(page, live_server.url + main_pages(studio)["play all"])
    expect(page.locator("[data-cut-video]:visible")).to_have_count(1)
    screen = box_of(page.locator(".cut-screen"))
    player = box_of(page.get_by_test_id("cut-player"))
    transport = box_of(page.get_by_test_id("cut-play"))
    assert screen["height"] <= player["height"] + 2  # the screen is the one player, nothing under it
    assert transport["y"] - (screen["y"] + screen["height"]) < 120


def test_nothing_hidden_shows_on_the_guest_review_page(browser, live_server, studio):
    page = enter_as_guest(browser.new_context().new_page(), live_server.url, studio.guest_token)
    expect(page.get_by_test_id("guest-take")).to_have_count(2)
    assert page.locator("[hidden]").count() >= 1
    assert shown_though_hidden(page) == []
    expect(page.get_by_test_id("draw-tool-arrow").first).to_be_hidden()
    page.context.close()
