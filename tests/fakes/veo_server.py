"""A strict local stand-in for Google Veo on the Gemini API (v1beta).

Two servers, so two origins: the API (127.0.0.1, key in `x-goog-api-key`) and
Google's storage, where a finished video's download URI redirects. The storage
server records every request's headers, so a test can prove the key never
reached it. Strict on purpose: a field the real API does not define, a missing
or wrong key, a wrong content type or value is refused in Google's error shape
`{"error": {"code", "message", "status", "details"?}}`.

Pick behaviour per test with `server.scenario` (see SCENARIOS).

For benchmarks, one optional knob (off after `reset()`): `job_seconds`. Operations created
while it is set are not done until that much real time has passed since the create, however
often they are polled (Google reports no progress), then done as the scenario says.
"""

from __future__ import annotations

import atexit
import base64
import binascii
import itertools
import json
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.fakes.provider_server import _load_video
from tests.fakes.wire import Recorded

SCENARIOS = (
    "success",       # not done for `polls_to_finish` - 1 polls, then one generated sample
    "rai-filtered",  # done, no samples, raiMediaFilteredCount / Reasons set
    "failed",        # done with an operation error
    "throttled",     # first create: 429 RESOURCE_EXHAUSTED with RetryInfo 2s, then accepted
    "throttled-always",  # every create: that 429
    "throttled-poll",  # first poll: that 429
    "quota",         # every create: 429 daily quota exhausted (no RetryInfo)
    "server-error",  # every create: 503 UNAVAILABLE
    "slow-create",   # create accepted, answer sent after `slow_seconds`
    "expired",       # the file download: 404 (kept two days)
    "gone",          # the operation: 404
    "method-moved",  # every create: 400 FAILED_PRECONDITION, "only supported in … Agent Platform mode"
    "method-gone",   # every create: 404 "Method not found." (the API no longer has predictLongRunning)
)
MODELS = {  # id -> can take reference images
    "veo-3.1-generate-preview": True,
    "veo-3.1-fast-generate-preview": True,
    "veo-3.1-lite-generate-preview": False,
}
# Extending a Veo video [docs: Gemini API, "Extending Veo videos"]: instances[0].video is a video Veo made
# (the uri of a previous generation, kept two days) beside a new prompt; 720p only; +7 s, no other length.
EXTENDS = {"veo-3.1-generate-preview", "veo-3.1-fast-generate-preview"}
INSTANCE_FIELDS = {"prompt", "image", "lastFrame", "referenceImages", "video"}
PARAMETER_FIELDS = {"durationSeconds", "aspectRatio", "resolution", "negativePrompt", "personGeneration",
                    "sampleCount", "seed"}
IMAGE_FIELDS = {"bytesBase64Encoded", "mimeType"}
IMAGE_TYPES = {"image/png", "image/jpeg", "image/webp"}
RAI_REASON = ("We encountered an issue with the audio for your prompt. You have not been charged. "
              "Please try a different prompt.")


@dataclass
class Operation:
    name: str
    model: str
    scenario: str
    body: dict
    file_id: str
    polls: int = 0
    created: float = field(default_factory=time.monotonic)
    duration: float | None = None  # the server's job_seconds when it was created

    @property
    def done_at(self) -> float | None:
        """When a timed operation finishes (monotonic); None when polls decide."""
        return None if self.duration is None else self.created + self.duration


class GoogleError(Exception):
    def __init__(self, code: int, status: str, message: str, details: list | None = None,
                 headers: dict | None = None):
        super().__init__(message)
        self.code, self.status, self.message, self.details, self.headers = code, status, message, details, headers


def invalid(message: str) -> GoogleError:
    return GoogleError(400, "INVALID_ARGUMENT", message)


