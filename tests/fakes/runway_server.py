"""A strict local stand-in for Runway's developer API (version 2024-11-06).

`/v1/...` speaks Runway's wire format: Bearer auth and the `X-Runway-Version`
header on every call, JSON bodies with exactly the fields Runway defines, errors
as `{"error": "..."}` (validation errors add zod-style `issues`). Task outputs
are served under /cdn on the "localhost" origin, unauthenticated like a signed
CDN URL, so they are cross-origin from the API on 127.0.0.1.

Tasks carry what the SDK's types (runwayml 5.x, `TaskRetrieveResponse`) mark required: a
waiting or running task its `estimatedCost: {credits}`, an ended one (SUCCEEDED, FAILED,
CANCELLED) its `cost: {credits}`, the credits charged (a whole number; 0 when refunded). Runway
charges a moderated generation and a canceled task like a finished one. `promptText` is at most
1000 UTF-16 code units (gen4.5, gen4_turbo, veo3.1) or 3500 (seedance2), as the SDK says.

Pick behaviour per test with `server.scenario` (see SCENARIOS).

For benchmarks, one optional knob (off after `reset()`): `job_seconds`. Tasks created while
it is set are RUNNING (progress = elapsed / job_seconds) until that much real time has passed
since the create, however often they are polled, then end as the scenario says.
"""

from __future__ import annotations

import atexit
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer

import pytest

from tests.fakes.multishot_video import multishot_mp4
from tests.fakes.provider_server import _load_video
from tests.fakes.wire import Recorded, RecordingHandler

API_VERSION = "2024-11-06"
SCENARIOS = (
    "success",       # PENDING, THROTTLED, RUNNING (progress), then SUCCEEDED
    "moderation",    # the task fails with failureCode SAFETY.INPUT.TEXT
    "throttled",     # first create: 429, then accepted
    "server-error",  # every create: 502
    "no-credits",    # every create: 400 "not enough credits"
    "expired",       # the output URL answers 403 (a signed URL past its expiry)
)
TEXT_MODELS = {  # text_to_video: model -> (ratios, durations)
    "gen4.5": ({"1280:720", "720:1280"}, set(range(2, 11))),
    "veo3.1": ({"1280:720", "720:1280", "1920:1080", "1080:1920"}, {4, 6, 8}),
    "seedance2": ({"1280:720", "720:1280"}, set(range(4, 16))),
}
IMAGE_MODELS = {**TEXT_MODELS, "gen4_turbo": (
    {"1280:720", "720:1280", "1104:832", "832:1104", "960:960", "1584:672"}, set(range(2, 11)))}
CREDITS_PER_SECOND = {"gen4.5": 12, "gen4_turbo": 5, "veo3.1": 40, "seedance2": 20}
PROMPT_LIMITS = {"gen4.5": 1000, "gen4_turbo": 1000, "veo3.1": 1000, "seedance2": 3500}
# Models whose promptImage may be [{uri, position: "first"}, {uri, position: "last"}] (runwayml's
# ImageToVideoCreateParams); the others take "first" only. A last frame always follows a first one.
LAST_FRAME_MODELS = {"veo3.1", "seedance2"}
FIELDS = {
    "/v1/text_to_video": ({"model", "promptText", "ratio", "duration"}, {"seed"}),
    "/v1/image_to_video": ({"model", "promptImage", "ratio", "duration"}, {"promptText", "seed"}),
}


@dataclass
class Task:
    id: str
    model: str
    scenario: str
    body: dict
    polls: int = 0
    canceled: bool = False
    created: float = field(default_factory=time.monotonic)
    duration: float | None = None  # the server's job_seconds when it was created

    @property
    def done_at(self) -> float | None:
        """When a timed task finishes (monotonic); None when polls decide."""
        return None if self.duration is None else self.created + self.duration


