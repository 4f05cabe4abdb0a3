"""A checkbox or radio sits on the line of its words, at desktop and phone widths.

The global `input { display:block; width:100% }` once put every checkbox and radio alone,
centred, above its label's words: "Yes, delete those 3 scenes and their 3 takes" looked like
a sentence with nothing to tick, "Share with guests" like a heading.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in
from tests.browser.main_pages import furnish, main_pages, open_page

SCRIPT = Path(__file__).resolve().parent.parent / "fixtures" / "scripts" / "harbour.fountain"

# For every visible label holding a checkbox or radio: the box of the input, and of the first line
# of the label's own words (its first text that is not blank).
CHOICES = """() => Array.from(document.querySelectorAll('label')).flatMap(label => {
    const input = label.querySelector('input[type=checkbox], input[type=radio]');
    if (!input || !input.getClientRects().length) return [];
    const walker = document.createTreeWalker(label, NodeFilter.SHOW_TEXT,
        {acceptNode: n => n.textContent.trim() ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_SKIP});
    const text = walker.nextNode();
    const range = document.createRange();
    range.selectNodeContents(text);
    const words = range.getClientRects()[0], box = input.getBoundingClientRect();
    return [{label: label.textContent.trim().replace(/\\s+/g, ' ').slice(0, 60),
             input: {top: box.top, bottom: box.bottom, left: box.left, right: box.right, width: box.width},
             words: {top: words.top, bottom: words.bottom, left: words.left, right: words.right}}];
})"""


def apart_from_their_words(page: Page) -> list[str]:
    """Labels whose checkbox or radio is not on the line of the words beside it."""
    apart = []
    for choice in page.evaluate(CHOICES):
        box, words = choice["input"], choice["words"]
        same_line = box["top"] < words["bottom"] and words["top"] < box["bottom"]
        beside = box["right"] <= words["left"] + 1 or words["right"] <= box["left"] + 1
        if not (same_line and beside and box["width"] < 40):
            apart.append(f"{choice['label']}: {choice}")
    return apart


@pytest.fixture
def studio(project, owner, editor, reviewer, make_scene, finished_take):
    return furnish(project=project, owner=owner, editor=editor, reviewer=reviewer, make_scene=make_scene,
                   finished_take=finished_take)


@pytest.mark.parametrize("width", [1440, 390])
def test_replacing_the_storyboard_is_confirmed_by_a_box_beside_its_sentence(page: Page, live_server, owner,
                                                                            studio, width):
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, live_server.url, owner)
    page.goto(f"{live_server.url}/projects/{studio.project.pk}/")
    page.get_by_test_id("script-import-link").click()
    page.get_by_label("Script file").set_input_files(str(SCRIPT))
    page.get_by_test_id("script-preview-button").click()

    confirm = page.get_by_test_id("script-confirm-delete")
    expect(page.locator("label").filter(has=confirm)).to_contain_text("Yes, move those 3 scenes and their 3 takes to the trash")
    page.get_by_test_id("script-replace").check()
    assert page.evaluate(CHOICES)  # the preview has radios and checkboxes to look at
    assert apart_from_their_words(page) == []


@pytest.mark.parametrize("width", [1440, 390])
def test_share_with_guests_and_the_compare_modes_sit_beside_their_words(page: Page, live_server, owner, studio,
                                                                         width):
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, live_server.url, owner)
    pages = main_pages(studio)
    open_page(page, live_server.url + pages["review"])
    page.get_by_text("Reply", exact=True).first.click()  # a reply's own "Share with guests" box
    expect(page.get_by_test_id("comment-shared")).to_be_visible()
    expect(page.get_by_test_id("reply-shared").first).to_be_visible()
    assert apart_from_their_words(page) == []
    open_page(page, live_server.url + pages["compare"])
    expect(page.get_by_test_id("compare-mode-wipe")).to_be_visible()
    assert apart_from_their_words(page) == []
