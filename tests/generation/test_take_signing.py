"""The studio signs every take it keeps: read back with c2pa-python, each claim is there."""

import json
import uuid
from pathlib import Path

import c2pa
import pytest

from generation.models import Render, Status
from generation.provenance.credentials import (
    TAKE_LABEL,
    TRAINING_MINING_LABEL,
    canonical_sha256,
    studio_ca_from_settings,
)
from projects.characters import consent
from projects.models import CharacterKind, Role, Team
from tests.generation.test_remote_renders import four_second_scene, gateway, render_on  # noqa: F401

TRAINED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
ALGORITHMIC = "http://cv.iptc.org/newscodes/digitalsourcetype/algorithmicMedia"


def read_store(take: Render) -> dict:
    """The take's stored file as a C2PA reader sees it that trusts the studio's own CA (the studio's
    own CA is no trust anchor of the studio's verdicts; here it proves who signed the copy)."""
    ca = studio_ca_from_settings()
    assert ca is not None, "the tests run with a studio CA"
    anchors = ca.decode()
    with take.video.open("rb") as fh, c2pa.Context.from_dict({"trust": {"user_anchors": anchors}}) as context:
        with c2pa.Reader.try_create("video/mp4", fh, None, context) as reader:
            return json.loads(reader.json())


def active(store: dict) -> dict:
    return store["manifests"][store["active_manifest"]]


def assertion(manifest: dict, label: str):
    return next((a["data"] for a in manifest["assertions"] if a["label"] == label), None)


@pytest.fixture
def maya(team, make_member):
    from tests.projects.test_consent import photo

    person = make_member(team, Role.EDITOR, "maya")
    character = consent.character_create(team=team, user=person, name="Maya", kind=CharacterKind.PERSON,
                                         person=person, description="red coat", images=[photo()])
    consent.consent_grant(character=character, user=person)
    return character


@pytest.fixture
def robo(team, owner):
    from tests.projects.test_consent import photo

    return consent.character_create(team=team, user=owner, name="Robo", kind=CharacterKind.FICTIONAL,
                                    images=[photo()], declares_fictional=True)


def test_a_previz_take_is_signed_by_the_studio_with_its_cast_consent_and_do_not_train(
        make_scene, render_take, maya, robo):
    scene = make_scene(title="Pier", prompt="@Maya and @Robo on the pier.")
    take = render_take(scene)
    assert take.status == Status.SUCCEEDED, take.error_message

    store = read_store(take)
    manifest = active(store)
    assert store["validation_state"] == "Trusted"
    assert manifest["signature_info"]["issuer"] == "Storyboard Studio (local)"
    assert manifest["title"] == "Scene 1: Pier (take 1)"
    created = assertion(manifest, "c2pa.actions.v2")["actions"][0]
    assert created["action"] == "c2pa.created"
    assert created["digitalSourceType"] == ALGORITHMIC  # drawn by the previz, not a trained model
    assert created["parameters"] == {"provider": "local", "model": "previz-animatic-1"}

    claims = assertion(manifest, TAKE_LABEL)
    assert claims["request"] == {"alg": "sha256", "hash": canonical_sha256(take.recipe)}
    assert "pier" not in json.dumps(claims).lower()  # a hash of the request, never the prompt itself
    grant = maya.active_grant()
    entries = {e["character"]: e for e in claims["consent"]["grants"]}
    assert entries[maya.pk]["grant"] == grant.pk and len(entries[maya.pk]["sha256"]) == 64
    assert entries[robo.pk] == {"character": robo.pk, "grant": None, "sha256": None}  # fictional: no consent
    assert claims["consent"]["hash"] == canonical_sha256(claims["consent"]["grants"])
    refusal = assertion(manifest, TRAINING_MINING_LABEL)
    assert refusal["entries"]["cawg.ai_training"] == {"use": "notAllowed"}

    # The previz's own manifest travels inside as the parent ingredient.
    parent = manifest["ingredients"][0]
    assert parent["relationship"] == "parentOf"
    assert store["manifests"][parent["active_manifest"]]["claim_generator_info"][0]["name"] == "Storyboard Studio"
    assert take.c2pa_summary["studio_signed"] is True


