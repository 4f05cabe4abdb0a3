"""Comments, docstrings and notes say why in words: none points at a tracker a reader of the repository
cannot open ("issue #12 §3", "(#25 §3)", "§4:")."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("projects", "generation", "studio_site", "templates", "static/studio", "tests", "bench")
SUFFIXES = {".py", ".html", ".js", ".css", ".md", ".txt"}
TRACKER = re.compile(r"\bissue ?#?\d+|#\d+ ?§|§ ?\d+")


def test_no_comment_or_docstring_cites_a_tracker_issue() -> None:
    found = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
             for folder in FOLDERS for path in sorted((ROOT / folder).rglob("*"))
             if path.suffix in SUFFIXES and path != Path(__file__).resolve()
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if TRACKER.search(line)]
    assert not found, "Say why in words instead:\n" + "\n".join(found)
