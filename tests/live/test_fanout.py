"""Live at scale: a change is read and drawn once per audience, and every page is handed the same bytes.

However many pages watch a project, what one change costs the server is what it shows read
once and drawn once per audience (a role, everyone, one person); each page's share is a
queue put and a write. And a change still reaches every page of its project exactly once,
in the role it was opened with, and never another team's.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from generation.models import Render, Status
from projects.live import ChangeKind, live_publish
from projects.live.fragments import coalesce_key, draw_all
from projects.live.hub import END, KEEP_ALIVE, Hub, Message, Subscriber
from projects.live.presence import presence_join
from projects.live.stream import keep_open
from projects.models import ChangeEvent, Presence, Role
from projects.storyboard import services
from tests.live.sse import deliveries, drain

pytestmark = pytest.mark.django_db  # the hub is pumped on this thread: it sees this transaction


@pytest.fixture
def studio_hub():
    """The hub as a web process runs it (fragments, coalescing, the keep-alive), pumped by the test."""
    return Hub(draw_all, coalesce=coalesce_key, keep=keep_open, background=False)


def _open(hub, project, role, user_id, count=1):
    pages = [hub.subscribe(Subscriber(channel=("project", project.pk), role=role, user_id=user_id,
                                      client=f"{user_id}-tab-{i}", stream=f"stream-{role}-{user_id}-{i}"))
             for i in range(count)]
    hub.pump()  # the reader starts from the newest change
    return pages


def _running(scene, owner, progress=10) -> Render:
    local = scene.project.team.connections.get(kind="local")
    return Render.objects.create(scene=scene, number=1, connection=local, provider="local", model="previz-animatic-1",
                                 recipe={}, status=Status.RUNNING, progress=progress, created_by=owner)


def test_a_change_reaches_every_page_of_its_project_exactly_once_and_no_other_teams(
        studio_hub, project, make_scene, owner, editor, viewer, outsider):
    scenes = [make_scene(title=f"Scene {i}") for i in range(3)]
    rival = services.project_create(team=outsider.memberships.get().team, user=outsider, name="Rival film")
    ours = (_open(studio_hub, project, Role.OWNER, owner.pk, 3) + _open(studio_hub, project, Role.EDITOR, editor.pk, 4)
            + _open(studio_hub, project, Role.VIEWER, viewer.pk, 2))
    theirs = _open(studio_hub, rival, Role.OWNER, outsider.pk, 3)
    takes = [_running(scene, owner) for scene in scenes]

    for progress in (20, 30):  # two reads, the second with all three changes in it
        for take in takes[: 1 if progress == 20 else 3]:
            take.advance(Status.RUNNING, progress=progress)
        studio_hub.pump()

    published = list(ChangeEvent.objects.filter(kind=ChangeKind.TAKE_PROGRESS).values_list("id", flat=True))
    assert len(published) == 4
    for page in ours:
        assert sorted(message.id for message in drain(page)) == published  # each once, none lost
    for page in theirs:
        assert deliveries(page) == []


def test_pages_that_see_the_same_are_handed_the_same_bytes_drawn_once_per_role(
        studio_hub, project, scene, owner, editor, viewer):
    by_role = {Role.OWNER: _open(studio_hub, project, Role.OWNER, owner.pk, 5),
               Role.EDITOR: _open(studio_hub, project, Role.EDITOR, editor.pk, 20),
               Role.VIEWER: _open(studio_hub, project, Role.VIEWER, viewer.pk, 10)}
    draws = studio_hub.draws

    services.scene_update(scene=scene, expected_version=scene.version, user=owner, title="Dawn, wide")
    studio_hub.pump()

    assert studio_hub.draws - draws == 3  # 35 pages, three roles
    handed = {role: [deliveries(page) for page in pages] for role, pages in by_role.items()}
    for role, per_page in handed.items():
        assert all(len(got) == 1 for got in per_page)  # one piece per read
        assert len({id(got[0].data) for got in per_page}) == 1  # the very same bytes, for every page of the role
    editor_html = handed[Role.EDITOR][0][0].data.decode()
    viewer_html = handed[Role.VIEWER][0][0].data.decode()
    assert "Dawn, wide" in editor_html and "Dawn, wide" in viewer_html
    # Each role gets its own drawing: the editor's frame has the box to tick it for bulk actions (its drag
    # handle is added by board.js, on editors' boards only), the viewer's has not.
    assert 'data-testid="frame-select"' in editor_html
    assert 'data-testid="frame-select"' not in viewer_html


def test_a_presence_list_is_drawn_once_for_every_role(studio_hub, project, owner, editor, viewer):
    pages = (_open(studio_hub, project, Role.OWNER, owner.pk, 2) + _open(studio_hub, project, Role.EDITOR, editor.pk, 2)
             + _open(studio_hub, project, Role.VIEWER, viewer.pk, 2))
    draws = studio_hub.draws
    presence_join(project_id=project.pk, user_id=editor.pk, client=f"{editor.pk}-tab")
    studio_hub.pump()
    assert studio_hub.draws - draws == 1
    assert all('data-testid="present"' in drain(page)[0].data for page in pages)


def test_an_editors_cut_status_is_drawn_once_for_every_role_and_never_for_a_links_guests(
        studio_hub, project, scene, owner, editor, viewer):
    from generation.models import CutImport, CutImportStatus

    link, _ = _guest_link(project, owner, [scene])
    members = (_open(studio_hub, project, Role.OWNER, owner.pk, 2) + _open(studio_hub, project, Role.EDITOR, editor.pk, 2)
               + _open(studio_hub, project, Role.VIEWER, viewer.pk, 2))
    [guest] = _open_guests(studio_hub, project, link, 1)
    made = CutImport.objects.create(project=project, created_by=owner, filename="cut.otio",
                                    status=CutImportStatus.READING)
    draws = studio_hub.draws

    made.mark_failed("Line 3: not a timeline")
    studio_hub.pump()

    assert studio_hub.draws - draws == 2  # everyone's, and the link's (which is nothing)
    handed = [deliveries(page) for page in members]
    assert all(len(got) == 1 for got in handed) and len({id(got[0].data) for got in handed}) == 1
    assert "Line 3: not a timeline" in handed[0][0].data.decode()
    assert deliveries(guest) == []


def test_what_a_change_shows_is_read_once_however_many_roles_watch(project, scene, owner, editor, reviewer, viewer):
    take = _running(scene, owner)

    def queries_to_deliver(roles):
        hub = Hub(draw_all, coalesce=coalesce_key, background=False)
        for role, user in roles:
            _open(hub, project, role, user.pk)
        take.refresh_from_db()
        take.advance(Status.DOWNLOADING if take.status == Status.RUNNING else Status.RUNNING, progress=50)
        with CaptureQueriesContext(connection) as queries:
            assert hub.pump() == 1
        return len(queries)

    one_role = queries_to_deliver([(Role.EDITOR, editor)])
    Render.objects.filter(pk=take.pk).update(status=Status.RUNNING)
    assert queries_to_deliver([(Role.OWNER, owner), (Role.EDITOR, editor), (Role.REVIEWER, reviewer),
                               (Role.VIEWER, viewer)]) == one_role


def test_changes_read_together_fetch_their_frames_together(project, make_scene, owner, editor):
    takes = [_running(make_scene(title=f"Scene {i}"), owner) for i in range(8)]

    def queries_to_deliver(moving):
        hub = Hub(draw_all, coalesce=coalesce_key, background=False)
        page = _open(hub, project, Role.EDITOR, editor.pk)[0]
        for take in moving:
            take.refresh_from_db()
            take.advance(Status.RUNNING, progress=take.progress + 1)
        with CaptureQueriesContext(connection) as queries:
            assert hub.pump() == len(moving)
        assert len(drain(page)) == len(moving)
        return len(queries)

    assert queries_to_deliver(takes) == queries_to_deliver(takes[:1])


class _PerPerson:
    """A region that differs per person (as a presence list leaving out the viewer's own badge would)."""

    def __init__(self, event):
        self.event = event

    def audience(self, role, user_id):
        return ("person", user_id)

    def messages(self, role, user_id):
        return [Message(self.event.id, "change", f"for {user_id}")]


def test_a_region_that_differs_per_person_is_drawn_once_per_person_not_per_page(project, owner, editor):
    hub = Hub(lambda events: [_PerPerson(event) for event in events], background=False)
    owners = _open(hub, project, Role.OWNER, owner.pk, 3)
    editors = _open(hub, project, Role.EDITOR, editor.pk, 4)
    live_publish(kind=ChangeKind.PRESENCE, project=project)
    hub.pump()
    assert hub.draws == 2
    assert {drain(page)[0].data for page in owners} == {f"for {owner.pk}"}
    assert {drain(page)[0].data for page in editors} == {f"for {editor.pk}"}


def _guest_link(project, owner, scenes):
    from projects.review import guest_links

    link, token = guest_links.link_create(project=project, user=owner, label="Client", scope="scenes",
                                          scenes=scenes, days=3)
    return link, token


def _open_guests(hub, project, link, count):
    from projects.live.review_fragments import guest_role

    pages = [hub.subscribe(Subscriber(channel=("project", project.pk), role=guest_role(link.pk), user_id=0,
                                      client=f"0-guest-{link.pk}-{i}")) for i in range(count)]
    hub.pump()
    return pages


def test_each_review_links_guests_are_an_audience_of_their_own_never_a_roles(
        studio_hub, project, make_scene, finished_take, owner, editor, viewer):
    from projects.review import services as review

    dawn, storm = make_scene(title="Dawn"), make_scene(title="Storm")
    take, other = finished_take(dawn), finished_take(storm)
    dawn_link, _ = _guest_link(project, owner, [dawn])
    storm_link, _ = _guest_link(project, owner, [storm])
    editors = _open(studio_hub, project, Role.EDITOR, editor.pk, 3)
    viewers = _open(studio_hub, project, Role.VIEWER, viewer.pk, 2)
    dawn_guests = _open_guests(studio_hub, project, dawn_link, 4)
    storm_guests = _open_guests(studio_hub, project, storm_link, 3)
    draws = studio_hub.draws

    review.comment_add(take=take, author=editor, body="Team only: the sky is cheap", at=0.5)
    review.comment_add(take=take, author=editor, body="For the client: the boat", at=1, shared=True)
    review.comment_add(take=other, author=editor, body="Storm, shared", at=1, shared=True)
    studio_hub.pump()

    # Three changes, each drawn once for the editors, once for the viewers and once per link watching.
    assert studio_hub.draws - draws == 3 * 4
    handed = [deliveries(page) for page in dawn_guests]
    assert all(len(got) == 1 for got in handed) and len({id(got[0].data) for got in handed}) == 1
    dawn_html = handed[0][0].data.decode()
    assert "For the client: the boat" in dawn_html
    for hidden in ("Team only", "Storm, shared", 'id="frame-', 'id="presence"', "review-status"):
        assert hidden not in dawn_html, hidden
    storm_html = b"".join(d.data for d in deliveries(storm_guests[0])).decode()
    assert "Storm, shared" in storm_html and "the boat" not in storm_html and "Team only" not in storm_html
    # The members' pages get the frames and every thread, never a guest's drawing (its token slot).
    member_html = b"".join(d.data for d in deliveries(editors[0])).decode()
    assert "Team only: the sky is cheap" in member_html and 'id="frame-' in member_html
    assert "__token__" not in member_html
    assert all(deliveries(page) for page in editors[1:] + viewers + storm_guests[1:])


def test_a_guests_page_is_handed_no_presence_no_reorder_and_no_ones_bell(
        studio_hub, project, make_scene, finished_take, owner, editor):
    from projects.review import services as review

    dawn, storm = make_scene(title="Dawn"), make_scene(title="Storm")
    take = finished_take(dawn)
    link, _ = _guest_link(project, owner, [dawn])
    [guest] = _open_guests(studio_hub, project, link, 1)
    [board] = _open(studio_hub, project, Role.EDITOR, editor.pk)

    presence_join(project_id=project.pk, user_id=editor.pk, client=board.client, stream=board.stream)
    services.scene_reorder(project=project, user=owner, scene_ids=[storm.pk, dawn.pk])
    review.comment_add(take=take, author=owner, body="@eddie look at the mist", at=1)  # rings Eddie's bell
    live_publish(kind=ChangeKind.NOTIFICATION, team_id=project.team_id, recipient_id=editor.pk)
    studio_hub.pump()

    assert deliveries(guest) == []
    assert {m.event for m in drain(board)} >= {"change", "order"}


def test_what_a_review_change_shows_is_read_once_however_many_roles_and_links_watch(
        project, scene, finished_take, owner, editor, reviewer, viewer):
    from projects.review import services as review

    take = finished_take(scene)
    first = review.comment_add(take=take, author=editor, body="Horizon tilts", at=1, shared=True)
    link, _ = _guest_link(project, owner, [scene])

    def queries_to_deliver(roles, guests=0):
        hub = Hub(draw_all, coalesce=coalesce_key, background=False)
        for role, user in roles:
            _open(hub, project, role, user.pk)
        _open_guests(hub, project, link, guests)
        review.comment_reply(parent=first, author=reviewer, body="Fixed in the next take", shared=True)
        review.take_request_changes(take=take, user=reviewer, note="Thinner mist", at=1)
        with CaptureQueriesContext(connection) as queries:
            assert hub.pump() >= 2
        return len(queries)

    one_role = queries_to_deliver([(Role.EDITOR, editor)])
    every_role = queries_to_deliver([(Role.OWNER, owner), (Role.EDITOR, editor), (Role.REVIEWER, reviewer),
                                     (Role.VIEWER, viewer)])
    assert every_role == one_role
    # A link's guests are drawn by what the link shows: a few queries for the link, not for each of its pages.
    assert queries_to_deliver([(Role.EDITOR, editor)], guests=1) == queries_to_deliver([(Role.EDITOR, editor)],
                                                                                        guests=20)


# --- the keep-alive: every open page at once ----------------------------------------------------


def test_the_keep_alive_ends_the_stream_of_a_member_who_left_and_keeps_the_others_present(
        studio_hub, project, team, owner, editor):
    owners = _open(studio_hub, project, Role.OWNER, owner.pk, 2)
    [eddies] = _open(studio_hub, project, Role.EDITOR, editor.pk)
    for page in owners + [eddies]:
        presence_join(project_id=project.pk, user_id=page.user_id, client=page.client, stream=page.stream)
    Presence.objects.update(seen_at=timezone.now() - timedelta(seconds=30))
    team.memberships.filter(user=editor).delete()
    studio_hub.pump()
    for page in owners + [eddies]:
        deliveries(page)

    assert studio_hub.beat() == 1
    assert deliveries(eddies) == [END]
    assert all(deliveries(page) == [KEEP_ALIVE] for page in owners)
    fresh = timezone.now() - timedelta(seconds=5)
    assert Presence.objects.filter(user=owner, seen_at__gte=fresh).count() == 2


def test_a_member_whose_role_changed_is_reconnected_to_see_as_they_now_may(studio_hub, project, team, editor):
    [page] = _open(studio_hub, project, Role.EDITOR, editor.pk)
    team.memberships.filter(user=editor).update(role=Role.VIEWER)
    studio_hub.beat()
    assert deliveries(page) == [END]  # the browser reconnects at once, as a viewer


def test_the_keep_alive_of_every_open_page_costs_a_few_queries_however_many(studio_hub, project, make_member, team):
    def queries_to_beat():
        with CaptureQueriesContext(connection) as queries:
            studio_hub.beat()
        return len(queries)

    first = make_member(team, Role.EDITOR, "first")
    [page] = _open(studio_hub, project, Role.EDITOR, first.pk)
    presence_join(project_id=project.pk, user_id=first.pk, client=page.client, stream=page.stream)
    one = queries_to_beat()
    for i in range(30):
        member = make_member(team, Role.EDITOR if i % 2 else Role.VIEWER, f"member{i}")
        for page in _open(studio_hub, project, Role.EDITOR if i % 2 else Role.VIEWER, member.pk, 2):
            presence_join(project_id=project.pk, user_id=member.pk, client=page.client, stream=page.stream)
    assert queries_to_beat() == one


def test_a_page_swept_from_presence_while_busy_is_present_again_after_the_keep_alive(studio_hub, project, editor):
    [page] = _open(studio_hub, project, Role.EDITOR, editor.pk)
    Presence.objects.all().delete()  # a sweep took the row of a page that was alive
    before = ChangeEvent.objects.filter(kind=ChangeKind.PRESENCE).count()
    studio_hub.beat()
    assert Presence.objects.filter(user=editor, stream=page.stream).exists()
    assert ChangeEvent.objects.filter(kind=ChangeKind.PRESENCE).count() == before + 1  # the boards are told


def test_the_keep_alive_keeps_a_guests_page_while_its_link_works_and_never_makes_it_present(
        studio_hub, project, scene, owner, editor):
    from projects.review import guest_links

    kept_link, _ = _guest_link(project, owner, [scene])
    revoked_link, _ = _guest_link(project, owner, [scene])
    kept = _open_guests(studio_hub, project, kept_link, 3)
    revoked = _open_guests(studio_hub, project, revoked_link, 2)
    [board] = _open(studio_hub, project, Role.EDITOR, editor.pk)
    guest_links.link_revoke(link=revoked_link, user=owner)
    for page in kept + revoked + [board]:
        deliveries(page)

    assert studio_hub.beat() == 2
    assert all(deliveries(page) == [KEEP_ALIVE] for page in kept + [board])
    assert all(deliveries(page) == [END] for page in revoked)
    assert not Presence.objects.filter(user_id__isnull=True).exists()
    assert set(Presence.objects.values_list("user_id", flat=True)) == {editor.pk}


def test_the_keep_alive_of_guests_pages_costs_a_few_queries_however_many_links(studio_hub, project, scene, owner):
    def queries_to_beat():
        with CaptureQueriesContext(connection) as queries:
            studio_hub.beat()
        return len(queries)

    _open_guests(studio_hub, project, _guest_link(project, owner, [scene])[0], 1)
    one = queries_to_beat()
    for _ in range(10):
        _open_guests(studio_hub, project, _guest_link(project, owner, [scene])[0], 3)
    assert queries_to_beat() == one


# --- what an open stream holds, through the ASGI handler ------------------------------------------


def _stream_scope(path: str, cookie: str, i: int) -> dict:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
            "path": path, "raw_path": path.encode(),
            "query_string": f"client=00000000-0000-4000-8000-{i:012d}".encode(), "root_path": "",
            "headers": [(b"host", b"testserver"), (b"cookie", f"sessionid={cookie}".encode()),
                        (b"accept", b"text/event-stream")],
            "client": ("127.0.0.1", 40000 + i), "server": ("testserver", 80)}


