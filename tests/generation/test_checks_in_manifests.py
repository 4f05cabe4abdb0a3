"""What the checks found travels in the files themselves, not only in the studio's pages.

The studio signs its own copy of every take, so a C2PA reader of a take or of an export sees the
studio's valid signature first. These tests read the files the way anyone downstream would, with
c2pa-python, and find the failed validation codes, a provider file that carried no credentials and a
delivery other than booked in the manifests they open.
"""

import json

import c2pa
import pytest

from generation.models import Status
from generation.provenance.credentials import CHECKS_LABEL, studio_ca_from_settings
from tests.generation.test_provenance import make_mp4
from tests.generation.test_remote_renders import render_on
from tests.provenance_helpers import flip_a_byte_in_mdat


def read(source) -> dict:
    """A file's manifest store as a reader sees it who trusts the studio's CA: "Trusted" then
    proves the studio signed the active manifest and nothing changed since."""
    anchors = studio_ca_from_settings().decode()
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
