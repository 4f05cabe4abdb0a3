"""Google Veo through the Gemini API (`generativelanguage.googleapis.com/v1beta`).

A take is one long-running operation: `POST models/{model}:predictLongRunning`
answers with the operation's `name`, which is our job id; `GET {name}` tells
when it is done. The finished video is a URI on the API's own host that needs
the key and redirects to Google's storage: the key must never follow it there.
There is no cancel and no webhook, and results are kept two days. Provider
objects are rebuilt per task, so download() re-reads the operation for its URI.

The same connection renders Gemini Omni Flash (`gemini-omni-*`), which the Gemini API serves through
its Interactions API instead: gemini_omni.py, whose job ids are `interactions/{id}`.
"""

from __future__ import annotations

import base64
import mimetypes
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx
from django.utils import formats
from django.utils.translation import gettext

from generation.words import Said, said

from .base import (
    CancelRefund,
    ExtendRequest,
    JobListing,
    JobState,
    ModelSpec,
    Provider,
    ProviderError,
    ProviderFacts,
    RenderRequest,
    WebhookScheme,
)
from .gemini_omni import GeminiInteractions, is_interaction, is_omni
from .http import (
    EXPIRED,
    HttpAdapter,
    error_from_response,
    json_object,
    provider_detail,
    stream_download,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com"
# Model ids are plain names ("veo-3.1-generate-preview"): nothing that could climb the path.
MODEL_ID = re.compile(r"^[a-z0-9][a-z0-9.-]*$")
OPERATION = re.compile(r"^models/[a-z0-9][a-z0-9.-]*/operations/[A-Za-z0-9_-]+$")
SIZES = {  # our size -> (aspectRatio, resolution)
    "1280x720": ("16:9", "720p"),
    "720x1280": ("9:16", "720p"),
    "1920x1080": ("16:9", "1080p"),
    "1080x1920": ("9:16", "1080p"),
}
DURATIONS = (4, 6, 8)
LONG_ONLY = 8  # 1080p and reference images render only at 8 seconds
MAX_REFERENCES = 3
IMAGE_TYPES = {"image/png", "image/jpeg", "image/webp"}
THROTTLE_RETRIES = 3
THROTTLE_WAIT_CAP = 30.0
GONE = said("veo.gone")
# Where Veo renders now: google-genai 3.0 refuses generate_videos outside Vertex ("only supported in Gemini
# Enterprise Agent Platform mode"), and the Gemini API retired its Veo preview ids.
VERTEX_WAY = said("veo.vertex_way")
# Google's words when the call itself has moved, not only the model: the SDK's refusal, a method the
# API no longer has, an answer pointing at Vertex or at generateContent.
METHOD_MOVED = re.compile(r"only supported in|Agent Platform|Vertex|generateContent|method not found",
                          re.IGNORECASE)


def request_problems(request: RenderRequest) -> list[str]:
    """Plain-words reasons Veo would refuse `request` (empty if it renders): checked before
    anything is sent, so a refusal costs nothing."""
    problems = []
    if request.size not in SIZES:
        problems.append(gettext("Veo renders %(sizes)s, not %(size)s.") % {"sizes": ", ".join(SIZES),
                                                                           "size": request.size})
    if request.seconds not in DURATIONS:
        problems.append(gettext("Veo renders 4, 6 or 8 seconds, not %(seconds)s.") % {"seconds": request.seconds})
    elif SIZES.get(request.size, ("", ""))[1] == "1080p" and request.seconds != LONG_ONLY:
        problems.append(gettext("Veo renders 1080p only at 8 seconds, not %(seconds)s: choose 8 seconds or a 720p "
                                "size.") % {"seconds": request.seconds})
    if request.end_frame is not None and request.input_reference is None:
        problems.append(gettext("Veo ends on a last frame only after a first frame (it moves from one to the "
                                "other): give the take a start frame too."))
    return problems + reference_problems(request)


def reference_problems(request: RenderRequest) -> list[str]:
    """Why Veo 3.1 would not keep the cast's likeness from `request`'s reference images (empty if it
    would). Google's rule for the model, wherever it is served (the Gemini API, Replicate)."""
    problems = []
    if references_for(request) and request.seconds != LONG_ONLY:
        problems.append(gettext("Veo keeps a cast member's likeness only in 8-second takes, not %(seconds)s: "
                                "choose 8 seconds or a model without cast references.")
                        % {"seconds": request.seconds})
    if references_for(request) and request.width * 9 != request.height * 16:
        problems.append(gettext("Veo keeps a cast member's likeness only in landscape (16:9) takes: choose a "
                                "16:9 size."))
    return problems


def references_for(request: RenderRequest) -> tuple[Path, ...]:
    """The cast's likeness images Veo 3.1 is sent (at most three). It takes a start or end frame, or
    likeness references, never both: beside a frame none go (Google ignores them there) and the cast
    travels by description in the prompt."""
    if request.input_reference is not None or request.end_frame is not None:
        return ()
    return tuple(request.character_images[:MAX_REFERENCES])


# Extending a Veo video on the Gemini API [docs]: the previous generation's video (its `uri`, from the
# operation that made it; Google keeps it two days) plus a new prompt, +7 s, 720p only, up to 141 s in;
# the answer is one video holding the input and its continuation.
EXTEND_SECONDS = 7
EXTEND_SOURCE_MAX_SECONDS = 141


def extend_problems(request: ExtendRequest) -> list[str]:
    """Why Veo would refuse to extend (empty if it extends): checked before anything is sent."""
    problems = []
    if request.seconds != EXTEND_SECONDS:
        problems.append(gettext("Veo extends a video by %(by)s seconds, not %(seconds)s.")
                        % {"by": EXTEND_SECONDS, "seconds": request.seconds})
    if SIZES.get(request.size, ("", ""))[1] != "720p":
        problems.append(gettext("Veo extends 720p videos only, not %(size)s.") % {"size": request.size})
    if request.source_seconds is not None and request.source_seconds > EXTEND_SOURCE_MAX_SECONDS:
        problems.append(gettext("Veo extends videos of at most %(longest)s seconds; this take is %(length)s s long.")
                        % {"longest": EXTEND_SOURCE_MAX_SECONDS,
                           "length": formats.number_format(request.source_seconds, 0)})
    return problems


def build_extend_body(request: ExtendRequest, uri: str) -> dict[str, Any]:
    """google-genai's generate_videos(video=…) on the Gemini API: instances[0].video.uri beside the prompt."""
    return {"instances": [{"prompt": request.prompt, "video": {"uri": uri}}],
            "parameters": {"resolution": "720p"}}


def _inline_image(path: Path) -> dict[str, Any]:
    """The API takes images inline only: base64 bytes plus their type."""
    path = Path(path)
    mime = mimetypes.guess_type(path.name)[0] or ""
    if mime not in IMAGE_TYPES:
        raise ProviderError(said("veo.image_type", kind=path.suffix or path.name), code="invalid_request")
    return {"bytesBase64Encoded": base64.b64encode(path.read_bytes()).decode(), "mimeType": mime}


def build_body(request: RenderRequest) -> dict[str, Any]:
    """Our request as Google's `predictLongRunning` body, field for field."""
    aspect_ratio, resolution = SIZES[request.size]
    instance: dict[str, Any] = {"prompt": request.prompt}
    if request.input_reference is not None:
        instance["image"] = _inline_image(request.input_reference)
    if request.end_frame is not None:
        # Frame interpolation: google-genai's GenerateVideosConfig.last_frame → instances[0].lastFrame.
        instance["lastFrame"] = _inline_image(request.end_frame)
    references = references_for(request)
    if references:
        instance["referenceImages"] = [
            {"image": _inline_image(path), "referenceType": "ASSET"} for path in references
        ]
    return {
        "instances": [instance],
        "parameters": {"durationSeconds": request.seconds, "aspectRatio": aspect_ratio,
                       "resolution": resolution},
    }


class VeoProvider(GeminiInteractions, HttpAdapter, Provider):
    key = "veo"
    has_thumbnail = False  # Veo outputs the video only; the studio takes a frame from it
    # Named for the connection, not one model: the Gemini API serves Veo and Gemini Omni alike.
    facts = ProviderFacts(
        title="Google Gemini API", default_base_url=DEFAULT_BASE_URL, auth_header="x-goog-api-key: <key>",
        webhooks=WebhookScheme.NONE,
        # The Gemini API cannot cancel a video operation: canceling a take stops the studio watching
        # it, and Google renders (and bills) it all the same.
        cancels=False, cancel_refund=CancelRefund.NONE,
        job_listing=JobListing.NONE,
        reports_job_time=False,  # a Gemini operation has no timestamps: only done or not
        reports_billed_cost=False,
        bills_refused_jobs=False,  # a video its safety filters block is not charged, its answer says
        sends_end_frame=True,  # instances[0].lastFrame
        sends_reference_images=True,  # instances[0].referenceImages (ASSET)
        extends=True,  # instances[0].video: the uri of a video Veo made, +7 s
    )
    job_listing_hint = said("veo.listing_hint")

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        name: str = "Google Veo",
        models: tuple[ModelSpec, ...] = (),
        client: httpx.Client | None = None,
        sleep: Callable[[float], None]=time.sleep,
    ) -> None:
        self.name = name
        self.models = tuple(models)
        # Owners often paste the versioned URL from Google's examples; the paths carry /v1beta.
        base_url = base_url.rstrip("/").removesuffix("/v1beta") or DEFAULT_BASE_URL
        self._connect(base_url=base_url, client=client, sleep=sleep, auth={"x-goog-api-key": api_key})

    # ---- the wire ---------------------------------------------------------------------

    def _call(self, method: str, path: str, *, idempotent: bool, **kwargs: Any) -> httpx.Response:
        """Send, also waiting out Google's throttles.

        Google words every 429 as "You exceeded your current quota", per-minute limits too, so
        the shared retry rules read it as an exhausted account. A 429 carrying a RetryInfo delay
        (a per-minute limit) is a throttle: the request was refused, so even a create may be
        sent again after the wait Google names. Only a create waits here (the pipeline does
        not resubmit); a throttled poll is rescheduled by the pipeline instead of holding a worker."""
        retries = 0 if idempotent else THROTTLE_RETRIES
        for attempt in range(retries + 1):
            response = self._send(method, path, idempotent=idempotent, **kwargs)
            wait = _throttle_wait(response)
            if wait is None:
                return response
            if attempt == retries:
                raise ProviderError(said("provider.rate_limited", provider=self.name),
                                    code="rate_limited", retryable=True, retry_after=wait)
            self._sleep(min(wait, THROTTLE_WAIT_CAP))
        raise AssertionError("unreachable")

    def _fail_auth(self, response: httpx.Response) -> ProviderError | None:
        """Google refusing the key itself (ErrorInfo API_KEY_INVALID / _EXPIRED), whichever API answered."""
        if response.status_code in (400, 401, 403) and _reason(response) in ("API_KEY_INVALID", "API_KEY_EXPIRED"):
            return ProviderError(said("veo.key_rejected", provider=self.name), code="auth")
        return None

    def _fail(self, response: httpx.Response, *, model: str = "") -> ProviderError:
        status = response.status_code
        if (failed := self._fail_auth(response)) is not None:
            return failed
        google = " ".join(provider_detail(response)[0].split())[:300]
        if model and status in (400, 403, 404) and METHOD_MOVED.search(google):
            return ProviderError(said("veo.moved", said=google, way=VERTEX_WAY), code="model_unknown")
        if status == 404 and model:
            return ProviderError(said("veo.model_retired", model=model, way=VERTEX_WAY), code="model_unknown")
        return error_from_response(response, self.name)

    # ---- the Provider interface -------------------------------------------------------------

    def submit(self, request: RenderRequest) -> str:
        if not MODEL_ID.match(request.model):
            raise ProviderError(said("google.model_retired", model=request.model), code="model_unknown")
        if is_omni(request.model):
            return self.interaction_submit(request)
        problems = request_problems(request)
        if problems:
            raise ProviderError(" ".join(problems), code="invalid_request")
        response = self._call("POST", f"/v1beta/models/{request.model}:predictLongRunning",
                              idempotent=False, json=build_body(request))
        if response.is_error:
            raise self._fail(response, model=request.model)
        try:
            name = json_object(response, self.name).get("name")
        except ProviderError:
            name = None
        if not (isinstance(name, str) and OPERATION.match(name)):
            # Accepted, maybe billed, but we cannot track it: never resubmit blindly.
            raise ProviderError(said("veo.no_operation", provider=self.name), code="server")
        return name

    def extend(self, request: ExtendRequest) -> str:
        """Continue a Veo video this connection made: Google takes it only by the uri of its own result."""
        if is_omni(request.model):
            raise ProviderError(said("veo.no_omni_extend", provider=self.name), code="invalid_request")
        if not MODEL_ID.match(request.model):
            raise ProviderError(said("google.model_retired", model=request.model), code="model_unknown")
        if problems := extend_problems(request):
            raise ProviderError(" ".join(problems), code="invalid_request")
        operation = self._operation(request.source_job_id) if request.source_job_id else None
        uri = _video_uri(operation) if operation and operation.get("done") and not operation.get("error") else None
        if uri is None:
            raise ProviderError(said("veo.extend_gone"), code="expired")
        response = self._call("POST", f"/v1beta/models/{request.model}:predictLongRunning", idempotent=False,
                              json=build_extend_body(request, uri))
        if response.is_error:
            raise self._fail(response, model=request.model)
        try:
            name = json_object(response, self.name).get("name")
        except ProviderError:
            name = None
        if not (isinstance(name, str) and OPERATION.match(name)):
            raise ProviderError(said("veo.no_operation", provider=self.name), code="server")
        return name

    def _operation(self, job_id: str) -> dict[str, Any] | None:
        """The operation, or None when Google no longer knows it."""
        if not OPERATION.match(job_id):
            return None
        response = self._call("GET", "/v1beta/" + quote(job_id, safe="/"), idempotent=True)
        if response.status_code == 404:
            return None
        if response.is_error:
            raise self._fail(response)
        return json_object(response, self.name)

    def poll(self, job_id: str) -> JobState:
        if is_interaction(job_id):
            return self.interaction_poll(job_id)
        operation = self._operation(job_id)
        if operation is None:
            return JobState(status="failed", error=GONE)
        if not operation.get("done"):
            return JobState(status="running")  # Veo reports no progress
        if operation.get("error"):
            return JobState(status="failed", **_failure(operation["error"]))
        if _video_uri(operation) is None:
            return JobState(status="failed", **_no_video(operation))
        return JobState(status="succeeded", progress=100)

    def download(self, job_id: str, variant: str, dest: Path) -> None:
        if variant != "video":
            raise ProviderError(said("provider.video_only", provider=self.name),
                                code="invalid_request")
        if is_interaction(job_id):
            return self.interaction_download(job_id, Path(dest))
        operation = self._operation(job_id)
        if operation is None:
            raise ProviderError(EXPIRED, code="expired")
        uri = _video_uri(operation) if operation.get("done") and not operation.get("error") else None
        if uri is None:
            raise ProviderError(said("provider.no_finished_video", provider=self.name), code="bad_download")
        # The URI is on the API's host and needs the key; it redirects to Google's storage,
        # which stream_download reaches without the key (credentials stay on our origin).
        stream_download(self._client, uri, Path(dest), headers=self._auth, provider_name=self.name)

    def test_connection(self) -> Said:
        response = self._call("GET", "/v1beta/models", idempotent=True, params={"pageSize": 1})
        if response.status_code == 404:
            raise ProviderError(said("veo.no_gemini_api", provider=self.name, default=DEFAULT_BASE_URL),
                                code="invalid_request")
        if response.is_error:
            raise self._fail(response)
        return said("veo.connected", provider=self.name)


