"""An approval that stops being true says so: editing the approved scene marks it stale, on the
editor's board and on a teammate's, until someone approves the take again."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from projects.models import Role
from projects.review import services as review
from tests.browser.conftest import log_in
from tests.browser.test_storyboard_journey import frame, scene_card


@pytest.fixture
def approved(project, scene, render_take, owner):
    take = render_take(scene)
    review.take_approve(take=take, user=owner)
    return take


def test_editing_an_approved_scene_marks_the_approval_stale_until_approved_again(
        browser: Browser, live_server, team, owner, make_member, project, scene, approved):
    rita = make_member(team, Role.REVIEWER, "rita")
    pages = {}
    for user in (owner, rita):
        page = browser.new_context().new_page()
        log_in(page, live_server.url, user)
        page.goto(f"{live_server.url}/projects/{project.pk}/")
        pages[user.username] = page
    mine, hers = pages[owner.username], pages["rita"]
    expect(frame(hers, scene.title).get_by_test_id("frame-status")).to_have_text("Approved")

    # The owner changes what the take was rendered from.
    panel = scene_card(mine, scene.title)
    panel.get_by_test_id("scene-editor").get_by_label("Prompt").fill("A harbour at dusk, lamps on the pier.")
    panel.get_by_role("button", name="Save").click()
    expect(panel.get_by_test_id("approved-badge")).to_have_text("Stale approval: take 1")
    expect(panel.get_by_test_id("stale-approval")).to_contain_text("prompt")
    expect(panel.get_by_test_id("take").get_by_test_id("take-video")).to_be_visible()  # it still plays
    # Rita's board says so too, without a reload.
    expect(frame(hers, scene.title).get_by_test_id("frame-status")).to_have_text("Stale approval", timeout=5_000)

    # The reviewer looks again and approves the take again: the approval is true again everywhere.
    hers.goto(f"{live_server.url}/takes/{approved.pk}/review/")
    expect(hers.get_by_test_id("stale-approval")).to_be_visible()
    hers.get_by_test_id("approve-button").click()
    expect(hers.get_by_test_id("stale-approval")).to_have_count(0)
    expect(frame(mine, scene.title).get_by_test_id("frame-status")).to_have_text("Approved", timeout=5_000)
    for page in pages.values():
        page.context.close()
