"""The live channel: changes reach the pages of their project, and only those, once, in order."""

from __future__ import annotations

import json
import threading
import time

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse

from projects.live import ChangeKind, live_publish
from projects.live.hub import Hub, Message, Subscriber
from projects.live.hub import hub as web_hub
from projects.models import ChangeEvent, Presence, Role
from projects.storyboard import services
from tests.live.sse import drain as _drain


class _Names:
    """A drawing that names the change and the role it was drawn for (counting its drawings)."""

    drawn: list[str] = []

    def __init__(self, event):
        self.event = event

    def audience(self, role, user_id):
        return role

    def messages(self, role, user_id):
        _Names.drawn.append(role)
        return [Message(self.event.id, "change", f"{self.event.kind}:{self.event.scene_id}:{role}")]


def _names(events):
    return [_Names(event) for event in events]


@pytest.fixture
def hub():
    return Hub(_names, background=False)


@pytest.mark.django_db(transaction=True)
def test_a_change_reaches_every_page_of_its_project_and_no_other(hub, project, make_team, owner):
    rival = services.project_create(team=make_team("Rival"), user=owner, name="Rival film")
    ours_a = hub.subscribe(Subscriber(channel=("project", project.pk), role=Role.EDITOR, user_id=1))
    ours_b = hub.subscribe(Subscriber(channel=("project", project.pk), role=Role.VIEWER, user_id=2))
    theirs = hub.subscribe(Subscriber(channel=("project", rival.pk), role=Role.OWNER, user_id=3))
    hub.pump()  # the reader starts from the newest change

    live_publish(kind=ChangeKind.SCENE_EDITED, project=project, scene_id=7)

    assert hub.pump() == 1
    assert [m.data for m in _drain(ours_a)] == ["scene_edited:7:editor"]
    assert [m.data for m in _drain(ours_b)] == ["scene_edited:7:viewer"]  # rendered for what each role sees
    assert _drain(theirs) == []


@pytest.mark.django_db(transaction=True)
def test_each_change_is_rendered_once_per_role_however_many_pages_watch(hub, project):
    pages = [hub.subscribe(Subscriber(channel=("project", project.pk), role=Role.EDITOR, user_id=i))
             for i in range(50)]
    hub.pump()
    _Names.drawn = []
    live_publish(kind=ChangeKind.SCENE_EDITED, project=project, scene_id=1)
    hub.pump()
    assert _Names.drawn == ["editor"]
    assert all(len(_drain(page)) == 1 for page in pages)


@pytest.mark.django_db(transaction=True)
def test_one_read_of_the_table_serves_every_page(hub, project):
    for i in range(20):
        hub.subscribe(Subscriber(channel=("project", project.pk), role=Role.EDITOR, user_id=i))
    hub.pump()
    for scene_id in range(5):
        live_publish(kind=ChangeKind.SCENE_EDITED, project=project, scene_id=scene_id)
    reads_before = hub.reads
    assert hub.pump() == 5
    assert hub.reads == reads_before + 1


@pytest.mark.django_db(transaction=True)
def test_a_change_committed_late_is_still_delivered(hub, project):
    # PostgreSQL hands out ids at insert: id N can commit after id N+1 was read. The reader looks back.
    page = hub.subscribe(Subscriber(channel=("project", project.pk), role=Role.EDITOR, user_id=1))
    hub.pump()
    first = live_publish(kind=ChangeKind.SCENE_EDITED, project=project, scene_id=1)
    live_publish(kind=ChangeKind.SCENE_EDITED, project=project, scene_id=2)
    ChangeEvent.objects.filter(pk=first.pk).delete()  # not committed yet when the reader looks
    hub.pump()
    first.save(force_insert=True)  # now it commits, with its lower id
    hub.pump()
    hub.pump()
    assert [m.data for m in _drain(page)] == ["scene_edited:2:editor", "scene_edited:1:editor"]


# --- the stream endpoint ---------------------------------------------------------------------------