class VeoServer:
    def __init__(self):
        self.video = _load_video()
        self.lock = threading.Lock()
        self.ids = itertools.count(1)
        self.api = _serve(self, _ApiHandler)
        self.storage = _serve(self, _StorageHandler)
        self.reset()

    def reset(self) -> None:
        self.scenario = "success"
        self.api_key = "AIzaSy-test-0123456789"
        self.polls_to_finish = 3
        self.slow_seconds = 1.5
        self.requests: list[Recorded] = []  # the API's
        self.storage_requests: list[Recorded] = []
        self.operations: dict[str, Operation] = {}
        self.accepted = Counter[str]()  # accepted creates per scenario
        self.throttled = False
        self.job_seconds: float | None = None  # benchmark knob (see the module docstring)

    @property
    def scenario(self) -> str:
        return self._scenario

    @scenario.setter
    def scenario(self, name: str) -> None:
        if name not in SCENARIOS:  # a typo must not quietly test the happy path
            raise ValueError(f"Unknown scenario {name!r}; pick one of {SCENARIOS}.")
        self._scenario = name

    url = property(lambda self: f"http://127.0.0.1:{self.api.server_address[1]}")
    # "localhost", not 127.0.0.1, and another port: another origin, as Google's storage is.
    storage_url = property(lambda self: f"http://localhost:{self.storage.server_address[1]}")

    def seen(self, method: str, pattern: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and re.fullmatch(pattern, r.path)]

    def close(self) -> None:
        for httpd in (self.api, self.storage):
            httpd.shutdown()
            httpd.server_close()

    def finish(self, operation: Operation) -> dict:
        """The operation resource as GET returns it at this poll."""
        if operation.done_at is not None:
            done = time.monotonic() >= operation.done_at
        else:
            done = operation.polls >= self.polls_to_finish
        resource: dict[str, object] = {"name": operation.name}
        if not done:
            return resource
        resource["done"] = True
        if operation.scenario == "failed":
            resource["error"] = {"code": 13, "message": "Video generation failed due to an internal error.",
                                 "status": "INTERNAL"}
            return resource
        video_response = {"@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse"}
        if operation.scenario == "rai-filtered":
            inner = {"raiMediaFilteredCount": 1, "raiMediaFilteredReasons": [RAI_REASON]}
        else:
            uri = f"{self.url}/v1beta/files/{operation.file_id}:download?alt=media"
            inner = {"generatedSamples": [{"video": {"uri": uri}}]}
        resource["response"] = {**video_response, "generateVideoResponse": inner}
        return resource


def _serve(fake: VeoServer, handler) -> ThreadingHTTPServer:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    httpd.fake = fake  # type: ignore[attr-defined]  # the handlers read their fake off the server
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def record(self) -> Recorded:
        url = urlsplit(self.path)
        length = int(self.headers.get("content-length") or 0)
        return Recorded(method=self.command, path=url.path, query=dict(parse_qsl(url.query)),
                        headers={k.lower(): v for k, v in self.headers.items()},
                        body=self.rfile.read(length) if length else b"")

    def reply(self, status: int, payload=None, *, headers=None, body: bytes | None = None,
              content_type: str = "application/json; charset=UTF-8") -> None:
        if body is None:
            body = json.dumps(payload).encode() if payload is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class _StorageHandler(_Handler):
    """Google's storage: the file a download URI redirects to, signed in its URL, no key."""

    def do_GET(self):
        fake: VeoServer = self.server.fake
        record = self.record()
        with fake.lock:
            fake.storage_requests.append(record)
        match = re.fullmatch(r"/videos/(file_\d+)\.mp4", record.path)
        if not match or record.query.get("signature") != f"signed-{match[1]}":
            return self.reply(403, body=b"AccessDenied", content_type="text/plain")
        self.reply(200, body=fake.video, content_type="video/mp4")


class _ApiHandler(_Handler):
    def do_GET(self):
        fake: VeoServer = self.server.fake
        record = self.record()
        with fake.lock:
            fake.requests.append(record)
        try:
            route(fake, self, record)
        except GoogleError as exc:
            error = {"code": exc.code, "message": exc.message, "status": exc.status}
            if exc.details:
                error["details"] = exc.details
            self.reply(exc.code, {"error": error}, headers=exc.headers)
        except (BrokenPipeError, ConnectionResetError):
            pass

    do_POST = do_DELETE = do_PUT = do_GET