# ---- reading Google's answers --------------------------------------------------------------

def _details(response: httpx.Response) -> list[dict[str, Any]]:
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError, httpx.ResponseNotRead):
        return []
    details = error.get("details") if isinstance(error, dict) else None
    return [d for d in details if isinstance(d, dict)] if isinstance(details, list) else []


def _reason(response: httpx.Response) -> str:
    """google.rpc.ErrorInfo's `reason` (API_KEY_INVALID, …), else ""."""
    for detail in _details(response):
        if detail.get("@type", "").endswith("google.rpc.ErrorInfo"):
            return str(detail.get("reason") or "")
    return ""


def _throttle_wait(response: httpx.Response) -> float | None:
    """Seconds to wait when a 429 is a per-minute throttle (it carries RetryInfo), else None."""
    if response.status_code != 429:
        return None
    for detail in _details(response):
        if detail.get("@type", "").endswith("google.rpc.RetryInfo"):
            match = re.fullmatch(r"(\d+(?:\.\d+)?)s", str(detail.get("retryDelay") or ""))
            return float(match[1]) if match else 1.0
    return None


def _video_response(operation: dict[str, Any]) -> dict[str, Any]:
    response = operation.get("response")
    video_response = response.get("generateVideoResponse") if isinstance(response, dict) else None
    return video_response if isinstance(video_response, dict) else {}


