"""Script in, in a real browser: upload a Fountain file, check the preview, tick a casting, import,
and find the scenes on the board."""

from __future__ import annotations

import io
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from playwright.sync_api import Page, expect

from projects.characters import consent
from projects.models import CharacterKind
from tests.browser.conftest import log_in
from tests.browser.test_storyboard_journey import frame

SCRIPT = Path(__file__).resolve().parent.parent / "fixtures" / "scripts" / "harbour.fountain"


def test_a_writer_imports_a_fountain_script_and_casts_anna(page: Page, live_server, editor, project, team, owner):
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (10, 120, 200)).save(buffer, format="PNG")
    anna = consent.character_create(team=team, user=owner, name="Anna", kind=CharacterKind.FICTIONAL,
                                    declares_fictional=True, images=[SimpleUploadedFile("a.png", buffer.getvalue())])
    log_in(page, live_server.url, editor)
    page.goto(f"{live_server.url}/projects/{project.pk}/")

    page.get_by_test_id("script-import-link").click()
    page.get_by_label("Script file").set_input_files(str(SCRIPT))
    page.get_by_test_id("script-preview-button").click()

    expect(page.get_by_test_id("script-scene")).to_have_count(2)
    expect(page.get_by_test_id("script-scenes")).to_contain_text("ANNA: (sleepy) Morning.")
    expect(page.get_by_test_id("script-unmatched")).to_have_text("Not in the character library: BEN.")
    assert project.scenes.count() == 0  # a preview saves nothing
    page.get_by_label("Seconds for scene 2").fill("5")
    page.get_by_test_id("script-cast-option").get_by_role("checkbox").check()
    page.get_by_test_id("script-import-button").click()

    expect(page.get_by_test_id("frame")).to_have_count(2)
    expect(frame(page, "INT. KITCHEN - DAY")).to_have_count(1)
    expect(frame(page, "EXT. HARBOUR - DAWN")).to_have_count(1)
    expect(page.locator(".messages")).to_contain_text("Imported 2 scenes from the script.")
    kitchen, harbour = project.scenes.order_by("position")
    assert list(kitchen.cast.all()) == [anna] and harbour.duration == 5