def route(fake: VeoServer, h: _ApiHandler, r: Recorded) -> None:
    check_key(fake, r)
    path = r.path.removeprefix("/v1beta/")
    if not r.path.startswith("/v1beta/"):
        raise GoogleError(404, "NOT_FOUND", f"Unknown path {r.path}.")
    if (match := re.fullmatch(r"models/([^/:]+):predictLongRunning", path)) and r.method == "POST":
        return create(fake, h, r, match[1])
    if re.fullmatch(r"models/[^/]+/operations/[A-Za-z0-9_-]+", path) and r.method == "GET":
        return get_operation(fake, h, path)
    if (match := re.fullmatch(r"files/(file_\d+):download", path)) and r.method == "GET":
        return download(fake, h, r, match[1])
    if path == "models" and r.method == "GET":
        return list_models(h, r)
    raise GoogleError(404, "NOT_FOUND", f"Method not found: {r.method} {r.path}.")


def check_key(fake: VeoServer, r: Recorded) -> None:
    key = r.headers.get("x-goog-api-key")
    if key is None:
        raise GoogleError(403, "PERMISSION_DENIED",
                          "Method doesn't allow unregistered callers (callers without established identity). "
                          "Please use API Key or other form of API consumer identity to call this API.")
    if key != fake.api_key or "authorization" in r.headers:
        raise GoogleError(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", details=[
            {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
             "domain": "googleapis.com", "metadata": {"service": "generativelanguage.googleapis.com"}},
            {"@type": "type.googleapis.com/google.rpc.LocalizedMessage", "locale": "en-US",
             "message": "API key not valid. Please pass a valid API key."},
        ])


def list_models(h: _ApiHandler, r: Recorded) -> None:
    unknown = set(r.query) - {"pageSize", "pageToken"}
    if unknown:
        raise invalid(f"Invalid JSON payload received. Unknown name \"{min(unknown)}\": Cannot bind query "
                      "parameter. Field not found.")
    models = [{"name": f"models/{m}", "displayName": m, "supportedGenerationMethods": ["predictLongRunning"]}
              for m in MODELS]
    size = int(r.query.get("pageSize") or 50)
    h.reply(200, {"models": models[:size], "nextPageToken": "next" if size < len(models) else ""})


