"""The provenance verdict acts: a tampered take is shown as such everywhere and cannot be
approved, remixed or exported unless an owner overrides with a written reason."""

import json
import re
import uuid
import zipfile
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from generation.exports import services as exports
from generation.models import Export, ExportStatus, Render
from generation.provenance.credentials import read_with_settings
from generation.renders import services as generation
from projects import selectors
from projects.models import Activity, ActivityKind, Decision, ReviewDecision
from projects.review import services as review
from tests.provenance_helpers import tamper


@pytest.fixture
def tampered(scene, render_take, remixable_previz):
    return tamper(render_take(scene))


@pytest.fixture
def run_export(django_capture_on_commit_callbacks):
    def run(project, user) -> Export:
        with django_capture_on_commit_callbacks(execute=True):
            export, _ = exports.export_create(project=project, user=user, idempotency_key=uuid.uuid4())
        export.refresh_from_db()
        return export

    return run


# --- Services ---------------------------------------------------------------------------------


def test_a_tampered_take_cannot_be_approved(tampered, reviewer):
    with pytest.raises(ValidationError, match="cannot be approved.*the video's bytes changed after it was signed"):
        review.take_approve(take=tampered, user=reviewer)
    tampered.scene.refresh_from_db()
    assert tampered.scene.approved_take_id is None
    assert not ReviewDecision.objects.exists()


def test_only_an_owner_may_override_and_only_with_a_reason(tampered, reviewer, owner):
    with pytest.raises(ValidationError, match="Only an owner"):
        review.take_approve(take=tampered, user=reviewer, override_reason="I checked it with the vendor.")
    with pytest.raises(ValidationError, match="To approve it anyway, an owner writes the reason"):
        review.take_approve(take=tampered, user=owner, override_reason="   ")
    with pytest.raises(ValidationError, match="in a sentence"):
        review.take_approve(take=tampered, user=owner, override_reason="ok")
    tampered.scene.refresh_from_db()
    assert tampered.scene.approved_take_id is None


def test_an_owner_override_is_recorded_with_its_reason(tampered, owner):
    scene = review.take_approve(take=tampered, user=owner,
                                override_reason="Re-encoded by our colourist; original checked by hand.")
    assert scene.approved_take_id == tampered.pk
    (decision,) = selectors.history(scene)
    assert decision.decision == Decision.APPROVED_OVERRIDE
    assert decision.note.startswith("Reason: Re-encoded by our colourist; original checked by hand. (approved despite: ")
    assert "the video's bytes changed after it was signed" in decision.note
    assert selectors.approval_override(tampered) == decision


def test_a_take_without_credentials_can_be_approved(scene, render_take, reviewer):
    take = render_take(scene)
    Render.objects.filter(pk=take.pk).update(c2pa_state="none", c2pa_manifest=None)
    take.refresh_from_db()
    review.take_approve(take=take, user=reviewer)
    scene.refresh_from_db()
    assert scene.approved_take_id == take.pk


def test_a_tampered_take_cannot_be_remixed_by_an_editor(tampered, editor):
    with pytest.raises(ValidationError, match="Take 1 cannot be remixed. Its content credentials failed.*"
                                              "To remix it anyway, an owner writes the reason"):
        generation.render_remix(render=tampered, user=editor, prompt="Warmer light", idempotency_key=uuid.uuid4())
    with pytest.raises(ValidationError, match="Only an owner can remix it anyway"):
        generation.render_remix(render=tampered, user=editor, prompt="Warmer light", idempotency_key=uuid.uuid4(),
                                override_reason="I trust this one, honestly.")
    assert Render.objects.count() == 1
    assert not ReviewDecision.objects.exists()