def _samples(operation: dict[str, Any]) -> list[Any]:
    samples = _video_response(operation).get("generatedSamples")
    return samples if isinstance(samples, list) else []


def _video_uri(operation: dict[str, Any]) -> str | None:
    for sample in _samples(operation):
        video = sample.get("video") if isinstance(sample, dict) else None
        uri = video.get("uri") if isinstance(video, dict) else None
        if isinstance(uri, str) and uri.startswith(("https://", "http://")):
            return uri
    return None


def _no_video(operation: dict[str, Any]) -> dict[str, Any]:
    """Why a finished operation has no video (JobState words and code): usually Google's safety (RAI) filters."""
    video_response = _video_response(operation)
    reasons = video_response.get("raiMediaFilteredReasons")
    if video_response.get("raiMediaFilteredCount") or reasons:
        google = " ".join(str(r) for r in reasons) if isinstance(reasons, list) and reasons else ""
        return {"error": said("veo.blocked_said", said=google) if google else said("veo.blocked"),
                "error_code": "moderation"}
    return {"error": said("veo.no_video")}


def _failure(error: object) -> dict[str, Any]:
    """A failed operation's JobState words (and code, for a safety refusal)."""
    if not isinstance(error, dict):
        return {"error": str(error or "") or said("veo.failed_unsaid")}
    message = " ".join(str(error.get("message") or "").split())[:300] or "Google did not say why."
    if re.search(r"safety|responsible ai|\brai\b|prohibited|blocked", message, re.IGNORECASE):
        return {"error": said("veo.refused", message=message), "error_code": "moderation"}
    return {"error": said("veo.failed", message=message)}


__all__ = ["DEFAULT_BASE_URL", "VeoProvider", "build_body", "reference_problems", "references_for", "request_problems"]
