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


def wait_on_frame(page: Page, title: str, frame: int, playing: bool = False) -> None:
    """`title`'s take shows frame `frame` in the player's own bar, paused (or playing) and its seek settled."""
    page.wait_for_function(
        f"""([title, frame, playing]) => {{ const s = ({SHOWN})();
            const shows = parseInt(document.querySelector('[data-testid=frame-number]').textContent, 10);
            return s.title === title && shows === frame && s.video !== null && s.video.paused === !playing
                   && !s.video.seeking && s.label === (playing ? 'Pause' : 'Play all'); }}""",
        arg=[title, frame, playing], timeout=LIVE)


def frame_shown(page: Page) -> int:
    return int(page.get_by_test_id("frame-number").text_content() or "0")


def settled_frame(page: Page) -> int:
    """The frame the presenter's player stopped on, read once it has stopped: read straight after a key, the
    player's bar may still show a frame of the move in flight."""
    page.wait_for_function(
        f"""() => {{ const s = ({SHOWN})(); return s.video !== null && s.video.paused && !s.video.seeking
                   && s.label === 'Play all'; }}""", timeout=LIVE)
    page.wait_for_timeout(100)  # the bar's frame number follows the video's last timeupdate
    return frame_shown(page)


def test_followers_on_play_all_follow_the_presenters_frame_steps_and_shuttle_keys(rita_and_eddie, live_server, board):
    rita, eddie = rita_and_eddie
    cut = f"{live_server.url}/projects/{board.pk}/cut/"
    rita.goto(cut)
    rita.get_by_test_id("room-open").click()
    expect(rita.get_by_test_id("room-presenter")).to_contain_text("You are presenting")
    eddie.goto(cut)
    eddie.get_by_test_id("room-join").click()
    expect(eddie.get_by_test_id("room-presenter")).to_contain_text("Following rita's player.")
    # The room's events each page sends: one per move of the presenter's, none from a follower moved by the room.
    sent: dict[Page, list[str]] = {rita: [], eddie: []}
    for page in (rita, eddie):
        page.on("request", lambda request, page=page: sent[page].append(request.url)
                if request.method == "POST" and request.url.endswith("/state/") else None)

    def one_event_each_move() -> None:
        rita.wait_for_timeout(250)  # longer than the room's gap between two events: a second one would be out
        assert len(sent[rita]) == 1, sent[rita]
        assert sent[eddie] == []
        sent[rita].clear()

    # Rita stops half a second into Night; Eddie's shows the same frame.
    rita.get_by_test_id("cut-seek").evaluate("(el) => { el.value = '2.5'; el.dispatchEvent(new Event('input')); }")
    wait_paused_at(rita, "2. Night", 2.5)
    wait_on_frame(eddie, "2. Night", frame_shown(rita))
    start = frame_shown(rita)
    one_event_each_move()

    # One frame forward with the player's button: Eddie's lands on her next frame.
    rita.get_by_test_id("frame-forward").click()
    wait_on_frame(rita, "2. Night", start + 1)
    wait_on_frame(eddie, "2. Night", start + 1)
    one_event_each_move()

    # And one more with the arrow key.
    rita.locator("body").focus()
    rita.keyboard.press("ArrowRight")
    wait_on_frame(rita, "2. Night", start + 2)
    wait_on_frame(eddie, "2. Night", start + 2)
    one_event_each_move()

    # L plays (Eddie's plays along, and Play all's own button says so), K stops: his stops on her frame.
    rita.keyboard.press("l")
    eddie.wait_for_function(f"() => {{ const s = ({SHOWN})(); return s.label === 'Pause' && !s.video.paused; }}",
                            timeout=LIVE)
    rita.wait_for_timeout(300)
    rita.keyboard.press("k")
    stopped = settled_frame(rita)
    wait_on_frame(rita, "2. Night", stopped)
    assert stopped > start + 2
    wait_on_frame(eddie, "2. Night", stopped)

    # Shift + ← goes a second back: so does Eddie's.
    rita.keyboard.press("Shift+ArrowLeft")
    back = settled_frame(rita)
    assert back < stopped
    wait_on_frame(rita, "2. Night", back)
    wait_on_frame(eddie, "2. Night", back)
    assert frame_shown(eddie) < stopped
    assert sent[eddie] == []
