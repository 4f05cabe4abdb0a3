"""A finished take without the encode: for tests that only need "a finished take exists".

Drawing and encoding the previz animatic is most of what a real take costs a test. The
`finished_take` fixture (tests/conftest.py) books and finishes a take through the real studio
(booking, budget hold, take number, previz job, download, delivery probe, provenance read, studio
signing, thumbnail, activity and emails), and only the encode is replaced: the first take of a
given size and length in a session is encoded for real, later ones copy those bytes. So every
field of the take (delivered facts, provenance state and summary, thumbnail, cost, duration) is
written by the product exactly as for a real take; only the pictures (and the sound bed) may be
another take's: its words, reference image and cast portraits. Tests that look at the pictures,
frames or sound keep `render_take`.
"""

from __future__ import annotations

import io
import shutil
from contextlib import contextmanager
from pathlib import Path
from unittest import mock


class EncodedAnimatics:
    """Unsigned animatics encoded once per size, length and frame rate, copied for every later take."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.active = False

    @contextmanager
    def in_use(self):
        from generation.previz import animatic

        if self.active:  # finished_take inside a test that uses previz_without_encode
            yield
            return
        real = animatic.render_animatic

        def render_animatic(*, out_path, width, height, seconds, on_progress=None, **pictures):
            # `pictures` (words, reference image, cast portraits) only change what the frames show.
            if on_progress:
                on_progress(0)
            cached = self.folder / f"{width}x{height}-{seconds}s-{pictures.get('fps', 24)}fps.mp4"
            if not cached.exists():
                real(out_path=cached, width=width, height=height, seconds=seconds, **pictures)
            shutil.copyfile(cached, out_path)
            if on_progress:
                on_progress(100)

        real_shots = animatic.render_shots

        def render_shots(*, out_path, width, height, shots, fps=24, on_progress=None):
            # A multi-shot animatic: one per size, frame rate and shot lengths (its cuts are what tests read).
            if on_progress:
                on_progress(0)
            lengths = "-".join(str(shot["seconds"]) for shot in shots)
            cached = self.folder / f"{width}x{height}-shots-{lengths}-{fps}fps.mp4"
            if not cached.exists():
                real_shots(out_path=cached, width=width, height=height, fps=fps, shots=[
                    {**shot, "background": None, "cast": ()} for shot in shots])
            shutil.copyfile(cached, out_path)
            if on_progress:
                on_progress(100)

        self.active = True
        try:
            with mock.patch.object(animatic, "render_animatic", render_animatic), \
                    mock.patch.object(animatic, "render_shots", render_shots):
                yield
        finally:
            self.active = False


def photo(name: str = "me.png", color=(10, 120, 200), *, size: int = 64):
    """A small real PNG, uploaded under `name` (a reference image, a portrait for consent)."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (size, size), color).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def consent_bring_to(character, member, state: str, other_project) -> None:
    """Bring a person's consent to `state`, the way they would: "none", "team", "other_project",
    "other_provider" (granted for Replicate only), "expired" or "revoked"."""
    from datetime import timedelta

    from django.utils import timezone

    from projects.characters import consent
    from projects.models import ConsentScope

    if state == "none":
        return
    consent.consent_grant(
        character=character, user=member,
        scope=ConsentScope.PROJECTS if state == "other_project" else ConsentScope.TEAM,
        projects=[other_project] if state == "other_project" else [],
        providers=["replicate"] if state == "other_provider" else [])
    if state == "expired":
        character.grants.update(expires_at=timezone.now() - timedelta(days=1))
    if state == "revoked":
        consent.consent_revoke(character=character, user=member)
