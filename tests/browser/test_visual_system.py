"""The look, in a real browser: the theme follows the system's light or dark setting, review and compare
are dark whatever it says, text stays readable (WCAG AA) in both, and icons come from the studio's own
sprite, never from the internet.

Review, compare and Play all on a light system, and every main page in each theme, are read from one world
built for the module: the pages are visited in one go, each finding then reported by a test of its own (as
tests/browser/test_accessibility.py's sweep)."""

from __future__ import annotations

from typing import Literal

import pytest
from django.urls import reverse
from playwright.sync_api import Page

from tests.browser.conftest import committed_world, log_in
from tests.browser.contrast import low_contrast
from tests.browser.main_pages import furnish, furnish_committed, main_pages, open_page

BACKGROUND = """() => { const [r, g, b] = getComputedStyle(document.body).backgroundColor.match(/[\\d.]+/g).map(Number);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; }"""  # 0 (black) … 255 (white)


@pytest.fixture
def studio(project, owner, editor, reviewer, make_scene, finished_take):
    return furnish(project=project, owner=owner, editor=editor, reviewer=reviewer, make_scene=make_scene,
                   finished_take=finished_take)


@pytest.fixture
def signed_in(page: Page, live_server, owner):
    return log_in(page, live_server.url, owner)


def brightness(page: Page) -> float:
    return page.evaluate(BACKGROUND)


ALWAYS_DARK = ["review", "compare", "play all"]
SCHEMES: list[Literal["light", "dark"]] = ["light", "dark"]


@pytest.fixture(scope="module")
def seen(request, django_db_blocker, tmp_path_factory, browser, _encoded_animatics) -> dict:
    """From one world (the `studio` above, built once: building it was most of each of these tests'
    time): review, compare and Play all on a light system → (their brightness, their <html>'s class);
    each scheme → the text hard to read on every main page, by page."""
    with committed_world(request, django_db_blocker, tmp_path_factory) as live_server:
        world = furnish_committed(encoded=_encoded_animatics)
        context = browser.new_context()
        try:
            page = log_in(context.new_page(), live_server.url, world.owner)
            found: dict = {}
            page.emulate_media(color_scheme="light")
            for name in ALWAYS_DARK:
                open_page(page, live_server.url + main_pages(world.studio)[name])
                found[name] = (brightness(page), page.locator("html").get_attribute("class"))
            pages = {"projects": reverse("projects:project_list"), **main_pages(world.studio)}
            for scheme in SCHEMES:
                page.emulate_media(color_scheme=scheme)
                found[scheme] = {}
                for name, path in pages.items():
                    open_page(page, live_server.url + path)
                    if hard := low_contrast(page):
                        found[scheme][name] = hard
        finally:
            context.close()
    return found


def test_the_board_follows_the_systems_light_or_dark_setting(signed_in: Page, live_server, studio):
    board = live_server.url + main_pages(studio)["board"]
    signed_in.emulate_media(color_scheme="light")
    open_page(signed_in, board)
    assert brightness(signed_in) > 200
    signed_in.emulate_media(color_scheme="dark")
    assert brightness(signed_in) < 40  # the same page, no reload: it follows the setting as it changes
    frame = signed_in.get_by_test_id("frame").first
    assert frame.evaluate("el => getComputedStyle(el).backgroundColor") != "rgb(255, 255, 255)"


# Marked so pytest-django sets the test database up for a run of these tests alone: the sweep builds there.
@pytest.mark.django_db
@pytest.mark.parametrize("name", ALWAYS_DARK)
def test_review_and_compare_are_dark_even_on_a_light_system(seen, name):
    drawn_brightness, theme = seen[name]
    assert drawn_brightness < 40
    assert theme == "theme-dark"  # the class the page is served with (templates/base.html's `theme` block)


@pytest.mark.django_db
@pytest.mark.parametrize("scheme", SCHEMES)
def test_text_on_every_main_page_is_readable_in_both_themes(seen, scheme):
    hard_to_read = seen[scheme]
    assert not hard_to_read


def test_the_contrast_check_finds_faint_text(signed_in: Page, live_server, studio):
    # The check above would pass on a page it could not read: show it catches grey on white.
    open_page(signed_in, live_server.url + main_pages(studio)["board"])
    signed_in.evaluate("""() => { const p = document.createElement('p'); p.textContent = 'Faint note';
        p.style.color = '#bbb'; document.querySelector('main').appendChild(p); }""")
    assert [line for line in low_contrast(signed_in) if "Faint note" in line]


def test_icons_come_from_the_studios_sprite_and_nothing_from_the_internet(page: Page, live_server, owner, studio):
    asked = []
    page.on("request", lambda request: asked.append(request.url))
    log_in(page, live_server.url, owner)
    for path in (reverse("projects:project_list"), *main_pages(studio).values()):
        open_page(page, live_server.url + path)
        drawn = page.evaluate("""() => Array.from(document.querySelectorAll('svg.icon use'))
            .filter(use => use.getBoundingClientRect().width > 0)
            .map(use => [use.getAttribute('href'), use.getBBox().width])""")
        assert drawn, path
        assert all(href.startswith("/static/studio/icons.svg#") and width > 0 for href, width in drawn), drawn
    assert f"{live_server.url}/static/studio/icons.svg" in asked
    assert [url for url in asked if url.startswith("http") and not url.startswith(live_server.url)] == []
