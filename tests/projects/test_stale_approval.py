"""Approvals that stay true: editing what made an approved take marks the approval stale;
a withheld take never reads "Approved"; exports pair each take with its own recipe."""

import io
import uuid

import pypdf
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from generation.exports import services as exports
from generation.models import Render
from projects.characters import consent
from projects.models import CharacterKind
from projects.review import services as review
from projects.selectors import board_frame
from projects.storyboard import services


def png():
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 120, 200)).save(buffer, format="PNG")
    return SimpleUploadedFile("ref.png", buffer.getvalue())


@pytest.fixture
def approved_take(scene, finished_take, reviewer):
    take = finished_take(scene)
    review.take_approve(take=take, user=reviewer)
    scene.refresh_from_db()
    return take


def edit(scene, user, **fields):
    scene.refresh_from_db()
    return services.scene_update(scene=scene, expected_version=scene.version, user=user, **fields)


@pytest.mark.parametrize("fields, words", [
    ({"prompt": "A harbour at noon, no mist."}, "prompt (or cast)"),
    ({"duration": 3}, "duration"),
    ({"size": "720x1280"}, "size"),
])
def test_editing_what_made_the_approved_take_marks_the_approval_stale(approved_take, scene, editor, project,
                                                                       fields, words):
    scene = edit(scene, editor, **fields)
    assert scene.approved_take_id == approved_take.pk  # the approval and the take stay
    assert scene.approval_stale_fields and scene.approval_stale_words == words
    frame = board_frame(project=project, scene_id=scene.pk)
    assert (frame.status, frame.status_label) == ("stale_approval", "Stale approval")


def test_renaming_the_scene_keeps_the_approval(approved_take, scene, editor, project):
    scene = edit(scene, editor, title="Dawn, renamed")
    assert scene.approval_stale_fields == []
    assert board_frame(project=project, scene_id=scene.pk).status == "approved"


def test_a_new_reference_image_or_cast_marks_it_stale(approved_take, scene, editor, team, owner):
    services.scene_set_reference(scene=scene, user=editor, upload=png())
    scene.refresh_from_db()
    assert scene.approval_stale_fields == ["reference_image"]
    robo = consent.character_create(team=team, user=owner, name="Robo", kind=CharacterKind.FICTIONAL,
                                    images=[png()], declares_fictional=True)
    services.scene_cast_add(scene=scene, character=robo, user=editor)
    scene.refresh_from_db()
    assert scene.approval_stale_fields == ["reference_image", "prompt"]
    assert scene.approval_stale_words == "reference image and prompt (or cast)"


def test_an_edit_with_nothing_approved_marks_nothing(scene, editor):
    assert edit(scene, editor, prompt="Something else entirely.").approval_stale_fields == []


def test_approving_again_or_rendering_again_clears_it(approved_take, scene, editor, reviewer, finished_take):
    edit(scene, editor, prompt="A harbour at noon.")
    review.take_approve(take=approved_take, user=reviewer)
    scene.refresh_from_db()
    assert scene.approval_stale_fields == []

    edit(scene, editor, duration=3)
    finished_take(scene)
    scene.refresh_from_db()
    assert scene.approval_stale_fields == []
    assert scene.approved_take_id == approved_take.pk


def test_the_review_page_and_panel_say_the_approval_is_stale_and_the_take_still_plays(
        approved_take, scene, editor, client_for, reviewer, project):
    edit(scene, editor, prompt="A harbour at noon.")
    client = client_for(reviewer)
    page = client.get(reverse("projects:take_review", args=[approved_take.pk])).content.decode()
    assert 'data-testid="stale-approval"' in page and "the scene's prompt (or cast) changed" in page
    assert ">Approve again</button>" in page
    panel = client.get(reverse("projects:scene_panel", args=[project.pk, scene.pk])).content.decode()
    assert "Stale approval: take 1" in panel
    video = client.get(reverse("generation:render_file", args=[approved_take.pk, "video"]))
    assert video.status_code == 200


def test_the_panel_and_review_page_say_approved_once(approved_take, scene, client_for, reviewer, project):
    client = client_for(reviewer)
    panel = client.get(reverse("projects:scene_panel", args=[project.pk, scene.pk])).content.decode()
    head = panel[panel.index('data-testid="panel-title"'):panel.index('data-testid="panel-title"') + 1500]
    assert head.count("Approved") == 1 and "Approved: take 1" in head
    page = client.get(reverse("projects:take_review", args=[approved_take.pk])).content.decode()
    header = page[page.index("<h1>"):page.index("</header>", page.index("<h1>"))]
    assert header.count("Approved") == 1 and "Approved take" not in header


def test_a_withheld_take_never_reads_approved(approved_take, scene, client_for, owner, project):
    client = client_for(owner)
    url = reverse("projects:scene_panel", args=[project.pk, scene.pk])
    before = client.get(url).content.decode()
    assert "Approved: take 1" in before and "Approved by" in before
    # Withheld while approved (e.g. data from before revocation cleared approvals).
    Render.objects.filter(pk=approved_take.pk).update(quarantined_at=timezone.now(), quarantine_reason="Sam revoked consent")
    frame = board_frame(project=project, scene_id=scene.pk)
    assert frame.status != "approved" and frame.status_label != "Approved"
    page = client.get(url).content.decode()
    panel = page[page.index('id="scene-panel"'):page.index("</aside>", page.index('id="scene-panel"'))]
    assert "Approved: take" not in panel and "Approved by" not in panel and ">Approved<" not in panel
    assert "Withheld: Sam revoked consent" in panel


def test_the_pdf_pairs_the_take_with_the_prompt_that_made_it(approved_take, scene, editor, project, owner,
                                                           django_capture_on_commit_callbacks):
    old_prompt = approved_take.recipe["prompt"]
    edit(scene, editor, prompt="A completely different scene at night.")
    with django_capture_on_commit_callbacks(execute=True):
        export, _ = exports.export_create(project=project, user=owner, idempotency_key=uuid.uuid4())
    export.refresh_from_db()
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(export.pdf.path).pages)
    assert old_prompt in text
    assert "A completely different scene at night." not in text
