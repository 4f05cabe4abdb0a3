"""The bell: a teammate mentions you, your bell rings without a reload, the inbox takes you to the comment."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from projects.models import Comment, Role
from tests.browser.conftest import log_in

LIVE = 5_000  # a change must show within this (the embedded default reads changes every 0.25 s)


@pytest.fixture
def two_people(browser: Browser, live_server, team, owner, make_member, scene, render_take):
    take = render_take(scene, user=owner)  # the owner's take: Bea's inbox starts empty
    ann = make_member(team, Role.REVIEWER, "ann")
    bea = make_member(team, Role.EDITOR, "bea")
    pages = []
    for user in (ann, bea):
        page = browser.new_context().new_page()
        log_in(page, live_server.url, user)
        pages.append(page)
    yield take, *pages
    for page in pages:
        page.context.close()


def test_a_mention_rings_the_bell_live_and_the_inbox_leads_to_the_comment(two_people, live_server):
    take, ann, bea = two_people
    bea.evaluate("window.__noReload = true")  # gone if the page ever reloads
    expect(bea.get_by_test_id("bell-count")).to_have_text("0")

    ann.goto(f"{live_server.url}/takes/{take.pk}/review/")
    ann.get_by_test_id("comment-at").fill("1")
    ann.get_by_test_id("comment-body").fill("@bea the mist lifts too early here")
    ann.get_by_test_id("comment-submit").click()
    expect(ann.get_by_test_id("comment-body")).to_have_value("")

    expect(bea.get_by_test_id("bell-count")).to_have_text("1", timeout=LIVE)
    assert bea.evaluate("window.__noReload === true")  # it came over the stream, not a reload

    bea.get_by_test_id("bell").click()
    note = bea.get_by_test_id("notification")
    expect(note).to_have_count(1)
    expect(note).to_contain_text("ann mentioned you")
    note.get_by_test_id("notification-link").click()
    comment = Comment.objects.get(body__startswith="@bea")
    expect(bea).to_have_url(re.compile(rf"/takes/{take.pk}/review/\?t=1#comment-{comment.pk}$"))
    expect(bea.locator(f"#comment-{comment.pk}")).to_contain_text("the mist lifts too early")
    expect(bea.locator(f"#comment-{comment.pk}")).to_be_in_viewport()

    bea.get_by_test_id("bell").click()
    bea.get_by_test_id("mark-all-read").click()
    expect(bea.get_by_test_id("notification")).to_have_attribute("data-unread", "false")
    expect(bea.get_by_test_id("bell-count")).to_have_text("0")
    bea.reload()
    expect(bea.get_by_test_id("bell-count")).to_have_text("0")
