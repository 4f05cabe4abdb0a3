"""The longest test files run first, so that parallel test processes finish together.

`./studio test` hands whole files to its processes (`--dist loadfile`) in the order they are
collected, one as a process runs out of work. Handed out in folder order, a long file collected
late (a browser journey, the serving tests) started when the other process had nothing left, and
that process then sat idle for minutes. Handed out longest first, the last files are the short ones.

tests/file_seconds.json holds each file's seconds in a whole run (less what session-scoped fixtures
took, the test database above all: they fall on whichever file a process runs first); a file it does
not list counts as a typical one (the median). `./studio test --record-file-seconds` writes the list
again from the run.
Browser files still come after every other file (tests/browser/conftest.py says why), longest first
among themselves. A file's tests keep their order.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import defaultdict
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
FILE_SECONDS = TESTS / "file_seconds.json"
BROWSER = TESTS / "browser"


def file_seconds() -> dict[str, float]:
    """Each test file's seconds (its path from the repository's root) in the last recorded run."""
    try:
        recorded = json.loads(FILE_SECONDS.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # no list yet, or a merge left it unreadable: folder order
        return {}
    return {str(name): float(seconds) for name, seconds in recorded.items()}


def longest_first(paths: list[Path], seconds: dict[str, float]) -> list[Path]:
    """`paths` (test files, each once) in the order they are handed out: files outside the browser
    folder before browser files, and within each, most seconds first (ties keep their order)."""
    typical = statistics.median(seconds.values()) if seconds else 0.0

    def key(path: Path) -> tuple[bool, float]:
        name = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)
        return BROWSER in path.parents, -seconds.get(name, typical)

    return sorted(paths, key=key)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--record-file-seconds", action="store_true", default=False,
                     help=f"write each test file's seconds in this run to {FILE_SECONDS.relative_to(ROOT)}")


# After pytest-django's reordering (tryfirst: transactional tests after the others), which would
# otherwise decide which file comes first; browser folder's own sort has run by then too.
@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    by_file: dict[Path, list[pytest.Item]] = defaultdict(list)
    for item in items:
        by_file[Path(item.path).resolve()].append(item)
    ordered = longest_first(list(by_file), file_seconds())
    items[:] = [item for path in ordered for item in by_file[path]]


SESSION_FIXTURES = "session fixtures' seconds"
_session_fixtures = {"seconds": 0.0, "depth": 0}


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest) -> Generator[None, Any, Any]:
    if fixturedef.scope != "session":
        return (yield)
    started = time.perf_counter()
    _session_fixtures["depth"] += 1
    try:
        return (yield)
    finally:
        _session_fixtures["depth"] -= 1
        if not _session_fixtures["depth"]:  # one inside another is counted once
            _session_fixtures["seconds"] += time.perf_counter() - started


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    if call.when == "setup" and _session_fixtures["seconds"]:
        # A report's user_properties travel from an xdist worker to the controller, which records.
        report.user_properties.append((SESSION_FIXTURES, _session_fixtures["seconds"]))
        _session_fixtures["seconds"] = 0.0
    return report


class SecondsRecorder:
    """Adds up each file's setup, call and teardown seconds as reports arrive (from every process
    when the run is parallel), and writes them when the run ends."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        shared = 0.0
        for name, seconds in report.user_properties:
            if name == SESSION_FIXTURES and isinstance(seconds, float):
                shared += seconds
        self.seconds[report.nodeid.split("::", 1)[0]] += max(report.duration - shared, 0.0)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        # A selection (a folder, -k, -x) would forget the files it did not run: they are kept, unless
        # they are gone.
        recorded = {name: seconds for name, seconds in file_seconds().items() if (ROOT / name).is_file()}
        recorded.update({name: round(total, 1) for name, total in self.seconds.items()})
        FILE_SECONDS.write_text(json.dumps(dict(sorted(recorded.items())), indent=1) + "\n", encoding="utf-8")


def pytest_configure(config: pytest.Config) -> None:
    # Only the process that sees every report writes: the xdist controller, or a run without -n.
    if config.getoption("record_file_seconds") and not hasattr(config, "workerinput"):
        config.pluginmanager.register(SecondsRecorder(), "studio-file-seconds")
