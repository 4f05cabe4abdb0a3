"""A strict local stand-in for remote video providers, speaking two wire formats.

OpenAI Videos format under /openai/v1, Replicate under /replicate/v1, result
files under /files (no auth, like a CDN; served on the "localhost" origin so
they are cross-origin from the APIs on 127.0.0.1), and /plumbing, which plays
a scripted list of raw responses for the retry tests. Strict on purpose: what
the real API would refuse is refused here, in that API's error shape, so
adapter bugs fail tests instead of surprising us in production.

Pick behaviour per test with `server.scenario` (see SCENARIOS).

For benchmarks, three optional knobs (all off after `reset()`):
- `job_seconds`: jobs created while it is set run for that long in real time
  (in_progress, progress = elapsed / job_seconds), then complete (or fail, in
  the "moderation" scenario), however often they are polled.
- `webhook_url` + `webhook_secret`: with `job_seconds` set, each job's
  `video.completed` / `video.failed` event is POSTed there when it finishes,
  signed as Standard Webhooks; outcomes land in `webhook_deliveries`.
- `content_path`: a file served (with sendfile, never read into memory) as the
  mp4 content of every job, e.g. a sparse 1 GB file for a download benchmark.
"""

from __future__ import annotations

import atexit
import itertools
import json
import re
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.fakes.multishot_video import multishot_mp4
from tests.fakes.openapi import check_input, cog_openapi

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures/c2pa/signed-by-test-cert.mp4"
SCENARIOS = (
    "success",        # progress rises over `polls_to_finish` polls, then the video
    "moderation",     # the job fails with a moderation code
    "throttled",      # first create: 429 + Retry-After: 2, then accepted
    "throttled-ms",   # first create: 429 + retry-after-ms: 1500, then accepted
    "quota",          # every create: out of credit
    "server-error",   # every create: 503
    "forward-then-fail",  # first create: the job is made, then the gateway answers 502 (then: success)
    "slow-create",    # create accepted, answer sent after `slow_seconds`
    "slow-poll",      # first poll answered after `slow_seconds`
    "poll-after",     # polls carry openai-poll-after-ms: 2500
    "expired",        # content / output file: 404
    "truncated",      # content: Content-Length of the whole video, half the bytes, close
    "redirect",       # OpenAI content: 302 to the CDN origin
)
OPENAI_MODELS = {
    "sora-2": {"seconds": {"4", "8", "12"}, "sizes": {"720x1280", "1280x720"}},
    "veo-3.1": {"seconds": {"4", "6", "8"}, "sizes": {"1280x720", "720x1280", "1920x1080"}},
}
# What the Videos API defines on create. A gateway may accept more (`characters[][id]`, its own
# extras): tests that mean such a gateway say so in `server.gateway_fields`.
OPENAI_FIELDS = {"prompt", "model", "seconds", "size", "input_reference"}
REPLICATE_MODELS = {  # input name -> check
    "google/veo-3.1": {
        "prompt": lambda v: isinstance(v, str) and v,
        "duration": lambda v: type(v) is int and v in (4, 6, 8),
        "aspect_ratio": lambda v: v in ("16:9", "9:16"),
        "resolution": lambda v: v in ("720p", "1080p"),
        "generate_audio": lambda v: type(v) is bool,
        "image": lambda v: isinstance(v, str) and v.startswith(("data:image/", "https://")),
        "last_frame": lambda v: isinstance(v, str) and v.startswith(("data:image/", "https://")),
        "reference_images": lambda v: isinstance(v, list) and 1 <= len(v) <= 3
        and all(isinstance(i, str) and i.startswith(("data:image/", "https://")) for i in v),
        "negative_prompt": lambda v: isinstance(v, str),
        "seed": lambda v: type(v) is int,
    },
    "wan-video/wan-2.7-t2v": {
        "prompt": lambda v: isinstance(v, str) and v,
        "duration": lambda v: type(v) is int and 2 <= v <= 15,
        "resolution": lambda v: v in ("720p", "1080p"),
        "aspect_ratio": lambda v: v in ("16:9", "9:16", "1:1", "4:3", "3:4"),
    },
}


# What Replicate publishes of each model (GET /v1/models/{owner}/{name}, and the models of GET
# /v1/collections/text-to-video): its latest version's input schema, as Cog writes it (tests/fakes/openapi.py).
# A model a test publishes that is not among REPLICATE_MODELS is run as its schema says.
URI = {"type": "string", "format": "uri"}
REPLICATE_PUBLISHED = {
    "google/veo-3.1": ("Google's Veo 3.1: video from text or a start frame, with audio", {
        "prompt": ({"type": "string", "description": "Text prompt for video generation"}, True),
        "aspect_ratio": ({"type": "string", "enum": ["16:9", "9:16"], "default": "16:9"}, False),
        "duration": ({"type": "integer", "enum": [4, 6, 8], "default": 8}, False),
        "image": ({**URI, "description": "Input image to start generating from"}, False),
        "last_frame": ({**URI, "description": "Ending image for interpolation"}, False),
        "reference_images": ({"type": "array", "items": URI, "default": [],
                              "description": "1 to 3 reference images (8 s, 16:9 only)"}, False),
        "negative_prompt": ({"type": "string"}, False),
        "resolution": ({"type": "string", "enum": ["720p", "1080p"], "default": "1080p"}, False),
        "generate_audio": ({"type": "boolean", "default": True}, False),
        "seed": ({"type": "integer"}, False)}),
    "wan-video/wan-2.7-t2v": ("Wan 2.7 text to video", {
        "prompt": ({"type": "string"}, True),
        "duration": ({"type": "integer", "minimum": 2, "maximum": 15, "default": 5}, False),
        "resolution": ({"type": "string", "enum": ["720p", "1080p"], "default": "720p"}, False),
        "aspect_ratio": ({"type": "string", "enum": ["16:9", "9:16", "1:1", "4:3", "3:4"], "default": "16:9"},
                         False)}),
}
REPLICATE_COLLECTION = ["google/veo-3.1", "wan-video/wan-2.7-t2v"]  # the text-to-video collection's models


