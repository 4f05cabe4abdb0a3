"""Rebuild static/studio/icons.svg from the icons vendored under static/vendor/ (see projects/icons.py)."""

from typing import Any

from django.core.management.base import BaseCommand

from projects.icons import build_sprite, sprite_path


class Command(BaseCommand):
    help = "Rebuild the icon sprite (static/studio/icons.svg) from the vendored Lucide icons."

    def handle(self, *args: Any, **options: Any) -> None:
        sprite_path().write_text(build_sprite(), encoding="utf-8")
        self.stdout.write(f"Wrote {sprite_path()}")
