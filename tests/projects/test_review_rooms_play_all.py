"""A review room on Play all: everyone's sequence follows the presenter's, which scene is playing and the moment in
it, play and pause. The same room, state and live channel as a room on one take (tests/projects/test_review_rooms.py);
a guest of a review link never gets one (no link shows Play all)."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from projects.live.fragments import coalesce_key, draw_all
from projects.live.hub import Hub, Subscriber
from projects.live.review_fragments import guest_role
from projects.models import ReviewRoom, Role
from projects.review import guest_links, rooms
from projects.storyboard import services as storyboard
from projects.storyboard.trash import scene_trash
from tests.live.sse import drain

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_scenes(make_scene, finished_take):
    """Dawn (a take, not approved: Play all plays its newest) then Storm (nothing filmed: a card)."""
    dawn, storm = make_scene(title="Dawn", duration=2), make_scene(title="Storm", duration=3)
    finished_take(dawn)
    return dawn, storm


@pytest.fixture
def other_team_scene(make_team, make_user):
    olga = make_user("olga")
    rival = storyboard.project_create(team=make_team("Rival Pictures", owner=olga), user=olga, name="Their story")
    return storyboard.scene_create(project=rival, user=olga, title="Theirs", prompt="A rival's shot.", duration=2,
                                   size="1280x720", camera_notes="")


@pytest.fixture
def play_all_room(project, reviewer, two_scenes):
    return rooms.room_open_play_all(project=project, user=reviewer)


def cut_url(project) -> str:
    return reverse("projects:project_cut", args=[project.pk])


def open_room(client, project):
    return client.post(reverse("projects:play_all_room_open", args=[project.pk]))


def move(client, room, **fields):
    return client.post(reverse("projects:room_state", args=[room.pk]), {"seq": "1", "position": "0", "playing": "0",
                                                                         **fields})


def page_state(response) -> dict:
    found = re.search(r'data-room-state="([^"]*)"', response.content.decode())
    assert found, "the page carries no room state"
    return json.loads(found.group(1).replace("&quot;", '"'))


def test_it_opens_a_room_on_play_all_and_a_teammate_joins_it_instead_of_opening_another(
        client_for, project, two_scenes, reviewer, editor):
    first = open_room(client_for(reviewer), project)
    room = ReviewRoom.objects.get()
    assert first.url == reverse("projects:review_room", args=[room.pk])
    assert (room.kind, room.take, room.scene, room.presenter) == (ReviewRoom.Kind.PLAY_ALL, None, None, reviewer)
    assert open_room(client_for(editor), project).url == first.url
    assert ReviewRoom.objects.count() == 1


def test_play_all_offers_to_open_a_room_then_to_join_it(client_for, project, two_scenes, reviewer, viewer):
    page = client_for(reviewer).get(cut_url(project)).content.decode()
    assert 'data-testid="room-open"' in page and 'data-testid="room-join"' not in page
    room = rooms.room_open_play_all(project=project, user=reviewer)
    page = client_for(viewer).get(cut_url(project)).content.decode()
    assert reverse("projects:review_room", args=[room.pk]) in page and 'data-testid="room-join"' in page
    # A take's page offers no room on Play all: a room there would be on that take alone.
    take = two_scenes[0].renders.get()
    assert 'data-testid="room-join"' not in client_for(viewer).get(
        reverse("projects:take_review", args=[take.pk])).content.decode()


def test_a_viewer_may_join_a_room_on_play_all_but_not_open_one(client_for, project, two_scenes, viewer):
    assert open_room(client_for(viewer), project).status_code == 403
    assert 'data-testid="room-open"' not in client_for(viewer).get(cut_url(project)).content.decode()
    assert not ReviewRoom.objects.exists()


def test_the_rooms_page_is_play_all_at_the_presenters_scene_and_moment(
        client_for, play_all_room, two_scenes, reviewer, viewer):
    storm = two_scenes[1]
    rooms.room_update(room=play_all_room, user=reviewer, seq=1, position=1.25, playing=False, scene=str(storm.pk))
    response = client_for(viewer).get(reverse("projects:review_room", args=[play_all_room.pk]))
    assert response.status_code == 200
    state = page_state(response)
    assert (state["kind"], state["scene"], state["position"], state["playing"]) == ("play_all", storm.pk, 1.25, False)
    body = response.content.decode()
    assert 'data-testid="cut-player"' in body and 'data-testid="room-bar"' in body and "studio/room.js" in body
    # The follower's page finds the scene in its own sequence (the stops its player reads).
    assert f'"scene": {storm.pk}' in body.split('id="cut-stops"')[1].split("</script>")[0]
    assert "Following rita" in body and 'data-testid="room-open"' not in body


def test_the_presenters_scene_and_moment_reach_the_room_over_the_live_channel(
        client_for, play_all_room, two_scenes, reviewer, project):
    hub = Hub(draw_all, coalesce=coalesce_key, background=False)
    page = hub.subscribe(Subscriber(channel=("project", project.pk), role=Role.VIEWER, user_id=0))
    hub.pump()
    drain(page)
    storm = two_scenes[1]
    response = move(client_for(reviewer), play_all_room, position="0.5", playing="1", scene=str(storm.pk))
    assert response.status_code == 204
    play_all_room.refresh_from_db()
    assert (play_all_room.scene, play_all_room.position, play_all_room.playing) == (storm, 0.5, True)
    hub.pump()
    [html] = [message.data for message in drain(page)]
    assert f'id="room-state-{play_all_room.pk}"' in html and f"&quot;scene&quot;: {storm.pk}" in html


def test_it_refuses_a_scene_that_is_not_on_this_projects_board_and_keeps_the_rooms_place(
        client_for, play_all_room, two_scenes, reviewer, owner, other_team_scene):
    dawn, storm = two_scenes
    client = client_for(reviewer)
    assert move(client, play_all_room, seq="1", position="1", scene=str(dawn.pk)).status_code == 204
    scene_trash(scene=storm, user=owner)
    for scene in (str(storm.pk), str(other_team_scene.pk), "dawn", "-1", "9" * 40, "²١"):
        response = move(client, play_all_room, seq="2", position="0.5", scene=scene)
        assert response.status_code == 422, scene
        assert response.content.decode().strip()
    play_all_room.refresh_from_db()
    assert (play_all_room.seq, play_all_room.scene, play_all_room.position) == (1, dawn, 1.0)


def test_a_room_on_one_take_follows_no_scene_of_play_all(client_for, two_scenes, reviewer):
    take = two_scenes[0].renders.get()
    take_room = rooms.room_open(take=take, user=reviewer)
    response = move(client_for(reviewer), take_room, scene=str(two_scenes[0].pk))
    assert response.status_code == 422
    take_room.refresh_from_db()
    assert take_room.seq == 0


def test_the_presenter_cannot_switch_a_room_on_play_all_to_one_take(client_for, play_all_room, two_scenes, reviewer):
    take = two_scenes[0].renders.get()
    client_for(reviewer).post(reverse("projects:room_take", args=[play_all_room.pk]), {"take": take.pk})
    play_all_room.refresh_from_db()
    assert (play_all_room.take, play_all_room.seq) == (None, 0)


def test_a_room_on_play_all_is_not_a_room_on_a_take_nor_a_compare(client_for, play_all_room, two_scenes, reviewer):
    take = two_scenes[0].renders.get()
    assert rooms.room_open(take=take, user=reviewer) != play_all_room
    assert rooms.rooms_open_on([take]) == {take.pk: ReviewRoom.objects.get(kind=ReviewRoom.Kind.TAKE)}
    assert ReviewRoom.objects.filter(kind=ReviewRoom.Kind.PLAY_ALL).count() == 1


def test_ending_a_room_on_play_all_goes_back_to_play_all(client_for, play_all_room, project, reviewer):
    response = client_for(reviewer).post(reverse("projects:room_close", args=[play_all_room.pk]))
    assert response.url == cut_url(project)
    again = client_for(reviewer).get(reverse("projects:review_room", args=[play_all_room.pk]))
    assert again.status_code == 302 and again.url == cut_url(project)
    # The next click opens a new room: the one that ended stays ended.
    assert open_room(client_for(reviewer), project).url != reverse("projects:review_room", args=[play_all_room.pk])


def test_another_teams_user_gets_nothing_of_a_room_on_play_all(client_for, play_all_room, project, outsider):
    client = client_for(outsider)
    assert open_room(client, project).status_code == 404
    assert client.get(reverse("projects:review_room", args=[play_all_room.pk])).status_code == 404
    assert move(client, play_all_room, position="1", playing="1").status_code == 404
    assert client.post(reverse("projects:room_lead", args=[play_all_room.pk])).status_code == 404
    assert client.post(reverse("projects:room_close", args=[play_all_room.pk])).status_code == 404
    play_all_room.refresh_from_db()
    assert (play_all_room.seq, play_all_room.is_open, ReviewRoom.objects.count()) == (0, True, 1)


def test_a_guest_never_gets_a_room_on_play_all_even_when_their_link_shares_every_scene(
        client, play_all_room, project, two_scenes, owner, reviewer):
    # Guests' pages show takes one by one: no link shows Play all (its cards, its unapproved takes, its sequence).
    link, token = guest_links.link_create(project=project, user=owner, label="Client", scope="scenes",
                                          scenes=list(two_scenes), days=3)
    client.post(reverse("projects:guest_review", args=[token]), {"action": "name", "name": "Grace"})
    page = client.get(reverse("projects:guest_review", args=[token])).content.decode()
    assert reverse("projects:guest_room", args=[token, play_all_room.pk]) not in page
    assert client.get(reverse("projects:guest_room", args=[token, play_all_room.pk])).status_code == 404
    # Nor its moves over the live channel.
    hub = Hub(draw_all, coalesce=coalesce_key, background=False)
    guest_page = hub.subscribe(Subscriber(channel=("project", project.pk), role=guest_role(link.pk), user_id=0))
    hub.pump()
    drain(guest_page)
    rooms.room_update(room=play_all_room, user=reviewer, seq=1, position=0.5, playing=True,
                      scene=str(two_scenes[0].pk))
    hub.pump()
    assert [message.data for message in drain(guest_page)] == []
