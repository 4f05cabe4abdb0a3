"""One word for a take's state, on its frame and on its own card.

A take sent to a provider that holds it in its queue read "Rendering 0%"; a finished take read
"Done" on its card while its frame said "In review".
"""

from __future__ import annotations

import re
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from generation.models import Render, Status
from generation.renders import pipeline, services
from projects.models import ChangeEvent
from projects.review import services as review
from projects.selectors import board_frame


@pytest.fixture
def polls_by_hand(monkeypatch):
    """Each poll runs when the test says, not on the schedule."""
    monkeypatch.setattr(pipeline, "_schedule_poll", lambda render, *, delay: None)


def card_word(client, take) -> str | None:
    """The state word on the take's card in its scene's side panel (None when the card shows none)."""
    url = reverse("projects:scene_panel", args=[take.scene.project_id, take.scene_id])
    html = client.get(url).content.decode()
    card = html[html.index(f'id="take-{take.pk}"'):]
    card = card[:card.index("</article>")]
    found = re.search(r'data-testid="take-status">([^<]*)<', card)
    return found.group(1) if found else None


def frame_word(take) -> str:
    frame = board_frame(project=take.scene.project, scene_id=take.scene_id)
    assert frame is not None
    return frame.status_label


@pytest.mark.usefixtures("polls_by_hand")
def test_a_take_in_the_providers_queue_reads_queued_until_the_provider_works_on_it(
        gateway, make_scene, editor, client_for, django_capture_on_commit_callbacks):
    scene = make_scene(duration=4)
    with django_capture_on_commit_callbacks(execute=True):
        take, _ = services.render_create(scene=scene, user=editor, connection=gateway, model_id="veo-3.1",
                                         idempotency_key=uuid.uuid4())
    take.refresh_from_db()
    assert take.status == Status.RUNNING and take.provider_job_id  # sent: the provider has it
    client = client_for(editor)

    pipeline.render_poll(take.pk)  # the provider answers "queued"
    take.refresh_from_db()
    assert frame_word(take) == "Queued" and take.status_label == "Queued"
    assert card_word(client, take) == "Queued"
    assert take.status == Status.RUNNING and take.progress == 0 and take.provider_started_at is None
    assert "0%" not in client.get(reverse("projects:scene_panel", args=[scene.project_id, scene.pk])).content.decode()

    pipeline.render_poll(take.pk)  # "in_progress", 25 %
    take.refresh_from_db()
    assert take.provider_started_at is not None
    assert frame_word(take) == "Rendering 25%" and card_word(client, take) == "Rendering 25%"
    # Leaving the queue redraws the open panels' cards, not only the frames' chips.
    assert ChangeEvent.objects.filter(take_id=take.pk).latest("pk").data["moved"] is True


def test_a_started_take_without_a_percentage_reads_rendering_without_one(scene, gateway):
    take = Render.objects.create(scene=scene, connection=gateway, provider="openai-videos", model="veo-3.1",
                                 recipe={}, status=Status.RUNNING, provider_job_id="job_9",
                                 provider_started_at=timezone.now())
    assert frame_word(take) == "Rendering" and take.status_label == "Rendering"


def test_a_finished_takes_card_says_what_its_frame_says(client_for, owner, reviewer, scene, finished_take):
    take = finished_take(scene)
    client = client_for(owner)
    assert frame_word(take) == card_word(client, take) == "Ready for review"

    review.take_request_changes(take=take, user=reviewer, note="Warmer light")
    assert frame_word(take) == card_word(client, take) == "Changes requested"

    newer = finished_take(scene)
    assert frame_word(newer) == card_word(client, newer) == "Ready for review"
    assert card_word(client, take) == "Changes requested"  # the older take keeps its own state

    review.take_approve(take=newer, user=reviewer)
    assert frame_word(newer) == "Approved"
    assert card_word(client, newer) is None  # its approval badge is its one label
    panel = client.get(reverse("projects:scene_panel", args=[scene.project_id, scene.pk])).content.decode()
    assert "Approved by rita" in panel and ">Done<" not in panel


def test_a_take_that_has_not_finished_says_its_state_on_the_review_page(client_for, reviewer, scene, gateway):
    take = Render.objects.create(scene=scene, connection=gateway, provider="openai-videos", model="veo-3.1",
                                 recipe={}, status=Status.RUNNING, provider_job_id="job_5")
    html = client_for(reviewer).get(reverse("projects:take_review", args=[take.pk])).content.decode()
    assert "This take is queued; it can be reviewed once it has finished." in html