def create(fake: VeoServer, h: _ApiHandler, r: Recorded, model: str) -> None:
    if model not in MODELS:
        raise GoogleError(404, "NOT_FOUND", f"models/{model} is not found for API version v1beta, or is not "
                          "supported for predictLongRunning. Call ListModels to see the list of available "
                          "models and their supported methods.")
    if not r.headers.get("content-type", "").startswith("application/json"):
        raise invalid("Invalid JSON payload received. Expected a JSON object.")
    try:
        r.json = body = json.loads(r.body)
    except ValueError:
        raise invalid("Invalid JSON payload received. Unexpected token.")
    validate(body, references_allowed=MODELS[model])
    video = body["instances"][0].get("video")
    if video is not None:
        validate_extension(fake, body, model)
    if fake.scenario == "throttled-always" or (fake.scenario == "throttled" and not fake.throttled):
        fake.throttled = True
        raise per_minute_throttle()
    if fake.scenario == "quota":
        raise GoogleError(429, "RESOURCE_EXHAUSTED", "You exceeded your current quota, please check your plan and "
                          "billing details.", details=[
                              {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [
                                  {"quotaId": "PredictLongRunningRequestsPerDayPerProjectPerModel"}]}])
    if fake.scenario == "server-error":
        raise GoogleError(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")
    if fake.scenario == "method-moved":
        raise GoogleError(400, "FAILED_PRECONDITION", "This method is only supported in Gemini Enterprise Agent "
                          "Platform mode, not in Gemini Developer API mode.")
    if fake.scenario == "method-gone":
        raise GoogleError(404, "NOT_FOUND", "Method not found.")
    with fake.lock:
        number = next(fake.ids)
        operation = Operation(name=f"models/{model}/operations/op{number}x{number * 7919}", model=model,
                              scenario=fake.scenario, body=body, file_id=f"file_{number}",
                              duration=fake.job_seconds)
        fake.operations[operation.name] = operation
        fake.accepted[fake.scenario] += 1
    if fake.scenario == "slow-create":
        time.sleep(fake.slow_seconds)
    h.reply(200, {"name": operation.name})


def per_minute_throttle() -> GoogleError:
    # Google words a per-minute limit as "quota" too; RetryInfo is what tells it apart.
    return GoogleError(429, "RESOURCE_EXHAUSTED", "You exceeded your current quota, please check your plan and "
                       "billing details. For more information on this error, head to: "
                       "https://ai.google.dev/gemini-api/docs/rate-limits.", details=[
                           {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [
                               {"quotaMetric": "generativelanguage.googleapis.com/predict_long_running_requests",
                                "quotaId": "PredictLongRunningRequestsPerMinutePerProjectPerModel"}]},
                           {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "2s"}])


def validate(body, *, references_allowed: bool) -> None:
    """The checks Google makes, worded as Google words them (roughly)."""
    if not isinstance(body, dict):
        raise invalid("Invalid JSON payload received. Expected an object.")
    for name in sorted(set(body) - {"instances", "parameters"}):
        raise invalid(f"Invalid JSON payload received. Unknown name \"{name}\": Cannot find field.")
    instances = body.get("instances")
    if not (isinstance(instances, list) and len(instances) == 1 and isinstance(instances[0], dict)):
        raise invalid("instances must hold exactly one instance.")
    instance = instances[0]
    for name in sorted(set(instance) - INSTANCE_FIELDS):
        raise invalid(f"Invalid JSON payload received. Unknown name \"{name}\" at 'instances[0]': Cannot find field.")
    if not (isinstance(instance.get("prompt"), str) and instance["prompt"].strip()):
        raise invalid("A prompt is required.")
    parameters = body.get("parameters", {})
    if not isinstance(parameters, dict):
        raise invalid("parameters must be an object.")
    for name in sorted(set(parameters) - PARAMETER_FIELDS):
        raise invalid(f"Invalid JSON payload received. Unknown name \"{name}\" at 'parameters': Cannot find field.")
    seconds = parameters.get("durationSeconds", 8)
    if type(seconds) is not int or seconds not in (4, 6, 8):
        raise invalid(f"The durationSeconds {seconds!r} is not supported. Supported values: 4, 6, 8.")
    aspect = parameters.get("aspectRatio", "16:9")
    if aspect not in ("16:9", "9:16"):
        raise invalid(f"Aspect ratio {aspect!r} is not supported. Supported values: 16:9, 9:16.")
    resolution = parameters.get("resolution", "720p")
    if resolution not in ("720p", "1080p"):
        raise invalid(f"Resolution {resolution!r} is not supported.")
    if resolution == "1080p" and seconds != 8:
        raise invalid("1080p resolution is only supported with a duration of 8 seconds.")
    if "image" in instance:
        check_image(instance["image"], "instances[0].image")
    if "lastFrame" in instance:
        # Frame interpolation: the video moves from `image` to `lastFrame`.
        if "image" not in instance:
            raise invalid("lastFrame requires image: interpolation needs a first frame.")
        check_image(instance["lastFrame"], "instances[0].lastFrame")
    references = instance.get("referenceImages")
    if references is not None:
        if not references_allowed:
            raise invalid("referenceImages isn't supported by this model.")
        if "image" in instance or "lastFrame" in instance:
            raise invalid("referenceImages cannot be combined with image or lastFrame.")
        if not (isinstance(references, list) and 1 <= len(references) <= 3):
            raise invalid("referenceImages takes 1 to 3 images.")
        for index, reference in enumerate(references):
            where = f"instances[0].referenceImages[{index}]"
            if not isinstance(reference, dict) or set(reference) - {"image", "referenceType"}:
                raise invalid(f"Invalid JSON payload received. Unknown name at '{where}': Cannot find field.")
            if reference.get("referenceType") not in ("ASSET", "STYLE"):
                raise invalid(f"{where}.referenceType must be ASSET or STYLE.")
            check_image(reference.get("image"), f"{where}.image")
        if seconds != 8 or aspect != "16:9":
            raise invalid("Reference images are only supported with 16:9 and a duration of 8 seconds.")


def validate_extension(fake: VeoServer, body: dict, model: str) -> None:
    instance, parameters = body["instances"][0], body.get("parameters", {})
    if model not in EXTENDS:
        raise invalid(f"Video extension isn't supported by {model}.")
    video = instance["video"]
    if not isinstance(video, dict) or set(video) != {"uri"} or not isinstance(video["uri"], str):
        raise invalid("instances[0].video must be a video from a previous generation (its uri).")
    match = re.fullmatch(re.escape(fake.url) + r"/v1beta/files/(file_\d+):download\?alt=media", video["uri"])
    source = next((o for o in fake.operations.values() if match and o.file_id == match[1]), None)
    if source is None or not fake.finish(source).get("done") or source.scenario in ("expired", "gone"):
        raise invalid("instances[0].video: only videos generated by Veo in the last two days can be extended.")
    for name in ("image", "lastFrame", "referenceImages"):
        if name in instance:
            raise invalid(f"instances[0].{name} cannot be combined with video.")
    for name in ("durationSeconds", "aspectRatio"):
        if name in parameters:
            raise invalid(f"parameters.{name} is not supported for video extension (+7 s, the input's shape).")
    if parameters.get("resolution", "720p") != "720p":
        raise invalid("Video extension supports 720p only.")


def check_image(image, where: str) -> None:
    if not isinstance(image, dict) or set(image) != IMAGE_FIELDS:
        raise invalid(f"{where} must have exactly bytesBase64Encoded and mimeType (images are inline).")
    if image["mimeType"] not in IMAGE_TYPES:
        raise invalid(f"{where}.mimeType {image['mimeType']!r} is not supported.")
    try:
        raw = base64.b64decode(image["bytesBase64Encoded"], validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise invalid(f"Invalid value at '{where}.bytes_base64_encoded' (TYPE_BYTES), Base64 decoding failed.")
    if not raw:
        raise invalid(f"{where} is empty.")


def get_operation(fake: VeoServer, h: _ApiHandler, name: str) -> None:
    operation = fake.operations.get(name)
    if operation is None or operation.scenario == "gone":
        raise GoogleError(404, "NOT_FOUND", "Requested entity was not found.")
    if operation.scenario == "throttled-poll" and not fake.throttled:
        fake.throttled = True
        raise per_minute_throttle()
    operation.polls += 1
    h.reply(200, fake.finish(operation))


def download(fake: VeoServer, h: _ApiHandler, r: Recorded, file_id: str) -> None:
    if r.query.get("alt") != "media":
        raise invalid("Download requires alt=media.")
    operation = next((o for o in fake.operations.values() if o.file_id == file_id), None)
    if operation is None or operation.scenario == "expired":
        raise GoogleError(404, "NOT_FOUND", "Requested entity was not found.")
    location = f"{fake.storage_url}/videos/{file_id}.mp4?signature=signed-{file_id}"
    h.reply(302, body=b"", headers={"Location": location})


_server: VeoServer | None = None


def shared_server() -> VeoServer:
    global _server
    if _server is None:
        _server = VeoServer()
        atexit.register(_server.close)
    return _server


@pytest.fixture
def veo_previews_live(db):
    """The Gemini API's Veo preview ids as they were until Google retired them (2026-10-22; migration 0037
    marks them retired): for tests of what the Gemini API adapter and the studio do with takes on them, the
    one remote provider whose safety refusals say they are free."""
    from generation.models import CatalogModel, Lifecycle

    CatalogModel.objects.filter(kind="veo", connection=None, model_id__in=MODELS).update(
        lifecycle=Lifecycle.DEPRECATED)


@pytest.fixture
def veo_server() -> VeoServer:
    """One server pair per test run, reset for each test."""
    server = shared_server()
    with server.lock:
        server.reset()
    return server
