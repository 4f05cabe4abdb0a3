"""Reading what a page's stream was handed: Server-Sent Events back from bytes."""

from __future__ import annotations

from projects.live.hub import Message


def parse(data: bytes) -> list[Message]:
    """The events in a stream's bytes (comments, such as keep-alives, and `retry:` left out)."""
    found = []
    for block in data.decode().split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            if line.startswith(":") or ": " not in line:
                continue
            key, value = line.split(": ", 1)
            fields[key] = fields[key] + "\n" + value if key in fields and key == "data" else value
        if "event" in fields:
            found.append(Message(int(fields["id"]), fields["event"], fields.get("data", "")))
    return found


def deliveries(subscriber) -> list:
    """Everything waiting on a page's queue, as the hub handed it over."""
    waiting = []
    while not subscriber.queue.empty():
        waiting.append(subscriber.queue.get_nowait())
    return waiting


def drain(subscriber) -> list[Message]:
    """The events waiting on a page's queue."""
    return [message for delivery in deliveries(subscriber) for message in parse(delivery.data)]
