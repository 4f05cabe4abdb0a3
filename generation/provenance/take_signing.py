"""The studio signs every take it keeps.

The provider's file is read first: its verdict is what the take shows. Then the studio writes
a signed copy that becomes the stored file: the provider's manifest (if any) as parent
ingredient, a `c2pa.created` action naming the provider and model, a hash of the exact request
(the take's recipe, never the raw prompt alone), the consent grants of the cast as they stood
when the take was sent, what the checks found in the delivered file (its validation codes, a
file that carried no credentials, a delivery other than booked), and a do-not-train assertion
when the team refuses AI training.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import c2pa
from django.core.files.storage import default_storage
from django.db.models import Q

from generation.models import Render
from generation.previz import animatic
from generation.previz.jobs import ALGORITHMIC_MEDIA, claim_generator
from generation.provenance import credentials as provenance
from generation.provenance.credentials import ingredient_title
from generation.providers import facts_for
from generation.storage import reference
from projects.models import ConsentGrant, Team

log = logging.getLogger(__name__)

MIME = {"mp4": "video/mp4", "mov": "video/quicktime"}


@dataclass(frozen=True)
class SignedTake:
    path: Path  # what to store: the signed copy, or the provider's file when it cannot be signed
    summary: dict  # merged into Render.c2pa_summary


def take_claim(render: Render, *, checks: provenance.TakeChecks, group_file: Path | None = None,
               shot: dict | None = None, extension: provenance.Extension | None = None) -> provenance.TakeClaim:
    scene = render.scene
    # A part of a multi-shot take: the group's file is its parent.
    parent: dict[str, Any] = ({"parent_path": group_file, "parent_title": group_title(render), "shot": shot}
                              if group_file else {})
    return provenance.TakeClaim(
        title=ingredient_title(scene_number=scene.number, title=scene.title, take_number=render.number),
        claim_generator=claim_generator(),
        digital_source_type=(provenance.TRAINED_ALGORITHMIC_MEDIA if _trained(render.provider)
                             else ALGORITHMIC_MEDIA),
        provider=render.provider,
        model=render.model,
        request_sha256=provenance.canonical_sha256(render.recipe),
        consents=consents_at_render_time(render),
        do_not_train=Team.objects.values_list("do_not_train", flat=True).get(pk=scene.project.team_id),
        checks=checks,
        extension=extension,
        **take_frames(render),
        **parent,
    )


def group_title(render: Render) -> str:
    """ "Multi-shot take of scenes 2–4 (fal fal-ai/kling-video/v3/pro/text-to-video)": a part's parent."""
    numbers = (render.recipe.get("shot") or {}).get("scenes") or [render.scene.number]
    return f"Multi-shot take of scenes {numbers[0]}–{numbers[-1]} ({render.provider} {render.model})"


def _trained(kind: str) -> bool:
    """Whether the take's provider renders with a trained model (ProviderFacts.trained_model); a kind the
    studio no longer has an adapter for was a remote provider's."""
    facts = facts_for(kind)
    return facts is None or facts.trained_model
FRAME_ROLES = (("start_frame", "start"), ("end_frame", "end"))


def take_frames(render: Render) -> dict:
    """The frames a take started from and ended on: each as an ingredient of its manifest,
    the exact image that was sent (fitted again from the original the recipe pinned: the same bytes), and
    what its assertion says of it."""
    size = (render.recipe.get("parameters") or {}).get("size", "")
    inputs, facts = [], []
    for key, role in FRAME_ROLES:
        entry = render.recipe.get(key)
        if not entry:
            continue
        said = {"role": role, "source": entry.get("source"), "original_sha256": entry.get("sha256")}
        if entry.get("source") == "take":
            said.update(scene=entry["scene"]["number"], take=entry["take"]["id"], take_number=entry["take"]["number"],
                        frame=entry["frame"])
        try:
            with default_storage.open(entry["original"], "rb") as original:
                data = reference.fit(original, size=size, mode=entry.get("fit", "crop"))
        except (OSError, ValueError) as exc:  # gone since (its take's files deleted with consent): say so
            log.warning("take %s: its %s frame could not be attached: %s", render.pk, role, exc)
            facts.append({**said, "attached": False})
            continue
        facts.append({**said, "attached": True, "sha256": hashlib.sha256(data).hexdigest()})
        inputs.append(provenance.InputIngredient(title=frame_title(role, entry), data=data))
    return {"inputs": tuple(inputs), "continuity": tuple(facts)}


