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

def _preamble() -> str:
    # `retry`: how long a browser waits before reconnecting (with Last-Event-ID).
    return "retry: 2000\n\n"


async def stream_async(*, channel, role: str, user_id: int, after: int, client: str):
    subscriber = hub().subscribe(Subscriber(channel=channel, role=role, user_id=user_id,
                                            loop=asyncio.get_running_loop()))
    project_id = channel[1] if channel[0] == "project" else None
    run = sync_to_async(_in_thread, thread_sensitive=False)
    try:
        if project_id:
            await run(presence_join, project_id=project_id, user_id=user_id, client=client)
        yield _preamble()
        sent = after or 0
        for message in await run(replay, channel=channel, role=role, after=after):
            yield message.encode()
            sent = max(sent, message.id)
        ends = time.monotonic() + settings.LIVE_STREAM_MAX_SECONDS
        while time.monotonic() < ends:
            try:
                message = await asyncio.wait_for(subscriber.queue.get(), settings.LIVE_KEEPALIVE_SECONDS)
            except asyncio.TimeoutError:
                still = await run(presence_beat, project_id=project_id, user_id=user_id, client=client) \
                    if project_id else await run(team_beat, team_id=channel[1], user_id=user_id)
                if not still:
                    return
                yield ": keep-alive\n\n"
                continue
            if message.id > sent:  # the replay may already have sent it
                yield message.encode()
                sent = max(sent, message.id)
    finally:
        try:
            if project_id:
                await run(presence_leave, project_id=project_id, user_id=user_id, client=client)
        finally:
            hub().unsubscribe(subscriber)


def stream_sync(*, channel, role: str, user_id: int, after: int, client: str):
    subscriber = hub().subscribe(Subscriber(channel=channel, role=role, user_id=user_id))
    project_id = channel[1] if channel[0] == "project" else None
    try:
        if project_id:
            _in_thread(presence_join, project_id=project_id, user_id=user_id, client=client)
        yield _preamble()
        sent = after or 0
        for message in _in_thread(replay, channel=channel, role=role, after=after):
            yield message.encode()
            sent = max(sent, message.id)
        ends = time.monotonic() + settings.LIVE_STREAM_MAX_SECONDS
        while time.monotonic() < ends:
            try:
                message = subscriber.queue.get(timeout=settings.LIVE_KEEPALIVE_SECONDS)
            except queue.Empty:
                still = _in_thread(presence_beat, project_id=project_id, user_id=user_id, client=client) \
                    if project_id else _in_thread(team_beat, team_id=channel[1], user_id=user_id)
                if not still:
                    return
                yield ": keep-alive\n\n"
                continue
            if message.id > sent:  # the replay may already have sent it
                yield message.encode()
                sent = max(sent, message.id)
    finally:
        try:
            if project_id:
                _in_thread(presence_leave, project_id=project_id, user_id=user_id, client=client)
        finally:
            hub().unsubscribe(subscriber)


def _in_thread(function, **kwargs):
    """Run a database step of a long-lived stream, without leaving a connection open between steps."""
    close_old_connections()
    try:
        return function(**kwargs)
    finally:
        close_old_connections()
