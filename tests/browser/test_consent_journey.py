"""Consent, end to end in a real browser.

A member adds themselves to the character library as a real person and
consents to one project. A colleague casts them by @mention and renders a take
with the local previz; it succeeds. The member revokes; when the colleague
reloads the storyboard, the take is withheld and no longer playable.

Celery runs eagerly here (tests/conftest.py): "Render take" finishes within
its request.
"""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from generation.models import Render
from projects.characters import consent
from projects.models import Character, CharacterKind, Role
from projects.storyboard import services
from tests.browser.conftest import log_in
from tests.browser.test_storyboard_journey import refresh_until_settled

RENDER_TIMEOUT_MS = 30_000


@pytest.fixture
def member(team, make_member):
    return make_member(team, Role.EDITOR, "maya")


@pytest.fixture
def portrait(tmp_path):
    path = tmp_path / "maya.png"
    Image.new("RGB", (96, 96), (200, 60, 40)).save(path, format="PNG")
    return path


# --- Steps, named the way a user would say them ------------------------------

def add_myself_as_a_character(page: Page, *, name: str, username: str, description: str, image) -> None:
    page.locator(".topbar").get_by_role("link", name="Characters").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r": characters$"))
    form = page.get_by_test_id("new-character-form")
    form.get_by_label("Name", exact=True).fill(name)
    form.get_by_label("Description").fill(description)
    form.get_by_label("A real person (their likeness)").check()
    form.get_by_label("The person (their own account)").select_option(label=username)
    form.get_by_label("Reference images (1 to 4)").set_input_files(image)
    form.get_by_role("button", name="Add character").click()
    expect(page.get_by_role("heading", level=1, name=name)).to_be_visible()


def grant_consent_to_one_project(page: Page, project_name: str) -> None:
    form = page.get_by_test_id("consent-form")
    form.get_by_label("Selected projects only").check()
    form.get_by_label(project_name, exact=True).check()
    form.get_by_role("button", name="Grant consent").click()


def edit_prompt(page: Page, scene, prompt: str) -> None:
    page.locator(f"#frame-{scene.pk} .frame-open").click()  # the scene opens in the side panel
    card = page.get_by_test_id("scene-panel")
    card.get_by_test_id("scene-editor").get_by_label("Prompt").fill(prompt)
    card.get_by_role("button", name="Save").click()
    expect(card.get_by_test_id("saved")).to_be_visible()
    expect(card.get_by_test_id("scene-editor").get_by_label("Prompt")).to_have_value(prompt)


def revoke_consent(page: Page) -> None:
    page.once("dialog", lambda dialog: dialog.accept())  # hx-confirm asks first
    page.get_by_test_id("revoke-form").get_by_role("button", name="Revoke consent").click()


# --- The journey ----------------------------------------------------------------

def test_a_revoked_consent_withholds_a_colleagues_take(
        browser: Browser, page: Page, live_server, member, editor, project, scene, portrait):
    services.project_create(team=project.team, user=member, name="Other film")

    # Maya adds herself to the library and consents to "Harbour Story" only.
    log_in(page, live_server.url, member)
    add_myself_as_a_character(page, name="Maya", username="maya", description="red coat, short dark hair",
                              image=portrait)
    state = page.get_by_test_id("consent-state")
    expect(state).to_have_text("No consent yet")
    reference = page.get_by_test_id("reference-image")
    expect(reference).to_be_visible()
    # The image may still be loading when it becomes visible: wait for it to decode.
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=reference.element_handle())
    assert reference.evaluate("img => img.naturalWidth") == 96
    grant_consent_to_one_project(page, project.name)
    expect(state).to_have_text("Consent: granted (1 project, all providers)")
    expect(page.get_by_test_id("consent-event").first).to_have_attribute("data-action", "granted")
    maya = Character.objects.get(name="Maya")
    assert maya.person == member

    # Her colleague, in a browser of his own, casts her and renders a take.
    colleague_context = browser.new_context()
    try:
        colleague = log_in(colleague_context.new_page(), live_server.url, editor)
        colleague.goto(f"{live_server.url}/projects/{project.pk}/")
        edit_prompt(colleague, scene, "@Maya walks along the pier at dawn.")
        card = colleague.get_by_test_id("scene-panel")
        card.get_by_test_id("render-button").click()
        take = card.get_by_test_id("take")
        expect(take).to_have_count(1)
        refresh_until_settled(take, RENDER_TIMEOUT_MS)
        expect(take).to_have_attribute("data-status", "succeeded")
        expect(take.get_by_test_id("take-video")).to_be_visible()
        take_pk = int((take.get_attribute("id") or "").removeprefix("take-"))
        assert list(Render.objects.get(pk=take_pk).characters.all()) == [maya]

        # Maya sees the take on her page, and revokes.
        page.reload()
        expect(page.get_by_test_id("takes-count")).to_have_text("Takes (1)")
        revoke_consent(page)
        expect(state).to_have_text("Consent revoked")
        expect(page.get_by_role("status")).to_have_text("Consent revoked. 1 take withheld.")
        expect(page.get_by_test_id("takes-count")).to_have_text("Takes (1, 1 withheld)")
        expect(page.get_by_test_id("revoke-form")).to_have_count(0)

        # The colleague reloads: the take is withheld, with nothing left to play.
        colleague.reload()
        take = colleague.locator(f"#take-{take_pk}")
        expect(take.get_by_test_id("take-withheld")).to_contain_text("Consent revoked by Maya")
        expect(take.get_by_test_id("take-video")).to_have_count(0)
        expect(colleague.locator("video")).to_have_count(0)
        video = colleague.request.get(f"{live_server.url}/takes/{take_pk}/video/")
        assert video.status == 404
    finally:
        colleague_context.close()


def test_the_library_search_filters_as_you_type(page: Page, live_server, team, owner, portrait):
    for name, description in (("Robo", "a brass lighthouse keeper"), ("Gull", "a loud seagull")):
        with portrait.open("rb") as image:
            consent.character_create(team=team, user=owner, name=name, kind=CharacterKind.FICTIONAL,
                                     description=description, declares_fictional=True,
                                     images=[SimpleUploadedFile("p.png", image.read())])
    log_in(page, live_server.url, owner)
    page.goto(f"{live_server.url}/teams/{team.pk}/characters/")
    page.evaluate("window.__noReload = true")
    characters = page.get_by_test_id("character")
    expect(characters).to_have_count(2)

    page.get_by_label("Search").press_sequentially("lighthouse")

    expect(characters).to_have_count(1)
    expect(characters).to_contain_text("Robo")
    expect(characters.get_by_test_id("consent-state")).to_have_text(
        f"Fictional — declared by {owner.get_username()}")
    expect(page).to_have_url(re.compile(r"\?q=lighthouse$"))
    assert page.evaluate("window.__noReload") is True, "the page reloaded instead of swapping"