@dataclass
class RunwayServer:
    httpd: ThreadingHTTPServer = field(init=False)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self):
        self.video = _load_video()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.fake = self
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.reset()

    def reset(self) -> None:
        self._scenario = "success"
        self.api_key = "key_runway_0123456789abcdef"
        self.requests: list[Recorded] = []
        self.tasks: dict[str, Task] = {}
        self.accepted = 0
        self.throttled = False
        self.job_seconds: float | None = None  # benchmark knob (see the module docstring)
        self.charge_credits: int | None = None  # what ended tasks report as charged; None: rate × duration
        self.shot_offsets: tuple[int, ...] = ()  # how many frames off each cut of a multi-shot video falls

    @property
    def scenario(self) -> str:
        return self._scenario

    @scenario.setter
    def scenario(self, name: str) -> None:
        if name not in SCENARIOS:  # a typo must not quietly test the happy path
            raise ValueError(f"Unknown scenario {name!r}; pick one of {SCENARIOS}.")
        self._scenario = name

    url = property(lambda self: f"http://127.0.0.1:{self.httpd.server_address[1]}")
    cdn_url = property(lambda self: f"http://localhost:{self.httpd.server_address[1]}")

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def seen(self, method: str, pattern: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and re.fullmatch(pattern, r.path)]

    def credits(self, task: Task) -> int:
        if task.model == RECIPE_MODEL:
            tier = "pro" if task.body.get("ratio", "1280:720") in ("1920:1080", "1080:1920", "1440:1440") \
                else "standard"
            return task.body.get("duration", 10) * RECIPE_CREDITS[tier]
        return task.body["duration"] * CREDITS_PER_SECOND[task.model]

    def task_json(self, task: Task) -> dict:
        """The task at this poll: PENDING, THROTTLED, RUNNING at 40 %, then the outcome."""
        task.polls += 1
        base = {"id": task.id, "createdAt": "2026-11-26T10:00:00.000Z"}
        waiting = {**base, "estimatedCost": {"credits": float(self.credits(task))}}
        ended = {**base, "cost": {"credits": self.credits(task) if self.charge_credits is None
                                  else self.charge_credits}}
        if task.canceled:  # not refunded
            return {**ended, "status": "CANCELLED"}
        if task.duration is not None:  # timed: real time decides, not the number of polls
            elapsed = time.monotonic() - task.created
            if elapsed < task.duration:
                return {**waiting, "status": "RUNNING", "progress": round(elapsed / task.duration, 2)}
        elif task.polls == 1:
            return {**waiting, "status": "PENDING"}
        elif task.polls == 2:
            return {**waiting, "status": "THROTTLED"}
        elif task.polls == 3:
            return {**waiting, "status": "RUNNING", "progress": 0.4}
        if task.scenario == "moderation":  # charged like a finished generation
            return {**ended, "status": "FAILED", "failure": "Your prompt was flagged by our content moderation.",
                    "failureCode": "SAFETY.INPUT.TEXT"}
        return {**ended, "status": "SUCCEEDED",
                "output": [f"{self.cdn_url}/cdn/{task.id}/output.mp4?_jwt=signed-url-token"]}


class _Handler(RecordingHandler):
    def handle_request(self, fake, record: Recorded) -> None:
        route(fake, self, record)


def error(h: _Handler, status: int, message: str, **extra) -> None:
    h.reply(status, {"error": message, **extra})


def route(fake: RunwayServer, h: _Handler, r: Recorded) -> None:
    if r.path.startswith("/cdn/") and r.method == "GET":
        return serve_output(fake, h, r)
    if not r.path.startswith("/v1/"):
        return error(h, 404, "Not found")
    if r.headers.get("authorization") != f"Bearer {fake.api_key}":
        return error(h, 401, "Invalid API key or API key not provided.")
    if r.headers.get("x-runway-version") != API_VERSION:
        return error(h, 400, f"Invalid or missing X-Runway-Version header. Expected {API_VERSION}.")
    if r.path in FIELDS and r.method == "POST":
        return create(fake, h, r)
    if r.path == "/v1/recipes/multi_shot_video" and r.method == "POST":
        return create_multi_shot(fake, h, r)
    if match := re.fullmatch(r"/v1/tasks/([0-9a-f-]{36})", r.path):
        task = fake.tasks.get(match[1])
        if task is None:
            return error(h, 404, "Task not found.")
        if r.method == "GET":
            return h.reply(200, fake.task_json(task))
        if r.method == "DELETE":
            task.canceled = True
            return h.reply(204)
    if r.path == "/v1/organization" and r.method == "GET":
        return h.reply(200, {"creditBalance": 1200, "tier": {"maxMonthlyCreditSpend": 10000, "models": {}},
                             "usage": {"models": {}}})
    error(h, 404, "Not found")


