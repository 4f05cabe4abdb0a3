"""A scene whose newest take failed reads "Failed" everywhere its state is shown, with the reason.

The board's frame (the reason on hover), the side panel (the chip and the reason in words), what a
teammate's open board receives over the live channel, the take's review page and Play all: one word
for one state, the word the take's own card uses. Failed takes come from the strict Veo fake through
the real services and tasks.
"""

import re
import uuid

import pytest
from django.urls import reverse

from generation.models import Status
from generation.providers import connections
from generation.renders import services
from projects.live.fragments import draw_all
from projects.live.hub import Hub, Subscriber
from projects.models import ChangeEvent, ChangeKind, Decision, ReviewDecision, Role
from tests.live.sse import drain

FAST = "veo-3.1-fast-generate-preview"
REFUSED = "Take 1: Refused by Google&#x27;s safety filters: the video was blocked. Google said: We encountered"


@pytest.fixture
def veo(team, owner, veo_server, veo_previews_live):
    return connections.connection_create(team=team, user=owner, kind="veo", label="Google Veo",
                                         base_url=veo_server.url, api_key=veo_server.api_key)


@pytest.fixture
def render_on(veo, veo_server, editor, django_capture_on_commit_callbacks):
    def render(scene, scenario="rai-filtered"):
        veo_server.scenario = scenario
        with django_capture_on_commit_callbacks(execute=True):
            take, _ = services.render_create(scene=scene, user=editor, connection=veo, model_id=FAST,
                                             idempotency_key=uuid.uuid4())
        take.refresh_from_db()
        return take
    return render


def chip(html: str, testid: str, scene_pk: int | None = None) -> str:
    """The opening tag and words of a status chip."""
    scope = html
    if scene_pk is not None:
        scope = html[html.index(f'id="frame-{scene_pk}"'):]
    match = re.search(rf'<span class="chip[^"]*" data-testid="{testid}"[^>]*>[^<]*', scope)
    assert match, f"no {testid} chip"
    return match.group(0)


def test_a_scene_whose_only_take_was_refused_reads_failed_with_the_reason_on_hover(
        client_for, editor, project, make_scene, render_on):
    scene = make_scene(title="Harbour", duration=4)
    take = render_on(scene)
    assert take.status == Status.FAILED

    board = client_for(editor).get(reverse("projects:project_detail", args=[project.pk])).content.decode()

    frame_chip = chip(board, "frame-status", scene.pk)
    assert 'data-status="failed"' in frame_chip and frame_chip.endswith(">Failed")
    assert f'title="{REFUSED}' in frame_chip
    assert "Ready for review" not in frame_chip


def test_a_scene_whose_result_expired_reads_failed_too(client_for, editor, project, make_scene, render_on):
    scene = make_scene(title="Pier", duration=4)
    render_on(scene, scenario="expired")

    board = client_for(editor).get(reverse("projects:project_detail", args=[project.pk])).content.decode()

    frame_chip = chip(board, "frame-status", scene.pk)
    assert frame_chip.endswith(">Failed") and "expired" in frame_chip


def test_the_side_panel_says_failed_why_and_whether_the_cost_is_kept(client_for, editor, make_scene, render_on):
    scene = make_scene(title="Harbour", duration=4)
    render_on(scene)

    panel = client_for(editor).get(reverse("projects:scene_panel", args=[scene.project_id, scene.pk]),
                                   HTTP_HX_REQUEST="true").content.decode()

    assert chip(panel, "scene-status").endswith(">Failed")
    reason = re.search(r'data-testid="scene-status-reason"[^>]*>([^<]*)</p>', panel)
    assert reason and reason.group(1).startswith(REFUSED)
    assert 'data-testid="take-status">Failed</span>' in panel
    assert 'data-testid="take-cost-outcome">Not charged</p>' in panel


def test_a_retake_that_failed_after_changes_were_requested_reads_failed_not_in_review(
        client_for, editor, owner, project, make_scene, render_on, finished_take):
    scene = make_scene(title="Harbour", duration=4)
    first = finished_take(scene)
    ReviewDecision.objects.create(scene=scene, take=first, decision=Decision.CHANGES_REQUESTED, by=owner)
    render_on(scene)  # the re-render is refused

    board = client_for(editor).get(reverse("projects:project_detail", args=[project.pk])).content.decode()

    frame_chip = chip(board, "frame-status", scene.pk)
    assert frame_chip.endswith(">Failed") and 'title="Take 2: Refused by Google' in frame_chip


def test_a_teammate_watching_the_board_receives_the_failed_frame_panel_and_card(
        project, make_scene, render_on, veo_server):
    scene = make_scene(title="Harbour", duration=4)
    hub = Hub(draw_all, background=False)
    page = hub.subscribe(Subscriber(channel=("project", project.pk), role=Role.REVIEWER, user_id=0))
    hub.pump()

    take = render_on(scene)
    hub.pump()
    failed = ChangeEvent.objects.get(kind=ChangeKind.TAKE_FAILED, take_id=take.pk)
    message = next(m for m in drain(page) if m.id == failed.pk)

    html = message.data
    assert 'data-status="failed">Failed' in html  # the frame, and the open panel's chip
    assert f'id="scene-status-{scene.pk}" class="scene-status-slot" hx-swap-oob="outerHTML"' in html
    assert f'id="scene-failure-{scene.pk}"' in html and REFUSED in html
    assert f'id="take-{take.pk}"' in html and 'data-testid="take-cost-outcome">Not charged</p>' in html
    assert "Ready for review" not in html


def test_the_review_page_of_a_failed_take_says_failed_why_and_the_cost(client_for, reviewer, make_scene, render_on):
    take = render_on(make_scene(title="Harbour", duration=4))

    page = client_for(reviewer).get(reverse("projects:take_review", args=[take.pk])).content.decode()

    assert 'class="scene-status scene-status--failed" data-testid="scene-status">Failed</span>' in page
    assert "Failed.</strong> Refused by Google" in page
    assert 'data-testid="take-cost-outcome">Not charged</p>' in page
    assert "can be reviewed once it has finished" not in page and "Ready for review" not in page


def test_play_all_says_which_scenes_are_left_out_because_their_take_failed(
        client_for, editor, project, make_scene, render_on):
    make_scene(title="Dawn", duration=4)
    render_on(make_scene(title="Harbour", duration=4))

    page = client_for(editor).get(reverse("projects:project_cut", args=[project.pk])).content.decode()

    missing = page[page.index('data-testid="cut-missing"'):]
    missing = missing[:missing.index("</p>")]
    assert "1. Dawn," in missing  # no take yet: nothing to say
    assert '2. Harbour <span class="chip chip--failed" data-testid="cut-missing-failed">Failed</span>' in missing


def test_the_review_page_of_a_failed_take_reads_failed_though_a_later_take_waits_for_review(
        client_for, reviewer, make_scene, render_on, finished_take):
    scene = make_scene(title="Harbour", duration=4)
    failed = render_on(scene)  # take 1 failed
    finished_take(scene)  # take 2 finished: the scene is ready for review

    page = client_for(reviewer).get(reverse("projects:take_review", args=[failed.pk])).content.decode()

    # The chip by the title is this take's state, not the scene's (which take 2 makes "ready for review").
    assert 'class="scene-status scene-status--failed" data-testid="scene-status">Failed</span>' in page
    assert "Ready for review" not in page