def _events(response, limit=50) -> list[tuple[str | None, str, str]]:
    """(id, event, data) of each Server-Sent Event in a streamed response (it ends by itself in tests)."""
    text = b"".join(response.streaming_content).decode()
    found = []
    for block in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            if line.startswith(":") or ": " not in line:
                continue
            key, value = line.split(": ", 1)
            fields[key] = fields[key] + "\n" + value if key in fields and key == "data" else value
        if "event" in fields:
            found.append((fields.get("id"), fields["event"], fields.get("data", "")))
    return found[:limit]


@pytest.fixture
def short_streams(settings):
    settings.LIVE_STREAM_MAX_SECONDS = 0.5
    settings.LIVE_KEEPALIVE_SECONDS = 0.2


@pytest.mark.django_db(transaction=True)
def test_a_page_that_reconnects_gets_what_it_missed_in_order(short_streams, client_for, editor, project, make_scene):
    scenes = [make_scene(title=t) for t in ("A", "B", "C")]
    start = ChangeEvent.objects.order_by("-id").first().id
    services.scene_move(scene=scenes[2], offset=-2)  # C, A, B
    services.scene_move(scene=scenes[0], offset=1)  # C, B, A

    response = client_for(editor).get(reverse("projects:project_events", args=[project.pk]),
                                      HTTP_LAST_EVENT_ID=str(start))
    assert response["Content-Type"] == "text/event-stream"
    assert response["Cache-Control"] == "no-cache"
    orders = [json.loads(data) for _id, event, data in _events(response) if event == "order"]
    ids = [s.pk for s in scenes]
    assert orders == [[ids[2], ids[0], ids[1]], [ids[2], ids[1], ids[0]]]


@pytest.mark.django_db(transaction=True)
def test_ending_every_stream_ends_an_open_page_at_once_not_at_its_next_keep_alive(client_for, editor, project,
                                                                               settings):
    """What a browser test does once its pages are closed: their streams end now, their presence goes."""
    settings.LIVE_KEEPALIVE_SECONDS = 30
    response = client_for(editor).get(reverse("projects:project_events", args=[project.pk]),
                                      {"client": "0b7ba7e4-5f58-4a37-9b0b-2a3c1d1f7b11"})
    read = threading.Thread(target=lambda: b"".join(response.streaming_content), daemon=True)
    read.start()
    deadline = time.monotonic() + 10
    # The stream counts as watching as soon as it is registered; its presence row is written just after, by the
    # stream's own thread (on a busy PostgreSQL, a moment later): wait for both.
    def open_and_present() -> bool:
        return bool(web_hub().watching()) and Presence.objects.filter(project=project, user=editor).exists()
    while not open_and_present() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert web_hub().watching() == 1
    assert Presence.objects.filter(project=project, user=editor).exists()

    assert web_hub().end_all() == 1
    read.join(timeout=5)
    assert not read.is_alive(), "the stream waited for its keep-alive"
    assert web_hub().watching() == 0
    assert not Presence.objects.filter(project=project, user=editor).exists()


def test_settling_waits_for_a_keep_alive_under_way_that_still_writes_a_page_that_left():
    """What a browser test waits for before its data is flushed: the hub's last writes, not a fixed pause."""
    in_keep, release, wrote = threading.Event(), threading.Event(), []

    def keep(*, pages):
        in_keep.set()
        release.wait(5)
        wrote.append(len(pages))  # the presence beat of a page that left meanwhile
        return set(pages)

    test_hub = Hub(_names, background=False, keep=keep)
    page = test_hub.subscribe(Subscriber(channel=("project", 1), role="editor", user_id=1, client="c"))
    beat = threading.Thread(target=test_hub.beat, daemon=True)
    beat.start()
    assert in_keep.wait(5)
    test_hub.unsubscribe(page)
    assert test_hub.watching() == 0  # the page is gone, its keep-alive is not

    settled = threading.Event()
    threading.Thread(target=lambda: (test_hub.settle(), settled.set()), daemon=True).start()
    assert not settled.wait(0.2), "settled while a keep-alive was still writing"
    release.set()
    assert settled.wait(5)
    assert wrote == [1]
    beat.join(5)