def create(fake: RunwayServer, h: _Handler, r: Recorded) -> None:
    if not r.headers.get("content-type", "").startswith("application/json"):
        return error(h, 400, "Expected a JSON body.")
    try:
        r.json = body = json.loads(r.body)
    except ValueError:
        return error(h, 400, "Invalid JSON body.")
    if not isinstance(body, dict):
        return error(h, 400, "Validation of body failed", issues=[{"path": [], "message": "Expected object"}])
    required, optional = FIELDS[r.path]
    models = TEXT_MODELS if r.path == "/v1/text_to_video" else IMAGE_MODELS
    issues = [{"code": "unrecognized_keys", "path": [k], "message": f"Unrecognized key: '{k}'"}
              for k in sorted(set(body) - required - optional)]
    issues += [{"code": "invalid_type", "path": [k], "message": "Required"} for k in sorted(required - set(body))]
    model = body.get("model")
    if "model" in body and model not in models:
        issues.append({"code": "invalid_enum_value", "path": ["model"],
                       "message": f"Invalid enum value. Expected {' | '.join(map(repr, models))}, received '{model}'"})
    elif model in models:
        ratios, durations = models[model]
        if body.get("ratio") not in ratios:
            issues.append({"code": "invalid_enum_value", "path": ["ratio"], "message": "Invalid ratio"})
        if type(body.get("duration")) is not int or body["duration"] not in durations:
            issues.append({"code": "invalid_type", "path": ["duration"], "message": "Invalid duration"})
    limit = PROMPT_LIMITS.get(str(model), 1000)
    if "promptText" in body and not isinstance(body["promptText"], str):
        issues.append({"code": "invalid_type", "path": ["promptText"], "message": "Expected string"})
    elif "promptText" in body and not body["promptText"]:
        issues.append({"code": "too_small", "path": ["promptText"],
                       "message": "Too small: expected string to have >=1 characters"})
    elif "promptText" in body and len(body["promptText"].encode("utf-16-le")) // 2 > limit:
        # JavaScript counts UTF-16 code units: an emoji is two.
        issues.append({"code": "too_big", "path": ["promptText"],
                       "message": f"Too big: expected string to have <={limit} characters"})
    if "promptImage" in body:
        issues += prompt_image_issues(body["promptImage"], model)
    if "seed" in body and not (type(body["seed"]) is int and 0 <= body["seed"] <= 4294967295):
        issues.append({"code": "invalid_type", "path": ["seed"], "message": "Expected integer"})
    if issues:
        return error(h, 400, "Validation of body failed", issues=issues)
    if fake.scenario == "throttled" and not fake.throttled:
        fake.throttled = True
        return error(h, 429, "You have exceeded the rate limit for this endpoint.")
    if fake.scenario == "server-error":
        return error(h, 502, "Bad gateway")
    if fake.scenario == "no-credits":
        return error(h, 400, "You do not have enough credits to run this task.")
    with fake.lock:
        task = Task(id=str(uuid.uuid4()), model=str(model), scenario=fake.scenario, body=body,
                    duration=fake.job_seconds)
        fake.tasks[task.id] = task
        fake.accepted += 1
    h.reply(200, {"id": task.id})


# runwayml's RecipeMultiShotVideoParams: custom mode with 3–5 shots {prompt (3–512 characters), duration}
# adding up to `duration` (5, 10 or 15; 10 by default), or auto mode with one prompt (at most 2,500 characters).
RECIPE_RATIOS = {"1280:720", "720:1280", "960:960", "1920:1080", "1080:1920", "1440:1440"}
RECIPE_CREDITS = {"standard": 15, "pro": 25}  # the fake's own rates a second (1080p ratios are the pro tier)