def test_a_grant_changed_after_the_take_was_sent_does_not_change_what_it_records(
        make_scene, render_take, maya, team):
    first = maya.active_grant()
    take = render_take(make_scene(prompt="@Maya at dawn."))
    consent.consent_grant(character=maya, user=maya.person)  # later: revokes the first, grants anew
    take.refresh_from_db()
    from generation.provenance.take_signing import consents_at_render_time

    assert [e["grant"] for e in consents_at_render_time(take)] == [first.pk]


def test_a_provider_take_keeps_the_providers_manifest_as_parent_and_shows_its_verdict(
        gateway, four_second_scene, editor, django_capture_on_commit_callbacks):  # noqa: F811 (fixtures shared with test_remote_renders)
    take = render_on(gateway, four_second_scene, "veo-3.1", editor, django_capture_on_commit_callbacks)
    assert take.status == Status.SUCCEEDED, take.error_message
    # What the take shows is still the provider's own credential, honestly.
    assert take.c2pa_summary["signer"] == "C2PA Test Signing Cert" and take.c2pa_state == "valid"

    store = read_store(take)
    manifest = active(store)
    assert manifest["signature_info"]["issuer"] == "Storyboard Studio (local)"
    created = assertion(manifest, "c2pa.actions.v2")["actions"][0]
    assert created["digitalSourceType"] == TRAINED
    assert created["parameters"] == {"provider": "openai-videos", "model": "veo-3.1"}
    parent = manifest["ingredients"][0]
    assert parent["relationship"] == "parentOf"
    assert store["manifests"][parent["active_manifest"]]["signature_info"]["issuer"] == "C2PA Test Signing Cert"
    assert assertion(manifest, TAKE_LABEL)["consent"]["grants"] == []


def test_a_team_that_allows_training_gets_no_refusal_assertion(make_scene, render_take, team):
    Team.objects.filter(pk=team.pk).update(do_not_train=False)
    take = render_take(make_scene())
    manifest = active(read_store(take))
    assert assertion(manifest, TRAINING_MINING_LABEL) is None
    assert assertion(manifest, TAKE_LABEL)["do_not_train"] is False