@pytest.mark.django_db(transaction=True)
def test_another_teams_user_gets_no_stream_no_changes_and_no_presence(client_for, outsider, project, team):
    client = client_for(outsider)
    assert client.get(reverse("projects:project_events", args=[project.pk])).status_code == 404
    assert client.get(reverse("projects:project_changes", args=[project.pk])).status_code == 404
    assert client.post(reverse("projects:project_presence", args=[project.pk]), {"editing": ""}).status_code == 404
    assert client.get(reverse("projects:team_events", args=[team.pk])).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_the_fallback_poll_returns_the_changes_since_its_cursor(client_for, editor, project, make_scene):
    scenes = [make_scene(title=t) for t in ("A", "B")]
    cursor = ChangeEvent.objects.order_by("-id").first().id
    services.scene_move(scene=scenes[1], offset=-1)

    response = client_for(editor).get(reverse("projects:project_changes", args=[project.pk]), {"after": cursor})
    assert response.status_code == 200
    assert json.loads(response["X-Live-Order"]) == [scenes[1].pk, scenes[0].pk]
    assert int(response["X-Live-Cursor"]) > cursor
    again = client_for(editor).get(reverse("projects:project_changes", args=[project.pk]),
                                   {"after": response["X-Live-Cursor"]})
    assert "X-Live-Order" not in again and again["X-Live-Cursor"] == response["X-Live-Cursor"]


@pytest.mark.django_db(transaction=True)
def test_a_page_that_missed_too_much_is_told_to_reload(short_streams, client_for, editor, project, make_scene):
    scene = make_scene()
    start = ChangeEvent.objects.order_by("-id").first().id
    ChangeEvent.objects.bulk_create([ChangeEvent(team_id=project.team_id, project=project,
                                                 kind=ChangeKind.SCENES_REORDERED, data={"order": [scene.pk]})
                                     for _ in range(301)])
    response = client_for(editor).get(reverse("projects:project_events", args=[project.pk]), {"after": start})
    events = [event for _id, event, _data in _events(response)]
    assert events[0] == "reset" and "order" not in events  # not 301 reorders replayed one by one


@pytest.mark.django_db(transaction=True)
def test_a_member_removed_from_the_team_loses_the_stream(short_streams, client_for, editor, team, project):
    from projects.live.presence import presence_beat

    assert presence_beat(project_id=project.pk, user_id=editor.pk, client="c") is True
    team.memberships.filter(user=editor).delete()
    assert presence_beat(project_id=project.pk, user_id=editor.pk, client="c") is False
    assert client_for(editor).get(reverse("projects:project_events", args=[project.pk])).status_code == 404


@pytest.mark.django_db
def test_a_page_whose_stream_died_fades_from_presence_and_its_board_is_told(project, editor, settings):
    from datetime import timedelta

    from django.utils import timezone

    from projects.live.presence import presence_for, presence_join, presence_sweep
    from projects.models import Presence

    presence_join(project_id=project.pk, user_id=editor.pk, client="tab-1")
    assert [p.name for p in presence_for(project_id=project.pk)] == ["eddie"]
    Presence.objects.update(seen_at=timezone.now() - timedelta(seconds=settings.LIVE_PRESENCE_SECONDS + 1))
    before = ChangeEvent.objects.filter(kind=ChangeKind.PRESENCE).count()

    assert presence_sweep() == 1
    assert presence_for(project_id=project.pk) == []
    assert ChangeEvent.objects.filter(kind=ChangeKind.PRESENCE).count() == before + 1


@pytest.mark.django_db
def test_changes_older_than_a_day_are_pruned(project):
    from datetime import timedelta

    from django.utils import timezone

    from projects.live import changes_prune

    old = live_publish(kind=ChangeKind.SCENE_EDITED, project=project, scene_id=1)
    ChangeEvent.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(hours=25))
    fresh = live_publish(kind=ChangeKind.SCENE_EDITED, project=project, scene_id=2)
    assert changes_prune() == 1
    assert list(ChangeEvent.objects.values_list("pk", flat=True)) == [fresh.pk]


