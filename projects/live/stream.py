"""A page's live stream: replay what it missed, then what the hub delivers, as Server-Sent Events.

The same stream is served two ways: as an async generator under the ASGI server
(production: an idle page costs a coroutine), and as a plain generator under
WSGI (the test server, which gives each request a thread).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import time
import uuid

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections
from django.db.models import Q

from projects.live.fragments import coalesce_key, render_change
from projects.live.hub import Message, Subscriber, hub
from projects.live.presence import presence_beat, presence_join, presence_leave, team_beat
from projects.models import ChangeEvent

log = logging.getLogger(__name__)

REPLAY_LIMIT = 300  # a page that missed more than this reloads instead


def cursor_now() -> int:
    """The newest change id: a page rendered now is up to date to here."""
    return ChangeEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def replay(*, channel, role: str, after: int | None, user_id: int | None = None) -> list[Message]:
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
    last_of = {key: event.id for event in missed if (key := coalesce_key(event)) is not None}
    messages = []
    for event in missed:
        if (key := coalesce_key(event)) is not None and last_of[key] != event.id:
            continue
        try:
            messages.extend(render_change(event, role))
        except Exception:  # one change that can't be drawn must not stop the page's stream
            log.exception("live: could not render change %s for a replay", event.id)
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

    def __init__(self, *, channel, role: str, user_id: int, after: int | None, client: str, loop=None,
                 still_allowed=None):
        self.channel, self.role, self.user_id, self.after, self.client = channel, role, user_id, after, client
        # still_allowed() -> bool: a page that is not a member's (a guest's review link) says at each keep-alive
        # whether it may go on watching; such a page is nobody's presence.
        self.still_allowed = still_allowed
        self.project_id = channel[1] if channel[0] == "project" and still_allowed is None else None
        self.replayed: set[int] = set()
        self.reset_at = 0
        self.ends = time.monotonic() + settings.LIVE_STREAM_MAX_SECONDS
        self.beaten = time.monotonic()
        self.stream = str(uuid.uuid4())  # this connection, as opposed to the page's next one
        self.subscriber = hub().subscribe(Subscriber(channel=channel, role=role, user_id=user_id, loop=loop,
                                                     after=after))

    def opening(self) -> list[str]:
        """Present on the project, then `retry` (how long a browser waits to reconnect, with
        Last-Event-ID) and what the page missed."""
        if self.project_id:
            _in_thread(presence_join, project_id=self.project_id, user_id=self.user_id, client=self.client,
                       stream=self.stream)
        chunks = ["retry: 2000\n\n"]
        for message in _in_thread(replay, channel=self.channel, role=self.role, after=self.after,
                                  user_id=self.user_id):
            chunks.append(message.encode())
            self.replayed.add(message.id)
            if message.event == "reset":
                self.reset_at = message.id  # the reload covers everything up to here
        return chunks

    def deliver(self, message: Message) -> str | None:
        # By exact id: a change that commits late (a lower id, after higher ones) still counts.
        if message.id in self.replayed or message.id <= self.reset_at:
            return None
        if self.subscriber.overflowed:
            self.subscriber.overflowed = False
            return Message(message.id, "reset", "").encode()
        return message.encode()

    def beat_due(self) -> bool:
        return time.monotonic() - self.beaten >= settings.LIVE_KEEPALIVE_SECONDS

    def beat(self) -> str | None:
        """Every keep-alive period, busy or not: still a member (else the stream ends, None), still present."""
        self.beaten = time.monotonic()
        if self.still_allowed is not None:
            still = _in_thread(self.still_allowed)
        elif self.project_id:
            still = _in_thread(presence_beat, project_id=self.project_id, user_id=self.user_id, client=self.client,
                               stream=self.stream)
        else:
            still = _in_thread(team_beat, team_id=self.channel[1], user_id=self.user_id)
        return ": keep-alive\n\n" if still else None

    def open(self) -> bool:
        return time.monotonic() < self.ends

    def close(self) -> None:
        try:
            if self.project_id:
                _in_thread(presence_leave, project_id=self.project_id, user_id=self.user_id, client=self.client,
                           stream=self.stream)
        finally:
            hub().unsubscribe(self.subscriber)


async def stream_async(**page_args):
    """Under the ASGI server: an idle page is a coroutine waiting on its queue."""
    page = _Page(**page_args, loop=asyncio.get_running_loop())
    step = sync_to_async(lambda method, *args: method(*args), thread_sensitive=False)
    try:
        for chunk in await step(page.opening):
            yield chunk
        while page.open():
            try:
                message = await asyncio.wait_for(page.subscriber.queue.get(), settings.LIVE_KEEPALIVE_SECONDS)
            except asyncio.TimeoutError:
                chunk = await step(page.beat)
                if chunk is None:
                    return
            else:
                chunk = page.deliver(message)
                if chunk and page.beat_due():
                    if await step(page.beat) is None:
                        return
            if chunk:
                yield chunk
    finally:
        await step(page.close)


def stream_sync(**page_args):
    """Under WSGI (the test server): the request's own thread waits on the page's queue."""
    page = _Page(**page_args)
    try:
        yield from page.opening()
        while page.open():
            try:
                message = page.subscriber.queue.get(timeout=settings.LIVE_KEEPALIVE_SECONDS)
            except queue.Empty:
                chunk = page.beat()
                if chunk is None:
                    return
            else:
                chunk = page.deliver(message)
                if chunk and page.beat_due() and page.beat() is None:
                    return
            if chunk:
                yield chunk
    finally:
        page.close()


def _in_thread(function, **kwargs):
    """Run a database step of a long-lived stream, without leaving a connection open between steps."""
    close_old_connections()
    try:
        return function(**kwargs)
    finally:
        close_old_connections()
