"""The review page is live: a teammate's comments, replies, resolutions, drawings and decisions reach every open
review page of the project, and a guest's page of a review link gets what a guest may read, and nothing else."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from projects.live.fragments import coalesce_key, draw_all
from projects.live.hub import END, KEEP_ALIVE, Hub, Subscriber
from projects.live.review_fragments import guest_role
from projects.live.stream import cursor_now
from projects.models import ChangeEvent, Presence, Role
from projects.review import guest_links
from projects.review import services as review
from projects.storyboard import services
from tests.live.sse import deliveries, drain

pytestmark = pytest.mark.django_db  # the hub is pumped on this thread: it sees this transaction

DRAWING = json.dumps([{"kind": "arrow", "color": "#e53935", "points": [[0.1, 0.1], [0.5, 0.5]]}])


@pytest.fixture
def take(scene, finished_take):
    return finished_take(scene)


@pytest.fixture
def watching():
    """A page open on a project as a role (a member's role, or a guest's link): what its stream received since."""
    hub = Hub(draw_all, coalesce=coalesce_key, background=False)

    def watch(project, role=Role.REVIEWER):
        page = hub.subscribe(Subscriber(channel=("project", project.pk), role=role, user_id=0))
        hub.pump()

        def received() -> str:
            hub.pump()
            return "\n".join(message.data for message in drain(page))

        return received

    return watch


def _thread(html: str, comment) -> str:
    """The thread of `comment` as it arrived (its <li> up to the end of the list it is put in)."""
    match = re.search(rf'<li class="comment[^"]*"\s+id="comment-{comment.pk}".*?</li>\s*</ol>', html, re.S)
    assert match, f"no thread of comment {comment.pk} in {html[:300]}"
    return match.group(0)


def _share_form(thread: str) -> str:
    match = re.search(r'<form[^>]*>[^<]*<button[^>]*data-testid="share"', thread)
    assert match, "no sharing switch"
    return match.group(0)


# --- a member's review page ------------------------------------------------------------------------


def test_a_teammates_comment_arrives_as_its_thread_with_the_count_and_the_timeline(watching, project, take,
                                                                                   editor):
    received = watching(project)
    comment = review.comment_add(take=take, author=editor, body="The mist hides the boat", at=1.5)

    html = received()
    assert f'hx-swap-oob="beforeend:#comment-list-{take.pk}"' in html
    assert "The mist hides the boat" in _thread(html, comment)
    assert re.search(rf'<h2 id="comment-count-{take.pk}" hx-swap-oob="outerHTML">Comments \(1\)</h2>', html)
    assert f'id="marker-bar-{take.pk}"' in html and 'data-marker-at="1.50"' in html
    assert "review-player" not in html  # the player is never redrawn


def test_a_comment_on_an_extension_redraws_its_timeline_with_the_join_still_marked(watching, project, scene,
                                                                                     finished_take, editor):
    """The live marker bar is the page's own bar drawn again: an extension's join stays beside the new marker."""
    first = finished_take(scene)
    extension = finished_take(scene)
    extension.join_seconds = 1.0
    extension.recipe = {**extension.recipe, "extend_of": {"take": {"id": first.pk, "number": first.number},
                                                          "seconds": 3}}
    extension.save(update_fields=["join_seconds", "recipe"])
    received = watching(project)

    review.comment_add(take=extension, author=editor, body="The seam shows", at=1.5)

    bar = re.search(rf'<div class="marker-bar" id="marker-bar-{extension.pk}".*?</div>', received(), re.S)
    assert bar, "no timeline redrawn"
    assert 'data-testid="join-marker"' in bar.group(0) and 'data-marker-at="1.000"' in bar.group(0)
    assert 'data-marker-at="1.50"' in bar.group(0)


def test_two_comments_on_one_take_read_together_both_arrive(watching, project, take, editor, reviewer):
    received = watching(project)
    first = review.comment_add(take=take, author=editor, body="First note", at=0.5)
    second = review.comment_add(take=take, author=reviewer, body="Second note", at=1)

    html = received()  # one read of the table: the board draws the frame once, each thread still arrives
    assert "First note" in _thread(html, first) and "Second note" in _thread(html, second)


def test_a_reply_a_resolution_and_an_edit_redraw_the_thread(watching, project, take, editor, reviewer):
    comment = review.comment_add(take=take, author=editor, body="Horizon tilts", at=1)
    received = watching(project)

    review.comment_reply(parent=comment, author=reviewer, body="Fixed in the next take")
    assert "Fixed in the next take" in _thread(received(), comment)
    review.comment_resolve(comment=comment, user=reviewer, resolved=True)
    resolved = received()
    assert "Resolved by rita" in _thread(resolved, comment) and "marker--resolved" in resolved
    review.comment_edit(comment=comment, user=editor, body="Horizon tilts left")
    assert "Horizon tilts left" in _thread(received(), comment)


def test_a_drawing_arrives_with_its_comment(watching, project, take, editor):
    received = watching(project)
    comment = review.comment_add(take=take, author=editor, body="Move the boat here", at=1, drawing=DRAWING)
    thread = _thread(received(), comment)
    assert 'data-drawing="' in thread and 'data-drawing-at="1.000"' in thread


def test_what_only_the_author_may_do_is_drawn_for_their_page_alone(watching, project, take, editor):
    as_editor, as_owner, as_viewer = (watching(project, role) for role in (Role.EDITOR, Role.OWNER, Role.VIEWER))
    comment = review.comment_add(take=take, author=editor, body="Team thought", at=1)

    editor_thread = _thread(as_editor(), comment)
    # Drawn once for every editor's page: the edit form and the sharing switch are Eddie's alone.
    assert f'id="edit-{comment.pk}" data-only-for="{editor.pk}" hidden' in editor_thread
    assert f'data-only-for="{editor.pk}" hidden' in _share_form(editor_thread)
    owner_thread = _thread(as_owner(), comment)
    assert "data-only-for" not in _share_form(owner_thread)  # an owner switches anyone's comment
    assert f'id="edit-{comment.pk}" data-only-for="{editor.pk}" hidden' in owner_thread  # but edits only their own
    viewer_thread = _thread(as_viewer(), comment)
    assert 'data-testid="resolve"' not in viewer_thread and "Reply" not in viewer_thread  # viewers only read


def test_a_decision_redraws_each_finished_takes_status_and_card_and_the_history(watching, project, scene, take,
                                                                                finished_take, reviewer):
    second = finished_take(scene)
    as_reviewer, as_editor = watching(project, Role.REVIEWER), watching(project, Role.EDITOR)
    review.take_approve(take=second, user=reviewer, note="Ship it")

    html = as_reviewer()
    status_of_first = re.search(rf'<p id="review-status-{take.pk}" hx-swap-oob="outerHTML">.*?</p>', html, re.S)
    assert status_of_first and f"Take {second.number} approved" in status_of_first.group(0)
    assert re.search(rf'<p id="review-status-{second.pk}" hx-swap-oob="outerHTML">.*?>Approved<', html, re.S)
    assert f'id="decision-{take.pk}" hx-swap-oob="outerHTML"' in html
    assert f'id="decisions-{scene.pk}"' in html and "Ship it" in html
    editor_html = as_editor()
    assert f'id="review-status-{take.pk}"' in editor_html
    assert f'id="decision-{take.pk}"' not in editor_html  # editors don't decide: they have no card to redraw


def test_a_request_for_changes_arrives_with_its_comment_and_one_click_forms_without_a_key(watching, project,
                                                                                         take, reviewer):
    as_owner = watching(project, Role.OWNER)
    comment = review.take_request_changes(take=take, user=reviewer, note="Thinner mist", at=1)

    html = as_owner()
    assert "Thinner mist" in _thread(html, comment) and "Re-render for this request" in html
    assert "Changes requested" in re.search(rf'id="review-status-{take.pk}".*?</p>', html, re.S).group(0)
    # Drawn once for every page: each page puts its own key in (live.js), or one click would stand for another's.
    keys = re.findall(r'name="idempotency_key"\s+value="([^"]*)"', html)
    assert keys and set(keys) == {""}


def test_a_withheld_takes_comments_are_not_pushed(watching, project, take, editor):
    from django.utils import timezone

    from generation.models import Render

    comment = review.comment_add(take=take, author=editor, body="Before the consent went", at=1)
    Render.objects.filter(pk=take.pk).update(quarantined_at=timezone.now(), quarantine_reason="consent revoked")
    received = watching(project)
    review.comment_resolve(comment=comment, user=editor, resolved=True)
    assert "Before the consent went" not in received()


def test_a_page_of_another_teams_project_gets_nothing_of_our_review(watching, project, take, editor, outsider):
    rival = services.project_create(team=outsider.memberships.get().team, user=outsider, name="Rival film")
    theirs = watching(rival, Role.OWNER)
    review.comment_add(take=take, author=editor, body="Our secret note", at=1)
    review.take_approve(take=take, user=editor)
    assert theirs() == ""


# --- a guest's page of a review link ---------------------------------------------------------------


@pytest.fixture
def link(project, owner, scene, take):
    link, _token = guest_links.link_create(project=project, user=owner, label="Client", scope="scenes",
                                           scenes=[scene], days=3)
    return link


def test_a_guest_page_gets_shared_threads_as_a_guest_reads_them_and_nothing_of_the_team(
        watching, project, scene, take, link, editor, reviewer, owner):
    as_guest = watching(project, guest_role(link.pk))
    secret = review.comment_add(take=take, author=editor, body="Between us: the sky is cheap", at=0.5)
    review.comment_reply(parent=secret, author=owner, body="Fix it before the client notices")
    review.comment_resolve(comment=secret, user=owner, resolved=True)
    public = review.comment_add(take=take, author=editor, body="@rita keeps the logo small", at=1, shared=True)
    review.comment_reply(parent=public, author=owner, body="Internal aside on the logo", shared=False)
    review.comment_resolve(comment=public, user=reviewer, resolved=True)
    review.take_request_changes(take=take, user=reviewer, note="Decision note: redo the mist")
    review.take_approve(take=take, user=reviewer, note="Approval note: budget reasons")
    services.scene_update(scene=scene, expected_version=scene.version, user=owner, title="Dawn, wide")

    html = as_guest()
    assert "@teammate keeps the logo small" in _thread(html, public)
    assert "Resolved" in html and "Resolved by" not in html
    for hidden in ("Between us", "Fix it before", "Internal aside", "Decision note", "Approval note", "rita",
                   "Dawn, wide", 'id="frame-', 'id="presence"', 'id="bell"', "decision-", "review-status"):
        assert hidden not in html, hidden
    # The reply form is the link's, not the team's: each guest page puts its own token in (review.js).
    assert reverse("projects:guest_reply", args=["__token__", public.pk]) in html
    assert f'hx-post="{reverse("projects:comment_reply", args=[public.pk])}"' not in html


def test_a_guest_of_one_link_gets_nothing_of_the_takes_it_does_not_show(watching, project, owner, make_scene,
                                                                       finished_take, link, editor):
    other_take = finished_take(make_scene(title="Ending"))
    as_guest = watching(project, guest_role(link.pk))
    review.comment_add(take=other_take, author=editor, body="Shared on the ending", at=1, shared=True)
    assert as_guest() == ""


def test_a_comment_made_team_only_leaves_the_guests_page(watching, project, take, link, editor):
    comment = review.comment_add(take=take, author=editor, body="Logo small on purpose", at=1, shared=True)
    as_guest = watching(project, guest_role(link.pk))
    review.comment_share(comment=comment, user=editor, shared=False)
    html = as_guest()
    assert f'<li id="comment-{comment.pk}" hx-swap-oob="delete">' in html and "Logo small" not in html
    review.comment_share(comment=comment, user=editor, shared=True)
    assert "Logo small on purpose" in _thread(as_guest(), comment)


def test_a_revoked_links_page_gets_nothing_more(watching, project, take, link, owner, editor):
    as_guest = watching(project, guest_role(link.pk))
    guest_links.link_revoke(link=link, user=owner)
    review.comment_add(take=take, author=editor, body="After the revocation", at=1, shared=True)
    assert as_guest() == ""


# --- the guest page's stream ---------------------------------------------------------------------------


def _enter(client, token, name="Grace"):
    url = reverse("projects:guest_review", args=[token])
    client.post(url, {"action": "name", "name": name})
    return client.get(url)


@pytest.fixture
def short_streams(settings):
    settings.LIVE_STREAM_MAX_SECONDS = 0.5
    settings.LIVE_KEEPALIVE_SECONDS = 0.2


def _changes(response) -> str:
    return b"".join(response.streaming_content).decode()


@pytest.mark.django_db(transaction=True)
def test_the_guest_page_holds_a_stream_of_its_link_that_replays_shared_threads_only(
        short_streams, migrated_data, client, project, owner, scene, finished_take, editor):
    take = finished_take(scene)
    link, token = guest_links.link_create(project=project, user=owner, label="Client", scope="scenes",
                                          scenes=[scene], days=3)
    page = _enter(client, token).content.decode()
    assert f'sse-connect="{reverse("projects:guest_events", args=[token])}?' in page
    start = cursor_now()
    review.comment_add(take=take, author=editor, body="Team only musing", at=0.5)
    review.comment_add(take=take, author=editor, body="For the client", at=1, shared=True)

    response = client.get(reverse("projects:guest_events", args=[token]), {"after": start})
    assert response.status_code == 200 and response["Content-Type"] == "text/event-stream"
    body = _changes(response)
    assert "For the client" in body and "Team only musing" not in body
    assert not Presence.objects.exists()  # a guest is nobody's avatar on the board


@pytest.mark.django_db(transaction=True)
def test_no_stream_without_opening_the_link_or_after_it_is_revoked(short_streams, migrated_data, client, project,
                                                                  owner, scene, finished_take, outsider, client_for):
    finished_take(scene)
    link, token = guest_links.link_create(project=project, user=owner, label="Client", scope="scenes",
                                          scenes=[scene], days=3)
    url = reverse("projects:guest_events", args=[token])
    assert client.get(url).status_code == 404  # the name not given yet
    assert client_for(outsider).get(url).status_code == 404  # another team's user, same
    assert client.get(reverse("projects:guest_events", args=["not-a-token"])).status_code == 404
    _enter(client, token)
    guest_links.link_revoke(link=link, user=owner)
    assert client.get(url).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_guest_stream_given_hostile_cursors_and_page_ids_never_fails(short_streams, client, project, owner,
                                                                              scene):
    _link, token = guest_links.link_create(project=project, user=owner, label="Client", scope="scenes",
                                           scenes=[scene], days=3)
    _enter(client, token)
    url = reverse("projects:guest_events", args=[token])
    for query in ({"after": "-1"}, {"after": "1e309"}, {"after": "9" * 40}, {"after": "\x00"},
                  {"client": "' OR 1=1 --"}, {"client": "\x00" * 10}):
        response = client.get(url, query)
        assert response.status_code in {200, 400}, query  # a NUL is refused before any view (400), never a 500
        assert response.status_code == 400 or _changes(response).startswith("retry: 2000")
    response = client.get(url, HTTP_LAST_EVENT_ID="not-a-number")
    assert response.status_code == 200 and not Presence.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_guests_open_stream_ends_when_its_link_is_revoked(project, owner, scene, monkeypatch):
    from projects.live import stream

    link, _token = guest_links.link_create(project=project, user=owner, label="Client", scope="scenes",
                                           scenes=[scene], days=3)
    test_hub = Hub(draw_all, keep=stream.keep_open, background=False)  # as a web process keeps its pages
    monkeypatch.setattr(stream, "hub", lambda: test_hub)
    page = stream._Page(channel=("project", project.pk), role=guest_role(link.pk), user_id=0, after=None,
                        client="0-guest")
    page.opening()
    test_hub.beat()
    assert deliveries(page.subscriber) == [KEEP_ALIVE]
    guest_links.link_revoke(link=link, user=owner)
    test_hub.beat()
    assert deliveries(page.subscriber) == [END]  # the stream ends
    page.close()
    assert not ChangeEvent.objects.filter(kind="presence").exists()
