"""Casting by @mention: the prompt suggests the team's characters as you type."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from playwright.sync_api import expect

from projects.characters import consent
from projects.models import CharacterKind


def portrait():
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (1, 2, 3)).save(buffer, format="PNG")
    return SimpleUploadedFile("p.png", buffer.getvalue())


def test_typing_an_at_sign_suggests_characters_and_casting_follows(logged_in_page, live_server, team, owner,
                                                                   project):
    consent.character_create(team=team, user=owner, name="Captain Rao", kind=CharacterKind.FICTIONAL,
                             images=[portrait()], declares_fictional=True)
    page = logged_in_page(owner)
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    form = page.get_by_test_id("add-scene-form")
    form.get_by_label("Title").fill("Arrival")
    prompt = form.get_by_label("Prompt")
    prompt.click()
    prompt.press_sequentially("The ship docks. @Cap")
    suggestion = page.get_by_role("option", name="@Captain Rao")
    expect(suggestion).to_be_visible()
    suggestion.click()
    expect(prompt).to_have_value("The ship docks. @Captain Rao ")
    form.get_by_role("button", name="Add scene").click()
    expect(page.get_by_test_id("frame")).to_have_count(1)
    assert [c.name for c in project.scenes.get().cast.all()] == ["Captain Rao"]
