"""A strict local stand-in for fal's queue API, its CDN and its webhook key set.

- `POST /{endpoint_id}` (`Authorization: Key …`, JSON body = the model's input, optional
  `?fal_webhook=`) answers `request_id` plus `response_url`, `status_url` and `cancel_url`
  on the *app root* (`/fal-ai/veo3.1/requests/{id}` even for `fal-ai/veo3.1/fast`), as fal does.
- `GET …/requests/{id}/status` → IN_QUEUE (+queue_position) → IN_PROGRESS (+logs) → COMPLETED
  (+error, error_type when it failed); `GET …/requests/{id}` → `{"video": {"url"}}`;
  `PUT …/requests/{id}/cancel` → CANCELLATION_REQUESTED | ALREADY_COMPLETED | NOT_FOUND.
- Errors in fal's shapes: `{"detail": "..."}`, and 422 `{"detail": [{loc, msg, type}]}` for
  input validation (a field the model does not define is refused too).
- `/cdn/...` on the "localhost" origin serves results without auth, like fal's CDN.
- `/.well-known/jwks.json` publishes the fake's Ed25519 public keys; `sign_webhook` signs a
  delivery the way fal does (`request_id\\nuser_id\\ntimestamp\\nsha256hex(body)`, hex).
- fal's Platform API under `/v1` (point FAL_API_URL at `api_url`): the model search `GET /v1/models`
  (`category`, `status`, `q`, repeated `endpoint_id`, `expand=openapi-3.0`, pages of `limit` with a base64
  `cursor`; `{models: [{endpoint_id, metadata, openapi?}], next_cursor, has_more}`; no key needed, a wrong
  one refused) and its price list `GET /v1/models/pricing?endpoint_id=…` (a key needed; `{prices: [{endpoint_id,
  unit_price, unit, currency}], next_cursor, has_more}`), serving `published` and `prices`: what fal lists,
  each endpoint's OpenAPI document as fal publishes it (tests/fakes/openapi.py). An endpoint a test publishes
  that is not among MODELS is submitted to as its schema says.
- The request listing `GET /v1/models/requests/by-endpoint` [docs: docs.fal.ai/platform-apis/v1/models/requests/
  by-endpoint]: `endpoint_id` (required; repeated or comma-separated, 1-50), `start` / `end` (ISO 8601; start
  defaults to 24 h ago, end is exclusive), `status` (success | error | user_error), `request_id`, `expand=payloads`
  (adds `json_input` and `json_output`), `limit` (1-100, default 50) and a base64 `cursor` encoding the page;
  any other parameter is a 400. `{items: [{request_id, endpoint_id, started_at, sent_at, ended_at, status_code,
  duration, json_input?, json_output?}], next_cursor, has_more}`, newest end first. Only the calling account's
  requests (each key is an account: `other_keys` are other fal accounts the fake also serves), and only ended
  ones: fal documents the listing's statuses and its sort by end time, nothing of a request still queued.

Pick behaviour per test with `server.scenario` (see SCENARIOS).

For benchmarks, one optional knob (off after `reset()`): `job_seconds`. Requests submitted
while it is set are IN_PROGRESS (logs "Generating video N%") until that much real time has
passed since the submit, however often they are polled, then COMPLETED as the scenario says
(`metrics.inference_time` = job_seconds). A request submitted with `?fal_webhook=` then gets
its signed delivery POSTed there the moment it finishes; outcomes land in `webhook_deliveries`.
"""

from __future__ import annotations

import atexit
import base64
import hashlib
import json
import re
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.fakes.multishot_video import multishot_mp4
from tests.fakes.openapi import check_input, fal_openapi
from tests.fakes.provider_server import _load_video
from tests.fakes.wire import Recorded, RecordingHandler

SCENARIOS = (
    "success",       # IN_QUEUE, IN_PROGRESS (logs at 50 %), COMPLETED with the video
    "moderation",    # COMPLETED with error + error_type content_policy_violation
    "throttled",     # first submit: 429, then accepted
    "server-error",  # every submit: 500
    "expired",       # the result's CDN file: 404
    "custom-urls",   # status and cancel URLs that are not response_url + /status, /cancel
    "foreign-urls",  # URLs on another host (the adapter must not send its key there)
    "slow-create",   # the request is accepted (and billed) at once, its answer sent `slow_seconds` later
)


def _is_image(v) -> bool:
    return isinstance(v, str) and v.startswith(("data:image/", "https://"))


VEO = {
    "prompt": (True, lambda v: isinstance(v, str) and 0 < len(v) <= 20000),
    "duration": (False, lambda v: v in ("4s", "6s", "8s")),
    "aspect_ratio": (False, lambda v: v in ("16:9", "9:16")),
    "resolution": (False, lambda v: v in ("720p", "1080p")),
    "generate_audio": (False, lambda v: type(v) is bool),
    "negative_prompt": (False, lambda v: isinstance(v, str)),
    "seed": (False, lambda v: type(v) is int),
    "enhance_prompt": (False, lambda v: type(v) is bool),
    "auto_fix": (False, lambda v: type(v) is bool),
}
VEO_IMAGE = {**VEO, "image_url": (True, _is_image),
             "aspect_ratio": (False, lambda v: v in ("auto", "16:9", "9:16"))}
# fal-ai/veo3.1/first-last-frame-to-video (and /fast): the video moves from one image to the other.
VEO_FIRST_LAST = {**VEO, "first_frame_url": (True, _is_image), "last_frame_url": (True, _is_image),
                  "aspect_ratio": (False, lambda v: v in ("auto", "16:9", "9:16"))}