def create_multi_shot(fake: RunwayServer, h: _Handler, r: Recorded) -> None:
    try:
        r.json = body = json.loads(r.body)
    except ValueError:
        return error(h, 400, "Invalid JSON body.")
    if not isinstance(body, dict):
        return error(h, 400, "Validation of body failed", issues=[{"path": [], "message": "Expected object"}])
    mode = body.get("mode")
    allowed = {"mode", "version", "audio", "duration", "firstFrame", "ratio"} | ({"shots"} if mode == "custom"
                                                                                 else {"prompt"})
    issues = [{"code": "unrecognized_keys", "path": [k], "message": f"Unrecognized key: '{k}'"}
              for k in sorted(set(body) - allowed)]
    if mode not in ("custom", "auto"):
        issues.append({"code": "invalid_union_discriminator", "path": ["mode"], "message": "Expected 'auto' | 'custom'"})
    if body.get("version") not in ("2026-06", "unsafe-latest"):
        issues.append({"code": "invalid_enum_value", "path": ["version"], "message": "Invalid version"})
    duration = body.get("duration", 10)
    if type(duration) is not int or duration not in (5, 10, 15):
        issues.append({"code": "invalid_enum_value", "path": ["duration"], "message": "Expected 5 | 10 | 15"})
    if "ratio" in body and body["ratio"] not in RECIPE_RATIOS:
        issues.append({"code": "invalid_enum_value", "path": ["ratio"], "message": "Invalid ratio"})
    if "audio" in body and type(body["audio"]) is not bool:
        issues.append({"code": "invalid_type", "path": ["audio"], "message": "Expected boolean"})
    if "firstFrame" in body and not (isinstance(body["firstFrame"], dict) and set(body["firstFrame"]) == {"uri"}
                                     and _is_image(body["firstFrame"]["uri"])):
        issues.append({"code": "invalid_type", "path": ["firstFrame"], "message": "Expected {uri}"})
    if mode == "custom":
        shots = body.get("shots")
        if not isinstance(shots, list) or not 3 <= len(shots) <= 5:
            issues.append({"code": "too_small", "path": ["shots"], "message": "Expected 3 to 5 shots"})
        else:
            for index, shot in enumerate(shots):
                where = ["shots", index]
                if not isinstance(shot, dict) or set(shot) != {"prompt", "duration"}:
                    issues.append({"code": "invalid_type", "path": where, "message": "Expected {prompt, duration}"})
                    continue
                if not (isinstance(shot["prompt"], str)
                        and 3 <= len(shot["prompt"].encode("utf-16-le")) // 2 <= 512):
                    issues.append({"code": "too_big", "path": [*where, "prompt"], "message": "3 to 512 characters"})
                if type(shot["duration"]) is not int or shot["duration"] < 1:
                    issues.append({"code": "invalid_type", "path": [*where, "duration"], "message": "Expected integer"})
            if not issues and sum(shot["duration"] for shot in shots) != duration:
                issues.append({"code": "custom", "path": ["shots"],
                               "message": "Per-shot durations must sum to duration"})
    elif not (isinstance(body.get("prompt"), str) and 0 < len(body["prompt"]) <= 2500):
        issues.append({"code": "invalid_type", "path": ["prompt"], "message": "Expected a prompt"})
    if issues:
        return error(h, 400, "Validation of body failed", issues=issues)
    with fake.lock:
        task = Task(id=str(uuid.uuid4()), model=RECIPE_MODEL, scenario=fake.scenario, body=body,
                    duration=fake.job_seconds)
        fake.tasks[task.id] = task
        fake.accepted += 1
    h.reply(200, {"id": task.id})


RECIPE_MODEL = "multi_shot_video"


def _is_image(uri) -> bool:
    return isinstance(uri, str) and uri.startswith(("data:image/", "https://"))


def prompt_image_issues(value, model) -> list[dict]:
    """promptImage: one image (the first frame), or an array of {uri, position}."""
    if isinstance(value, str):
        return [] if _is_image(value) else [
            {"code": "invalid_string", "path": ["promptImage"], "message": "An https URL or data URI"}]
    if not isinstance(value, list) or not 1 <= len(value) <= 2:
        return [{"code": "invalid_type", "path": ["promptImage"], "message": "A string or 1 to 2 images"}]
    issues, positions = [], []
    for index, image in enumerate(value):
        where = ["promptImage", index]
        if not isinstance(image, dict) or set(image) - {"uri", "position"}:
            issues.append({"code": "unrecognized_keys", "path": where, "message": "Only uri and position"})
            continue
        if not _is_image(image.get("uri")):
            issues.append({"code": "invalid_string", "path": [*where, "uri"], "message": "An https URL or data URI"})
        allowed = ("first", "last") if model in LAST_FRAME_MODELS else ("first",)
        if image.get("position") not in allowed:
            issues.append({"code": "invalid_enum_value", "path": [*where, "position"],
                           "message": f"Expected {' | '.join(map(repr, allowed))}"})
        positions.append(image.get("position"))
    if positions.count("first") != 1 or len(set(positions)) != len(positions):
        issues.append({"code": "custom", "path": ["promptImage"],
                       "message": "One first frame, and at most one last frame; this model does not support "
                                  "generating with only a last frame"})
    return issues


def serve_output(fake: RunwayServer, h: _Handler, r: Recorded) -> None:
    task = fake.tasks.get(r.path.split("/")[2])
    if task is None:
        return h.reply(404, body=b"Not found", content_type="text/plain")
    if task.scenario == "expired" or "authorization" in r.headers:
        # A signed URL past its expiry; and a CDN must never be sent the API key.
        return h.reply(403, body=b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
                       content_type="application/xml")
    if task.model == RECIPE_MODEL:  # one cut per shot, `shot_offsets` frames off where it was asked for
        size = task.body.get("ratio", "1280:720").replace(":", "x")
        return h.reply(200, body=multishot_mp4(tuple(float(s["duration"]) for s in task.body["shots"]), size=size,
                                               offsets=fake.shot_offsets), content_type="video/mp4")
    h.reply(200, body=fake.video, content_type="video/mp4")


_server: RunwayServer | None = None


@pytest.fixture
def runway_server() -> RunwayServer:
    """One server per test run, reset for each test."""
    global _server
    if _server is None:
        _server = RunwayServer()
        atexit.register(_server.httpd.shutdown)
    with _server.lock:
        _server.reset()
    return _server
