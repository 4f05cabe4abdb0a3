"""Stored verdicts: five honest states, recomputed when the trust configuration changes."""

from dataclasses import replace

import pytest
from django.core.management import call_command

from generation.models import ProvenanceState, Render, VerdictFingerprint
from generation.provenance import credentials as provenance
from generation.provenance.credentials import studio_ca_from_settings
from generation.provenance.reverify import renders_reverify_provenance
from tests.generation.test_provenance import ALGORITHMIC_MEDIA, make_mp4
from tests.provenance_helpers import flip_a_byte_in_mdat, tamper


def test_a_take_signed_by_the_local_ca_reads_signed_by_this_studio(scene, render_take):
    take = render_take(scene)
    assert take.c2pa_state == ProvenanceState.STUDIO
    assert take.provenance_label == "Signed by this studio"
    assert "not publicly trusted" in take.c2pa_summary["verdict"]


def test_a_flipped_byte_in_the_stored_video_reads_tampered_with_what_failed(scene, render_take):
    take = tamper(render_take(scene))
    assert take.c2pa_state == ProvenanceState.INVALID
    assert take.provenance_label == "Tampered or broken"
    assert "assertion.bmffHash.mismatch" in take.c2pa_codes
    assert "the video's bytes changed after it was signed" in take.c2pa_summary["verdict"]


def test_reverify_reads_the_stored_files_again(scene, render_take):
    take = render_take(scene)
    Render.objects.filter(pk=take.pk).update(c2pa_state="trusted", c2pa_summary={"verdict": "Trusted, wrongly"})
    with take.video.open("rb") as fh:
        data = flip_a_byte_in_mdat(bytearray(fh.read()))
    with open(take.video.path, "wb") as fh:
        fh.write(data)

    result = renders_reverify_provenance()

    take.refresh_from_db()
    assert (result.checked, result.changed) == (1, 1)
    assert take.c2pa_state == ProvenanceState.INVALID
    assert take.c2pa_summary["verdict"].startswith("Tampered or broken")


def test_new_trust_anchors_change_verdicts_once(scene, render_take, settings, tmp_path, capsys):
    take = render_take(scene)
    call_command("reverify_provenance", "--if-changed")  # records the fingerprint
    call_command("reverify_provenance", "--if-changed")
    assert "verdicts kept" in capsys.readouterr().out
    assert VerdictFingerprint.objects.count() == 1

    # The operator decides to trust the studio's CA (e.g. an internal company root).
    anchors = tmp_path / "anchors.pem"
    anchors.write_bytes(studio_ca_from_settings())
    settings.C2PA_TRUST_ANCHORS = str(anchors)
    call_command("reverify_provenance", "--if-changed")

    assert "1 verdict(s) changed" in capsys.readouterr().out
    take.refresh_from_db()
    assert take.c2pa_state == ProvenanceState.TRUSTED
    assert take.c2pa_summary["verdict"].startswith("Trusted: signed by")


def test_a_take_whose_file_is_gone_keeps_its_verdict(scene, render_take):
    take = render_take(scene)
    take.video.storage.delete(take.video.name)
    result = renders_reverify_provenance()
    take.refresh_from_db()
    assert result.unreadable == 1
    assert take.c2pa_state == ProvenanceState.STUDIO


# --- Stored copies the studio signed: the verdict is the provider's file's, re-judged -----------

CLAIM = provenance.TakeClaim(title="Scene 1: Dawn (take 1)", claim_generator="Storyboard Studio/1",
                             digital_source_type=ALGORITHMIC_MEDIA, provider="openai-videos", model="veo-3.1",
                             request_sha256="0" * 64, consents=[], do_not_train=True,
                             checks=provenance.TakeChecks("valid"))


@pytest.fixture
def pki(tmp_path):
    return {"studio": provenance.ensure_local_identity(tmp_path / "studio"),
            "provider": provenance.ensure_local_identity(tmp_path / "provider", organization="Provider Inc")}


def kept_copy(tmp_path, pki, *, provider_signed=True, provider_tampered=False):
    """What the pipeline stores: the studio's signed copy of what the provider delivered."""
    delivered = make_mp4(tmp_path / "raw.mp4")
    if provider_signed:
        signed = tmp_path / "provider.mp4"
        provenance.sign_mp4(src=delivered, dst=signed, identity=pki["provider"], title="result",
                            claim_generator="Provider/1", digital_source_type=ALGORITHMIC_MEDIA, recipe={})
        delivered = signed
    if provider_tampered:
        delivered.write_bytes(flip_a_byte_in_mdat(bytearray(delivered.read_bytes())))
    kept = tmp_path / "kept.mp4"
    checks = provenance.TakeChecks("valid" if provider_signed else "none")
    provenance.sign_take(src=delivered, dst=kept, identity=pki["studio"], claim=replace(CLAIM, checks=checks))
    return kept