def _is_video(v) -> bool:
    """A URL, or a data URI holding an MP4 (fal decodes data URIs of files itself)."""
    if isinstance(v, str) and v.startswith("https://"):
        return True
    prefix = "data:video/mp4;base64,"
    if not (isinstance(v, str) and v.startswith(prefix)):
        return False
    try:
        head = base64.b64decode(v[len(prefix):], validate=True)[:64]
    except ValueError:
        return False
    return b"ftyp" in head


# fal-ai/veo3.1/extend-video (and /fast) [docs]: a video of at most 8 s to continue, +7 s; Fast at 720p only.
VEO_EXTEND = {
    "prompt": (True, lambda v: isinstance(v, str) and 0 < len(v) <= 20000),
    "video_url": (True, _is_video),
    "duration": (False, lambda v: v == "7s"),
    "aspect_ratio": (False, lambda v: v in ("auto", "16:9", "9:16")),
    "resolution": (False, lambda v: v in ("720p", "1080p")),
    "generate_audio": (False, lambda v: type(v) is bool),
    "negative_prompt": (False, lambda v: isinstance(v, str)),
    "seed": (False, lambda v: type(v) is int),
    "auto_fix": (False, lambda v: type(v) is bool),
    "safety_tolerance": (False, lambda v: v in ("1", "2", "3", "4", "5", "6")),
}
VEO_FAST_EXTEND = {**VEO_EXTEND, "resolution": (False, lambda v: v == "720p")}
def _kling_shots(v) -> bool:
    """KlingV3MultiPromptElement: {prompt (required), duration "1"–"15"}, at most 6 shots."""
    return isinstance(v, list) and 1 <= len(v) <= 6 and all(
        isinstance(e, dict) and set(e) <= {"prompt", "duration"} and isinstance(e.get("prompt"), str)
        and e["prompt"] and e.get("duration", "5") in {str(s) for s in range(1, 16)} for e in v)


def _kling_elements(v) -> bool:
    """KlingV3ComboElementInput: an image set (frontal_image_url plus 1–3 reference_image_urls, "at least one
    image is required") or a video (one per request), each with an optional voice_id."""
    if not (isinstance(v, list) and v and all(isinstance(e, dict) for e in v)):
        return False
    if sum("video_url" in e for e in v) > 1:
        return False
    for e in v:
        if set(e) - {"frontal_image_url", "reference_image_urls", "video_url", "voice_id"}:
            return False
        if "video_url" in e:
            if not _is_video(e["video_url"]):
                return False
        elif not (_is_image(e.get("frontal_image_url")) and isinstance(e.get("reference_image_urls"), list)
                  and 1 <= len(e["reference_image_urls"]) <= 3 and all(map(_is_image, e["reference_image_urls"]))):
            return False
    return True


def _kling_prompt(v) -> bool:
    return isinstance(v, str) and 0 < len(v) <= 2500


# fal-ai/kling-video/v3/{pro,standard}/text-to-video, fal-js KlingVideoV3ProTextToVideoInput and
# KlingVideoV3StandardTextToVideoInput (both KlingVideoV34kTextToVideoInput; fal-js 381105e, libs/client/src/types/
# endpoints.ts): "either prompt or multi_prompt must be provided, but not both"; no image, no elements. The
# prompts' 2,500-character limit is fal's published OpenAPI schema's (maxLength), which the client types omit.
KLING3_TEXT = {
    "prompt": (False, _kling_prompt),
    "multi_prompt": (False, _kling_shots),
    "shot_type": (False, lambda v: v in ("customize", "intelligent")),
    "duration": (False, lambda v: v in {str(s) for s in range(3, 16)}),
    "aspect_ratio": (False, lambda v: v in ("16:9", "9:16", "1:1")),
    "negative_prompt": (False, lambda v: isinstance(v, str) and len(v) <= 2500),
    "generate_audio": (False, lambda v: type(v) is bool),
    "cfg_scale": (False, lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1),
}
# …/image-to-video (KlingVideoV34kImageToVideoInput): start_image_url required, end_image_url the frame to end
# on, elements the reusable characters; no aspect_ratio (the start image decides it).
KLING3_IMAGE = {**{k: v for k, v in KLING3_TEXT.items() if k != "aspect_ratio"},
                "start_image_url": (True, _is_image), "end_image_url": (False, _is_image),
                "elements": (False, _kling_elements)}
