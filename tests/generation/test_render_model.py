"""A take's status moves only along the allowed path, and one worker wins a race."""

import uuid

import pytest

from generation.models import InvalidTransition, Render, Status
from generation.renders.services import render_create


@pytest.fixture
def take(scene, editor):
    return Render.objects.create(
        scene=scene, provider="local", model="previz-animatic-1", recipe={}, created_by=editor
    )


def test_a_take_walks_the_happy_path(take):
    for status in [Status.SUBMITTING, Status.RUNNING, Status.DOWNLOADING, Status.SUCCEEDED]:
        assert take.advance(status)
    take.refresh_from_db()
    assert take.status == Status.SUCCEEDED
    assert take.finished_at is not None


@pytest.mark.parametrize("to", [Status.RUNNING, Status.DOWNLOADING, Status.SUCCEEDED])
def test_a_queued_take_cannot_skip_ahead(take, to):
    with pytest.raises(InvalidTransition):
        take.advance(to)
    take.refresh_from_db()
    assert take.status == Status.QUEUED


def test_a_finished_take_never_changes_again(take):
    take.advance(Status.FAILED, error_message="boom")
    for to in Status.values:
        with pytest.raises(InvalidTransition):
            take.advance(to)


def test_only_one_of_two_racing_workers_claims_a_take(take):
    first = Render.objects.get(pk=take.pk)
    second = Render.objects.get(pk=take.pk)
    assert first.advance(Status.SUBMITTING) is True
    assert second.advance(Status.SUBMITTING) is False
    assert Render.objects.get(pk=take.pk).status == Status.SUBMITTING


def test_mark_failed_keeps_the_reason(take):
    take.advance(Status.SUBMITTING)
    assert take.mark_failed("The provider refused the prompt.")
    take.refresh_from_db()
    assert take.status == Status.FAILED
    assert take.error_message == "The provider refused the prompt."


def test_takes_are_numbered_within_their_scene(scene, make_scene, editor, django_capture_on_commit_callbacks):
    other = make_scene(title="Other")

    def book(s):
        with django_capture_on_commit_callbacks(execute=False):  # booked, not rendered
            take, _ = render_create(scene=s, user=editor, connection=s.project.team.connections.get(kind="local"),
                                    model_id="previz-animatic-1", idempotency_key=uuid.uuid4())
        return take

    assert [book(scene).number, book(scene).number, book(other).number, book(scene).number] == [1, 2, 1, 3]
