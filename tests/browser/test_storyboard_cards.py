"""A board that reads like a storyboard, in a real browser: each frame's whole title, action and camera
notes (clamped in the grid until hovered or focused, in full in the list), empty states that lead to the
next step, and the projects home's cards."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from projects.review import services as review
from projects.storyboard.dialogue import services as dialogue
from tests.browser.conftest import box_of, log_in
from tests.browser.main_pages import furnish
from tests.browser.test_storyboard_journey import add_scene, frame

LONG_TITLE = "The storm rolls in over the breakwater and the whole fleet runs for shelter"
ACTION = ("Dark clouds race over the harbour, waves slap the pier, the fisherman looks up as the first raindrops "
          "hit the deck and the harbourmaster waves the boats in one by one.")
CLAMPED = "el => el.scrollHeight > el.clientHeight + 1"


@pytest.fixture
def storm(project, make_scene, owner):
    scene = make_scene(title=LONG_TITLE, prompt=ACTION, camera_notes="wide shot, handheld, the horizon tilting")
    dialogue.dialogue_line_add(scene=scene, user=owner, speaker=(None, "HARBOURMASTER"), text="Mind the ropes!",
                               parenthetical="shouting")
    return scene


def test_a_frame_shows_its_words_clamped_in_the_grid_in_full_on_hover_and_focus_and_in_the_list(
        page: Page, live_server, editor, project, storm):
    log_in(page, live_server.url, editor)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{live_server.url}{reverse('projects:project_detail', args=[project.pk])}")
    card = frame(page, LONG_TITLE)
    title, action, camera = card.get_by_test_id("frame-title"), card.locator("p"), card.locator("small")

    expect(title).to_have_text(LONG_TITLE)
    expect(action).to_have_text(ACTION)
    expect(camera).to_have_text("Camera wide shot, handheld, the horizon tilting")
    expect(card.get_by_test_id("frame-line")).to_have_text("HARBOURMASTER (shouting) Mind the ropes!")
    # The grid: two lines of title, three of action; the rest waits for the pointer or the keyboard.
    line = title.evaluate("el => parseFloat(getComputedStyle(el).lineHeight)")
    assert title.evaluate("el => el.clientHeight") <= 2 * line + 1
    assert title.evaluate(CLAMPED) and action.evaluate(CLAMPED)
    card.hover()
    expect(action).not_to_have_js_property("clientHeight", 0)
    page.wait_for_function("el => el.scrollHeight <= el.clientHeight + 1", arg=action.element_handle())
    assert not title.evaluate(CLAMPED)
    page.mouse.move(0, 0)
    assert action.evaluate(CLAMPED)
    card.locator(".frame-open").focus()
    assert not action.evaluate(CLAMPED) and not title.evaluate(CLAMPED)

    page.get_by_test_id("view-list").click()
    expect(page.locator(".board-layout--list")).to_have_count(1)
    page.mouse.move(0, 0)
    page.locator("h1").click()  # nothing hovered or focused: the list shows everything anyway
    card = frame(page, LONG_TITLE)
    assert not card.locator("p").evaluate(CLAMPED) and not card.get_by_test_id("frame-title").evaluate(CLAMPED)
    assert card.locator("small").evaluate("el => el.scrollWidth <= el.clientWidth")


def test_a_new_project_leads_from_its_first_scene_to_a_free_previz(page: Page, live_server, editor, project):
    log_in(page, live_server.url, editor)
    page.goto(f"{live_server.url}{reverse('projects:project_detail', args=[project.pk])}")
    empty = page.get_by_test_id("board-empty")
    expect(empty.get_by_role("heading")).to_have_text("Add a scene, or import a script")
    expect(page.get_by_test_id("bulk-form")).to_be_hidden()  # nothing to select yet
    expect(empty.get_by_role("link", name="Import a script")).to_have_attribute(
        "href", reverse("projects:script_upload", args=[project.pk]))
    empty.get_by_role("link", name="Add a scene").click()
    expect(page).to_have_url(f"{live_server.url}{reverse('projects:project_detail', args=[project.pk])}#add-scene")

    add_scene(page, title="Dawn", prompt="A harbour at dawn, mist on the water.", camera_notes="slow push-in")
    expect(empty).to_have_count(0)
    dawn = frame(page, "Dawn")
    expect(dawn.locator(".frame-placeholder")).to_have_text("Open to render a previz (free)")

    dawn.locator(".frame-open").click()
    takes = page.get_by_test_id("takes-empty")
    expect(takes).to_contain_text("No takes yet")
    takes.get_by_test_id("render-previz").click()
    expect(page.get_by_test_id("take")).to_have_count(1, timeout=30_000)
    expect(page.get_by_test_id("take").first).to_have_attribute("data-status", "succeeded", timeout=30_000)
    expect(takes).to_have_count(0)
    expect(dawn.get_by_test_id("frame-thumbnail")).to_be_visible(timeout=15_000)
    assert project.scenes.get().renders.count() == 1


@pytest.fixture
def studio(project, owner, editor, reviewer, make_scene, finished_take):
    return furnish(project=project, owner=owner, editor=editor, reviewer=reviewer, make_scene=make_scene,
                   finished_take=finished_take)


@pytest.mark.parametrize("width", [1440, 390])
def test_the_projects_home_shows_a_card_per_project_with_its_frames(
        page: Page, live_server, owner, reviewer, studio, width):
    dawn = studio.scenes[0]
    review.comment_add(take=studio.takes[0], author=reviewer, body="Keep the gulls.", at=0.2)
    page.set_viewport_size({"width": width, "height": 844})
    log_in(page, live_server.url, owner)
    card = page.get_by_test_id("project-card")
    expect(card).to_have_count(1)
    pictures = card.get_by_test_id("project-strip-picture")
    expect(pictures).to_have_count(2)  # dawn's and the storm's takes; the café has none yet
    for n in range(2):
        expect(pictures.nth(n)).to_have_js_property("complete", True)
        assert pictures.nth(n).evaluate("img => img.naturalWidth") > 0
    expect(card.get_by_test_id("project-scenes")).to_have_text("3 scenes")
    expect(card.get_by_test_id("project-approved")).to_have_text("2 approved")
    expect(card.get_by_test_id("project-change")).to_contain_text("rita commented on Opening: the harbour at dawn")
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    # Anywhere on the card opens the project: a click on its pictures lands on the project's link.
    strip = box_of(card.get_by_test_id("project-strip"))
    page.mouse.click(strip["x"] + strip["width"] / 2, strip["y"] + strip["height"] / 2)
    expect(page).to_have_url(f"{live_server.url}{reverse('projects:project_detail', args=[studio.project.pk])}")
    expect(frame(page, dawn.title).get_by_test_id("frame-thumbnail")).to_be_visible()
