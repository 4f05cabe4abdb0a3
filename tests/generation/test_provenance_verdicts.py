"""Stored verdicts: five honest states, recomputed when the trust configuration changes."""

from django.core.management import call_command

from generation.models import ProvenanceState, Render, VerdictFingerprint
from generation.provenance import studio_ca_from_settings
from generation.reverify import renders_reverify_provenance
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
