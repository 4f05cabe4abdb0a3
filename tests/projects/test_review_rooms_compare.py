"""A review room on the compare page: two takes of a scene side by side (or as a wipe or an overlay), both players
following the presenter's, and the presenter's view followed too. The same room, state and live channel as a room
on one take (tests/projects/test_review_rooms.py); a guest of a review link never gets one (no link shows a compare)."""

from __future__ import annotations

import json
import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from projects.live.fragments import coalesce_key, draw_all
from projects.live.hub import Hub, Subscriber
from projects.live.review_fragments import guest_role
from projects.models import ReviewRoom, Role
from projects.review import guest_links, rooms
from tests.live.sse import drain

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(scene, finished_take):
    return finished_take(scene), finished_take(scene)


@pytest.fixture
def compare_room(pair, reviewer):
    return rooms.room_open_compare(left=pair[0], right=pair[1], user=reviewer)


def open_compare(client, scene, left, right):
    return client.post(reverse("projects:compare_room_open", args=[scene.pk]), {"a": left.pk, "b": right.pk})


def page_state(response) -> dict:
    found = re.search(r'data-room-state="([^"]*)"', response.content.decode())
    assert found, "the page carries no room state"
    return json.loads(found.group(1).replace("&quot;", '"'))


def test_it_opens_a_room_on_the_compare_and_a_teammate_joins_it_instead_of_opening_another(
        client_for, scene, pair, reviewer, editor):
    left, right = pair
    first = open_compare(client_for(reviewer), scene, left, right)
    room = ReviewRoom.objects.get()
    assert first.url == reverse("projects:review_room", args=[room.pk])
    assert (room.take, room.other_take, room.compare_mode, room.presenter) == (left, right, "side", reviewer)
    assert open_compare(client_for(editor), scene, left, right).url == first.url
    assert ReviewRoom.objects.count() == 1


def test_the_compare_page_offers_to_open_a_room_then_to_join_it(client_for, scene, pair, reviewer, viewer):
    left, right = pair
    url = f"{reverse('projects:scene_compare', args=[scene.pk])}?a={left.pk}&b={right.pk}"
    page = client_for(reviewer).get(url).content.decode()
    assert 'data-testid="room-open"' in page and 'data-testid="room-join"' not in page
    room = rooms.room_open_compare(left=left, right=right, user=reviewer)
    page = client_for(viewer).get(url).content.decode()
    assert reverse("projects:review_room", args=[room.pk]) in page and 'data-testid="room-join"' in page
    # The take's own page offers no room for a compare: a room there would be on that take alone.
    take_page = client_for(viewer).get(reverse("projects:take_review", args=[left.pk])).content.decode()
    assert 'data-testid="room-join"' not in take_page


def test_the_rooms_page_is_the_compare_of_its_two_takes_at_the_rooms_moment_in_the_presenters_view(
        client_for, compare_room, pair, reviewer, viewer):
    rooms.room_update(room=compare_room, user=reviewer, seq=1, position=1.5, playing=False, mode="wipe")
    response = client_for(viewer).get(reverse("projects:review_room", args=[compare_room.pk]))
    assert response.status_code == 200
    assert [t.pk for t in response.context["sides"]] == [pair[0].pk, pair[1].pk]
    state = page_state(response)
    assert (state["position"], state["mode"], state["other_take"]) == (1.5, "wipe", pair[1].pk)
    body = response.content.decode()
    assert 'data-testid="compare-a"' in body and 'data-testid="room-bar"' in body and "studio/room.js" in body
    assert "Following rita" in body


def test_the_presenters_view_and_moves_reach_the_room_over_the_live_channel(client_for, compare_room, reviewer, project):
    hub = Hub(draw_all, coalesce=coalesce_key, background=False)
    page = hub.subscribe(Subscriber(channel=("project", project.pk), role=Role.VIEWER, user_id=0))
    hub.pump()
    drain(page)
    response = client_for(reviewer).post(reverse("projects:room_state", args=[compare_room.pk]),
                                         {"seq": "1", "position": "0.5", "playing": "1", "mode": "overlay"})
    assert response.status_code == 204
    compare_room.refresh_from_db()
    assert (compare_room.position, compare_room.playing, compare_room.compare_mode) == (0.5, True, "overlay")
    hub.pump()
    [html] = [message.data for message in drain(page)]
    assert f'id="room-state-{compare_room.pk}"' in html and "&quot;mode&quot;: &quot;overlay&quot;" in html


