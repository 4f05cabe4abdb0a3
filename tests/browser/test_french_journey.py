"""A French crew's browser: the board and the review page speak French (the scripts' player bar too,
through the JavaScript catalog), fit a 390 px phone although French runs longer, and a user who
chose English on the settings page reads English in the same French browser."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from tests.browser.main_pages import furnish, main_pages, open_page
from tests.conftest import PASSWORD

ENGLISH_UI_WORDS = ("Render", "Approve", "Comments", "Scenes", "Review", "Request changes", "Draw on frame")
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
# Set to a folder to keep screenshots of the French pages (the visual check while building).
SHOTS = os.environ.get("STUDIO_SHOTS", "")


@pytest.fixture
def studio(project, owner, editor, reviewer, make_scene, finished_take):
    return furnish(project=project, owner=owner, editor=editor, reviewer=reviewer, make_scene=make_scene,
                   finished_take=finished_take)


@pytest.fixture
def french_browser(new_context):
    return new_context(locale="fr-FR").new_page()


def log_in_in_french(page: Page, base_url: str, user) -> Page:
    page.goto(f"{base_url}/login/")
    page.get_by_label("Nom d’utilisateur").fill(user.get_username())
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.locator(".topbar .user")).to_have_text(user.get_username())
    return page


def english_left(page: Page) -> list[str]:
    text = page.locator("body").inner_text()
    return [word for word in ENGLISH_UI_WORDS if re.search(rf"\b{re.escape(word)}\b", text)]


def fits(page: Page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def shoot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def test_a_french_browser_sees_the_board_and_the_review_page_in_french(french_browser, live_server, studio, owner):
    page = log_in_in_french(french_browser, live_server.url, owner)
    pages = main_pages(studio)
    for size, viewport in (("1440", DESKTOP), ("390", PHONE)):
        page.set_viewport_size(viewport)
        open_page(page, live_server.url + pages["board"])
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        expect(page.get_by_role("heading", name="Ajouter une scène")).to_be_visible()
        expect(page.get_by_test_id("total-spend")).to_contain_text("$")
        assert english_left(page) == []
        assert fits(page), "the French board is wider than the screen"
        shoot(page, f"board-fr-{size}")

        open_page(page, live_server.url + pages["review"])
        expect(page.get_by_test_id("request-changes")).to_have_text("Demander des modifications")
        # Built by player.js: its words come from the JavaScript catalog.
        expect(page.get_by_test_id("draw-toggle")).to_have_text("Dessiner sur l’image")
        expect(page.get_by_test_id("player-help-toggle")).to_have_attribute("aria-label", "Raccourcis clavier (?)")
        assert english_left(page) == []
        assert fits(page), "the French review page is wider than the screen"
        shoot(page, f"review-fr-{size}")


def test_a_user_who_picks_english_sees_english_in_a_french_browser(french_browser, live_server, studio, owner):
    page = log_in_in_french(french_browser, live_server.url, owner)
    page.goto(live_server.url + "/account/notifications/")
    page.get_by_label("Langue du studio").select_option("en")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_have_text("Settings saved.")

    open_page(page, live_server.url + main_pages(studio)["board"])
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Add a scene")).to_be_visible()
    open_page(page, live_server.url + main_pages(studio)["review"])
    expect(page.get_by_test_id("request-changes")).to_have_text("Request changes")
    expect(page.get_by_test_id("draw-toggle")).to_have_text("Draw on frame")


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_character_library_and_the_members_page_fit_in_french(french_browser, live_server, project, owner, size):
    team = project.team
    french_browser.set_viewport_size(DESKTOP if size == "desktop" else PHONE)
    page = log_in_in_french(french_browser, live_server.url, owner)
    page.goto(live_server.url + reverse("projects:character_list", args=[team.pk]))
    expect(page.get_by_role("heading", name="Nouveau personnage")).to_be_visible()
    assert fits(page)
    shoot(page, f"characters-{size}")
    page.goto(live_server.url + reverse("projects:team_members", args=[team.pk]))
    expect(page.get_by_role("heading", name="Budget mensuel")).to_be_visible()
    assert fits(page)
    shoot(page, f"members-{size}")
