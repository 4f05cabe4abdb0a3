"""A page's live stream: replay what it missed, then what the hub delivers, as Server-Sent Events.

The same stream is served two ways: as an async generator under the ASGI server
(production: an idle page costs a coroutine), and as a plain generator under
WSGI (the test server, which gives each request a thread). Either way, what the
hub delivers is written as the bytes it was handed: the same object for every
page of the same audience.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from asgiref.sync import SyncToAsync, sync_to_async
from django.conf import settings
from django.db import close_old_connections, connections
from django.db.models import Q

from projects.live.fragments import coalesce_key, draw_all
from projects.live.hub import END, Delivery, Message, Subscriber, hub
from projects.live.presence import OpenPage, presence_beat_all, presence_join, presence_leave
from projects.live.review_fragments import guest_link_id, guest_pages_kept
from projects.models import ChangeEvent

T = TypeVar("T")

if TYPE_CHECKING:
    from typing import Any


log = logging.getLogger(__name__)

REPLAY_LIMIT = 300  # a page that missed more than this reloads instead


def cursor_now() -> int:
    """The newest change id: a page rendered now is up to date to here."""
    return ChangeEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def replay(*, channel: tuple[str, int], role: str, after: int | None, user_id: int | None = None) -> list[Message]:
    """What a page that saw everything up to `after` missed, or a single "reset" if too much.

    `user_id`: the page's person, whose own changes (their bell) it gets too; nobody else's."""
    kind, key = channel
    scope = Q(project_id=key) if kind == "project" else Q(team_id=key, project__isnull=True)
    scope = (scope & Q(recipient__isnull=True)) | (Q(recipient_id=user_id) if user_id else Q(pk__in=[]))
    if after is None:
        return []  # a page that says nothing was just rendered: nothing to catch up on
    missed = list(ChangeEvent.objects.filter(scope, id__gt=after).order_by("id")[:REPLAY_LIMIT + 1])
    oldest_kept = ChangeEvent.objects.order_by("id").values_list("id", flat=True).first()
    if len(missed) > REPLAY_LIMIT or (oldest_kept is not None and oldest_kept > after + 1 and after > 0):
        # Too much, or older than what is kept (a day): the page reloads instead.
        return [Message(id=cursor_now(), event="reset", data="")]
    # As the hub does: of changes that draw the same regions, only the last is drawn.
    last_of = {same: event.id for event in missed if (same := coalesce_key(event)) is not None}
    drawn = [event for event in missed if (same := coalesce_key(event)) is None or last_of[same] == event.id]
    messages = []
    for drawing in draw_all(drawn):
        try:
            messages.extend(drawing.messages(role, user_id or 0))
        except Exception:  # one change that can't be drawn must not stop the page's stream
            log.exception("live: could not render change %s for a replay", drawing.event.id)
    return messages


def client_id(raw: str | None, *, user_id: int) -> str:
    """The page's id, under its user's: no page can speak for another person's."""
    try:
        page = str(uuid.UUID(raw or ""))
    except ValueError:
        page = str(uuid.uuid4())
    return f"{user_id}-{page}"


# --- the two ways of serving it -------------------------------------------------------------

