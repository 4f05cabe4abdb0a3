"""A strict local stand-in for the Gemini API's Interactions API (v1beta), as Gemini Omni Flash uses it.

Shapes are the google-genai SDK's generated Interactions types (`google/genai/_gaos/types/interactions`):
the create body is CreateModelInteraction (`model`, `input`, `background`, `generation_config`,
`response_format`, …); a field those types do not define, at any level the studio writes, is refused
with 400. Answers are Interaction resources (`id`, `status`, `steps`, `usage`, `errors`, …) and errors
are `{"error": {"code", "message"}}` (the SDK's Error); a wrong key gets the front end's google.rpc
error with ErrorInfo API_KEY_INVALID, as every Gemini API call does.

Two servers, two origins: the API (127.0.0.1, key in `x-goog-api-key`) and the storage a `uri`
delivery's download redirects to (records headers, so a test can prove the key never went there).
Pick behaviour per test with `server.scenario` (see SCENARIOS).
"""

from __future__ import annotations

import atexit
import base64
import binascii
import itertools
import json
import re
import threading
from collections import Counter
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from typing import Any

import pytest

from tests.fakes.provider_server import _load_video
from tests.fakes.wire import Recorded, RecordingHandler

SCENARIOS = (
    "success",    # queued, in_progress for `polls_to_finish` - 1 polls, then completed with the video inline
    "uri",        # as success, the video delivered as a `uri` on the API's host (Files API, key needed)
    "failed",     # status failed, with `errors`
    "declined",   # completed, but the model answered in text only: no video
    "incomplete",  # status incomplete
    "gone",       # GET: 404
)
MODELS = {"gemini-omni-1.2-flash", "gemini-omni-1.1-flash", "gemini-omni-flash-preview"}
# CreateModelInteraction's fields (the SDK's TypedDict), and the nested types the studio writes.
CREATE_FIELDS = {"input", "model", "background", "environment", "generation_config", "labels",
                 "previous_interaction_id", "response_format", "response_mime_type", "response_modalities",
                 "safety_settings", "service_tier", "store", "stream", "system_instruction", "tools",
                 "webhook_config"}
GENERATION_CONFIG_FIELDS = {"image_config", "max_output_tokens", "seed", "speech_config", "stop_sequences",
                            "thinking_level", "thinking_summaries", "tool_choice", "transcription_config",
                            "video_config"}
VIDEO_CONFIG_FIELDS = {"task"}
TASKS = {"text_to_video", "image_to_video", "reference_to_video", "edit", "extend"}
VIDEO_FORMAT_FIELDS = {"type", "aspect_ratio", "delivery", "duration", "gcs_uri", "resolution"}
CONTENT_FIELDS = {
    "text": {"type", "text", "annotations"},
    "image": {"type", "data", "mime_type", "resolution", "uri"},
}
IMAGE_TYPES = {"image/png", "image/jpeg", "image/webp", "image/heic", "image/heif", "image/gif", "image/bmp",
               "image/tiff"}
FAILURE = "Video generation failed due to an internal error."
DECLINED = "I can't generate that video: it may violate our policies."


@dataclass
class Interaction:
    id: str
    model: str
    scenario: str
    body: dict
    polls: int = 0
    answer: bytes | None = None  # the completed resource, encoded once (its base64 is large)


