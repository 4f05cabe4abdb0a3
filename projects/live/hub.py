"""One reader per web process: reads new changes once and fans them out to the open pages.

A page's stream subscribes here; a thread of the process reads the change
table (woken by Redis pub/sub, or every LIVE_POLL_SECONDS on the embedded
default), renders each change once per role of the pages watching it, and puts
the result on each page's queue. Works for streams served by ASGI (asyncio
queues, fed thread-safely) and by WSGI (the test server: plain queues).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection

from projects.live import redis_channel, wake
from projects.models import ChangeEvent

log = logging.getLogger(__name__)

# Ids are taken at insert but committed in any order (PostgreSQL): read a little
# behind the cursor and skip what was already delivered, so a late commit is not lost.
LOOKBACK_IDS = 500
SAFETY_READ_SECONDS = 5.0  # with Redis: read anyway this often, in case a wake-up was lost
QUEUE_LIMIT = 2000  # changes waiting for one page before it is told to reload


@dataclass(frozen=True)
class Message:
    """One Server-Sent Event: its id (the change's), name and data."""

    id: int
    event: str
    data: str

    def encode(self) -> str:
        lines = "".join(f"data: {line}\n" for line in self.data.split("\n"))
        return f"id: {self.id}\nevent: {self.event}\n{lines}\n"


@dataclass(eq=False)
class Subscriber:
    """One open page: what it watches, as whom, and its queue."""

    channel: tuple[str, int]  # ("project", id) or ("team", id)
    role: str
    user_id: int
    loop: asyncio.AbstractEventLoop | None = None
    after: int | None = None  # the change the page was drawn at (None: drawn now)
    queue: object = field(init=False)

    def __post_init__(self):
        # Bounded: a page that stopped reading (a dead connection not yet noticed) can't grow
        # without end; past the bound it is told to reload instead.
        self.queue = asyncio.Queue(QUEUE_LIMIT) if self.loop is not None else queue.Queue(QUEUE_LIMIT)
        self.overflowed = False

    def put(self, message: Message) -> None:
        if self.loop is None:
            self._put(message)
            return
        try:
            self.loop.call_soon_threadsafe(self._put, message)
        except RuntimeError:
            pass  # its event loop is gone: the stream ended

    def _put(self, message: Message) -> None:
        try:
            self.queue.put_nowait(message)
        except (asyncio.QueueFull, queue.Full):
            self.overflowed = True


def channel_of(event) -> tuple[str, int]:
    return ("project", event.project_id) if event.project_id else ("team", event.team_id)


class Hub:
    def __init__(self, render, *, background: bool = True, coalesce=None):
        # render(event, role) -> list[Message]: the regions that change shows, for that role.
        # background=False: no reader thread, the caller pumps (tests).
        self._render = render
        self._background = background
        # coalesce(event) -> key or None: of changes read together with one key, only the last is drawn.
        self._coalesce = coalesce or (lambda event: None)
        self._lock = threading.Lock()
        self._subscribers: dict[tuple[str, int], set[Subscriber]] = {}
        self._thread: threading.Thread | None = None
        self._nudge = threading.Event()
        self._cursor: int | None = None
        self._floor = 0  # changes up to here were made before anyone watched: never delivered
        self._delivered: OrderedDict[int, None] = OrderedDict()
        self.reads = 0  # table reads so far (the bench and tests watch it)
        self._stopping = False

    # --- pages come and go ---------------------------------------------------------------
    def subscribe(self, subscriber: Subscriber) -> Subscriber:
        with self._lock:
            self._subscribers.setdefault(subscriber.channel, set()).add(subscriber)
            if self._background and (self._thread is None or not self._thread.is_alive()):
                self._thread = threading.Thread(target=self._run, name="live-hub", daemon=True)
                self._thread.start()
        self._nudge.set()
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        with self._lock:
            subscribers = self._subscribers.get(subscriber.channel)
            if subscribers is not None:
                subscribers.discard(subscriber)
                if not subscribers:
                    del self._subscribers[subscriber.channel]

    def watching(self) -> int:
        with self._lock:
            return sum(len(s) for s in self._subscribers.values())

    # --- the reader ----------------------------------------------------------------------
    def stop(self) -> None:
        """End the reader thread (and its database connection): a test session's end."""
        self._stopping = True
        self._nudge.set()
        if settings.LIVE_REDIS_URL:
            wake(0)  # out of its wait on Redis
        thread = self._thread
        if thread is not None:
            thread.join(timeout=SAFETY_READ_SECONDS + 2)
        self._thread, self._stopping = None, False

    def _run(self) -> None:
        try:
            self._loop()
        finally:
            connection.close()

    def _loop(self) -> None:
        pubsub = self._pubsub()
        started = time.monotonic()
        while not self._stopping:
            if pubsub is not None:
                try:
                    pubsub.get_message(ignore_subscribe_messages=True, timeout=SAFETY_READ_SECONDS)
                    while pubsub.get_message(ignore_subscribe_messages=True, timeout=0):
                        pass  # one read serves every wake-up that arrived meanwhile
                except Exception as exc:
                    log.warning("live: Redis wake-ups lost (%s); reading the table every second", exc)
                    pubsub = None
            else:
                # Read every LIVE_POLL_SECONDS from the start of one read to the next.
                self._nudge.wait(max(0.0, (settings.LIVE_POLL_SECONDS if not settings.LIVE_REDIS_URL else 1.0)
                                     - (time.monotonic() - started)))
                self._nudge.clear()
            started = time.monotonic()
            if self._stopping:
                return
            try:
                self.pump()
            except Exception:
                log.exception("live: reading changes failed")
                connection.close()  # a broken connection is reopened on the next read
                time.sleep(1)

    def _pubsub(self):
        if not settings.LIVE_REDIS_URL:
            return None
        try:
            import redis

            client = redis.Redis.from_url(settings.LIVE_REDIS_URL, socket_connect_timeout=2)
            pubsub = client.pubsub()
            pubsub.subscribe(redis_channel(settings.LIVE_REDIS_URL))
            return pubsub
        except Exception as exc:
            log.warning("live: no Redis wake-ups (%s); reading the table every second", exc)
            return None

    def pump(self) -> int:
        """Read changes since the cursor and deliver them; returns how many were delivered."""
        with self._lock:
            watched = bool(self._subscribers)
            afters = [sub.after for subs in self._subscribers.values() for sub in subs if sub.after is not None]
        if not watched:
            self._cursor = None  # nobody watches: start afresh when someone does
            return 0
        if self._cursor is None:
            newest = ChangeEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
            # From where the earliest page was drawn: a change committed between a page's
            # replay and this first read still reaches it (pages drop what they replayed).
            self._floor = min(afters + [newest])
            self._cursor = newest
            self._delivered.clear()
        self.reads += 1
        events = list(ChangeEvent.objects.filter(id__gt=max(self._floor, self._cursor - LOOKBACK_IDS))
                      .exclude(id__in=list(self._delivered)).order_by("id")[:1000])
        with self._lock:  # after the read: a page that subscribed meanwhile gets this read too
            channels = {channel: list(subs) for channel, subs in self._subscribers.items()}
        delivered = 0
        last_of = {key: event.id for event in events if (key := self._coalesce(event)) is not None}
        for event in events:
            self._remember(event.id)
            self._cursor = max(self._cursor, event.id)
            if event.recipient_id:
                # One person's change (their bell): to every page of theirs, whatever it watches.
                watchers = [sub for subs in channels.values() for sub in subs if sub.user_id == event.recipient_id]
            else:
                watchers = channels.get(channel_of(event))
            if not watchers:
                continue
            key = self._coalesce(event)
            if key is not None and last_of[key] != event.id:
                continue  # a later change in this read draws the same regions
            by_role: dict[str, list[Message]] = {}
            for subscriber in watchers:
                if subscriber.role not in by_role:
                    try:
                        by_role[subscriber.role] = self._render(event, subscriber.role)
                    except Exception:
                        log.exception("live: could not render change %s", event.id)
                        by_role[subscriber.role] = []
                for message in by_role[subscriber.role]:
                    subscriber.put(message)
            delivered += 1
        return delivered

    def _remember(self, event_id: int) -> None:
        self._delivered[event_id] = None
        while len(self._delivered) > LOOKBACK_IDS * 2:
            self._delivered.popitem(last=False)


_hub: Hub | None = None
_hub_lock = threading.Lock()


def hub() -> Hub:
    """This process's hub."""
    global _hub
    with _hub_lock:
        if _hub is None:
            # At first use, not at the top: the hub is generic (tests build one with any renderer) and
            # fragments draw with the hub's Message; this process's hub draws with the fragments.
            from projects.live.fragments import coalesce_key, render_change

            _hub = Hub(render_change, coalesce=coalesce_key)
        return _hub
