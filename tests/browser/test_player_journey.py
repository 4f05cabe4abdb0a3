"""The frame-accurate player and drawing on the frame, in a real browser.

A reviewer pauses a take, draws an arrow on the frame and posts the comment; after a reload
the arrow shows over the video at that moment, not elsewhere, and while the comment is
hovered. The keyboard steps frames and seconds, marks a range that the comment takes and
that playback loops, and stays out of the way while the reviewer types. On compare, the wipe's
divider follows a drag.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from projects.models import Comment
from tests.browser.conftest import box_of, log_in


@pytest.fixture
def take(make_scene, render_take, editor):
    return render_take(make_scene(title="Dawn", prompt="A harbour at dawn, mist on the water.", duration=4), user=editor)


def open_review(page: Page, url: str, take) -> None:
    page.goto(f"{url}/takes/{take.pk}/review/")
    page.wait_for_function(
        "() => { const v = document.querySelector('#review-player'); "
        "return v && v.readyState >= 2 && v.duration > 0 && document.querySelector('[data-player-ready]'); }")


def red_pixels_near(page: Page, fx: float, fy: float) -> int:
    """Red pixels of the drawing layer in a small square around (fx, fy), fractions of the frame."""
    return page.get_by_test_id("draw-layer").evaluate(
        """(c, [fx, fy]) => {
            const d = c.getContext('2d').getImageData(Math.round(c.width * fx) - 4, Math.round(c.height * fy) - 4, 9, 9).data;
            let n = 0;
            for (let i = 0; i < d.length; i += 4) if (d[i] > 180 && d[i + 1] < 90 && d[i + 2] < 90 && d[i + 3] > 200) n++;
            return n;
        }""", [fx, fy])


def test_an_arrow_drawn_on_a_paused_frame_comes_back_at_that_moment(page: Page, live_server, reviewer, take):
    log_in(page, live_server.url, reviewer)
    open_review(page, live_server.url, take)
    bar = page.locator("[data-marker-bar]")
    box = box_of(bar)
    bar.click(position={"x": box["width"] * 0.5, "y": box["height"] / 2})  # pause at 00:02 of 4 s
    expect(page.get_by_test_id("comment-at")).to_have_value("2.0")

    page.get_by_test_id("draw-toggle").click()
    page.get_by_test_id("draw-tool-arrow").click()
    page.get_by_test_id("draw-layer").scroll_into_view_if_needed()
    area = box_of(page.get_by_test_id("draw-layer"))
    page.mouse.move(area["x"] + area["width"] * 0.3, area["y"] + area["height"] * 0.3)
    page.mouse.down()
    page.mouse.move(area["x"] + area["width"] * 0.5, area["y"] + area["height"] * 0.5, steps=5)
    page.mouse.move(area["x"] + area["width"] * 0.7, area["y"] + area["height"] * 0.7, steps=5)
    page.mouse.up()
    expect(page.get_by_test_id("draw-count")).to_have_text("1 shape with this comment")
    page.get_by_test_id("comment-body").fill("The boat should come in from here")
    page.get_by_test_id("comment-submit").click()
    expect(page.get_by_test_id("comment").filter(has_text="The boat should").get_by_test_id("comment-has-drawing")).to_be_visible()

    saved = Comment.objects.get(take=take)
    assert saved.at_seconds == 2.0
    assert saved.drawing[0]["kind"] == "arrow" and saved.drawing[0]["color"] == "#e53935"
    (x0, _y0), (_x1, y1) = saved.drawing[0]["points"]
    assert abs(x0 - 0.3) < 0.02 and abs(y1 - 0.7) < 0.02

    page.reload()
    open_review(page, live_server.url, take)
    layer = page.get_by_test_id("draw-layer")
    expect(layer).to_have_attribute("data-shapes", "0")  # at 00:00 the frame is clean
    page.get_by_test_id("comment-timecode").click()  # seek to the comment's moment
    expect(layer).to_have_attribute("data-shapes", "1")
    assert red_pixels_near(page, 0.5, 0.5) > 0  # the arrow's shaft crosses the middle of the frame
    assert red_pixels_near(page, 0.1, 0.9) == 0

    bar.click(position={"x": box["width"] * 0.05, "y": box["height"] / 2})  # far from the comment
    expect(layer).to_have_attribute("data-shapes", "0")
    page.get_by_test_id("comment").filter(has_text="The boat should").locator(".comment-body").hover()
    expect(layer).to_have_attribute("data-shapes", "1")  # hovering the comment shows its drawing


def test_keyboard_steps_frames_and_seconds_marks_a_range_and_loops_it(page: Page, live_server, reviewer, take):
    log_in(page, live_server.url, reviewer)
    open_review(page, live_server.url, take)
    frame = page.get_by_test_id("frame-number")
    timecode = page.get_by_test_id("timecode")
    expect(frame).to_have_text("0")
    page.locator("h1").click()  # nothing typed into: the shortcuts apply
    page.keyboard.press("ArrowRight")
    expect(frame).to_have_text("1")
    expect(timecode).to_have_text("00:00:00:01")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowLeft")
    expect(frame).to_have_text("1")
    page.keyboard.press("Shift+ArrowRight")  # one second at the take's 24 fps
    expect(frame).to_have_text("25")
    expect(timecode).to_have_text("00:00:01:01")

    page.keyboard.press("i")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("o")
    expect(page.get_by_test_id("player-range")).to_have_text("00:00:01:01 – 00:00:02:01")
    expect(page.get_by_test_id("comment-at")).to_have_value("1.1")  # the comment takes the range
    expect(page.locator("[data-comment-form] [data-until]").first).to_have_value("2.1")

    page.get_by_test_id("player-loop").check()
    page.locator("h1").click()
    page.keyboard.press("l")  # plays from the range's start
    page.wait_for_timeout(2500)  # longer than the 1 s range: without the loop it would be past 03:00
    state = page.locator("#review-player").evaluate("v => ({t: v.currentTime, paused: v.paused})")
    assert not state["paused"]
    assert 1.0 <= state["t"] <= 2.15, state

    # Typing "k" in the comment box types it; it does not pause the take.
    page.get_by_test_id("comment-body").click()
    page.keyboard.type("k looks okay")
    expect(page.get_by_test_id("comment-body")).to_have_value("k looks okay")
    assert page.locator("#review-player").evaluate("v => v.paused") is False
    page.locator("h1").click()
    page.keyboard.press("k")
    page.wait_for_function("() => document.querySelector('#review-player').paused")

    # J plays backwards (the browser cannot: the player steps back frame by frame); K stops it.
    start = page.locator("#review-player").evaluate("v => v.currentTime")
    page.keyboard.press("j")
    page.wait_for_function(f"() => document.querySelector('#review-player').currentTime < {start} - 0.1")
    expect(page.get_by_test_id("player-shuttle")).to_have_text("◀︎ 1×")
    page.keyboard.press("k")
    stopped = page.locator("#review-player").evaluate("v => v.currentTime")
    page.wait_for_timeout(300)
    assert page.locator("#review-player").evaluate("v => v.currentTime") == stopped

    page.keyboard.press("?")
    expect(page.get_by_test_id("player-help")).to_be_visible()
    expect(page.get_by_test_id("player-help")).to_contain_text("One frame back / forward")
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("player-help")).to_be_hidden()


def test_a_guest_sees_a_shared_drawing_over_the_video(page: Page, live_server, project, owner, editor, take):
    from projects.review import guest_links
    from projects.review import services as review

    review.comment_add(take=take, author=editor, body="Shared: the boat", at=1.0, shared=True,
                       drawing=[{"kind": "rect", "color": "#e53935", "points": [[0.4, 0.4], [0.6, 0.6]]}])
    review.comment_add(take=take, author=editor, body="Team only", at=1.0,
                       drawing=[{"kind": "rect", "color": "#43a047", "points": [[0.1, 0.1], [0.2, 0.2]]}])
    _link, token = guest_links.link_create(project=project, user=owner, label="Client", scope="scenes",
                                           scenes=[take.scene], days=3)
    page.goto(f"{live_server.url}/review/{token}/")
    page.get_by_test_id("guest-name").fill("Grace")
    page.get_by_role("button", name="Start reviewing").click()
    article = page.get_by_test_id("guest-take")
    page.wait_for_function("() => { const v = document.querySelector('[data-review-video]'); "
                           "return v && v.readyState >= 2 && document.querySelector('[data-player-ready]'); }")
    expect(article.get_by_test_id("comment")).to_have_count(1)
    article.get_by_test_id("comment-timecode").click()
    expect(article.get_by_test_id("draw-layer")).to_have_attribute("data-shapes", "1")
    assert red_pixels_near(page, 0.4, 0.5) > 0  # the shared rectangle's left side


def test_compare_wipe_divider_follows_a_drag_and_both_takes_step_together(page: Page, live_server, reviewer, take,
                                                                         render_take, editor):
    second = render_take(take.scene, user=editor)
    log_in(page, live_server.url, reviewer)
    page.goto(f"{live_server.url}/scenes/{take.scene.pk}/compare/?a={take.pk}&b={second.pk}")
    page.wait_for_function("() => [...document.querySelectorAll('[data-compare-video]')]"
                           ".every(v => v.readyState >= 2 && v.duration > 0)")
    page.get_by_test_id("compare-mode-wipe").check()
    divider = page.get_by_test_id("compare-divider")
    expect(divider).to_be_visible()
    expect(divider).to_have_attribute("data-position", "50.0")
    divider.scroll_into_view_if_needed()
    frame = box_of(page.locator(".compare-frame").nth(1))
    handle = box_of(divider)
    page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    page.mouse.down()
    page.mouse.move(frame["x"] + frame["width"] * 0.25, handle["y"] + handle["height"] / 2, steps=6)
    page.mouse.up()
    position = float(divider.get_attribute("data-position") or "nan")
    assert 22 <= position <= 28
    clip = page.locator("[data-testid=compare-b]").evaluate("v => getComputedStyle(v).clipPath")
    assert "25" in clip or "2" in clip.split("inset(")[1].split()[3], clip

    page.locator("h1").click()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(page.get_by_test_id("frame-number")).to_have_text("2")
    times = page.locator("[data-compare-video]").evaluate_all("vs => vs.map(v => v.currentTime)")
    assert times[0] == times[1]

    page.get_by_test_id("compare-mode-overlay").check()
    page.get_by_test_id("compare-blend").fill("20")
    opacity = page.locator("[data-testid=compare-b]").evaluate("v => getComputedStyle(v).opacity")
    assert opacity == "0.2"


def wait_for_time(page: Page, seconds: float) -> None:
    """The take is paused within a frame (24 fps) of `seconds`."""
    page.wait_for_function(
        f"() => {{ const v = document.querySelector('#review-player'); "
        f"return v && v.readyState >= 1 && v.paused && Math.abs(v.currentTime - {seconds}) <= 1 / 24; }}")


def test_a_link_to_a_moment_and_a_comment_opens_the_take_paused_there_with_the_comment_in_view(
        page: Page, live_server, reviewer, editor, take):
    from projects.review import services as review

    for n in range(14):  # a long thread: the linked comment is far below the fold
        review.comment_add(take=take, author=editor, body=f"Note {n}", at=round(0.1 + n * 0.1, 1))
    linked = review.comment_add(take=take, author=editor, body="The mist lifts too early", at=3.5)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, live_server.url, reviewer)

    # As the inbox and the emails link: ?t= is the moment, #comment- the comment.
    page.goto(f"{live_server.url}/takes/{take.pk}/review/?t=1.5#comment-{linked.pk}")
    wait_for_time(page, 1.5)
    expect(page.get_by_test_id("timecode")).to_have_text(re.compile(r"^00:00:01:1[1-3]$"))  # frame 36 at 24 fps
    expect(page.get_by_test_id("comment-at")).to_have_value("1.5")  # a comment typed now is anchored there
    comment = page.locator(f"#comment-{linked.pk}")
    expect(comment).to_be_in_viewport()
    expect(comment).to_have_class(re.compile(r"\bcomment--target\b"))

    # A comment's own link: same page, no reload, the player goes to its moment.
    page.evaluate("window.__noReload = true")
    first = Comment.objects.get(body="Note 0")
    page.locator(f"#comment-{first.pk}").get_by_test_id("comment-link").click()
    expect(page).to_have_url(re.compile(rf"/takes/{take.pk}/review/\?t=0\.1#comment-{first.pk}$"))
    wait_for_time(page, 0.1)
    expect(page.locator(f"#comment-{first.pk}")).to_have_class(re.compile(r"\bcomment--target\b"))
    expect(comment).not_to_have_class(re.compile(r"\bcomment--target\b"))
    assert page.evaluate("window.__noReload === true")
    page.go_back()  # back to the comment it came from, at its moment
    wait_for_time(page, 1.5)
    expect(comment).to_have_class(re.compile(r"\bcomment--target\b"))

    # A time that is not one is ignored: the take opens at the start.
    page.goto(f"{live_server.url}/takes/{take.pk}/review/?t=soon")
    page.wait_for_function("() => { const v = document.querySelector('#review-player'); "
                           "return v && v.readyState >= 2 && document.querySelector('[data-player-ready]'); }")
    assert page.locator("#review-player").evaluate("v => v.currentTime") == 0
    expect(page.get_by_test_id("timecode")).to_have_text("00:00:00:00")
    assert errors == []
