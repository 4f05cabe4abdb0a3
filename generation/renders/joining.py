"""The worker's side of an extension: what it sends the provider, and the whole clip it keeps.

The provider gets the extended take as its wire takes it: by the job that made it (an OpenAI-format
video id, a Veo operation) or as the studio's own copy of the clip (fal, ComfyUI), with the clip's last
frame for a workflow or the previz that draws from it. What comes back is the whole clip or only the
new part, as the catalog declared when the extension was booked (recipe "extend_of"."returns"); a new
part is joined to the extended take here (generation/storage/joins.py), so the studio keeps the whole
clip either way, and the join (where the continuation begins) is recorded on the take and in its manifest.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from django.core.files.storage import default_storage
from django.utils.translation import gettext

from generation.models import Render
from generation.previz import animatic
from generation.provenance import credentials as provenance
from generation.provenance.credentials import ingredient_title
from generation.providers import ExtendRequest
from generation.renders import continuity
from generation.storage import joins


def _copy(name: str, dest: Path) -> Path:
    with default_storage.open(name, "rb") as source, dest.open("wb") as out:
        shutil.copyfileobj(source, out, 1 << 20)
    return dest


def extend_request_for(render: Render, workdir: Path) -> ExtendRequest:
    """The extension's request, with the extended take's clip and last frame (fitted to its size) in `workdir`.
    OSError or ValueError when they cannot be read (the extended take's files deleted since)."""
    recipe, extended = render.recipe, render.extension
    params = recipe["parameters"]
    source = _copy(extended["video"], workdir / "extended.mp4")
    last = extended.get("last_frame") or {}
    last_frame = None
    if last.get("original"):
        last_frame = workdir / "last-frame.png"
        last_frame.write_bytes(continuity.fitted(last["original"], size=params["size"], fit=last.get("fit", "crop")))
    return ExtendRequest(
        prompt=recipe["prompt"], model=render.model, seconds=int(params["seconds"]), size=params["size"],
        source_job_id=extended.get("provider_job_id", ""), source_video=source,
        source_seconds=extended.get("source_seconds"), last_frame=last_frame, title=recipe["scene"]["title"],
        scene_number=int(recipe["scene"]["number"]), recipe=recipe, idempotency_key=str(render.idempotency_key))


@dataclass(frozen=True)
class WholeClip:
    path: Path  # what the take keeps: the joined clip, or the whole clip the provider returned
    join_seconds: float  # where the continuation begins in it
    extension: provenance.Extension  # what its manifest says of the take it continues
    # What the delivery check reads, and how long it should play: the new part the provider delivered (its
    # booked seconds; a part of another size is re-encoded to the take's for the clip kept, never hidden by it),
    # or the whole clip it returned (the extended take's length and the new seconds).
    checked: Path
    checked_seconds: float


def whole_clip(render: Render, delivered: Path, workdir: Path) -> WholeClip:
    """The whole clip of an extended take from what the provider `delivered`. ValueError when the new part
    cannot be joined to the take it continues; OSError when that take's file cannot be read."""
    extended = render.extension
    parent = workdir / "extended.mp4"
    if not parent.exists():
        _copy(extended["video"], parent)
    source_seconds = float(extended.get("source_seconds") or animatic.video_duration(parent))
    seconds = int(extended["seconds"])
    if extended.get("returns") == "new":
        path = workdir / "whole.mp4"
        joined = joins.join_clips(parent, delivered, path)
        join, how = joined.join_seconds, joined.method
    else:  # the provider returned the take and its continuation as one clip
        path, join, how = delivered, round(source_seconds, 3), "provider"
    names = {"take": extended["take"]["number"], "scene": extended["scene"]["number"], "seconds": seconds,
             "join": f"{join:.2f}"}
    if how == "provider":
        words = gettext("Extended take %(take)s of scene %(scene)s by %(seconds)s s; the provider returned the "
                        "whole clip, the continuation begins at %(join)s s.") % names
    else:
        words = gettext("Extended take %(take)s of scene %(scene)s by %(seconds)s s; the studio joined the "
                        "continuation to it (%(how)s) at %(join)s s.") % {**names, "how": how}
    facts = {"take": extended["take"]["id"], "take_number": extended["take"]["number"],
             "scene": extended["scene"]["number"], "seconds": seconds, "join_seconds": join,
             "returns": extended.get("returns", ""), "joined": how,
             "extended_sha256": extended.get("video_sha256")}
    title = ingredient_title(scene_number=extended["scene"]["number"], title=extended["scene"]["title"],
                             take_number=extended["take"]["number"])
    what = "continuation" if how != "provider" else "extended clip"
    new_part = how != "provider"
    return WholeClip(path=path, join_seconds=join, checked=delivered,
                     checked_seconds=float(seconds) if new_part else source_seconds + seconds,
                     extension=provenance.Extension(
                         parent_title=title, parent_path=parent, delivered_path=delivered,
                         delivered_title=f"{render.provider} {render.model} {what}", facts=facts, description=words))
