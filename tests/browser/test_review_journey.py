"""Review, end to end in a real browser.

A reviewer opens take 1 of a scene, clicks the player's timeline at 00:02 and
comments there (the editor, with the same take open, sees the comment and then the
request for changes arrive on his page, his player still where he paused it); clicking the comment seeks the player back to that moment.
They request changes. An editor answers the request with a re-render from an
edited prompt; take 2 arrives in the same stack. The reviewer compares the two
takes side by side (playing together), approves take 2, watches the project
progress bar fill, plays the approved cut, which runs from scene 1 into
scene 2 by itself, and exports it: the downloaded MP4 lasts as long as the
two approved takes and carries a C2PA manifest listing both as ingredients.

Celery runs eagerly here (tests/conftest.py): a re-render finishes within its request.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from generation.previz.animatic import probe_video
from generation.provenance.credentials import read_with_settings
from projects.review import services as review
from tests.browser.conftest import box_of, log_in
from tests.browser.test_storyboard_journey import refresh_until_settled


@pytest.fixture
def storyboard(project, make_scene, render_take, editor, reviewer):
    dawn = make_scene(title="Dawn", prompt="A harbour at dawn, mist on the water.", duration=4)
    night = make_scene(title="Night", prompt="The harbour at night, lanterns.", duration=2)
    first = render_take(dawn, user=editor)
    review.take_approve(take=render_take(night, user=editor), user=reviewer)
    return {"dawn": dawn, "night": night, "take1": first}


def video_time(page: Page, selector: str) -> float:
    return page.locator(selector).evaluate("v => v.currentTime")


def wait_until_loaded(page: Page, selector: str) -> None:
    page.wait_for_function(
        f"() => {{ const v = document.querySelector('{selector}'); return v && v.readyState >= 1 && v.duration > 0; }}")


def comment_at_two_seconds(page: Page, text: str) -> None:
    wait_until_loaded(page, "#review-player")
    bar = page.locator("[data-marker-bar]")
    box = box_of(bar)
    bar.click(position={"x": box["width"] * 0.5, "y": box["height"] / 2})  # 50 % of a 4 s take
    expect(page.get_by_test_id("comment-at")).to_have_value("2.0")
    page.get_by_test_id("comment-body").fill(text)
    page.get_by_test_id("comment-submit").click()
    comment = page.get_by_test_id("comment").filter(has_text=text)
    expect(comment.get_by_test_id("comment-timecode")).to_have_text("00:00:02:00")
    expect(page.get_by_test_id("comment-body")).to_have_value("")  # the form is ready for the next note


def request_changes(page: Page, note: str) -> None:
    page.get_by_test_id("request-changes").click()
    page.get_by_test_id("changes-note").fill(note)
    page.get_by_test_id("request-changes-submit").click()
    expect(page.get_by_test_id("scene-status")).to_have_text("Changes requested")


def rerender_from_the_request(page: Page, prompt: str) -> None:
    page.get_by_text("Re-render for this request").click()
    page.get_by_label("Prompt for the new take").fill(prompt)
    page.get_by_role("button", name=re.compile(r"^Render new take")).click()


def test_review_request_changes_rerender_compare_approve_and_play_the_cut(
        new_context, live_server, storyboard, reviewer, editor, project):
    dawn, take1 = storyboard["dawn"], storyboard["take1"]
    rita = log_in(new_context().new_page(), live_server.url, reviewer)
    eddie = log_in(new_context().new_page(), live_server.url, editor)

    # The editor has take 1 open, paused at 00:00:01:00, while the reviewer works on it.
    eddie.goto(f"{live_server.url}/takes/{take1.pk}/review/")
    wait_until_loaded(eddie, "#review-player")
    eddie.evaluate("(() => { const v = document.querySelector('#review-player'); v.pause(); v.currentTime = 1;"
                   " window.__player = v; window.__noReload = true; })()")

    # The reviewer opens take 1 from the storyboard and comments at 00:02.
    rita.goto(f"{live_server.url}/projects/{project.pk}/")
    expect(rita.get_by_test_id("project-progress")).to_contain_text("1 of 2")
    rita.locator(f"#frame-{dawn.pk} .frame-open").click()  # the scene's side panel holds its takes
    rita.locator(f"#take-{take1.pk}").get_by_test_id("review-link").click()
    comment_at_two_seconds(rita, "The mist hides the boat here.")

    # Clicking the comment's timecode seeks the player to that moment.
    rita.evaluate("document.querySelector('#review-player').currentTime = 0.5")
    rita.get_by_test_id("comment-timecode").first.click()
    rita.wait_for_function("() => Math.abs(document.querySelector('#review-player').currentTime - 2.0) < 0.05")

    # Pressing C while the take plays pauses it and starts a comment at that moment.
    rita.evaluate("(() => { const v = document.querySelector('#review-player'); v.muted = true; v.play(); })()")
    rita.wait_for_function("() => document.querySelector('#review-player').currentTime > 2.5")
    rita.locator("h1").click()  # focus outside any field
    rita.keyboard.press("c")
    rita.wait_for_function("() => document.querySelector('#review-player').paused")
    paused_at = video_time(rita, "#review-player")
    expect(rita.get_by_test_id("comment-body")).to_be_focused()
    expect(rita.get_by_test_id("comment-at")).to_have_value(f"{round(paused_at, 1):.1f}")

    request_changes(rita, "Thinner mist so the boat shows at 00:02.")

    # Both reached the editor's open page as they were made: no reload, his player where he left it.
    expect(eddie.get_by_test_id("comment").filter(has_text="The mist hides the boat here.")).to_be_visible()
    expect(eddie.get_by_test_id("comment").filter(has_text="Thinner mist")).to_be_visible()
    expect(eddie.get_by_test_id("scene-status")).to_have_text("Changes requested")
    expect(eddie.get_by_test_id("decision-history")).to_contain_text("Changes requested: take 1 by rita")
    assert eddie.evaluate("window.__noReload === true && document.querySelector('#review-player') === window.__player")
    assert eddie.evaluate("document.querySelector('#review-player').currentTime") == pytest.approx(1, abs=0.01)

    # The editor answers with a new take from an edited prompt, from the page he has open.
    rerender_from_the_request(eddie, "A harbour at dawn, thin mist, a fishing boat visible.")
    eddie.goto(f"{live_server.url}/projects/{project.pk}/scenes/{dawn.pk}/")
    refresh_until_settled(eddie.get_by_test_id("scene-panel").get_by_test_id("take").first, 30_000)
    expect(eddie.get_by_test_id("scene-panel").get_by_test_id("take").first).to_have_attribute(
        "data-status", "succeeded")

    # The re-render has arrived in the reviewer's stack: compare the two takes.
    rita.goto(f"{live_server.url}/projects/{project.pk}/scenes/{dawn.pk}/")
    card = rita.get_by_test_id("scene-panel")
    expect(card.get_by_test_id("scene-status")).to_have_text("Ready for review")
    expect(card.get_by_test_id("take")).to_have_count(2)
    expect(card.get_by_test_id("lineage").first).to_contain_text("1")
    card.get_by_test_id("compare-link").click()
    wait_until_loaded(rita, "[data-testid=compare-a]")
    wait_until_loaded(rita, "[data-testid=compare-b]")
    rita.get_by_test_id("compare-play").click()
    rita.wait_for_function("() => document.querySelector('[data-testid=compare-a]').currentTime > 1")
    rita.get_by_test_id("compare-play").click()  # pause both
    a, b = video_time(rita, "[data-testid=compare-a]"), video_time(rita, "[data-testid=compare-b]")
    assert a > 1 and abs(a - b) < 0.3, (a, b)
    rita.get_by_test_id("compare-scrub").fill("250")  # a quarter of the way: both players follow
    rita.wait_for_function(
        "() => ['a','b'].every(s => Math.abs(document.querySelector(`[data-testid=compare-${s}]`).currentTime - 1.0) < 0.1)")

    # Approve take 2 from its review page.
    rita.get_by_test_id("compare-side").nth(1).get_by_role("link", name="Review").click()
    expect(rita.get_by_role("heading", level=1)).to_have_text("Dawn · Take 2")
    rita.get_by_test_id("approve-button").click()
    expect(rita.get_by_test_id("scene-status")).to_have_text("Approved")
    expect(rita.get_by_test_id("decision-history")).to_contain_text("Approved: take 2 by rita")
    expect(rita.get_by_test_id("decision-history")).to_contain_text("Changes requested: take 1 by rita")

    rita.get_by_role("link", name=project.name).click()
    expect(rita.get_by_test_id("project-progress")).to_contain_text("2 of 2")

    # Play all: the cut runs from scene 1 into scene 2 on its own.
    rita.get_by_test_id("play-all").click()
    expect(rita.get_by_test_id("cut-scene")).to_have_count(2)
    expect(rita.get_by_test_id("cut-title")).to_have_text("1. Dawn")
    rita.get_by_test_id("cut-play").click()
    expect(rita.get_by_test_id("cut-title")).to_have_text("2. Night", timeout=15_000)
    rita.wait_for_function("() => document.querySelector('[data-testid=cut-player]').currentTime > 0.2")
    clock = rita.get_by_test_id("cut-time").text_content()
    _hours, _minutes, seconds, _frames = clock.split(":")
    assert int(seconds) >= 4, clock  # the clock counts the whole cut, not the clip

    # Export the approved cut and download the signed MP4.
    rita.get_by_test_id("exports-link").click()
    rita.get_by_test_id("export-button").click()
    export = rita.get_by_test_id("export").first
    expect(export.get_by_test_id("export-status")).to_have_text("Ready", timeout=60_000)
    with rita.expect_download() as download_info:
        export.get_by_role("link", name="MP4 (signed)").click()
    path = download_info.value.path()
    info = probe_video(path)
    assert info.duration == pytest.approx(4 + 2, abs=0.1)
    report = read_with_settings(path)
    assert report.state == "studio", report.codes
    active = report.manifest["manifests"][report.manifest["active_manifest"]]
    assert [i["title"] for i in active["ingredients"]] == ["Scene 1: Dawn (take 2)", "Scene 2: Night (take 1)"]
