"""The consent log on a phone: every grant's details are on the screen, not past its edge (read in French, whose
words are the longest the studio ships)."""

from __future__ import annotations

from django.urls import reverse
from playwright.sync_api import Page, ViewportSize, expect

from projects.characters.consent import character_create, consent_grant
from tests.browser.conftest import box_of, log_in
from tests.factories import photo

PHONE: ViewportSize = {"width": 390, "height": 844}


def test_a_grants_details_fit_a_phone_screen(page: Page, live_server, project, owner, editor):
    character = character_create(team=project.team, user=owner, name="Eddie Marin", kind="person", person=editor,
                                 images=[photo()])
    consent_grant(character=character, user=editor)
    page.set_viewport_size(PHONE)
    log_in(page, live_server.url, owner)
    page.set_extra_http_headers({"Accept-Language": "fr"})
    page.goto(live_server.url + reverse("projects:character_detail", args=[character.pk]))

    entry = page.get_by_test_id("consent-event")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text("Consentement accordé")
    log = page.get_by_test_id("consent-log")
    assert log.evaluate("table => table.scrollWidth <= table.clientWidth"), "the log scrolls sideways"
    for value in ("Tous les projets de l’équipe", "sans expiration"):
        shown = entry.locator("dd", has_text=value)
        shown.scroll_into_view_if_needed()
        box = box_of(shown)
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], f"“{value}” is drawn past the screen"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