def _open_streams(path: str, cookie: str, count: int, while_open):
    """Open `count` streams through Django's ASGI handler, call while_open() once every one has
    started, then let them go; returns what while_open returned. The event loop runs on a thread
    of its own, as under uvicorn (not below an async_to_sync, whose thread would run every
    request's synchronous parts)."""
    import asyncio
    import threading

    from django.core.handlers.asgi import ASGIHandler

    application = ASGIHandler()

    async def main():
        leave = asyncio.Event()
        started = [asyncio.Event() for _ in range(count)]

        async def one(i):
            asked = False

            async def receive():
                nonlocal asked
                if not asked:
                    asked = True
                    return {"type": "http.request", "body": b"", "more_body": False}
                await leave.wait()
                return {"type": "http.disconnect"}

            async def send(message):
                if message["type"] == "http.response.body" and b"retry:" in message.get("body", b""):
                    started[i].set()

            await application(_stream_scope(path, cookie, i), receive, send)

        streams = [asyncio.create_task(one(i)) for i in range(count)]
        await asyncio.wait_for(asyncio.gather(*(event.wait() for event in started)), 30)
        await asyncio.sleep(0.3)  # each past its opening
        seen = while_open()
        leave.set()
        await asyncio.wait_for(asyncio.gather(*streams, return_exceptions=True), 30)
        return seen

    result = []
    server = threading.Thread(target=lambda: result.append(asyncio.run(main())))
    server.start()
    server.join(90)
    return result[0]


