"""pyproject.toml's dependency lists say what requirements/*.in say.

`./studio lint` runs deptry, which reads the lists in pyproject.toml; the .in files are what the
lock files are compiled from. If the two drifted, deptry would check a list nobody installs.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def requirements_in(name: str) -> list[str]:
    """The requirement lines of one .in file, without comments or its `-r` includes."""
    lines = (line.split("#", 1)[0].strip() for line in (ROOT / "requirements" / name).read_text().splitlines())
    return [line for line in lines if line and not line.startswith("-")]


def test_the_studios_dependencies_are_requirements_app_in() -> None:
    assert PROJECT["dependencies"] == requirements_in("app.in")


def test_the_test_and_lint_dependencies_are_requirements_test_in() -> None:
    assert PROJECT["optional-dependencies"]["test"] == requirements_in("test.in")


def test_test_in_builds_on_app_in() -> None:
    # The tests run the studio: its lock file must hold everything the studio's does.
    assert "-r app.in" in (ROOT / "requirements" / "test.in").read_text().splitlines()
