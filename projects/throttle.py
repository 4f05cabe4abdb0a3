"""Counting failures in the shared cache, so guessing costs time.

A failure claims one of `limit` slots with cache.add(), which exactly one
writer wins on every backend the studio configures (Redis SET NX, the
database cache's primary key), so concurrent guesses from several web workers
are all counted. When the slots run out the key is locked for the cool-off.
"""

from __future__ import annotations

import hashlib
import math
import time

from django.core.cache import cache


class Throttled(Exception):
    """Too many failures: the caller should wait `minutes`."""

    def __init__(self, minutes: int):
        self.minutes = minutes
        self.wait = f"try again in {minutes} minute{'' if minutes == 1 else 's'}"
        super().__init__(self.wait)


def throttle_key(*parts) -> str:
    # Hashed: the parts may hold an IPv6 address or anything else a client sends.
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:40]
    return f"throttle:{digest}"


def throttle_wait(*, key: str) -> int:
    """Minutes until `key` may try again (0: it may now)."""
    until = cache.get(f"{key}:lock")
    left = (until or 0) - time.time()
    return math.ceil(left / 60) if left > 0 else 0


def throttle_fail(*, key: str, limit: int, minutes: int) -> int:
    """Count one failure of `key`; the minutes it must now wait, or 0 while under `limit`."""
    window = minutes * 60
    slots = [f"{key}:{i}" for i in range(max(limit, 1))]
    taken = cache.get_many(slots)
    # any() stops at the first slot this failure wins.
    claimed = any(cache.add(slot, 1, window) for slot in slots if slot not in taken)
    # Recount: other workers may have taken the remaining slots meanwhile.
    held = len(cache.get_many(slots))
    if claimed and held < limit:
        return 0
    cache.set(f"{key}:lock", time.time() + window, window)
    return minutes


def throttle_check(*, keys: list[str]) -> None:
    """Raise Throttled if any of `keys` is resting."""
    wait = max((throttle_wait(key=k) for k in keys), default=0)
    if wait:
        raise Throttled(wait)
