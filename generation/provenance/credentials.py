"""C2PA content credentials for MP4 takes: a signing identity, signing, and reading.

Checked against c2pa-python 0.38 (c2pa-rs 0.91). Facts this module relies on:
- The signing chain must be leaf + CA (a self-signed leaf is refused) and the leaf needs
  keyUsage digitalSignature plus extendedKeyUsage emailProtection, so a local identity is a
  small two-level PKI rather than one self-signed certificate.
- Reading reports "Valid" (+ signingCredential.untrusted) for a sound file whose signer is
  unknown; only a Context carrying `trust.user_anchors` turns that into "Trusted".
- An ingredient defined in the manifest with its `manifest_data` (a resource) and
  `validation_results` is taken as given: the ingredient's file is not read or validated again.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import io
import json
import os
import tempfile
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

import c2pa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.utils import translation

from generation.provenance import embedded

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
    sign_manifest(manifest, src=src, dst=dst, identity=identity)


def sign_manifest(manifest: dict, *, src: Path, dst: Path, identity: SigningIdentity, mime: str = MP4,
                  parent: dict | None = None, parent_path: Path | None = None,
                  inputs: tuple[InputIngredient, ...] = (), parent_read: ProvenanceReport | None = None,
                  components: tuple[tuple[dict, Path], ...] = ()) -> None:
    """Write `dst` = `src` with `manifest` embedded and signed; `parent` (an ingredient's
    definition) adds `parent_path`, or `src` itself, as an ingredient; `inputs` add images the
    media was made from (a start frame, an end frame) as `inputTo` ingredients; `components` add
    other media it holds (an extension's continuation), each (its definition, its file).

    `parent_read`: what reading that file just found. The ingredient is then made from it and
    the file's embedded manifest store, as c2pa-rs would make it, without validating the file
    a second time (falls back to c2pa-rs reading it when the store cannot be taken as is)."""
    dst = Path(dst)
    ingredient = _ingredient_as_read(parent, parent_read, Path(parent_path or src), mime) if parent else None
    if ingredient is not None:
        manifest = {**manifest, "ingredients": [*manifest.get("ingredients", []), ingredient[0]]}
    fd, tmp = tempfile.mkstemp(dir=dst.parent, prefix=f".{dst.name}.", suffix=".part")
    try:
        # No timestamp authority (tsa_url None): there is no network. The cost is that the
        # signature carries no trusted signing time, so validity is judged against "now".
        info = c2pa.C2paSignerInfo(
            c2pa.C2paSigningAlg.ES256, identity.chain_pem, identity.key_pem, None)
        with c2pa.Signer.from_info(info) as signer, c2pa.Builder(manifest) as builder, \
                open(src, "rb") as source, os.fdopen(fd, "w+b") as out:
            if ingredient is not None:
                builder.add_resource(PARENT_STORE, io.BytesIO(ingredient[1]))
            elif parent is not None:
                with open(parent_path or src, "rb") as stream:
                    builder.add_ingredient(parent, mime, stream)
            for item in inputs:
                builder.add_ingredient({"title": item.title, "relationship": "inputTo", "format": item.mime},
                                       item.mime, io.BytesIO(item.data))
            for definition, path in components:
                with open(path, "rb") as stream:
                    builder.add_ingredient(definition, mime, stream)
            builder.sign(signer, mime, source, out)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dst)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


PARENT_STORE = "parent-manifest-store"


def _ingredient_as_read(parent: dict, read: ProvenanceReport | None, path: Path,
                        mime: str) -> tuple[dict, bytes] | None:
    """The ingredient c2pa-rs would make of `path` (its definition and its manifest store), from
    a read of it; None unless that read validated an embedded store just as c2pa-rs does for an
    ingredient, which trusts no anchor: so only when the signer chained to none of ours (a
    parent signed by our own CA must not be recorded as trusted by the ingredient)."""
    store = read.manifest if read is not None else None
    if not store or "validation_results" not in store or not store.get("active_manifest"):
        return None
    if read is None or UNTRUSTED not in read.codes:
        return None
    found = embedded.find(path)
    if found is None:
        return None
    # As c2pa-rs names an ingredient: its XMP instance id, else a new one.
    instance_id = found.instance_id or f"xmp.iid:{uuid.uuid4()}"
    return {**parent, "format": mime, "instance_id": instance_id, "active_manifest": store["active_manifest"],
            "validation_results": store["validation_results"],
            "manifest_data": {"format": "application/c2pa", "identifier": PARENT_STORE}}, found.store


TAKE_LABEL = "studio.storyboard.take"
# What the studio's checks found in the delivered file (TakeChecks), stated in the take's own manifest.
CHECKS_LABEL = "studio.storyboard.checks"
NO_CREDENTIALS = "The provider's file carried no content credentials."
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
class TakeChecks:
    """What the studio's checks found in the file a provider delivered.

    The take's own manifest states it (CHECKS_LABEL, and in words on its c2pa.created action):
    the provider's manifest lives on only as the parent ingredient, and a reader who looks no
    deeper than the studio's valid signature must not take a broken or bare file for a sound one.
    """

    credentials: str  # the delivered file's verdict: trusted, studio, valid, invalid or none
    codes: tuple[str, ...] = ()  # its validation codes, as the read reported them
    delivery_problems: tuple[str, ...] = ()  # how the delivery differs from what was booked

    @classmethod
    def of(cls, report: ProvenanceReport, *, delivery_problems=()) -> TakeChecks:
        return cls(report.state, tuple(report.codes), tuple(delivery_problems))

    @property
    def failures(self) -> list[str]:
        """The validation codes that mean something failed (an unknown signer is no failure)."""
        if self.credentials != "invalid":
            return []
        return [c for c in self.codes if c.split(":")[0] not in _NOT_FAILURES] or list(self.codes)

    @property
    def findings(self) -> list[str]:
        """Each failed check in a sentence; empty when every check passed."""
        found = []
        if self.credentials == "invalid":
            found.append("The provider's content credentials failed validation: "
                         f"{describe_failures(list(self.codes))}.")
        elif self.credentials == "none":
            found.append(NO_CREDENTIALS)
        if self.delivery_problems:
            found.append("The provider delivered something other than what was booked: "
                         + "; ".join(self.delivery_problems) + ".")
        return found

    @property
    def description(self) -> str:
        if found := self.findings:
            return "The studio's checks on delivery found: " + " ".join(found)
        return ("The studio's checks on delivery passed: the provider's content credentials validated "
                "and the video is what was booked.")

    def assertion(self) -> dict:
        return {
            "passed": not self.findings,
            "findings": self.findings,
            "provider_credentials": {
                "present": self.credentials != "none",
                "state": self.credentials,
                "failures": self.failures,
                "codes": list(self.codes),
            },
            "delivery": {"as_booked": not self.delivery_problems, "problems": list(self.delivery_problems)},
        }


@dataclass(frozen=True)
class InputIngredient:
    """An image a take was made from (its start or end frame), exactly as it was sent."""

    title: str
    data: bytes
    mime: str = "image/png"


@dataclass(frozen=True)
class Extension:
    """What an extended take continues, and where: the extended take's own file is the parent ingredient of its
    manifest, the provider's delivery (the continuation, or the whole clip it returned) a component."""

    parent_title: str
    parent_path: Path
    delivered_title: str
    delivered_path: Path
    facts: dict  # the take assertion's "extension": the extended take, the join in seconds, what was added
    description: str  # the same in words, on the action that placed the continuation


PARENT_LABEL, CONTINUATION_LABEL = "extended-take", "continuation"


@dataclass(frozen=True)
class TakeClaim:
    """What the studio states about a take it keeps: who made it, from what, with whose consent,
    and what its checks found in the file the provider delivered."""

    title: str
    claim_generator: str
    digital_source_type: str
    provider: str
    model: str
    request_sha256: str  # of the take's recipe: the exact request, never the raw prompt alone
    consents: list[dict]  # [{"character": id, "grant": id | None, "sha256": str | None}]
    do_not_train: bool
    checks: TakeChecks
    inputs: tuple[InputIngredient, ...] = ()  # the frames it started from and ended on, as sent
    continuity: tuple[dict, ...] = ()  # what the take says of those frames (role, source, hashes)
    # A part of a multi-shot take: the group's file (as the provider delivered it) is its parent ingredient,
    # and `shot` says which range of it this take is.
    parent_path: Path | None = None
    parent_title: str = ""
    shot: dict | None = None
    extension: Extension | None = None  # for an extended take: the take it continues

    @property
    def consents_sha256(self) -> str:
        return canonical_sha256(self.consents)


def sign_take(*, src: Path, dst: Path, identity: SigningIdentity, claim: TakeClaim, mime: str = MP4,
              read: ProvenanceReport | None = None) -> None:
    """Write `dst` = `src` signed with the studio's manifest; the provider's own manifest in
    `src` (when it has one) becomes its parent ingredient, so nothing it said is lost.

    `read`: the reading of `src` that the checks come from, so it is not validated again."""
    name, _, version = claim.claim_generator.partition("/")
    generator = {"name": name, **({"version": version} if version else {})}
    actions = [{
        "action": "c2pa.created",
        "digitalSourceType": claim.digital_source_type,
        "softwareAgent": {"name": f"{claim.provider} {claim.model}"},
        "parameters": {"provider": claim.provider, "model": claim.model},
        "description": claim.checks.description,
    }]
    extension = claim.extension
    if extension is not None:
        # The extended take was opened and the provider's continuation placed after it.
        actions = [
            {"action": "c2pa.opened", "parameters": {"ingredientIds": [PARENT_LABEL]}},
            {"action": "c2pa.placed", "digitalSourceType": claim.digital_source_type,
             "softwareAgent": {"name": f"{claim.provider} {claim.model}"},
             "parameters": {"ingredientIds": [CONTINUATION_LABEL], "provider": claim.provider, "model": claim.model},
             "description": f"{extension.description} {claim.checks.description}"},
        ]
    assertions = [
        {"label": "c2pa.actions", "data": {"actions": actions}},
        {"label": TAKE_LABEL, "data": {
            "provider": claim.provider,
            "model": claim.model,
            "request": {"alg": "sha256", "hash": claim.request_sha256},
            "consent": {"grants": claim.consents, "alg": "sha256", "hash": claim.consents_sha256},
            "do_not_train": claim.do_not_train,
            **({"continuity": list(claim.continuity)} if claim.continuity else {}),
            **({"shot": claim.shot} if claim.shot else {}),
            **({"extension": extension.facts} if extension is not None else {}),
        }},
        {"label": CHECKS_LABEL, "data": claim.checks.assertion()},
    ]
    if claim.do_not_train:
        assertions.append({"label": TRAINING_MINING_LABEL, "data": DO_NOT_TRAIN})
    manifest = {"claim_generator_info": [generator], "title": claim.title, "format": mime,
                "assertions": assertions}
    if extension is not None:
        sign_manifest(manifest, src=src, dst=dst, identity=identity, mime=mime,
                      parent={"title": extension.parent_title, "relationship": "parentOf", "label": PARENT_LABEL},
                      parent_path=extension.parent_path, inputs=claim.inputs,
                      components=(({"title": extension.delivered_title, "relationship": "componentOf",
                                    "label": CONTINUATION_LABEL}, extension.delivered_path),))
        return
    if claim.parent_path is not None:  # cut from a multi-shot take: that whole file is where it comes from
        sign_manifest(manifest, src=src, dst=dst, identity=identity, mime=mime, inputs=claim.inputs,
                      parent={"title": claim.parent_title, "relationship": "parentOf"},
                      parent_path=claim.parent_path, parent_read=read)
        return
    parent = {"title": f"{claim.provider} {claim.model} result", "relationship": "parentOf"}
    sign_manifest(manifest, src=src, dst=dst, identity=identity, mime=mime,
                  parent=parent if claim.checks.credentials != "none" else None, inputs=claim.inputs,
                  parent_read=read)


# --- Reading --------------------------------------------------------------------------------


# The words live beside the take's model (pages say a verdict again from stored state), imported where they are
# used: this module is imported before Django is set up (the signing bench, subprocesses), and importing the
# models at its top would need the app registry. The two codes are c2pa-rs's own.
UNTRUSTED = "signingCredential.untrusted"
_NOT_FAILURES = {UNTRUSTED}


def describe_failures(codes: list[str]) -> str:
    """What failed, in words, with the codes in brackets for whoever debugs the file."""
    from generation.models.takes import provenance_failures

    return provenance_failures(codes)


@dataclass(frozen=True)
class ProvenanceReport:
    # "trusted": chains to a root the operator configured (C2PA_TRUST_ANCHORS)
    # "studio": chains to this studio's own local CA, which nobody else trusts
    # "valid": intact, signed by someone we cannot vouch for
    # "invalid": tampered or broken; "none": no manifest
    state: str
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
        """The sentence stored with a take, in English whatever language the worker runs in: exports'
        manifests carry it; pages say it again in their reader's language (Render.provenance_verdict)."""
        from generation.models.takes import provenance_verdict

        with translation.override("en"):
            return provenance_verdict(self.state, self.codes, self.signer)


def _none_report() -> ProvenanceReport:
    return ProvenanceReport("none", [], None, None, None, [], None, None, None)


def read_provenance(path: Path, *, trust_anchors_pem: bytes | None = None,
                    studio_ca_pem: bytes | None = None) -> ProvenanceReport:
    """Validate the C2PA manifest of an MP4. Raises only when `path` does not exist.

    `trust_anchors_pem`: roots the operator trusts ("trusted"). `studio_ca_pem`: the studio's
    own local CA, never a trust anchor: a file it signed reads "studio", not "trusted".
    """
    # One read, with the operator's roots and our CA together: whether the chain ends at one of
    # them is checked cryptographically, never by the signer's name (anyone can call a CA that).
    report = _read(path, _joined(trust_anchors_pem, studio_ca_pem))
    if report.state != "trusted" or not studio_ca_pem:
        return report
    # Which one only needs a second read when the operator configured roots too.
    if trust_anchors_pem and _read(path, trust_anchors_pem).state == "trusted":
        return report
    return replace(report, state="studio")


def _joined(*bundles: bytes | None) -> bytes | None:
    """PEM bundles as one (a bundle is a list of certificates; a line break keeps them apart)."""
    present = [bundle.strip() for bundle in bundles if bundle]
    return b"\n".join(present) + b"\n" if present else None


def _read(path: Path, anchors_pem: bytes | None) -> ProvenanceReport:
    # Without user anchors c2pa-rs trusts nobody, so every signer reads merely "Valid".
    # Built outside the try below: unparsable anchors are a settings error that must surface,
    # not a verdict of "tampered" on every file.
    settings = {"trust": {"user_anchors": anchors_pem.decode()}} if anchors_pem else {}
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


def read_kept_take(path: Path, *, trust_anchors_pem: bytes | None = None,
                   studio_ca_pem: bytes | None = None) -> ProvenanceReport:
    """The verdict of a stored take the studio signed a copy of (generation/provenance/take_signing.py).

    What a take shows is the verdict of the file its provider delivered, which lives on as the
    copy's parent ingredient: c2pa-rs re-checks that manifest's signature against today's
    anchors (ingredientDeltas); its hard binding was checked when the copy was made (the
    ingredient's own validation results). A copy altered in storage since reads tampered.
    """
    # The parent's re-validation below (ingredientDeltas) must be against the operator's roots
    # alone: our CA is checked on its own, after.
    kept = _read(path, trust_anchors_pem)
    if kept.state in ("invalid", "none"):
        return kept  # the stored copy itself was altered, or stripped, after the studio signed it
    store = kept.manifest or {}
    parent = _parent_ingredient(store)
    if parent is None:
        return _none_report()  # the provider's file carried no credentials
    frozen = (parent.get("validation_results") or {}).get("activeManifest", {}).get("failure", [])
    deltas = _parent_deltas(store, parent)
    codes = list(dict.fromkeys(item["code"] for item in [*frozen, *deltas.get("failure", [])]))
    signed_ok = [c for c in codes if c != "signingCredential.untrusted"]
    if [c for c in codes if c not in _NOT_FAILURES]:
        state = "invalid"
    elif _parent_trusted(deltas):
        state, codes = "trusted", signed_ok
    elif studio_ca_pem and _parent_trusted(_parent_deltas(_read(path, studio_ca_pem).manifest or {}, parent)):
        state, codes = "studio", signed_ok
    else:
        state = "valid"
    report = _report_from_store({"manifests": store.get("manifests", {}),
                                 "active_manifest": parent["active_manifest"], "validation_state": "Valid"})
    return replace(report, state=state, codes=codes, manifest=store)


def _parent_ingredient(store: dict) -> dict | None:
    active = store.get("manifests", {}).get(store.get("active_manifest"), {})
    return next((i for i in active.get("ingredients", [])
                 if i.get("relationship") == "parentOf" and i.get("active_manifest")), None)


def _parent_deltas(store: dict, parent: dict) -> dict:
    """The parent ingredient's re-validation results from this read (success/failure lists)."""
    merged: dict[str, list] = {"success": [], "failure": []}
    label = parent.get("label") or ""
    for delta in (store.get("validation_results") or {}).get("ingredientDeltas") or []:
        if label and not delta.get("ingredientAssertionURI", "").endswith(label):
            continue
        for kind in merged:
            merged[kind] += (delta.get("validationDeltas") or {}).get(kind) or []
    return merged


def _parent_trusted(deltas: dict) -> bool:
    return any(item.get("code") == "signingCredential.trusted" for item in deltas.get("success", []))


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
    """The roots the operator chose to trust (C2PA_TRUST_ANCHORS), and only those.

    The studio's own local CA is not among them: it is a root this studio made itself, so a
    file it signed is "signed by this studio", never "trusted" (see studio_ca_from_settings).
    """
    from django.conf import settings

    if not settings.C2PA_TRUST_ANCHORS:
        return None
    return Path(settings.C2PA_TRUST_ANCHORS).read_bytes().strip() + b"\n"


def studio_ca_from_settings() -> bytes | None:
    """The studio's own local CA: the current identity's, or the one under C2PA_DIR that signed
    earlier takes when a real certificate has been configured since."""
    from django.conf import settings

    if ca_pem := studio_identity().ca_pem:
        return ca_pem
    ca_file = Path(settings.C2PA_DIR) / "ca.pem"
    return ca_file.read_bytes() if ca_file.exists() else None


def read_with_settings(path: Path) -> ProvenanceReport:
    """A take's verdict with the anchors and the studio CA configured now."""
    return read_provenance(path, trust_anchors_pem=trust_anchors_from_settings(),
                           studio_ca_pem=studio_ca_from_settings())


def read_kept_with_settings(path: Path) -> ProvenanceReport:
    """A stored studio-signed take's verdict with the anchors and studio CA configured now."""
    return read_kept_take(path, trust_anchors_pem=trust_anchors_from_settings(),
                          studio_ca_pem=studio_ca_from_settings())


def take_fields(report: ProvenanceReport, *, summary: dict | None = None) -> dict:
    """The Render fields a verdict is stored in (`summary`: more for c2pa_summary)."""
    return {
        "c2pa_manifest": report.manifest,
        "c2pa_state": report.state,
        "c2pa_codes": report.codes,
        "c2pa_summary": {
            "signer": report.signer,
            "claim_generator": report.claim_generator,
            "title": report.title,
            "actions": report.actions,
            "digital_source_type": report.digital_source_type,
            "verdict": report.verdict,
            **(summary or {}),
        },
    }


# Bumped when the way files are classified changes, so stored verdicts are recomputed too.
CLASSIFIER_VERSION = b"2"


def anchors_fingerprint() -> str:
    """A hash of everything a verdict depends on besides the file: anchors, studio CA, classifier."""
    digest = hashlib.sha256(CLASSIFIER_VERSION)
    for pem in (trust_anchors_from_settings(), studio_ca_from_settings()):
        digest.update(b"\0" + (pem or b""))
    return digest.hexdigest()


# --- A take as an ingredient of a cut --------------------------------------------------------


def ingredient_title(*, scene_number: int, title: str, take_number: int) -> str:
    return f"Scene {scene_number}: {title} (take {take_number})"


def ingredient_label(take_id: int) -> str:
    """How the cut's c2pa.placed actions point at a take's ingredient."""
    return f"take-{take_id}"


def ingredient_archive(path: Path, *, title: str, label: str, trust_anchors_pem: bytes | None = None) -> bytes:
    """A take as a C2PA ingredient: read and validated once, written as a small archive.

    The archive holds the take's own manifest store and the validation results as they
    stood now (with these trust anchors), no media; `CutSigner.add_ingredients` adds it
    to a cut in about a millisecond instead of re-reading and re-validating the take.
    """
    settings = {"trust": {"user_anchors": trust_anchors_pem.decode()}} if trust_anchors_pem else {}
    with c2pa.Context.from_dict(settings) as context, \
            c2pa.Builder({"claim_generator_info": [{"name": "Storyboard Studio"}], "format": MP4}, context) as builder, \
            open(path, "rb") as take:
        builder.add_ingredient({"title": title, "relationship": "componentOf", "label": label}, MP4, take)
        out = io.BytesIO()
        builder.write_ingredient_archive(label, out)
        return out.getvalue()
