"""Accessibility, measured: axe-core finds no critical and no serious violation on any main page, at
desktop (1440 px) and phone (390 px) widths; the board's drag-to-reorder has a keyboard path; the
player lists its shortcuts behind a named "?" button; a focused control shows a visible outline.

axe-core is vendored for the tests only (tests/vendor/, recorded in tests/vendor/MANIFEST.json): it is
never served to users, so it is injected into each page through the browser's devtools protocol.

The sweep builds its world once for the module and visits every page at both widths in one go, each
(page, width) then reported by a test of its own. The world is committed rows that the sweep flushes
when it is done, as a transactional test's teardown would. The keyboard's pass over four pages (does every
control Tab reaches show it is focused?) reads its pages the same way, from a world of its own.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from tests.browser.conftest import committed_world, log_in
from tests.browser.main_pages import (
    enter_as_guest,
    furnish,
    furnish_committed,
    furnish_fields,
    main_pages,
    open_page,
)

AXE = Path(__file__).resolve().parents[1] / "vendor" / "axe-core" / "axe.min.js"
WIDTHS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
PAGES = ["board", "scene panel", "review", "compare", "play all", "characters", "exports", "spend", "team",
         "providers", "inbox", "fields", "guest review"]
SERIOUS = ("critical", "serious")

RUN_AXE = """async () => {
    const result = await axe.run(document, {resultTypes: ['violations']});
    return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
        targets: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
}"""


def violations(page: Page) -> list[dict]:
    """Each critical or serious violation axe-core finds on the page as it is now."""
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    return [v for v in page.evaluate(RUN_AXE) if v["impact"] in SERIOUS]


def described(found: list[dict]) -> str:
    return "\n".join(f"  {v['id']} ({v['impact']}): {v['help']} at {', '.join(v['targets'])}" for v in found)


def _furnish_committed(*, encoded) -> dict:
    """The world of tests/browser/main_pages.py, built outside any test: committed rows."""
    world = furnish_committed(encoded=encoded)
    furnish_fields(world.studio, owner=world.owner)  # the board's field filters, the panel's and the Fields page's forms
    return {"owner": world.owner, "studio": world.studio}


def _sweep(browser, base_url: str, world: dict) -> dict:
    found = {}
    for width, viewport in WIDTHS.items():
        context = browser.new_context(viewport=viewport)
        page = log_in(context.new_page(), base_url, world["owner"])
        for name, path in main_pages(world["studio"]).items():
            open_page(page, base_url + path)
            found[name, width] = violations(page)
        guest = enter_as_guest(browser.new_context(viewport=viewport).new_page(), base_url,
                               world["studio"].guest_token)
        expect(guest.get_by_test_id("guest-take").first).to_be_visible()
        found["guest review", width] = violations(guest)
        if width == "desktop":
            # The check would pass on a page it could not read: show it finds a nameless button.
            guest.evaluate("() => document.querySelector('main').appendChild(document.createElement('button'))")
            found["a nameless button", width] = violations(guest)
        guest.context.close()
        context.close()
    return found


@pytest.fixture(scope="module")
def swept(request, django_db_blocker, tmp_path_factory, browser, _encoded_animatics):
    """(page, width) → the critical and serious violations found there, from one world."""
    with committed_world(request, django_db_blocker, tmp_path_factory) as live_server:
        return _sweep(browser, live_server.url, _furnish_committed(encoded=_encoded_animatics))


# Marked so pytest-django sets the test database up for a run of these tests alone: the sweep builds there.
@pytest.mark.django_db
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", PAGES)
def test_no_critical_or_serious_violation_on_a_main_page(swept, name, width):
    found = swept[name, width]
    assert not found, f"axe-core on {name} at {WIDTHS[width]['width']} px:\n{described(found)}"


def test_the_sweep_finds_a_nameless_button(swept):
    assert [v["id"] for v in swept["a nameless button", "desktop"]] == ["button-name"]


# Keyboard and focus: each test below builds its own small world, as every browser test does.

@pytest.fixture
def studio(project, owner, editor, reviewer, make_scene, finished_take):
    return furnish(project=project, owner=owner, editor=editor, reviewer=reviewer, make_scene=make_scene,
                   finished_take=finished_take)


def tab_to(page: Page, selector: str, *, most: int = 80, backwards: bool = False) -> None:
    """Press Tab (or Shift+Tab) until the focused element matches `selector`, as a keyboard user would."""
    for _ in range(most):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        if page.evaluate("s => !!document.activeElement && document.activeElement.matches(s)", selector):
            return
    pytest.fail(f"{selector} was not reached in {most} presses of Tab")


SETTLED = "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"


def board_titles(page: Page) -> list[str]:
    return page.get_by_test_id("frame-title").all_inner_texts()


def test_a_frame_moves_earlier_with_the_keyboard_alone(page: Page, live_server, owner, studio):
    log_in(page, live_server.url, owner)
    open_page(page, live_server.url + main_pages(studio)["board"])
    assert board_titles(page) == ["Opening: the harbour at dawn", "The storm rolls in", "Safe inside"]
    third = studio.scenes[2]
    # The drag handle is for the mouse; the keyboard opens the frame and moves it from its panel.
    tab_to(page, f"#frame-{third.pk} .frame-open")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("panel-close")).to_be_visible()
    tab_to(page, "#scene-panel button[aria-label^='Earlier']")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("frame-title")).to_have_text(
        ["Opening: the harbour at dawn", "Safe inside", "The storm rolls in"])
    # Focus stays on the button through the board's redraw: Enter again moves it again.
    expect(page.locator("#scene-panel button[aria-label^='Earlier']")).to_be_focused()
    page.wait_for_function(SETTLED)  # as a person would: the redrawn board is in place
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("frame-title")).to_have_text(
        ["Safe inside", "Opening: the harbour at dawn", "The storm rolls in"])
    third.refresh_from_db()
    assert third.number == 1


def test_the_players_shortcuts_are_behind_a_named_button_the_keyboard_reaches(page: Page, live_server, owner,
                                                                              studio):
    log_in(page, live_server.url, owner)
    open_page(page, live_server.url + main_pages(studio)["review"])
    button = page.get_by_role("button", name="Keyboard shortcuts")
    expect(button).to_have_count(1)
    tab_to(page, "[data-testid=player-help-toggle]")
    expect(button).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Enter")
    shortcuts = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(shortcuts).to_be_visible()
    expect(button).to_have_attribute("aria-expanded", "true")
    for key in ("J / K / L", "← / →", "I / O", "C", "?"):
        expect(shortcuts.locator("kbd", has_text=key).first).to_be_visible()
    page.keyboard.press("Escape")
    expect(shortcuts).to_be_hidden()


# The focused element shows an outline, or (a frame, a project card) the card around it does.
FOCUS_SHOWN = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const ring = [el, el.closest('.frame, .project-card')].filter(Boolean).map(n => getComputedStyle(n))
        .find(style => style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2);
    const name = el.tagName.toLowerCase() + (el.dataset.testid ? `[${el.dataset.testid}]` : '')
        + ' ' + (el.getAttribute('aria-label') || el.textContent || '').trim().slice(0, 30);
    return {name, shown: !!ring};
}"""


