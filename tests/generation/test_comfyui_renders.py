"""Takes rendered on a team's own ComfyUI server, through our tasks, against a fake that validates like ComfyUI."""

import uuid
from decimal import Decimal

import pytest

from generation.models import Render, Status
from generation.providers import comfy_workflows, connections, provider_for
from generation.renders import lookups, pipeline, services
from tests.fakes.comfyui_server import FIXTURES, fresh_server

LTX_INPUTS = {"prompt": ["3", "text"], "negative_prompt": ["4", "text"], "width": ["5", "width"],
              "height": ["5", "height"], "length": ["5", "length"], "fps": ["9", "frame_rate"], "seed": ["7", "seed"]}


@pytest.fixture
def comfy_server():
    return fresh_server()


@pytest.fixture
def ltx(team, owner, comfy_server):
    """LTX-Video on the team's GPU: 1280x720, 2–5 s, 24 fps, free."""
    connection = connections.connection_create(team=team, user=owner, kind="comfyui", label="Studio GPU",
                                               base_url=comfy_server.url)
    workflow = comfy_workflows.workflow_upload(connection=connection, user=owner, name="LTX-Video",
                                               data=(FIXTURES / "ltxv_t2v_api.json").read_bytes())
    comfy_workflows.workflow_map(workflow=workflow, inputs=LTX_INPUTS, frames_rule="8n+1", fps=24,
                                 sizes=["1280x720"], durations=[2, 3, 4, 5], price_per_second=Decimal(0))
    return connection


def book(connection, scene, user, capture, *, execute=True):
    with capture(execute=execute):
        take, _ = services.render_create(scene=scene, user=user, connection=connection, model_id="ltx-video",
                                         idempotency_key=uuid.uuid4())
    take.refresh_from_db()
    return take


def test_a_take_booked_on_comfyui_finishes_with_a_playable_file(
        ltx, make_scene, editor, comfy_server, django_capture_on_commit_callbacks):
    scene = make_scene(duration=4, prompt="Gulls over the pier at dawn.")

    take = book(ltx, scene, editor, django_capture_on_commit_callbacks)

    assert take.status == Status.SUCCEEDED, take.error_message
    assert take.provider_job_id == str(take.idempotency_key)
    [graph] = comfy_server.created()  # one click, one job on the GPU
    assert graph["3"]["inputs"]["text"] == "Gulls over the pier at dawn."
    assert (graph["5"]["inputs"]["width"], graph["5"]["inputs"]["height"], graph["5"]["inputs"]["length"]) == (
        1280, 720, 97)
    assert take.video and take.video.size > 0 and take.thumbnail
    assert take.duration_seconds and take.duration_seconds > 0  # PyAV read it: it plays
    assert take.cost == 0


def test_a_graph_comfyui_refuses_fails_the_take_with_its_node_errors_in_words(
        ltx, make_scene, editor, comfy_server, django_capture_on_commit_callbacks):
    workflow = ltx.workflows.get()
    del workflow.graph["4"]["inputs"]["clip"]
    workflow.save()

    take = book(ltx, make_scene(duration=4), editor, django_capture_on_commit_callbacks)

    assert take.status == Status.FAILED
    assert "node 4 (CLIPTextEncode): Required input is missing: clip" in take.error_message
    assert comfy_server.created() == []


def test_a_take_whose_worker_died_while_sending_is_found_by_its_name(
        ltx, make_scene, editor, comfy_server, django_capture_on_commit_callbacks, tmp_path):
    take = book(ltx, make_scene(duration=4), editor, django_capture_on_commit_callbacks, execute=False)
    # The create reached ComfyUI, then the worker died before storing the answer.
    take.advance(Status.SUBMITTING)
    provider_for(ltx).submit(pipeline._request_for(take, tmp_path))

    with django_capture_on_commit_callbacks(execute=True):
        outcome = lookups.render_recover_submission(Render.objects.get(pk=take.pk))

    take.refresh_from_db()
    assert outcome == "adopted" and take.provider_job_id == str(take.idempotency_key)
    assert len(comfy_server.created()) == 1  # adopted, not sent again


def test_a_take_that_never_reached_comfyui_fails_without_a_may_be_billed_warning(
        ltx, make_scene, editor, django_capture_on_commit_callbacks):
    take = book(ltx, make_scene(duration=4), editor, django_capture_on_commit_callbacks, execute=False)
    take.advance(Status.SUBMITTING)

    assert lookups.render_recover_submission(Render.objects.get(pk=take.pk)) == "failed"
    take.refresh_from_db()
    assert take.status == Status.FAILED and not take.billing_unconfirmed


def test_a_create_answered_500_is_sent_again_at_once_when_the_queue_shows_no_such_job(
        ltx, make_scene, editor, comfy_server, django_capture_on_commit_callbacks, countdowns):
    # ComfyUI's queue and history show every job there is (under the name the studio gave it), so one
    # look that answers settles it: no look-up window to wait out, and the resend keeps the name.
    comfy_server.prompt_replies = [(500, {"error": "boom"})]

    take = book(ltx, make_scene(duration=4), editor, django_capture_on_commit_callbacks)

    assert take.status == Status.SUCCEEDED, take.error_message
    assert take.create_attempts == 2 and take.provider_job_id == str(take.idempotency_key)
    prompts = comfy_server.seen("POST", "/prompt")
    assert len(prompts) == 2 and len(comfy_server.created()) == 1
    assert [name for name, *_ in countdowns.pending] == ["watch_render"]  # no look-up was scheduled
