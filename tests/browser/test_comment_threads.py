"""Journey: a teammate answers a reviewer's time-coded comment in its thread, without leaving the page."""

from __future__ import annotations

from playwright.sync_api import expect

from projects.review import services as review
from tests.browser.test_storyboard_journey import assert_no_full_reload_since_marked


def test_an_editor_answers_a_comment_in_its_thread(logged_in_page, live_server, scene, render_take, reviewer, editor):
    take = render_take(scene)
    question = review.comment_add(take=take, author=reviewer, body="Is the gull CG or a plate?", at=1)

    page = logged_in_page(editor)
    page.goto(f"{live_server.url}/takes/{take.pk}/review/")
    page.evaluate("window.__noReload = true")
    comment = page.locator(f"#comment-{question.pk}")
    comment.locator("summary", has_text="Reply").click()
    comment.get_by_test_id("reply-body").fill("CG, from the previz. We'll swap in a plate.")
    comment.get_by_test_id("reply-button").click()

    reply = page.locator(f"#comment-{question.pk}").get_by_test_id("reply")
    expect(reply).to_have_count(1)
    expect(reply).to_contain_text("CG, from the previz.")
    expect(reply).to_contain_text(editor.username)
    expect(page.get_by_test_id("comment")).to_have_count(1)  # a reply is not a new top-level comment
    assert_no_full_reload_since_marked(page)
    assert question.replies.get().author == editor