MODELS = {  # endpoint id -> input name -> (required, check)
    "fal-ai/veo3.1": VEO,
    "fal-ai/veo3.1/fast": VEO,
    "fal-ai/veo3.1/image-to-video": VEO_IMAGE,
    "fal-ai/veo3.1/fast/image-to-video": VEO_IMAGE,
    "fal-ai/veo3.1/first-last-frame-to-video": VEO_FIRST_LAST,
    "fal-ai/veo3.1/fast/first-last-frame-to-video": VEO_FIRST_LAST,
    "fal-ai/veo3.1/extend-video": VEO_EXTEND,
    "fal-ai/veo3.1/fast/extend-video": VEO_FAST_EXTEND,
    "bytedance/seedance-2.0/text-to-video": {
        "prompt": (True, lambda v: isinstance(v, str) and v),
        "duration": (False, lambda v: v in {str(s) for s in range(4, 16)}),
        "resolution": (False, lambda v: v in ("480p", "720p")),  # fal's Seedance 2.0 renders no 1080p
        "aspect_ratio": (False, lambda v: v in ("16:9", "9:16", "1:1", "4:3", "3:4", "21:9")),
        "seed": (False, lambda v: type(v) is int),
    },
    "fal-ai/kling-video/v3/pro/text-to-video": KLING3_TEXT,
    "fal-ai/kling-video/v3/standard/text-to-video": KLING3_TEXT,
    "fal-ai/kling-video/v3/pro/image-to-video": KLING3_IMAGE,
    "fal-ai/kling-video/v3/standard/image-to-video": KLING3_IMAGE,
    # fal-js TextToVideoInput (wan/v2.6/text-to-video): the prompt at most 1,500 characters; several shots timed
    # in it ("Shot 1 [0-3s] …") when multi_shots, which works only with prompt expansion on.
    "wan/v2.6/text-to-video": {
        "prompt": (True, lambda v: isinstance(v, str) and 0 < len(v) <= 1500),
        "duration": (False, lambda v: v in ("5", "10", "15")),
        "resolution": (False, lambda v: v in ("720p", "1080p")),
        "aspect_ratio": (False, lambda v: v in ("16:9", "9:16", "1:1", "4:3", "3:4")),
        "multi_shots": (False, lambda v: type(v) is bool),
        "enable_prompt_expansion": (False, lambda v: type(v) is bool),
        "enable_safety_checker": (False, lambda v: type(v) is bool),
        "negative_prompt": (False, lambda v: isinstance(v, str) and len(v) <= 500),
        "audio_url": (False, lambda v: isinstance(v, str)),
        "seed": (False, lambda v: type(v) is int),
    },
}
TIMED_SHOT = re.compile(r"Shot (\d+) \[(\d+)-(\d+)s\]")
RESOLUTIONS = {("16:9", "720p"): "1280x720", ("9:16", "720p"): "720x1280", ("16:9", "1080p"): "1920x1080",
               ("9:16", "1080p"): "1080x1920"}


def input_problems(endpoint: str, inputs: dict, schema: dict) -> list[dict]:
    """What the model refuses beyond each field's own check: fields that go together or exclude each other.
    Kling's rules hold for every endpoint taking a multi_prompt (a Kling a test publishes, too)."""
    if "multi_prompt" in schema:
        if not schema.get("prompt", (False,))[0] and ("prompt" in inputs) == ("multi_prompt" in inputs):
            return [{"loc": ["body", "prompt"], "msg": "Either prompt or multi_prompt must be provided, but not both",
                     "type": "value_error"}]
        shots = inputs.get("multi_prompt") or []
        if shots and sum(int(e.get("duration", "5")) for e in shots) != int(inputs.get("duration", "5")):
            return [{"loc": ["body", "multi_prompt"], "msg": "The shots' durations must add up to duration",
                     "type": "value_error"}]
    if endpoint == "wan/v2.6/text-to-video" and inputs.get("multi_shots", True) and inputs.get(
            "enable_prompt_expansion") is False:
        return [{"loc": ["body", "multi_shots"], "msg": "multi_shots needs enable_prompt_expansion",
                 "type": "value_error"}]
    return []


def shots_of(job) -> tuple[tuple[float, ...], str] | None:
    """The shots a request asked for (their seconds) and its size, when it asked for several."""
    inputs = job.inputs
    if inputs.get("multi_prompt"):  # Kling 3, or an endpoint a test published with a multi_prompt
        size = "1080x1920" if inputs.get("aspect_ratio") == "9:16" else "1920x1080"
        return tuple(float(e.get("duration", "5")) for e in inputs["multi_prompt"]), size
    if job.endpoint == "wan/v2.6/text-to-video" and inputs.get("multi_shots") and TIMED_SHOT.search(inputs["prompt"]):
        timings = [(int(a), int(b)) for _, a, b in TIMED_SHOT.findall(inputs["prompt"])]
        size = RESOLUTIONS.get((inputs.get("aspect_ratio", "16:9"), inputs.get("resolution", "1080p")), "1920x1080")
        return tuple(float(b - a) for a, b in timings), size
    if job.endpoint == "bytedance/seedance-2.0/text-to-video" and re.search(r"^Shot 2:", inputs["prompt"], re.M):
        # Order only: the model times the shots itself (here: evenly, which is not what was booked).
        count = len(re.findall(r"^Shot \d+:", inputs["prompt"], re.M))
        total = float(inputs.get("duration", "5"))
        size = "720x1280" if inputs.get("aspect_ratio") == "9:16" else "1280x720"
        return tuple([total / count] * count), size
    return None


# What fal's model search lists (as published, 2026-12): endpoint id -> (display name, category, schema name,
# input properties as (json schema, required)). The image and first-last-frame endpoints are listed too, in
# their own category: the studio reads the text-to-video ones.
STRING = {"type": "string"}
VEO_PUBLISHED = {
    "prompt": (STRING, True),
    "aspect_ratio": ({"type": "string", "enum": ["9:16", "16:9", "1:1"], "default": "16:9"}, False),
    "duration": ({"type": "string", "enum": ["4s", "6s", "8s"], "default": "8s"}, False),
    "negative_prompt": (STRING, False),
    "enhance_prompt": ({"type": "boolean", "default": True}, False),
    "seed": ({"type": "integer"}, False),
    "auto_fix": ({"type": "boolean", "default": True}, False),
    "resolution": ({"type": "string", "enum": ["720p", "1080p"], "default": "720p"}, False),
    "generate_audio": ({"type": "boolean", "default": True}, False),
}
KLING_SHOT = {"type": "object", "properties": {"prompt": STRING, "duration": {
    "type": "string", "enum": [str(s) for s in range(1, 16)]}}, "required": ["prompt", "duration"]}
