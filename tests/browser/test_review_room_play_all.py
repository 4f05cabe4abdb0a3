"""A review room on Play all: Rita presents the whole board, Eddie's Play all follows hers over the live channel:
she plays, pauses, seeks within the sequence and goes on to the next scene, and his shows the same scene at the same
moment, playing or paused as hers is; a late joiner starts there."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from projects.review import services as review
from projects.review import tasks as review_tasks
from tests.browser.conftest import log_in

LIVE = 5_000
FRAME = 1 / 24
# What the page shows of Play all: the scene's title, the sequence's clock, whether it plays (the button's label
# says Pause while it does), and the take's player when the scene has one.
SHOWN = """() => {
  const box = document.querySelector('[data-cut]');
  const player = document.querySelector('[data-testid=cut-player]');
  return {title: document.querySelector('[data-testid=cut-title]').textContent,
          time: parseFloat(box.dataset.time), label: document.querySelector('[data-testid=cut-play]').textContent,
          video: box.dataset.kind === 'card' ? null : {paused: player.paused, seeking: player.seeking,
                                                      at: player.currentTime}};
}"""


def shown(page: Page) -> dict:
    return page.evaluate(f"({SHOWN})()")


def wait_playing(page: Page, title: str) -> None:
    page.wait_for_function(
        f"""(title) => {{ const s = ({SHOWN})();
            return s.title === title && s.label === 'Pause' && (s.video === null || !s.video.paused); }}""",
        arg=title, timeout=LIVE)


def wait_paused_at(page: Page, title: str, time: float, frames: int = 2) -> None:
    """Paused on `title` at `time` seconds into the sequence, its take's seek settled."""
    page.wait_for_function(
        f"""([title, time, tol]) => {{ const s = ({SHOWN})();
            return s.title === title && s.label === 'Play all' && Math.abs(s.time - time) <= tol
                   && (s.video === null || (s.video.paused && !s.video.seeking)); }}""",
        arg=[title, time, frames * FRAME + 1e-3], timeout=LIVE)


@pytest.fixture
def board(make_scene, finished_take, reviewer):
    """Dawn (an approved take, 2 s), Night (a take not approved, 2 s), Storm (nothing filmed: a card, 3 s)."""
    dawn, night = make_scene(title="Dawn", duration=2), make_scene(title="Night", duration=2)
    make_scene(title="Storm", duration=3)
    review.take_approve(take=finished_take(dawn), user=reviewer)
    finished_take(night)
    return dawn.project


@pytest.fixture
def rita_and_eddie(browser: Browser, live_server, reviewer, editor, board, monkeypatch):
    # No worker makes Play all's sound here: the takes' own sound plays (the room follows the pictures).
    monkeypatch.setattr(review_tasks.play_all_mix_prepare, "delay_on_commit", lambda *args: None)
    pages = [log_in(browser.new_context().new_page(), live_server.url, user) for user in (reviewer, editor)]
    yield pages
    for page in pages:
        page.context.close()


def test_everyone_in_a_room_on_play_all_follows_the_presenters_scene_moment_play_and_pause(
        rita_and_eddie, live_server, board):
    rita, eddie = rita_and_eddie
    cut = f"{live_server.url}/projects/{board.pk}/cut/"
    rita.goto(cut)
    rita.get_by_test_id("room-open").click()
    expect(rita.get_by_test_id("room-presenter")).to_contain_text("You are presenting")

    # Eddie finds the room on Play all and joins it.
    eddie.goto(cut)
    eddie.get_by_test_id("room-join").click()
    expect(eddie.get_by_test_id("room-presenter")).to_contain_text("Following rita's player.")
    wait_paused_at(eddie, "1. Dawn", 0)

    # Rita plays: Eddie's plays. She pauses: his stops at her moment.
    rita.get_by_test_id("cut-play").click()
    wait_playing(eddie, "1. Dawn")
    rita.wait_for_timeout(400)
    rita.get_by_test_id("cut-play").click()
    wait_paused_at(rita, "1. Dawn", shown(rita)["time"])
    wait_paused_at(eddie, "1. Dawn", shown(rita)["time"])

    # She seeks within the sequence, half a second into Night: Eddie's shows Night at that moment, paused.
    rita.get_by_test_id("cut-seek").evaluate("(el) => { el.value = '2.5'; el.dispatchEvent(new Event('input')); }")
    wait_paused_at(rita, "2. Night", 2.5)
    wait_paused_at(eddie, "2. Night", 2.5)
    night_starts = eddie.evaluate("parseFloat(document.querySelectorAll('[data-cut-item]')[1].dataset.start)")
    assert shown(eddie)["video"]["at"] == pytest.approx(2.5 - night_starts, abs=2 * FRAME)

    # She goes on to the next scene, the card: Eddie's shows it, playing; she pauses it and his stops with hers.
    rita.get_by_test_id("cut-scene").nth(2).click()
    wait_playing(eddie, "3. Storm")
    expect(eddie.get_by_test_id("cut-card")).to_be_visible()
    expect(eddie.get_by_test_id("cut-player")).to_be_hidden()
    rita.wait_for_timeout(300)
    rita.get_by_test_id("cut-play").click()
    wait_paused_at(rita, "3. Storm", shown(rita)["time"])
    wait_paused_at(eddie, "3. Storm", shown(rita)["time"], frames=3)

    # A late joiner opens the room's address: Play all at the room's scene and moment.
    late = eddie.context.new_page()
    late.goto(rita.url)
    wait_paused_at(late, "3. Storm", shown(rita)["time"], frames=3)
    late.close()