def test_an_export_carries_each_takes_studio_manifest(project, owner, reviewer, make_scene, render_take,
                                                      django_capture_on_commit_callbacks):
    from generation.exports import services as exports
    from generation.provenance.credentials import read_with_settings
    from projects.review.services import take_approve

    take = render_take(make_scene(title="Dawn", duration=1))
    take_approve(take=take, user=reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        export, _ = exports.export_create(project=project, user=owner, idempotency_key=uuid.uuid4())
    export.refresh_from_db()
    report = read_with_settings(Path(export.mp4.path))
    ingredient = active(report.manifest)["ingredients"][0]
    take_manifest = report.manifest["manifests"][ingredient["active_manifest"]]
    assert assertion(take_manifest, TAKE_LABEL)["request"]["hash"] == canonical_sha256(take.recipe)
    assert assertion(take_manifest, TRAINING_MINING_LABEL) is not None


def test_an_owner_turns_the_do_not_train_setting_off_on_the_team_page(client_for, owner, team):
    client = client_for(owner)
    page = client.get(f"/teams/{team.pk}/members/").content.decode()
    assert "refuses AI training" in page
    response = client.post(f"/teams/{team.pk}/training/", {"do_not_train": "off"}, follow=True)
    assert "no longer refuse AI training" in response.content.decode()
    team.refresh_from_db()
    assert team.do_not_train is False


def test_an_editor_cannot_change_the_training_setting(client_for, editor, team):
    response = client_for(editor).post(f"/teams/{team.pk}/training/", {"do_not_train": "off"})
    assert response.status_code == 403
    team.refresh_from_db()
    assert team.do_not_train is True


def test_an_outsider_gets_404_and_a_bad_choice_a_message(client_for, outsider, owner, team):
    assert client_for(outsider).post(f"/teams/{team.pk}/training/", {"do_not_train": "off"}).status_code == 404
    response = client_for(owner).post(f"/teams/{team.pk}/training/", {"do_not_train": "maybe"}, follow=True)
    assert "Choose whether takes may be used for AI training" in response.content.decode()
    team.refresh_from_db()
    assert team.do_not_train is True


def test_a_webm_take_is_kept_unsigned_with_a_note(make_scene, render_take, tmp_path):
    """C2PA cannot embed a manifest in WebM: the file is kept as delivered, and the take says so."""
    import av
    import numpy as np

    from generation.provenance.credentials import TakeChecks
    from generation.provenance.take_signing import take_sign

    webm = tmp_path / "video.mp4"  # named as the pipeline names every download: the bytes decide
    with av.open(str(webm), "w", format="webm") as container:
        stream = container.add_stream("libvpx", rate=12)
        stream.width = stream.height = 64
        stream.pix_fmt = "yuv420p"
        for i in range(6):
            frame = av.VideoFrame.from_ndarray(np.full((64, 64, 3), i * 30, np.uint8), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    kept = take_sign(render=render_take(make_scene()), video=webm, checks=TakeChecks("none"))
    assert kept.path == webm and webm.read_bytes()[:4] == b"\x1a\x45\xdf\xa3"  # untouched WebM
    assert kept.summary == {"studio_signed": False,
                            "studio_note": "Stored unsigned: this video format cannot carry content credentials."}


# --- Signing from the read the checks made: the same manifest, the provider's file validated once ---

def stored_store(path: Path) -> dict:
    with open(path, "rb") as fh, c2pa.Context.from_dict({}) as context, \
            c2pa.Reader.try_create("video/mp4", fh, None, context) as reader:
        return json.loads(reader.json())


def comparable(store: dict, *, random_instance_id: bool) -> dict:
    """The stored file's manifests without what differs between any two signings (the claim's own
    label, and the ids c2pa-rs makes up when the file's XMP names none)."""
    manifest = dict(active(store))
    manifest.pop("label")
    parent = dict(manifest["ingredients"][0])
    if random_instance_id:
        assert parent.pop("instance_id").startswith("xmp.iid:")
        assert manifest.pop("instance_id").startswith("xmp.iid:")
    manifest["ingredients"] = [parent]
    others = {label: m for label, m in store["manifests"].items() if label != store["active_manifest"]}
    return {"manifest": manifest, "others": others, "state": store["validation_state"]}


@pytest.fixture
def pki(tmp_path):
    from generation.provenance.credentials import ensure_local_identity

    return {"studio": ensure_local_identity(tmp_path / "studio"),
            "provider": ensure_local_identity(tmp_path / "provider", organization="Provider Inc")}


def provider_file(kind: str, tmp_path, pki) -> Path:
    from generation.provenance.credentials import sign_mp4
    from tests.fakes.provider_server import FIXTURE
    from tests.generation.test_provenance import make_mp4
    from tests.provenance_helpers import flip_a_byte_in_mdat

    if kind == "signed by an outside tool, with XMP":
        return FIXTURE
    if kind == "tampered after signing":
        path = tmp_path / "tampered.mp4"
        path.write_bytes(flip_a_byte_in_mdat(bytearray(FIXTURE.read_bytes())))
        return path
    path = tmp_path / "provider.mp4"
    sign_mp4(src=make_mp4(tmp_path / "raw.mp4"), dst=path, identity=pki[kind], title="result",
             claim_generator="Provider/1", digital_source_type=TRAINED, recipe={})
    return path


@pytest.mark.parametrize("kind", ["signed by an outside tool, with XMP", "tampered after signing", "provider",
                                  "studio"])
def test_signing_from_the_checks_read_writes_the_manifest_c2pa_reading_the_file_again_writes(kind, tmp_path, pki):
    from generation.provenance import credentials as provenance

    delivered = provider_file(kind, tmp_path, pki)
    read = provenance.read_provenance(delivered, studio_ca_pem=pki["studio"].ca_pem)
    claim = provenance.TakeClaim(title="Scene 1: Dawn (take 1)", claim_generator="Storyboard Studio/1",
                                 digital_source_type=TRAINED, provider="openai-videos", model="veo-3.1",
                                 request_sha256="0" * 64, consents=[], do_not_train=True,
                                 checks=provenance.TakeChecks.of(read))
    again, from_read = tmp_path / "again.mp4", tmp_path / "from-read.mp4"
    provenance.sign_take(src=delivered, dst=again, identity=pki["studio"], claim=claim)
    provenance.sign_take(src=delivered, dst=from_read, identity=pki["studio"], claim=claim, read=read)

    random_id = kind in ("provider", "studio")  # made by sign_mp4: no XMP
    assert comparable(stored_store(from_read), random_instance_id=random_id) == \
        comparable(stored_store(again), random_instance_id=random_id)
    # The provider's verdict on the copy is what it was on the file as delivered.
    kept = provenance.read_kept_take(from_read, studio_ca_pem=pki["studio"].ca_pem)
    assert (kept.state, kept.codes) == (read.state, read.codes)


def test_a_parent_signed_by_the_studios_own_ca_is_never_recorded_as_trusted(tmp_path, pki):
    """Our CA is no trust anchor: the kept copy's ingredient says what any reader would find."""
    from generation.provenance import credentials as provenance

    delivered = provider_file("studio", tmp_path, pki)
    read = provenance.read_provenance(delivered, studio_ca_pem=pki["studio"].ca_pem)
    assert read.state == "studio"
    claim = provenance.TakeClaim(title="t", claim_generator="Storyboard Studio/1", digital_source_type=TRAINED,
                                 provider="local", model="previz-animatic-1", request_sha256="0" * 64, consents=[],
                                 do_not_train=False, checks=provenance.TakeChecks.of(read))
    provenance.sign_take(src=delivered, dst=tmp_path / "kept.mp4", identity=pki["studio"], claim=claim, read=read)
    parent = active(stored_store(tmp_path / "kept.mp4"))["ingredients"][0]
    failures = [item["code"] for item in parent["validation_results"]["activeManifest"]["failure"]]
    assert failures == ["signingCredential.untrusted"]


def test_finishing_a_take_validates_the_providers_file_once(
        gateway, four_second_scene, editor, django_capture_on_commit_callbacks, monkeypatch):  # noqa: F811
    """Reading it for its verdict is the one validation: signing the copy takes the parent from it."""
    reads, ingredients = [], []
    try_create, add_ingredient = c2pa.Reader.try_create, c2pa.Builder.add_ingredient
    monkeypatch.setattr(c2pa.Reader, "try_create",
                        classmethod(lambda cls, *a, **k: reads.append(a) or try_create(*a, **k)))
    monkeypatch.setattr(c2pa.Builder, "add_ingredient",
                        lambda self, *a, **k: ingredients.append(a) or add_ingredient(self, *a, **k))

    take = render_on(gateway, four_second_scene, "veo-3.1", editor, django_capture_on_commit_callbacks)

    assert take.status == Status.SUCCEEDED, take.error_message
    assert (take.c2pa_state, len(reads), len(ingredients)) == ("valid", 1, 0)
    store = read_store(take)
    assert active(store)["ingredients"][0]["relationship"] == "parentOf"
    assert store["manifests"][active(store)["ingredients"][0]["active_manifest"]]["signature_info"]["issuer"] \
        == "C2PA Test Signing Cert"


def test_the_embedded_store_is_found_only_where_c2pa_put_exactly_one(tmp_path):
    from generation.provenance import embedded
    from tests.fakes.provider_server import FIXTURE
    from tests.generation.test_provenance import make_mp4

    found = embedded.find(FIXTURE)
    assert found.store[4:8] == b"jumb" and found.instance_id == "xmp.iid:a385def5-3207-4f7f-bb7e-588875cd7af5"
    assert embedded.find(make_mp4(tmp_path / "plain.mp4")) is None
    cut = tmp_path / "cut.mp4"
    data = FIXTURE.read_bytes()
    cut.write_bytes(data[:data.index(embedded.C2PA_UUID) + 40])  # the manifest box cut short
    assert embedded.find(cut) is None