@pytest.mark.django_db(transaction=True)
def test_under_the_asgi_server_a_stream_is_a_coroutine_that_replays_and_delivers(short_streams, editor, project,
                                                                                   make_scene):
    from asgiref.sync import async_to_sync
    from django.test import AsyncClient

    a, b = make_scene(title="A"), make_scene(title="B")
    start = ChangeEvent.objects.order_by("-id").first().id
    services.scene_move(scene=b, offset=-1)

    async def read() -> str:
        client = AsyncClient()
        await client.aforce_login(editor)
        response = await client.get(reverse("projects:project_events", args=[project.pk]), {"after": start})
        assert response["Content-Type"] == "text/event-stream"
        assert isinstance(response, StreamingHttpResponse)
        return b"".join([chunk async for chunk in response.streaming_content]).decode()

    body = async_to_sync(read)()
    assert body.startswith("retry: 2000\n\n")
    assert f"event: order\ndata: [{b.pk}, {a.pk}]\n" in body
    assert ": keep-alive" in body  # the idle stream beat, and ended by itself


# --- regressions found in review ----------------------------------------------------------------


@pytest.fixture
def page_on(monkeypatch):
    """An open page's stream (its steps, without a server) on a hub this test pumps itself."""
    from projects.live import stream

    test_hub = Hub(_names, background=False)
    monkeypatch.setattr(stream, "hub", lambda: test_hub)

    def open_page(project, user, after):
        page = stream._Page(channel=("project", project.pk), role=Role.EDITOR, user_id=user.pk, after=after,
                            client=f"{user.pk}-tab")
        page.opening()
        return page, test_hub

    return open_page


def _delivered(page) -> list[str]:
    chunks = []
    while not page.subscriber.queue.empty():
        chunk = page.deliver(page.subscriber.queue.get_nowait())
        if chunk:
            chunks.append(chunk.decode())
    return chunks


@pytest.mark.django_db(transaction=True)
def test_an_open_page_gets_a_change_that_commits_after_a_later_one(page_on, project, editor):
    from projects.live.stream import cursor_now

    page, test_hub = page_on(project, editor, cursor_now())
    test_hub.pump()
    first = live_publish(kind=ChangeKind.SCENE_EDITED, project=project, scene_id=1)
    live_publish(kind=ChangeKind.SCENE_EDITED, project=project, scene_id=2)
    ChangeEvent.objects.filter(pk=first.pk).delete()  # not committed yet
    test_hub.pump()
    assert len(_delivered(page)) == 1
    first.save(force_insert=True)  # commits now, with its lower id
    test_hub.pump()
    assert ["scene_edited:1:editor" in chunk for chunk in _delivered(page)] == [True]


@pytest.mark.django_db(transaction=True)
def test_a_change_between_a_pages_replay_and_the_readers_first_read_is_delivered(page_on, project, editor):
    from projects.live.stream import cursor_now

    page, test_hub = page_on(project, editor, cursor_now())  # drawn, replayed; the reader has not read yet
    live_publish(kind=ChangeKind.SCENE_EDITED, project=project, scene_id=9)
    test_hub.pump()
    assert any("scene_edited:9:editor" in chunk for chunk in _delivered(page))


@pytest.mark.django_db
def test_what_a_page_is_editing_survives_its_stream_reconnecting(client_for, editor, project, scene):
    from projects.live.presence import editing_map, presence_for, presence_join, presence_leave

    client = client_for(editor)
    tab = "0b7ba7e4-5f58-4a37-9b0b-2a3c1d1f7b11"
    row_client = f"{editor.pk}-{tab}"
    presence_join(project_id=project.pk, user_id=editor.pk, client=row_client, stream="first")
    client.post(reverse("projects:project_presence", args=[project.pk]), {"client": tab, "editing": scene.pk})
    # The browser reconnects before the server notices the old stream is gone.
    presence_join(project_id=project.pk, user_id=editor.pk, client=row_client, stream="second")
    presence_leave(project_id=project.pk, user_id=editor.pk, client=row_client, stream="first")
    assert editing_map(presence_for(project_id=project.pk)) == {scene.pk: [{"id": editor.pk, "name": "eddie"}]}