def test_a_take_delivered_other_than_booked_cannot_be_remixed_without_an_owners_reason(
        scene, render_take, owner, remixable_previz):
    take = render_take(scene)
    Render.objects.filter(pk=take.pk).update(delivery_problems=["2 s instead of the booked 4 s"])
    take.refresh_from_db()
    with pytest.raises(ValidationError, match="delivered something other than what was booked: 2 s instead"):
        generation.render_remix(render=take, user=owner, prompt="Warmer light", idempotency_key=uuid.uuid4())
    with pytest.raises(ValidationError, match="in a sentence"):
        generation.render_remix(render=take, user=owner, prompt="Warmer light", idempotency_key=uuid.uuid4(),
                                override_reason="fine")
    assert Render.objects.count() == 1


def test_an_owner_remixes_a_tampered_take_with_a_reason_kept_in_history_feed_and_recipe(tampered, owner):
    key = uuid.uuid4()
    reason = "The vendor re-muxed it; the picture is what we booked."
    remix, created = generation.render_remix(render=tampered, user=owner, prompt="Warmer light",
                                             idempotency_key=key, override_reason=reason)
    again, created_again = generation.render_remix(render=tampered, user=owner, prompt="Warmer light",
                                                   idempotency_key=key, override_reason=reason)

    assert created and not created_again and again.pk == remix.pk
    remix.refresh_from_db()
    assert remix.parent_id == tampered.pk and remix.lineage == "Remix of take 1"
    kept = remix.recipe["remix_override"]
    assert kept["by"] == owner.get_username()
    assert kept["reason"].startswith(f"Reason: {reason} (remixed despite: Its content credentials failed")
    (decision,) = selectors.history(tampered.scene)  # one click, one record
    assert (decision.decision, decision.take_id, decision.by) == (Decision.REMIX_OVERRIDE, tampered.pk, owner)
    assert decision.note == kept["reason"]
    assert selectors.approval_override(tampered) is None  # remixing it approves nothing
    feed = Activity.objects.get(kind=ActivityKind.REMIX_OVERRIDE)
    assert feed.take_id == remix.pk and reason in feed.text


def test_a_remix_of_a_sound_take_needs_no_reason_and_records_no_override(scene, render_take, editor,
                                                                        remixable_previz):
    take = render_take(scene)
    remix, _ = generation.render_remix(render=take, user=editor, prompt="Warmer light", idempotency_key=uuid.uuid4())
    assert "remix_override" not in remix.recipe
    assert not ReviewDecision.objects.exists()


# --- Pages ------------------------------------------------------------------------------------


def test_every_page_shows_the_takes_state_at_a_glance(client_for, owner, tampered, project):
    client = client_for(owner)
    board = client.get(reverse("projects:project_detail", args=[project.pk])).content.decode()
    assert 'data-testid="provenance-chip"' in board and ">Tampered or broken</span>" in board
    panel = client.get(reverse("projects:scene_panel", args=[project.pk, tampered.scene_id])).content.decode()
    assert 'data-state="invalid"' in panel and 'data-testid="approve-blocked"' in panel
    assert 'data-testid="approve-button"' not in panel
    assert "Remix this take anyway" in panel and 'data-testid="remix-override-reason"' in panel
    page = client.get(reverse("projects:take_review", args=[tampered.pk])).content.decode()
    assert ">Tampered or broken</span>" in page and 'data-testid="override-reason"' in page
    assert ">Approve anyway</button>" in page


def test_a_reviewer_sees_why_and_no_way_to_approve(client_for, reviewer, tampered):
    client = client_for(reviewer)
    page = client.get(reverse("projects:take_review", args=[tampered.pk])).content.decode()
    assert "This take cannot be approved" in page and "Only an owner can approve it anyway" in page
    assert 'data-testid="override-reason"' not in page
    response = client.post(reverse("projects:take_decide", args=[tampered.pk]), {"decision": "approve"})
    assert response.status_code == 422
    assert "cannot be approved" in response.content.decode()
    tampered.scene.refresh_from_db()
    assert tampered.scene.approved_take_id is None


