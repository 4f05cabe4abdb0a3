"""Play all in a real browser: a board with one approved take, one take not approved and one scene with
nothing filmed plays through from the first scene to the last, the sound is prepared by a worker and
arrives over the live channel, and the lines are captioned on screen while they are spoken."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from projects.models import PlayAllMix
from projects.review import playall
from projects.review import services as review
from projects.review import tasks as review_tasks
from projects.storyboard.dialogue import services as dialogue
from tests.browser.conftest import log_in


@pytest.fixture
def board(make_scene, finished_take, reviewer, owner, django_capture_on_commit_callbacks):
    dawn, night = make_scene(title="Dawn", duration=2), make_scene(title="Night", duration=2)
    storm = make_scene(title="Storm", duration=3)
    review.take_approve(take=finished_take(dawn), user=reviewer)
    finished_take(night)
    with django_capture_on_commit_callbacks(execute=True):
        dialogue.dialogue_line_add(scene=storm, user=owner, speaker=(None, "ANNA"), text="Is the boat ready?")
    return dawn.project


def test_play_all_plays_the_whole_board_with_its_sound_and_captions(page, live_server, viewer, board, monkeypatch):
    asked = []
    # The worker is this test: the page only asks (on commit), and the test makes the mix when it chooses.
    monkeypatch.setattr(review_tasks.play_all_mix_prepare, "delay_on_commit", asked.append)
    log_in(page, live_server.url, viewer)
    page.goto(f"{live_server.url}/projects/{board.pk}/cut/")
    scenes = page.get_by_test_id("cut-scene")
    expect(scenes).to_have_count(3)
    expect(scenes.nth(0).get_by_test_id("cut-not-approved")).to_have_count(0)
    expect(scenes.nth(1).get_by_test_id("cut-not-approved")).to_have_text("Not approved")
    expect(scenes.nth(2).get_by_test_id("cut-card-mark")).to_be_visible()
    expect(page.get_by_test_id("cut-sound-preparing")).to_have_text("Preparing the sound…")

    # A worker makes the mix: the open page swaps it in, without reloading.
    page.evaluate("window.__noReload = true")
    (mix_id,) = asked
    playall.play_all_mix_prepare(mix_id)
    audio = page.locator("[data-cut-audio]")
    expect(audio).to_have_count(1, timeout=5_000)
    expect(page.get_by_test_id("cut-sound-preparing")).to_have_count(0)
    assert page.evaluate("window.__noReload") is True
    mix = PlayAllMix.objects.get(pk=mix_id)
    assert audio.get_attribute("src").endswith(f"/cut/sound/{mix.pk}/")
    page.wait_for_function("() => document.querySelector('[data-cut-audio]').readyState >= 1")  # real sound
    assert page.evaluate("document.querySelector('[data-cut-audio]').duration") == pytest.approx(7.0, abs=0.2)

    # Play all runs on its own from the approved take, through the take not approved, to the card.
    page.get_by_test_id("cut-play").click()
    expect(page.get_by_test_id("cut-title")).to_have_text("2. Night", timeout=10_000)
    expect(page.get_by_test_id("cut-title")).to_have_text("3. Storm", timeout=10_000)
    card = page.get_by_test_id("cut-card")
    expect(card).to_be_visible()
    expect(card).to_contain_text("Is the boat ready?")
    expect(page.get_by_test_id("cut-player")).to_be_hidden()
    # The line is captioned while it is spoken, on the sequence's clock.
    expect(page.get_by_test_id("cut-caption")).to_have_text("ANNA: Is the boat ready?", timeout=3_000)
    assert 4.4 <= float(page.locator("[data-cut]").get_attribute("data-time")) <= 7.0
    expect(page.locator("[data-cut]")).to_have_attribute("data-finished", "1", timeout=6_000)
    expect(page.get_by_test_id("cut-caption")).to_be_hidden()
    expect(page.get_by_test_id("cut-play")).to_have_text("Play all")
