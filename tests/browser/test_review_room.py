"""A review room: Rita presents a take, Eddie's player follows hers over the live channel (play, pause, seek, a frame
step), Eddie takes the lead and Rita's follows his, and a comment made in the room lands at the shared moment; a
client with a review link joins the room from the link's page and follows too."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from projects.models import Comment
from projects.review import guest_links
from tests.browser.conftest import log_in

LIVE = 5_000
FRAME = 1 / 24


def video_time(page: Page) -> float:
    return page.evaluate("document.querySelector('#review-player').currentTime")


def wait_ready(page: Page) -> None:
    page.wait_for_function("() => { const v = document.querySelector('[data-review-video]');"
                           " return v && v.readyState >= 1 && v.duration > 0; }")


def wait_paused_near(page: Page, at: float, frames: int = 2) -> None:
    page.wait_for_function(
        "([at, tol]) => { const v = document.querySelector('#review-player');"
        " return v.paused && Math.abs(v.currentTime - at) <= tol; }",
        arg=[at, frames * FRAME + 1e-3], timeout=LIVE)


def wait_seek_settled(page: Page) -> None:
    """The follower's seek has finished and its comment box took that moment: only then is clearing it final (the
    `seeked` event fills the box after `currentTime` already reads the new moment)."""
    page.wait_for_function(
        "() => { const v = document.querySelector('[data-review-video]');"
        " const at = document.querySelector('[data-testid=comment-at]');"
        " return !v.seeking && at.value === (Math.round(v.currentTime * 10) / 10).toFixed(1); }", timeout=LIVE)


@pytest.fixture
def take(scene, render_take):
    return render_take(scene)


@pytest.fixture
def rita_and_eddie(browser: Browser, live_server, reviewer, editor, take):
    pages = [log_in(browser.new_context().new_page(), live_server.url, user) for user in (reviewer, editor)]
    yield pages
    for page in pages:
        page.context.close()


def test_everyone_in_the_room_follows_the_presenter_and_anyone_may_take_the_lead(rita_and_eddie, live_server, take):
    rita, eddie = rita_and_eddie
    rita.goto(f"{live_server.url}/takes/{take.pk}/review/")
    rita.get_by_test_id("room-open").click()
    expect(rita.get_by_test_id("room-presenter")).to_contain_text("You are presenting")
    expect(rita.get_by_test_id("take-lead")).to_be_hidden()
    wait_ready(rita)

    # Eddie finds the room on the take's page and joins it.
    eddie.goto(f"{live_server.url}/takes/{take.pk}/review/")
    eddie.get_by_test_id("room-join").click()
    expect(eddie.get_by_test_id("room-presenter")).to_contain_text("Following rita's player.")
    wait_ready(eddie)

    # Rita plays: Eddie's player plays too. She pauses: his stops at her frame.
    rita.evaluate("document.querySelector('#review-player').play()")
    eddie.wait_for_function("() => !document.querySelector('#review-player').paused", timeout=LIVE)
    rita.wait_for_timeout(600)
    rita.evaluate("document.querySelector('#review-player').pause()")
    rita.wait_for_function("() => document.querySelector('#review-player').paused")
    wait_paused_near(eddie, video_time(rita))

    # She seeks, then steps one frame forward: Eddie lands on the same frame.
    rita.evaluate("document.querySelector('#review-player').currentTime = 1.5")
    wait_paused_near(eddie, 1.5)
    rita.get_by_test_id("frame-forward").click()
    rita.wait_for_function("() => document.querySelector('#review-player').currentTime > 1.5")
    wait_paused_near(eddie, video_time(rita), frames=1)

    # Eddie takes the lead; Rita's page now follows him.
    eddie.get_by_test_id("take-lead").click()
    expect(eddie.get_by_test_id("room-presenter")).to_contain_text("You are presenting")
    expect(rita.get_by_test_id("room-presenter")).to_contain_text("Following eddie's player.", timeout=LIVE)
    expect(rita.get_by_test_id("take-lead")).to_be_visible()
    eddie.evaluate("document.querySelector('#review-player').currentTime = 0.75")
    wait_paused_near(rita, 0.75)
    wait_seek_settled(rita)

    # Rita comments from the room without setting a moment: it lands where everyone is.
    rita.get_by_test_id("comment-at").fill("")
    rita.get_by_test_id("comment-body").fill("The gull crosses too early.")
    rita.get_by_test_id("comment-submit").click()
    expect(rita.get_by_test_id("comment").filter(has_text="The gull crosses too early.")).to_be_visible()
    comment = Comment.objects.get(body="The gull crosses too early.")
    assert comment.at_seconds == pytest.approx(0.75, abs=FRAME)
    expect(eddie.get_by_test_id("comment").filter(has_text="The gull crosses too early.")).to_be_visible(timeout=LIVE)


def test_a_late_joiner_starts_where_the_room_is(rita_and_eddie, live_server, take):
    rita, eddie = rita_and_eddie
    rita.goto(f"{live_server.url}/takes/{take.pk}/review/")
    rita.get_by_test_id("room-open").click()
    wait_ready(rita)
    rita.evaluate("document.querySelector('#review-player').currentTime = 1.25")
    room_url = rita.url
    # The state is saved once the presenter's event is: then Eddie opens the room's address itself.
    rita.wait_for_timeout(500)
    eddie.goto(room_url)
    wait_ready(eddie)
    wait_paused_near(eddie, 1.25)


def test_followers_play_at_the_presenters_speed(rita_and_eddie, live_server, take):
    rita, eddie = rita_and_eddie
    rita.goto(f"{live_server.url}/takes/{take.pk}/review/")
    rita.get_by_test_id("room-open").click()
    wait_ready(rita)
    eddie.goto(f"{live_server.url}/takes/{take.pk}/review/")
    eddie.get_by_test_id("room-join").click()
    wait_ready(eddie)

    # Rita reviews the take at twice the speed: her menu's speed is her player's, and Eddie's plays at it too.
    rita.get_by_test_id("player-speed").select_option("2")
    rita.evaluate("document.querySelector('#review-player').play()")
    assert rita.evaluate("document.querySelector('#review-player').playbackRate") == 2
    eddie.wait_for_function("() => { const v = document.querySelector('#review-player');"
                            " return !v.paused && v.playbackRate === 2; }", timeout=LIVE)
    expect(eddie.get_by_test_id("player-speed")).to_have_value("2")
    rita.wait_for_timeout(400)
    rita.evaluate("document.querySelector('#review-player').pause()")
    rita.wait_for_function("() => document.querySelector('#review-player').paused")
    wait_paused_near(eddie, video_time(rita))


def test_a_guest_with_a_review_link_joins_the_room_and_follows(browser: Browser, rita_and_eddie, live_server, take,
                                                                 project, owner, scene):
    rita, _eddie = rita_and_eddie
    _link, token = guest_links.link_create(project=project, user=owner, label="Client", scope="scenes",
                                           scenes=[scene], days=3)
    rita.goto(f"{live_server.url}/takes/{take.pk}/review/")
    rita.get_by_test_id("room-open").click()
    wait_ready(rita)

    guest = browser.new_context().new_page()
    try:
        guest.goto(f"{live_server.url}/review/{token}/")
        guest.get_by_test_id("guest-name").fill("Grace (Acme)")
        guest.get_by_role("button", name="Start reviewing").click()
        guest.get_by_test_id("room-join").click()
        expect(guest.get_by_test_id("room-presenter")).to_contain_text("Following the presenter's player.")
        wait_ready(guest)
        rita.evaluate("document.querySelector('#review-player').currentTime = 1.25")
        guest.wait_for_function(
            "() => { const v = document.querySelector('[data-review-video]');"
            " return v.paused && Math.abs(v.currentTime - 1.25) <= 2 / 24 + 1e-3; }", timeout=LIVE)
        wait_seek_settled(guest)
        guest.get_by_test_id("comment-at").fill("")
        guest.get_by_test_id("comment-body").fill("Our logo should be bigger here.")
        guest.get_by_test_id("comment-submit").click()
        expect(guest.get_by_test_id("comment").filter(has_text="Our logo should be bigger here.")).to_be_visible()
        expect(guest.get_by_test_id("room-bar")).to_be_visible()  # still in the room
        comment = Comment.objects.get(body="Our logo should be bigger here.")
        assert comment.at_seconds == pytest.approx(1.25, abs=FRAME)
    finally:
        guest.context.close()


def test_the_presenter_switches_takes_and_the_room_moves_with_them(rita_and_eddie, live_server, take, scene,
                                                                  render_take):
    rita, eddie = rita_and_eddie
    second = render_take(scene)
    rita.goto(f"{live_server.url}/takes/{take.pk}/review/")
    rita.get_by_test_id("room-open").click()
    wait_ready(rita)
    eddie.goto(rita.url)
    wait_ready(eddie)
    expect(eddie.get_by_test_id("room-take-switch")).to_be_hidden()  # only the presenter switches
    rita.get_by_test_id("room-take-choice").select_option(str(second.pk))
    rita.get_by_test_id("room-take-switch").click()
    expect(rita.locator("h1")).to_contain_text(f"Take {second.number}")
    expect(eddie.locator("h1")).to_contain_text(f"Take {second.number}", timeout=LIVE)
    expect(eddie.get_by_test_id("room-presenter")).to_contain_text("Following rita's player.")


def test_followers_see_the_presenters_drawing_until_she_clears_it_or_plays_on(rita_and_eddie, live_server, take):
    rita, eddie = rita_and_eddie
    rita.goto(f"{live_server.url}/takes/{take.pk}/review/")
    rita.get_by_test_id("room-open").click()
    wait_ready(rita)
    eddie.goto(rita.url)
    wait_ready(eddie)
    rita.evaluate("document.querySelector('#review-player').currentTime = 1.5")
    wait_paused_near(eddie, 1.5)

    def draw_a_rectangle():
        rita.get_by_test_id("draw-tool-rect").click()
        rita.get_by_test_id("draw-layer").scroll_into_view_if_needed()
        box = rita.get_by_test_id("draw-layer").bounding_box()
        rita.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3)
        rita.mouse.down()
        rita.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.6, steps=4)
        rita.mouse.up()

    rita.get_by_test_id("draw-toggle").click()
    draw_a_rectangle()
    expect(rita.get_by_test_id("draw-count")).to_contain_text("1 shape")
    layer = eddie.get_by_test_id("draw-layer")
    expect(layer).to_have_attribute("data-shapes", "1", timeout=LIVE)
    expect(layer).to_have_attribute("data-showing", "room")
    # Eddie's page draws it in Rita's colour over his own frame.
    assert eddie.evaluate("""() => { const c = document.querySelector('[data-draw-layer]');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        for (let i = 0; i < d.length; i += 4) if (d[i] > 200 && d[i + 1] < 90 && d[i + 3] > 0) return true;
        return false; }""")

    rita.get_by_test_id("draw-clear").click()
    expect(layer).to_have_attribute("data-shapes", "0", timeout=LIVE)

    # Drawn again, then Rita plays on: the drawing leaves Eddie's frame.
    draw_a_rectangle()
    expect(layer).to_have_attribute("data-shapes", "1", timeout=LIVE)
    rita.get_by_test_id("draw-toggle").click()
    rita.evaluate("document.querySelector('#review-player').play()")
    expect(layer).to_have_attribute("data-shapes", "0", timeout=LIVE)

    # Paused again, the drawing she kept shows once more.
    rita.evaluate("document.querySelector('#review-player').pause()")
    expect(layer).to_have_attribute("data-shapes", "1", timeout=LIVE)
    # A drawing the server refuses (too large for the room: two long strokes) is named in Rita's room bar; Eddie's
    # frame keeps the one the room accepted.
    rita.evaluate("""() => document.querySelector('[data-review]').dispatchEvent(new CustomEvent('drawingChanged',
        {bubbles: true, detail: {drawing: JSON.stringify([0, 1].map(() => ({kind: 'pen', color: '#e53935',
                                                           points: Array(2500).fill([0.5, 0.5, 0.5])})))}}))""")
    expect(rita.get_by_test_id("room-error")).to_contain_text("too large", timeout=LIVE)
    expect(layer).to_have_attribute("data-shapes", "1")
