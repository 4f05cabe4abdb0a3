"""A review room on a take: one presenter, whose player everyone in the room follows over the live channel.

The room's state lives on the server (a late joiner starts where the room is); the presenter's events are numbered
(a stale one changes nothing) and rate-limited; anyone in the room may take the lead; a comment made in the room
without a moment lands at the moment everyone is at."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.urls import reverse

from projects.live.fragments import coalesce_key, draw_all
from projects.live.hub import Hub, Subscriber
from projects.live.review_fragments import guest_role
from projects.models import ChangeEvent, ChangeKind, Comment, ReviewRoom, Role
from projects.review import guest_links, rooms
from tests.live.sse import drain

pytestmark = pytest.mark.django_db


@pytest.fixture
def take(scene, finished_take):
    return finished_take(scene)


@pytest.fixture
def room(take, reviewer):
    return rooms.room_open(take=take, user=reviewer)


def move(client, room, **state):
    return client.post(reverse("projects:room_state", args=[room.pk]), {"playing": "0", **state})


def page_state(response) -> dict:
    found = re.search(r'data-room-state="([^"]*)"', response.content.decode())
    assert found, "the page carries no room state"
    return json.loads(found.group(1).replace("&quot;", '"'))


def test_a_second_click_or_a_teammate_joins_the_open_room_instead_of_opening_another(client_for, take, reviewer, editor):
    first = client_for(reviewer).post(reverse("projects:room_open", args=[take.pk]))
    room = ReviewRoom.objects.get()
    assert first.url == reverse("projects:review_room", args=[room.pk])
    second = client_for(editor).post(reverse("projects:room_open", args=[take.pk]))
    assert second.url == first.url
    assert ReviewRoom.objects.count() == 1
    assert ReviewRoom.objects.get().presenter == reviewer


def test_the_takes_page_offers_to_open_a_room_then_to_join_it(client_for, take, reviewer, viewer):
    page = client_for(reviewer).get(reverse("projects:take_review", args=[take.pk])).content.decode()
    assert 'data-testid="room-open"' in page
    room = rooms.room_open(take=take, user=reviewer)
    page = client_for(viewer).get(reverse("projects:take_review", args=[take.pk])).content.decode()
    assert reverse("projects:review_room", args=[room.pk]) in page and 'data-testid="room-open"' not in page


def test_a_viewer_may_join_a_room_but_not_open_one(client_for, take, room, viewer):
    assert client_for(viewer).post(reverse("projects:room_open", args=[take.pk])).status_code == 403
    assert client_for(viewer).get(reverse("projects:review_room", args=[room.pk])).status_code == 200


def test_the_presenters_move_is_kept_and_told_to_the_room_over_the_live_channel(client_for, room, reviewer):
    response = move(client_for(reviewer), room, seq="1", position="1.25", playing="1")
    assert response.status_code == 204
    room.refresh_from_db()
    assert (room.seq, room.position, room.playing) == (1, 1.25, True)
    change = ChangeEvent.objects.filter(kind=ChangeKind.ROOM_CHANGED).latest("id")
    assert change.data | {"updated_at": 0} == {"room": room.pk, "take": room.take_id, "seq": 1, "position": 1.25,
                                               "playing": True, "rate": 1.0, "drawing": [], "presenter": reviewer.pk, "closed": False,
                                               "presenter_name": "rita", "updated_at": 0, "other_take": 0, "mode": "",
                                               "kind": "take", "scene": 0}


def test_a_stale_event_changes_nothing(client_for, room, reviewer):
    client = client_for(reviewer)
    move(client, room, seq="5", position="1.5")
    before = ChangeEvent.objects.count()
    late = move(client, room, seq="4", position="0.25", playing="1")
    again = move(client, room, seq="5", position="0.5")
    assert late.status_code == again.status_code == 204
    assert late["X-Room-Stale"] == again["X-Room-Stale"] == "1"
    room.refresh_from_db()
    assert (room.seq, room.position, room.playing) == (5, 1.5, False)
    assert ChangeEvent.objects.count() == before  # nothing told to the room either


def test_only_the_presenter_moves_the_room(client_for, room, editor):
    response = move(client_for(editor), room, seq="1", position="1.0")
    assert response.status_code == 409
    assert "Someone else leads the room now." in response.content.decode()
    room.refresh_from_db()
    assert (room.seq, room.position) == (0, 0.0)


def test_anyone_may_take_the_lead_from_where_the_room_is_and_the_former_presenter_no_longer_moves_it(
        client_for, room, reviewer, editor, client):
    move(client_for(reviewer), room, seq="3", position="1.5")
    response = client_for(editor).post(reverse("projects:room_lead", args=[room.pk]), headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert page_state(response)["presenter"] == editor.pk
    room.refresh_from_db()
    assert (room.presenter, room.seq, room.position) == (editor, 4, 1.5)
    # Rita's event still on its way (numbered after her last) is hers no longer to make.
    assert move(client_for(reviewer), room, seq="4", position="0.1").status_code == 409
    assert move(client_for(editor), room, seq="5", position="0.5").status_code == 204
    room.refresh_from_db()
    assert (room.presenter, room.position) == (editor, 0.5)


def test_taking_the_lead_of_a_playing_room_starts_from_the_moment_it_reached(room, editor):
    ReviewRoom.objects.filter(pk=room.pk).update(position=0.5, playing=True,
                                                 updated_at=room.updated_at - timedelta(seconds=1))
    room = rooms.room_take_lead(room=room, user=editor)
    assert room.position == pytest.approx(1.5, abs=0.2)
    assert room.playing


def test_a_room_played_at_twice_the_speed_moves_two_seconds_a_second(client_for, room, reviewer, editor,
                                                                     monkeypatch):
    assert move(client_for(reviewer), room, seq="1", position="0.25", playing="1", rate="2").status_code == 204
    room.refresh_from_db()
    assert room.shared_time(now=room.updated_at + timedelta(seconds=0.5)) == pytest.approx(1.25)
    # A late joiner is told the speed, and taking the lead starts from the moment the room reached at it.
    assert page_state(client_for(editor).get(reverse("projects:review_room", args=[room.pk])))["rate"] == 2.0
    half_a_second_later = room.updated_at + timedelta(seconds=0.5)
    monkeypatch.setattr(rooms.timezone, "now", lambda: half_a_second_later)
    room = rooms.room_take_lead(room=room, user=editor)
    assert room.position == pytest.approx(1.25)
    monkeypatch.undo()
    # A move that does not say its speed keeps the room's.
    move(client_for(editor), room, seq=str(room.seq + 1), position="0.25")
    room.refresh_from_db()
    assert room.rate == 2.0


@pytest.mark.parametrize("rate", ["0", "-1", "8", "nan", "inf", "fast", ""])
def test_it_refuses_a_playback_speed_no_player_has_with_a_message(client_for, room, reviewer, rate):
    response = move(client_for(reviewer), room, seq="1", position="1", rate=rate)
    assert response.status_code == 422
    assert "A playback speed is between 0.25× and 4×." in response.content.decode()
    room.refresh_from_db()
    assert (room.seq, room.rate) == (0, 1.0)


@pytest.mark.parametrize("state", [
    {"seq": "1", "position": "nan"}, {"seq": "1", "position": "inf"}, {"seq": "1", "position": "-1"},
    {"seq": "1", "position": "1e999"}, {"seq": "0", "position": "1"}, {"seq": "abc", "position": "1"},
    {"seq": "99999999999999999999", "position": "1"}, {"seq": "1", "position": "1", "playing": "maybe"},
    {"seq": "1", "position": "1", "playing": "\x00"}, {},
])
def test_it_refuses_a_player_state_it_cannot_read_with_a_message(client_for, room, reviewer, state):
    response = client_for(reviewer).post(reverse("projects:room_state", args=[room.pk]), {"playing": "0", **state})
    assert response.status_code == 422
    assert response.content.decode().strip()
    room.refresh_from_db()
    assert room.seq == 0


def test_a_moment_past_the_end_is_the_end(client_for, room, reviewer, take):
    move(client_for(reviewer), room, seq="1", position="9999")
    room.refresh_from_db()
    assert room.position == pytest.approx(take.duration_seconds)


def test_it_refuses_more_than_twenty_events_a_second(client_for, room, reviewer, monkeypatch):
    monkeypatch.setattr("projects.throttle.time.time", lambda: 1_800_000_000.5)  # all within one second
    client = client_for(reviewer)
    answers = [move(client, room, seq=str(n), position="0.5").status_code for n in range(1, 23)]
    assert answers[:rooms.EVENTS_PER_SECOND] == [204] * rooms.EVENTS_PER_SECOND
    assert answers[rooms.EVENTS_PER_SECOND:] == [429, 429]
    room.refresh_from_db()
    assert room.seq == rooms.EVENTS_PER_SECOND


def test_a_late_joiner_gets_the_rooms_state_and_the_servers_clock(client_for, room, reviewer, editor):
    move(client_for(reviewer), room, seq="2", position="1.25", playing="1")
    response = client_for(editor).get(reverse("projects:review_room", args=[room.pk]))
    state = page_state(response)
    assert (state["seq"], state["position"], state["playing"], state["presenter"]) == (2, 1.25, True, reviewer.pk)
    assert "Following rita" in response.content.decode()
    assert 'data-server-now="' in response.content.decode()


def test_a_comment_made_in_the_room_without_a_moment_lands_where_the_room_is(client_for, room, reviewer, editor, take):
    move(client_for(reviewer), room, seq="1", position="1.5")
    client_for(editor).post(reverse("projects:comment_create", args=[take.pk]),
                            {"body": "The gull is late", "at": "", "room": str(room.pk)})
    assert Comment.objects.get(body="The gull is late").at_seconds == 1.5
    # A moment typed is the one kept; another take's room is no moment of this take.
    client_for(editor).post(reverse("projects:comment_create", args=[take.pk]),
                            {"body": "Typed", "at": "0.5", "room": str(room.pk)})
    assert Comment.objects.get(body="Typed").at_seconds == 0.5


def test_a_room_on_another_take_gives_a_comment_no_moment(client_for, room, scene, finished_take, editor):
    other = finished_take(scene)
    client_for(editor).post(reverse("projects:comment_create", args=[other.pk]),
                            {"body": "Elsewhere", "at": "", "room": str(room.pk)})
    assert Comment.objects.get(body="Elsewhere").at_seconds is None


def test_an_ended_room_sends_its_page_back_to_the_take_and_moves_no_more(client_for, room, reviewer, take):
    client = client_for(reviewer)
    assert client.post(reverse("projects:room_close", args=[room.pk])).status_code == 302
    response = client.get(reverse("projects:review_room", args=[room.pk]))
    assert response.url == reverse("projects:take_review", args=[take.pk])
    assert move(client, room, seq="1", position="1").status_code == 409
    assert ChangeEvent.objects.filter(kind=ChangeKind.ROOM_CHANGED).latest("id").data["closed"] is True


def test_another_teams_user_finds_no_room(client_for, room, outsider, take):
    client = client_for(outsider)
    for method, name in (("get", "review_room"), ("post", "room_state"), ("post", "room_lead"), ("post", "room_close")):
        assert getattr(client, method)(reverse(f"projects:{name}", args=[room.pk])).status_code == 404
    assert client.post(reverse("projects:room_open", args=[take.pk])).status_code == 404
    room.refresh_from_db()
    assert room.presenter_id != outsider.pk and room.is_open


# --- over the live channel -------------------------------------------------------------------------

@pytest.fixture
def watching():
    hub = Hub(draw_all, coalesce=coalesce_key, background=False)

    def watch(project, role=Role.REVIEWER):
        page = hub.subscribe(Subscriber(channel=("project", project.pk), role=role, user_id=0))
        hub.pump()

        def received() -> list[str]:
            hub.pump()
            return [message.data for message in drain(page)]

        return received

    return watch


def test_every_page_in_the_room_gets_the_newest_state_once(watching, project, room, reviewer):
    as_reviewer, as_viewer = watching(project), watching(project, Role.VIEWER)
    for seq, position in ((1, 0.5), (2, 0.75), (3, 1.0)):
        rooms.room_update(room=room, user=reviewer, seq=seq, position=position, playing=False)
    [html] = as_reviewer()
    assert as_viewer() == [html]  # the same bytes for every role
    assert f'id="room-state-{room.pk}"' in html and 'hx-swap-oob="outerHTML"' in html
    assert '&quot;seq&quot;: 3' in html and '&quot;position&quot;: 1.0' in html  # read together: the newest only
    assert "Following rita" in html


def test_a_guest_of_a_link_showing_the_take_follows_the_room_without_the_presenters_name(
        watching, project, scene, room, reviewer, owner, make_scene):
    shows = guest_links.link_create(project=project, user=owner, label="Client", scope="scenes", scenes=[scene])[0]
    other_scene = make_scene(title="Night")
    elsewhere = guest_links.link_create(project=project, user=owner, label="Other", scope="scenes",
                                        scenes=[other_scene])[0]
    as_guest, as_other = watching(project, guest_role(shows.pk)), watching(project, guest_role(elsewhere.pk))
    rooms.room_update(room=room, user=reviewer, seq=1, position=0.5, playing=True)
    [html] = as_guest()
    assert f'id="room-state-{room.pk}"' in html and "rita" not in html
    assert as_other() == []


# --- guests of a review link -------------------------------------------------------------------------

@pytest.fixture
def shared(project, owner, scene, make_scene, finished_take, take, reviewer):
    """A link sharing the first scene; a room on its take, and one on a take of a scene the link does not share."""
    other = finished_take(make_scene(title="Secret ending"))
    link, token = guest_links.link_create(project=project, user=owner, label="Client", scope="scenes",
                                          scenes=[scene], days=3)
    return {"link": link, "token": token, "room": rooms.room_open(take=take, user=reviewer),
            "hidden": rooms.room_open(take=other, user=reviewer)}


def _enter(client, token, name="Grace"):
    client.post(reverse("projects:guest_review", args=[token]), {"action": "name", "name": name})
    return client.get(reverse("projects:guest_review", args=[token]))


def test_a_guest_joins_only_a_room_on_what_their_link_shares(client, shared, reviewer):
    token, room, hidden = shared["token"], shared["room"], shared["hidden"]
    page = _enter(client, token).content.decode()
    assert reverse("projects:guest_room", args=[token, room.pk]) in page  # offered on the take it shows
    assert reverse("projects:guest_room", args=[token, hidden.pk]) not in page
    rooms.room_update(room=room, user=reviewer, seq=1, position=1.5, playing=False)
    response = client.get(reverse("projects:guest_room", args=[token, room.pk]))
    assert response.status_code == 200
    state = page_state(response)
    assert (state["position"], state["presenter"]) == (1.5, reviewer.pk)
    body = response.content.decode()
    assert "Following the presenter" in body and "rita" not in body  # the team's names stay with the team
    assert 'data-testid="take-lead"' not in body and "Secret ending" not in body
    # A room on a take the link does not show, or of another project, is not there for this guest.
    assert client.get(reverse("projects:guest_room", args=[token, hidden.pk])).status_code == 404
    assert client.get(reverse("projects:guest_room", args=[token, 999999])).status_code == 404


def test_a_guest_enters_the_link_before_the_room_and_a_revoked_link_has_no_room(client, shared, owner):
    token, room = shared["token"], shared["room"]
    response = client.get(reverse("projects:guest_room", args=[token, room.pk]))
    assert response.status_code == 302 and response.url == reverse("projects:guest_review", args=[token])
    _enter(client, token)
    guest_links.link_revoke(link=shared["link"], user=owner)
    assert client.get(reverse("projects:guest_room", args=[token, room.pk])).status_code == 404


def test_a_guests_comment_in_the_room_lands_where_the_room_is_and_the_guest_stays_in_the_room(
        client, shared, reviewer, take):
    token, room = shared["token"], shared["room"]
    _enter(client, token)
    rooms.room_update(room=room, user=reviewer, seq=1, position=0.75, playing=False)
    response = client.post(reverse("projects:guest_comment", args=[token, take.pk]),
                           {"body": "Lovely light", "at": "", "room": str(room.pk)})
    assert response.url == reverse("projects:guest_room", args=[token, room.pk])
    comment = Comment.objects.get(body="Lovely light")
    assert (comment.at_seconds, comment.guest_name) == (0.75, "Grace")
    # The hidden take's room gives a comment on this take no moment.
    client.post(reverse("projects:guest_comment", args=[token, take.pk]),
                {"body": "Elsewhere", "at": "", "room": str(shared["hidden"].pk)})
    assert Comment.objects.get(body="Elsewhere").at_seconds is None


# --- the presenter switches takes ------------------------------------------------------------------------

def test_the_presenter_switches_the_room_to_another_take_at_its_start(client_for, room, reviewer, scene,
                                                                       finished_take):
    second = finished_take(scene)
    move(client_for(reviewer), room, seq="2", position="1.5", playing="1")
    response = client_for(reviewer).post(reverse("projects:room_take", args=[room.pk]), {"take": str(second.pk)})
    assert response.url == reverse("projects:review_room", args=[room.pk])
    room.refresh_from_db()
    assert (room.take, room.seq, room.position, room.playing) == (second, 3, 0.0, False)
    change = ChangeEvent.objects.filter(kind=ChangeKind.ROOM_CHANGED).latest("id")
    assert (change.data["take"], change.take_id) == (second.pk, second.pk)
    page = client_for(reviewer).get(reverse("projects:review_room", args=[room.pk]))
    assert page.context["take"] == second and page_state(page)["take"] == second.pk


def test_only_the_presenter_switches_takes_and_only_to_a_finished_take_of_the_project(
        client_for, room, editor, reviewer, scene, finished_take, take):
    second = finished_take(scene)
    client_for(editor).post(reverse("projects:room_take", args=[room.pk]), {"take": str(second.pk)})
    room.refresh_from_db()
    assert room.take == take  # Eddie follows; he has not taken the lead
    for bad in ("", "abc", "-1", "99999999999999999999"):
        client_for(reviewer).post(reverse("projects:room_take", args=[room.pk]), {"take": bad})
    room.refresh_from_db()
    assert room.take == take and room.seq == 0


def test_a_take_of_another_team_is_not_found(client_for, room, reviewer, outsider, make_scene, finished_take):
    from projects.storyboard import services

    theirs = services.project_create(team=outsider.memberships.get().team, user=outsider, name="Rival")
    their_take = finished_take(make_scene(project=theirs, title="Rival dawn"))
    response = client_for(reviewer).post(reverse("projects:room_take", args=[room.pk]), {"take": str(their_take.pk)})
    assert response.status_code == 404
    room.refresh_from_db()
    assert room.take_id != their_take.pk


# --- The presenter's drawing on the paused frame, shown to the room -------------------------------------------------

ARROW = [{"kind": "arrow", "color": "#e53935", "points": [[0.1, 0.2], [0.5, 0.6]]}]


def test_the_presenters_drawing_is_the_rooms_and_every_page_is_told_it(client_for, room, reviewer, editor):
    response = move(client_for(reviewer), room, seq="1", position="1.5", drawing=json.dumps(ARROW))
    assert response.status_code == 204
    room.refresh_from_db()
    assert room.drawing == ARROW
    assert ChangeEvent.objects.filter(kind=ChangeKind.ROOM_CHANGED).latest("id").data["drawing"] == ARROW
    # A late joiner sees it over the paused frame too.
    assert page_state(client_for(editor).get(reverse("projects:review_room", args=[room.pk])))["drawing"] == ARROW


def test_a_move_without_a_drawing_keeps_it_and_an_empty_one_clears_it(client_for, room, reviewer):
    client = client_for(reviewer)
    move(client, room, seq="1", position="1.5", drawing=json.dumps(ARROW))
    move(client, room, seq="2", position="1.75")
    room.refresh_from_db()
    assert room.drawing == ARROW
    move(client, room, seq="3", position="1.75", drawing="")
    room.refresh_from_db()
    assert room.drawing == []


def test_playing_on_clears_the_drawing(client_for, room, reviewer):
    client = client_for(reviewer)
    move(client, room, seq="1", position="1.5", drawing=json.dumps(ARROW))
    move(client, room, seq="2", position="1.5", playing="1", drawing=json.dumps(ARROW))
    room.refresh_from_db()
    assert room.drawing == [] and room.playing


def test_switching_takes_clears_the_drawing(client_for, room, reviewer, scene, finished_take):
    move(client_for(reviewer), room, seq="1", position="1.5", drawing=json.dumps(ARROW))
    rooms.room_switch_take(room=room, user=reviewer, take=finished_take(scene))
    room.refresh_from_db()
    assert room.drawing == []


def test_a_stale_drawing_changes_nothing(client_for, room, reviewer):
    client = client_for(reviewer)
    move(client, room, seq="5", position="1.5", drawing=json.dumps(ARROW))
    response = move(client, room, seq="4", position="1.5", drawing="")
    assert response.status_code == 204 and response["X-Room-Stale"] == "1"
    room.refresh_from_db()
    assert room.drawing == ARROW


@pytest.mark.parametrize(("drawing", "says"), [
    ("not json", "not valid JSON"),
    (json.dumps([{"kind": "arrow", "color": "#123456", "points": [[0, 0], [1, 1]]}]), "outside the palette"),
    (json.dumps([{"kind": "rect", "color": "#e53935", "points": [[0, 0], [2, 1]]}]), "outside the frame"),
    (json.dumps({"kind": "pen"}), "list of shapes"),
    (json.dumps([{"kind": "pen", "color": "#e53935", "points": [[0.5, 0.5, 0.5]] * 3000}]), "too large"),
])
def test_it_refuses_a_drawing_too_big_or_malformed_with_a_message_and_keeps_the_room_as_it_was(
        client_for, room, reviewer, drawing, says):
    client = client_for(reviewer)
    move(client, room, seq="1", position="1.5", drawing=json.dumps(ARROW))
    response = move(client, room, seq="2", position="2.0", drawing=drawing)
    assert response.status_code == 422
    assert says in response.content.decode()
    room.refresh_from_db()
    assert (room.seq, room.position, room.drawing) == (1, 1.5, ARROW)


def test_only_the_presenter_draws_for_the_room(client_for, room, editor):
    response = move(client_for(editor), room, seq="9", position="1.5", drawing=json.dumps(ARROW))
    assert response.status_code == 409
    room.refresh_from_db()
    assert room.drawing == []
