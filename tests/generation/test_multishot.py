"""Multi-shot takes on the local previz, end to end: booked once, rendered as one animatic, cut back
into one take per scene (issue #26)."""

from __future__ import annotations

import uuid

import av
import pytest

from generation.models import Status
from generation.renders import shot_groups


@pytest.fixture
def three(make_scene):
    return [make_scene(title="Dawn", duration=2), make_scene(title="Boats", duration=3),
            make_scene(title="Gulls", duration=1)]


@pytest.fixture
def book(django_capture_on_commit_callbacks, editor, project):
    def book(scenes, *, user=None, key=None, model_id="previz-animatic-1", connection=None):
        with django_capture_on_commit_callbacks(execute=True):
            group = shot_groups.shot_group_create(
                project=project, user=user or editor, connection=connection or project.team.connections.get(kind="local"),
                model_id=model_id, scene_ids=[s.pk for s in scenes], idempotency_key=key or uuid.uuid4())
        group.refresh_from_db()
        return group

    return book


def frames_of(take) -> int:
    with take.video.open("rb") as fh, av.open(fh) as container:
        return sum(1 for _ in container.decode(container.streams.video[0]))


def test_three_scenes_render_as_one_take_and_come_back_as_one_take_each(book, three):
    group = book(three)
    parts = list(group.parts.order_by("shot_index"))
    assert [p.scene_id for p in parts] == [s.pk for s in three]
    assert all(p.status == Status.SUCCEEDED for p in parts)
    assert [frames_of(p) for p in parts] == [48, 72, 24]
    assert group.video
    assert [b["frame"] for b in group.cuts["boundaries"]] == [48, 120]


@pytest.fixture
def fal(team, owner, fal_server, settings):
    from django.core.cache import cache

    from generation.providers import connections

    settings.FAL_JWKS_URL = fal_server.jwks_url
    cache.delete("fal-webhook-jwks")
    return connections.connection_create(team=team, user=owner, kind="fal", label="fal",
                                         base_url=fal_server.url, api_key=fal_server.api_key)


def test_kling_on_fal_gets_one_request_with_a_prompt_per_shot_and_cuts_a_few_frames_off_are_found(
        book, make_scene, fal, fal_server):
    fal_server.shot_offsets = (3, -2)
    scenes = [make_scene(title=t, duration=d, size="1920x1080") for t, d in (("Dawn", 2), ("Boats", 1), ("Gulls", 1))]
    group = book(scenes, connection=fal, model_id="fal-ai/kling-video/v3/pro/text-to-video")

    assert fal_server.accepted == 1
    sent = fal_server.requests[0].json
    assert sent["multi_prompt"] == [{"prompt": s.prompt, "duration": str(s.duration)} for s in scenes]
    assert "prompt" not in sent and sent["duration"] == "4" and sent["shot_type"] == "customize"
    parts = list(group.parts.order_by("shot_index"))
    assert [p.status for p in parts] == [Status.SUCCEEDED] * 3, [p.error_message for p in parts]
    assert [b["frame"] for b in group.cuts["boundaries"]] == [51, 70]
    assert [frames_of(p) for p in parts] == [51, 19, 26]
