"""The open pages of bench/live.py, in a process of their own (no Django here).

The bench starts this script and speaks to it one JSON line at a time on stdin/stdout:

    {"cmd": "open", "host": h, "port": p, "pages": [{"path": "/projects/1/events/?...", "cookie": "..."}]}
        → {"connected": n, "failed": ["why", ...]}   every page's stream answered 200 and sent its opening
    {"cmd": "wait", "ids": [event ids], "timeout": s}
        → {"times": {"<id>": [monotonic time it reached page i, or null]}}   when every page has them all
    {"cmd": "close"} → {"bytes": total bytes read}, and the process ends

Its own process so that reading N streams does not share an interpreter (and its GIL) with
the publisher or the server: a page's receive time is taken as its bytes arrive. Times are
time.monotonic(), one clock for every process of the machine (CLOCK_MONOTONIC on Linux), so
the bench compares them with the time it published each change.

Each page is a raw HTTP/1.1 connection, read as bytes: the first `id: N` line of each
event is all the bench needs, and a full HTTP client per page would spend the cores the
server is being measured on. The bench prints this process's CPU beside the server's:
on a busy box, a thousand pages' reading is part of what the latency measures.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time

EVENT_ID = re.compile(rb"(?:^|\n)id: (\d+)\r?\n")
OPENING = b"retry:"  # the first thing every stream sends


class Page(asyncio.Protocol):
    """One open tab's stream: when each change first reached it.

    A bare protocol: each arriving chunk is scanned where it lands (no reader task to wake),
    so a thousand pages cost this process little next to the server it measures."""

    def __init__(self, path: str, cookie: str):
        self.path, self.cookie = path, cookie
        self.received: dict[int, float] = {}
        self.bytes = 0
        self.ok = False
        self.opened: asyncio.Future | None = None
        self.transport: asyncio.Transport | None = None
        self._head = b""
        self._tail = b""

    async def open(self, host: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        self.opened = loop.create_future()
        await loop.create_connection(lambda: self, host, port)
        assert self.transport is not None  # connection_made ran
        self.transport.write((f"GET {self.path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                              f"Accept: text/event-stream\r\nCookie: sessionid={self.cookie}\r\n\r\n").encode())
        await self.opened
        self.ok = True

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, chunk: bytes) -> None:
        now = time.monotonic()
        self.bytes += len(chunk)
        assert self.opened is not None  # open() comes first
        if not self.opened.done():
            self._head += chunk
            if OPENING not in self._head:
                return  # past the opening, the stream is subscribed on the server
            status = self._head.split(b"\r\n", 1)[0]
            if b" 200 " not in status:
                self.opened.set_exception(RuntimeError(status.decode(errors="replace")))
                return
            chunk, self._head = self._head, b""
            self.opened.set_result(None)
        data = self._tail + chunk
        for match in EVENT_ID.finditer(data):
            self.received.setdefault(int(match.group(1)), now)
        self._tail = data[-40:]  # an id cut in two by the network is found in the next chunk

    def connection_lost(self, exc) -> None:
        if self.opened is not None and not self.opened.done():
            self.opened.set_exception(RuntimeError("the stream ended before its opening"))

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def open_all(pages: list[Page], host: str, port: int) -> list[str]:
    failed: list[str] = []
    gate = asyncio.Semaphore(50)  # as tabs reopening after a restart would, not all in one instant

    async def one(page: Page):
        async with gate:
            try:
                await asyncio.wait_for(page.open(host, port), 120)
            except Exception as exc:  # noqa: BLE001 - reported, the bench counts it
                failed.append(f"{type(exc).__name__}: {exc}")

    await asyncio.gather(*(one(page) for page in pages))
    return failed


async def wait_for(pages: list[Page], ids: list[int], timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(i not in page.received for page in pages for i in ids):
        await asyncio.sleep(0.05)
    return {"times": {str(i): [page.received.get(i) for page in pages] for i in ids}}


async def main() -> None:
    loop = asyncio.get_running_loop()
    pages: list[Page] = []

    def answer(payload: dict) -> None:
        sys.stdout.write(json.dumps(payload) + "\n")
        sys.stdout.flush()

    while line := await loop.run_in_executor(None, sys.stdin.readline):
        command = json.loads(line)
        if command["cmd"] == "open":
            pages = [Page(p["path"], p["cookie"]) for p in command["pages"]]
            failed = await open_all(pages, command["host"], command["port"])
            for page in pages:
                if not page.ok:
                    page.close()
            pages = [page for page in pages if page.ok]
            answer({"connected": len(pages), "failed": failed[:5], "failures": len(failed)})
        elif command["cmd"] == "wait":
            answer(await wait_for(pages, command["ids"], command["timeout"]))
        elif command["cmd"] == "close":
            for page in pages:
                page.close()
            answer({"bytes": sum(page.bytes for page in pages)})
            return


if __name__ == "__main__":
    try:
        import uvloop  # the pages read faster; plain asyncio works the same

        uvloop.run(main())
    except ImportError:
        asyncio.run(main())