PUBLISHED = {
    "fal-ai/veo3.1": ("Veo 3.1", "text-to-video", "Veo31TextToVideo", VEO_PUBLISHED),
    "fal-ai/veo3.1/fast": ("Veo 3.1 Fast", "text-to-video", "Veo31FastTextToVideo", VEO_PUBLISHED),
    "fal-ai/veo3.1/image-to-video": ("Veo 3.1", "image-to-video", "Veo31ImageToVideo",
                                     {**VEO_PUBLISHED, "image_url": (STRING, True)}),
    "fal-ai/veo3.1/first-last-frame-to-video": ("Veo 3.1", "image-to-video", "Veo31FirstLastFrameToVideo",
                                                {**VEO_PUBLISHED, "first_frame_url": (STRING, True),
                                                 "last_frame_url": (STRING, True)}),
    "bytedance/seedance-2.0/text-to-video": ("Seedance 2.0", "text-to-video", "Seedance20TextToVideo", {
        "prompt": (STRING, True),
        "duration": ({"type": "string", "enum": [str(s) for s in range(4, 16)], "default": "5"}, False),
        "resolution": ({"type": "string", "enum": ["480p", "720p"], "default": "720p"}, False),
        "aspect_ratio": ({"type": "string", "enum": ["16:9", "9:16", "1:1", "4:3", "3:4", "21:9"],
                          "default": "16:9"}, False),
        "seed": ({"type": "integer"}, False)}),
    # Either prompt or multi_prompt (fal-js KlingVideoV3ProTextToVideoInput): neither is required on its own.
    "fal-ai/kling-video/v3/pro/text-to-video": ("Kling Video v3 Pro", "text-to-video", "KlingVideoV3ProTextToVideo", {
        "prompt": ({"type": "string", "maxLength": 2500}, False),
        "duration": ({"type": "string", "enum": [str(s) for s in range(3, 16)], "default": "5"}, False),
        "aspect_ratio": ({"type": "string", "enum": ["16:9", "9:16", "1:1"], "default": "16:9"}, False),
        "negative_prompt": (STRING, False),
        "generate_audio": ({"type": "boolean", "default": True}, False),
        "cfg_scale": ({"type": "number", "default": 0.5}, False),
        "shot_type": ({"type": "string", "enum": ["customize", "intelligent"], "default": "customize"}, False),
        "multi_prompt": ({"type": "array", "items": KLING_SHOT, "maxItems": 6}, False)}),
    # Several shots timed in the prompt when multi_shots: the schema says it is a boolean, not how the shots
    # are written, so the listing states no shots (the catalog entry's, from fal's client types, stays).
    "wan/v2.6/text-to-video": ("Wan 2.6", "text-to-video", "WanV26TextToVideo", {
        "prompt": ({"type": "string", "maxLength": 1500}, True),
        "duration": ({"type": "string", "enum": ["5", "10", "15"], "default": "5"}, False),
        "resolution": ({"type": "string", "enum": ["720p", "1080p"], "default": "1080p"}, False),
        "aspect_ratio": ({"type": "string", "enum": ["16:9", "9:16", "1:1", "4:3", "3:4"], "default": "16:9"},
                         False),
        "multi_shots": ({"type": "boolean", "default": True}, False),
        "enable_prompt_expansion": ({"type": "boolean", "default": True}, False),
        "enable_safety_checker": ({"type": "boolean", "default": True}, False),
        "negative_prompt": ({"type": "string", "maxLength": 500}, False),
        "audio_url": (STRING, False),
        "seed": ({"type": "integer"}, False)}),
}
PUBLISHED["fal-ai/kling-video/v3/standard/text-to-video"] = (
    "Kling Video v3 Standard", "text-to-video", "KlingVideoV3StandardTextToVideo",
    dict(PUBLISHED["fal-ai/kling-video/v3/pro/text-to-video"][3]))
# fal's price list (US$ per unit), per endpoint.
PRICES = {"fal-ai/veo3.1": (0.4, "second"), "fal-ai/veo3.1/fast": (0.15, "second"),
          "bytedance/seedance-2.0/text-to-video": (0.3, "second"),
          "fal-ai/kling-video/v3/pro/text-to-video": (0.112, "second"),
          "fal-ai/kling-video/v3/standard/text-to-video": (0.084, "second")}
SEARCH_PAGE_WITH_SCHEMAS = 2  # "the actual maximum depends on … expansion": small pages when schemas come along


@dataclass
class Request:
    id: str
    endpoint: str
    app: str  # owner/app: where the request's URLs live
    scenario: str
    inputs: dict
    key: str = ""  # the account (API key) that sent it: it answers and is listed to that account only
    sent_at: float = field(default_factory=time.time)  # wall clock, for the listing
    ended_at: float | None = None  # wall clock, once a poll saw it end (timed requests: sent + duration)
    polls: int = 0
    canceled: bool = False
    created: float = field(default_factory=time.monotonic)
    duration: float | None = None  # the server's job_seconds when it was submitted

    @property
    def done_at(self) -> float | None:
        """When a timed request finishes (monotonic); None when polls decide."""
        return None if self.duration is None else self.created + self.duration


