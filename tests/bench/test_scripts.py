"""Every script under bench/ runs end to end at a tiny size and prints its figures.

Benches assert nothing about speed and nobody runs them every day, so one that crashes (a child
process that never set Django up, an option renamed under it) would go unnoticed until someone
needs its figures. Each runs here as a person would run it, in a process of its own, on the
embedded defaults (a SQLite file, the filesystem broker), and must print every figure it
promises. No figure's value is checked: a busy box decides those.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.bench

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = float(os.environ.get("BENCH_TEST_TIMEOUT", "300"))
NUMBER = r"-?\d+(?:\.\d+)?"


@pytest.fixture(scope="session")
def bench_env(tmp_path_factory) -> dict:
    """The environment a bench runs in: the defaults, and a database migrated once for all of them."""
    folder = tmp_path_factory.mktemp("bench-template")
    env = {key: value for key, value in os.environ.items()
           if key not in ("DATABASE_URL", "CELERY_BROKER_URL", "DATA_DIR", "MEDIA_ROOT", "C2PA_DIR",
                          "LOG_LEVEL", "BENCH_LOG_LEVEL")}
    env["DJANGO_SETTINGS_MODULE"] = "studio_site.settings"
    template = folder / "template.sqlite3"
    migrate = subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT,
                             env={**env, "DATA_DIR": str(folder / "data"), "DATABASE_URL": f"sqlite:///{template}"},
                             capture_output=True, text=True, timeout=TIMEOUT)
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    return {**env, "BENCH_SQLITE_TEMPLATE": str(template)}


def run(bench_env: dict, script: str, *args: str) -> str:
    done = subprocess.run([sys.executable, f"bench/{script}", *args], cwd=ROOT, env=bench_env,
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, f"{script} failed:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    return done.stdout


def printed(output: str, *patterns: str) -> None:
    """Each pattern (a regular expression, NUMBER for any figure) matches a line of the output."""
    lines = output.splitlines()
    for pattern in patterns:
        assert any(re.search(pattern, line) for line in lines), f"no line matches {pattern!r} in:\n{output}"


def test_previz_prints_each_case_against_real_time(bench_env):
    output = run(bench_env, "previz.py", "--runs", "1", "--seconds", "1")
    for case in ("render_animatic \\(video \\+ AAC bed\\)", "render_animatic, scene", "plain PyAV, constant rgb24",
                 "plain PyAV, constant yuv420p"):
        printed(output, rf"^{case}.* best +{NUMBER} s = +{NUMBER}x real time \| median .* cpu +{NUMBER} s$")
    printed(output, r"^output: 1280x720 h264/yuv420p 24 fps 1 s, audio aac 48000 Hz")


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is the download bench's reference")
def test_download_prints_memory_and_speed_against_curl(bench_env):
    output = run(bench_env, "download.py", "--size-mb", "8", "--runs", "1")
    printed(output,
            rf"^studio \(OpenAIVideosProvider.download → file\): median +{NUMBER} MiB/s",
            rf"^curl -o file \(same disk as the studio\): +median +{NUMBER} MiB/s",
            rf"^peak RSS growth during download: {NUMBER} MB .* target ≤ 64 MB: (met|MISSED)$",
            rf"^throughput ÷ curl writing a file \(like for like\): {NUMBER} +target ≥ 0.8: (met|MISSED)$")


def test_export_prints_its_parts_and_the_ratio_to_a_plain_remux(bench_env, tmp_path):
    output = run(bench_env, "export.py", "--clips", "2", "--seconds", "1", "--runs", "1", "--cache", str(tmp_path))
    printed(output,
            rf"^ingredients prepared at approval: {NUMBER} s for 2 takes",
            rf"^run 1: export {NUMBER} s \(remux\) · plain remux {NUMBER} s · ratio {NUMBER}",
            rf"^parts \(median s\): stitch {NUMBER}, .*sign {NUMBER}",
            rf"^export ÷ plain remux: {NUMBER} \(medians\), {NUMBER} \(bests\); target ≤ 1.3$")


def test_board_prints_queries_time_and_bytes_per_page_at_each_size(bench_env):
    output = run(bench_env, "board.py", "--sizes", "2", "3", "--runs", "1")
    printed(output, r"^built 2 scenes × 5 takes", r"^built 3 scenes × 5 takes")
    for page in ("board", "next frames \\(htmx\\)", "filter status \\(htmx\\)", "filter field \\(htmx\\)",
                 "panel \\(htmx\\)", "panel page", "render scenes", "render plan \\(htmx\\)", "play all",
                 "play all sound \\(htmx\\)", "play all captions", "play all stop", "exports", "spend"):
        printed(output, rf"^{page} +(\d+ +\d+ +\d+ +){{2}}{NUMBER} +{NUMBER} +{NUMBER}$")
    printed(output, rf"^board at 3 scenes: \d+ KB, CPU 3/2 {NUMBER}  target ≤ 300 KB and ≤ 2: (met|MISSED)$")


def test_live_prints_delivery_latency_and_idle_requests(bench_env):
    output = run(bench_env, "live.py", "--clients", "3", "--changes", "2", "--idle-seconds", "1",
                 "--web-workers", "1")
    # Both wake-ups by default (the table read, and Redis pub/sub on a redis-server the bench starts).
    for mode in (r"a table read every [\d.]+ s", "Redis pub/sub"):
        printed(output, rf"^3 pages \(owner, editor, viewer\), 2 changes, 1 web processes, \w+, wake-ups by {mode}; "
                        rf"load {NUMBER}$")
    assert len(re.findall(r"^  delivery over 3 pages × 2 changes: p50 \d+ ms, p95 \d+ ms, max \d+ ms, lost \d+$",
                          output, re.M)) == 2, output
    assert len(re.findall(rf"^  web CPU {NUMBER} s = {NUMBER} ms per delivery, {NUMBER} ms per change; "
                          rf"memory {NUMBER} KB per stream; opening {NUMBER} ms per stream; "
                          rf"the pages' own process {NUMBER} s$", output, re.M)) == 2, output
    assert len(re.findall(rf"^  idle 1 s: {NUMBER} requests per minute per page \(\d+ in all\), "
                          rf"web CPU {NUMBER} % of a core$", output, re.M)) == 2, output


def test_room_prints_presenter_to_follower_latency(bench_env):
    output = run(bench_env, "room.py", "--followers", "2", "--events", "3", "--gap", "0.05", "--web-workers", "1")
    for mode in (r"a table read every [\d.]+ s", "Redis pub/sub"):
        printed(output, rf"^2 followers, 3 presenter events 0.05 s apart, 1 web processes, \w+, wake-ups by {mode}; "
                        rf"load {NUMBER}$")
    assert len(re.findall(r"^  presenter → follower over 2 followers × 3 events: p50 \d+ ms, p95 \d+ ms, "
                          r"max \d+ ms, lost 0$", output, re.M)) == 2, output
    assert len(re.findall(r"^  the presenter's request: p50 \d+ ms, p95 \d+ ms$", output, re.M)) == 2, output


def test_pipeline_prints_the_finishing_stages_and_the_batch_through_a_real_worker(bench_env):
    output = run(bench_env, "pipeline.py", "--renders", "3", "--job-seconds", "1", "--warmup", "0",
                 "--typical-seconds", "1", "--finish-takes", "3", "--concurrency", "1")
    printed(output, r"^finishing a take, stage by stage \(3 takes of veo-3.1 ")
    for stage in ("take lookup", "poll", "download", "header check", "thumbnail", "C2PA read", "C2PA sign",
                  "store", "status, feed, spend", "other", "total"):
        printed(output, rf"^  {stage} +{NUMBER} +{NUMBER} +{NUMBER}$")
    printed(output,
            rf"^worker CPU to finish a take \(poll that sees it done → stored, thread CPU\): {NUMBER} ms",
            r"^outcomes: succeeded 3$",
            rf"^makespan ÷ ideal: {NUMBER} +target ≤ 1.15: (met|MISSED)$",
            rf"^polls per take \(Render.poll_count\): mean {NUMBER}",
            r"^creates per take \(jobs the provider accepted ÷ N\): 1.00 +must be exactly 1: met$",
            rf"^worker CPU during the measured batch: {NUMBER} s over {NUMBER} s .* ms per take")


def test_activity_prints_each_page_at_each_history_length(bench_env):
    output = run(bench_env, "activity.py", "--scenes", "12", "--histories", "50", "300", "--runs", "1")
    printed(output, r"^built 12 scenes × 5 takes", r"^measured at 50 feed entries", r"^measured at 300 feed entries")
    for page in ("the newest page's query alone", "feed", "feed, comments", "feed, one scene", "feed, scene search",
                 "older, from the middle \\(htmx\\)"):
        printed(output, rf"^{page} +(\d+ +{NUMBER} +{NUMBER} +\d+ +){{2}}{NUMBER}$")
    printed(output, rf"^feed CPU at 300 ÷ at 50 entries: {NUMBER} +target ≤ 1.5 \(flat\): (met|MISSED)$")


def test_sound_prints_the_line_the_board_and_the_animatic_against_their_targets(bench_env):
    output = run(bench_env, "sound.py", "--scenes", "2", "--seconds", "1", "--size", "320x180")
    printed(output,
            rf"^voice-over of one 10-word line \({NUMBER} s of speech\): cpu {NUMBER} s .* wall {NUMBER} s "
            r" target ≤ 0.5 s cpu: (met|MISSED)$",
            rf"^speaking the board's 4 lines \(2 engine processes\): cpu {NUMBER} s, wall {NUMBER} s$",
            rf"^mix per scene .*: median {NUMBER} ms$",
            rf"^board animatic: 2 scenes, 2 s of board at 320x180 in {NUMBER} s wall \(cpu {NUMBER} s\) = "
            rf"{NUMBER}x real time  target ≥ 4x: (met|MISSED)$")


def test_multishot_prints_the_split_against_a_plain_stream_copy(bench_env, tmp_path):
    output = run(bench_env, "multishot.py", "--shots", "3", "--seconds", "3", "--size", "320x180", "--runs", "1",
                 "--cache", str(tmp_path))
    for case in ("keyframes at the cuts", "cuts mid-GOP"):
        printed(output,
                rf"^plain copy, faststart \({case}\) +best +{NUMBER} s \| median +{NUMBER} s \| cpu +{NUMBER} s$",
                rf"^plain stream copy \({case}\) +best +{NUMBER} s \| median +{NUMBER} s \| cpu +{NUMBER} s$",
                rf"^split into 3 takes \({case}\) +best +{NUMBER} s \| median +{NUMBER} s \| cpu +{NUMBER} s$")
    printed(output, r"^  cuts: 1\.000→\d\.\d{3} s by \w+, 2\.000→\d\.\d{3} s by \w+$",
            r"^  parts: 3 of 3 stream-copied, 0 re-encoded$",
            rf"^split ÷ plain stream copy \(like for like, CPU\), keyframes at the cuts: {NUMBER}  target ≤ 1.5: (met|MISSED)$")