def frame_title(role: str, entry: dict) -> str:
    """ "Start frame: frame 95 (the last) of scene 1, take 2" / "End frame: an image"."""
    what = "Start frame" if role == "start" else "End frame"
    if entry.get("source") != "take":
        return f"{what}: an image"
    which = f"frame {entry['frame']}" + (" (the last)" if entry.get("last") else " (the first)" if entry["frame"] == 0
                                         else "")
    return f"{what}: {which} of scene {entry['scene']['number']}, take {entry['take']['number']}"


def consents_at_render_time(render: Render) -> list[dict]:
    """Each cast member with the grant that was in force when the take was sent (None for a
    fictional character, who needs none), and a hash of that grant's terms."""
    at = render.submitted_at or render.created_at
    cast = sorted(render.characters.values_list("pk", flat=True))
    grants = (ConsentGrant.objects.filter(character_id__in=cast, granted_at__lte=at)
              .filter(Q(revoked_at__isnull=True) | Q(revoked_at__gt=at))
              .prefetch_related("projects").order_by("character_id", "-granted_at", "-pk"))
    in_force: dict[int, ConsentGrant] = {}
    for grant in grants:
        in_force.setdefault(grant.character_id, grant)
    return [consent_entry(character_id, in_force.get(character_id)) for character_id in cast]


def consent_entry(character_id: int, grant) -> dict:
    """A person's consent as a manifest records it: the grant's id and a hash of its terms (None for a
    fictional character). Takes record their cast's; an export, the voices recorded under a grant."""
    if grant is None:
        return {"character": character_id, "grant": None, "sha256": None}
    terms = {
        "id": grant.pk, "character": character_id, "granted_by": grant.granted_by_id, "scope": grant.scope,
        "projects": sorted(p.pk for p in grant.projects.all()), "providers": sorted(grant.providers),
        "expires_at": grant.expires_at.isoformat() if grant.expires_at else None,
        "granted_at": grant.granted_at.isoformat(),
    }
    return {"character": character_id, "grant": grant.pk, "sha256": provenance.canonical_sha256(terms)}


def take_sign(*, render: Render, video: Path, checks: provenance.TakeChecks,
              read: provenance.ProvenanceReport | None = None, container: str | None = None,
              group_file: Path | None = None, shot: dict | None = None,
              extension: provenance.Extension | None = None) -> SignedTake:
    """The file to store for this take: signed by the studio where the format allows.

    `checks`: what reading the delivered file and checking it against the booking found, from
    the reads the pipeline already made: `read` (its C2PA reading) and `container` (what its
    headers say it is, "other" for neither MP4 nor MOV) spare reading it again. `extension`: for
    an extended take, the take it continues (its parent ingredient) and the join."""
    try:
        mime = MIME[container or animatic.video_container(video)]
    except (KeyError, ValueError):  # WebM and other containers C2PA cannot embed a manifest in
        return SignedTake(video, {"studio_signed": False, "studio_note":
                                  "Stored unsigned: this video format cannot carry content credentials."})
    signed = video.with_name(f"signed{video.suffix}")
    try:
        # A part of a multi-shot take: `group_file` (what `read` read) is its parent, `shot` its range there.
        provenance.sign_take(src=video, dst=signed, identity=provenance.studio_identity(),
                             claim=take_claim(render, checks=checks, group_file=group_file, shot=shot,
                                              extension=extension), mime=mime, read=read)
    except c2pa.C2paError as exc:
        log.warning("take %s: the studio could not sign it: %s", render.pk, exc)
        return SignedTake(video, {"studio_signed": False,
                                  "studio_note": f"Stored unsigned: the studio could not sign it ({exc})."})
    return SignedTake(signed, {"studio_signed": True})
