"""Journey: a teammate writes one team-only and one shared comment on a take; the client opening
the review link reads only the shared one (with a teammate's @mention hidden), answers it, and
the teammate finds the answer in the thread, marked as shared."""

from __future__ import annotations

from playwright.sync_api import expect

from projects.models import Comment
from projects.review import guest_links
from tests.browser.conftest import log_in


def test_a_guest_reads_only_what_the_team_shared_and_answers_it(new_context, live_server, project, owner,
                                                                editor, reviewer, scene, render_take):
    take = render_take(scene)
    _link, token = guest_links.link_create(project=project, user=owner, label="Acme", scope="scenes",
                                           scenes=[scene], days=3)

    studio = log_in(new_context().new_page(), live_server.url, editor)
    studio.goto(f"{live_server.url}/takes/{take.pk}/review/")
    studio.get_by_test_id("comment-body").fill("Between us: the mist looks cheap.")
    studio.get_by_test_id("comment-submit").click()
    internal = studio.get_by_test_id("comment").filter(has_text="the mist looks cheap")
    expect(internal.get_by_test_id("sharing")).to_have_text("Team only")
    studio.get_by_test_id("comment-body").fill(f"Is the logo big enough? @{reviewer.username} thinks so.")
    studio.get_by_test_id("comment-shared").check()
    studio.get_by_test_id("comment-submit").click()
    question = studio.get_by_test_id("comment").filter(has_text="Is the logo big enough?")
    expect(question.get_by_test_id("sharing")).to_have_text("Shared with guests")

    guest = new_context().new_page()
    guest.goto(f"{live_server.url}/review/{token}/")
    guest.get_by_test_id("guest-name").fill("Grace (Acme)")
    guest.get_by_role("button", name="Start reviewing").click()
    expect(guest.get_by_test_id("comment")).to_have_count(1)
    shown = guest.get_by_test_id("comment")
    expect(shown).to_contain_text("Is the logo big enough? @teammate thinks so.")
    expect(guest.get_by_text("the mist looks cheap")).to_have_count(0)
    expect(guest.get_by_text(reviewer.username)).to_have_count(0)
    shown.locator("summary", has_text="Reply").click()
    shown.get_by_test_id("reply-body").fill("Bigger, please.")
    shown.get_by_test_id("reply-button").click()
    expect(guest.get_by_test_id("reply")).to_contain_text("Bigger, please.")

    studio.reload()
    question = studio.get_by_test_id("comment").filter(has_text="Is the logo big enough?")
    reply = question.get_by_test_id("reply")
    expect(reply).to_contain_text("Grace (Acme) (guest)")
    expect(reply).to_contain_text("Bigger, please.")
    expect(reply.get_by_test_id("sharing")).to_have_text("Shared with guests")
    assert Comment.objects.get(body="Bigger, please.").shared

    # The teammate takes the question back into the team: the guest no longer reads that thread.
    question.get_by_test_id("unshare").first.click()
    expect(studio.get_by_test_id("comment").filter(has_text="Is the logo big enough?")
           .get_by_test_id("sharing").first).to_have_text("Team only")
    guest.reload()
    expect(guest.get_by_test_id("comment")).to_have_count(0)