@pytest.mark.django_db
def test_a_page_may_say_what_it_edits_before_its_stream_joined(client_for, editor, project, scene):
    from projects.live.presence import editing_map, presence_for

    client_for(editor).post(reverse("projects:project_presence", args=[project.pk]),
                            {"client": "0b7ba7e4-5f58-4a37-9b0b-2a3c1d1f7b11", "editing": scene.pk})
    assert editing_map(presence_for(project_id=project.pk)) == {scene.pk: [{"id": editor.pk, "name": "eddie"}]}


@pytest.mark.django_db
def test_connection_test_results_reach_owners_pages_only(team, owner):
    from generation.models import ProviderConnection
    from projects.live.fragments import render_change

    local = ProviderConnection.objects.get(team=team, kind="local")
    event = live_publish(kind=ChangeKind.CONNECTION_TESTED, team_id=team.pk, object_id=local.pk)
    assert render_change(event, Role.OWNER) and render_change(event, Role.EDITOR) == []
    assert render_change(event, Role.VIEWER) == []


@pytest.mark.django_db
def test_a_pages_own_background_requests_do_not_keep_the_session_alive(client_for, editor, project):
    from studio_site.accounts import IDLE_MARK

    client = client_for(editor)
    session = client.session
    session[IDLE_MARK] = 1  # last active long ago
    session.save()
    client.get(reverse("projects:project_changes", args=[project.pk]), {"after": 0})
    assert client.session[IDLE_MARK] == 1
    client.get(reverse("projects:project_detail", args=[project.pk]))  # the person, using the studio
    assert client.session[IDLE_MARK] != 1


# --- one person's notifications ------------------------------------------------------------------


@pytest.fixture
def mention_for_eddie(scene, reviewer, editor):
    """A teammate mentions Eddie: a notification for him alone, and a change on the live channel."""
    from generation.models import Render, Status
    from projects.review import services as review

    def mention():
        take = Render.objects.create(scene=scene, provider="local", model="m", recipe={}, status=Status.SUCCEEDED)
        review.comment_add(take=take, author=reviewer, body="@eddie the mist is too thick")
        return ChangeEvent.objects.filter(recipient=editor).latest("id")

    return mention


def _bells(messages) -> list[str]:
    return [m.data for m in messages if 'id="bell"' in m.data]


@pytest.mark.django_db(transaction=True)
def test_a_notification_rings_only_its_recipients_pages_not_a_teammates_nor_another_teams(
        mention_for_eddie, project, team, editor, owner, outsider):
    from projects.live.fragments import coalesce_key, draw_all

    rival_team = outsider.memberships.get().team
    rival_project = services.project_create(team=rival_team, user=outsider, name="Rival film")
    hub = Hub(draw_all, coalesce=coalesce_key, background=False)
    eddies_board = hub.subscribe(Subscriber(channel=("project", project.pk), role=Role.EDITOR, user_id=editor.pk))
    owners_board = hub.subscribe(Subscriber(channel=("project", project.pk), role=Role.OWNER, user_id=owner.pk))
    owners_team_page = hub.subscribe(Subscriber(channel=("team", team.pk), role=Role.OWNER, user_id=owner.pk))
    rivals_team_page = hub.subscribe(Subscriber(channel=("team", rival_team.pk), role=Role.OWNER,
                                                user_id=outsider.pk))
    rivals_board = hub.subscribe(Subscriber(channel=("project", rival_project.pk), role=Role.OWNER,
                                            user_id=outsider.pk))
    hub.pump()

    mention_for_eddie()
    hub.pump()

    assert len(_bells(_drain(eddies_board))) == 1
    for page in (owners_board, owners_team_page, rivals_team_page, rivals_board):
        assert _bells(_drain(page)) == []