@dataclass
class Recorded:
    method: str
    path: str
    query: dict
    headers: dict  # lower-cased names
    body: bytes
    fields: dict | None = None  # multipart: name -> str, or (filename, content_type, bytes)
    json: object = None
    at: float = field(default_factory=time.monotonic)  # when it arrived


@dataclass
class Job:
    id: str
    model: str
    scenario: str
    fields: dict = field(default_factory=dict)
    polls: int = 0
    canceled: bool = False
    created: float = field(default_factory=time.monotonic)
    duration: float | None = None  # the server's job_seconds when the job was created
    created_wall: float = field(default_factory=time.time)  # reported as created_at
    completed_wall: float | None = None  # reported as completed_at once it finished
    billing: dict = field(default_factory=dict)  # Replicate: metrics.predict_time / cost once finished

    def finished_at(self) -> float:
        """When the job finished (wall clock): its deadline, else the first poll that saw it."""
        if self.completed_wall is None:
            self.completed_wall = (self.created_wall + self.duration if self.duration is not None
                                   else time.time())
        return self.completed_wall


def _webp_thumbnail() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (320, 180), (250, 200, 20)).save(out, format="WEBP")
    return out.getvalue()


def _load_video() -> bytes:
    # A provider-signed C2PA file: exercises the provenance path too. Kept in the
    # repository; a missing file must fail loudly, not quietly test something else.
    return FIXTURE.read_bytes()


def parse_multipart(content_type: str, body: bytes) -> dict | None:
    """Strict multipart/form-data parsing; None when the body is malformed or repeats a name."""
    match = re.match(r'multipart/form-data;\s*boundary="?([^";]+)"?$', content_type)
    if not match:
        return None
    chunks = body.split(b"--" + match.group(1).encode())
    if chunks[0] != b"" or chunks[-1] not in (b"--\r\n", b"--"):
        return None
    fields: dict[str, Any] = {}
    for chunk in chunks[1:-1]:
        if not (chunk.startswith(b"\r\n") and chunk.endswith(b"\r\n")):
            return None
        head, _, content = chunk[2:-2].partition(b"\r\n\r\n")
        headers = dict(
            (k.strip().lower(), v.strip())
            for k, _, v in (line.partition(":") for line in head.decode().split("\r\n"))
        )
        params = dict(re.findall(r'(\w+)="([^"]*)"', headers.get("content-disposition", "")))
        name = params.get("name")
        if not name or name in fields:
            return None
        if "filename" in params:
            fields[name] = (params["filename"], headers.get("content-type", ""), content)
        elif name.endswith("[]") or "[][" in name:  # SDK bracket arrays repeat the field name
            fields.setdefault(name, []).append(content.decode())
        else:
            fields[name] = content.decode()
    return fields


