"""A page's live stream: replay what it missed, then what the hub delivers, as Server-Sent Events.

The same stream is served two ways: as an async generator under the ASGI server
(production: an idle page costs a coroutine), and as a plain generator under
WSGI (the test server, which gives each request a thread).
"""

from __future__ import annotations

import asyncio
import queue
import time
import uuid

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections

from projects.live.hub import Message, Subscriber, hub
from projects.live.presence import presence_beat, presence_join, presence_leave, team_beat
from projects.models import ChangeEvent

REPLAY_LIMIT = 300  # a page that missed more than this reloads instead


def cursor_now() -> int:
    """The newest change id: a page rendered now is up to date to here."""
    return ChangeEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def replay(*, channel, role: str, after: int | None) -> list[Message]:
    """What a page that saw everything up to `after` missed, or a single "reset" if too much."""
    kind, key = channel
    scope = {"project_id": key} if kind == "project" else {"team_id": key, "project__isnull": True}
    if after is None:
        return []  # a page that says nothing was just rendered: nothing to catch up on
    missed = list(ChangeEvent.objects.filter(id__gt=after, **scope).order_by("id")[:REPLAY_LIMIT + 1])
    if len(missed) > REPLAY_LIMIT:
        return [Message(id=missed[-1].id, event="reset", data="")]
    from projects.live.fragments import coalesce_key, render_change

    # As the hub does: of changes that draw the same regions, only the last is drawn.
    last_of = {key: event.id for event in missed if (key := coalesce_key(event)) is not None}
    return [message for event in missed
            if (key := coalesce_key(event)) is None or last_of[key] == event.id
            for message in render_change(event, role)]


def client_id(raw: str | None) -> str:
    try:
        return str(uuid.UUID(raw or ""))
    except ValueError:
        return str(uuid.uuid4())


# --- the two ways of serving it -------------------------------------------------------------

class _Page:
    """One open page's stream, whichever way it is served: its database steps are plain
    (blocking) methods the two servings call, each on a thread of their own choosing."""

    def __init__(self, *, channel, role: str, user_id: int, after: int | None, client: str, loop=None):
        self.channel, self.role, self.user_id, self.after, self.client = channel, role, user_id, after, client
        self.project_id = channel[1] if channel[0] == "project" else None
        self.sent = after or 0
        self.ends = time.monotonic() + settings.LIVE_STREAM_MAX_SECONDS
        self.subscriber = hub().subscribe(Subscriber(channel=channel, role=role, user_id=user_id, loop=loop))

    def opening(self) -> list[str]:
        """Present on the project, then `retry` (how long a browser waits to reconnect, with
        Last-Event-ID) and what the page missed."""
        if self.project_id:
            _in_thread(presence_join, project_id=self.project_id, user_id=self.user_id, client=self.client)
        chunks = ["retry: 2000\n\n"]
        for message in _in_thread(replay, channel=self.channel, role=self.role, after=self.after):
            chunks.append(message.encode())
            self.sent = max(self.sent, message.id)
        return chunks

    def deliver(self, message: Message) -> str | None:
        if message.id <= self.sent:
            return None  # the replay already sent it
        self.sent = message.id
        return message.encode()

    def beat(self) -> str | None:
        """While nothing happens: stay present and say so; None when the member lost access."""
        if self.project_id:
            still = _in_thread(presence_beat, project_id=self.project_id, user_id=self.user_id, client=self.client)
        else:
            still = _in_thread(team_beat, team_id=self.channel[1], user_id=self.user_id)
        return ": keep-alive\n\n" if still else None

    def open(self) -> bool:
        return time.monotonic() < self.ends

    def close(self) -> None:
        try:
            if self.project_id:
                _in_thread(presence_leave, project_id=self.project_id, user_id=self.user_id, client=self.client)
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
