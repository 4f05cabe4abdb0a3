"""Back in a real browser when htmx no longer holds the page it pushed: it asks the server for it
(a history restore request) and shows whatever comes back as the whole page."""

from __future__ import annotations

import re

from django.urls import reverse
from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in
from tests.browser.test_storyboard_journey import frame


def test_back_to_a_scene_htmx_forgot_shows_the_board_with_its_panel_not_a_bare_panel(
        page: Page, live_server, owner, project, make_scene):
    arrival, _bridge = make_scene(title="Arrival"), make_scene(title="Bridge")
    log_in(page, live_server.url, owner)
    page.goto(live_server.url + reverse("projects:project_detail", args=[project.pk]))
    frame(page, "Arrival").locator(".frame-open").click()
    expect(page.get_by_test_id("scene-panel").get_by_test_id("panel-title")).to_have_text("Arrival")
    frame(page, "Bridge").locator(".frame-open").click()
    expect(page.get_by_test_id("scene-panel").get_by_test_id("panel-title")).to_have_text("Bridge")

    # htmx keeps the pages it pushed in the tab's sessionStorage, a few at a time: a long session, a
    # full storage or a reopened tab loses them, and then Back asks the server.
    page.evaluate("sessionStorage.removeItem('htmx-history-cache')")
    with page.expect_request(lambda r: r.headers.get("hx-history-restore-request") == "true"):
        page.go_back()

    expect(page).to_have_url(re.compile(rf"/projects/{project.pk}/scenes/{arrival.pk}/$"))
    expect(page.get_by_test_id("scene-panel").get_by_test_id("panel-title")).to_have_text("Arrival")
    expect(page.get_by_test_id("frame")).to_have_count(2)  # the board around the panel
    expect(page.locator(".topbar")).to_have_count(1)
    frame(page, "Bridge").locator(".frame-open").click()  # and it works as a board again
    expect(page.get_by_test_id("scene-panel").get_by_test_id("panel-title")).to_have_text("Bridge")