class _Page:
    """One open page's stream, whichever way it is served: its database steps are plain
    (blocking) methods the two servings call, each on a thread of their own choosing."""

    def __init__(self, *, channel: tuple[str, int], role: str, user_id: int, after: int | None, client: str,
                 loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.channel, self.role, self.user_id, self.after, self.client = channel, role, user_id, after, client
        # A guest's page (a review link's, role `guest:<link id>`) is nobody's presence; the hub's keep-alive
        # ends it once its link stops working (keep_open).
        self.project_id = channel[1] if channel[0] == "project" and guest_link_id(role) is None else None
        self.replayed: set[int] = set()
        self.reset_at = 0
        self.ends = time.monotonic() + settings.LIVE_STREAM_MAX_SECONDS
        self.stream = str(uuid.uuid4())  # this connection, as opposed to the page's next one
        # The hub's beat keeps it present and checks its person (or its link) may still watch (else END).
        self.subscriber = hub().subscribe(Subscriber(channel=channel, role=role, user_id=user_id, loop=loop,
                                                     after=after, client=client, stream=self.stream))

    def opening(self) -> list[bytes]:
        """Present on the project, then `retry` (how long a browser waits to reconnect, with
        Last-Event-ID) and what the page missed."""
        if self.project_id:
            _in_thread(presence_join, project_id=self.project_id, user_id=self.user_id, client=self.client,
                       stream=self.stream)
        chunks = [b"retry: 2000\n\n"]
        for message in _in_thread(replay, channel=self.channel, role=self.role, after=self.after,
                                  user_id=self.user_id):
            chunks.append(message.encode())
            self.replayed.add(message.id)
            if message.event == "reset":
                self.reset_at = message.id  # the reload covers everything up to here
        return chunks

    def deliver(self, delivery: Delivery) -> bytes | None:
        """What to write for a delivery: its bytes as handed over, unless this page replayed some of it."""
        if self.subscriber.overflowed and delivery.parts:
            self.subscriber.overflowed = False
            return Message(delivery.parts[-1][0], "reset", "").encode()
        if self.replayed or self.reset_at:
            # By exact id: a change that commits late (a lower id, after higher ones) still counts.
            kept = [chunk for change, chunk in delivery.parts
                    if change not in self.replayed and change > self.reset_at]
            if len(kept) < len(delivery.parts):
                return b"".join(kept) or None
        return delivery.data

    def left(self) -> float:
        """Seconds before the stream ends (the browser reconnects from its cursor, access checked anew)."""
        return self.ends - time.monotonic()

    def close(self) -> None:
        try:
            if self.project_id:
                _in_thread(presence_leave, project_id=self.project_id, user_id=self.user_id, client=self.client,
                           stream=self.stream)
        finally:
            hub().unsubscribe(self.subscriber)


async def stream_async(**page_args: Any) -> AsyncIterator[bytes]:
    """Under the ASGI server: an idle page is a coroutine waiting on its queue."""
    page = _Page(**page_args, loop=asyncio.get_running_loop())
    step = sync_to_async(lambda method, *args: method(*args), thread_sensitive=False)
    try:
        await sync_to_async(_let_go_of_the_database, thread_sensitive=True)()
        _let_go_of_the_request_thread()
        for chunk in await step(page.opening):
            yield chunk
        waiting = page.subscriber.queue
        assert isinstance(waiting, asyncio.Queue)  # a page with an event loop waits on an asyncio queue
        while (left := page.left()) > 0:
            try:
                async with asyncio.timeout(left):
                    deliveries = [await waiting.get()]
            except TimeoutError:
                return
            while not waiting.empty():  # fell behind: what is waiting goes out in one write
                deliveries.append(waiting.get_nowait())
            if END in deliveries:
                return
            chunk = b"".join(filter(None, map(page.deliver, deliveries)))
            if chunk:
                yield chunk
    finally:
        await step(page.close)


def stream_sync(**page_args: Any) -> Iterator[bytes]:
    """Under WSGI (the test server): the request's own thread waits on the page's queue."""
    page = _Page(**page_args)
    waiting = page.subscriber.queue
    assert isinstance(waiting, queue.Queue)  # a page without an event loop waits on a thread's queue
    try:
        yield from page.opening()
        while (left := page.left()) > 0:
            try:
                delivery = waiting.get(timeout=left)
            except queue.Empty:
                return
            if delivery is END:
                return
            chunk = page.deliver(delivery)
            if chunk:
                yield chunk
    finally:
        page.close()


def keep_open(*, pages: list[OpenPage]) -> set[OpenPage]:
    """The hub's keep-alive for every open page of a web process, in a few queries however many: a member's
    page while its person is one in the role it was opened with (kept present), a guest's while its review
    link works (never anyone's presence). The others end."""
    guests = [page for page in pages if guest_link_id(page.role) is not None]
    members = [page for page in pages if guest_link_id(page.role) is None]
    return presence_beat_all(pages=members) | guest_pages_kept(guests)


def _let_go_of_the_database() -> None:
    """The view is done with the database. Its connection was opened on the request's own thread,
    which Django keeps until the response ends: held by every open stream, it would be one
    connection per page (a PostgreSQL server's limit is a few hundred). The stream's steps open
    their own, briefly."""
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close()


def _let_go_of_the_request_thread() -> None:
    """Django gives each request a thread of its own for its synchronous parts (the view, the
    middleware), kept until the response ends: held by an open stream, an idle thread per page.
    The stream's steps run on the shared pool, so the thread can go now; should anything need
    it again (the response's close), asgiref starts another for that moment."""
    try:
        context = SyncToAsync.thread_sensitive_context.get(None)
        executor = SyncToAsync.context_to_thread_executor.pop(context, None) if context is not None else None
    except (AttributeError, TypeError):  # an asgiref that keeps this elsewhere: the thread stays
        return
    if executor is not None:
        executor.shutdown(wait=False)


def _in_thread(function: Callable[..., T], **kwargs: Any) -> T:
    """Run a database step of a long-lived stream, without leaving a connection open between steps."""
    close_old_connections()
    try:
        return function(**kwargs)
    finally:
        close_old_connections()
