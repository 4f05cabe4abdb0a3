"""A long board in a real browser: frames load as the list scrolls, the filter searches every scene, a move
reaches a position not loaded, and a teammate's edit to a frame not loaded yet shows when its page loads."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from generation.models import Render, Status
from projects.models import Scene
from projects.storyboard import services
from tests.browser.conftest import log_in


@pytest.fixture
def long_board(project, make_scene, settings):
    settings.BOARD_PAGE_SIZE = 4
    scenes = [make_scene(title=f"Shot {n}") for n in range(1, 13)]
    Render.objects.create(scene=scenes[10], provider="local", model="m", recipe={}, status=Status.RUNNING, progress=20)
    return scenes


def test_a_long_board_loads_as_it_scrolls_filters_moves_and_stays_fresh(page: Page, live_server, owner, editor,
                                                                      project, long_board):
    page.set_viewport_size({"width": 390, "height": 600})  # a phone: the first page fills more than a screen
    log_in(page, live_server.url, owner)
    page.goto(live_server.url + reverse("projects:project_detail", args=[project.pk]))
    frames = page.get_by_test_id("frame")
    expect(frames).to_have_count(4)
    expect(page.get_by_test_id("select-all")).to_be_attached()

    # A teammate renames shot 11 while its page is not loaded: the live change finds no frame to swap.
    shot = Scene.objects.get(pk=long_board[10].pk)
    services.scene_update(scene=shot, expected_version=shot.version, user=editor, title="Shot 11 at night")
    page.wait_for_timeout(500)
    expect(page.get_by_test_id("frame-title").filter(has_text="Shot 11 at night")).to_have_count(0)
    expect(frames).to_have_count(4)

    # Scrolling brings the rest, a page at a time; the renamed frame comes fresh from the server.
    # Scrolled by script: the list's last item is the loader htmx swaps away, so a Playwright locator holding it
    # can find it detached mid-scroll on a loaded box.
    for _ in range(12):
        if frames.count() == 12:
            break
        page.evaluate("document.querySelector('[data-testid=board-frames]').lastElementChild.scrollIntoView()")
        page.wait_for_timeout(300)
    expect(frames).to_have_count(12)
    expect(page.get_by_test_id("frame-title").nth(10)).to_have_text("Shot 11 at night")
    expect(page.locator(".frame-number").nth(11)).to_have_text("12")

    # The filter searches every scene on the server and swaps the list.
    page.get_by_test_id("filter-status").select_option("rendering")
    expect(frames).to_have_count(1)
    expect(page.get_by_test_id("frame-title")).to_have_text(["Shot 11 at night"])
    page.get_by_test_id("filter-status").select_option("")
    page.get_by_test_id("filter-q").fill("Shot 1")
    expect(page.get_by_test_id("frame-title")).to_have_text(["Shot 1", "Shot 10", "Shot 11 at night", "Shot 12"])

    # From the keyboard: tick the first shot, type a position beyond the loaded page, Move.
    page.get_by_test_id("filter-q").fill("")
    # The unfiltered first page: the filtered list had four frames too, so the count alone would pass before the
    # swap, and the tick below would land on a frame about to be swapped away (seen on a loaded box).
    expect(page.get_by_test_id("frame-title")).to_have_text(["Shot 1", "Shot 2", "Shot 3", "Shot 4"])
    first = page.get_by_test_id("frame-select").first
    first.focus()
    page.keyboard.press("Space")
    page.locator("#bulk-position").fill("10")
    page.get_by_test_id("bulk-move").click()
    expect(page.get_by_text("Moved the scene to 10.")).to_be_visible()
    expect(page.get_by_test_id("frame-title").first).to_have_text("Shot 2")
    assert Scene.objects.get(pk=long_board[0].pk).position == 9