class InteractionsServer:
    def __init__(self):
        self.lock = threading.Lock()
        self.ids = itertools.count(1)
        self.api = _serve(self, _ApiHandler)
        self.storage = _serve(self, _StorageHandler)
        self.reset()

    def reset(self) -> None:
        self.scenario = "success"
        self.api_key = "AIzaSy-test-omni-0123456789"
        self.video = _load_video()
        self.polls_to_finish = 3
        self.requests: list[Recorded] = []
        self.storage_requests: list[Recorded] = []
        self.interactions: dict[str, Interaction] = {}
        self.accepted: Counter[str] = Counter()

    @property
    def scenario(self) -> str:
        return self._scenario

    @scenario.setter
    def scenario(self, name: str) -> None:
        if name not in SCENARIOS:  # a typo must not quietly test the happy path
            raise ValueError(f"Unknown scenario {name!r}; pick one of {SCENARIOS}.")
        self._scenario = name

    url = property(lambda self: f"http://127.0.0.1:{self.api.server_address[1]}")
    storage_url = property(lambda self: f"http://localhost:{self.storage.server_address[1]}")

    def seen(self, method: str, pattern: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and re.fullmatch(pattern, r.path)]

    def close(self) -> None:
        for httpd in (self.api, self.storage):
            httpd.shutdown()
            httpd.server_close()

    def resource(self, interaction: Interaction) -> dict | bytes:
        """The Interaction as GET returns it at this poll (bytes once completed: encoded once, kept)."""
        base = {"id": interaction.id, "model": interaction.model, "created": "2026-12-07T15:00:00Z",
                "updated": "2026-12-07T15:00:20Z"}
        if interaction.polls < self.polls_to_finish:
            return {**base, "status": "queued" if interaction.polls <= 1 else "in_progress"}
        if interaction.answer is not None:
            return interaction.answer
        given = interaction.body["input"]
        asked = [{"type": "text", "text": given}] if isinstance(given, str) else given
        # The answer's steps as Google returns them: the user's input (a start frame's base64 too), a
        # thought, then the model's output.
        steps = [{"type": "user_input", "content": asked}, {"type": "thought", "signature": "c2lnbmF0dXJl"}]
        resource: dict[str, Any]
        if interaction.scenario == "failed":
            resource = {**base, "status": "failed", "steps": steps,
                        "errors": [{"code": "https://ai.google.dev/errors/internal", "message": FAILURE}]}
        elif interaction.scenario == "incomplete":
            resource = {**base, "status": "incomplete", "steps": steps}
        elif interaction.scenario == "declined":
            resource = {**base, "status": "completed", "steps": steps + [
                {"type": "model_output", "content": [{"type": "text", "text": DECLINED}]}]}
        else:
            if interaction.scenario == "uri":
                video = {"type": "video", "mime_type": "video/mp4",
                         "uri": f"{self.url}/v1beta/files/{interaction.id}:download?alt=media"}
            else:
                video = {"type": "video", "mime_type": "video/mp4", "data": base64.b64encode(self.video).decode()}
            resource = {**base, "status": "completed", "steps": steps + [
                {"type": "model_output", "content": [{"type": "text", "text": "Here is your video."}, video]}],
                "usage": {"total_input_tokens": 12, "total_output_tokens": 57920, "total_tokens": 57932,
                          "output_tokens_by_modality": [{"modality": "video", "tokens": 57920}]}}
        interaction.answer = json.dumps(resource).encode()
        return interaction.answer


def _serve(fake: InteractionsServer, handler) -> ThreadingHTTPServer:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    httpd.fake = fake  # type: ignore[attr-defined]  # where the handler finds its fake
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


class ApiError(Exception):
    def __init__(self, status: int, message: str, code: str = "invalid_request", *, rpc: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.code, self.rpc = status, message, code, rpc


def invalid(message: str) -> ApiError:
    return ApiError(400, message, "https://ai.google.dev/errors/invalid-argument")


class _ApiHandler(RecordingHandler):
    def handle_request(self, fake: InteractionsServer, r: Recorded) -> None:
        try:
            route(fake, self, r)
        except ApiError as exc:
            self.reply(exc.status, {"error": exc.rpc or {"code": exc.code, "message": exc.message}})


class _StorageHandler(RecordingHandler):
    """Google's storage: the file a download URI redirects to, signed in its URL, no key."""

    def handle_request(self, fake: InteractionsServer, r: Recorded) -> None:
        with fake.lock:  # RecordingHandler recorded it as the API's
            fake.requests.remove(r)
            fake.storage_requests.append(r)
        match = re.fullmatch(r"/videos/([A-Za-z0-9_-]+)\.mp4", r.path)
        if not match or r.query.get("signature") != f"signed-{match[1]}":
            return self.reply(403, body=b"AccessDenied", content_type="text/plain")
        self.reply(200, body=fake.video, content_type="video/mp4")


def route(fake: InteractionsServer, h: _ApiHandler, r: Recorded) -> None:
    check_key(fake, r)
    if r.path == "/v1beta/interactions" and r.method == "POST":
        return create(fake, h, r)
    if (match := re.fullmatch(r"/v1beta/interactions/([A-Za-z0-9_-]+)", r.path)) and r.method == "GET":
        return get(fake, h, r, match[1])
    if (match := re.fullmatch(r"/v1beta/files/([A-Za-z0-9_-]+):download", r.path)) and r.method == "GET":
        return download(fake, h, r, match[1])
    raise ApiError(404, f"Method not found: {r.method} {r.path}.", "https://ai.google.dev/errors/not-found")


def check_key(fake: InteractionsServer, r: Recorded) -> None:
    if r.headers.get("x-goog-api-key") != fake.api_key or "key" in r.query:
        raise ApiError(400, "API key not valid. Please pass a valid API key.", rpc={
            "code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT",
            "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
                         "domain": "googleapis.com"}]})


def create(fake: InteractionsServer, h: _ApiHandler, r: Recorded) -> None:
    if not r.headers.get("content-type", "").startswith("application/json"):
        raise invalid("Invalid JSON payload received. Expected a JSON object.")
    try:
        r.json = body = json.loads(r.body)
    except ValueError:
        raise invalid("Invalid JSON payload received. Unexpected token.")
    validate(body)
    if body["model"] not in MODELS:
        raise ApiError(404, f"Model {body['model']} is not found or does not support the Interactions API.",
                       "https://ai.google.dev/errors/not-found")
    with fake.lock:
        number = next(fake.ids)
        interaction = Interaction(id=f"v1_omni{number}x{number * 7919}", model=body["model"],
                                  scenario=fake.scenario, body=body)
        fake.interactions[interaction.id] = interaction
        fake.accepted[fake.scenario] += 1
    h.reply(200, {"id": interaction.id, "status": "in_progress", "model": interaction.model,
                  "created": "2026-12-07T15:00:00Z", "updated": "2026-12-07T15:00:00Z"})


