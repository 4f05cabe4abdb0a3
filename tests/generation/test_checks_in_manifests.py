"""What the checks found travels in the files themselves, not only in the studio's pages.

The studio signs its own copy of every take, so a C2PA reader of a take or of an export sees the
studio's valid signature first. These tests read the files the way anyone downstream would, with
c2pa-python, and find the failed validation codes, a provider file that carried no credentials, a
delivery other than booked, and an owner's override (who, when, why) in the manifests they open.
"""

import json
import uuid
import zipfile
from pathlib import Path

import c2pa
import pytest

from generation.exports import services as exports
from generation.exports.package import OVERRIDE_LABEL
from generation.models import ExportStatus, Status
from generation.provenance.credentials import CHECKS_LABEL, studio_ca_from_settings
from projects.review import services as review
from tests.generation.test_provenance import make_mp4
from tests.generation.test_remote_renders import render_on
from tests.provenance_helpers import flip_a_byte_in_mdat, tamper

REASON = "Checked the picture against the vendor's master by hand."


def read(source) -> dict:
    """A file's manifest store as a reader sees it who trusts the studio's CA: "Trusted" then
    proves the studio signed the active manifest and nothing changed since."""
    ca = studio_ca_from_settings()
    assert ca is not None, "the tests run with a studio CA"
    anchors = ca.decode()
    with c2pa.Context.from_dict({"trust": {"user_anchors": anchors}}) as context, \
            c2pa.Reader.try_create("video/mp4", source, None, context) as reader:
        return json.loads(reader.json())


def read_take(take) -> dict:
    with take.video.open("rb") as fh:
        return read(fh)


def active(store: dict) -> dict:
    return store["manifests"][store["active_manifest"]]


def assertion(manifest: dict, label: str):
    return next((a["data"] for a in manifest["assertions"] if a["label"] == label), None)


def actions(manifest: dict) -> list[dict]:
    return assertion(manifest, "c2pa.actions.v2")["actions"]


@pytest.fixture
def delivers(monkeypatch, provider_server):
    """Make the fake provider deliver these bytes instead of its signed fixture."""
    return lambda data: monkeypatch.setattr(provider_server, "video", bytes(data))


@pytest.fixture
def gateway_take(gateway, make_scene, editor, django_capture_on_commit_callbacks):
    def render():
        take = render_on(gateway, make_scene(duration=4), "veo-3.1", editor, django_capture_on_commit_callbacks)
        assert take.status == Status.SUCCEEDED, take.error_message
        return take

    return render


@pytest.fixture
def run_export(project, owner, django_capture_on_commit_callbacks):
    def run():
        with django_capture_on_commit_callbacks(execute=True):
            export, _ = exports.export_create(project=project, user=owner, idempotency_key=uuid.uuid4())
        export.refresh_from_db()
        assert export.status == ExportStatus.SUCCEEDED, export.error_message
        return export

    return run


def zipped_clip(export) -> bytes:
    with zipfile.ZipFile(export.zip.path) as archive:
        (name,) = [n for n in archive.namelist() if n.startswith("clips/")]
        return archive.read(name)


def read_bytes(data: bytes, tmp_path: Path) -> dict:
    path = tmp_path / f"clip-{uuid.uuid4().hex}.mp4"
    path.write_bytes(data)
    with path.open("rb") as fh:
        return read(fh)


# --- The take's own manifest ------------------------------------------------------------------


def test_a_take_from_a_tampered_delivery_says_in_its_own_manifest_which_checks_failed(
        gateway_take, delivers, provider_server):
    delivers(flip_a_byte_in_mdat(bytearray(provider_server.video)))

    take = gateway_take()

    assert take.c2pa_state == "invalid" and "assertion.bmffHash.mismatch" in take.c2pa_codes
    store = read_take(take)
    assert store["validation_state"] == "Trusted"  # the studio's signature on its copy is sound...
    manifest = active(store)
    checks = assertion(manifest, CHECKS_LABEL)  # ...and its contents no longer hide the failure
    assert checks["passed"] is False
    assert checks["provider_credentials"]["state"] == "invalid"
    assert "assertion.bmffHash.mismatch" in checks["provider_credentials"]["failures"]
    assert "signingCredential.untrusted" not in checks["provider_credentials"]["failures"]
    # The fake delivers a 2 s portrait clip for a booked 4 s landscape take.
    assert checks["delivery"] == {"as_booked": False, "problems": take.delivery_problems}
    assert "2 s instead of the booked 4 s" in checks["delivery"]["problems"]
    (created,) = actions(manifest)
    assert "failed validation: the video's bytes changed after it was signed (assertion.bmffHash.mismatch)" \
        in created["description"]
    assert "other than what was booked: 720×1280 instead of the booked 1280×720" in created["description"]


