"""Two people on one take's review page, and a client on the review link: what one writes or decides appears
on the others' open pages without a reload, and nobody's player moves or reloads."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from projects.review import guest_links
from tests.browser.conftest import log_in

LIVE = 5_000  # a change must show within this (the embedded default reads changes every 0.25 s)


def open_review(page: Page, url: str, take) -> Page:
    page.goto(f"{url}/takes/{take.pk}/review/")
    page.wait_for_function("() => { const v = document.querySelector('#review-player');"
                           " return v && v.readyState >= 1 && v.duration > 0; }")
    return page


def park_player(page: Page, at: float) -> None:
    """Pause the player at `at` and remember this very element: a page that redrew or reloaded it loses both."""
    page.evaluate(f"""(() => {{ const v = document.querySelector('#review-player'); v.pause(); v.currentTime = {at};
                      window.__player = v; window.__noReload = true; }})()""")
    page.wait_for_function(f"() => Math.abs(document.querySelector('#review-player').currentTime - {at}) < 0.01")
    # The seek's own event anchors the comment form at the parked time; a test that types a time before
    # it fires (a busy box) has its time overwritten, as a person typing during the seek would.
    page.wait_for_function(f"""() => [...document.querySelectorAll('[data-comment-form] [data-at]')]
                                     .every(input => input.value === (Math.round({at} * 10) / 10).toFixed(1))""")


def player_kept_at(page: Page, at: float) -> None:
    assert page.evaluate("window.__noReload === true && document.querySelector('#review-player') === window.__player")
    assert page.evaluate("document.querySelector('#review-player').currentTime") == pytest.approx(at, abs=0.01)


@pytest.fixture
def take(scene, render_take):
    return render_take(scene)


@pytest.fixture
def rita_and_eddie(browser: Browser, live_server, reviewer, editor, take):
    pages = [open_review(log_in(browser.new_context().new_page(), live_server.url, user), live_server.url, take)
             for user in (reviewer, editor)]
    yield pages
    for page in pages:
        page.context.close()


def test_a_teammates_comment_reply_resolution_and_decision_reach_an_open_review_page(rita_and_eddie, take):
    rita, eddie = rita_and_eddie
    park_player(eddie, 1.5)
    park_player(rita, 0.5)

    rita.get_by_test_id("comment-body").fill("The boat is too small.")
    rita.get_by_test_id("comment-at").fill("2")
    rita.get_by_test_id("comment-submit").click()
    comment = eddie.get_by_test_id("comment").filter(has_text="The boat is too small.")
    expect(comment).to_be_visible(timeout=LIVE)
    expect(comment.get_by_test_id("comment-timecode")).to_have_text("00:00:02:00")
    expect(eddie.locator(f"#comment-count-{take.pk}")).to_have_text("Comments (1)")
    expect(eddie.locator(f"#marker-bar-{take.pk} .marker")).to_have_count(1)
    expect(eddie.get_by_text("No comments yet.")).to_have_count(0)
    # Drawn for everyone, but editing is the author's: Rita keeps her Edit, Eddie never sees one.
    expect(comment.locator("details.edit")).to_have_count(0)
    expect(rita.get_by_test_id("comment").filter(has_text="The boat").locator("details.edit summary")).to_be_visible()

    # Eddie starts a reply while Rita resolves the thread: his words stay in the box.
    comment.locator("summary", has_text="Reply").click()
    comment.get_by_test_id("reply-body").fill("Bigger in the next take")
    rita.get_by_test_id("comment").filter(has_text="The boat").get_by_test_id("resolve").click()
    expect(comment.locator(".badge", has_text="Resolved by rita")).to_be_visible(timeout=LIVE)
    expect(comment.get_by_test_id("reply-body")).to_have_value("Bigger in the next take")
    comment.get_by_test_id("reply-button").click()
    expect(rita.get_by_test_id("reply").filter(has_text="Bigger in the next take")).to_be_visible(timeout=LIVE)

    # Rita approves: her own page answers in place, and Eddie's says so too; neither player moved.
    rita.get_by_test_id("approve-button").click()
    expect(rita.get_by_test_id("scene-status")).to_have_text("Approved")
    expect(rita.get_by_test_id("decision-done")).to_have_text(f"Take {take.number} approved.")
    expect(eddie.get_by_test_id("scene-status")).to_have_text("Approved", timeout=LIVE)
    expect(eddie.get_by_test_id("decision-history")).to_contain_text("Approved: take 1 by rita")
    player_kept_at(rita, 0.5)
    player_kept_at(eddie, 1.5)


def test_a_request_for_changes_stays_on_the_page_and_reaches_the_editor_with_its_rerender_form(rita_and_eddie,
                                                                                            take):
    rita, eddie = rita_and_eddie
    park_player(rita, 1.0)
    park_player(eddie, 0.25)
    rita.get_by_test_id("request-changes").click()
    rita.get_by_test_id("changes-note").fill("Thinner mist, please.")
    rita.get_by_test_id("request-changes-submit").click()
    expect(rita.get_by_test_id("scene-status")).to_have_text("Changes requested")
    expect(rita.get_by_test_id("comment").filter(has_text="Thinner mist")).to_be_visible()
    player_kept_at(rita, 1.0)

    request = eddie.get_by_test_id("comment").filter(has_text="Thinner mist, please.")
    expect(request).to_be_visible(timeout=LIVE)
    expect(eddie.get_by_test_id("scene-status")).to_have_text("Changes requested")
    expect(request.get_by_text("Re-render for this request")).to_be_visible()
    # The form arrived drawn once for everyone: this page put in its own one-click key and its CSRF token.
    assert request.locator("details.rerender input[name=idempotency_key]").input_value()
    assert request.locator("details.rerender input[name=csrfmiddlewaretoken]").input_value()
    player_kept_at(eddie, 0.25)


def test_a_client_on_the_review_link_sees_what_the_team_shares_as_it_is_written(browser: Browser, live_server,
                                                                                project, owner, editor, scene,
                                                                                take):
    _link, token = guest_links.link_create(project=project, user=owner, label="Acme", scope="scenes",
                                           scenes=[scene], days=3)
    guest = browser.new_context().new_page()
    guest.goto(f"{live_server.url}/review/{token}/")
    guest.get_by_test_id("guest-name").fill("Grace (Acme)")
    guest.get_by_role("button", name="Start reviewing").click()
    expect(guest.get_by_test_id("comment")).to_have_count(0)
    guest.evaluate("window.__noReload = true")

    studio = open_review(log_in(browser.new_context().new_page(), live_server.url, editor), live_server.url, take)
    studio.get_by_test_id("comment-body").fill("Between us: the mist looks cheap.")
    studio.get_by_test_id("comment-submit").click()
    expect(studio.get_by_test_id("comment")).to_have_count(1)
    studio.get_by_test_id("comment-body").fill("Is the logo big enough?")
    studio.get_by_test_id("comment-shared").check()
    studio.get_by_test_id("comment-submit").click()

    shown = guest.get_by_test_id("comment")
    expect(shown).to_have_count(1, timeout=LIVE)
    expect(shown).to_contain_text("Is the logo big enough?")
    expect(guest.get_by_text("the mist looks cheap")).to_have_count(0)
    assert guest.evaluate("window.__noReload") is True
    # The thread came over the stream: answering it goes through this link.
    shown.locator("summary", has_text="Reply").click()
    shown.get_by_test_id("reply-body").fill("Bigger, please.")
    shown.get_by_test_id("reply-button").click()
    expect(guest.get_by_test_id("reply")).to_contain_text("Bigger, please.")
    expect(studio.get_by_test_id("reply").filter(has_text="Bigger, please.")).to_be_visible(timeout=LIVE)
    guest.context.close()
    studio.context.close()
