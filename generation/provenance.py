"""C2PA content credentials for MP4 takes: a signing identity, signing, and reading.

Checked against c2pa-python 0.38 (c2pa-rs 0.91). Facts this module relies on:
- The signing chain must be leaf + CA (a self-signed leaf is refused) and the leaf needs
  keyUsage digitalSignature plus extendedKeyUsage emailProtection, so a local identity is a
  small two-level PKI rather than one self-signed certificate.
- Reading reports "Valid" (+ signingCredential.untrusted) for a sound file whose signer is
  unknown; only a Context carrying `trust.user_anchors` turns that into "Trusted".
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import c2pa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

STUDIO_RECIPE_LABEL = "studio.storyboard.recipe"
MP4 = "video/mp4"


@dataclass(frozen=True)
class SigningIdentity:
    chain_pem: bytes  # leaf certificate first, then intermediate/CA certificate(s)
    key_pem: bytes
    ca_pem: bytes | None  # our own local root, usable as a trust anchor; None for outside certs


# --- Identity -------------------------------------------------------------------------------

_FILES = ("ca.pem", "ca.key", "leaf.pem", "leaf.key")


def ensure_local_identity(
    directory: Path, *, organization: str = "Storyboard Studio (local)"
) -> SigningIdentity:
    """Load the local CA + leaf from `directory`, generating them on first use."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    # Web and worker processes may start together; the lock keeps two of them from writing
    # a CA from one run next to a leaf from another (a chain that no longer verifies).
    with open(directory / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not all((directory / name).exists() for name in _FILES):
            _generate_identity(directory, organization)
    ca_pem, leaf_pem = (directory / "ca.pem").read_bytes(), (directory / "leaf.pem").read_bytes()
    return SigningIdentity(leaf_pem + ca_pem, (directory / "leaf.key").read_bytes(), ca_pem)


def load_identity(chain_path: Path, key_path: Path) -> SigningIdentity:
    """An identity from certificate files named in settings (e.g. issued by a real CA)."""
    return SigningIdentity(Path(chain_path).read_bytes(), Path(key_path).read_bytes(), None)


def _generate_identity(directory: Path, organization: str) -> None:
    now = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)  # tolerate clock skew

    def name(common_name: str) -> x509.Name:
        return x509.Name([
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ])

    def key_usage(**on: bool) -> x509.KeyUsage:
        flags = dict.fromkeys(
            ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
             "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only"), False)
        return x509.KeyUsage(**{**flags, **on})

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(name(f"{organization} Root CA")).issuer_name(name(f"{organization} Root CA"))
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(key_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf_cert = (
        x509.CertificateBuilder()
        .subject_name(name(f"{organization} Signer")).issuer_name(ca_cert.subject)
        .public_key(leaf_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + dt.timedelta(days=5 * 365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(key_usage(digital_signature=True), critical=True)
        # c2pa-rs accepts only a few EKUs for claim signers; emailProtection is the usual one.
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]),
                       critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()),
                       critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    for file_name, data in (
        ("ca.key", _key_pem(ca_key)),
        ("ca.pem", ca_cert.public_bytes(pem)),
        ("leaf.key", _key_pem(leaf_key)),
        ("leaf.pem", leaf_cert.public_bytes(pem)),
    ):
        mode = 0o600 if file_name.endswith(".key") else 0o644
        _atomic_write(directory / file_name, data, mode=mode)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _atomic_write(path: Path, data: bytes, *, mode: int) -> None:
    # mkstemp creates the file 0600, so a key is never readable by others, not even briefly.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --- Signing --------------------------------------------------------------------------------


def sign_mp4(*, src: Path, dst: Path, identity: SigningIdentity, title: str, claim_generator: str,
             digital_source_type: str, recipe: dict, software_agent: str | None = None) -> None:
    """Write `dst` = `src` with an embedded, ES256-signed C2PA manifest."""
    name, _, version = claim_generator.partition("/")
    generator = {"name": name, **({"version": version} if version else {})}
    manifest = {
        "claim_generator_info": [generator],
        "title": title,
        "format": MP4,
        "assertions": [
            {"label": "c2pa.actions", "data": {"actions": [{
                "action": "c2pa.created",
                "digitalSourceType": digital_source_type,
                # Claim v2 wants softwareAgent as a generator-info object, not a bare string.
                "softwareAgent": {"name": software_agent} if software_agent else generator,
            }]}},
            {"label": STUDIO_RECIPE_LABEL, "data": recipe},
        ],
    }
    _sign(manifest, src=src, dst=dst, identity=identity)


def _sign(manifest: dict, *, src: Path, dst: Path, identity: SigningIdentity, mime: str = MP4,
          parent: dict | None = None, parent_path: Path | None = None) -> None:
    dst = Path(dst)
    fd, tmp = tempfile.mkstemp(dir=dst.parent, prefix=f".{dst.name}.", suffix=".part")
    try:
        # No timestamp authority (tsa_url None): there is no network. The cost is that the
        # signature carries no trusted signing time, so validity is judged against "now".
        info = c2pa.C2paSignerInfo(
            c2pa.C2paSigningAlg.ES256, identity.chain_pem, identity.key_pem, None)
        with c2pa.Signer.from_info(info) as signer, c2pa.Builder(manifest) as builder, \
                open(src, "rb") as source, os.fdopen(fd, "w+b") as out:
            if parent is not None:
                with open(parent_path or src, "rb") as ingredient:
                    builder.add_ingredient(parent, mime, ingredient)
            builder.sign(signer, mime, source, out)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dst)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