@pytest.mark.django_db(transaction=True)
def test_a_reconnecting_stream_replays_a_notification_to_its_recipient_only(
        short_streams, client_for, mention_for_eddie, project, team, editor, owner, outsider):
    start = ChangeEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    assert mention_for_eddie().recipient_id == editor.pk
    rival_team = outsider.memberships.get().team

    def stream(user, url):
        response = client_for(user).get(url, HTTP_LAST_EVENT_ID=str(start))
        assert response.status_code == 200
        return [data for _id, kind, data in _events(response) if kind == "change"]

    project_stream = reverse("projects:project_events", args=[project.pk])
    assert any('id="bell"' in data for data in stream(editor, project_stream))
    # The teammate on the same board, on the team's pages, and by the fallback poll: nothing of Eddie's.
    assert not any('id="bell"' in data for data in stream(owner, project_stream))
    assert not any('id="bell"' in data for data in stream(owner, reverse("projects:team_events", args=[team.pk])))
    poll = client_for(owner).get(reverse("projects:project_changes", args=[project.pk]), {"after": start})
    assert 'id="bell"' not in poll.content.decode()
    # Another team's user, on their own team's stream (ours is a 404 to them): nothing either.
    assert not any('id="bell"' in data for data in stream(outsider, reverse("projects:team_events",
                                                                            args=[rival_team.pk])))


@pytest.mark.django_db
def test_the_board_shows_who_else_is_here_and_never_yourself(client_for, owner, editor, project, scene):
    from projects.live.presence import presence_join

    presence_join(project_id=project.pk, user_id=owner.pk, client=f"{owner.pk}-tab", stream="s1")
    presence_join(project_id=project.pk, user_id=editor.pk, client=f"{editor.pk}-tab", stream="s2")
    html = client_for(owner).get(reverse("projects:project_detail", args=[project.pk])).content.decode()
    assert f'data-user="{editor.pk}"' in html and f'data-user="{owner.pk}"' not in html
    # The page knows whom to leave out of what the stream pushes to every page of the project.
    assert f'data-me="{owner.pk}"' in html


def test_studios_on_two_databases_of_one_redis_server_wake_only_their_own_readers(settings, monkeypatch):
    # Redis pub/sub ignores the database number: two studios sharing a Redis server on separate
    # databases (staging beside production, parallel test workers) must not wake each other.
    import redis

    import projects.live

    published, subscribed = [], []

    class Redis:
        def publish(self, channel, message):
            published.append((self.url, channel))

        def pubsub(self):
            return self

        def subscribe(self, channel):
            subscribed.append((self.url, channel))

    def from_url(url, **options):
        client = Redis()
        client.url = url
        return client

    monkeypatch.setattr(redis.Redis, "from_url", from_url)
    for url in ("redis://127.0.0.1:6379/1", "redis://127.0.0.1:6379/2"):
        settings.LIVE_REDIS_URL = url
        monkeypatch.setattr(projects.live, "_redis", None)
        Hub(_names, background=False)._pubsub()  # a web process's reader listens
        projects.live.wake(7)  # a process of the same studio tells it there is news

    assert published == subscribed  # each studio's reader hears its own studio …
    assert published[0][1] != published[1][1]  # … and only its own


def test_a_change_made_in_this_process_wakes_its_reader_at_once(settings, project, django_capture_on_commit_callbacks):
    """Without Redis the other processes read the table every LIVE_POLL_SECONDS; this one reads at once."""
    from projects.live.hub import hub

    settings.LIVE_REDIS_URL = ""
    reader = hub()
    reader._nudge.clear()
    with django_capture_on_commit_callbacks(execute=True):
        live_publish(kind=ChangeKind.SCENE_EDITED, project=project)
    assert reader._nudge.is_set()