def unknown(given: dict, known: set, where: str) -> None:
    for name in sorted(set(given) - known):
        raise invalid(f"Invalid JSON payload received. Unknown name \"{name}\" at '{where}': Cannot find field.")


def validate(body) -> None:
    if not isinstance(body, dict):
        raise invalid("Invalid JSON payload received. Expected an object.")
    unknown(body, CREATE_FIELDS, "interaction")
    if not isinstance(body.get("model"), str) or "input" not in body:
        raise invalid("model and input are required.")
    if body.get("background") is not True:
        # The studio polls; a foreground video would hold the connection for minutes.
        raise invalid("The fake only serves background interactions: send \"background\": true.")
    given = body["input"]
    if isinstance(given, str):
        if not given.strip():
            raise invalid("input must not be empty.")
    elif isinstance(given, list):
        for index, block in enumerate(given):
            check_content(block, f"input[{index}]")
    else:
        raise invalid("input must be a string or a list of content.")
    config = body.get("generation_config", {})
    if not isinstance(config, dict):
        raise invalid("generation_config must be an object.")
    unknown(config, GENERATION_CONFIG_FIELDS, "generation_config")
    video_config = config.get("video_config", {})
    unknown(video_config, VIDEO_CONFIG_FIELDS, "generation_config.video_config")
    if "task" in video_config and video_config["task"] not in TASKS:
        raise invalid(f"Invalid value at 'generation_config.video_config.task': {video_config['task']!r}.")
    formats = body.get("response_format")
    for fmt in formats if isinstance(formats, list) else [formats] if formats is not None else []:
        if not isinstance(fmt, dict) or fmt.get("type") != "video":
            raise invalid("response_format: the studio asks for a video format.")
        unknown(fmt, VIDEO_FORMAT_FIELDS, "response_format")
        if fmt.get("aspect_ratio", "16:9") not in ("16:9", "9:16"):
            raise invalid(f"Aspect ratio {fmt['aspect_ratio']!r} is not supported. Supported values: 16:9, 9:16.")
        if fmt.get("resolution", "720p") not in ("360p", "720p", "1080p", "4k"):
            raise invalid(f"Resolution {fmt['resolution']!r} is not supported.")
        if "duration" in fmt and not re.fullmatch(r"\d+s", str(fmt["duration"])):
            raise invalid(f"Invalid value at 'response_format.duration' (google.protobuf.Duration): "
                          f"{fmt['duration']!r}.")


def check_content(block, where: str) -> None:
    if not isinstance(block, dict) or block.get("type") not in CONTENT_FIELDS:
        raise invalid(f"{where}: content must be text or image here.")
    unknown(block, CONTENT_FIELDS[block["type"]], where)
    if block["type"] == "image":
        if block.get("mime_type") not in IMAGE_TYPES:
            raise invalid(f"{where}.mime_type {block.get('mime_type')!r} is not supported.")
        try:
            raw = base64.b64decode(block.get("data") or "", validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise invalid(f"Invalid value at '{where}.data' (TYPE_BYTES), Base64 decoding failed.")
        if not raw:
            raise invalid(f"{where}.data is empty.")


def get(fake: InteractionsServer, h: _ApiHandler, r: Recorded, interaction_id: str) -> None:
    unknown(r.query, {"include_input", "stream", "last_event_id", "api_version"}, "query")
    interaction = fake.interactions.get(interaction_id)
    if interaction is None or interaction.scenario == "gone":
        raise ApiError(404, "Interaction not found.", "https://ai.google.dev/errors/not-found")
    with fake.lock:
        interaction.polls += 1
        answer = fake.resource(interaction)
    if isinstance(answer, bytes):
        h.reply(200, body=answer)
    else:
        h.reply(200, answer)


def download(fake: InteractionsServer, h: _ApiHandler, r: Recorded, file_id: str) -> None:
    if r.query.get("alt") != "media":
        raise invalid("Download requires alt=media.")
    if file_id not in fake.interactions:
        raise ApiError(404, "Requested entity was not found.", "https://ai.google.dev/errors/not-found")
    h.send_response(302)
    h.send_header("Location", f"{fake.storage_url}/videos/{file_id}.mp4?signature=signed-{file_id}")
    h.send_header("Content-Length", "0")
    h.end_headers()


_server: InteractionsServer | None = None


def shared_server() -> InteractionsServer:
    global _server
    if _server is None:
        _server = InteractionsServer()
        atexit.register(_server.close)
    return _server


@pytest.fixture
def interactions_server() -> InteractionsServer:
    """One server pair per test run, reset for each test."""
    server = shared_server()
    with server.lock:
        server.reset()
    return server
