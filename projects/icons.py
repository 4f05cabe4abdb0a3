"""The studio's icons: Lucide's SVGs, vendored from the npm registry (static/vendor/MANIFEST.json), served
as one sprite (static/studio/icons.svg) that `{% icon "name" %}` points into.

A page draws an icon with `<use href="…/icons.svg#name">`: one cached file, the icon's strokes in the
text's colour (currentColor), so a theme or a state recolours it with the words beside it.
`manage.py icon_sprite` rebuilds the sprite from the vendored files; tests/test_vendored.py checks that
the committed sprite is what they build.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from django.conf import settings

SVG = "http://www.w3.org/2000/svg"
# What a Lucide icon's <svg> says about how to draw its strokes: kept on each symbol, which <use> inherits.
DRAWING = ("fill", "stroke", "stroke-width", "stroke-linecap", "stroke-linejoin")


def vendor_dir() -> Path:
    return Path(settings.BASE_DIR) / "static" / "vendor"


def sprite_path() -> Path:
    return Path(settings.BASE_DIR) / "static" / "studio" / "icons.svg"


def _package() -> dict[str, Any]:
    manifest = json.loads((vendor_dir() / "MANIFEST.json").read_text(encoding="utf-8"))
    return next(p for p in manifest["packages"] if p.get("sprite"))


def build_sprite() -> str:
    """The sprite's text: one <symbol id="name"> per vendored icon, in name order."""
    package = _package()
    ET.register_namespace("", SVG)
    symbols = []
    for entry in sorted(package["files"], key=lambda e: e["file"]):
        path = vendor_dir() / entry["file"]
        icon = ET.fromstring(path.read_text(encoding="utf-8"))
        drawing = "".join(f' {name}="{icon.get(name)}"' for name in DRAWING if icon.get(name))
        for child in icon:
            child.tail = None
        body = "".join(ET.tostring(child, encoding="unicode").replace(f' xmlns="{SVG}"', "") for child in icon)
        symbols.append(f'<symbol id="{path.stem}" viewBox="{icon.get("viewBox")}"{drawing}>{body}</symbol>')
    head = (f'<!-- Built by manage.py icon_sprite from {package["name"]} {package["version"]} '
            f'(static/vendor/{package["license"]}); do not edit by hand. -->')
    return head + "\n" + f'<svg xmlns="{SVG}">\n' + "\n".join(symbols) + "\n</svg>\n"


def icon_names() -> set[str]:
    return {Path(entry["file"]).stem for entry in _package()["files"]}