def test_an_owner_overrides_on_the_review_page_and_the_history_shows_the_reason(client_for, owner, tampered):
    client = client_for(owner)
    url = reverse("projects:take_decide", args=[tampered.pk])
    refused = client.post(url, {"decision": "approve", "override_reason": ""})
    assert refused.status_code == 422 and "an owner writes the reason" in refused.content.decode()

    client.post(url, {"decision": "approve", "override_reason": "Checked against the master by hand."})

    tampered.scene.refresh_from_db()
    assert tampered.scene.approved_take_id == tampered.pk
    history = client.get(reverse("projects:take_review", args=[tampered.pk])).content.decode()
    assert "Approved despite failed checks" in history and "Checked against the master by hand." in history


def test_an_editor_sees_the_remix_refused_with_words_saying_an_owner_can_override(client_for, editor, tampered,
                                                                                   project):
    client = client_for(editor)
    panel = client.get(reverse("projects:scene_panel", args=[project.pk, tampered.scene_id])).content.decode()
    assert 'data-testid="remix-blocked"' in panel and "An owner can remix it anyway with a written reason" in panel
    assert 'data-testid="remix-override-reason"' not in panel

    response = client.post(reverse("generation:render_remix", args=[tampered.pk]),
                           {"prompt": "Warmer light", "idempotency_key": str(uuid.uuid4()),
                            "override_reason": "I would like to anyway."}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert "cannot be remixed" in response.content.decode()
    assert "Only an owner can remix it anyway" in response.content.decode()
    assert Render.objects.count() == 1


def test_an_owner_remixes_from_the_panel_with_a_reason_and_the_history_shows_it(client_for, owner, tampered):
    client = client_for(owner)
    url = reverse("generation:render_remix", args=[tampered.pk])
    refused = client.post(url, {"prompt": "Warmer light", "idempotency_key": str(uuid.uuid4()),
                                "override_reason": ""}, HTTP_HX_REQUEST="true")
    assert "To remix it anyway, an owner writes the reason" in refused.content.decode()
    assert Render.objects.count() == 1

    client.post(url, {"prompt": "Warmer light", "idempotency_key": str(uuid.uuid4()),
                      "override_reason": "Checked the picture against the master."}, HTTP_HX_REQUEST="true")

    remix = Render.objects.get(parent=tampered)
    assert remix.recipe["prompt"] == "Warmer light"
    history = client.get(reverse("projects:take_review", args=[tampered.pk])).content.decode()
    assert "Remixed despite failed checks" in history and "Checked the picture against the master." in history


def test_the_panel_approve_button_refuses_a_tampered_take_in_words(client_for, reviewer, tampered):
    response = client_for(reviewer).post(
        reverse("projects:scene_approve", args=[tampered.scene_id, tampered.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "cannot be approved" in response.content.decode()
    tampered.scene.refresh_from_db()
    assert tampered.scene.approved_take_id is None


def test_a_take_without_credentials_shows_a_caution_by_its_approve_button(client_for, reviewer, scene, render_take):
    take = render_take(scene)
    Render.objects.filter(pk=take.pk).update(c2pa_state="none")
    page = client_for(reviewer).get(reverse("projects:take_review", args=[take.pk])).content.decode()
    assert ">No credentials</span>" in page
    assert "No content credentials: its origin cannot be checked" in page and 'data-testid="approve-button"' in page


# --- Exports ----------------------------------------------------------------------------------


def test_an_approved_take_found_tampered_later_is_left_out_of_the_export(
        scene, render_take, reviewer, owner, project, client_for, run_export):
    take = render_take(scene)
    review.take_approve(take=take, user=reviewer)
    tamper(take)  # e.g. found on re-verification after approval

    page = client_for(owner).get(reverse("generation:export_list", args=[project.pk])).content.decode()
    assert "has tampered or broken content credentials; an owner can approve it anyway" in page
    assert ">Tampered or broken</span>" in page
    with pytest.raises(ValidationError, match="No scene has an approved take"):
        exports.export_create(project=project, user=owner, idempotency_key=uuid.uuid4())


def test_an_approved_take_delivered_other_than_booked_is_left_out_saying_so(
        scene, render_take, reviewer, owner, project, client_for):
    take = render_take(scene)
    review.take_approve(take=take, user=reviewer)
    Render.objects.filter(pk=take.pk).update(delivery_problems=["2 s instead of the booked 4 s"])

    page = client_for(owner).get(reverse("generation:export_list", args=[project.pk])).content.decode()
    assert f"Approved take {take.number} was delivered other than booked; an owner can approve it anyway" in page
    with pytest.raises(ValidationError, match="No scene has an approved take"):
        exports.export_create(project=project, user=owner, idempotency_key=uuid.uuid4())


def test_an_overridden_take_goes_into_the_export_with_its_reason_in_the_manifest(
        tampered, owner, project, client_for, run_export):
    review.take_approve(take=tampered, user=owner, override_reason="Checked against the master by hand.")
    page = client_for(owner).get(reverse("generation:export_list", args=[project.pk])).content.decode()
    assert 'data-testid="export-override"' in page and "Checked against the master by hand." in page

    export = run_export(project, owner)

    assert export.status == ExportStatus.SUCCEEDED, export.error_message
    report = read_with_settings(Path(export.mp4.path))
    active = report.manifest["manifests"][report.manifest["active_manifest"]]
    (approvals,) = [a["data"] for a in active["assertions"] if a["label"] == "studio.storyboard.approvals"]
    (override,) = approvals["approved_despite_failed_checks"]
    assert (override["scene"], override["take"], override["approved_by"]) == (1, tampered.number, owner.get_username())
    assert override["reason"].startswith("Reason: Checked against the master by hand. (approved despite: ")


def test_an_overridden_remix_carries_the_reason_into_the_export_package(
        tampered, owner, project, django_capture_on_commit_callbacks, run_export):
    from generation.tasks import submit_render

    remix, _ = generation.render_remix(render=tampered, user=owner, prompt="Warmer light",
                                       idempotency_key=uuid.uuid4(),
                                       override_reason="Checked the picture against the master.")
    # The previz cannot rework a video: it draws the remix's recipe as a fresh take instead.
    Render.objects.filter(pk=remix.pk).update(recipe={k: v for k, v in remix.recipe.items() if k != "remix_of"})
    with django_capture_on_commit_callbacks(execute=True):
        submit_render.delay(remix.pk)
    remix.refresh_from_db()
    review.take_approve(take=remix, user=owner)

    export = run_export(project, owner)

    assert export.status == ExportStatus.SUCCEEDED, export.error_message
    with zipfile.ZipFile(export.zip.path) as archive:
        (name,) = [n for n in archive.namelist() if n.startswith("provenance/")]
        record = json.loads(archive.read(name))
    assert record["take"]["id"] == remix.pk
    kept = record["recipe"]["remix_override"]
    assert kept["by"] == owner.get_username()
    assert kept["reason"].startswith("Reason: Checked the picture against the master. (remixed despite: ")


def test_compare_play_all_and_guest_pages_show_each_takes_state(client, client_for, owner, reviewer, scene,
                                                              render_take, project):
    good, bad = render_take(scene), tamper(render_take(scene))
    review.take_approve(take=good, user=reviewer)
    member = client_for(owner)
    compare = member.get(reverse("projects:scene_compare", args=[scene.pk]),
                         {"a": good.pk, "b": bad.pk}).content.decode()
    assert ">Signed by this studio</span>" in compare and ">Tampered or broken</span>" in compare
    cut = member.get(reverse("projects:project_cut", args=[project.pk])).content.decode()
    sequence = json.loads(re.search(r'<script id="cut-stops" type="application/json">(.*?)</script>', cut, re.S)[1])
    (stop,) = sequence["stops"]
    assert sequence["chips"][stop["chip"]]["label"] == "Signed by this studio"  # the chip Play all draws
    member.logout()

    from projects.review import guest_links

    _link, token = guest_links.link_create(project=project, user=owner, label="Client", scope="scenes",
                                           scenes=[scene], days=3)
    url = reverse("projects:guest_review", args=[token])
    client.post(url, {"action": "name", "name": "Grace"})
    guest = client.get(url).content.decode()
    assert ">Signed by this studio</span>" in guest and ">Tampered or broken</span>" in guest
