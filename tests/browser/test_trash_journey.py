"""Trash and undo in the browser: delete two scenes, undo, delete them again while a teammate watches
their board drop the frames, and bring them back from the Trash page."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from projects.models import Role, Scene
from tests.browser.conftest import log_in
from tests.browser.test_storyboard_journey import frame, scene_card

LIVE = 5_000  # a change must show within this (the embedded default reads changes every 0.25 s)


def titles(page: Page) -> list[str]:
    return page.get_by_test_id("frame-title").all_inner_texts()


def open_board(new_context, live_server, user, project) -> Page:
    page = new_context().new_page()
    log_in(page, live_server.url, user)
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    page.evaluate("window.__noReload = true")  # gone if the page ever reloads
    return page


def delete_selected(page: Page, *names: str) -> None:
    for name in names:
        frame(page, name).get_by_test_id("frame-select").check()
    page.get_by_test_id("bulk-delete").click()


def test_delete_undo_delete_again_a_teammate_sees_it_live_then_restore_from_the_trash(
        new_context, live_server, team, owner, make_member, project, make_scene):
    rita = make_member(team, Role.EDITOR, "rita")
    for title in ("Arrival", "Bridge", "Cliffs", "Dock"):
        make_scene(title=title)
    mine, hers = open_board(new_context, live_server, owner, project), open_board(new_context, live_server, rita, project)
    expect(hers.get_by_test_id("present")).to_have_count(1, timeout=LIVE)  # the owner (nobody sees themselves)
    hers.evaluate("window.__noReload = true")

    # Delete two scenes: no question, an Undo instead; Rita's board drops them as it happens.
    delete_selected(mine, "Bridge", "Cliffs")
    expect(mine.get_by_test_id("trash-toast-text")).to_have_text("2 scenes moved to the trash.")
    expect(mine.get_by_test_id("frame-title")).to_have_text(["Arrival", "Dock"])
    expect(hers.get_by_test_id("frame-title")).to_have_text(["Arrival", "Dock"], timeout=LIVE)
    expect(hers.get_by_test_id("total-scenes")).to_have_text("2", timeout=LIVE)

    # Undo: back where they were, on both boards, numbered again.
    mine.get_by_test_id("trash-undo").click()
    expect(mine.get_by_test_id("trash-toast-text")).to_have_text("Restored 2 scenes.")
    expect(mine.get_by_test_id("frame-title")).to_have_text(["Arrival", "Bridge", "Cliffs", "Dock"])
    expect(hers.get_by_test_id("frame-title")).to_have_text(["Arrival", "Bridge", "Cliffs", "Dock"], timeout=LIVE)
    expect(hers.locator("#board-frames .frame-number")).to_have_text(["1", "2", "3", "4"], timeout=LIVE)

    # Delete them again: gone from Rita's board too, without her reloading.
    delete_selected(mine, "Bridge", "Cliffs")
    expect(mine.get_by_test_id("trash-toast-text")).to_have_text("2 scenes moved to the trash.")
    expect(hers.get_by_test_id("frame-title")).to_have_text(["Arrival", "Dock"], timeout=LIVE)
    expect(hers.locator("#board-frames .frame-number")).to_have_text(["1", "2"], timeout=LIVE)
    assert hers.evaluate("window.__noReload") is True

    # Rita restores Cliffs, then Bridge, from the Trash page; each goes back to its place on my board.
    hers.goto(f"{live_server.url}/projects/{project.pk}/trash/")
    rows = hers.get_by_test_id("trash-row")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text(f"Deleted by {owner.username}")
    rows.filter(has_text="Cliffs").get_by_test_id("trash-restore-one").click()
    expect(hers.get_by_test_id("trash-message")).to_have_text("Restored 1 scene.")
    expect(rows).to_have_count(1)
    expect(mine.get_by_test_id("frame-title")).to_have_text(["Arrival", "Cliffs", "Dock"], timeout=LIVE)
    rows.filter(has_text="Bridge").get_by_test_id("trash-select").check()
    hers.get_by_test_id("trash-restore").click()
    expect(hers.get_by_test_id("trash-empty-note")).to_be_visible()
    expect(mine.get_by_test_id("frame-title")).to_have_text(["Arrival", "Bridge", "Cliffs", "Dock"], timeout=LIVE)
    expect(mine.locator("#board-frames .frame-number")).to_have_text(["1", "2", "3", "4"], timeout=LIVE)
    assert list(project.scenes.values_list("title", "position")) == [
        ("Arrival", 0), ("Bridge", 1), ("Cliffs", 2), ("Dock", 3)]
    assert not Scene.all_objects.in_trash().exists()

    # My toast's Undo, clicked now, brings nothing back twice and says who already did.
    mine.get_by_test_id("trash-undo").click()
    expect(mine.get_by_test_id("trash-toast-text")).to_contain_text("rita had already restored “Bridge”, “Cliffs”")
    expect(mine.get_by_test_id("frame-title")).to_have_text(["Arrival", "Bridge", "Cliffs", "Dock"])
    for page in (mine, hers):
        page.context.close()


def test_the_panels_delete_closes_it_and_offers_the_undo(page: Page, live_server, owner, project, make_scene):
    for title in ("Arrival", "Bridge"):
        make_scene(title=title)
    log_in(page, live_server.url, owner)
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    frame(page, "Bridge").locator(".frame-open").click()
    expect(page.get_by_test_id("panel-title")).to_have_text("Bridge")

    page.get_by_test_id("scene-delete").click()

    expect(page.get_by_test_id("trash-toast-text")).to_have_text("“Bridge” moved to the trash.")
    expect(page.get_by_test_id("scene-panel")).to_be_hidden()
    expect(page.get_by_test_id("frame-title")).to_have_text(["Arrival"])
    assert "?undo=" in page.url
    page.locator("[data-dismiss-toast]").click()  # the toast goes; the scene stays in the trash
    expect(page.get_by_test_id("trash-toast")).to_have_count(0)
    expect(page.get_by_test_id("trash-link")).to_have_text("Trash (1)")


def test_a_teammate_editing_a_scene_moved_to_the_trash_keeps_what_she_typed_and_reads_why(
        new_context, live_server, team, owner, make_member, project, make_scene):
    from projects.storyboard import trash

    rita = make_member(team, Role.EDITOR, "rita")
    make_scene(title="Arrival")
    bridge = make_scene(title="Bridge")
    hers = open_board(new_context, live_server, rita, project)
    panel = scene_card(hers, "Bridge")
    panel.get_by_label("Title").fill("Bridge in fog")

    trashed = trash.scene_trash(scene=bridge, user=owner)

    notice = panel.get_by_test_id("scene-gone")
    expect(notice).to_contain_text(f"{owner.username} moved this scene to the trash. What you typed stays here",
                                   timeout=LIVE)
    expect(panel.get_by_label("Title")).to_have_value("Bridge in fog")
    trash.trash_undo(project=project, batch=trashed.batch, user=owner)
    expect(notice).to_be_hidden(timeout=LIVE)
    expect(panel.get_by_label("Title")).to_have_value("Bridge in fog")
    assert hers.evaluate("window.__noReload") is True
    hers.context.close()
