"""What every strict fake provider shares: the record of a request, and a handler that records
each request and hands it to the fake's own `route(fake, handler, record)`.

Each fake keeps its own routes and error shapes (they are what makes it strict); only the
HTTP plumbing lives here.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict  # lower-cased names
    body: bytes
    query: dict = field(default_factory=dict)
    query_items: list = field(default_factory=list)  # every (name, value), repeated names kept
    json: Any = None  # the parsed JSON body: any JSON value
    fields: dict | None = None  # multipart: name -> str, or (filename, content_type, bytes)
    accepted: bool = False  # ComfyUI: a /prompt the server queued
    at: float = field(default_factory=time.monotonic)  # when it arrived


class RecordingHandler(BaseHTTPRequestHandler):
    """Records every request on `server.fake.requests`, then hands it to `handle_request`."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def handle_request(self, fake, record: Recorded) -> None:  # each fake routes its own wire
        raise NotImplementedError

    def log_message(self, *args):
        pass

    def do_GET(self):
        fake = self.server.fake
        url = urlsplit(self.path)
        length = int(self.headers.get("content-length") or 0)
        record = Recorded(method=self.command, path=url.path, query=dict(parse_qsl(url.query)),
                          query_items=parse_qsl(url.query),
                          headers={k.lower(): v for k, v in self.headers.items()},
                          body=self.rfile.read(length) if length else b"")
        with fake.lock:
            fake.requests.append(record)
        try:
            self.handle_request(fake, record)
        except (BrokenPipeError, ConnectionResetError):
            pass

    do_POST = do_DELETE = do_PUT = do_GET

    def reply(self, status: int, payload=None, *, body: bytes | None = None,
              content_type: str = "application/json") -> None:
        if body is None:
            body = json.dumps(payload).encode() if payload is not None else b""
        self.send_response(status)
        if body or status != 204:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