class ProviderServer:
    def __init__(self):
        self.video = _load_video()
        self.thumbnail = _webp_thumbnail()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.fake = self
        self.lock = threading.Lock()
        self.ids = itertools.count(1)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.reset()

    def reset(self) -> None:
        self.scenario = "success"
        self.api_key = "sk-test-0123456789"
        self.openai_auth = "bearer"  # or "api-key" (Azure)
        self.polls_to_finish = 4
        self.slow_seconds = 1.5
        self.script: list = []  # /plumbing: (status, headers, body) | ("sleep", s) | "drop"
        self.requests: list[Recorded] = []
        self.accepted = Counter[str]()  # accepted creates per scenario
        self.jobs: dict[str, Job] = {}
        self.characters: dict[str, str] = {}  # id -> name, from POST /videos/characters
        self.throttled = False
        self.gateway_fields: set[str] = set()  # create fields beyond OPENAI_FIELDS this gateway accepts
        # The one of gateway_fields this gateway reads a shot list from (JSON [{start, end, prompt}]).
        self.storyboard_field = ""
        self.deleted: list[str] = []  # ids removed with DELETE /videos/{id}
        # A gateway in front of both APIs (tests/fakes/lax_gateway.py): what each create meets, and
        # when a job shows in the list. None: the API answers as itself.
        self.gateway = None
        # What Replicate publishes (a test adds, changes or withdraws models, or leaves one out of the collection).
        self.replicate_published = dict(REPLICATE_PUBLISHED)
        self.replicate_collection = list(REPLICATE_COLLECTION)
        # What the gateway's GET /models lists (OPENAI_MODELS by default) and, for a LiteLLM proxy,
        # its GET /model/info entries; None: a gateway without /model/info (404).
        self.openai_listed: list[str] = list(OPENAI_MODELS)
        self.litellm_info: list[dict] | None = None
        # The account's signing secret, as GET /v1/webhooks/default/secret returns it.
        self.replicate_webhook_secret = "whsec_" + "cmVwbGljYXRlLWFjY291bnQtc2VjcmV0"
        # Benchmark knobs (see the module docstring).
        self.job_seconds: float | None = None
        self.job_billing: dict = {}  # what Replicate reports a finished job cost (metrics.predict_time, cost)
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self.content_path: Path | None = None
        self.webhook_deliveries: list[tuple[str, str, int | str]] = []  # (job, event, outcome)
        for timer in getattr(self, "_timers", ()):
            timer.cancel()
        self._timers: list[threading.Timer] = []

    @property
    def scenario(self) -> str:
        return self._scenario

    @scenario.setter
    def scenario(self, name: str) -> None:
        if name not in SCENARIOS:  # a typo must not quietly test the happy path
            raise ValueError(f"Unknown scenario {name!r}; pick one of {SCENARIOS}.")
        self._scenario = name

    def close(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    url = property(lambda self: f"http://127.0.0.1:{self.port}")
    cdn_url = property(lambda self: f"http://localhost:{self.port}")
    openai_base = property(lambda self: f"{self.url}/openai/v1")
    replicate_base = property(lambda self: f"{self.url}/replicate/v1")

    def seen(self, method: str, pattern: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and re.fullmatch(pattern, r.path)]

    def new_job(self, model: str, fields: dict) -> Job:
        # Counted before any slow answer: the provider accepted (and billed) it.
        with self.lock:
            job = Job(id=f"job_{next(self.ids)}", model=model, scenario=self.scenario,
                      fields=fields, duration=self.job_seconds, billing=dict(self.job_billing))
            self.jobs[job.id] = job
            self.accepted[self.scenario] += 1
            if job.duration is not None and self.webhook_url:
                timer = threading.Timer(job.duration, self.deliver_webhook,
                                        (job, self.webhook_url, self.webhook_secret or ""))
                timer.daemon = True
                self._timers.append(timer)
                timer.start()
        return job

    def deliver_webhook(self, job: Job, url: str, secret: str, attempts: int = 3) -> None:
        """POST the job's signed `video.completed` / `video.failed` event, as a gateway would."""
        from generation.providers.webhooks import sign_standard_webhook

        remaining = job.created + (job.duration or 0) - time.monotonic()
        if remaining > 0:  # a timer may wake a hair early
            time.sleep(remaining)
        stage = self.stage(job)[0]
        event = "video.completed" if stage == "succeeded" else "video.failed"
        webhook_id = f"evt_{job.id}"
        body = json.dumps({"id": webhook_id, "object": "event", "type": event,
                           "created_at": int(time.time()), "data": {"id": job.id}}).encode()
        outcome: int | str = "not sent"
        for attempt in range(attempts):
            timestamp = int(time.time())
            headers = {
                "Content-Type": "application/json",
                "webhook-id": webhook_id,
                "webhook-timestamp": str(timestamp),
                "webhook-signature": sign_standard_webhook(
                    secret=secret, webhook_id=webhook_id, timestamp=timestamp, body=body),
            }
            request = urllib.request.Request(url, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    outcome = response.status
            except urllib.error.HTTPError as exc:
                outcome = exc.code
            except OSError as exc:
                outcome = f"{type(exc).__name__}: {exc}"
            if isinstance(outcome, int) and outcome < 500:
                break  # delivered, or refused for good (a retry would be refused too)
            time.sleep(0.5 * 2**attempt)
        with self.lock:
            self.webhook_deliveries.append((job.id, event, outcome))

    def refusal(self) -> tuple[int, dict] | None:
        """(status, headers) when the create is refused in this scenario, else None."""
        if self.scenario in ("throttled", "throttled-ms") and not self.throttled:
            self.throttled = True
            hint = {"throttled": ("Retry-After", "2"), "throttled-ms": ("retry-after-ms", "1500")}
            return 429, dict([hint[self.scenario]])
        if self.scenario == "quota":
            return 429, {}
        if self.scenario == "server-error":
            return 503, {}
        return None

    def stage(self, job: Job) -> tuple[str, int]:
        """("queued" | "running" | "succeeded" | "failed" | "canceled", progress) at this poll."""
        if job.canceled:
            return "canceled", 0
        if job.duration is not None:  # real time, whatever the polls
            elapsed = time.monotonic() - job.created
            if elapsed < job.duration:
                return "running", min(99, int(100 * elapsed / job.duration))
            return ("failed", 0) if job.scenario == "moderation" else ("succeeded", 100)
        if job.polls <= 1:
            return "queued", 0
        if job.scenario == "moderation":
            return "failed", 0
        if job.polls >= self.polls_to_finish:
            return "succeeded", 100
        return "running", 100 * (job.polls - 1) // self.polls_to_finish


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else each reply waits ~40 ms on delayed ACKs

    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_GET(self):
        fake: ProviderServer = self.server.fake
        url = urlsplit(self.path)
        if "transfer-encoding" in self.headers:  # every client we test sends Content-Length
            self.close_connection = True
            return self.reply(411, {"error": "Content-Length required"})
        length = int(self.headers.get("content-length") or 0)
        record = Recorded(
            method=self.command, path=url.path, query=dict(parse_qsl(url.query)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )
        with fake.lock:
            fake.requests.append(record)
        try:
            route(fake, self, record)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a read timeout test): nothing to answer

    do_POST = do_DELETE = do_PUT = do_GET

    def reply(self, status: int, payload=None, *, headers=None, body: bytes | None = None,
              content_type: str = "application/json", length: int | None = None) -> None:
        if body is None:
            body = json.dumps(payload).encode() if payload is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
        if length is not None and length != len(body):
            self.close_connection = True  # a short body: hang up, as a dying proxy would

    def send_file(self, path: Path, content_type: str, *, truncated: bool = False) -> None:
        """Stream a file of any size with sendfile(2): nothing is held in memory."""
        size = Path(path).stat().st_size
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(size))
        self.end_headers()  # unbuffered wfile: the headers are on the wire now
        with open(path, "rb") as file:
            self.connection.sendfile(file, 0, size // 2 if truncated else size)
        if truncated:
            self.close_connection = True


# ---- routing --------------------------------------------------------------

def route(fake: ProviderServer, h: _Handler, r: Recorded) -> None:
    if r.path.startswith("/openai/v1/"):
        return openai(fake, h, r, r.path.removeprefix("/openai/v1"))
    if r.path.startswith("/replicate/v1/"):
        return replicate(fake, h, r, r.path.removeprefix("/replicate/v1"))
    if r.path.startswith("/files/") and r.method == "GET":
        return serve_file(fake, h, r)
    if r.path == "/plumbing":
        return plumbing(fake, h)
    h.reply(404, {"error": "no such route"})


def serve_video(fake: ProviderServer, h: _Handler, job: Job, body: bytes, content_type: str):
    if fake.content_path is not None and content_type == "video/mp4":
        return h.send_file(fake.content_path, content_type, truncated=job.scenario == "truncated")
    if job.scenario == "truncated":
        return h.reply(200, body=body[: len(body) // 2], content_type=content_type,
                       length=len(body))
    h.reply(200, body=body, content_type=content_type)


def serve_file(fake: ProviderServer, h: _Handler, r: Recorded) -> None:
    # Like a CDN: no auth, and gone once the job's files expire.
    job = fake.jobs.get(r.path.split("/")[2])
    if job is None or job.scenario == "expired":
        return h.reply(404, body=b"Not found", content_type="text/plain")
    serve_video(fake, h, job, fake.video, "video/mp4")


def plumbing(fake: ProviderServer, h: _Handler) -> None:
    with fake.lock:
        step = fake.script.pop(0) if fake.script else (200, {}, {"ok": True})
    if step == "drop":
        h.close_connection = True  # hang up without a word
        return
    if step[0] == "sleep":
        time.sleep(step[1])
        step = (200, {}, {"late": True})
    status, headers, body = step
    headers = dict(headers)
    content_type = headers.pop("Content-Type", "application/json")
    length = headers.pop("Content-Length", None)
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    h.reply(status, body=raw, headers=headers, content_type=content_type,
            length=None if length is None else int(length))


# ---- OpenAI Videos format -----------------------------------------------------

def openai_error(h, status, message, *, code=None, param=None, kind="invalid_request_error",
                 headers=None):
    h.reply(status, {"error": {"message": message, "type": kind, "param": param, "code": code}},
            headers=headers)


def openai(fake: ProviderServer, h: _Handler, r: Recorded, path: str) -> None:
    header, value = (
        ("authorization", f"Bearer {fake.api_key}") if fake.openai_auth == "bearer"
        else ("api-key", fake.api_key)
    )
    if r.headers.get(header) != value:
        return openai_error(h, 401, "Incorrect API key provided.", code="invalid_api_key")
    parts = path.strip("/").split("/")
    if parts == ["videos"] and r.method == "POST":
        return openai_create(fake, h, r)
    if parts == ["videos", "characters"] and r.method == "POST":
        return openai_character_create(fake, h, r)
    if parts == ["videos", "extensions"] and r.method == "POST":
        return openai_extend(fake, h, r)
    if parts == ["videos"] and r.method == "GET":
        return openai_list(fake, h, r)
    if parts == ["models"] and r.method == "GET":
        # The OpenAI list format: names only.
        return h.reply(200, {"object": "list", "data": [{"id": name, "object": "model", "created": 1764547200,
                                                         "owned_by": "harbour-gateway"} for name in fake.openai_listed]})
    if parts == ["model", "info"] and r.method == "GET" and fake.litellm_info is not None:
        # LiteLLM's documented /model/info: each deployment's model_name, litellm_params (no key) and model_info.
        return h.reply(200, {"data": fake.litellm_info})
    if parts[0] == "videos" and len(parts) in (2, 3):
        job = fake.jobs.get(parts[1])
        if job is None:
            return openai_error(h, 404, f"Video '{parts[1]}' not found.", code="not_found")
        if len(parts) == 2 and r.method == "GET":
            return openai_poll(fake, h, job)
        if len(parts) == 2 and r.method == "DELETE":
            return openai_delete(fake, h, job)
        if parts[2] == "content" and r.method == "GET":
            return openai_content(fake, h, r, job)
        if parts[2] == "remix" and r.method == "POST":
            return openai_remix(fake, h, r, job)
    openai_error(h, 404, f"Unknown route {r.method} {path}.")


def openai_list(fake: ProviderServer, h: _Handler, r: Recorded) -> None:
    """GET /videos?after=&limit=&order=: a cursor page of the account's videos (default newest first)."""
    unknown = sorted(set(r.query) - {"after", "limit", "order"})
    if unknown:
        return openai_error(h, 400, f"Unrecognized request argument supplied: {unknown[0]}",
                            code="unknown_parameter", param=unknown[0])
    limit = r.query.get("limit", "20")
    if not limit.isdigit() or not 1 <= int(limit) <= 100:
        return openai_error(h, 400, "limit must be between 1 and 100.", code="invalid_value", param="limit")
    order = r.query.get("order", "desc")
    if order not in ("asc", "desc"):
        return openai_error(h, 400, f"Invalid value: '{order}' for order.", code="invalid_value", param="order")
    with fake.lock:
        jobs = sorted(fake.jobs.values(), key=lambda j: j.created, reverse=order == "desc")
    cursor = (lambda job_id: job_id) if fake.gateway is None else fake.gateway.cursor
    if fake.gateway is not None:
        jobs = fake.gateway.listed(jobs)
    if "after" in r.query:
        ids = [cursor(j.id) for j in jobs]
        if r.query["after"] not in ids:
            return openai_error(h, 404, f"Video '{r.query['after']}' not found.", code="not_found")
        jobs = jobs[ids.index(r.query["after"]) + 1:]
    page = jobs[:int(limit)]
    data = [video_object(j, *fake.stage(j)) for j in page]
    body = {"object": "list", "data": data, "first_id": page[0].id if page else None,
            "last_id": cursor(page[-1].id) if page else None, "has_more": len(jobs) > len(page)}
    if fake.gateway is not None and fake.gateway.omits_has_more:
        del body["has_more"]
    h.reply(200, body)


def openai_character_create(fake: ProviderServer, h: _Handler, r: Recorded) -> None:
    fields = parse_multipart(r.headers.get("content-type", ""), r.body)
    if fields is None:
        return openai_error(h, 400, "Expected a multipart/form-data body.")
    r.fields = fields
    video = fields.get("video")
    if not isinstance(fields.get("name"), str) or not fields["name"]:
        return openai_error(h, 400, "Missing required parameter: 'name'.", param="name")
    if not isinstance(video, tuple) or video[1] != "video/mp4" or b"ftyp" not in video[2][:64]:
        return openai_error(h, 400, "video must be an MP4 file.", code="invalid_value", param="video")
    with fake.lock:
        character_id = f"char_{next(fake.ids)}"
        fake.characters[character_id] = fields["name"]
    h.reply(200, {"id": character_id, "object": "character", "name": fields["name"],
                  "created_at": int(time.time())})


def openai_create(fake: ProviderServer, h: _Handler, r: Recorded) -> None:
    fields = parse_multipart(r.headers.get("content-type", ""), r.body)
    if fields is None:
        return openai_error(h, 400, "Expected a multipart/form-data body.")
    r.fields = fields
    unknown = sorted(set(fields) - OPENAI_FIELDS - fake.gateway_fields)
    if unknown:
        return openai_error(h, 400, f"Unrecognized request argument supplied: {unknown[0]}",
                            code="unknown_parameter", param=unknown[0])
    if fake.storyboard_field in fields and not storyboard_ok(fields[fake.storyboard_field], fields.get("seconds")):
        return openai_error(h, 400, f"{fake.storyboard_field}: a JSON list of {{start, end, prompt}} shots covering "
                            "the video's seconds in order.", code="invalid_value", param=fake.storyboard_field)
    for name in ("prompt", "model", "seconds", "size"):
        if not isinstance(fields.get(name), str) or not fields[name]:
            return openai_error(h, 400, f"Missing required parameter: '{name}'.",
                                code="missing_required_parameter", param=name)
    spec = OPENAI_MODELS.get(fields["model"])
    if spec is None:
        return openai_error(
            h, 404, f"The model `{fields['model']}` does not exist or you do not have access "
            "to it.", code="model_not_found", param="model")
    if not fields["seconds"].isdigit() or fields["seconds"] not in spec["seconds"]:
        allowed = ", ".join(f"'{s}'" for s in sorted(spec["seconds"], key=int))
        return openai_error(h, 400, f"Invalid value: '{fields['seconds']}'. Supported values "
                            f"are: {allowed}.", code="invalid_value", param="seconds")
    if not re.fullmatch(r"\d+x\d+", fields["size"]) or fields["size"] not in spec["sizes"]:
        return openai_error(h, 400, f"Invalid value: '{fields['size']}' for size.",
                            code="invalid_value", param="size")
    characters = fields.get("characters[][id]", [])
    if len(characters) > 2 or any(c not in fake.characters for c in characters):
        return openai_error(h, 400, "characters: at most 2, each an id from POST /videos/characters.",
                            code="invalid_value", param="characters")
    missing = [fake.characters[c] for c in characters if fake.characters[c].lower() not in fields["prompt"].lower()]
    if missing:
        return openai_error(h, 400, f"The prompt must name the character {missing[0]}.",
                            code="invalid_value", param="prompt")
    reference = fields.get("input_reference")
    images = ("image/jpeg", "image/png", "image/webp")
    if reference is not None and (not isinstance(reference, tuple) or reference[1] not in images):
        return openai_error(h, 400, "input_reference must be a JPEG, PNG or WebP file.",
                            code="invalid_value", param="input_reference")
    if fake.gateway is not None:
        return fake.gateway.create(h, make=lambda: fake.new_job(fields["model"], fields),
                                   answer=lambda job: h.reply(200, video_object(job, "queued", 0)),
                                   error=lambda status, message: openai_error(
                                       h, status, message, kind="server_error" if status >= 500 else
                                       "invalid_request_error"))
    refusal = fake.refusal()
    if refusal and refusal[0] == 503:
        return openai_error(h, 503, "The server is overloaded.", kind="server_error")
    if refusal and fake.scenario == "quota":
        return openai_error(h, 429, "You exceeded your current quota, please check your plan "
                            "and billing details.", code="insufficient_quota",
                            kind="insufficient_quota")
    if refusal:
        return openai_error(h, 429, "Rate limit reached for requests.", kind="requests",
                            code="rate_limit_exceeded", headers=refusal[1])
    job = fake.new_job(fields["model"], fields)
    if fake.scenario == "slow-create":
        time.sleep(fake.slow_seconds)
    if fake.scenario == "forward-then-fail" and not fake.throttled:
        fake.throttled = True  # the backend made the job; the gateway lost its answer
        return openai_error(h, 502, "Bad gateway: the upstream connection was reset.", kind="server_error")
    h.reply(200, video_object(job, "queued", 0))


def storyboard_ok(value, seconds) -> bool:
    try:
        shots = json.loads(value) if isinstance(value, str) else None
    except ValueError:
        return False
    if not isinstance(shots, list) or not shots or not str(seconds).isdigit():
        return False
    at = 0
    for shot in shots:
        if not (isinstance(shot, dict) and set(shot) == {"start", "end", "prompt"} and shot["start"] == at
                and type(shot["end"]) is int and shot["end"] > at and isinstance(shot["prompt"], str) and shot["prompt"]):
            return False
        at = shot["end"]
    return at == int(seconds)


# POST /videos/extensions (openai-python's VideoExtendParams): multipart `prompt`, `seconds` (the new part:
# "4", "8", "12", "16" or "20") and `video`, a completed video's reference `{"id": …}` (flattened `video[id]`)
# or an uploaded file. The answer is a Video whose `seconds` is the stitched total.
EXTEND_FIELDS = {"prompt", "seconds", "video[id]", "video"}
EXTEND_SECONDS = {"4", "8", "12", "16", "20"}


def openai_extend(fake: ProviderServer, h: _Handler, r: Recorded) -> None:
    fields = parse_multipart(r.headers.get("content-type", ""), r.body)
    if fields is None:
        return openai_error(h, 400, "Expected a multipart/form-data body.")
    r.fields = fields
    unknown = sorted(set(fields) - EXTEND_FIELDS)
    if unknown:
        return openai_error(h, 400, f"Unrecognized request argument supplied: {unknown[0]}",
                            code="unknown_parameter", param=unknown[0])
    for name in ("prompt", "seconds"):
        if not isinstance(fields.get(name), str) or not fields[name]:
            return openai_error(h, 400, f"Missing required parameter: '{name}'.", param=name)
    if fields["seconds"] not in EXTEND_SECONDS:
        return openai_error(h, 400, f"Invalid value: '{fields['seconds']}'. Supported values are: "
                            f"{', '.join(sorted(EXTEND_SECONDS, key=int))}.", code="invalid_value", param="seconds")
    if ("video[id]" in fields) == ("video" in fields):
        return openai_error(h, 400, "Give the video to extend once: a reference (video[id]) or a file (video).",
                            param="video")
    source = fake.jobs.get(fields.get("video[id]", ""))
    if "video[id]" in fields and source is None:
        return openai_error(h, 404, f"Video '{fields['video[id]']}' not found.", code="not_found")
    if source is not None and fake.stage(source)[0] != "succeeded":
        return openai_error(h, 400, "Only completed videos can be extended.", code="invalid_state", param="video")
    refusal = fake.refusal()
    if refusal:
        return openai_error(h, refusal[0], "The server is overloaded." if refusal[0] == 503 else
                            "Rate limit reached for requests.", headers=refusal[1])
    base = source.fields if source is not None else {"model": "sora-2", "size": "1280x720", "seconds": "0"}
    total = str(int(base.get("seconds") or 0) + int(fields["seconds"]))
    base = {k: v for k, v in base.items() if k != "remix_of"}
    job = fake.new_job(base.get("model", "sora-2"), {**base, "prompt": fields["prompt"], "seconds": total,
                                                     "extends": fields.get("video[id]", "")})
    h.reply(200, video_object(job, "queued", 0))


def video_object(job: Job, stage: str, progress: int) -> dict:
    status = {"queued": "queued", "running": "in_progress", "succeeded": "completed",
              "failed": "failed", "canceled": "failed"}[stage]
    video = {
        "id": job.id, "object": "video", "model": job.model, "status": status,
        # Unix seconds, as the real API sends them (whole seconds).
        "progress": progress, "created_at": int(job.created_wall),
        "completed_at": int(job.finished_at()) if stage == "succeeded" else None,
        "expires_at": None, "prompt": job.fields.get("prompt"), "size": job.fields.get("size"),
        "seconds": job.fields.get("seconds"), "remixed_from_video_id": job.fields.get("remix_of"),
        "error": None, "usage": {"gateway": "fake"},  # an extra key real gateways add
    }
    if stage == "queued":
        del video["progress"]  # some gateways omit it until work starts
    if stage == "failed":
        video["error"] = {"code": "moderation_blocked",
                          "message": "Your request was blocked by our moderation system."}
    return video


def openai_poll(fake: ProviderServer, h: _Handler, job: Job) -> None:
    job.polls += 1
    if job.scenario == "slow-poll" and job.polls == 1:
        time.sleep(fake.slow_seconds)
    headers = {"openai-poll-after-ms": "2500"} if job.scenario == "poll-after" else None
    h.reply(200, video_object(job, *fake.stage(job)), headers=headers)


def openai_delete(fake: ProviderServer, h: _Handler, job: Job) -> None:
    """DELETE /videos/{id}: only a finished video can be deleted; then it is gone (404 after)."""
    if fake.stage(job)[0] not in ("succeeded", "failed"):
        return openai_error(h, 400, "Only completed or failed videos can be deleted.", code="invalid_state")
    with fake.lock:
        fake.jobs.pop(job.id, None)
        fake.deleted.append(job.id)
    h.reply(200, {"id": job.id, "object": "video.deleted", "deleted": True})


def storyboard_video(fake: ProviderServer, job: Job) -> bytes | None:
    """A gateway's own storyboard field (`fake.storyboard_field`, when it accepts one): a video with a cut per
    shot of the JSON shot list [{start, end, prompt}] it was sent, at the size asked for."""
    field = fake.storyboard_field
    if not field or field not in job.fields:
        return None
    shots = json.loads(job.fields[field])
    return multishot_mp4(tuple(float(s["end"] - s["start"]) for s in shots), size=job.fields["size"])


def openai_content(fake: ProviderServer, h: _Handler, r: Recorded, job: Job) -> None:
    variants = {
        "video": (storyboard_video(fake, job) or fake.video, "video/mp4"),
        "thumbnail": (fake.thumbnail, "image/webp"),
        "spritesheet": (b"\xff\xd8\xff\xe0 not really a jpeg", "image/jpeg"),
    }
    variant = r.query.get("variant", "video")
    if variant not in variants:
        return openai_error(h, 400, f"Invalid variant '{variant}'.", param="variant")
    if fake.stage(job)[0] != "succeeded":
        return openai_error(h, 400, "The video is not ready yet.", code="video_not_ready")
    if job.scenario == "expired":
        return openai_error(h, 404, "The video content has expired.", code="video_expired")
    if job.scenario == "redirect":
        location = f"{fake.cdn_url}/files/{job.id}/video.mp4"
        return h.reply(302, body=b"", headers={"Location": location})
    serve_video(fake, h, job, *variants[variant])


def openai_remix(fake: ProviderServer, h: _Handler, r: Recorded, job: Job) -> None:
    try:
        r.json = json.loads(r.body)
    except ValueError:
        return openai_error(h, 400, "Expected a JSON body.")
    if not isinstance(r.json, dict) or set(r.json) != {"prompt"} or not r.json["prompt"]:
        return openai_error(h, 400, "Remix takes exactly one parameter: 'prompt'.")
    if fake.stage(job)[0] != "succeeded":
        return openai_error(h, 400, "Only completed videos can be remixed.")
    remix = fake.new_job(job.model, {**job.fields, "prompt": r.json["prompt"], "remix_of": job.id})
    h.reply(200, video_object(remix, "queued", 0))


# ---- Replicate ----------------------------------------------------------------

def problem(h, status, title, detail, *, headers=None, **extra):
    """RFC 7807, as Replicate answers errors."""
    h.reply(status, {"title": title, "detail": detail, "status": status, **extra},
            headers=headers, content_type="application/problem+json")


def replicate(fake: ProviderServer, h: _Handler, r: Recorded, path: str) -> None:
    if r.headers.get("authorization") != f"Bearer {fake.api_key}":
        return problem(h, 401, "Unauthenticated", "You did not pass a valid authentication token")
    if match := re.fullmatch(r"/models/([^/]+)/([^/]+)/predictions", path):
        if r.method == "POST":
            return replicate_create(fake, h, r, f"{match[1]}/{match[2]}")
    if match := re.fullmatch(r"/predictions/([^/]+)(/cancel)?", path):
        job = fake.jobs.get(match[1])
        if job is None:
            return problem(h, 404, "Not found", "The requested resource could not be found.")
        if not match[2] and r.method == "GET":
            job.polls += 1
            if job.scenario == "slow-poll" and job.polls == 1:
                time.sleep(fake.slow_seconds)
            return h.reply(200, prediction(fake, job))
        if match[2] and r.method == "POST":
            job.canceled = True
            return h.reply(200, prediction(fake, job))
    if path == "/predictions" and r.method == "GET":
        return replicate_list(fake, h, r)
    if path == "/webhooks/default/secret" and r.method == "GET":
        return h.reply(200, {"key": fake.replicate_webhook_secret})
    if path == "/account" and r.method == "GET":
        return h.reply(200, {"type": "organization", "username": "harbour-films",
                             "name": "Harbour Films", "github_url": None})
    if path == "/collections/text-to-video" and r.method == "GET":
        return h.reply(200, {"name": "Generate videos", "slug": "text-to-video",
                             "description": "Models that create and edit videos.",
                             "models": [replicate_model(fake, m) for m in fake.replicate_collection
                                        if m in fake.replicate_published]})
    if (match := re.fullmatch(r"/models/([^/]+)/([^/]+)", path)) and r.method == "GET":
        model_id = f"{match[1]}/{match[2]}"
        if model_id in fake.replicate_published:
            return h.reply(200, replicate_model(fake, model_id))
    problem(h, 404, "Not found", "The requested resource could not be found.")


def replicate_model(fake: ProviderServer, model_id: str) -> dict:
    """A model object as the API returns it (Replicate's SDK types: ModelGetResponse)."""
    owner, name = model_id.split("/")
    description, properties = fake.replicate_published[model_id]
    return {"url": f"https://replicate.com/{model_id}", "owner": owner, "name": name, "description": description,
            "visibility": "public", "github_url": None, "paper_url": None, "license_url": None, "run_count": 120345,
            "cover_image_url": f"https://tjzk.replicate.delivery/models_models_cover_image/{name}.webp",
            "default_example": None, "is_official": True,
            "latest_version": {"id": "5" * 64, "created_at": "2026-11-20T10:00:00.000000Z", "cog_version": "0.16.8",
                               "openapi_schema": cog_openapi(properties)}}


REPLICATE_PAGE = 100


def replicate_list(fake: ProviderServer, h: _Handler, r: Recorded) -> None:
    """GET /predictions: the account's predictions newest first; `next` is the next page's URL."""
    unknown = set(r.query) - {"cursor", "source"}
    if unknown:
        return problem(h, 400, "Bad request", f"Unknown query parameter {sorted(unknown)[0]}.")
    cursor = r.query.get("cursor", "0")
    if not cursor.isdigit():
        return problem(h, 400, "Bad request", "Invalid cursor.")
    with fake.lock:
        jobs = sorted(fake.jobs.values(), key=lambda j: j.created, reverse=True)
    if fake.gateway is not None:
        jobs = fake.gateway.listed(jobs)
    start = int(cursor)
    page = jobs[start:start + REPLICATE_PAGE]
    more = start + REPLICATE_PAGE < len(jobs)
    h.reply(200, {"previous": None, "results": [prediction(fake, j) for j in page],
                  "next": f"{fake.replicate_base}/predictions?cursor={start + REPLICATE_PAGE}" if more else None})


def veo_31_restrictions(inputs: dict) -> list[str]:
    """google/veo-3.1's documented restrictions: an end frame after a start frame; likeness references
    alone (not with image or last_frame), in 8-second 16:9 videos only."""
    problems = []
    if "last_frame" in inputs and "image" not in inputs:
        problems.append("- input.last_frame: last_frame requires image")
    if "reference_images" in inputs:
        if "image" in inputs or "last_frame" in inputs:
            problems.append("- input.reference_images: cannot be combined with image or last_frame")
        if inputs.get("duration", 8) != 8 or inputs.get("aspect_ratio", "16:9") != "16:9":
            problems.append("- input.reference_images: only supported for 8 second 16:9 videos")
    return problems


def replicate_create(fake: ProviderServer, h: _Handler, r: Recorded, model: str) -> None:
    if not r.headers.get("content-type", "").startswith("application/json"):
        return problem(h, 415, "Unsupported media type", "Send a JSON body.")
    try:
        r.json = body = json.loads(r.body)
    except ValueError:
        return problem(h, 400, "Invalid JSON", "The request body is not valid JSON.")
    schema: dict[str, Any] | None = REPLICATE_MODELS.get(model)
    if schema is None and model in fake.replicate_published:  # a model a test published: its schema's rules
        published = fake.replicate_published[model][1]
        schema = {name: (lambda v, n=name: not check_input({n: v}, {n: published[n]})) for name in published}
    if schema is None:
        return problem(h, 404, "Not found", "The requested resource could not be found.")
    if not isinstance(body, dict) or not isinstance(body.get("input"), dict):
        return problem(h, 422, "Input validation failed", "- input: input is required")
    inputs = body["input"]
    problems = [f"- {k}: unexpected field" for k in
                set(body) - {"input", "webhook", "webhook_events_filter"}]
    problems += [f"- input.{k}: unexpected input" for k in set(inputs) - set(schema)]
    problems += [f"- input.{k}: invalid value {v!r}" for k, v in inputs.items()
                 if k in schema and not schema[k](v)]
    if "prompt" not in inputs:
        problems.append("- input.prompt: prompt is required")
    if model not in REPLICATE_MODELS:
        problems += [f"- input.{name}: {name} is required" for name, (_spec, needed)
                     in fake.replicate_published[model][1].items() if needed and name not in inputs and name != "prompt"]
    problems += veo_31_restrictions(inputs) if model == "google/veo-3.1" else []
    if not set(body.get("webhook_events_filter", [])) <= {"start", "output", "logs", "completed"}:
        problems.append("- webhook_events_filter: invalid event")
    if "webhook" in body and not str(body["webhook"]).startswith(("https://", "http://")):
        problems.append("- webhook: must be a URL")
    if problems:
        return problem(h, 422, "Input validation failed", "\n".join(sorted(problems)))
    if fake.gateway is not None:
        return fake.gateway.create(h, make=lambda: fake.new_job(model, inputs),
                                   answer=lambda job: h.reply(201, prediction(fake, job)),
                                   error=lambda status, message: problem(h, status, "Error", message))
    refusal = fake.refusal()
    if refusal and refusal[0] == 503:
        return problem(h, 503, "Service unavailable", "Replicate is temporarily unavailable.")
    if refusal and fake.scenario == "quota":
        return problem(h, 402, "Insufficient credit", "You have insufficient credit to run this "
                       "model. Go to https://replicate.com/account/billing to purchase credit.")
    if refusal:
        return problem(h, 429, "Request was throttled",
                       "Request was throttled. Your rate limit resets in ~2s.", headers=refusal[1])
    job = fake.new_job(model, inputs)
    if fake.scenario == "slow-create":
        time.sleep(fake.slow_seconds)
    h.reply(201, prediction(fake, job))


def prediction(fake: ProviderServer, job: Job) -> dict:
    stage, progress = fake.stage(job)
    status = {"queued": "starting", "running": "processing", "succeeded": "succeeded",
              "failed": "failed", "canceled": "canceled"}[stage]
    url = f"{fake.cdn_url}/files/{job.id}/output.mp4"
    return {
        "id": job.id, "model": job.model, "version": "hidden", "input": job.fields,
        "logs": f"Generating\n{progress:3d}%|{'#' * (progress // 10)}|"
        if stage == "running" else "",
        # Veo returns one URL; other models a list: the adapter must take both.
        "output": (url if job.model.startswith("google/") else [url])
        if stage == "succeeded" else None,
        "error": "The input or output was flagged as sensitive. Please try again with "
                 "different inputs. (E005)" if stage == "failed" else None,
        "status": status, "data_removed": False, "created_at": _iso(job.created_wall),
        "completed_at": _iso(job.finished_at()) if stage in ("succeeded", "failed", "canceled")
        else None,
        **({"metrics": {"predict_time": job.billing["predict_time"]}} if "predict_time" in job.billing
           and stage in ("succeeded", "failed") else {}),
        **({"cost": job.billing["cost"]} if "cost" in job.billing and stage in ("succeeded", "failed") else {}),
        "urls": {"get": f"{fake.replicate_base}/predictions/{job.id}",
                 "cancel": f"{fake.replicate_base}/predictions/{job.id}/cancel"},
    }


def _iso(wall: float) -> str:
    # Replicate's format: UTC, microseconds, "Z".
    return datetime.fromtimestamp(wall, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_server: ProviderServer | None = None


def shared_server() -> ProviderServer:
    global _server
    if _server is None:
        _server = ProviderServer()
        atexit.register(_server.close)
    return _server


@pytest.fixture
def provider_server() -> ProviderServer:
    """One server per test run, reset for each test: fast, and no state leaks."""
    server = shared_server()
    with server.lock:
        server.reset()
    return server