class FalServer:
    def __init__(self):
        self.video = _load_video()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.fake = self
        self.lock = threading.Lock()
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.reset()

    def reset(self) -> None:
        self._scenario = "success"
        self.api_key = "fal-key-id:0123456789abcdef"
        self.other_keys: set[str] = set()  # keys of other fal accounts (another team's connection)
        self.user_id = "github|harbour-films"
        self.requests: list[Recorded] = []
        self.jobs: dict[str, Request] = {}
        self.accepted = 0
        self.throttled = False
        self.signing_keys = [Ed25519PrivateKey.generate()]  # a real key pair per test
        # What the model search lists and the price list says (a test publishes or withdraws endpoints).
        self.published = dict(PUBLISHED)
        self.prices = dict(PRICES)
        self.deprecated: set[str] = set()  # listed with metadata.status "deprecated"
        # Benchmark knob (see the module docstring).
        self.job_seconds: float | None = None
        self.slow_seconds = 1.5  # the "slow-create" scenario's delay
        # A request for several shots gets a video with a cut per shot (tests/fakes/multishot_video.py): each
        # cut `shot_offsets[k]` frames off its booked place, on a keyframe of its own or not.
        self.shot_offsets: tuple[int, ...] = ()
        self.keyframes_at_cuts = True
        self.webhook_deliveries: list[tuple[str, int | str]] = []  # (request id, outcome)
        for timer in getattr(self, "_timers", ()):
            timer.cancel()
        self._timers: list[threading.Timer] = []

    def close(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def scenario(self) -> str:
        return self._scenario

    @scenario.setter
    def scenario(self, name: str) -> None:
        if name not in SCENARIOS:  # a typo must not quietly test the happy path
            raise ValueError(f"Unknown scenario {name!r}; pick one of {SCENARIOS}.")
        self._scenario = name

    url = property(lambda self: f"http://127.0.0.1:{self.httpd.server_address[1]}")
    api_url = property(lambda self: f"{self.url}/v1")
    cdn_url = property(lambda self: f"http://localhost:{self.httpd.server_address[1]}")
    jwks_url = property(lambda self: f"{self.url}/.well-known/jwks.json")

    def seen(self, method: str, pattern: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and re.fullmatch(pattern, r.path)]

    def rotate_keys(self) -> None:
        """fal publishes a new key and signs with it from now on."""
        self.signing_keys = [Ed25519PrivateKey.generate()]

    def jwks(self) -> dict:
        keys = []
        for key in self.signing_keys:
            raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
            keys.append({"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig",
                         "kid": hashlib.sha256(raw).hexdigest()[:16],
                         "x": base64.urlsafe_b64encode(raw).rstrip(b"=").decode()})
        return {"keys": keys}

    def sign_webhook(self, body: bytes, *, request_id: str, timestamp: int | None = None,
                     key: Ed25519PrivateKey | None = None) -> dict:
        """The headers fal sends with a webhook delivery of `body`."""
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        message = "\n".join([request_id, self.user_id, stamp, hashlib.sha256(body).hexdigest()]).encode()
        signature = (key or self.signing_keys[0]).sign(message).hex()
        return {"X-Fal-Webhook-Request-Id": request_id, "X-Fal-Webhook-User-Id": self.user_id,
                "X-Fal-Webhook-Timestamp": stamp, "X-Fal-Webhook-Signature": signature}

    def urls(self, job: Request) -> dict:
        base = f"{self.url}/{job.app}/requests/{job.id}"
        if job.scenario == "custom-urls":
            return {"response_url": base, "status_url": f"{self.url}/q/{job.id}/state",
                    "cancel_url": f"{self.url}/q/{job.id}/stop"}
        if job.scenario == "foreign-urls":
            base = f"http://attacker.invalid/{job.app}/requests/{job.id}"
        return {"response_url": base, "status_url": base + "/status", "cancel_url": base + "/cancel"}

    def stage(self, job: Request) -> str:
        stage = self._stage(job)
        if stage in ("done", "canceled") and job.ended_at is None:
            job.ended_at = job.sent_at + job.duration if job.duration is not None else time.time()
        return stage

    def _stage(self, job: Request) -> str:
        if job.canceled:
            return "canceled"
        if job.done_at is not None:  # timed: real time decides, not the number of polls
            return "done" if time.monotonic() >= job.done_at else "running"
        return "queued" if job.polls <= 1 else "running" if job.polls == 2 else "done"


class _Handler(RecordingHandler):
    def handle_request(self, fake, record: Recorded) -> None:
        route(fake, self, record)


def detail(h: _Handler, status: int, message) -> None:
    h.reply(status, {"detail": message})


def route(fake: FalServer, h: _Handler, r: Recorded) -> None:
    if r.path == "/.well-known/jwks.json" and r.method == "GET":
        return h.reply(200, fake.jwks())
    if r.path.startswith("/cdn/") and r.method == "GET":
        return serve_output(fake, h, r)
    if r.path == "/v1/models" and r.method == "GET":
        return model_search(fake, h, r)
    auth = r.headers.get("authorization", "")
    if not (auth.startswith("Key ") and auth[4:] in {fake.api_key, *fake.other_keys}):
        return detail(h, 401, "Unauthorized: invalid or missing credentials (Authorization: Key <key>).")
    if r.path == "/v1/models/pricing" and r.method == "GET":
        return pricing(fake, h, r)
    if r.path == "/v1/models/requests/by-endpoint" and r.method == "GET":
        return request_listing(fake, h, r, key=auth[4:])
    if match := re.fullmatch(r"(?:/([^/]+/[^/]+)/requests/([0-9a-f-]{36})(/status|/cancel)?|/q/([0-9a-f-]{36})/(state|stop))",
                             r.path):
        return request_route(fake, h, r, match)
    if r.method == "POST":
        return submit(fake, h, r, r.path.strip("/"))
    detail(h, 404, "Not Found")


def model_search(fake: FalServer, h: _Handler, r: Recorded) -> None:
    """GET /v1/models: list, find (`endpoint_id`, repeated) or search (`category`, `status`, `q`) mode."""
    auth = r.headers.get("authorization")
    if auth is not None and auth != f"Key {fake.api_key}":
        return detail(h, 401, "Invalid API key")
    names = {name for name, _value in r.query_items}
    if names - {"limit", "cursor", "endpoint_id", "q", "category", "status", "expand"}:
        return detail(h, 400, f"Unknown query parameter: {sorted(names - {'limit', 'cursor', 'endpoint_id', 'q', 'category', 'status', 'expand'})[0]}")
    wanted = [v for name, v in r.query_items if name == "endpoint_id"]
    if len(wanted) > 50:
        return detail(h, 400, "endpoint_id accepts 1-50 values")
    expand = [v for name, v in r.query_items if name == "expand"]
    if set(expand) - {"openapi-3.0", "enterprise_status"}:
        return detail(h, 400, "Unknown expand value")
    status = r.query.get("status")
    if status not in (None, "active", "deprecated"):
        return detail(h, 400, "status must be active or deprecated")
    with fake.lock:
        published = dict(fake.published)
        deprecated = set(fake.deprecated)
    found = []
    for endpoint_id, (name, category, schema_name, properties) in published.items():
        endpoint_status = "deprecated" if endpoint_id in deprecated else "active"
        if wanted and endpoint_id not in wanted:
            continue
        if r.query.get("category") and category != r.query["category"]:
            continue
        if status and endpoint_status != status:
            continue
        if r.query.get("q") and r.query["q"].lower() not in f"{endpoint_id} {name}".lower():
            continue
        model = {"endpoint_id": endpoint_id, "metadata": {
            "display_name": name, "category": category, "description": f"{name} on fal.",
            "status": endpoint_status, "tags": [], "updated_at": "2026-12-01T12:00:00Z", "is_favorited": False,
            "thumbnail_url": f"https://fal.media/files/{endpoint_id}.jpg",
            "model_url": f"https://fal.run/{endpoint_id}", "date": "2026-11-01T00:00:00Z",
            "highlighted": False, "pinned": False}}
        if "openapi-3.0" in expand:
            model["openapi"] = fal_openapi(endpoint_id, category=category, schema_name=schema_name,
                                           properties=properties)
        found.append(model)
    limit = r.query.get("limit", "50")
    if not limit.isdigit() or int(limit) < 1:
        return detail(h, 400, "limit must be a positive integer")
    size = min(int(limit), SEARCH_PAGE_WITH_SCHEMAS if "openapi-3.0" in expand else 100)
    try:
        start = int(base64.b64decode(r.query.get("cursor", "MA==")).decode()) if r.query.get("cursor") else 0
    except ValueError:
        return detail(h, 400, "Invalid cursor")
    page, more = found[start:start + size], start + size < len(found)
    h.reply(200, {"models": page, "has_more": more,
                  "next_cursor": base64.b64encode(str(start + size).encode()).decode() if more else None})


def pricing(fake: FalServer, h: _Handler, r: Recorded) -> None:
    """GET /v1/models/pricing?endpoint_id=… (1-50, repeated or comma-separated)."""
    if {name for name, _value in r.query_items} - {"endpoint_id"}:
        return detail(h, 400, "Unknown query parameter")
    wanted = [e for name, v in r.query_items if name == "endpoint_id" for e in v.split(",") if e]
    if not 1 <= len(wanted) <= 50:
        return detail(h, 422, "endpoint_id: provide 1-50 endpoint IDs")
    with fake.lock:
        prices = dict(fake.prices)
    h.reply(200, {"prices": [{"endpoint_id": e, "unit_price": prices[e][0], "unit": prices[e][1], "currency": "USD"}
                             for e in wanted if e in prices], "next_cursor": None, "has_more": False})


LISTING_PARAMETERS = {"limit", "cursor", "endpoint_id", "start", "end", "status", "request_id", "expand"}


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_iso(value: str) -> float | None:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def request_listing(fake: FalServer, h: _Handler, r: Recorded, *, key: str) -> None:
    """GET /v1/models/requests/by-endpoint: the calling account's ended requests on the endpoints asked."""
    names = {name for name, _value in r.query_items}
    if names - LISTING_PARAMETERS:
        return detail(h, 400, f"Unknown query parameter: {sorted(names - LISTING_PARAMETERS)[0]}")
    if len([v for name, v in r.query_items if name in ("limit", "cursor", "start", "end", "status")]) > len(
            {name for name, _v in r.query_items if name in ("limit", "cursor", "start", "end", "status")}):
        return detail(h, 400, "limit, cursor, start, end and status are given once")
    wanted = [e for name, v in r.query_items if name == "endpoint_id" for e in v.split(",") if e]
    if not 1 <= len(wanted) <= 50:
        return detail(h, 422, "endpoint_id: provide 1-50 endpoint IDs")
    expand = {e for name, v in r.query_items if name == "expand" for e in v.split(",") if e}
    if expand - {"payloads"}:
        return detail(h, 422, "expand: only payloads can be expanded")
    limit = r.query.get("limit", "50")
    if not (limit.isdigit() and 1 <= int(limit) <= 100):
        return detail(h, 422, "limit must be between 1 and 100")
    now = time.time()
    start = _parse_iso(r.query["start"]) if "start" in r.query else now - 24 * 3600
    end = _parse_iso(r.query["end"]) if "end" in r.query else now + 1
    if start is None or end is None:
        return detail(h, 422, "start and end must be ISO 8601 dates")
    status = r.query.get("status")
    if status not in (None, "success", "error", "user_error"):
        return detail(h, 422, "status must be success, error or user_error")
    try:
        offset = int(base64.b64decode(r.query["cursor"], validate=True).decode()) if "cursor" in r.query else 0
    except ValueError:
        return detail(h, 400, "Invalid cursor")
    with fake.lock:
        jobs = list(fake.jobs.values())
    items = []
    for job in jobs:
        fake.stage(job)  # ended by real time, for a timed request
        if job.key != key or job.endpoint not in wanted or job.ended_at is None or not start <= job.sent_at < end:
            continue
        if r.query.get("request_id") not in (None, job.id):
            continue
        failed = job.canceled or job.scenario == "moderation"
        if status and status != ("user_error" if failed else "success"):
            continue
        item: dict[str, Any] = {"request_id": job.id, "endpoint_id": job.endpoint, "sent_at": _iso(job.sent_at),
                "started_at": _iso(job.sent_at + 0.5), "ended_at": _iso(job.ended_at),
                "status_code": 422 if failed else 200, "duration": round(job.ended_at - job.sent_at, 3)}
        if "payloads" in expand:
            item["json_input"] = job.inputs
            item["json_output"] = None if failed else {"video": {"url": f"{fake.cdn_url}/cdn/{job.id}/output.mp4"}}
        items.append(item)
    items.sort(key=lambda item: item["ended_at"], reverse=True)
    size = int(limit)
    page, more = items[offset:offset + size], offset + size < len(items)
    h.reply(200, {"items": page, "has_more": more,
                  "next_cursor": base64.b64encode(str(offset + size).encode()).decode() if more else None})


def _from_schema(properties: dict) -> dict:
    """A published endpoint's input rules, from its own schema (for endpoints a test publishes)."""
    return {name: (needed, lambda v, n=name: not check_input({n: v}, {n: properties[n]}))
            for name, (_spec, needed) in properties.items()}


def submit(fake: FalServer, h: _Handler, r: Recorded, endpoint: str) -> None:
    schema = MODELS.get(endpoint)
    if schema is None and endpoint in fake.published:
        schema = _from_schema(fake.published[endpoint][3])
    if schema is None:
        return detail(h, 404, f"Application '{endpoint}' not found")
    if set(r.query) - {"fal_webhook"}:
        return detail(h, 400, f"Unknown query parameter: {sorted(set(r.query) - {'fal_webhook'})[0]}")
    if "fal_webhook" in r.query and not r.query["fal_webhook"].startswith(("https://", "http://")):
        return detail(h, 400, "fal_webhook must be a URL")
    if not r.headers.get("content-type", "").startswith("application/json"):
        return detail(h, 415, "Expected a JSON body")
    try:
        r.json = inputs = json.loads(r.body)
    except ValueError:
        return detail(h, 400, "Invalid JSON body")
    if not isinstance(inputs, dict):
        return h.reply(422, {"detail": [{"loc": ["body"], "msg": "Input should be an object", "type": "dict_type"}]})
    problems = [{"loc": ["body", k], "msg": "Extra inputs are not permitted", "type": "extra_forbidden"}
                for k in sorted(set(inputs) - set(schema))]
    problems += [{"loc": ["body", k], "msg": "Field required", "type": "missing"}
                 for k, (required, _) in schema.items() if required and k not in inputs]
    problems += [{"loc": ["body", k], "msg": f"Invalid value {v!r}", "type": "value_error"}
                 for k, v in inputs.items() if k in schema and not schema[k][1](v)]
    problems = problems or input_problems(endpoint, inputs, schema)
    if problems:
        return h.reply(422, {"detail": problems})
    if fake.scenario == "throttled" and not fake.throttled:
        fake.throttled = True
        return detail(h, 429, "Too many concurrent requests.")
    if fake.scenario == "server-error":
        return detail(h, 500, "Internal Server Error")
    with fake.lock:
        job = Request(id=str(uuid.uuid4()), endpoint=endpoint, app="/".join(endpoint.split("/")[:2]),
                      scenario=fake.scenario, inputs=inputs, duration=fake.job_seconds,
                      key=r.headers["authorization"][4:])
        fake.jobs[job.id] = job
        fake.accepted += 1
        if job.duration is not None and "fal_webhook" in r.query:
            timer = threading.Timer(job.duration, deliver_webhook, (fake, job, r.query["fal_webhook"]))
            timer.daemon = True
            fake._timers.append(timer)
            timer.start()
    if job.scenario == "slow-create":
        time.sleep(fake.slow_seconds)
    h.reply(200, {"status": "IN_QUEUE", "request_id": job.id, **fake.urls(job), "queue_position": 0})


def request_route(fake: FalServer, h: _Handler, r: Recorded, match) -> None:
    app, request_id = match[1], match[2] or match[4]
    action = {"/status": "status", "/cancel": "cancel", "state": "status", "stop": "cancel"}.get(
        match[3] or match[5], "result")
    job = fake.jobs.get(request_id)
    # A request answers on its own app only; custom-urls requests poll and cancel under /queue/ only.
    wrong_path = action != "result" and (job is not None and (job.scenario == "custom-urls") != bool(match[4]))
    if job is None or (app is not None and job.app != app) or wrong_path:
        if action == "cancel":
            return h.reply(404, {"status": "NOT_FOUND"})
        return detail(h, 404, "Request not found")
    if job.key != r.headers.get("authorization", "")[4:]:  # another account's request
        return h.reply(404, {"status": "NOT_FOUND"}) if action == "cancel" else detail(h, 404, "Request not found")
    if action == "status" and r.method == "GET":
        if set(r.query) - {"logs"}:
            return detail(h, 400, "Unknown query parameter")
        job.polls += 1
        stage = fake.stage(job)
        urls = fake.urls(job)
        if stage == "queued":
            return h.reply(200, {"status": "IN_QUEUE", "queue_position": 2, "response_url": urls["response_url"]})
        percent = 50 if job.done_at is None or not job.duration else min(
            99, int(100 * (1 - (job.done_at - time.monotonic()) / job.duration)))
        logs = [{"message": f"Generating video {percent}%", "level": "INFO", "source": "user",
                 "timestamp": "2026-11-26T10:00:00Z"}] if r.query.get("logs") == "1" else None
        if stage == "running":
            return h.reply(200, {"status": "IN_PROGRESS", "logs": logs, "response_url": urls["response_url"]})
        done = {"status": "COMPLETED", "logs": logs, "response_url": urls["response_url"],
                "metrics": {"inference_time": 41.5 if job.duration is None else job.duration}}
        if stage == "canceled":
            done.update(error="Request was cancelled by the user.", error_type="request_cancelled")
        elif job.scenario == "moderation":
            done.update(error="The content could not be processed because it was flagged by a content checker.",
                        error_type="content_policy_violation")
        return h.reply(200, done)
    if action == "result" and r.method == "GET":
        if fake.stage(job) != "done":
            return detail(h, 400, "Request is still in progress")
        if job.scenario == "moderation":
            return h.reply(422, {"detail": [{"loc": ["body", "prompt"], "type": "content_policy_violation",
                                             "msg": "The content was flagged by a content checker."}]})
        return h.reply(200, {"video": {"url": f"{fake.cdn_url}/cdn/{job.id}/output.mp4",
                                       "content_type": "video/mp4", "file_size": len(fake.video)},
                             "seed": 1234})
    if action == "cancel" and r.method == "PUT":
        if fake.stage(job) == "done":
            return h.reply(400, {"status": "ALREADY_COMPLETED"})
        job.canceled = True
        return h.reply(202, {"status": "CANCELLATION_REQUESTED"})
    detail(h, 405, "Method Not Allowed")


def deliver_webhook(fake: FalServer, job: Request, url: str, attempts: int = 3) -> None:
    """POST the finished request's signed delivery to its `fal_webhook`, as fal does."""
    remaining = (job.done_at or 0) - time.monotonic()
    if remaining > 0:  # a timer may wake a hair early
        time.sleep(remaining)
    if job.scenario == "moderation":
        result = {"status": "ERROR", "error": "The content was flagged by a content checker.",
                  "payload": {"detail": [{"loc": ["body", "prompt"], "type": "content_policy_violation",
                                          "msg": "The content was flagged by a content checker."}]}}
    else:
        result = {"status": "OK", "payload": {"video": {"url": f"{fake.cdn_url}/cdn/{job.id}/output.mp4",
                                                        "content_type": "video/mp4"}}}
    body = json.dumps({"request_id": job.id, "gateway_request_id": job.id, **result}).encode()
    outcome: int | str = "not sent"
    for attempt in range(attempts):
        headers = {"Content-Type": "application/json", **fake.sign_webhook(body, request_id=job.id)}
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                outcome = response.status
        except urllib.error.HTTPError as exc:
            outcome = exc.code
        except OSError as exc:
            outcome = f"{type(exc).__name__}: {exc}"
        if isinstance(outcome, int) and outcome < 500:
            break  # delivered, or refused for good
        time.sleep(0.5 * 2**attempt)
    with fake.lock:
        fake.webhook_deliveries.append((job.id, outcome))


def serve_output(fake: FalServer, h: _Handler, r: Recorded) -> None:
    job = fake.jobs.get(r.path.split("/")[2])
    if job is None or job.scenario == "expired":
        return h.reply(404, body=b"Not found", content_type="text/plain")
    if "authorization" in r.headers:  # the CDN must never be sent the key
        return h.reply(400, body=b"Unexpected credentials", content_type="text/plain")
    shots = shots_of(job)
    if shots is not None:
        durations, size = shots
        return h.reply(200, body=multishot_mp4(durations, size=size, offsets=fake.shot_offsets,
                                               keyframes_at_cuts=fake.keyframes_at_cuts), content_type="video/mp4")
    h.reply(200, body=fake.video, content_type="video/mp4")


_server: FalServer | None = None


@pytest.fixture
def fal_server() -> FalServer:
    """One server per test run, reset for each test (with a fresh signing key)."""
    global _server
    if _server is None:
        _server = FalServer()
        atexit.register(_server.httpd.shutdown)
    with _server.lock:
        _server.reset()
    return _server
