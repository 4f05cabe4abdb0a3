"""Dialogue as data, in two real browsers: a script's lines arrive on the cards and in the side panel,
one is edited, and a teammate's open board and panel show it while what they were typing stays."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from projects.models import Role
from tests.browser.conftest import log_in
from tests.browser.test_storyboard_journey import frame, scene_card

SCRIPT = Path(__file__).resolve().parent.parent / "fixtures" / "scripts" / "harbour.fountain"
LIVE = 5_000


@pytest.fixture
def two_people(browser: Browser, live_server, team, owner, make_member, project):
    rita = make_member(team, Role.EDITOR, "rita")
    pages = []
    for user in (owner, rita):
        page = browser.new_context().new_page()
        log_in(page, live_server.url, user)
        page.goto(f"{live_server.url}/projects/{project.pk}/")
        page.evaluate("window.__noReload = true")  # gone if the page ever reloads
        pages.append(page)
    yield pages
    for page in pages:
        page.context.close()


def import_script(page: Page) -> None:
    page.get_by_test_id("script-import-link").click()
    page.get_by_label("Script file").set_input_files(str(SCRIPT))
    page.get_by_test_id("script-preview-button").click()
    page.get_by_test_id("script-import-button").click()
    expect(page.get_by_test_id("frame")).to_have_count(2)


def edit_line(panel, index: int):
    line = panel.get_by_test_id("dialogue-line").nth(index)
    line.get_by_test_id("line-edit").locator("summary").click()
    return line


def test_a_scripts_lines_are_on_the_cards_and_in_the_panel_and_an_edit_reaches_a_teammate(
        two_people, project):
    owner_page, rita = two_people
    import_script(owner_page)

    # The cards show each scene's first lines, on the importer's board and on Rita's, live.
    kitchen = frame(owner_page, "INT. KITCHEN - DAY")
    expect(kitchen.get_by_test_id("frame-line").first).to_have_text("ANNA (sleepy) Morning.")
    expect(kitchen.get_by_test_id("frame-lines")).to_contain_text("+2 more lines")
    expect(frame(rita, "INT. KITCHEN - DAY").get_by_test_id("frame-line").first).to_have_text(
        "ANNA (sleepy) Morning.", timeout=LIVE)

    # The panel lists all four; the prompt holds the action only.
    panel = scene_card(owner_page, "INT. KITCHEN - DAY")
    expect(panel.get_by_test_id("dialogue-line")).to_have_count(4)
    expect(panel.get_by_test_id("scene-editor").get_by_label("Prompt")).to_have_value("Anna pours coffee. The radio mumbles the shipping forecast.")
    theirs = scene_card(rita, "INT. KITCHEN - DAY")
    # Rita starts rewording Ben's line; she has not saved it when the owner's edit arrives.
    edit_line(theirs, 1).get_by_test_id("line-text-input").fill("Tea, then?")

    line = edit_line(panel, 0)
    line.get_by_test_id("line-text-input").fill("Morning, Ben.")
    line.get_by_test_id("line-save").click()
    expect(panel.get_by_test_id("dialogue-saved")).to_have_text("Line saved.")
    expect(panel.get_by_test_id("line-text").first).to_have_text("Morning, Ben.")

    expect(frame(rita, "INT. KITCHEN - DAY").get_by_test_id("frame-line").first).to_have_text(
        "ANNA (sleepy) Morning, Ben.", timeout=LIVE)
    expect(theirs.get_by_test_id("line-text").first).to_have_text("Morning, Ben.", timeout=LIVE)
    # What Rita was typing is still there, in the form still open; saving it goes through.
    ben = theirs.get_by_test_id("dialogue-line").nth(1)
    expect(ben.get_by_test_id("line-text-input")).to_have_value("Tea, then?")
    ben.get_by_test_id("line-save").click()
    expect(theirs.get_by_test_id("line-text").nth(1)).to_have_text("Tea, then?")
    expect(panel.get_by_test_id("line-text").nth(1)).to_have_text("Tea, then?", timeout=LIVE)

    kitchen_scene = project.scenes.get(title="INT. KITCHEN - DAY")
    assert list(kitchen_scene.lines.values_list("text", flat=True)[:2]) == ["Morning, Ben.", "Tea, then?"]
    assert rita.evaluate("window.__noReload") is True
