"""What static/vendor/ holds is what its manifest says was copied from the npm registry, and the icon
sprite the pages point into is built from those copies, with every icon a template asks for. The same for
tests/vendor/ (axe-core, for the accessibility tests), which is never served."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from django.conf import settings
from django.template import Context, Template

from projects.icons import build_sprite, icon_names, sprite_path, vendor_dir
from tests.test_templates import studio_templates

MANIFEST = json.loads((vendor_dir() / "MANIFEST.json").read_text(encoding="utf-8"))
TESTS_VENDOR = Path(__file__).resolve().parent / "vendor"
TESTS_MANIFEST = json.loads((TESTS_VENDOR / "MANIFEST.json").read_text(encoding="utf-8"))


def copied_files(manifest: dict = MANIFEST) -> list[tuple[str, str]]:
    """(path under the vendor folder, the sha256 the manifest records) of every file copied there."""
    files = []
    for package in manifest["packages"]:
        files.append((package["license"], package["license_sha256"]))
        if "file" in package:
            files.append((package["file"], package["sha256"]))
        files.extend((entry["file"], entry["sha256"]) for entry in package.get("files", ()))
    return files


def test_every_vendored_file_is_the_copy_its_manifest_records():
    changed = [path for path, sha256 in copied_files()
               if hashlib.sha256((vendor_dir() / path).read_bytes()).hexdigest() != sha256]
    assert not changed, f"edited after copying, or the manifest is stale: {changed}"


def test_nothing_sits_in_static_vendor_that_the_manifest_does_not_name():
    on_disk = {str(p.relative_to(vendor_dir())) for p in vendor_dir().rglob("*") if p.is_file()}
    assert on_disk - {path for path, _ in copied_files()} == {"MANIFEST.json"}


def test_every_package_names_its_registry_version_and_integrity():
    for package in MANIFEST["packages"] + TESTS_MANIFEST["packages"]:
        assert package["registry"] == "npm" and package["version"]
        assert re.fullmatch(r"sha512-[A-Za-z0-9+/]{86}==", package["integrity"]), package["name"]


def test_the_icon_sprite_is_built_from_the_vendored_icons():
    # Rebuild with `manage.py icon_sprite` after adding an icon to the manifest.
    assert sprite_path().read_text(encoding="utf-8") == build_sprite()
    assert "lucide-static 1.87.0" in build_sprite().splitlines()[0]


def test_every_icon_a_template_draws_is_in_the_sprite():
    used = {name for path in studio_templates()
            for name in re.findall(r'\{% icon "([^"]+)"', path.read_text(encoding="utf-8"))}
    assert used, "no template draws an icon: this test would prove nothing"
    assert used - icon_names() == set()
    symbols = set(re.findall(r'<symbol id="([^"]+)"', sprite_path().read_text(encoding="utf-8")))
    assert used <= symbols


def test_an_icon_points_into_the_sprite_served_from_static():
    html = Template('{% load icons %}{% icon "bell" %}').render(Context())
    assert html == (f'<svg class="icon" aria-hidden="true"><use href="{settings.STATIC_URL}studio/icons.svg#bell">'
                    "</use></svg>")


def test_the_sprite_and_the_licence_ship_as_static_files():
    static = Path(settings.BASE_DIR) / "static"
    assert sprite_path().is_relative_to(static)
    assert "ISC License" in (vendor_dir() / "lucide-static" / "LICENSE").read_text(encoding="utf-8")


def test_the_tests_own_vendored_files_are_the_copies_their_manifest_records():
    changed = [path for path, sha256 in copied_files(TESTS_MANIFEST)
               if hashlib.sha256((TESTS_VENDOR / path).read_bytes()).hexdigest() != sha256]
    assert not changed, f"edited after copying, or the manifest is stale: {changed}"
    on_disk = {str(p.relative_to(TESTS_VENDOR)) for p in TESTS_VENDOR.rglob("*") if p.is_file()}
    assert on_disk - {path for path, _ in copied_files(TESTS_MANIFEST)} == {"MANIFEST.json"}


def test_axe_core_is_for_the_tests_only_and_never_served():
    from django.contrib.staticfiles import finders

    assert [p["name"] for p in TESTS_MANIFEST["packages"]] == ["axe-core"]
    assert "axe v4.14.1" in (TESTS_VENDOR / "axe-core" / "axe.min.js").read_text(encoding="utf-8")[:40]
    assert not [folder for folder in settings.STATICFILES_DIRS if TESTS_VENDOR.is_relative_to(folder)]
    assert finders.find("axe-core/axe.min.js") is None and finders.find("vendor/axe-core/axe.min.js") is None
