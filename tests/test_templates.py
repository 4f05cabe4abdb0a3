"""Every template the studio ships, read as Django reads it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import cast

from django.conf import settings

# Django's {# … #} is a one-line comment: one that runs past its line is no comment at all,
# and the page prints it (the review page once showed a developer note under every comment).
UNCLOSED_ON_ITS_LINE = re.compile(r"\{#(?:(?!#\}).)*$", re.M)


def studio_templates() -> list[Path]:
    folders = [Path(folder) for engine in settings.TEMPLATES for folder in cast(list[str], engine["DIRS"])]
    return sorted(path for folder in folders for path in folder.rglob("*") if path.is_file())


def test_the_studio_ships_templates_to_check():
    names = {path.name for path in studio_templates()}
    assert {"base.html", "_sharing.html", "take_review.html", "password_reset_email.txt"} <= names


def test_no_template_comment_runs_over_more_than_one_line():
    offenders = []
    for path in studio_templates():
        text = path.read_text(encoding="utf-8")
        for match in UNCLOSED_ON_ITS_LINE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            offenders.append(f"{path.relative_to(settings.BASE_DIR)}:{line}: {match.group(0)[:60]}")
    assert not offenders, "{# … #} must open and close on one line (use {% comment %} for more):\n" + "\n".join(offenders)


def test_no_template_writes_its_own_ago_after_timesince():
    # "{{ x|timesince }} ago" reads "0 minutes ago" for what just happened: {{ x|ago }} says "just now".
    offenders = [f"{path.relative_to(settings.BASE_DIR)}" for path in studio_templates()
                 if re.search(r"\|timesince\s*\}\}\s*ago", path.read_text(encoding="utf-8"))]
    assert not offenders
