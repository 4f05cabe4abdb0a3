"""A lax gateway in front of the strict fake (tests/fakes/provider_server.py), as strict outside
gateways were found to behave: it ignores the Idempotency-Key (every create it forwards makes a job),
forwards slowly, answers 5xx before or after forwarding, loses answers, and lists a job only a while
after it made it.

`creates` scripts what each create meets, in order (once it runs out, creates are forwarded and
answered):

- "ok": forwarded at once and answered;
- "500": answered 500 before anything was forwarded: no job;
- "500-forwarded": forwarded (a job exists, and is billed), then answered 502;
- "slow": forwarded, then the answer held `hold_seconds` (real time): a client with a shorter read
  timeout gives up first;
- "drop": forwarded, then the connection closed without an answer;
- "refuse": refused outright (400): no job.

A forwarded job shows in the provider's list only `list_after` seconds after it was made, on `clock`
(the test's clock), and only once `list_misses` list requests went by without it. Polling the job by
its id works at once, as at the provider behind the gateway.

Its list pages as the format allows but not as OpenAI's own API happened to: with `opaque_cursors`
a page's `last_id` is the gateway's own cursor (not the last video's id), and `after` takes only
such a cursor; with `omits_has_more` pages carry no `has_more`. The official SDK pages on
`after=<last_id>` and keeps going while `has_more` is not false.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

STEPS = ("ok", "500", "500-forwarded", "slow", "drop", "refuse")


@dataclass
class LaxGateway:
    creates: list[str] = field(default_factory=list)
    list_after: float = 0.0
    list_misses: int = 0
    hold_seconds: float = 0.3
    opaque_cursors: bool = False
    omits_has_more: bool = False
    clock: Callable[[], float] = time.time
    answered: list[tuple[str, float]] = field(default_factory=list)  # (what each create met, when on `clock`)
    made: list[str] = field(default_factory=list)  # ids of the jobs it forwarded, in order
    _seen: dict = field(default_factory=dict)  # job id -> [made at on `clock`, list requests that missed it]
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self):
        unknown = [step for step in self.creates if step not in STEPS]
        if unknown:  # a typo must not quietly test the happy path
            raise ValueError(f"Unknown create step {unknown[0]!r}; pick from {STEPS}.")

    def create(self, h, *, make, answer, error) -> None:
        with self._lock:
            step = self.creates.pop(0) if self.creates else "ok"
            self.answered.append((step, self.clock()))
        if step == "500":
            return error(500, "The gateway could not reach the upstream provider.")
        if step == "refuse":
            return error(400, "The upstream provider refused the request.")
        job = make()
        with self._lock:
            self._seen[job.id] = [self.clock(), 0]
            self.made.append(job.id)
        if step == "500-forwarded":
            return error(502, "Bad gateway: the upstream connection was reset.")
        if step == "drop":
            h.close_connection = True  # hang up without a word
            return None
        if step == "slow":
            time.sleep(self.hold_seconds)
        return answer(job)

    def listed(self, jobs: list) -> list:
        """The jobs a list request shows now: those made long enough ago and already missed enough."""
        now, shown = self.clock(), []
        with self._lock:
            for job in jobs:
                seen = self._seen.get(job.id)
                if seen is None or (now - seen[0] >= self.list_after and seen[1] >= self.list_misses):
                    shown.append(job)
                else:
                    seen[1] += 1
        return shown

    def cursor(self, job_id: str) -> str:
        """The `last_id` a page ending with `job_id` carries (and the `after` that resumes from it)."""
        return f"cursor:{job_id[::-1]}" if self.opaque_cursors else job_id

    @property
    def steps(self) -> list[str]:
        return [step for step, _at in self.answered]

    @property
    def sent_at(self) -> list[float]:
        return [at for _step, at in self.answered]


@pytest.fixture
def lax_gateway(provider_server, countdowns):
    """The strict fake's APIs behind a lax gateway on the test's clock; script it per test."""
    countdowns.freeze()
    gateway = LaxGateway(clock=countdowns.timestamp)
    provider_server.gateway = gateway
    yield gateway
    provider_server.gateway = None
