"""What finishing a take costs the worker, stage by stage, measured in this process.

"Finishing" is the poll that sees the provider's job done, through to the take stored: the
poll, the download, the header check, the thumbnail, the C2PA read, signing the studio's
copy, storing both files, and the status updates (with the feed entry and spend they write).

bench/pipeline.py calls `finish_breakdown` before it starts its workers: a fresh fake of the
same provider (bench/drivers.py) whose jobs are done as soon as they exist, takes booked with
one "Render scenes" click, then each submitted and polled here by the functions a worker's
tasks call (the tasks they queue go to the broker, as a worker's do). Each stage is timed
exclusively (a stage inside another counts once, in the inner one) in three clocks:

- thread CPU (`time.thread_time`): this thread only, robust to a busy box. It misses work
  FFmpeg hands to its own threads (decoding a frame for a thumbnail);
- process CPU (`time.process_time`): includes those, and also the fake provider's threads
  answering the poll and the downloads in this process: an upper bound;
- wall time, which a busy box stretches.
"""

from __future__ import annotations

import functools
import importlib
import statistics
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field

TARGET_MS = 40

# The stages, in the order a take goes through them: (label, where, attribute).
STAGES = [
    ("take lookup", "generation.renders.pipeline", "_take"),
    ("poll", "{adapter}", "poll"),
    ("download", "{adapter}", "download"),  # the provider's thumbnail is counted as "thumbnail"
    ("header check", "generation.renders.delivery", "delivered_facts"),
    ("thumbnail", "generation.renders.pipeline", "_provider_thumbnail"),
    ("thumbnail", "generation.previz.animatic", "extract_thumbnail"),
    ("C2PA read", "generation.provenance.credentials", "read_with_settings"),
    ("check against the booking", "generation.renders.pipeline", "_delivery_problems"),
    ("claim (consents, team)", "generation.provenance.take_signing", "take_claim"),
    ("C2PA sign", "generation.provenance.take_signing", "take_sign"),
    ("store", "django.db.models.fields.files", "FieldFile.save"),
    ("status, feed, spend", "generation.models", "Render.advance"),
]
ROOT = ("generation.renders.pipeline", "render_poll")


@dataclass
class Clock:
    thread: float = 0.0
    process: float = 0.0
    wall: float = 0.0

    def __iadd__(self, other: Clock) -> Clock:
        self.thread += other.thread
        self.process += other.process
        self.wall += other.wall
        return self

    def __sub__(self, other: Clock) -> Clock:
        return Clock(self.thread - other.thread, self.process - other.process, self.wall - other.wall)

    @classmethod
    def now(cls) -> Clock:
        return cls(time.thread_time(), time.process_time(), time.perf_counter())


@dataclass
class Finishes:
    """Per finishing poll: each stage's exclusive time ("other": the poll's own code and what no
    stage covers), and the whole poll's ("total")."""

    takes: list[dict[str, Clock]] = field(default_factory=list)
    other_polls: int = 0  # polls that did not see the job done (not counted)

    def median_ms(self, label: str, clock: str) -> float:
        return 1000 * statistics.median(getattr(take.get(label, Clock()), clock) for take in self.takes)

    @staticmethod
    def labels() -> list[str]:
        return [*dict.fromkeys(label for label, _, _ in STAGES), "other", "total"]


class _Profiler:
    """Wraps the stages' functions; a stage's time excludes the stages inside it."""

    def __init__(self, on_finished):
        self.on_finished = on_finished  # (root call's args, {stage: Clock}, total Clock)
        self.stack: list[list] = []  # [label, started, time spent in the stages inside it]
        self.current: dict[str, Clock] = defaultdict(Clock)
        self.patches: list[tuple[object, str, object]] = []

    def wrap(self, owner, name: str, label: str, *, root: bool = False) -> None:
        original = getattr(owner, name)

        @functools.wraps(original)
        def timed(*args, **kwargs):
            if not root and not self.stack:
                return original(*args, **kwargs)  # outside a poll: not part of finishing
            if root:
                self.current = defaultdict(Clock)
            stage = "thumbnail" if name == "download" and args[2:3] != ("video",) else label
            frame = [stage, Clock.now(), Clock()]
            self.stack.append(frame)
            try:
                return original(*args, **kwargs)
            finally:
                self.stack.pop()
                spent = Clock.now() - frame[1]
                self.current[stage] += spent - frame[2]
                if self.stack:
                    self.stack[-1][2] += spent
                else:
                    self.on_finished(args, dict(self.current), spent)

        self.patches.append((owner, name, original))
        setattr(owner, name, timed)

    def restore(self) -> None:
        for owner, name, original in reversed(self.patches):
            setattr(owner, name, original)


def _resolve(where: str, attribute: str, adapter):
    owner = adapter if where == "{adapter}" else importlib.import_module(where)
    *path, name = attribute.split(".")
    for part in path:
        owner = getattr(owner, part)
    return owner, name


def finish_breakdown(*, driver_class, user, model: str, takes: int, scene: dict) -> Finishes:
    """Book `takes` takes, one per new scene (`scene`: its fields) in a team and project of their
    own, on a fresh fake of `driver_class` whose jobs are done at once; submit each, then time
    each poll that finishes one.

    The tasks these steps queue (the submits booking queues, the polls a submit schedules, the
    author's digest) go to the broker as a worker's would: the caller drops them afterwards."""
    from generation.models import Render, Status
    from generation.providers import adapter_class
    from generation.renders import batch, pipeline
    from projects.storyboard import services as projects
    from projects.teams import services as team_services

    finishes = Finishes()

    def finished(args, stages: dict[str, Clock], total: Clock) -> None:
        if Render.objects.filter(pk=args[0], status=Status.SUCCEEDED).exists():
            finishes.takes.append({**stages, "total": total})
        else:
            finishes.other_polls += 1

    driver, profiler = driver_class(0.0), _Profiler(finished)
    try:
        team = team_services.team_create(name=f"Finishing {uuid.uuid4().hex[:6]}", owner=user)
        project = projects.project_create(team=team, user=user, name="Finishing takes")
        connection = driver.connection(team=team, user=user)
        scenes = [projects.scene_create(project=project, user=user, title=f"Finish {i + 1}", **scene)
                  for i in range(takes)]
        booked = batch.render_batch(project=project, user=user, connection=connection, model_id=model,
                                    scene_ids=[s.pk for s in scenes], idempotency_key=uuid.uuid4())
        for take in booked:
            pipeline.render_submit(take.pk)
        adapter = adapter_class(connection.kind)
        for label, where, attribute in STAGES:
            owner, name = _resolve(where, attribute, adapter)
            profiler.wrap(owner, name, label)
        owner, name = _resolve(*ROOT, adapter)
        profiler.wrap(owner, name, "other", root=True)
        for take in booked:
            pipeline.render_poll(take.pk)
    finally:
        profiler.restore()
        driver.close()
    failed = Render.objects.filter(pk__in=[t.pk for t in booked]).exclude(status=Status.SUCCEEDED)
    if failed.exists():
        raise SystemExit("finish breakdown: takes did not succeed: "
                         + "; ".join(f"{t.status} {t.error_message}" for t in failed[:3]))
    return finishes
