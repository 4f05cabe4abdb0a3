"""What the studio serves and runs carries no half-finished merge: a conflict marker left in a
stylesheet silently drops the rule after it (the trash toast and the sound controls once lost theirs)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARKER = re.compile(r"^(<{7} |={7}$|>{7} )", re.M)
CHECKED = (".py", ".html", ".txt", ".css", ".js", ".md", ".toml", ".in", ".json", ".po")


def tracked_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=False)
    if listed.returncode == 0 and listed.stdout:
        names = [name for name in listed.stdout.decode().split("\0") if name]
    else:  # not a git checkout (an unpacked release): read the tree
        names = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if ".venv" not in p.parts and p.is_file()]
    return [ROOT / name for name in names if name.endswith(CHECKED) and (ROOT / name).is_file()]


def test_the_check_reads_the_studios_own_files():
    names = {path.name for path in tracked_files()}
    assert {"studio.css", "settings.py", "take_review.html"} <= names


def test_no_file_keeps_a_merge_conflict_marker():
    offenders = []
    for path in tracked_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in MARKER.finditer(text):
            offenders.append(f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, match.start()) + 1}")
    assert offenders == []
