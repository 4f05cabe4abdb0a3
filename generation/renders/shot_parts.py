"""A multi-shot take's file, cut back into one take per scene.

When the group's one job succeeds, its lead downloads the file and this module makes the parts:
it finds each boundary (splitting.py), copies each shot out (a stream copy where it can), and for
each part probes what was delivered, checks it against its own scene's booking (size, length,
sound), takes its thumbnail and signs it: the studio's manifest names the group's file as the
part's parent ingredient and records the range it was cut from. The group's file itself is kept as
the provider delivered it (its own manifest intact), so the whole take plays from any of its parts.

Then every part finishes (Render.advance, one by one: each scene's frame and stack change as its
part does). Nothing here talks to a provider; the pipeline downloads and calls `parts_cut`, then
`parts_finish`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generation import catalog
from generation.models import Render, ShotGroup, Status
from generation.previz import animatic
from generation.provenance import credentials as provenance
from generation.provenance import take_signing
from generation.renders import delivery, splitting
from generation.storage.scratch import FinishedFile

log = logging.getLogger(__name__)


class NotStored(Exception):
    """The media storage refused a file: usually passes, so the caller may try again."""


@dataclass
class CutPart:
    take: Render
    fields: dict[str, Any]  # what the take becomes when it finishes


def parts_cut(lead: Render, group_file: Path, workdir: Path) -> list[CutPart]:
    """Cut the group's downloaded file into its parts, sign and store each; store the group's file.
    ValueError (in words) when the file is not a video or cannot be cut into the booked shots."""
    assert lead.shot_group_id is not None, "only a multi-shot take's lead is cut into parts"
    group = ShotGroup.objects.select_related("project").get(pk=lead.shot_group_id)
    recipe = group.recipe
    facts = delivery.delivered_facts(group_file)
    report = provenance.read_with_settings(group_file)
    exact = recipe.get("shot_timing") != "order"
    split = splitting.split_group(group_file, durations=[s["seconds"] for s in recipe["shots"]],
                                  out_dir=workdir / "parts", exact=exact)
    model = catalog.resolve(lead.connection, lead.model) if lead.connection_id else None
    parts = list(Render.objects.filter(shot_group=group).select_related("scene__project").order_by("shot_index"))
    cut = []
    stored = []
    try:
        for take, piece in zip(parts, split.parts):
            cut.append(_part(take, piece, workdir, report, group_file, exact=exact,
                             audio_expected=bool(model and model.has_audio)))
            stored += [take.video, take.thumbnail]
        # Last: a file system storage moves the file into place, and every part was signed from it.
        group.cuts = {"delivered": facts, "fps": split.fps, "frames": split.frames, "duration": split.duration,
                      "boundaries": [vars(b) for b in split.boundaries],
                      "parts": [p.facts() for p in split.parts],
                      "provenance": {"state": report.state, "codes": report.codes}}
        with group_file.open("rb") as video:
            group.video.save("group.mp4", FinishedFile(video), save=False)
        group.save(update_fields=["cuts", "video"])
    except Exception as exc:  # a full disk, an unreachable bucket: nothing half-stored is kept
        log.warning("multi-shot take %s: storing its parts failed: %r", group.pk, exc)
        for field in stored:
            if field:
                field.delete(save=False)
        if group.video:
            group.video.delete(save=False)
        raise NotStored() from exc
    log.info("multi-shot take %s cut into %d parts", group.pk, len(cut), extra={
        "group_id": group.pk, "take_id": lead.pk,
        "boundaries": [(b.booked, b.seconds, b.found_by) for b in split.boundaries],
        "copied": [p.copied for p in split.parts]})
    return cut


def _part(take: Render, piece: splitting.Part, workdir: Path, report: provenance.ProvenanceReport, group_file: Path, *, exact: bool,
          audio_expected: bool) -> CutPart:
    facts = delivery.delivered_facts(piece.path)
    thumb = workdir / f"thumbnail-{piece.index + 1}.jpg"
    animatic.extract_thumbnail(piece.path, thumb, exact=False)
    params = take.recipe.get("parameters", {})
    # A model that keeps only the order of shots sets their lengths itself: only the size and sound are
    # checked then, and the part records the range it was found at.
    seconds = float(params.get("seconds") or 0) if exact else facts["duration"]
    problems = delivery.delivery_problems(facts, size=params.get("size", "0x0"), seconds=seconds,
                                          audio_expected=audio_expected)
    shot = {**piece.facts(), "group": take.shot_group_id, "of": len(take.recipe.get("shot", {}).get("scenes", [])),
            "timing": "exact" if exact else "order"}
    kept = take_signing.take_sign(render=take, video=piece.path, read=report, container=facts["container"],
                                  checks=provenance.TakeChecks.of(report, delivery_problems=problems),
                                  group_file=group_file, shot=shot)
    with kept.path.open("rb") as video, thumb.open("rb") as image:
        take.video.save("video.mp4", FinishedFile(video), save=False)
        take.thumbnail.save("thumbnail.jpg", FinishedFile(image), save=False)
    return CutPart(take, {
        "delivered": {**facts, "cut": shot}, "delivery_problems": problems, "video": take.video.name,
        "thumbnail": take.thumbnail.name, "duration_seconds": facts["duration"],
        **provenance.take_fields(report, summary=kept.summary)})


def parts_finish(lead: Render, cut: list[CutPart]) -> None:
    """Every part finishes, its lead last (the others follow the lead's status until then)."""
    for part in sorted(cut, key=lambda p: p.take.pk == lead.pk):
        take = part.take
        take.status = Render.objects.values_list("status", flat=True).get(pk=take.pk)
        if take.status != Status.DOWNLOADING or not take.advance(Status.SUCCEEDED, progress=100, **part.fields):
            take.video.delete(save=False)  # ended otherwise meanwhile: keep no orphaned files
            take.thumbnail.delete(save=False)
