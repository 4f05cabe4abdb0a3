"""Guest review, end to end in a real browser.

An owner makes a password-protected review link for one scene and copies it.
A client (not a studio user) opens it in another browser, gives the password
and their name, clicks the take's timeline at 00:01 and comments there. The
owner finds the comment, under the client's name, on the take's review page
and in the project's activity feed; after the owner revokes the link, it opens
nothing.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.browser.test_review_journey import wait_until_loaded


@pytest.fixture
def shared_scene(project, make_scene, render_take, editor):
    dawn = make_scene(title="Dawn", prompt="A harbour at dawn.", duration=2)
    secret = make_scene(title="Secret ending", prompt="Nobody outside sees this.", duration=2)
    return dawn, render_take(dawn, user=editor), render_take(secret, user=editor)


def test_owner_shares_a_scene_and_a_guest_comments_at_a_timecode(new_context, live_server, owner, project,
                                                                 shared_scene):
    dawn, take, _hidden = shared_scene
    studio = log_in(new_context().new_page(), live_server.url, owner)
    studio.goto(f"{live_server.url}/projects/{project.pk}/")
    studio.get_by_role("link", name="Guest review links").click()
    form = studio.get_by_test_id("link-form")
    form.get_by_label("Name").fill("Acme, round 1")
    form.get_by_label("Selected scenes").check()
    form.get_by_label("1. Dawn").check()
    form.get_by_label("Expires after (days)").fill("3")
    form.get_by_label("Password (optional)").fill("acme-harbour")
    form.get_by_role("button", name="Create link").click()
    url = studio.get_by_test_id("new-link-url").input_value()
    assert "/review/" in url

    guest = new_context().new_page()
    guest.goto(url)
    guest.get_by_label("Password").fill("wrong")
    guest.get_by_role("button", name="Open").click()
    expect(guest.get_by_test_id("gate-error")).to_have_text("That password is not right.")
    guest.get_by_label("Password").fill("acme-harbour")
    guest.get_by_role("button", name="Open").click()
    guest.get_by_test_id("guest-name").fill("Grace (Acme)")
    guest.get_by_role("button", name="Start reviewing").click()

    expect(guest.get_by_test_id("guest-take")).to_have_count(1)
    expect(guest.get_by_text("Secret ending")).to_have_count(0)
    wait_until_loaded(guest, "[data-review-video]")
    bar = guest.locator("[data-marker-bar]")
    box = bar.bounding_box()
    bar.click(position={"x": box["width"] * 0.5, "y": box["height"] / 2})  # 50 % of a 2 s take
    expect(guest.get_by_test_id("comment-at")).to_have_value("1.0")
    guest.get_by_test_id("comment-body").fill("Our logo should be bigger here.")
    guest.get_by_test_id("comment-submit").click()
    comment = guest.get_by_test_id("comment").filter(has_text="Our logo")
    expect(comment).to_contain_text("Grace (Acme) (guest)")
    expect(comment.get_by_test_id("comment-timecode")).to_have_text("00:00:01:00")

    studio.goto(f"{live_server.url}/takes/{take.pk}/review/")
    expect(studio.get_by_test_id("comment").filter(has_text="Our logo")).to_contain_text("Grace (Acme) (guest)")
    studio.goto(f"{live_server.url}/projects/{project.pk}/activity/")
    expect(studio.get_by_test_id("activity-feed")).to_contain_text("Grace (Acme) (guest) commented on Dawn take 1")

    studio.goto(f"{live_server.url}/projects/{project.pk}/review-links/")
    studio.get_by_test_id("revoke-link").click()
    expect(studio.get_by_test_id("link-row")).to_contain_text("Revoked")
    guest.reload()
    expect(guest.get_by_test_id("link-closed")).to_contain_text("no longer works")
