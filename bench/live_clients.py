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
server is being measured on.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time

EVENT_ID = re.compile(rb"(?:^|\n)id: (\d+)\r?\n")
OPENING = b"retry:"  # the first thing every stream sends


class Page:
    """One open tab's stream: when each change first reached it."""

    def __init__(self, path: str, cookie: str):
        self.path, self.cookie = path, cookie
        self.received: dict[int, float] = {}
        self.bytes = 0
        self.ok = False
        self.writer: asyncio.StreamWriter | None = None

    async def open(self, host: str, port: int) -> asyncio.StreamReader:
        reader, self.writer = await asyncio.open_connection(host, port)
        self.writer.write((f"GET {self.path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n"
                           f"Cookie: sessionid={self.cookie}\r\n\r\n").encode())
        head = await reader.readuntil(b"\r\n\r\n")
        status = head.split(b"\r\n", 1)[0]
        if b" 200 " not in status:
            raise RuntimeError(status.decode(errors="replace"))
        seen = b""
        while OPENING not in seen:  # past the opening: the stream is subscribed on the server
            chunk = await reader.read(65536)
            if not chunk:
                raise RuntimeError("the stream ended before its opening")
            seen += chunk
            self._scan(seen, time.monotonic())
        self.bytes += len(seen)
        self.ok = True
        return reader

    async def read(self, reader: asyncio.StreamReader) -> None:
        tail = b""
        while chunk := await reader.read(65536):
            now = time.monotonic()
            self.bytes += len(chunk)
            data = tail + chunk
            self._scan(data, now)
            tail = data[-40:]  # an id cut in two by the network is found on the next read

    def _scan(self, data: bytes, now: float) -> None:
        for match in EVENT_ID.finditer(data):
            self.received.setdefault(int(match.group(1)), now)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def open_all(pages: list[Page], host: str, port: int, readers: list) -> list[str]:
    failed: list[str] = []
    gate = asyncio.Semaphore(50)  # as tabs reopening after a restart would, not all in one instant

    async def one(page: Page):
        async with gate:
            try:
                reader = await asyncio.wait_for(page.open(host, port), 120)
            except Exception as exc:  # noqa: BLE001 - reported, the bench counts it
                failed.append(f"{type(exc).__name__}: {exc}")
                return
        readers.append(asyncio.create_task(page.read(reader)))

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
    readers: list[asyncio.Task] = []

    def answer(payload: dict) -> None:
        sys.stdout.write(json.dumps(payload) + "\n")
        sys.stdout.flush()

    while line := await loop.run_in_executor(None, sys.stdin.readline):
        command = json.loads(line)
        if command["cmd"] == "open":
            pages = [Page(p["path"], p["cookie"]) for p in command["pages"]]
            failed = await open_all(pages, command["host"], command["port"], readers)
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
            for task in readers:
                task.cancel()
            await asyncio.gather(*readers, return_exceptions=True)
            answer({"bytes": sum(page.bytes for page in pages)})
            return


if __name__ == "__main__":
    try:
        import uvloop  # the pages read faster; plain asyncio works the same

        uvloop.run(main())
    except ImportError:
        asyncio.run(main())
