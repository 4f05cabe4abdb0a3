"""Fields of the team's own, in the browser: the owner defines "Shot type" (a choice) and "Lens" (text), an
editor fills them in a scene's panel and on selected frames, the board filters by them, and the owner's open
board shows each change live."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from projects.models import Role
from tests.browser.conftest import log_in
from tests.browser.test_storyboard_journey import frame, scene_card

LIVE = 5_000


@pytest.fixture
def scenes(make_scene):
    return [make_scene(title=t) for t in ("Arrival", "Bridge", "Cliffs")]


def add_field(page: Page, name: str, kind: str, choices: str = "") -> None:
    form = page.get_by_test_id("field-add")
    form.get_by_test_id("new-field-name").fill(name)
    form.get_by_test_id("new-field-kind").select_option(kind)
    form.get_by_test_id("new-field-choices").fill(choices)
    form.get_by_test_id("new-field-add").click()
    expect(page.get_by_text(f"Field “{name}” added.")).to_be_visible()


def test_owner_defines_fields_an_editor_fills_them_and_the_board_filters(page: Page, new_context, live_server,
                                                                          team, owner, make_member, project, scenes):
    eddie = make_member(team, Role.EDITOR, "eddie")
    board = f"{live_server.url}/projects/{project.pk}/"
    log_in(page, live_server.url, owner)
    page.goto(f"{live_server.url}/projects/{project.pk}/fields/")
    add_field(page, "Shot type", "choice", "Wide\nMedium\nClose-up")
    add_field(page, "Lens", "text")
    expect(page.get_by_test_id("field")).to_have_count(2)
    page.goto(board)

    editor = new_context().new_page()
    log_in(editor, live_server.url, eddie)
    editor.goto(board)

    # In the panel: a choice and a text, saved with the scene's version.
    panel = scene_card(editor, "Arrival")
    fields = panel.get_by_test_id("scene-fields")
    fields.get_by_label("Shot type").select_option("Wide")
    fields.get_by_label("Lens").fill("35mm")
    fields.get_by_test_id("scene-fields-save").click()
    expect(editor.get_by_test_id("fields-saved")).to_be_visible()
    expect(frame(editor, "Arrival").locator(".frame-fields")).to_have_text("Wide · 35mm")
    expect(frame(page, "Arrival").locator(".frame-fields")).to_have_text("Wide · 35mm", timeout=LIVE)  # live

    # A number given text, in a field of the wrong kind: refused with a message, nothing saved.
    fields = editor.get_by_test_id("scene-fields")
    fields.get_by_label("Shot type").select_option("Medium")
    fields.get_by_label("Lens").fill("x" * 250)
    fields.get_by_test_id("scene-fields-save").click()
    expect(editor.get_by_test_id("fields-error")).to_contain_text("Lens can be at most 200 characters")
    expect(frame(editor, "Arrival").locator(".frame-fields")).to_have_text("Wide · 35mm")

    # In bulk, on the selected frames.
    editor.goto(board)
    for title in ("Bridge", "Cliffs"):
        frame(editor, title).get_by_test_id("frame-select").check()
    editor.get_by_test_id("bulk-field").select_option(label="Shot type")
    editor.get_by_test_id("bulk-value").fill("close-up")
    editor.get_by_test_id("bulk-set-field").click()
    expect(editor.get_by_text("Shot type set to Close-up on 2 scenes.")).to_be_visible()
    expect(frame(page, "Cliffs").locator(".frame-fields")).to_have_text("Close-up", timeout=LIVE)  # live

    # The board filters by a field (the address says which).
    editor.get_by_test_id("filter-shot_type").select_option("Close-up")
    editor.get_by_test_id("filter-submit").click()
    expect(editor.get_by_test_id("frame-title")).to_have_text(["Bridge", "Cliffs"])
    expect(editor.get_by_test_id("filter-count")).to_have_text("2 of 3 scenes shown")
    assert "shot_type=Close-up" in editor.url
    editor.get_by_test_id("filter-clear").click()
    expect(editor.get_by_test_id("frame-title")).to_have_count(3)


def test_a_teammates_values_appear_in_an_open_panel_without_reload(page: Page, new_context, live_server, team,
                                                                   owner, make_member, project, scenes):
    from projects.storyboard import fields as own_fields

    eddie, rita = make_member(team, Role.EDITOR, "eddie"), make_member(team, Role.EDITOR, "rita")
    shot = own_fields.field_create(project=project, user=owner, name="Shot type", kind="choice",
                                   choices="Wide\nMedium\nClose-up")
    own_fields.field_create(project=project, user=owner, name="Lens", kind="text")
    board = f"{live_server.url}/projects/{project.pk}/"
    log_in(page, live_server.url, eddie)
    page.goto(board)
    page.evaluate("window.__noReload = true")  # gone if the page ever reloads
    mine = scene_card(page, "Arrival").get_by_test_id("scene-fields")

    other = new_context().new_page()
    log_in(other, live_server.url, rita)
    other.goto(board)
    ritas_panel = scene_card(other, "Arrival").get_by_test_id("scene-fields")
    ritas_panel.get_by_label("Shot type").select_option("Close-up")
    ritas_panel.get_by_test_id("scene-fields-save").click()
    expect(other.get_by_test_id("fields-saved")).to_be_visible()

    # Eddie's open panel and his board's frame show Rita's value, without a reload.
    expect(mine.get_by_label("Shot type")).to_have_value("Close-up", timeout=LIVE)
    expect(frame(page, "Arrival")).to_contain_text("Close-up", timeout=LIVE)
    assert page.evaluate("window.__noReload") is True

    # What Eddie is typing stays while Rita sets the lens on selected frames; his save then merges.
    mine.get_by_label("Shot type").select_option("Wide")
    scene_ids = [s.pk for s in scenes]
    own_fields.scene_bulk_fields_set(project=project, user=rita, scene_ids=scene_ids,
                                     field=project.fields.get(name="Lens"), value="85mm")  # as her Set does
    expect(frame(page, "Arrival")).to_contain_text("85mm", timeout=LIVE)
    expect(mine.get_by_label("Shot type")).to_have_value("Wide")
    mine.get_by_test_id("scene-fields-save").click()
    expect(page.get_by_test_id("fields-saved")).to_be_visible()
    lens = project.fields.get(name="Lens")
    assert project.scenes.get(title="Arrival").field_values == {shot.key: "Wide", lens.key: "85mm"}

    # An owner renames a field and adds a choice: Eddie's open panel and board filter say so, without reload.
    own_fields.field_update(field=shot, user=owner, name="Framing", choices="Wide\nMedium\nClose-up\nInsert")
    expect(mine.get_by_label("Framing")).to_have_value("Wide", timeout=LIVE)
    expect(mine.get_by_label("Framing").locator("option")).to_have_text(["—", "Wide", "Medium", "Close-up",
                                                                          "Insert"])
    expect(page.get_by_test_id("scene-field")).to_have_count(2)
    assert page.evaluate("window.__noReload") is True
