"""The inbox: a notification per recipient where each email is queued, the bell's count, marking read,
absolute links in every email, and nobody else's notifications."""

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from generation.models import Render, Status
from projects.live.hub import Hub, Subscriber
from projects.live.stream import replay
from projects.models import (
    ChangeEvent,
    Notification,
    NotificationKind,
    NotificationPreference,
    Role,
)
from projects.review import services as review
from projects.teams import services as team_services

HX = {"HTTP_HX_REQUEST": "true"}
URL = re.compile(r"""https?://[^\s"'<>]+""")


@pytest.fixture
def take(scene, finished_take):
    return finished_take(scene)


@pytest.fixture
def sent(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _inbox(user, *, renders=False):
    """What reached the user; without the finished-render note of the `take` fixture, unless asked."""
    found = Notification.objects.visible_to(user)
    return list(found if renders else found.exclude(kind=NotificationKind.RENDER))


# --- Where notifications come from ---------------------------------------------------------------


def test_a_mention_puts_a_notification_at_the_comment_in_the_teammates_inbox(take, reviewer, editor):
    comment = review.comment_add(take=take, author=reviewer, body="@eddie the mist", at="1.5")
    (note,) = _inbox(editor)
    assert note.kind == NotificationKind.MENTION and note.actor == reviewer and note.read_at is None
    assert "rita mentioned you" in note.text
    assert note.path == reverse("projects:take_review", args=[take.pk]) + f"?t=1.5#comment-{comment.pk}"
    assert _inbox(reviewer) == []  # not the author's own


def test_a_mention_reaches_the_inbox_even_when_its_email_is_turned_off(take, reviewer, editor, mailoutbox, sent):
    NotificationPreference.objects.create(user=editor, mentions=False)
    mailoutbox.clear()
    with sent():
        review.comment_add(take=take, author=reviewer, body="@eddie look")
    assert mailoutbox == []
    assert [n.kind for n in _inbox(editor)] == [NotificationKind.MENTION]


def test_a_reply_reaches_the_thread_at_the_reply(take, reviewer, editor, owner):
    parent = review.comment_add(take=take, author=editor, body="Horizon tilts", at=1)
    reply = review.comment_reply(parent=parent, author=reviewer, body="Agreed")
    (note,) = _inbox(editor)
    assert note.kind == NotificationKind.REPLY
    assert note.path.endswith(f"?t=1#comment-{reply.pk}")
    assert _inbox(owner) == []


def test_decisions_reach_the_takes_author_and_commenters(take, reviewer, editor, owner):
    review.comment_add(take=take, author=owner, body="Nice")
    request = review.take_request_changes(take=take, user=reviewer, note="Darker sky", at="0.5")
    review.take_approve(take=take, user=reviewer)
    for person in (editor, owner):
        kinds = [(n.kind, n.path) for n in _inbox(person)]
        take_url = reverse("projects:take_review", args=[take.pk])
        assert (NotificationKind.DECISION, take_url + "#decision") in kinds
        assert (NotificationKind.CHANGES, take_url + f"?t=0.5#comment-{request.pk}") in kinds
    assert _inbox(reviewer) == []


def _settled(scene, editor, *, finished=0, failed=0):
    takes = [Render.objects.create(scene=scene, provider="local", model="m", recipe={}, status=Status.DOWNLOADING,
                                   created_by=editor) for _ in range(finished + failed)]
    for take in takes[:finished]:
        take.advance(Status.SUCCEEDED)
    for take in takes[finished:]:
        take.mark_failed("Moderation")
    return takes


def test_a_lone_finished_render_arrives_with_the_authors_digest_at_its_take(scene, editor, mailoutbox, sent):
    NotificationPreference.objects.create(user=editor, renders_finished=False)
    mailoutbox.clear()
    with sent():
        (take,) = _settled(scene, editor, finished=1)
    assert mailoutbox == []  # the email is off; the inbox still has it
    (note,) = _inbox(editor, renders=True)
    assert note.kind == NotificationKind.RENDER and note.path == reverse("projects:take_review", args=[take.pk])
    assert note.text == f"{scene.project.name} / take {take.number} of {scene.title} finished"


def test_renders_settled_together_are_one_inbox_entry_per_project(scene, make_scene, editor, owner, team, sent):
    from projects.storyboard import services as storyboard

    other = storyboard.project_create(team=team, user=owner, name="Harbour Storm")
    storm = storyboard.scene_create(project=other, user=owner, title="Squall", prompt="Rain.", duration=2,
                                    size="1280x720")
    with sent():  # one digest: what settled within RENDER_DIGEST_SECONDS of the first
        _settled(scene, editor, finished=4, failed=1)
        _settled(make_scene(title="Night"), editor, finished=2)
        _settled(storm, editor, finished=5)
    notes = {n.text: n.path for n in _inbox(editor, renders=True)}
    assert notes == {
        "7 takes ended in Harbour Story: 6 finished, 1 failed": reverse("projects:project_detail",
                                                                        args=[scene.project_id]),
        "5 takes finished in Harbour Storm": reverse("projects:project_detail", args=[other.pk]),
    }


def test_a_batch_whose_takes_all_failed_says_so(scene, editor, sent):
    with sent():
        _settled(scene, editor, failed=3)
    assert [n.text for n in _inbox(editor, renders=True)] == [f"3 takes failed in {scene.project.name}"]


def test_an_invitation_reaches_the_inbox_of_the_account_with_that_address(client_for, owner, make_user, team):
    invitee = make_user("ines")  # an account already, in no team yet
    client_for(owner).post(reverse("projects:team_members", args=[team.pk]),
                           {"email": invitee.email.upper(), "role": Role.EDITOR})
    (note,) = _inbox(invitee)
    assert note.kind == NotificationKind.INVITATION and note.team == team
    assert note.path == reverse("invitation_accept", args=[team.invitations.get().token])


def test_the_inbox_lists_unread_mentions_and_requests_first_then_the_rest_newest_first(
        client_for, scene, take, reviewer, editor, owner, sent):
    from datetime import timedelta

    Notification.objects.filter(recipient=editor).update(read_at=timezone.now())  # the take's own
    mention = review.comment_add(take=take, author=reviewer, body="@eddie is the boat too small?", at=1)
    review.take_request_changes(take=take, user=owner, note="Thinner mist")
    Notification.objects.filter(recipient=editor).update(created_at=timezone.now() - timedelta(hours=3))
    with sent():  # a morning of renders, after them
        _settled(scene, editor, finished=15)
    read_mention = review.comment_add(take=take, author=reviewer, body="@eddie thanks", at=1)
    Notification.objects.filter(recipient=editor, text__contains="mentioned", read_at__isnull=True,
                                created_at__gt=timezone.now() - timedelta(minutes=1)).update(read_at=timezone.now())

    page = client_for(editor).get(reverse("projects:inbox")).content.decode()
    entries = re.findall(r'data-testid="notification" data-kind="(\w+)" data-unread="(\w+)"', page)
    assert entries[:2] == [("changes", "true"), ("mention", "true")]  # waiting for an answer: on top
    # Then newest first: 15 takes are one entry; the fixture's own take, read, is the oldest.
    assert entries[2:] == [("mention", "false"), ("render", "true"), ("render", "false")]
    assert "15 takes finished in Harbour Story" in page
    assert page.index('data-testid="inbox-asking"') < page.index("changes requested on take") < page.index("15 takes")
    assert mention and read_mention


def test_a_request_for_changes_already_in_an_inbox_becomes_one(take, reviewer, editor):
    from importlib import import_module

    from django.apps import apps

    request = review.take_request_changes(take=take, user=reviewer, note="Darker sky")
    Notification.objects.filter(kind=NotificationKind.CHANGES).update(kind=NotificationKind.DECISION)
    review.take_approve(take=take, user=reviewer)
    import_module("projects.migrations.0032_request_for_changes_in_the_inbox").requests_already_received(apps, None)
    kinds = {n.text: n.kind for n in _inbox(editor)}
    assert kinds == {f"{take.scene.title}: changes requested on take 1": NotificationKind.CHANGES,
                     f"{take.scene.title}: take 1 approved": NotificationKind.DECISION}
    assert request


# --- The bell goes to its recipient's pages alone ------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_bell_rings_on_the_recipients_pages_only(project, team, reviewer, editor, owner, scene):
    from projects.live.fragments import coalesce_key, draw_all

    hub = Hub(draw_all, coalesce=coalesce_key, background=False)
    eddies_board = hub.subscribe(Subscriber(channel=("project", project.pk), role=Role.EDITOR, user_id=editor.pk))
    eddies_team_page = hub.subscribe(Subscriber(channel=("team", team.pk), role=Role.EDITOR, user_id=editor.pk))
    owners_team_page = hub.subscribe(Subscriber(channel=("team", team.pk), role=Role.OWNER, user_id=owner.pk))
    hub.pump()
    take = Render.objects.create(scene=scene, provider="local", model="m", recipe={}, status=Status.SUCCEEDED)
    review.comment_add(take=take, author=reviewer, body="@eddie here")
    hub.pump()

    def bells(page):
        found = []
        while not page.queue.empty():
            found += re.findall(r'data-testid="bell-count"[^>]*>(\d+)<', page.queue.get_nowait().data.decode())
        return found

    assert bells(eddies_board) == ["1"] and bells(eddies_team_page) == ["1"]
    assert bells(owners_team_page) == []
    # A page reconnecting replays its own bell, never someone else's.
    after = ChangeEvent.objects.filter(recipient__isnull=True).order_by("id").first().id
    mine = replay(channel=("team", team.pk), role=Role.EDITOR, after=after, user_id=editor.pk)
    theirs = replay(channel=("team", team.pk), role=Role.OWNER, after=after, user_id=owner.pk)
    assert any('id="bell"' in m.data for m in mine)
    assert not any('id="bell"' in m.data for m in theirs)


def test_every_page_shows_the_bell_with_the_unread_count(client_for, take, reviewer, editor):
    Notification.objects.filter(recipient=editor).update(read_at=timezone.now())  # the take's own
    review.comment_add(take=take, author=reviewer, body="@eddie one")
    review.comment_add(take=take, author=reviewer, body="@eddie two")
    page = client_for(editor).get(reverse("projects:project_list")).content.decode()
    assert re.search(r'data-testid="bell-count"[^>]*>2<', page)
    assert 'sse-connect="/teams/' in page  # the team's stream keeps it current


# --- The inbox page and marking read -------------------------------------------------------------


def test_the_inbox_lists_what_reached_me_and_links_to_it(client_for, take, reviewer, editor):
    comment = review.comment_add(take=take, author=reviewer, body="@eddie the mist", at=1)
    response = client_for(editor).get(reverse("projects:inbox"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "rita mentioned you on Dawn" in page
    assert f'href="{reverse("projects:take_review", args=[take.pk])}?t=1#comment-{comment.pk}"' in page


def test_marking_one_read_lowers_the_bell(client_for, take, reviewer, editor):
    Notification.objects.filter(recipient=editor).update(read_at=timezone.now())  # the take's own
    review.comment_add(take=take, author=reviewer, body="@eddie one")
    review.comment_add(take=take, author=reviewer, body="@eddie two")
    first = _inbox(editor)[0]
    response = client_for(editor).post(reverse("projects:notification_read", args=[first.pk]), **HX)
    assert response.status_code == 200
    assert 'hx-swap-oob="true"' in response.content.decode()
    assert re.search(r'data-testid="bell-count"[^>]*>1<', response.content.decode())
    first.refresh_from_db()
    assert first.read_at is not None


def test_mark_all_read_without_javascript_returns_to_the_inbox(client_for, take, reviewer, editor):
    review.comment_add(take=take, author=reviewer, body="@eddie one")
    review.comment_add(take=take, author=reviewer, body="@eddie two")
    response = client_for(editor).post(reverse("projects:notifications_read_all"))
    assert response.status_code == 302 and response["Location"] == reverse("projects:inbox")
    assert Notification.objects.filter(recipient=editor, read_at__isnull=True).count() == 0


def test_marking_read_needs_a_post_with_the_csrf_token(take, reviewer, editor, client):
    from django.test import Client

    review.comment_add(take=take, author=reviewer, body="@eddie one")
    note = _inbox(editor)[0]
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(editor)
    assert strict.post(reverse("projects:notification_read", args=[note.pk])).status_code == 403
    assert strict.get(reverse("projects:notification_read", args=[note.pk])).status_code == 405
    note.refresh_from_db()
    assert note.read_at is None


def test_someone_elses_notification_is_not_found(client_for, take, reviewer, editor, owner, outsider):
    review.comment_add(take=take, author=reviewer, body="@eddie private")
    note = _inbox(editor)[0]
    for other in (owner, outsider):
        client = client_for(other)
        assert client.post(reverse("projects:notification_read", args=[note.pk])).status_code == 404
        assert "private" not in client.get(reverse("projects:inbox")).content.decode()
        client.post(reverse("projects:notifications_read_all"))
    note.refresh_from_db()
    assert note.read_at is None


def test_a_teams_notifications_leave_with_the_member(client_for, take, reviewer, editor, team, owner):
    review.comment_add(take=take, author=reviewer, body="@eddie before you go")
    team_services.membership_remove(membership=team.memberships.get(user=editor), user=owner)
    assert _inbox(editor) == []
    assert "before you go" not in client_for(editor).get(reverse("projects:inbox")).content.decode()


# --- Every email's links are absolute and open the right page for their recipient ----------------


def _links(message) -> list[str]:
    bodies = [message.body] + [content for content, _type in getattr(message, "alternatives", [])]
    found = []
    for body in bodies:
        found += URL.findall(body)
        found += [href for href in re.findall(r'href="([^"]+)"', body)]
    return found


def _opens_for(client, url: str, host: str) -> int:
    parts = urlsplit(url)
    assert parts.scheme in {"http", "https"} and parts.netloc == host, url
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return client.get(path, follow=True, HTTP_HOST=host).status_code


@pytest.mark.usefixtures("previz_without_encode")
@pytest.mark.parametrize("public_base_url, host", [("", "studio.lan:8000"), ("https://studio.example", "studio.example")])
def test_every_email_links_absolutely_to_a_page_its_recipient_can_open(
        settings, client, make_user, take, scene, team, owner, editor, reviewer, django_capture_on_commit_callbacks,
        public_base_url, host):
    settings.PUBLIC_BASE_URL = public_base_url
    settings.ALLOWED_HOSTS = ["*"]
    secure = public_base_url.startswith("https")
    invitee = make_user("ines")
    mail.outbox.clear()

    def as_user(user, name, args, data):
        client.force_login(user) if user else client.logout()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse(name, args=args), data, HTTP_HOST=host, secure=secure)
        assert response.status_code in (200, 204, 302), response.content[:300]

    # Each kind of email, made the way people make it: through the studio's pages.
    as_user(reviewer, "projects:comment_create", [take.pk], {"body": "@eddie mention", "at": "1"})
    comment = take.comments.get(body="@eddie mention")
    as_user(editor, "projects:comment_reply", [comment.pk], {"body": "Thanks"})
    as_user(reviewer, "projects:take_decide", [take.pk], {"decision": "changes", "note": "Darker"})
    as_user(reviewer, "projects:take_decide", [take.pk], {"decision": "approve", "note": ""})
    as_user(owner, "projects:team_members", [team.pk], {"email": invitee.email, "role": Role.EDITOR})
    # A take booked from the page: the worker's digest links where it was booked from.
    as_user(editor, "generation:render_create", [scene.pk],
            {"target": f"{team.connections.get(kind='local').pk}:previz-animatic-1",
             "idempotency_key": "5f0c1d7e-8c7b-4c4a-9a55-3c8d3c0d1a11"})
    as_user(None, "password_reset", [], {"email": editor.email})

    expected = {"mentioned you": editor, "replied on": reviewer, "changes requested": editor, "approved": editor,
                "invited": invitee, "finished": editor, "reset your password": editor}
    users = {u.email: u for u in (editor, reviewer, owner, invitee)}
    seen = set()
    for message in mail.outbox:
        links = _links(message)
        assert links, f"{message.subject!r} carries no link"
        assert not re.search(r"(^|\s)/[a-z]", message.body, re.MULTILINE), message.body  # never a bare path
        recipient = users[message.to[0]]
        for url in links:
            client.logout() if "/reset/" in url else client.force_login(recipient)
            assert _opens_for(client, url, host) == 200, (message.subject, url)
        seen |= {what for what, who in expected.items() if what in message.subject.lower() and who == recipient}
    assert seen == set(expected), [(m.subject, m.to) for m in mail.outbox]
