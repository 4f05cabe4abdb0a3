"""Counting failures in the shared cache, so guessing costs time.

A failure claims one of a key's slots with cache.add(), which exactly one
writer wins on every backend the studio configures (Redis SET NX, the
database cache's primary key), so concurrent guesses from several web workers
are all counted. Each slot expires on its own, so the slots held are the
failures of the last window.

Two answers to too many failures:
- a rest (throttle_fail): the key is locked for the cool-off, counted from the
  failure that locked it. For a key only its own client can fill (an account
  and address pair, one guest's address): nobody else can aim it.
- a slowdown (slowdown_fail): past a number of free failures each try waits
  2, 4, 8 … seconds after the previous failure, never longer than a ceiling.
  For keys everyone shares (an account, a review link): a stranger can make
  the real person wait a moment, never lock them out.
Tries refused while a key waits are not counted, so they cannot make the wait longer.
"""

from __future__ import annotations

import hashlib
import math
import time

from django.core.cache import cache


class Throttled(Exception):
    """Too many failures: the caller should wait `seconds` (`slowed`: a short wait, not a rest)."""

    def __init__(self, seconds: int, *, slowed: bool = False):
        self.seconds = max(int(seconds), 1)
        self.minutes = math.ceil(self.seconds / 60)
        self.slowed = slowed
        super().__init__(f"wait {self.seconds} s")


def throttle_key(*parts) -> str:
    # Hashed: the parts may hold an IPv6 address or anything else a client sends.
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:40]
    return f"throttle:{digest}"


def _seconds_left(marker: str) -> int:
    left = (cache.get(marker) or 0) - time.time()
    return math.ceil(left) if left > 0 else 0


def _claim(key: str, slots: int, window: int) -> tuple[bool, int]:
    """Claim one of `slots` for `window` seconds: whether this failure won one, and how many are held."""
    names = [f"{key}:{i}" for i in range(max(slots, 1))]
    taken = cache.get_many(names)
    # any() stops at the first slot this failure wins.
    claimed = any(cache.add(name, 1, window) for name in names if name not in taken)
    # Recount: other workers may have taken the remaining slots meanwhile.
    return claimed, len(cache.get_many(names))


def throttle_wait(*, key: str) -> int:
    """Minutes until `key` may try again (0: it may now)."""
    return math.ceil(_seconds_left(f"{key}:lock") / 60)


def throttle_fail(*, key: str, limit: int, minutes: int) -> int:
    """Count one failure of `key`; the minutes it must now rest, or 0 while under `limit`."""
    window = minutes * 60
    claimed, held = _claim(key, limit, window)
    if claimed and held < limit:
        return 0
    cache.set(f"{key}:lock", time.time() + window, window)
    return minutes


def throttle_check(*, keys: list[str]) -> None:
    """Raise Throttled if any of `keys` is resting."""
    left = max((_seconds_left(f"{k}:lock") for k in keys), default=0)
    if left:
        raise Throttled(left)


def slowdown_wait(*, key: str) -> int:
    """Seconds until `key` may try again (0: it may now)."""
    return _seconds_left(f"{key}:until")


def _slowdown_slots(free: int, longest: int) -> int:
    # Past `free` plus these many failures the wait is already at its ceiling: no need to count on.
    return free + max(longest, 1).bit_length() + 1


def slowdown_fail(*, key: str, free: int, minutes: int, longest: int) -> int:
    """Count one failure of `key` over the last `minutes`; past `free` of them the next try waits
    2, 4, 8 … seconds after this one, at most `longest`. Returns that wait (0 while within `free`)."""
    _claimed, held = _claim(key, _slowdown_slots(free, longest), minutes * 60)
    if held <= free:
        return 0
    wait = min(2 ** (held - free), longest)
    cache.set(f"{key}:until", time.time() + wait, wait)
    return wait


def slowdown_check(*, key: str) -> None:
    """Raise Throttled (slowed) while `key` waits."""
    left = slowdown_wait(key=key)
    if left:
        raise Throttled(left, slowed=True)


def burst_begins(*, key: str, minutes: int) -> bool:
    """True once per burst: on the first call, then again only after `minutes` without a call."""
    if cache.add(key, 1, minutes * 60):
        return True
    cache.touch(key, minutes * 60)
    return False


def slowdown_clear(*, key: str, free: int, longest: int) -> None:
    """Forget `key`'s failures and its wait (e.g. its owner proved who they are)."""
    cache.delete_many([f"{key}:{i}" for i in range(_slowdown_slots(free, longest))] + [f"{key}:until"])


def client_remember(*, key: str, seconds: int) -> None:
    """Remember a client that proved itself (the right password) for `seconds`: it is not slowed."""
    if seconds > 0:
        cache.set(key, 1, seconds)


def client_known(*, key: str) -> bool:
    return bool(cache.get(key))


def rate_allow(*, key: str, limit: int, seconds: int = 1) -> bool:
    """Whether one more event under `key` fits: at most `limit` in each window of `seconds` (counted in the
    shared cache, so every web worker counts the same events)."""
    bucket = f"{key}:{int(time.time() // seconds)}"
    cache.add(bucket, 0, seconds * 2)
    try:
        count = cache.incr(bucket)
    except ValueError:  # expired between the add and the count
        cache.add(bucket, 1, seconds * 2)
        count = 1
    return count <= limit
