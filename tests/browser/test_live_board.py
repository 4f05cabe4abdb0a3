"""Two people on one project: what one does appears on the other's board without a reload."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from projects.models import Role
from tests.browser.conftest import log_in
from tests.browser.test_storyboard_journey import frame, scene_card

LIVE = 5_000  # a change must show within this (the embedded default reads changes every 0.25 s)


@pytest.fixture
def two_people(browser: Browser, live_server, team, owner, make_member, project, make_scene):
    rita = make_member(team, Role.EDITOR, "rita")
    make_scene(title="Arrival"), make_scene(title="Bridge")
    pages = []
    for user in (owner, rita):
        context = browser.new_context()
        page = context.new_page()
        log_in(page, live_server.url, user)
        page.goto(f"{live_server.url}/projects/{project.pk}/")
        page.evaluate("window.__noReload = true")  # gone if the page ever reloads
        pages.append(page)
    yield pages
    for page in pages:
        page.context.close()


def titles(page: Page) -> list[str]:
    return page.get_by_test_id("frame-title").all_inner_texts()


def test_a_teammates_changes_appear_without_reloading(two_people, live_server, project):
    owner_page, rita = two_people
    # Both are here: each sees the other's avatar (and not their own).
    expect(rita.get_by_test_id("present")).to_have_count(1, timeout=LIVE)
    expect(owner_page.get_by_test_id("present")).to_have_count(1, timeout=LIVE)

    # Add
    form = owner_page.get_by_test_id("add-scene-form")
    form.get_by_label("Title").fill("Cliffs")
    form.get_by_label("Prompt").fill("Gulls wheel over white cliffs at noon.")
    form.get_by_role("button", name="Add scene").click()
    expect(frame(rita, "Cliffs")).to_have_count(1, timeout=LIVE)
    expect(rita.get_by_test_id("total-scenes")).to_have_text("3", timeout=LIVE)

    # Edit (and Rita sees who is editing while the panel is open)
    panel = scene_card(owner_page, "Bridge")
    expect(frame(rita, "Bridge").locator(".frame-editing")).to_have_text(f"{owner_page_user(owner_page)} is editing",
                                                                         timeout=LIVE)
    panel.get_by_label("Title").fill("Bridge at night")
    panel.get_by_role("button", name="Save").click()
    expect(owner_page.get_by_test_id("saved")).to_be_visible()  # the save's answer is in before moving on
    expect(frame(rita, "Bridge at night")).to_have_count(1, timeout=LIVE)

    # Reorder: Cliffs to the top
    scene_card(owner_page, "Cliffs").get_by_role("button", name="Move scene 3 up").click()
    expect(owner_page.get_by_test_id("frame-title").first).to_have_text("Arrival")
    scene_card(owner_page, "Cliffs").get_by_role("button", name="Move scene 2 up").click()
    expect(rita.get_by_test_id("frame-title").first).to_have_text("Cliffs", timeout=LIVE)
    assert titles(rita) == ["Cliffs", "Arrival", "Bridge at night"]
    expect(rita.locator("#board-frames .frame-number").first).to_have_text("1")

    # Render: the frame's status follows the take to the end
    panel = scene_card(owner_page, "Arrival")
    panel.get_by_test_id("render-button").click()
    expect(frame(rita, "Arrival").get_by_test_id("frame-status")).to_have_text("Ready for review", timeout=20_000)

    # Comment on the take: Rita's frame counts it
    take = project.scenes.get(title="Arrival").renders.get()
    owner_page.goto(f"{live_server.url}{reverse('projects:take_review', args=[take.pk])}")
    owner_page.get_by_test_id("comment-body").fill("Lovely light.")
    owner_page.get_by_test_id("comment-submit").click()
    expect(frame(rita, "Arrival").get_by_test_id("frame-comments")).to_have_text("1 comment", timeout=LIVE)

    # Rita never reloaded, and never polled: everything came over her one stream.
    assert rita.evaluate("window.__noReload") is True


def test_nobody_is_shown_their_own_presence(two_people, live_server, project, owner):
    owner_page, rita = two_people
    rita_user = project.team.memberships.get(user__username="rita").user
    expect(owner_page.get_by_test_id("present")).to_have_count(1, timeout=LIVE)
    expect(owner_page.get_by_test_id("present")).to_have_attribute("data-user", str(rita_user.pk))
    expect(rita.get_by_test_id("present")).to_have_attribute("data-user", str(owner.pk), timeout=LIVE)

    # The owner edits Bridge: Rita is told, the owner's own frame says nothing about it.
    scene_card(owner_page, "Bridge")
    expect(frame(rita, "Bridge").locator(".frame-editing")).to_have_text(f"{owner.username} is editing",
                                                                         timeout=LIVE)
    # A later change pushed to every page (Rita opening a scene) redraws the owner's presence too.
    scene_card(rita, "Arrival")
    expect(frame(owner_page, "Arrival").locator(".frame-editing")).to_have_text("rita is editing", timeout=LIVE)
    expect(owner_page.get_by_test_id("present")).to_have_count(1)
    expect(owner_page.get_by_test_id("present")).to_have_attribute("data-user", str(rita_user.pk))
    expect(frame(owner_page, "Bridge").locator(".frame-editing")).to_have_text("")
    expect(frame(owner_page, "Bridge").locator(".frame-editing")).to_be_hidden()
    expect(frame(rita, "Arrival").locator(".frame-editing")).to_have_text("")
    expect(rita.get_by_test_id("present")).to_have_count(1)


def owner_page_user(page: Page) -> str:
    return page.locator(".topbar .user").inner_text()


def test_the_reorder_and_delete_of_one_reach_the_other(two_people, project):
    owner_page, rita = two_people
    owner_page.get_by_test_id("frame-select").first.check()  # Arrival
    owner_page.get_by_test_id("bulk-delete").click()  # to the trash, at once
    expect(frame(rita, "Arrival")).to_have_count(0, timeout=LIVE)
    expect(rita.locator("#board-frames .frame-number").first).to_have_text("1", timeout=LIVE)
    assert rita.evaluate("window.__noReload") is True


def test_a_browser_that_cannot_hold_a_stream_still_sees_changes_by_one_poll(browser, live_server, settings, team,
                                                                             owner, make_member, project, make_scene):
    settings.LIVE_FALLBACK_POLL_SECONDS = 1
    scene = make_scene(title="Arrival")
    rita = make_member(team, Role.EDITOR, "rita")
    context = browser.new_context()
    context.add_init_script("delete window.EventSource")  # as behind a proxy that buffers streams
    page = context.new_page()
    changes_asked = []
    page.on("request", lambda r: changes_asked.append(r.url) if "/changes/" in r.url else None)
    log_in(page, live_server.url, rita)
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    page.evaluate("window.__noReload = true")

    from projects.storyboard import services

    services.scene_update(scene=scene, expected_version=scene.version, user=owner, title="Arrival at dawn")
    expect(frame(page, "Arrival at dawn")).to_have_count(1, timeout=LIVE)
    assert page.evaluate("window.__noReload") is True
    assert changes_asked and all("after=" in url for url in changes_asked)  # one poll, from its cursor
    context.close()