def test_it_refuses_a_view_the_compare_page_does_not_have_and_a_view_on_a_room_on_one_take(
        client_for, compare_room, reviewer, take_room):
    response = client_for(reviewer).post(reverse("projects:room_state", args=[compare_room.pk]),
                                         {"seq": "1", "position": "0.5", "playing": "0", "mode": "<script>"})
    assert response.status_code == 422 and "side by side" in response.content.decode()
    compare_room.refresh_from_db()
    assert (compare_room.seq, compare_room.compare_mode) == (0, "side")
    response = client_for(reviewer).post(reverse("projects:room_state", args=[take_room.pk]),
                                         {"seq": "1", "position": "0.5", "playing": "0", "mode": "wipe"})
    assert response.status_code == 422


def test_the_rooms_moment_runs_to_the_end_of_the_longer_take(client_for, scene, finished_take, reviewer):
    short, long = finished_take(scene), finished_take(scene)
    short.duration_seconds, long.duration_seconds = 1.0, 3.0
    short.save(update_fields=["duration_seconds"])
    long.save(update_fields=["duration_seconds"])
    room = rooms.room_open_compare(left=short, right=long, user=reviewer)
    rooms.room_update(room=room, user=reviewer, seq=1, position=2.5, playing=False)
    room.refresh_from_db()
    assert room.position == 2.5 and room.shared_time() == 2.5


def test_it_refuses_a_compare_of_a_take_with_itself_or_with_another_scenes_take(
        client_for, scene, pair, reviewer, make_scene, finished_take):
    left = pair[0]
    with pytest.raises(ValidationError):
        rooms.room_open_compare(left=left, right=left, user=reviewer)
    elsewhere = finished_take(make_scene(title="Night"))
    # Through the page: a take of another scene is not one of this scene's takes.
    assert open_compare(client_for(reviewer), scene, left, elsewhere).status_code == 404
    response = open_compare(client_for(reviewer), scene, left, left)
    assert response.status_code == 302 and "compare" in response.url
    assert not ReviewRoom.objects.exists()


def test_a_viewer_may_join_a_compare_room_but_not_open_one(client_for, scene, pair, viewer):
    assert open_compare(client_for(viewer), scene, *pair).status_code == 403
    assert not ReviewRoom.objects.exists()


def test_the_presenter_cannot_switch_a_compare_room_to_one_take(client_for, compare_room, pair, reviewer, scene,
                                                                finished_take):
    third = finished_take(scene)
    client_for(reviewer).post(reverse("projects:room_take", args=[compare_room.pk]), {"take": third.pk})
    compare_room.refresh_from_db()
    assert (compare_room.take, compare_room.other_take) == pair


def test_ending_a_compare_room_goes_back_to_the_compare(client_for, compare_room, pair, reviewer, scene):
    response = client_for(reviewer).post(reverse("projects:room_close", args=[compare_room.pk]))
    assert response.url == f"{reverse('projects:scene_compare', args=[scene.pk])}?a={pair[0].pk}&b={pair[1].pk}"
    again = client_for(reviewer).get(reverse("projects:review_room", args=[compare_room.pk]))
    assert again.status_code == 302 and again.url == response.url


def test_another_teams_user_gets_nothing_of_a_compare_room(client_for, compare_room, scene, pair, outsider):
    client = client_for(outsider)
    assert open_compare(client, scene, *pair).status_code == 404
    assert client.get(reverse("projects:review_room", args=[compare_room.pk])).status_code == 404
    assert client.post(reverse("projects:room_state", args=[compare_room.pk]),
                       {"seq": "1", "position": "0", "playing": "0", "mode": "wipe"}).status_code == 404
    compare_room.refresh_from_db()
    assert compare_room.seq == 0


def test_a_guest_never_gets_a_compare_room_even_when_their_link_shows_both_takes(
        client, compare_room, project, scene, owner, reviewer):
    link, token = guest_links.link_create(project=project, user=owner, label="Client", scope="scenes",
                                          scenes=[scene], days=3)
    client.post(reverse("projects:guest_review", args=[token]), {"action": "name", "name": "Grace"})
    page = client.get(reverse("projects:guest_review", args=[token])).content.decode()
    assert reverse("projects:guest_room", args=[token, compare_room.pk]) not in page
    assert client.get(reverse("projects:guest_room", args=[token, compare_room.pk])).status_code == 404
    # Nor its moves over the live channel.
    hub = Hub(draw_all, coalesce=coalesce_key, background=False)
    guest_page = hub.subscribe(Subscriber(channel=("project", project.pk), role=guest_role(link.pk), user_id=0))
    hub.pump()
    drain(guest_page)
    rooms.room_update(room=compare_room, user=reviewer, seq=1, position=0.5, playing=True)
    hub.pump()
    assert [message.data for message in drain(guest_page)] == []


@pytest.fixture
def take_room(pair, reviewer):
    return rooms.room_open(take=pair[0], user=reviewer)
