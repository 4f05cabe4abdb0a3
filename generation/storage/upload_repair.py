"""Repair uploads stored before their names came from what they are.

Scene reference images, character images and character reference videos used
to keep the uploader's extension: a PNG called `ref.html` was stored as
`….html`. Each stored file is re-detected (Pillow, PyAV): a real image or video
is copied under its true extension and the row updated; anything else is moved
to `quarantine/` (served by nothing), its field cleared and the removal recorded.

Only Django's storage API is used, so it works the same on local disk and S3.
Models come from `apps`, so the data migration runs the very same code.
"""

from __future__ import annotations

import posixpath
import tempfile
import uuid
from pathlib import Path

from django.core.files.base import File

from generation.previz.animatic import video_container
from generation.storage.reference import SUFFIXES, ReferenceError, verify_upload

QUARANTINE = "quarantine"
IMAGE_SUFFIXES = set(SUFFIXES.values())
VIDEO_SUFFIXES = {"mp4", "mov"}


def _suffix(name: str) -> str:
    base = posixpath.basename(name)
    return base.rsplit(".", 1)[-1].lower() if "." in base else ""


def image_suffix(storage, name: str) -> str | None:
    """jpg/png/webp for a stored file Pillow verifies as such; None for anything else."""
    with storage.open(name, "rb") as f:
        try:
            return SUFFIXES[verify_upload(f)]
        except ReferenceError:
            return None


def video_suffix(storage, name: str) -> str | None:
    """mp4/mov for a stored file PyAV reads as such; None for anything else."""
    with tempfile.TemporaryDirectory() as tmp, storage.open(name, "rb") as source:
        path = Path(tmp) / "upload"
        with path.open("wb") as out:
            for chunk in source.chunks():
                out.write(chunk)
        try:
            return video_container(path)
        except ValueError:
            return None


def _rename(storage, name: str, suffix: str) -> str:
    with storage.open(name, "rb") as source:
        new_name = storage.save(f"{posixpath.dirname(name)}/{uuid.uuid4().hex}.{suffix}", File(source))
    storage.delete(name)
    return new_name


def _quarantine(storage, name: str) -> str:
    with storage.open(name, "rb") as source:
        kept = storage.save(f"{QUARANTINE}/{name}", File(source))
    storage.delete(name)
    return kept


def _check(field_file, detect) -> tuple[str, str]:
    """("ok" | "renamed" | "quarantined" | "missing", new name ("" when missing))."""
    storage, name = field_file.storage, field_file.name
    if not storage.exists(name):
        return "missing", ""
    suffix = detect(storage, name)
    if suffix is None:
        return "quarantined", _quarantine(storage, name)
    if suffix == _suffix(name) or (suffix, _suffix(name)) == ("jpg", "jpeg"):
        return "ok", name
    return "renamed", _rename(storage, name, suffix)


def _point_recipes_at(Render, old: str, new: str) -> None:
    # Takes keep the name of the original they used (to retry or remix from it).
    for render in Render.objects.filter(recipe__icontains=old).only("pk", "recipe"):
        recipe = _replace_name(render.recipe, old, new)
        Render.objects.filter(pk=render.pk).update(recipe=recipe)


def _replace_name(value, old, new):
    if isinstance(value, dict):
        return {k: _replace_name(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_name(v, old, new) for v in value]
    return new if value == old else value


def repair_uploads(apps) -> list[str]:
    """Repair every stored upload; returns one line per file changed, for people to read."""
    Scene = apps.get_model("projects", "Scene")
    Activity = apps.get_model("projects", "Activity")
    Character = apps.get_model("projects", "Character")
    CharacterImage = apps.get_model("projects", "CharacterImage")
    ConsentEvent = apps.get_model("projects", "ConsentEvent")
    Render = apps.get_model("generation", "Render")
    report = []

    # Every scene's upload, those in a project's trash too (the base manager: the board's hides them).
    scenes = Scene._base_manager
    for scene in scenes.exclude(reference_image="").select_related("project"):
        old = scene.reference_image.name
        outcome, new = _check(scene.reference_image, image_suffix)
        if outcome == "renamed":
            scenes.filter(pk=scene.pk).update(reference_image=new)
            _point_recipes_at(Render, old, new)
            report.append(f"Scene {scene.pk}: reference image {old} renamed to {new}.")
        elif outcome == "quarantined":
            scenes.filter(pk=scene.pk).update(reference_image="")
            Activity.objects.create(
                project=scene.project, scene=scene, kind="scene_edited", actor_name="Studio",
                text=f"removed the reference image of {scene.title}: the stored file was not a JPEG, PNG or "
                     "WebP image, so it was quarantined. Upload the image again.")
            report.append(f"Scene {scene.pk}: reference image {old} is not an image; quarantined as {new}.")

    for image in CharacterImage.objects.select_related("character"):
        old = image.image.name
        outcome, new = _check(image.image, image_suffix)
        if outcome == "renamed":
            CharacterImage.objects.filter(pk=image.pk).update(image=new)
            _point_recipes_at(Render, old, new)
            report.append(f"Character {image.character_id}: image {old} renamed to {new}.")
        elif outcome == "quarantined":
            image.delete()
            ConsentEvent.objects.create(
                character=image.character, action="files_deleted",
                details={"files": [old], "quarantined_as": new,
                         "receipt": "A reference image that was not a JPEG, PNG or WebP image was removed."})
            report.append(f"Character {image.character_id}: image {old} is not an image; quarantined as {new}.")

    for character in Character.objects.exclude(reference_video=""):
        old = character.reference_video.name
        outcome, new = _check(character.reference_video, video_suffix)
        if outcome == "renamed":
            Character.objects.filter(pk=character.pk).update(reference_video=new)
            report.append(f"Character {character.pk}: reference video {old} renamed to {new}.")
        elif outcome == "quarantined":
            Character.objects.filter(pk=character.pk).update(reference_video="")
            ConsentEvent.objects.create(
                character=character, action="files_deleted",
                details={"files": [old], "quarantined_as": new,
                         "receipt": "A reference video that was not an MP4 or MOV video was removed."})
            report.append(f"Character {character.pk}: reference video {old} is not a video; quarantined as {new}.")
    return report
