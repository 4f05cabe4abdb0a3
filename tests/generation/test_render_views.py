"""Takes on the storyboard: start, follow progress, play, retry, approve."""

import uuid

import pytest
from django.urls import reverse

from generation.models import Render, Status
from projects.models import Scene

HX = {"HTTP_HX_REQUEST": "true"}

# Booking, numbering and pages: the takes' pictures do not matter here.
pytestmark = pytest.mark.usefixtures("previz_without_encode")


def previz(scene):
    return f"{scene.project.team.connections.get(kind='local').pk}:previz-animatic-1"


def start(client, scene, key=None, target=None):
    return client.post(reverse("generation:render_create", args=[scene.pk]),
                       {"target": target or previz(scene), "idempotency_key": str(key or uuid.uuid4())}, **HX)


def test_render_take_answers_with_the_takes_partial_and_a_fresh_key(client_for, editor, scene):
    key = uuid.uuid4()
    response = start(client_for(editor), scene, key)
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="takes" id="takes-')
    assert 'data-testid="take"' in html
    assert str(key) not in html  # the next click gets a new key
    take = Render.objects.get()
    assert (take.scene, take.created_by, take.idempotency_key) == (scene, editor, key)


def test_a_double_click_or_resent_request_makes_one_take(client_for, editor, scene, django_capture_on_commit_callbacks):
    client, key = client_for(editor), uuid.uuid4()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        start(client, scene, key)
        start(client, scene, key)
    assert Render.objects.count() == 1
    assert len(callbacks) >= 1


def test_a_running_take_offers_a_refresh_instead_of_polling_and_a_finished_one_plays(client_for, editor, scene,
                                                                                     finished_take):
    running = Render.objects.create(scene=scene, provider="local", model="previz-animatic-1",
                                    recipe={"parameters": {"seconds": 2, "size": "1280x720"}},
                                    status=Status.RUNNING, progress=42)
    client = client_for(editor)
    html = client.get(reverse("generation:render_status", args=[running.pk]), **HX).content.decode()
    # No poller per take: the page's live channel brings progress; a click asks meanwhile.
    assert "hx-trigger" not in html and 'value="42"' in html
    assert f'hx-get="{reverse("generation:render_status", args=[running.pk])}"' in html and ">Refresh<" in html
    done = finished_take(scene)
    html = client.get(reverse("generation:render_status", args=[done.pk]), **HX).content.decode()
    assert "hx-trigger" not in html and ">Refresh<" not in html
    assert reverse("generation:render_file", args=[done.pk, "video"]) in html
    assert "Signed by this studio" in html and "Trusted" not in html and "c2pa.created" in html


def test_a_failed_take_says_why_and_offers_retry(client_for, editor, scene):
    failed = Render.objects.create(scene=scene, provider="local", model="previz-animatic-1",
                                   recipe={"parameters": {"seconds": 2, "size": "1280x720"}},
                                   status=Status.FAILED, error_message="The provider timed out.")
    html = client_for(editor).get(reverse("generation:render_status", args=[failed.pk])).content.decode()
    assert "The provider timed out." in html
    assert reverse("generation:render_retry", args=[failed.pk]) in html


def test_retry_makes_a_linked_take_with_the_same_recipe(client_for, editor, scene, finished_take,
                                                       django_capture_on_commit_callbacks):
    original = finished_take(scene)
    Render.objects.filter(pk=original.pk).update(status=Status.FAILED)
    with django_capture_on_commit_callbacks(execute=True):
        client_for(editor).post(reverse("generation:render_retry", args=[original.pk]),
                                {"idempotency_key": str(uuid.uuid4())}, **HX)
    retry = Render.objects.exclude(pk=original.pk).get()
    assert retry.parent_id == original.pk and retry.recipe == original.recipe
    assert retry.status == Status.SUCCEEDED


def test_an_unknown_provider_choice_is_an_error_in_the_page(client_for, editor, scene):
    html = start(client_for(editor), scene, target="acme:nope").content.decode()
    assert "Choose one of your team&#x27;s providers and models" in html
    assert not Render.objects.exists()


def test_a_scene_longer_than_the_provider_allows_is_refused_in_the_page(client_for, editor, scene):
    Scene.objects.filter(pk=scene.pk).update(duration=25)
    html = start(client_for(editor), scene).content.decode()
    assert "renders 1–20 seconds, not 25" in html
    assert not Render.objects.exists()


def test_viewers_and_reviewers_cannot_start_renders(client_for, viewer, reviewer, scene):
    for user in (viewer, reviewer):
        assert start(client_for(user), scene).status_code == 403
    assert not Render.objects.exists()


def test_the_video_streams_whole_and_by_range(client_for, viewer, scene, finished_take):
    take = finished_take(scene)
    client = client_for(viewer)
    url = reverse("generation:render_file", args=[take.pk, "video"])
    whole = client.get(url)
    body = b"".join(whole.streaming_content)
    assert whole.status_code == 200 and whole["Content-Type"] == "video/mp4"
    assert len(body) == take.video.size
    part = client.get(url, HTTP_RANGE="bytes=100-199")
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 100-199/{take.video.size}"
    assert b"".join(part.streaming_content) == body[100:200]
    tail = client.get(url, HTTP_RANGE="bytes=-10")
    assert b"".join(tail.streaming_content) == body[-10:]
    beyond = client.get(url, HTTP_RANGE=f"bytes={take.video.size + 5}-")
    assert beyond.status_code == 416


def test_a_take_without_files_yet_is_404(client_for, editor, scene):
    take = Render.objects.create(scene=scene, provider="local", model="m", recipe={}, status=Status.RUNNING)
    assert client_for(editor).get(reverse("generation:render_file", args=[take.pk, "video"])).status_code == 404


@pytest.mark.parametrize("role", ["reviewer", "owner"])
def test_a_reviewer_or_owner_approves_one_take_per_scene(request, client_for, role, scene, finished_take):
    first, second = finished_take(scene), finished_take(scene)
    user = request.getfixturevalue(role)
    client = client_for(user)
    client.post(reverse("projects:scene_approve", args=[scene.pk, first.pk]), **HX)
    response = client.post(reverse("projects:scene_approve", args=[scene.pk, second.pk]), **HX)
    scene.refresh_from_db()
    assert scene.approved_take == second  # approving another replaces it
    assert scene.approved_by == user and scene.approved_at is not None
    assert f"Approved: take {second.number}" in response.content.decode()


@pytest.mark.parametrize("role", ["editor", "viewer"])
def test_editors_and_viewers_cannot_approve(request, client_for, role, scene, finished_take):
    take = finished_take(scene)
    response = client_for(request.getfixturevalue(role)).post(
        reverse("projects:scene_approve", args=[scene.pk, take.pk]))
    assert response.status_code == 403
    scene.refresh_from_db()
    assert scene.approved_take is None


def test_an_unfinished_take_cannot_be_approved(client_for, reviewer, scene):
    take = Render.objects.create(scene=scene, provider="local", model="m", recipe={"parameters": {}},
                                 status=Status.RUNNING)
    html = client_for(reviewer).post(reverse("projects:scene_approve", args=[scene.pk, take.pk]), **HX).content.decode()
    assert "Only a finished take can be approved." in html
    scene.refresh_from_db()
    assert scene.approved_take is None


def test_a_take_of_another_scene_cannot_be_approved_here(client_for, reviewer, scene, make_scene, finished_take):
    other_take = finished_take(make_scene(title="Other"))
    response = client_for(reviewer).post(reverse("projects:scene_approve", args=[scene.pk, other_take.pk]))
    assert response.status_code == 404
