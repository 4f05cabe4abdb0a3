"""The review page as a reviewer reads it: no stray developer notes, one way of writing time,
words a person would use, and deciding keeps the reviewer where they were."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from projects.models import Comment
from projects.review import services as review
from projects.storyboard import services as storyboard


@pytest.fixture
def take(scene, finished_take):
    return finished_take(scene)


def review_page(client, take) -> str:
    response = client.get(reverse("projects:take_review", args=[take.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_comments_and_replies_carry_no_template_notes(client_for, take, reviewer, editor):
    comment = review.comment_add(take=take, author=reviewer, body="Mist too thick", at=0.5)
    review.comment_reply(parent=comment, author=editor, body="Thinner in the next take")
    html = review_page(client_for(reviewer), take)
    assert "Thinner in the next take" in html
    assert "{#" not in html and "#}" not in html


@pytest.mark.usefixtures("previz_without_encode")
def test_requesting_changes_with_a_new_take_keeps_the_reviewer_on_the_review_page(client_for, owner, take, scene):
    response = client_for(owner).post(reverse("projects:take_decide", args=[take.pk]), {
        "decision": "changes", "note": "Thinner mist", "rerender": "1", "prompt": "Dawn, thin mist.",
        "idempotency_key": str(uuid.uuid4())}, follow=True)
    assert response.redirect_chain == [(reverse("projects:take_review", args=[take.pk]), 302)]
    page = response.content.decode()
    assert "Changes requested; take 2 is rendering." in page
    assert "Re-rendered as" in page and scene.renders.count() == 2


@pytest.mark.usefixtures("previz_without_encode")
def test_answering_a_request_with_a_new_take_stays_on_the_review_page(client_for, reviewer, editor, take, scene):
    comment = review.take_request_changes(take=take, user=reviewer, note="Seagulls, please")
    response = client_for(editor).post(reverse("projects:comment_rerender", args=[comment.pk]), {
        "prompt": "A harbour at dawn with seagulls.", "idempotency_key": str(uuid.uuid4())}, follow=True)
    assert response.redirect_chain == [(reverse("projects:take_review", args=[take.pk]), 302)]
    assert "Take 2 is rendering." in response.content.decode()
    assert scene.renders.count() == 2


def test_what_just_happened_reads_just_now_and_older_things_their_age(client_for, reviewer, take):
    fresh = review.comment_add(take=take, author=reviewer, body="Mist too thick")
    older = review.comment_add(take=take, author=reviewer, body="Boat too small")
    Comment.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(minutes=5, seconds=10))
    html = review_page(client_for(reviewer), take)
    assert not re.search(r"\b0\s+minutes", html)  # timesince writes a no-break space
    assert re.search(rf'id="comment-{fresh.pk}".*?data-testid="comment-link"[^>]*>just now<', html, re.S)
    assert re.search(rf'id="comment-{older.pk}".*?data-testid="comment-link"[^>]*>5\s+minutes ago<', html, re.S)


def test_a_scene_without_decisions_says_so_in_a_sentence_not_a_numbered_list(client_for, reviewer, owner, take):
    html = review_page(client_for(reviewer), take)
    history = re.search(r'data-testid="decision-history">(.*?)</section>', html, re.S).group(1)
    assert "<ol" not in history and "<li" not in history
    assert re.search(r"<p[^>]*>No decisions on this scene yet.</p>", history)

    review.take_approve(take=take, user=owner, note="Ship it")
    history = re.search(r'data-testid="decision-history">(.*?)</section>',
                        review_page(client_for(reviewer), take), re.S).group(1)
    assert "<ol>" in history and "Ship it" in history and "No decisions" not in history


# One way of writing a moment on review pages: the player's own HH:MM:SS:FF at the take's frame rate.
SECONDS_AND_TENTHS = re.compile(r"\b\d\d:\d\d\.\d\b")


def test_comment_moments_read_as_the_players_timecode(client_for, reviewer, take):
    assert take.frame_rate == 24
    review.comment_add(take=take, author=reviewer, body="Gull enters", at=1.2)
    review.comment_add(take=take, author=reviewer, body="Mist lifts", at=0.3, until=1.0)
    html = review_page(client_for(reviewer), take)
    assert ">00:00:01:04</button>" in html  # 1.2 s is frame 28 of a 24 fps take
    assert ">00:00:00:07–00:00:01:00</button>" in html
    assert 'title="00:00:01:04 rita: Gull enters"' in html  # the marker on the timeline
    assert "Now at" not in html
    assert not SECONDS_AND_TENTHS.search(html)


def test_the_guest_page_writes_moments_as_the_player_does(client, owner, project, scene, take, reviewer):
    from projects.review import guest_links

    review.comment_add(take=take, author=reviewer, body="Logo here", at=1.5, shared=True)
    _link, token = guest_links.link_create(project=project, user=owner, label="Client", scope="scenes",
                                           scenes=[scene], days=3)
    url = reverse("projects:guest_review", args=[token])
    client.post(url, {"action": "name", "name": "Grace"})
    html = client.get(url).content.decode()
    assert ">00:00:01:12</button>" in html and not SECONDS_AND_TENTHS.search(html)


def test_compare_and_play_all_clocks_start_in_the_players_timecode(client_for, owner, scene, make_scene, take,
                                                                  finished_take):
    second = finished_take(scene)
    night = make_scene(title="Night", duration=2)
    review.take_approve(take=take, user=owner)
    review.take_approve(take=finished_take(night), user=owner)
    client = client_for(owner)
    compare = client.get(reverse("projects:scene_compare", args=[scene.pk]) + f"?a={take.pk}&b={second.pk}")
    assert re.search(r'data-testid="compare-time">00:00:00:00<', compare.content.decode())
    cut = client.get(reverse("projects:project_cut", args=[scene.project_id])).content.decode()
    assert re.search(r'data-testid="cut-time"[^>]*>00:00:00:00<', cut)
    assert '<span data-testid="cut-total">00:00:04:00</span>' in cut  # two 2-second scenes
    assert not SECONDS_AND_TENTHS.search(compare.content.decode() + cut)


# --- Deciding in place; the page is live ------------------------------------------------------------

HX = {"HTTP_HX_REQUEST": "true"}


def _decide(client, take, **data):
    return client.post(reverse("projects:take_decide", args=[take.pk]), {"decision": "approve", **data}, **HX)


def test_approving_answers_the_decision_card_in_place_with_the_status_and_history_never_the_player(
        client_for, reviewer, take, scene):
    response = _decide(client_for(reviewer), take, note="Ship it")
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    # htmx puts it in the decision section: what was done, then the card.
    assert html.lstrip().startswith(f'<p id="decision-done-{take.pk}"')
    assert re.search(rf'id="decision-done-{take.pk}"[^>]*>Take {take.number} approved.</p>\s*<div id="decision-{take.pk}">',
                     html)
    assert re.search(rf'<p id="review-status-{take.pk}" hx-swap-oob="outerHTML">.*?>Approved<', html, re.S)
    assert f'id="decisions-{scene.pk}" data-testid="decision-history" hx-swap-oob="outerHTML"' in html
    assert "Ship it" in html
    assert "<video" not in html and "review-player" not in html  # the player keeps playing where it was
    scene.refresh_from_db()
    assert scene.approved_take == take
    # The message was said in place: it does not wait for the next page to say it again.
    assert f"Take {take.number} approved." not in review_page(client_for(reviewer), take)


def test_approving_a_stale_approval_again_in_place_clears_the_stale_notice(client_for, owner, reviewer, take, scene):
    review.take_approve(take=take, user=reviewer)
    scene.refresh_from_db()
    storyboard.scene_update(scene=scene, expected_version=scene.version, user=owner, prompt="Lamps on the pier.")
    assert 'data-testid="stale-approval"' in review_page(client_for(reviewer), take)

    html = _decide(client_for(reviewer), take).content.decode()
    assert f'<div id="stale-notice-{take.pk}" hx-swap-oob="outerHTML">' in html
    assert 'data-testid="stale-approval"' not in html
    assert 'data-testid="stale-approval"' not in review_page(client_for(reviewer), take)


def test_requesting_changes_in_place_adds_the_comment_and_its_marker(client_for, reviewer, take):
    response = _decide(client_for(reviewer), take, decision="changes", note="Thinner mist", at="1")
    html = response.content.decode()
    assert response.status_code == 200 and "Changes requested." in html
    assert 'id="comments-panel" class="comments-panel" hx-swap-oob="outerHTML"' in html and "Thinner mist" in html
    assert f'id="marker-bar-{take.pk}"' in html and 'data-marker-at="1.00"' in html
    assert re.search(rf'id="review-status-{take.pk}".*?Changes requested', html, re.S)
    assert "review-player" not in html


def test_a_refused_decision_in_place_says_why_and_keeps_what_was_typed(client_for, owner, take):
    response = _decide(client_for(owner), take, decision="changes", note=" ", prompt="My edited prompt",
                       rerender="1", idempotency_key=str(uuid.uuid4()))
    html = response.content.decode()
    assert response.status_code == 200  # htmx swaps only a 2xx: the reason shows in the card
    assert 'data-testid="decision-error"' in html and "Write something" in html and "My edited prompt" in html
    assert "<html" not in html and take.scene.renders.count() == 1


def test_without_javascript_a_decision_still_returns_to_the_review_page_with_its_message(client_for, reviewer,
                                                                                         take):
    response = client_for(reviewer).post(reverse("projects:take_decide", args=[take.pk]),
                                         {"decision": "approve"}, follow=True)
    assert response.redirect_chain == [(reverse("projects:take_review", args=[take.pk]), 302)]
    assert f"Take {take.number} approved." in response.content.decode()


def test_the_review_page_joins_its_projects_live_channel(client_for, reviewer, take, scene):
    html = review_page(client_for(reviewer), take)
    assert f'sse-connect="{reverse("projects:project_events", args=[scene.project_id])}?' in html
    for region in (f'id="comment-list-{take.pk}"', f'id="comment-count-{take.pk}"', f'id="marker-bar-{take.pk}"',
                   f'id="review-status-{take.pk}"', f'id="decision-{take.pk}"', f'id="decisions-{scene.pk}"'):
        assert region in html, region


def test_comments_suggest_the_teammates_to_mention_and_only_them(client_for, reviewer, editor, owner, outsider,
                                                                take):
    from django.contrib.auth import get_user_model

    get_user_model().objects.filter(pk=editor.pk).update(first_name="Eddie", last_name="Marsh")
    html = review_page(client_for(reviewer), take)
    members = json.loads(unescape(re.search(r'data-mention-members="([^"]*)"', html).group(1)))
    assert members == [{"u": "eddie", "n": "Eddie Marsh"}, {"u": owner.username, "n": ""}]  # not rita herself
    assert outsider.username not in html


def test_a_guest_page_has_no_list_of_the_team(client, owner, project, scene, take, editor):
    from projects.review import guest_links

    _link, token = guest_links.link_create(project=project, user=owner, label="Client", scope="scenes",
                                           scenes=[scene], days=3)
    url = reverse("projects:guest_review", args=[token])
    client.post(url, {"action": "name", "name": "Grace"})
    html = client.get(url).content.decode()
    assert "data-mention-members" not in html and editor.username not in html
    assert f'sse-connect="{reverse("projects:guest_events", args=[token])}?' in html