TAKE_LABEL = "studio.storyboard.take"
TRAINING_MINING_LABEL = "cawg.training-mining"
# CAWG's training-and-mining assertion (successor of c2pa.training-mining): every use refused.
DO_NOT_TRAIN = {"entries": {use: {"use": "notAllowed"} for use in (
    "cawg.ai_training", "cawg.ai_generative_training", "cawg.ai_inference", "cawg.data_mining")}}
TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"


def canonical_sha256(data) -> str:
    """sha256 of JSON written one way only (sorted keys, no spaces): the same data, the same hash."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class TakeClaim:
    """What the studio states about a take it keeps: who made it, from what, with whose consent."""

    title: str
    claim_generator: str
    digital_source_type: str
    provider: str
    model: str
    request_sha256: str  # of the take's recipe: the exact request, never the raw prompt alone
    consents: list[dict]  # [{"character": id, "grant": id | None, "sha256": str | None}]
    do_not_train: bool

    @property
    def consents_sha256(self) -> str:
        return canonical_sha256(self.consents)


def sign_take(*, src: Path, dst: Path, identity: SigningIdentity, claim: TakeClaim, mime: str = MP4,
              with_parent: bool) -> None:
    """Write `dst` = `src` signed with the studio's manifest; the provider's own manifest in
    `src` (when `with_parent`) becomes its parent ingredient, so nothing it said is lost."""
    name, _, version = claim.claim_generator.partition("/")
    generator = {"name": name, **({"version": version} if version else {})}
    assertions = [
        {"label": "c2pa.actions", "data": {"actions": [{
            "action": "c2pa.created",
            "digitalSourceType": claim.digital_source_type,
            "softwareAgent": {"name": f"{claim.provider} {claim.model}"},
            "parameters": {"provider": claim.provider, "model": claim.model},
        }]}},
        {"label": TAKE_LABEL, "data": {
            "provider": claim.provider,
            "model": claim.model,
            "request": {"alg": "sha256", "hash": claim.request_sha256},
            "consent": {"grants": claim.consents, "alg": "sha256", "hash": claim.consents_sha256},
            "do_not_train": claim.do_not_train,
        }},
    ]
    if claim.do_not_train:
        assertions.append({"label": TRAINING_MINING_LABEL, "data": DO_NOT_TRAIN})
    manifest = {"claim_generator_info": [generator], "title": claim.title, "format": mime,
                "assertions": assertions}
    parent = {"title": f"{claim.provider} {claim.model} result", "relationship": "parentOf"}
    _sign(manifest, src=src, dst=dst, identity=identity, mime=mime,
          parent=parent if with_parent else None)


# --- Reading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProvenanceReport:
    state: str  # "trusted" | "valid" | "invalid" | "none"
    codes: list[str]
    signer: str | None
    claim_generator: str | None
    title: str | None
    actions: list[str]
    digital_source_type: str | None
    recipe: dict | None
    manifest: dict | None

    @property
    def verdict(self) -> str:
        who = self.signer or "an unnamed signer"
        if self.state == "trusted":
            return f"Verified: signed by {who}, a trusted signer."
        if self.state == "valid":
            return f"Intact, but signed by {who}, which this studio does not trust."
        if self.state == "invalid":
            why = ", ".join(self.codes) or "unknown reason"
            return f"Tampered or broken: the content does not match its signature ({why})."
        return "No content credentials: this file carries no C2PA manifest."


def _none_report() -> ProvenanceReport:
    return ProvenanceReport("none", [], None, None, None, [], None, None, None)


def read_provenance(path: Path, *, trust_anchors_pem: bytes | None = None) -> ProvenanceReport:
    """Validate the C2PA manifest of an MP4. Raises only when `path` does not exist."""
    # Without user anchors c2pa-rs trusts nobody, so every signer reads merely "Valid".
    # Built outside the try below: unparsable anchors are a settings error that must surface,
    # not a verdict of "tampered" on every file.
    settings = {"trust": {"user_anchors": trust_anchors_pem.decode()}} if trust_anchors_pem else {}
    with open(path, "rb") as fh, c2pa.Context.from_dict(settings) as context:
        try:
            reader = c2pa.Reader.try_create(MP4, fh, None, context)  # None when no manifest
            if reader is None:
                return _none_report()
            with reader:
                store = json.loads(reader.json())
        except c2pa.C2paError as exc:
            # Not a readable MP4, or a manifest box that is truncated / corrupt. "general.error"
            # is the C2PA spec's catch-all code; the detail helps whoever debugs the file.
            return ProvenanceReport("invalid", [f"general.error: {exc}"], None, None, None, [],
                                    None, None, None)
    return _report_from_store(store)


def _report_from_store(store: dict) -> ProvenanceReport:
    active = store.get("manifests", {}).get(store.get("active_manifest"), {})
    # The top-level validation_status lists failures across the active manifest and its
    # ingredients; the per-manifest results repeat them. Keep each code once, in order.
    failures = list(store.get("validation_status") or [])
    failures += (store.get("validation_results") or {}).get("activeManifest", {}).get("failure", [])
    codes = list(dict.fromkeys(item["code"] for item in failures))

    state = (store.get("validation_state") or "Invalid").lower()
    if state not in ("trusted", "valid"):
        state = "invalid"

    actions, source_type, recipe = [], None, None
    for assertion in active.get("assertions", []):
        label = assertion.get("label", "")
        if label.split(".v")[0] == "c2pa.actions":  # "c2pa.actions" or "c2pa.actions.v2"
            for action in assertion.get("data", {}).get("actions", []):
                actions.append(action.get("action"))
                source_type = source_type or action.get("digitalSourceType")
        elif label == STUDIO_RECIPE_LABEL:
            recipe = assertion.get("data")

    sig = active.get("signature_info") or {}
    return ProvenanceReport(
        state=state,
        codes=codes,
        signer=sig.get("issuer") or sig.get("common_name"),
        claim_generator=_claim_generator(active),
        title=active.get("title"),
        actions=actions,
        digital_source_type=source_type,
        recipe=recipe,
        manifest=store,
    )


def _claim_generator(manifest: dict) -> str | None:
    # Claim v1 files carry a "claim_generator" string; v2 files only claim_generator_info.
    if manifest.get("claim_generator"):
        return manifest["claim_generator"]
    info = (manifest.get("claim_generator_info") or [{}])[0]
    if not info.get("name"):
        return None
    return f"{info['name']}/{info['version']}" if info.get("version") else info["name"]


# --- Django settings ------------------------------------------------------------------------


def studio_identity() -> SigningIdentity:
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    chain, key = settings.C2PA_SIGN_CERT_CHAIN, settings.C2PA_SIGN_KEY
    if chain and key:
        return load_identity(Path(chain), Path(key))
    if chain or key:  # half a configuration would silently fall back to the local CA
        raise ImproperlyConfigured("Set both C2PA_SIGN_CERT_CHAIN and C2PA_SIGN_KEY, or neither.")
    return ensure_local_identity(Path(settings.C2PA_DIR))


def trust_anchors_from_settings() -> bytes | None:
    from django.conf import settings

    pems = []
    if ca_pem := studio_identity().ca_pem:
        pems.append(ca_pem)
    if settings.C2PA_TRUST_ANCHORS:
        pems.append(Path(settings.C2PA_TRUST_ANCHORS).read_bytes())
    return b"\n".join(p.strip() for p in pems) + b"\n" if pems else None
