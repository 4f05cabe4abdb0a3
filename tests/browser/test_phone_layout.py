"""On a 390 × 844 phone: a one-line top bar whose links fold into a menu, the board on the first
screen, and no page wider than the phone (Play all was 471 px wide).

How wide each page is drawn is read from one world built for the module: the pages are visited in one
go, each then reported by a test of its own (as tests/browser/test_accessibility.py's sweep)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from projects.review import services as review
from tests.browser.conftest import box_of, committed_world, log_in
from tests.browser.main_pages import (
    furnish,
    furnish_committed,
    furnish_fields,
    main_pages,
    open_page,
)

PHONE: ViewportSize = {"width": 390, "height": 844}
SWEPT = ["board", "scene panel", "review", "compare", "play all", "team", "inbox"]


def _long_cut(*, owner, editor, make_scene, finished_take) -> None:
    # A real cut is longer than two scenes: each approved scene is one more stop on Play all's timeline.
    for number in range(4, 9):
        scene = make_scene(title=f"Scene {number}: the long way round the pier", duration=2)
        review.take_approve(take=finished_take(scene, user=editor), user=owner)


@pytest.fixture
def studio(project, owner, editor, reviewer, make_scene, finished_take):
    studio = furnish(project=project, owner=owner, editor=editor, reviewer=reviewer, make_scene=make_scene,
                     finished_take=finished_take)
    _long_cut(owner=owner, editor=editor, make_scene=make_scene, finished_take=finished_take)
    return studio


@pytest.fixture(scope="module")
def drawn_widths(request, django_db_blocker, tmp_path_factory, browser, _encoded_animatics) -> dict[str, int]:
    """Each swept page → how wide the phone draws it (the document's scroll width), from one world: the
    `studio` above, built once (building it was ~2.5 s of each of these tests' 3 s)."""
    with committed_world(request, django_db_blocker, tmp_path_factory) as live_server:
        world = furnish_committed(encoded=_encoded_animatics)
        _long_cut(owner=world.owner, editor=world.editor, make_scene=world.make_scene,
                  finished_take=world.finished_take)
        context = browser.new_context(viewport=PHONE)
        try:
            phone = log_in(context.new_page(), live_server.url, world.owner)
            widths = {}
            for name in SWEPT:
                open_page(phone, live_server.url + main_pages(world.studio)[name])
                widths[name] = phone.evaluate("document.documentElement.scrollWidth")
        finally:
            context.close()
    return widths


@pytest.fixture
def phone(page: Page, live_server, owner) -> Page:
    page.set_viewport_size(PHONE)
    return log_in(page, live_server.url, owner)


def height(page: Page, selector: str) -> float:
    return box_of(page.locator(selector))["height"]


def test_the_top_bar_is_one_line_and_its_links_are_in_the_menu(phone: Page, live_server, studio):
    open_page(phone, live_server.url + main_pages(studio)["board"])
    bar = phone.locator(".topbar")
    assert height(phone, ".topbar") < 60  # one line, not five
    team_link = bar.get_by_role("link", name="Team", exact=True)
    expect(team_link).to_be_hidden()
    expect(phone.get_by_test_id("bell")).to_be_visible()  # unread notifications stay in sight

    phone.get_by_test_id("topbar-menu-button").click()
    expect(team_link).to_be_visible()
    expect(bar.get_by_role("button", name="Log out")).to_be_visible()
    team_link.click()
    expect(phone).to_have_url(f"{live_server.url}{main_pages(studio)['team']}")
    assert height(phone, ".topbar") < 60


def test_the_board_starts_on_the_first_screen(phone: Page, live_server, studio):
    open_page(phone, live_server.url + main_pages(studio)["board"])
    first = box_of(phone.get_by_test_id("frame").first)
    assert first["y"] + 120 < PHONE["height"], first  # its picture and title are in view, not just its top edge
    # Ticking a frame brings the bulk actions.
    expect(phone.get_by_test_id("bulk-render")).to_be_hidden()
    phone.get_by_test_id("frame-select").first.check()
    expect(phone.get_by_test_id("bulk-render")).to_be_visible()


def test_the_projects_own_fields_fold_under_more_filters_and_the_board_stays_on_the_first_screen(
        phone: Page, live_server, studio, owner):
    furnish_fields(studio, owner=owner)
    open_page(phone, live_server.url + main_pages(studio)["board"])
    first = box_of(phone.get_by_test_id("frame").first)
    assert first["y"] + 120 < PHONE["height"], first
    shot_type = phone.get_by_role("combobox", name="Shot type")
    expect(shot_type).to_be_hidden()
    phone.get_by_test_id("filter-more").click()
    expect(shot_type).to_be_visible()
    shot_type.select_option("Wide")
    expect(phone.get_by_test_id("filter-count")).to_be_visible()  # the filter answered
    # Reloaded with a field filter set, the fields stay unfolded: what filters the board is in sight.
    phone.reload()
    expect(phone.get_by_role("combobox", name="Shot type")).to_be_visible()


def test_the_projects_pages_are_one_line_that_scrolls_to_the_page_you_are_on(phone: Page, live_server, studio):
    open_page(phone, live_server.url + main_pages(studio)["board"])
    nav = phone.get_by_test_id("project-nav")
    assert height(phone, "[data-testid=project-nav]") < 45  # one line, not four
    # The first frame's picture, title and the start of its script are on the first screen (the nav on four
    # lines, the search and status on two, left only the picture's top in view).
    title = box_of(phone.get_by_test_id("frame-title").first)
    assert title["y"] + title["height"] + 40 < PHONE["height"], title
    # The pages past the phone's edge are a swipe away, and the strip opens on the page you are on.
    fields_link = nav.get_by_test_id("fields-link")
    fields_link.scroll_into_view_if_needed()
    fields_link.click()
    expect(phone).to_have_url(f"{live_server.url}{main_pages(studio)['fields']}")
    current = box_of(phone.get_by_test_id("project-nav").get_by_test_id("fields-link"))
    assert 0 <= current["x"] and current["x"] + current["width"] <= PHONE["width"], current


# Marked so pytest-django sets the test database up for a run of these tests alone: the sweep builds there.
@pytest.mark.django_db
@pytest.mark.parametrize("name", SWEPT)
def test_no_page_is_wider_than_the_phone(drawn_widths, name):
    assert drawn_widths[name] <= PHONE["width"], f"{name} is {drawn_widths[name]} px wide on a {PHONE['width']} px phone"


def test_play_all_fits_the_phone_and_its_long_timeline_scrolls_by_itself(phone: Page, live_server, studio):
    open_page(phone, live_server.url + main_pages(studio)["play all"])
    expect(phone.get_by_test_id("cut-scene")).to_have_count(8)  # every scene: "Safe inside" as its card
    cut = box_of(phone.locator("[data-cut]"))
    assert cut["x"] >= 0 and cut["x"] + cut["width"] <= PHONE["width"]
    timeline = phone.get_by_test_id("cut-scenes")
    assert timeline.evaluate("el => el.scrollWidth > el.clientWidth")  # the scenes scroll inside it
    phone.get_by_test_id("cut-scene").last.click()
    expect(phone.get_by_test_id("cut-title")).to_have_text("8. Scene 8: the long way round the pier")