def _member_stream(client, editor, project) -> str:
    client.force_login(editor)
    return f"/projects/{project.pk}/events/"


def _guest_stream(client, editor, project) -> str:
    from django.urls import reverse

    owner = project.team.memberships.get(role=Role.OWNER).user
    scene = services.scene_create(project=project, user=owner, title="Dawn", prompt="A harbour", duration=2,
                                  size="1280x720", camera_notes="")
    _link, token = _guest_link(project, owner, [scene])
    client.post(reverse("projects:guest_review", args=[token]), {"action": "name", "name": "Grace"})
    return reverse("projects:guest_events", args=[token])


@pytest.mark.parametrize("page", [_member_stream, _guest_stream], ids=["member", "guest"])
@pytest.mark.django_db(transaction=True)
def test_an_open_stream_holds_no_thread_and_no_database_connection_of_its_own(settings, client, editor, owner,
                                                                              project, page):
    import threading

    from django.db.backends.signals import connection_created

    settings.LIVE_STREAM_MAX_SECONDS = 60
    path = page(client, editor, project)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    opened = []
    connection_created.connect(lambda sender, connection, **kw: opened.append(connection), weak=False,
                               dispatch_uid="test-open-connections")

    def request_threads() -> int:
        # Django runs each request's synchronous parts on a thread of its own (asgiref names them so).
        return sum(thread.name.startswith("ThreadPoolExecutor-") and thread.is_alive()
                   for thread in threading.enumerate())

    try:
        before = request_threads()
        threads, connections = _open_streams(path, cookie, 8, lambda: (
            request_threads(), sum(wrapper.connection is not None for wrapper in opened)))
    finally:
        connection_created.disconnect(dispatch_uid="test-open-connections")
    # Eight pages open: no thread and no connection each (a PostgreSQL server allows a few hundred).
    assert threads - before < 4
    assert connections <= 2  # the live reader's, and at most one step's


@pytest.mark.django_db(transaction=True)
def test_an_open_stream_ends_within_a_keep_alive_of_its_member_leaving_the_team(settings, client_for, editor, team,
                                                                                 project):
    import time

    from django.urls import reverse

    settings.LIVE_KEEPALIVE_SECONDS = 0.2
    settings.LIVE_STREAM_MAX_SECONDS = 30
    response = client_for(editor).get(reverse("projects:project_events", args=[project.pk]))
    chunks = iter(response.streaming_content)
    assert next(chunks).startswith(b"retry:")
    team.memberships.filter(user=editor).delete()
    left = time.monotonic()
    for _chunk in chunks:  # until the stream's end: the reader's next keep-alive found them gone
        pass
    assert time.monotonic() - left < 10