TABBED = ["board", "review", "play all", "spend"]


@pytest.fixture(scope="module")
def tabbed(request, django_db_blocker, tmp_path_factory, browser, _encoded_animatics) -> dict[str, list[str]]:
    """Each of TABBED → the controls 40 presses of Tab focused without a visible outline there, from one world
    (the `studio` above, built once: building it was most of each page's test)."""
    with committed_world(request, django_db_blocker, tmp_path_factory) as live_server:
        world = furnish_committed(encoded=_encoded_animatics)
        context = browser.new_context()  # the size every other test's page has
        try:
            page = log_in(context.new_page(), live_server.url, world.owner)
            found: dict[str, list[str]] = {}
            for name in TABBED:
                open_page(page, live_server.url + main_pages(world.studio)[name])
                found[name] = []
                for _ in range(40):
                    page.keyboard.press("Tab")
                    focused = page.evaluate(FOCUS_SHOWN)
                    if focused and not focused["shown"]:
                        found[name].append(focused["name"])
        finally:
            context.close()
    return found


@pytest.mark.django_db
@pytest.mark.parametrize("name", TABBED)
def test_every_control_the_keyboard_reaches_shows_it_is_focused(tabbed, name):
    unmarked = tabbed[name]
    assert not unmarked, f"focused without a visible outline on {name}: {unmarked}"


def test_the_focus_check_sees_a_control_whose_outline_is_taken_away(page: Page, live_server, owner, studio):
    log_in(page, live_server.url, owner)
    open_page(page, live_server.url + reverse("projects:project_list"))
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUS_SHOWN)["shown"]
    page.evaluate("() => { document.activeElement.style.outline = 'none'; }")
    assert not page.evaluate(FOCUS_SHOWN)["shown"]
