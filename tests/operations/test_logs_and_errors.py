"""Structured logs (one JSON object per event, with take/project ids) and errors sent to Sentry."""

import io
import json
import logging
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from studio_site.logs import JsonFormatter, KeyValueFormatter


@pytest.fixture
def json_log():
    """Everything logged while the test runs, as parsed JSON lines."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    previous = root.level
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(previous)


def test_a_take_leaves_one_line_per_step_with_its_take_and_project(json_log, scene, render_take):
    take = render_take(scene)
    lines = [line for line in json_log() if line.get("take_id") == take.pk]
    assert [line["status"] for line in lines] == ["queued", "submitting", "running", "downloading", "succeeded"]
    booked = lines[0]
    assert booked["message"] == f"take {take.pk} booked"
    assert booked["project_id"] == scene.project_id and booked["model"] == "previz-animatic-1"
    assert all(line["level"] == "info" and line["time"].endswith("Z") for line in lines)


def test_a_failure_carries_its_error_and_an_exception_stays_on_one_line():
    record = logging.LogRecord("generation.takes", logging.ERROR, __file__, 1, "take %s is %s", (7, "failed"), None)
    record.take_id, record.error = 7, "The provider refused the prompt"
    try:
        raise RuntimeError("boom\nsecond line")
    except RuntimeError:
        import sys

        record.exc_info = sys.exc_info()
    line = JsonFormatter().format(record)
    assert "\n" not in line
    fields = json.loads(line)
    assert fields["message"] == "take 7 is failed" and fields["take_id"] == 7
    assert fields["error"] == "The provider refused the prompt"
    assert "RuntimeError: boom" in fields["exception"]
    text = KeyValueFormatter().format(record)
    assert "\n" not in text and 'take_id=7' in text and "take 7 is failed" in text


def test_uvicorn_access_lines_become_request_fields():
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "GET", "/projects/3/", "1.1", 200), None)
    fields = json.loads(JsonFormatter().format(record))
    assert fields["event"] == "request"
    assert (fields["method"], fields["path"], fields["status"]) == ("GET", "/projects/3/", 200)


class _Collector(BaseHTTPRequestHandler):
    """A stand-in for Sentry's ingest endpoint: keeps every envelope posted to it."""

    envelopes: list

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            body = zlib.decompress(body, 16 + zlib.MAX_WBITS)
        self.server.envelopes.append((self.path, body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def sentry_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    server.envelopes = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


@pytest.fixture
def sentry_on(sentry_server):
    import sentry_sdk

    from studio_site.errors import sentry_init

    sentry_init(f"http://public@127.0.0.1:{sentry_server.server_port}/42", release="storyboard-studio@test")
    yield sentry_server
    sentry_sdk.get_client().close()
    sentry_sdk.init(dsn=None)  # the rest of the suite reports nowhere


@pytest.mark.django_db
def test_a_server_error_reaches_sentry_without_the_request_body(sentry_on, client_for, owner, project, monkeypatch):
    import sentry_sdk

    from projects.storyboard import views

    def broken(*args, **kwargs):
        raise RuntimeError("the storyboard exploded")

    monkeypatch.setattr(views, "board_context", broken)
    client = client_for(owner)
    client.raise_request_exception = False
    response = client.get(f"/projects/{project.pk}/", {"q": "secret prompt"})
    assert response.status_code == 500
    sentry_sdk.flush(timeout=5)
    assert sentry_on.envelopes, "no error reached Sentry"
    path, body = sentry_on.envelopes[0]
    assert path == "/api/42/envelope/"
    assert b"the storyboard exploded" in body
    assert owner.email.encode() not in body and PASSWORD_BYTES not in body
    assert b"storyboard-studio@test" in body


PASSWORD_BYTES = b"correct horse battery staple"
