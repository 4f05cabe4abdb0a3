"""The board in a real browser: frames, the side panel at its own address, drag and drop,
multi-select, the remembered layout, and no sideways scrolling on a phone."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from generation.models import Export
from projects.models import Scene
from projects.review import guest_links
from projects.review import services as review
from tests.browser.conftest import box_of, log_in
from tests.browser.test_storyboard_journey import frame


@pytest.fixture
def board(project, make_scene, render_take, owner):
    a, b, c = make_scene(title="Arrival"), make_scene(title="Bridge"), make_scene(title="Cliffs")
    take = render_take(b)
    return project, (a, b, c), take


def titles(page: Page) -> list[str]:
    return page.get_by_test_id("frame-title").all_inner_texts()


def test_frames_open_in_a_panel_with_its_own_address(page: Page, live_server, owner, board):
    project, (a, b, c), take = board
    log_in(page, live_server.url, owner)
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    expect(page.get_by_test_id("frame")).to_have_count(3)
    expect(frame(page, "Arrival").get_by_test_id("frame-status")).to_have_text("No take")
    expect(frame(page, "Bridge").get_by_test_id("frame-status")).to_have_text("Ready for review")
    expect(frame(page, "Bridge").get_by_test_id("frame-thumbnail")).to_be_visible()
    expect(page.locator("video")).to_have_count(0)  # no players on the board
    expect(page.get_by_test_id("total-scenes")).to_have_text("3")

    page.evaluate("window.__noReload = true")
    frame(page, "Bridge").locator(".frame-open").click()
    panel = page.get_by_test_id("scene-panel")
    expect(panel.get_by_test_id("panel-title")).to_have_text("Bridge")
    expect(page).to_have_url(re.compile(rf"/projects/{project.pk}/scenes/{b.pk}/$"))
    expect(panel.get_by_test_id("take")).to_have_count(1)  # the take stack, loaded with the panel
    assert page.evaluate("window.__noReload") is True

    page.reload()  # the address is the panel's: reloading keeps it open
    expect(page.get_by_test_id("scene-panel").get_by_test_id("panel-title")).to_have_text("Bridge")

    # Edit in the panel: the frame on the board follows.
    editor = page.get_by_test_id("scene-editor")
    editor.get_by_label("Title").fill("Bridge at night")
    editor.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("saved")).to_be_visible()
    expect(frame(page, "Bridge at night")).to_have_count(1)
    b.refresh_from_db()
    assert b.title == "Bridge at night"

    page.go_back()  # back to the board without the panel
    expect(page).to_have_url(re.compile(rf"/projects/{project.pk}/$"))
    expect(page.get_by_test_id("scene-panel")).to_be_hidden()


def test_dragging_a_frame_reorders_the_board_and_it_stays_after_reload(page: Page, live_server, owner, board):
    project, (a, b, c), _ = board
    log_in(page, live_server.url, owner)
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    expect(page.get_by_test_id("frame")).to_have_count(3)
    with page.expect_response(lambda r: r.url.endswith(f"/projects/{project.pk}/scenes/order/")) as answer:
        handle = box_of(frame(page, "Cliffs").get_by_test_id("frame-handle"))
        target = box_of(frame(page, "Arrival"))
        page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
        page.mouse.down()
        for step in range(1, 11):  # SortableJS's fallback follows real pointer moves
            page.mouse.move(target["x"] + 10 + (handle["x"] - target["x"]) * (10 - step) / 10,
                            target["y"] + 10 + (handle["y"] - target["y"]) * (10 - step) / 10)
        page.mouse.up()
    assert answer.value.status == 200
    expect(page.get_by_test_id("frame-title")).to_have_text(["Cliffs", "Arrival", "Bridge"])
    assert list(Scene.objects.filter(project=project).values_list("title", flat=True)) == ["Cliffs", "Arrival",
                                                                                          "Bridge"]
    page.reload()
    expect(page.get_by_test_id("frame-title")).to_have_text(["Cliffs", "Arrival", "Bridge"])
    expect(page.get_by_test_id("frame").first.locator(".frame-number")).to_have_text("1")


def test_two_selected_frames_go_to_the_trash_at_once_and_undo_brings_them_back(page: Page, live_server, owner,
                                                                               board):
    project, (a, b, c), _ = board
    log_in(page, live_server.url, owner)
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    frame(page, "Arrival").get_by_test_id("frame-select").check()
    frame(page, "Cliffs").get_by_test_id("frame-select").check()
    page.get_by_test_id("bulk-delete").click()
    expect(page.get_by_test_id("trash-toast-text")).to_have_text("2 scenes moved to the trash.")
    expect(page.get_by_test_id("frame-title")).to_have_text(["Bridge"])
    page.get_by_test_id("trash-undo").click()
    expect(page.get_by_test_id("trash-toast-text")).to_have_text("Restored 2 scenes.")
    expect(page.get_by_test_id("frame-title")).to_have_text(["Arrival", "Bridge", "Cliffs"])


def test_the_list_view_is_remembered(page: Page, live_server, owner, board):
    project, *_ = board
    log_in(page, live_server.url, owner)
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    page.get_by_test_id("view-list").click()
    expect(page.locator(".board-layout--list")).to_have_count(1)
    page.goto(f"{live_server.url}/projects/")
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    expect(page.get_by_test_id("view-list")).to_have_attribute("aria-pressed", "true")
    expect(page.locator(".board-layout--list")).to_have_count(1)


def test_no_main_page_scrolls_sideways_on_a_phone(page: Page, live_server, owner, board, character):
    project, (a, b, c), take = board
    comment = review.comment_add(take=take, author=owner, body="A long note " * 20, at=1)
    review.comment_reply(parent=comment, author=owner, body="Agreed.")
    guest_links.link_create(project=project, user=owner, label="Client", scope="cut")
    Export.objects.create(project=project, created_by=owner, status="succeeded")
    team = project.team
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live_server.url, owner)
    pages = [
        reverse("projects:project_list"),
        reverse("projects:project_detail", args=[project.pk]),
        reverse("projects:scene_panel", args=[project.pk, b.pk]),
        reverse("projects:take_review", args=[take.pk]),
        reverse("projects:scene_compare", args=[b.pk]),
        reverse("projects:project_cut", args=[project.pk]),
        reverse("projects:project_activity", args=[project.pk]),
        reverse("projects:character_list", args=[team.pk]),
        reverse("projects:character_detail", args=[character.pk]),
        reverse("generation:connection_list", args=[team.pk]),
        reverse("projects:team_members", args=[team.pk]),
        reverse("generation:export_list", args=[project.pk]),
        reverse("generation:batch_render", args=[project.pk]),
        reverse("projects:review_links", args=[project.pk]),
        reverse("projects:notification_settings"),
        reverse("projects:my_likeness"),
        reverse("password_change"),
    ]
    wide = {}
    for path in pages:
        response = page.goto(live_server.url + path)
        assert response is not None and response.status == 200, path
        width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        if width[0] > width[1]:
            wide[path] = width
    assert wide == {}, f"wider than the screen at 390 px: {wide}"


@pytest.fixture
def character(team, owner):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from projects.characters import consent

    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (90, 120, 160)).save(buffer, format="PNG")
    return consent.character_create(team=team, user=owner, name="Captain Ahab", kind="fictional",
                                    description="An old sea captain.", declares_fictional=True,
                                    images=[SimpleUploadedFile("ahab.png", buffer.getvalue())])