def test_a_take_whose_provider_file_carried_no_credentials_says_so_in_its_own_manifest(
        gateway_take, delivers, tmp_path):
    delivers(make_mp4(tmp_path / "bare.mp4").read_bytes())

    take = gateway_take()

    assert take.c2pa_state == "none"
    store = read_take(take)
    assert store["validation_state"] == "Trusted"
    manifest = active(store)
    assert not manifest.get("ingredients")  # nothing to keep: the provider said nothing
    checks = assertion(manifest, CHECKS_LABEL)
    assert checks["passed"] is False
    assert checks["provider_credentials"] == {"present": False, "state": "none", "failures": [], "codes": []}
    assert "The provider's file carried no content credentials." in checks["findings"]
    (created,) = actions(manifest)
    assert "The provider's file carried no content credentials." in created["description"]


def test_a_take_whose_checks_passed_says_that_and_nothing_else(scene, render_take):
    take = render_take(scene)

    manifest = active(read_take(take))
    checks = assertion(manifest, CHECKS_LABEL)
    assert checks["passed"] is True and checks["findings"] == []
    assert checks["delivery"] == {"as_booked": True, "problems": []}
    assert checks["provider_credentials"]["present"] is True
    assert checks["provider_credentials"]["failures"] == []
    (created,) = actions(manifest)
    assert created["description"].startswith("The studio's checks on delivery passed")


# --- Exports of a take an owner approved though its checks failed --------------------------------


def test_the_exported_clip_of_an_overridden_take_carries_the_override_and_what_failed(
        gateway_take, delivers, provider_server, owner, run_export, tmp_path):
    delivers(flip_a_byte_in_mdat(bytearray(provider_server.video)))
    take = gateway_take()
    scene = review.take_approve(take=take, user=owner, override_reason=REASON)

    export = run_export()

    store = read_bytes(zipped_clip(export), tmp_path)
    assert store["validation_state"] == "Trusted"
    manifest = active(store)
    override = assertion(manifest, OVERRIDE_LABEL)
    assert override["approved_by"] == owner.get_username()
    assert override["approved_at"] == scene.approved_at.isoformat()
    assert override["reason"].startswith(f"Reason: {REASON} (approved despite: ")
    assert "assertion.bmffHash.mismatch" in override["checks"]["codes"]
    assert "2 s instead of the booked 4 s" in override["checks"]["delivery_problems"]
    (opened,) = actions(manifest)
    assert opened["action"] == "c2pa.opened"
    assert owner.get_username() in opened["description"] and scene.approved_at.isoformat() in opened["description"]
    assert REASON in opened["description"]
    # Beneath it, the take as the studio kept it: its own manifest says what its checks found.
    (parent,) = manifest["ingredients"]
    assert parent["relationship"] == "parentOf"
    kept = store["manifests"][parent["active_manifest"]]
    assert "assertion.bmffHash.mismatch" in assertion(kept, CHECKS_LABEL)["provider_credentials"]["failures"]

    # The film: the take's ingredient is that clip, override and all, and its placement says so.
    with open(export.mp4.path, "rb") as fh:
        film = read(fh)
    cut = active(film)
    (ingredient,) = cut["ingredients"]
    placed = film["manifests"][ingredient["active_manifest"]]
    assert assertion(placed, OVERRIDE_LABEL)["reason"] == override["reason"]
    (placement,) = [a for a in actions(cut) if a["action"] == "c2pa.placed"]
    assert REASON in placement["description"] and owner.get_username() in placement["description"]
    approvals = assertion(cut, "studio.storyboard.approvals")
    (listed,) = approvals["approved_despite_failed_checks"]
    assert listed["approved_at"] == scene.approved_at.isoformat()


def test_an_overridden_take_altered_in_storage_is_exported_under_a_manifest_that_says_so(
        scene, render_take, owner, run_export, tmp_path):
    """The stored copy changed after the studio signed it: signing the clip again must not make a
    valid manifest out of it that mentions nothing (the failure only inside its ingredient)."""
    take = tamper(render_take(scene))
    review.take_approve(take=take, user=owner, override_reason=REASON)

    export = run_export()

    store = read_bytes(zipped_clip(export), tmp_path)
    manifest = active(store)
    override = assertion(manifest, OVERRIDE_LABEL)
    assert override["checks"]["content_credentials"] == "invalid"
    assert "assertion.bmffHash.mismatch" in override["checks"]["codes"]
    (opened,) = actions(manifest)
    assert "assertion.bmffHash.mismatch" in opened["description"]  # the blocker, in the reason's words


def test_a_take_approved_without_an_override_is_exported_as_it_was_stored(
        scene, render_take, reviewer, run_export):
    take = render_take(scene)
    review.take_approve(take=take, user=reviewer)

    export = run_export()

    with take.video.open("rb") as fh:
        assert zipped_clip(export) == fh.read()
