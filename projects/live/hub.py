"""One reader per web process: reads new changes once, draws each once per audience, hands out bytes.

A page's stream subscribes here; a thread of the process reads the change
table (woken by Redis pub/sub, or every LIVE_POLL_SECONDS on the embedded
default). For each change it asks the change's drawing which pages see the same
thing (an audience: a role, everyone, one person), draws it once per audience
that is watching, encodes it once, and gives every page of that audience the
same bytes: all the changes of one read in one piece. What a page costs per
read is a queue put and, in its stream, one write; its thread-safe hand-over is
one call per event loop, not one per page. Works for streams served by ASGI
(asyncio queues) and by WSGI (the test server: plain queues).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from django.conf import settings
from django.db import connection
from django.db.models import Q

from projects.live import live_reader_add, redis_channel, wake
from projects.live.presence import OpenPage
from projects.models import ChangeEvent

if TYPE_CHECKING:
    from projects.models import ChangeEvent


log = logging.getLogger(__name__)

# Ids are taken at insert but committed in any order (PostgreSQL): read a little
# behind the cursor and skip what was already delivered, so a late commit is not lost.
LOOKBACK_IDS = 500
SAFETY_READ_SECONDS = 5.0  # with Redis: read anyway this often, in case a wake-up was lost
# Reads at most this often: wake-ups that come together (two hundred pages opening, each
# saying it is present) are served by one read, and one drawing of what they changed.
READ_GAP_SECONDS = 0.05
QUEUE_LIMIT = 2000  # reads waiting for one page before it is told to reload


@dataclass(frozen=True)
class Message:
    """One Server-Sent Event: its id (the change's), name and data."""

    id: int
    event: str
    data: str

    def encode(self) -> bytes:
        lines = "".join(f"data: {line}\n" for line in self.data.split("\n"))
        return f"id: {self.id}\nevent: {self.event}\n{lines}\n".encode()


@dataclass(frozen=True, eq=False)
class Delivery:
    """What one read brings the pages of one audience: each change's events, encoded, and all of them joined.

    The same object goes to every page that sees the same: a page writes `data` as it is."""

    parts: tuple[tuple[int, bytes], ...]  # (change id, its events encoded)
    data: bytes

    @classmethod
    def of(cls, parts: Iterable[tuple[int, bytes]]) -> Delivery:
        kept = tuple(parts)
        return cls(kept, b"".join(chunk for _id, chunk in kept))


KEEP_ALIVE = Delivery((), b": keep-alive\n\n")  # a comment: proxies and browsers see the stream is alive
END = Delivery((), b"")  # the page's person may no longer watch it as they opened it: the stream ends


class Drawing(Protocol):
    """A change as the pages watching it see it: what they share, and the events for one of them."""

    def audience(self, role: str, user_id: int) -> Hashable:
        """Pages with equal keys are shown the same bytes (drawn once for all of them)."""

    def messages(self, role: str, user_id: int) -> list[Message]:
        """The events for a page of this role and person (asked once per audience)."""


@dataclass(eq=False)
class Subscriber:
    """One open page: what it watches, as whom, and its queue of deliveries."""

    channel: tuple[str, int]  # ("project", id) or ("team", id)
    role: str
    user_id: int
    loop: asyncio.AbstractEventLoop | None = None
    after: int | None = None  # the change the page was drawn at (None: drawn now)
    client: str = ""  # the page, and its stream: its presence row, kept alive by the hub's beat
    stream: str = ""
    queue: asyncio.Queue[Delivery] | queue.Queue[Delivery] = field(init=False)

    def __post_init__(self) -> None:
        # Bounded: a page that stopped reading (a dead connection not yet noticed) can't grow
        # without end; past the bound it is told to reload instead.
        self.queue = asyncio.Queue(QUEUE_LIMIT) if self.loop is not None else queue.Queue(QUEUE_LIMIT)
        self.overflowed = False
        self.page = OpenPage(channel=self.channel, user_id=self.user_id, role=self.role, client=self.client,
                             stream=self.stream)

    def put(self, delivery: Delivery) -> None:
        """Hand a delivery over from any thread (the hub hands many over with one call per loop)."""
        if self.loop is None:
            self._put(delivery)
            return
        try:
            self.loop.call_soon_threadsafe(self._put, delivery)
        except RuntimeError:
            pass  # its event loop is gone: the stream ended

    def _put(self, delivery: Delivery) -> None:
        try:
            self.queue.put_nowait(delivery)
        except (asyncio.QueueFull, queue.Full):
            self.overflowed = True


def _put_all(handovers: list[tuple[Subscriber, Delivery]]) -> None:
    for subscriber, delivery in handovers:
        subscriber._put(delivery)


# Pages that see exactly the same things: (channel, role, person).
Profile = tuple[tuple[str, int], str, int]


def channel_of(event: ChangeEvent) -> tuple[str, int]:
    return ("project", event.project_id) if event.project_id else ("team", event.team_id)


class Hub:
    def __init__(self, draw: Callable[[list[ChangeEvent]], Sequence[Drawing]], *, background: bool = True,
                 coalesce: Callable[[ChangeEvent], Hashable | None] | None = None,
                 keep: Callable[..., set[OpenPage]] | None = None) -> None:
        # draw(events) -> [Drawing]: what each of the changes read together shows, for each audience.
        # background=False: no reader thread, the caller pumps and beats (tests).
        self._draw = draw
        self._background = background
        # coalesce(event) -> key or None: of changes read together with one key, only the last is drawn.
        self._coalesce = coalesce or (lambda event: None)
        # keep(pages=[OpenPage]) -> those that may stay open (and are kept present); the others end.
        self._keep = keep or (lambda *, pages: set(pages))
        self._lock = threading.Lock()
        self._busy = threading.Lock()  # held through a read or a keep-alive (settle() waits for it)
        self._subscribers: dict[tuple[str, int], set[Subscriber]] = {}
        self._thread: threading.Thread | None = None
        self._nudge = threading.Event()
        self._cursor: int | None = None
        self._floor = 0  # changes up to here were made before anyone watched: never delivered
        self._delivered: OrderedDict[int, None] = OrderedDict()
        self.reads = 0  # table reads so far (the bench and tests watch it)
        self.draws = 0  # audiences drawn so far
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

    def nudge(self) -> None:
        """Read now rather than at the next poll (a change was just committed by this process)."""
        self._nudge.set()

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
        started, beaten = 0.0, time.monotonic()
        while not self._stopping:
            until_beat = max(0.0, beaten + settings.LIVE_KEEPALIVE_SECONDS - time.monotonic())
            if pubsub is not None:
                try:
                    pubsub.get_message(ignore_subscribe_messages=True, timeout=min(SAFETY_READ_SECONDS, until_beat))
                except Exception as exc:
                    log.warning("live: Redis wake-ups lost (%s); reading the table every second", exc)
                    pubsub = None
            else:
                # Read every LIVE_POLL_SECONDS from the start of one read to the next.
                self._nudge.wait(min(until_beat, max(0.0, (settings.LIVE_POLL_SECONDS if not settings.LIVE_REDIS_URL
                                                           else 1.0) - (time.monotonic() - started))))
                self._nudge.clear()
            if time.monotonic() - beaten >= settings.LIVE_KEEPALIVE_SECONDS:
                beaten = time.monotonic()
                try:
                    self.beat()
                except Exception:
                    log.exception("live: the keep-alive failed")
                    connection.close()
            time.sleep(max(0.0, READ_GAP_SECONDS - (time.monotonic() - started)))
            if pubsub is not None:
                try:
                    while pubsub.get_message(ignore_subscribe_messages=True, timeout=0):
                        pass  # one read serves every wake-up that arrived meanwhile
                except Exception:
                    pass  # noticed on the next wait
            started = time.monotonic()
            if self._stopping:
                return
            try:
                self.pump()
            except Exception:
                log.exception("live: reading changes failed")
                connection.close()  # a broken connection is reopened on the next read
                time.sleep(1)

    def _pubsub(self) -> Any:  # a redis PubSub (redis-py ships no types for it), or None
        if not settings.LIVE_REDIS_URL:
            return None
        try:
            import redis

            client = redis.Redis.from_url(settings.LIVE_REDIS_URL, socket_connect_timeout=2)
            pubsub = client.pubsub()  # type: ignore[no-untyped-call]  # redis-py leaves it bare
            pubsub.subscribe(redis_channel(settings.LIVE_REDIS_URL))
            return pubsub
        except Exception as exc:
            log.warning("live: no Redis wake-ups (%s); reading the table every second", exc)
            return None

    def pump(self) -> int:
        """Read changes since the cursor and deliver them; returns how many were delivered."""
        with self._busy:
            return self._pump()

    def _pump(self) -> int:
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
        events = self._read()
        with self._lock:  # after the read: a page that subscribed meanwhile gets this read too
            audiences = _Audiences(self._subscribers)
        last_of = {key: event.id for event in events if (key := self._coalesce(event)) is not None}
        to_draw = []
        for event in events:
            self._remember(event.id)
            self._cursor = max(self._cursor, event.id)
            profiles = audiences.watching(event)
            if not profiles:
                continue
            key = self._coalesce(event)
            if key is not None and last_of[key] != event.id:
                continue  # a later change in this read draws the same regions
            to_draw.append((event, profiles))
        try:
            drawings = self._draw([event for event, _profiles in to_draw])
        except Exception:
            log.exception("live: could not draw changes %s", [event.id for event, _profiles in to_draw])
            return 0
        parts: dict[Profile, list[tuple[int, bytes]]] = {}
        for (event, profiles), drawing in zip(to_draw, drawings):
            for profile, chunk in self._drawn(event, drawing, profiles):
                parts.setdefault(profile, []).append((event.id, chunk))
        self._hand_over(audiences, parts)
        return len(to_draw)

    def beat(self) -> int:
        """Every LIVE_KEEPALIVE_SECONDS, busy or not, for every open page at once: a keep-alive to
        those whose person may still watch (kept present), the end to the others; how many ended."""
        with self._busy:
            return self._beat()

    def _beat(self) -> int:
        with self._lock:
            subscribers = [sub for subs in self._subscribers.values() for sub in subs]
        if not subscribers:
            return 0
        still = self._keep(pages=[sub.page for sub in subscribers])
        by_loop: dict[asyncio.AbstractEventLoop | None, list[tuple[Subscriber, Delivery]]] = {}
        for sub in subscribers:
            by_loop.setdefault(sub.loop, []).append((sub, KEEP_ALIVE if sub.page in still else END))
        self._hand_over_by_loop(by_loop)
        return sum(sub.page not in still for sub in subscribers)

    def settle(self) -> None:
        """Wait for the read or keep-alive under way, if any, to finish. Once no page watches, nothing
        begins after it: a keep-alive begun just before the last page left could still be writing that
        page's presence. For a test about to empty the database its pages were streaming from."""
        with self._busy:
            pass

    def end_all(self) -> int:
        """End every open page's stream now, as a beat ends one whose person may no longer watch; how
        many. For a test whose browser has closed its pages: a stream notices a closed connection only
        when it next writes (a keep-alive), and each browser test would wait for that."""
        with self._lock:
            subscribers = [sub for subs in self._subscribers.values() for sub in subs]
        by_loop: dict[asyncio.AbstractEventLoop | None, list[tuple[Subscriber, Delivery]]] = {}
        for sub in subscribers:
            by_loop.setdefault(sub.loop, []).append((sub, END))
        self._hand_over_by_loop(by_loop)
        return len(subscribers)

    def _read(self) -> list[Any]:
        # New changes, and those in the look-back window not seen yet (a late commit): usually none.
        cursor = self._cursor
        if cursor is None:  # nobody watches
            return []
        low = max(self._floor, cursor - LOOKBACK_IDS)
        late = [i for i in range(low + 1, cursor + 1) if i not in self._delivered]
        scope = Q(id__gt=cursor) | Q(id__in=late) if late else Q(id__gt=cursor)
        self.reads += 1
        return list(ChangeEvent.objects.filter(scope).order_by("id")[:1000])

    def _drawn(self, event: ChangeEvent, drawing: Drawing, profiles: list[Profile],
               ) -> Iterator[tuple[Profile, bytes]]:
        """(profile, bytes) for each watching profile: drawn and encoded once per audience."""
        drawn: dict[Hashable, bytes] = {}
        for profile in profiles:
            _channel, role, user_id = profile
            try:
                audience = drawing.audience(role, user_id)
                if audience not in drawn:
                    self.draws += 1
                    drawn[audience] = b"".join(m.encode() for m in drawing.messages(role, user_id))
            except Exception:
                log.exception("live: could not draw change %s", event.id)
                continue
            if drawn[audience]:
                yield profile, drawn[audience]

    def _hand_over(self, audiences: _Audiences, parts: dict[Profile, list[tuple[int, bytes]]]) -> None:
        """One delivery per distinct content, the same object to each of its pages; one call per event loop."""
        shared: dict[tuple[int, ...], Delivery] = {}
        by_loop: dict[asyncio.AbstractEventLoop | None, list[tuple[Subscriber, Delivery]]] = {}
        for profile, profile_parts in parts.items():
            same = tuple(id(chunk) for _id, chunk in profile_parts)  # the chunks live until the read ends
            delivery = shared.get(same) or shared.setdefault(same, Delivery.of(profile_parts))
            for subscriber in audiences.pages[profile]:
                by_loop.setdefault(subscriber.loop, []).append((subscriber, delivery))
        self._hand_over_by_loop(by_loop)

    @staticmethod
    def _hand_over_by_loop(by_loop: dict[asyncio.AbstractEventLoop | None, list[tuple[Subscriber, Delivery]]],
                           ) -> None:
        for loop, handovers in by_loop.items():
            if loop is None:
                _put_all(handovers)
                continue
            try:
                loop.call_soon_threadsafe(_put_all, handovers)
            except RuntimeError:
                pass  # that event loop is gone: its streams ended

    def _remember(self, event_id: int) -> None:
        self._delivered[event_id] = None
        while len(self._delivered) > LOOKBACK_IDS * 2:
            self._delivered.popitem(last=False)


class _Audiences:
    """The open pages of one read, by profile: (channel, role, person) sees exactly the same things."""

    def __init__(self, subscribers: dict[tuple[str, int], set[Subscriber]]):
        self.pages: dict[Profile, list[Subscriber]] = {}
        self._by_channel: dict[tuple[str, int], list[Profile]] = {}
        self._by_user: dict[int, list[Profile]] = {}
        for channel, subs in subscribers.items():
            for sub in subs:
                profile = (channel, sub.role, sub.user_id)
                if profile not in self.pages:
                    self.pages[profile] = []
                    self._by_channel.setdefault(channel, []).append(profile)
                    if sub.user_id:  # a guest's page (user 0) is nobody's: no one's bell reaches it
                        self._by_user.setdefault(sub.user_id, []).append(profile)
                self.pages[profile].append(sub)

    def watching(self, event: ChangeEvent) -> list[Profile]:
        if event.recipient_id:
            # One person's change (their bell): to every page of theirs, whatever it watches.
            return self._by_user.get(event.recipient_id, [])
        return self._by_channel.get(channel_of(event), [])


_hub: Hub | None = None
_hub_lock = threading.Lock()


def hub() -> Hub:
    """This process's hub."""
    global _hub
    with _hub_lock:
        if _hub is None:
            # At first use, not at the top: the hub is generic (tests build one with any drawing) and
            # fragments draw with the hub's Message; this process's hub draws with the fragments and
            # keeps pages open as the stream says (a member while they are one, a guest while the link works).
            from projects.live.fragments import coalesce_key, draw_all
            from projects.live.stream import keep_open

            _hub = Hub(draw_all, coalesce=coalesce_key, keep=keep_open)
            live_reader_add(_hub.nudge)  # a change made in this process is read at once
        return _hub
