"""The front-end code copied into static/vendor/ is byte for byte what MANIFEST.json records.

The manifest's `integrity` is the npm tarball's hash, which the copied files cannot be checked
against; each copied file's own sha256 is what catches an edit, a bad copy or a file added by hand.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

VENDOR = Path(__file__).resolve().parent.parent / "static" / "vendor"
MANIFEST = json.loads((VENDOR / "MANIFEST.json").read_text())
COPIED = [(package["name"], package[key], package.get(f"{key}_sha256"))
          for package in MANIFEST["packages"] for key in ("file", "license")]


@pytest.mark.parametrize("package, path, recorded", COPIED, ids=[path for _, path, _ in COPIED])
def test_each_vendored_file_has_the_hash_the_manifest_records(package, path, recorded):
    assert recorded, f"{package}: MANIFEST.json records no sha256 for {path}"
    assert hashlib.sha256((VENDOR / path).read_bytes()).hexdigest() == recorded, (
        f"{path} is not the file copied from {package}'s tarball: copy it again from `npm pack`")


def test_every_file_in_the_vendor_folder_is_in_the_manifest():
    on_disk = {p.relative_to(VENDOR).as_posix() for p in VENDOR.rglob("*") if p.is_file()}

    assert on_disk - {"MANIFEST.json"} == {path for _, path, _ in COPIED}