def test_a_kept_copy_reads_as_its_providers_file(tmp_path, pki):
    kept = kept_copy(tmp_path, pki)
    report = provenance.read_kept_take(kept, studio_ca_pem=pki["studio"].ca_pem)
    assert report.state == "valid"
    assert report.signer == "Provider Inc"  # the provider, not the studio that signed the copy
    # The operator comes to trust the provider's root: the same stored file now reads trusted.
    trusted = provenance.read_kept_take(kept, trust_anchors_pem=pki["provider"].ca_pem,
                                        studio_ca_pem=pki["studio"].ca_pem)
    assert (trusted.state, trusted.codes) == ("trusted", [])


def test_a_kept_copy_of_a_tampered_delivery_stays_tampered(tmp_path, pki):
    report = provenance.read_kept_take(kept_copy(tmp_path, pki, provider_tampered=True),
                                       trust_anchors_pem=pki["provider"].ca_pem, studio_ca_pem=pki["studio"].ca_pem)
    assert report.state == "invalid"
    assert "assertion.bmffHash.mismatch" in report.codes


def test_a_kept_copy_of_an_unsigned_delivery_has_no_credentials(tmp_path, pki):
    report = provenance.read_kept_take(kept_copy(tmp_path, pki, provider_signed=False),
                                       studio_ca_pem=pki["studio"].ca_pem)
    assert report.state == "none"


def test_a_kept_copy_altered_in_storage_reads_tampered(tmp_path, pki):
    kept = kept_copy(tmp_path, pki)
    kept.write_bytes(flip_a_byte_in_mdat(bytearray(kept.read_bytes())))
    report = provenance.read_kept_take(kept, studio_ca_pem=pki["studio"].ca_pem)
    assert report.state == "invalid" and "assertion.bmffHash.mismatch" in report.codes


def test_reverify_keeps_a_previz_takes_studio_verdict_and_its_signing_note(scene, render_take):
    take = render_take(scene)
    assert take.c2pa_summary["studio_signed"] is True
    Render.objects.filter(pk=take.pk).update(c2pa_state="trusted")
    renders_reverify_provenance()
    take.refresh_from_db()
    assert take.c2pa_state == ProvenanceState.STUDIO
    assert take.c2pa_summary["studio_signed"] is True


# --- Workers started without ./studio (docker, systemd) re-verify once on start --------------


def wrongly_trusted(take) -> None:
    """A stored verdict the current trust configuration would not give: a recompute corrects it."""
    Render.objects.filter(pk=take.pk).update(c2pa_state="trusted", c2pa_summary={"verdict": "Trusted, wrongly"})


def test_a_starting_worker_recomputes_verdicts_when_the_anchors_changed_and_the_next_one_skips(
        scene, render_take):
    from generation.tasks import _reverify_on_start

    take = render_take(scene)
    VerdictFingerprint.objects.update_or_create(pk=1, defaults={"fingerprint": "anchors before the change"})
    wrongly_trusted(take)

    _reverify_on_start(sender=None)  # the first worker up: its task runs (eagerly here)

    take.refresh_from_db()
    assert take.c2pa_state == ProvenanceState.STUDIO
    assert VerdictFingerprint.objects.get(pk=1).fingerprint == provenance.anchors_fingerprint()
    wrongly_trusted(take)
    _reverify_on_start(sender=None)  # a second worker: the fingerprint is current, nothing is read
    take.refresh_from_db()
    assert take.c2pa_state == "trusted"


def test_a_starting_worker_with_unchanged_anchors_recomputes_nothing(scene, render_take):
    from generation.tasks import reverify_provenance_if_changed

    take = render_take(scene)
    VerdictFingerprint.objects.update_or_create(pk=1, defaults={"fingerprint": provenance.anchors_fingerprint()})
    wrongly_trusted(take)

    reverify_provenance_if_changed.delay()

    take.refresh_from_db()
    assert take.c2pa_state == "trusted"


def test_while_one_worker_reverifies_another_waits_and_then_finds_it_done(scene, render_take, monkeypatch):
    from celery.exceptions import Retry

    from generation.provenance import reverify
    from generation.tasks import reverify_provenance_if_changed

    take = render_take(scene)
    VerdictFingerprint.objects.update_or_create(pk=1, defaults={"fingerprint": "anchors before the change"})
    wrongly_trusted(take)
    reads = []
    real = reverify.renders_reverify_provenance
    monkeypatch.setattr(reverify, "renders_reverify_provenance",
                        lambda **kw: reads.append(kw) or real(**kw))
    assert reverify.cache.add(reverify.LOCK_KEY, "worker-1", reverify.LOCK_SECONDS)  # worker-1 is at it

    with pytest.raises(Retry):  # worker-2 looks again in a minute instead of reading every file too
        reverify_provenance_if_changed.delay()
    take.refresh_from_db()
    assert take.c2pa_state == "trusted" and reads == []

    reverify.cache.delete(reverify.LOCK_KEY)  # worker-1 died: its lock expired
    reverify_provenance_if_changed.delay()
    reverify_provenance_if_changed.delay()
    take.refresh_from_db()
    assert take.c2pa_state == ProvenanceState.STUDIO
    assert reads == [{"only_if_changed": True}]  # recomputed once
    assert reverify.cache.get(reverify.LOCK_KEY) is None
