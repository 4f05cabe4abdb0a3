"""Countdown control for the look-ups the studio schedules after an unclear create.

Eager Celery runs a countdown task at once: a look-up window would then pass in real minutes, one
recursive call after another. Here the look-up and watch tasks are held instead, with when they are
due, and a test runs them in order on a clock it moves (`freeze()`: `timezone.now()` is the test's
clock), so a five-minute window runs in milliseconds. Held for every test but the integration tests
(a real worker schedules its own).
"""

from __future__ import annotations

import heapq
import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

real_now = timezone.now


class Countdowns:
    def __init__(self, monkeypatch, capture):
        self.now = real_now()
        self.frozen = False
        self.ran: list[tuple[str, tuple, object]] = []  # (task name, args, when on the clock)
        self._queue: list = []
        self._order = itertools.count()
        self._monkeypatch = monkeypatch
        self._capture = capture

    def schedule(self, task, args, countdown=0) -> None:
        due = self.clock() + timedelta(seconds=countdown or 0)
        heapq.heappush(self._queue, (due, next(self._order), task, tuple(args)))

    def clock(self):
        return self.now if self.frozen else real_now()

    def timestamp(self) -> float:
        return self.clock().timestamp()

    def freeze(self) -> None:
        """From now on `timezone.now()` is this clock, moved only by advance() and run()."""
        if not self.frozen:
            self.now, self.frozen = real_now(), True
            self._monkeypatch.setattr(timezone, "now", lambda: self.now)

    def advance(self, seconds: float) -> None:
        assert self.frozen, "freeze() the clock first"
        self.now += timedelta(seconds=seconds)

    @property
    def pending(self) -> list[tuple[str, tuple, object]]:
        return [(task.name.rsplit(".", 1)[-1], args, due) for due, _n, task, args in sorted(self._queue)]

    def drop(self) -> None:
        """Lose every countdown held (a worker that died with them)."""
        self._queue.clear()

    def run(self, *, until=None, steps: int = 500) -> list[tuple[str, tuple, object]]:
        """Run what is due in order, moving the clock to each, until nothing is left (or past `until`
        seconds from now). Returns what ran."""
        limit = None if until is None else self.clock() + timedelta(seconds=until)
        ran = []
        while self._queue and (limit is None or self._queue[0][0] <= limit):
            assert steps > 0, f"still scheduling after 500 look-ups: {self.pending[:5]}"
            steps -= 1
            due, _n, task, args = heapq.heappop(self._queue)
            if self.frozen and due > self.now:
                self.now = due
            with self._capture(execute=True):
                task.apply(args=args, throw=True)
            ran.append((task.name.rsplit(".", 1)[-1], args, self.clock()))
        if limit is not None and self.frozen and limit > self.now:
            self.now = limit
        self.ran += ran
        return ran


@pytest.fixture(autouse=True)
def countdowns(request, monkeypatch, django_capture_on_commit_callbacks):
    """The look-up and watch countdowns, held for the test to run (see the module docstring)."""
    held = Countdowns(monkeypatch, django_capture_on_commit_callbacks)
    if request.node.get_closest_marker("integration") is None:
        from generation.renders import tasks

        for task in filter(None, (getattr(tasks, "look_up_render", None), getattr(tasks, "watch_render", None))):
            monkeypatch.setattr(task, "apply_async",
                                lambda args, countdown=0, _task=task, **kw: held.schedule(_task, args, countdown))
    return held
