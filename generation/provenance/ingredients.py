"""Takes as C2PA ingredients of the cut, prepared once and kept with the take.

Reading and validating a take's manifest costs about 10 ms; an export lists every approved
take as an ingredient. So the ingredient is written when a take is approved (a Celery task
after the approval commits) and stored beside the video as a small archive. The export adds
the stored archive, or prepares it then when it is missing or stale: the ingredient's title
names the scene (its number and title can change after approval) and the validation
depends on the trust anchors, so the archive is keyed by both.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from pathlib import Path

import c2pa
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage

from generation.models import Render
from generation.provenance import credentials as provenance
from generation.storage.scratch import scratch_dir

log = logging.getLogger(__name__)

ARCHIVE_NAME = "ingredient.c2pa"


def title_for(take: Render) -> str:
    scene = take.scene
    return provenance.ingredient_title(scene_number=scene.number, title=scene.title, take_number=take.number)


def key_for(title: str, trust_anchors_pem: bytes | None) -> str:
    digest = hashlib.sha256(title.encode())
    digest.update(b"\0" + (trust_anchors_pem or b""))
    return digest.hexdigest()


def stored(take: Render, *, title: str, trust_anchors_pem: bytes | None) -> bytes | None:
    """The take's stored ingredient archive, if it was written with this title and these anchors."""
    if not take.c2pa_ingredient or take.c2pa_ingredient_key != key_for(title, trust_anchors_pem):
        return None
    try:
        with take.c2pa_ingredient.open("rb") as archive:
            return archive.read()
    except FileNotFoundError:
        log.warning("take %s: stored ingredient %s is missing; it will be written again",
                    take.pk, take.c2pa_ingredient.name)
        return None


def store(take: Render, archive: bytes, *, title: str, trust_anchors_pem: bytes | None) -> None:
    """Keep `archive` (written under `title` with these anchors) with the take, for later exports."""
    old = take.c2pa_ingredient.name if take.c2pa_ingredient else ""
    key = key_for(title, trust_anchors_pem)
    take.c2pa_ingredient.save(ARCHIVE_NAME, ContentFile(archive), save=False)
    take.c2pa_ingredient_key = key
    # Not for a take withheld meanwhile (consent revoked, perhaps with its files deleted):
    # the archive holds the take's manifest and prompt.
    kept = (Render.objects.filter(pk=take.pk, quarantined_at__isnull=True).exclude(video="")
            .update(c2pa_ingredient=take.c2pa_ingredient.name, c2pa_ingredient_key=key))
    if not kept:
        take.c2pa_ingredient.delete(save=False)
    elif old and old != take.c2pa_ingredient.name:
        take.c2pa_ingredient.storage.delete(old)


def prepare(take_id: int) -> None:
    """Write the ingredient of an approved take ahead of the exports that will list it."""
    take = (Render.objects.select_related("scene").filter(pk=take_id, quarantined_at__isnull=True)
            .exclude(video="").first())
    if take is None:  # withheld or deleted since the approval: nothing to prepare
        return
    try:
        title, anchors = title_for(take), provenance.trust_anchors_from_settings()
        if stored(take, title=title, trust_anchors_pem=anchors) is not None:
            return  # approved before, and nothing it depends on changed
        with scratch_dir("studio-ingredient-") as tmp:
            local = local_path(take.video, Path(tmp) / "take.mp4")
            archive = provenance.ingredient_archive(
                local, title=title, label=provenance.ingredient_label(take.pk), trust_anchors_pem=anchors)
        store(take, archive, title=title, trust_anchors_pem=anchors)
    except (FileNotFoundError, c2pa.C2paError) as exc:
        # The export says in words when a take can't be read; here it is only not prepared.
        log.warning("take %s: could not prepare its C2PA ingredient: %s", take_id, exc)


def local_path(field_file, fallback: Path) -> Path:
    """The stored file's path on this machine, or a copy of it at `fallback` when storage is remote."""
    if isinstance(field_file.storage, FileSystemStorage):
        return Path(field_file.path)
    # A bucket: copied down in chunks (a take can be hundreds of MB), into the caller's
    # scratch folder, which goes away with it.
    with field_file.open("rb") as src, open(fallback, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    return fallback
