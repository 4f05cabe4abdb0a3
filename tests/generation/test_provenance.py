"""Content credentials on rendered takes: what the studio signs and what a reader sees."""

import stat
import struct
from pathlib import Path

import av
import numpy as np
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID

from generation.provenance.credentials import (
    STUDIO_RECIPE_LABEL,
    ProvenanceReport,
    ensure_local_identity,
    load_identity,
    read_provenance,
    sign_mp4,
    studio_ca_from_settings,
    studio_identity,
    trust_anchors_from_settings,
)

ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/algorithmicMedia"
OUTSIDE_FIXTURE = Path(__file__).resolve().parents[1] / "fixtures/c2pa/signed-by-test-cert.mp4"
RECIPE = {
    "project": "Harbour at dawn",
    "scene": 3,
    "prompt": "a lighthouse in fog, slow dolly in",
    "provider": "previz",
    "model": "previz-1",
    "parameters": {"seed": 7, "seconds": 1},
}


def make_mp4(path: Path, frames: int = 12) -> Path:
    """A tiny but real H.264 + AAC MP4 (64x64, 12 fps)."""
    with av.open(str(path), "w", format="mp4") as container:
        video = container.add_stream("libx264", rate=12)
        video.width = video.height = 64
        video.pix_fmt = "yuv420p"
        audio = container.add_stream("aac", rate=48000)
        for i in range(frames):
            image = np.full((64, 64, 3), (i * 20) % 256, dtype=np.uint8)
            container.mux(video.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(video.encode())
        tone = (0.1 * np.sin(np.arange(1024) * 0.05)).astype(np.float32).reshape(1, -1)
        for k in range(48):
            frame = av.AudioFrame.from_ndarray(tone, format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 48000, k * 1024
            container.mux(audio.encode(frame))
        container.mux(audio.encode())
    return path


def top_level_boxes(data: bytes) -> dict[bytes, tuple[int, int]]:
    boxes, offset = {}, 0
    while offset < len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        boxes[kind] = (offset, size)
        offset += size
    return boxes


@pytest.fixture
def identity(tmp_path):
    return ensure_local_identity(tmp_path / "c2pa")


@pytest.fixture
def signed(tmp_path, identity):
    dst = tmp_path / "take-signed.mp4"
    sign_mp4(
        src=make_mp4(tmp_path / "take.mp4"),
        dst=dst,
        identity=identity,
        title="Scene 3, take 1",
        claim_generator="Storyboard Studio/0.1.0",
        digital_source_type=ALGORITHMIC_MEDIA,
        recipe=RECIPE,
        software_agent="Storyboard Studio previz",
    )
    return dst


def test_a_ca_the_operator_configured_as_anchor_makes_the_file_trusted(signed, identity):
    report = read_provenance(signed, trust_anchors_pem=identity.ca_pem)
    assert report.state == "trusted"
    assert report.codes == []
    assert report.signer == "Storyboard Studio (local)"
    assert report.verdict.startswith("Trusted: signed by Storyboard Studio (local)")


def test_the_studios_own_ca_reads_signed_by_this_studio_never_trusted(signed, identity):
    report = read_provenance(signed, studio_ca_pem=identity.ca_pem)
    assert report.state == "studio"
    assert report.codes == []  # "untrusted" is the whole point of the state, not a failure
    assert "trusted" not in report.verdict.replace("not publicly trusted", "").lower()
    assert "not publicly trusted" in report.verdict
    assert "C2PA_SIGN_CERT_CHAIN" in report.verdict and "C2PA_SIGN_KEY" in report.verdict


def test_a_ca_merely_named_like_the_studios_does_not_pass_for_it(signed, tmp_path):
    impostor = ensure_local_identity(tmp_path / "impostor")  # same organisation name, other key
    assert read_provenance(signed, studio_ca_pem=impostor.ca_pem).state == "valid"


def test_signed_file_reads_valid_but_untrusted_without_anchors(signed):
    report = read_provenance(signed)
    assert report.state == "valid"
    assert "signingCredential.untrusted" in report.codes
    assert report.claim_generator == "Storyboard Studio/0.1.0"


def test_a_different_ca_does_not_make_the_file_trusted(signed, tmp_path, identity):
    stranger = ensure_local_identity(tmp_path / "stranger", organization="Someone Else")
    assert read_provenance(signed, trust_anchors_pem=stranger.ca_pem).state == "valid"
    # Several roots in one PEM bundle: ours among them is enough.
    both = stranger.ca_pem + identity.ca_pem
    assert read_provenance(signed, trust_anchors_pem=both).state == "trusted"


def test_one_flipped_byte_in_the_video_reads_invalid(signed, identity):
    data = bytearray(signed.read_bytes())
    offset, size = top_level_boxes(data)[b"mdat"]
    data[offset + 8 + size // 2] ^= 0xFF  # inside the payload, past the 8-byte box header
    signed.write_bytes(data)

    report = read_provenance(signed, trust_anchors_pem=identity.ca_pem)
    assert report.state == "invalid"
    assert "assertion.bmffHash.mismatch" in report.codes
    assert report.verdict.startswith("Tampered or broken:")
    assert "assertion.bmffHash.mismatch" in report.verdict


def test_a_flipped_byte_in_the_manifest_reads_invalid(signed, identity):
    data = bytearray(signed.read_bytes())
    offset, size = top_level_boxes(data)[b"uuid"]  # the C2PA manifest store lives here
    data[offset + size - 40] ^= 0xFF
    signed.write_bytes(data)
    assert read_provenance(signed, trust_anchors_pem=identity.ca_pem).state == "invalid"


def test_unsigned_file_reads_none(tmp_path):
    report = read_provenance(make_mp4(tmp_path / "plain.mp4"))
    assert report.state == "none"
    assert report.manifest is None and report.codes == [] and report.signer is None


def test_unreadable_file_reads_invalid_rather_than_raising(tmp_path):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all" * 4)
    report = read_provenance(junk)
    assert report.state == "invalid"
    assert report.codes[0].startswith("general.error")


def test_missing_file_raises(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_provenance(tmp_path / "absent.mp4")


def test_outside_signer_fixture_is_valid_not_trusted(identity):
    report = read_provenance(OUTSIDE_FIXTURE, trust_anchors_pem=identity.ca_pem)
    assert report.state == "valid"
    assert "signingCredential.untrusted" in report.codes
    assert report.signer == "C2PA Test Signing Cert"
    assert report.claim_generator == "TestApp c2patool/0.6.2 c2pa-rs/0.28.2"
    assert report.verdict.startswith("Intact, unknown signer: signed by ")


def test_manifest_records_created_action_source_type_and_recipe(signed):
    report = read_provenance(signed)
    assert report.title == "Scene 3, take 1"
    assert report.actions == ["c2pa.created"]
    assert report.digital_source_type == ALGORITHMIC_MEDIA
    assert report.recipe == RECIPE

    active = report.manifest["manifests"][report.manifest["active_manifest"]]
    assert active["claim_generator_info"][0]["name"] == "Storyboard Studio"
    assert active["claim_generator_info"][0]["version"] == "0.1.0"
    assert active["signature_info"]["alg"] == "Es256"
    labels = [a["label"] for a in active["assertions"]]
    assert STUDIO_RECIPE_LABEL in labels
    (created,) = next(a for a in active["assertions"] if a["label"].startswith("c2pa.actions"))[
        "data"
    ]["actions"]
    assert created["softwareAgent"] == {"name": "Storyboard Studio previz"}


def test_signing_writes_only_the_destination(signed, tmp_path):
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c2pa", "take-signed.mp4", "take.mp4"]


def test_local_identity_is_generated_once_and_reused(tmp_path):
    first = ensure_local_identity(tmp_path / "c2pa")
    second = ensure_local_identity(tmp_path / "c2pa")
    assert first == second

    for key in ("ca.key", "leaf.key"):
        assert stat.S_IMODE((tmp_path / "c2pa" / key).stat().st_mode) == 0o600

    leaf, ca = x509.load_pem_x509_certificates(first.chain_pem)
    assert ca.public_bytes(Encoding.PEM) == first.ca_pem
    assert leaf.issuer == ca.subject
    assert leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.EMAIL_PROTECTION]
    usage = leaf.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature


def test_load_identity_signs_with_certificates_from_files(tmp_path, identity):
    chain = tmp_path / "chain.pem"
    chain.write_bytes(identity.chain_pem)
    outside = load_identity(chain, tmp_path / "c2pa" / "leaf.key")
    assert outside.ca_pem is None
    dst = tmp_path / "out.mp4"
    sign_mp4(src=make_mp4(tmp_path / "in.mp4"), dst=dst, identity=outside, title="t",
             claim_generator="Storyboard Studio/0.1.0", digital_source_type=ALGORITHMIC_MEDIA,
             recipe={})
    report = read_provenance(dst, trust_anchors_pem=identity.ca_pem)
    assert report.state == "trusted"
    assert report.recipe == {}


def test_verdict_words():
    def report(state, codes=(), signer="Acme Films"):
        return ProvenanceReport(state, list(codes), signer, None, None, [], None, None, None)

    assert report("trusted").verdict.startswith("Trusted: signed by Acme Films, whose certificate chains")
    assert report("studio").verdict.startswith("Signed by this studio (Acme Films).")
    assert report("valid", ["signingCredential.untrusted"]).verdict == (
        "Intact, unknown signer: signed by Acme Films, whom this studio cannot vouch for."
    )
    assert report("invalid", ["assertion.bmffHash.mismatch"]).verdict == (
        "Tampered or broken: the video's bytes changed after it was signed "
        "(assertion.bmffHash.mismatch)."
    )
    assert report("invalid", ["assertion.hashedURI.mismatch", "signingCredential.untrusted"]).verdict == (
        "Tampered or broken: a statement in the credentials was altered after signing "
        "(assertion.hashedURI.mismatch)."
    )
    assert report("none", signer=None).verdict.startswith(
        "No content credentials: this file carries no C2PA manifest")


def test_studio_identity_defaults_to_a_local_ca_that_is_not_a_trust_anchor(settings, tmp_path):
    settings.C2PA_DIR = tmp_path / "c2pa"
    settings.C2PA_SIGN_CERT_CHAIN = settings.C2PA_SIGN_KEY = settings.C2PA_TRUST_ANCHORS = ""
    identity = studio_identity()
    assert (tmp_path / "c2pa" / "leaf.pem").exists()
    assert trust_anchors_from_settings() is None
    assert studio_ca_from_settings() == identity.ca_pem


def test_configured_certificates_and_extra_anchors_come_from_settings(settings, tmp_path):
    local = ensure_local_identity(tmp_path / "elsewhere")
    (tmp_path / "chain.pem").write_bytes(local.chain_pem)
    (tmp_path / "roots.pem").write_bytes(local.ca_pem)
    settings.C2PA_DIR = tmp_path / "unused"
    settings.C2PA_SIGN_CERT_CHAIN = str(tmp_path / "chain.pem")
    settings.C2PA_SIGN_KEY = str(tmp_path / "elsewhere" / "leaf.key")
    settings.C2PA_TRUST_ANCHORS = ""

    expected = load_identity(tmp_path / "chain.pem", tmp_path / "elsewhere" / "leaf.key")
    assert studio_identity() == expected
    assert trust_anchors_from_settings() is None  # no local CA, no extra roots
    settings.C2PA_TRUST_ANCHORS = str(tmp_path / "roots.pem")
    assert trust_anchors_from_settings() == local.ca_pem.strip() + b"\n"
    assert not (tmp_path / "unused").exists()
