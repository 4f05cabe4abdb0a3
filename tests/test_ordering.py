"""Test files are handed to the parallel processes longest first, browser journeys last
(tests/ordering.py), so that no process sits idle while the other runs a long file it took late."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

from tests import ordering

ROOT = ordering.ROOT


def names(paths: list[Path]) -> list[str]:
    return [path.relative_to(ROOT).as_posix() for path in paths]


def test_it_hands_out_the_longest_files_first():
    files = [ROOT / "tests" / name for name in ("test_a.py", "test_b.py", "test_c.py")]
    seconds = {"tests/test_a.py": 2.0, "tests/test_b.py": 90.0, "tests/test_c.py": 15.0}

    assert names(ordering.longest_first(files, seconds)) == ["tests/test_b.py", "tests/test_c.py", "tests/test_a.py"]


def test_it_keeps_browser_journeys_after_every_other_file_however_long():
    files = [ROOT / "tests" / "browser" / "test_long_journey.py", ROOT / "tests" / "browser" / "test_short.py",
             ROOT / "tests" / "test_quick.py"]
    seconds = {"tests/browser/test_long_journey.py": 300.0, "tests/browser/test_short.py": 5.0,
               "tests/test_quick.py": 0.1}

    assert names(ordering.longest_first(files, seconds)) == [
        "tests/test_quick.py", "tests/browser/test_long_journey.py", "tests/browser/test_short.py"]


def test_a_file_not_yet_measured_counts_as_a_typical_one():
    files = [ROOT / "tests" / name for name in ("test_new.py", "test_long.py", "test_mid.py", "test_short.py")]
    seconds = {"tests/test_long.py": 60.0, "tests/test_mid.py": 10.0, "tests/test_short.py": 1.0}

    assert names(ordering.longest_first(files, seconds)) == [
        "tests/test_long.py", "tests/test_new.py", "tests/test_mid.py", "tests/test_short.py"]


def test_without_a_recorded_list_files_keep_the_order_they_were_collected_in(monkeypatch, tmp_path):
    monkeypatch.setattr(ordering, "FILE_SECONDS", tmp_path / "missing.json")
    files = [ROOT / "tests" / name for name in ("test_z.py", "test_a.py")]

    assert names(ordering.longest_first(files, ordering.file_seconds())) == ["tests/test_z.py", "tests/test_a.py"]


def test_the_checked_in_list_names_test_files_that_exist():
    recorded = ordering.file_seconds()

    assert len(recorded) > 100
    missing = [name for name in recorded if not (ROOT / name).is_file()]
    assert not missing, f"tests/file_seconds.json names files that are gone: {missing}"


def test_recording_adds_up_each_files_phases_and_forgets_only_files_that_are_gone(monkeypatch, tmp_path):
    listed = tmp_path / "file_seconds.json"
    listed.write_text(json.dumps({"tests/test_isolation.py": 42.0, "tests/test_gone.py": 3.0}))
    monkeypatch.setattr(ordering, "FILE_SECONDS", listed)
    recorder = ordering.SecondsRecorder()

    for nodeid, duration in [("tests/test_ordering.py::test_x", 0.25), ("tests/test_ordering.py::test_x", 1.5),
                             ("tests/test_ordering.py::test_y[1]", 0.25), ("tests/test_parallel_workers.py::t", 2.0)]:
        recorder.pytest_runtest_logreport(SimpleNamespace(nodeid=nodeid, duration=duration, user_properties=[]))
    recorder.pytest_sessionfinish(SimpleNamespace())

    assert json.loads(listed.read_text()) == {
        "tests/test_isolation.py": 42.0, "tests/test_ordering.py": 2.0, "tests/test_parallel_workers.py": 2.0}


def test_the_test_database_a_process_creates_is_not_counted_as_its_first_files(monkeypatch, tmp_path):
    listed = tmp_path / "file_seconds.json"
    monkeypatch.setattr(ordering, "FILE_SECONDS", listed)
    recorder = ordering.SecondsRecorder()

    recorder.pytest_runtest_logreport(SimpleNamespace(
        nodeid="tests/test_ordering.py::test_first", duration=48.5,
        user_properties=[(ordering.SESSION_FIXTURES, 48.0)]))  # the setup that migrated the test database
    recorder.pytest_runtest_logreport(SimpleNamespace(
        nodeid="tests/test_ordering.py::test_first", duration=0.25, user_properties=[]))
    recorder.pytest_sessionfinish(SimpleNamespace())

    assert json.loads(listed.read_text()) == {"tests/test_ordering.py": 0.8}

