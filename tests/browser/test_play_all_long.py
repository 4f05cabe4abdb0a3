"""Play all on a long board: the page brings the sequence (a few fields a stop), not every card's lines nor the
board's captions; a stop's lines and captions are asked for just before it plays, so playback runs on from stop to
stop without waiting for them."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from projects.review import services as review
from projects.review import tasks as review_tasks
from projects.storyboard.dialogue import services as dialogue
from tests.browser.conftest import log_in

LINES = {39: "Ropes off, quietly.", 40: "The tide turns at nine.", 41: "Then we wait for it."}


@pytest.fixture
def long_board(make_scene, finished_take, reviewer, owner, django_capture_on_commit_callbacks):
    """60 scenes of 2 s: the first approved, the 20th a take not approved, the others cards; 39 to 41 have lines."""
    scenes = [make_scene(title=f"Scene {n}", duration=2) for n in range(1, 61)]
    review.take_approve(take=finished_take(scenes[0]), user=reviewer)
    finished_take(scenes[19])
    with django_capture_on_commit_callbacks(execute=True):
        for number, text in LINES.items():
            dialogue.dialogue_line_add(scene=scenes[number - 1], user=owner, speaker=(None, "MARA"), text=text)
    return scenes


def test_a_long_board_plays_through_stops_whose_lines_come_as_they_are_about_to_play(
        page, live_server, viewer, long_board, monkeypatch):
    monkeypatch.setattr(review_tasks.play_all_mix_prepare, "delay_on_commit", lambda *args: None)
    project = long_board[0].project
    asked: list[int] = []
    page.on("request", lambda r: asked.extend(int(m[1]) for m in [re.search(r"/cut/stops/(\d+)/$", r.url)] if m))
    log_in(page, live_server.url, viewer)
    first = page.goto(f"{live_server.url}/projects/{project.pk}/cut/")
    html = first.text()
    assert all(text not in html for text in LINES.values())  # not one card's lines in the page
    scenes = page.get_by_test_id("cut-scene")
    expect(scenes).to_have_count(60)
    expect(scenes.nth(0).get_by_test_id("provenance-chip")).to_have_count(1)
    expect(scenes.nth(19).get_by_test_id("cut-not-approved")).to_be_visible()
    expect(scenes.nth(39).get_by_test_id("cut-card-mark")).to_be_visible()
    expect(page.get_by_test_id("cut-total")).to_have_text("00:02:00:00")
    # At the start only the first stop and the next are asked for: not the 58 others.
    page.wait_for_function("() => document.querySelector('[data-cut]').dataset.ready === '1'")
    by_number = {scene.pk: n for n, scene in enumerate(long_board, 1)}
    expect(page.get_by_test_id("cut-title")).to_have_text("1. Scene 1")
    page.wait_for_timeout(300)
    assert sorted(by_number[pk] for pk in asked) == [1, 2]

    # Play from scene 39: its lines come with it, and scene 40's are asked for while 39 plays.
    with page.expect_request(re.compile(rf"/cut/stops/{long_board[39].pk}/$")):
        scenes.nth(38).click()
    card = page.get_by_test_id("cut-card")
    expect(card).to_contain_text("39. Scene 39")
    expect(card).to_contain_text("MARA: Ropes off, quietly.")
    # Scene 40 plays on its own, its lines already there when it starts.
    expect(page.get_by_test_id("cut-title")).to_have_text("40. Scene 40", timeout=5_000)
    assert page.evaluate("document.querySelector('[data-cut-card]').dataset.loaded") == str(long_board[39].pk)
    expect(card).to_contain_text("The tide turns at nine.")
    # No mix yet: the line is captioned from the stop's own captions, while it is spoken.
    expect(page.get_by_test_id("cut-caption")).to_have_text("MARA: The tide turns at nine.", timeout=2_000)
    expect(page.get_by_test_id("cut-title")).to_have_text("41. Scene 41", timeout=5_000)
    expect(card).to_contain_text("Then we wait for it.")
    numbers = [by_number[pk] for pk in asked]
    assert len(numbers) == len(set(numbers))  # each stop asked for once
    assert max(numbers) <= 42  # nothing far ahead of the stop playing
    assert page.locator("[data-cut]").get_attribute("data-caption-count") is None  # no VTT of the whole board
    # The seek bar still spans the whole sequence: scene 60's last seconds, lines of it never asked for.
    page.get_by_test_id("cut-play").click()  # pause
    page.get_by_test_id("cut-seek").evaluate(
        "el => { el.value = '119'; el.dispatchEvent(new Event('input', {bubbles: true})); }")
    expect(page.get_by_test_id("cut-title")).to_have_text("60. Scene 60")
    expect(card).to_contain_text("60. Scene 60")
