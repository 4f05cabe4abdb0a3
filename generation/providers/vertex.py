"""Google Veo through Vertex AI (the "Gemini Enterprise Agent Platform"), with a service account.

A take is one long-running prediction:
`POST /v1/projects/{project}/locations/{region}/publishers/google/models/{model}:predictLongRunning`
answers `{"name": "projects/…/operations/{id}"}`, our job id; `POST …/models/{model}:fetchPredictOperation`
`{"operationName": name}` reads it (google-genai's Vertex path: `operations.get` → `_fetch_predict_videos_
operation`, on the resource the name starts with). A finished one carries
`response.videos[]`, each `{bytesBase64Encoded | gcsUri, mimeType}`: the video inline, or in the bucket
named by `parameters.storageUri` (gs://…) when the connection has one, read through Cloud Storage's JSON
API with the same token. Requests carry `Authorization: Bearer` with a token minted from the service
account (google_auth.py). No cancel (see the facts), no webhook, no job list.

The request body is the SDK's `_GenerateVideosParameters_to_vertex` for the fields the studio uses:
instances[0] {prompt, image, lastFrame, referenceImages[{image, referenceType}]}, parameters
{durationSeconds, aspectRatio, resolution, sampleCount, generateAudio, seed, storageUri}.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import quote

import httpx
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from generation.words import Said, said

from .base import (
    CancelRefund,
    Credentials,
    JobListing,
    JobState,
    ModelSpec,
    Provider,
    ProviderError,
    ProviderFacts,
    RenderRequest,
    WebhookScheme,
    dict_at,
)
from .google_auth import TokenSource
from .http import (
    NEVER_SENT,
    error_from_response,
    make_client,
    provider_detail,
    send_with_retries,
    stream_download,
)
from .json_stream import InlineFiles, Unreadable
from .veo import SIZES, _failure, _inline_image, _throttle_wait, references_for, request_problems

if TYPE_CHECKING:
    from typing import Any


# Shown where an address is: the real one is made from the connection's region (address()).
DEFAULT_BASE_URL = "https://REGION-aiplatform.googleapis.com"
STORAGE_URL = "https://storage.googleapis.com"
MODEL_ID = re.compile(r"^[a-z0-9][a-z0-9.-]*$")
# A Google Cloud project id: 6–30 lowercase letters, digits and hyphens, starting with a letter; old
# projects may carry a domain ("example.com:my-project").
PROJECT = re.compile(r"^(?:[a-z0-9.-]+\.[a-z]{2,}:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$")
# A Google Cloud location: a region (us-central1, europe-west4), a multi-region (us, eu) or global.
REGION = re.compile(r"^(?:[a-z]+-[a-z]+[0-9]{1,2}|us|eu|global)$")
MULTI_REGIONS = ("us", "eu")
OPERATION = re.compile(r"^(projects/[a-z0-9.:-]+/locations/[a-z0-9-]+/publishers/google/models/[a-z0-9][a-z0-9.-]*)"
                       r"/operations/[A-Za-z0-9_-]+$")
BUCKET = re.compile(r"^gs://([a-z0-9][a-z0-9._-]{1,220}[a-z0-9])(/[^\s]*)?$")
SEED_MAX = 4294967295  # uint32
THROTTLE_RETRIES = 3
THROTTLE_WAIT_CAP = 30.0
GONE = said("vertex.gone")


def endpoint_for(region: str) -> str:
    """Vertex AI's address for a location, as google-genai builds it."""
    if region == "global":
        return "https://aiplatform.googleapis.com"
    if region in MULTI_REGIONS:
        return f"https://aiplatform.{region}.rep.googleapis.com"
    return f"https://{region}-aiplatform.googleapis.com"


def project_problem(project: str) -> str | None:
    if PROJECT.fullmatch(project or ""):
        return None
    return _("“%(project)s” is not a Google Cloud project id: 6 to 30 lowercase letters, digits and hyphens, "
             "starting with a letter (the id, e.g. my-studio-123, not the project's name or number).") % {
        "project": (project or "")[:60]}


def region_problem(region: str) -> str | None:
    if REGION.fullmatch(region or ""):
        return None
    return _("“%(region)s” is not a Google Cloud location: write a region such as us-central1 or europe-west4 "
             "(Veo 3.1 is served in us-central1).") % {"region": (region or "")[:60]}


def bucket_problem(uri: str) -> str | None:
    if not uri or BUCKET.fullmatch(uri):
        return None
    return _("“%(uri)s” is not a Cloud Storage location: write gs://your-bucket or gs://your-bucket/folder, or "
             "leave it empty to get videos back in the answer.") % {"uri": uri[:80]}


def build_body(request: RenderRequest, *, output_uri: str = "") -> dict[str, Any]:
    """Our request as Vertex's `predictLongRunning` body, field for field."""
    aspect_ratio, resolution = SIZES[request.size]
    instance: dict[str, Any] = {"prompt": request.prompt}
    if request.input_reference is not None:
        instance["image"] = _inline_image(request.input_reference)
    if request.end_frame is not None:
        instance["lastFrame"] = _inline_image(request.end_frame)
    references = references_for(request)
    if references:
        # google-genai sends VideoGenerationReferenceType's value as it is: "ASSET".
        instance["referenceImages"] = [{"image": _inline_image(path), "referenceType": "ASSET"}
                                       for path in references]
    parameters = {
        "durationSeconds": request.seconds, "aspectRatio": aspect_ratio, "resolution": resolution,
        # One video per take, said outright: every extra sample is billed.
        "sampleCount": 1,
        # Required for Veo 3 models on Vertex; off when the catalog entry is booked without sound.
        "generateAudio": request.generate_audio is not False,
    }
    seed = (request.recipe.get("parameters") or {}).get("seed")
    if type(seed) is int and 0 <= seed <= SEED_MAX:
        parameters["seed"] = seed
    if output_uri:
        # One folder per take (its idempotency key): Google adds its own folder and sample_0.mp4 inside.
        parameters["storageUri"] = f"{output_uri.rstrip('/')}/{request.idempotency_key or 'take'}/"
    return {"instances": [instance], "parameters": parameters}


class VertexProvider(Provider):
    key = "vertex"
    has_thumbnail = False
    facts = ProviderFacts(
        title="Google Vertex AI", default_base_url=DEFAULT_BASE_URL,
        auth_header=gettext_noop("Authorization: Bearer <token minted from the service account>"),
        webhooks=WebhookScheme.NONE,
        # Vertex's operations.cancel is a best-effort cancel for the operations of Vertex's own resources
        # (datasets, endpoints, jobs); a Veo prediction's operation lives under the publisher model and is
        # read only through fetchPredictOperation, and Google documents no cancel for it (google-genai has
        # none either). Canceling a take stops the studio watching it; Google renders (and bills) it all
        # the same, so no cancel is offered and nothing is refunded.
        cancels=False, cancel_refund=CancelRefund.NONE,
        job_listing=JobListing.NONE,
        reports_job_time=False,
        reports_billed_cost=False,
        # Vertex's pricing does not say a video its safety filters block goes unbilled (the Gemini API's
        # answer says so; Vertex's does not): the estimate is kept.
        bills_refused_jobs=True,
        sends_end_frame=True,  # instances[0].lastFrame
        sends_reference_images=True,  # instances[0].referenceImages (ASSET)
        credentials=Credentials.SERVICE_ACCOUNT, cloud_project=True, output_bucket=True,
    )
    job_listing_hint = said("vertex.listing_hint")

    def __init__(self, *, service_account: str, project: str, region: str, output_uri: str = "",
                 base_url: str = "", storage_url: str = STORAGE_URL, name: str = "Google Vertex AI",
                 models: tuple[ModelSpec, ...] = (), client: httpx.Client | None = None,
                 storage_client: httpx.Client | None = None, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.time):
        self.name, self.models = name, tuple(models)
        self.project, self.region, self.output_uri = project, region, output_uri.rstrip("/")
        self._sleep = sleep
        base_url = (base_url or endpoint_for(region)).rstrip("/").removesuffix("/v1")
        self._client = client or make_client(base_url=base_url, headers={"User-Agent": "storyboard-studio"})
        self._storage = storage_client or make_client(base_url=storage_url.rstrip("/"),
                                                      headers={"User-Agent": "storyboard-studio"}, read=60.0)
        self.tokens = TokenSource(key_json=service_account, client=self._client, provider_name=name,
                                  sleep=sleep, clock=clock)

    @classmethod
    def address(cls, *, base_url: str, options: dict[str, Any]) -> str:
        region = (options or {}).get("region") or ""
        return base_url or (endpoint_for(region) if REGION.fullmatch(region) else DEFAULT_BASE_URL)

    # ---- the wire ---------------------------------------------------------------------

    def _send(self, method: str, path: str, *, idempotent: bool, client: httpx.Client | None = None,
              **kwargs: Any) -> httpx.Response:
        """Send with a bearer token; a 401 (a token revoked or expired early) mints a new one, once: the
        request was refused, so even a create may go again."""
        for attempt in range(2):
            token = self.tokens.token()
            response = send_with_retries(client or self._client, method, path, idempotent=idempotent,
                                         provider_name=self.name, sleep=self._sleep,
                                         headers={"Authorization": f"Bearer {token}"}, **kwargs)
            if response.status_code != 401 or attempt:
                return response
            self.tokens.forget(token)
        raise AssertionError("unreachable")

    def _call(self, method: str, path: str, *, idempotent: bool, **kwargs: Any) -> httpx.Response:
        """Send, waiting out Vertex's per-minute quota on a create (a 429 created nothing, so the create
        may go again after the wait); a throttled read is left to the pipeline's next poll."""
        retries = 0 if idempotent else THROTTLE_RETRIES
        for attempt in range(retries + 1):
            response = self._send(method, path, idempotent=idempotent, **kwargs)
            if response.status_code != 429:
                return response
            wait = _throttle_wait(response) or min(THROTTLE_WAIT_CAP, 2.0 * 2**attempt)
            if attempt == retries:
                raise ProviderError(said("provider.model_quota", provider=self.name), code="rate_limited",
                                    retryable=True, retry_after=wait)
            self._sleep(min(wait, THROTTLE_WAIT_CAP))
        raise AssertionError("unreachable")

    def _model_path(self, model: str) -> str:
        return f"/v1/projects/{self.project}/locations/{self.region}/publishers/google/models/{model}"

    def _fail(self, response: httpx.Response, *, model: str = "") -> ProviderError:
        status = response.status_code
        google = " ".join(provider_detail(response)[0].split())[:300]
        if status in (401, 403):
            return ProviderError(said("vertex.refused_account", provider=self.name, project=self.project,
                                      email=self.tokens.account.client_email, said=google or f"HTTP {status}"),
                                 code="auth")
        if status == 404 and model:
            return ProviderError(said("vertex.model_region", model=model, region=self.region), code="model_unknown")
        return error_from_response(response, self.name)

    # ---- the Provider interface -------------------------------------------------------------

    def submit(self, request: RenderRequest) -> str:
        if not MODEL_ID.match(request.model):
            raise ProviderError(said("google.model_retired", model=request.model), code="model_unknown")
        problems = request_problems(request)
        if problems:
            raise ProviderError(" ".join(problems), code="invalid_request")
        response = self._call("POST", self._model_path(request.model) + ":predictLongRunning", idempotent=False,
                              json=build_body(request, output_uri=self.output_uri))
        if response.is_error:
            raise self._fail(response, model=request.model)
        try:
            name = response.json().get("name")
        except (ValueError, AttributeError):
            name = None
        if not (isinstance(name, str) and OPERATION.match(name)):
            # Accepted, maybe billed, but we cannot track it: never resubmit blindly.
            raise ProviderError(said("vertex.no_operation", provider=self.name), code="server")
        return name

    def _fetch(self, job_id: str, *, open_file: Callable[[int], BinaryIO | None] = lambda index: None,
               ) -> tuple[dict[str, Any], list[int]] | None:
        """The operation (its inline videos emptied, their sizes beside it), or None when Google no longer
        knows it. `open_file(i)` may take the i-th video's bytes as they arrive."""
        match = OPERATION.match(job_id)
        if match is None:
            return None
        files = InlineFiles(open_file=open_file)
        for attempt in range(2):  # as _send: one new token after a 401
            token = self.tokens.token()
            try:
                with self._client.stream("POST", f"/v1/{match[1]}:fetchPredictOperation",
                                         json={"operationName": job_id},
                                         headers={"Authorization": f"Bearer {token}"}) as response:
                    if response.status_code == 401 and not attempt:
                        self.tokens.forget(token)
                        continue
                    if response.status_code == 404:
                        return None
                    if response.is_error:
                        response.read()
                        if response.status_code == 429 or response.status_code >= 500:
                            error = error_from_response(response, self.name)
                            error.retryable = True
                            raise error
                        raise self._fail(response)
                    for chunk in response.iter_bytes():
                        files.feed(chunk)
                return files.finish(), files.sizes
            except ProviderError:
                raise
            except Unreadable as exc:
                raise ProviderError(said("provider.unreadable", provider=self.name),
                                    code="server", retryable=True) from exc
            except NEVER_SENT as exc:
                raise ProviderError(said("provider.unreachable_retry", provider=self.name),
                                    code="network", retryable=True) from exc
            except httpx.TransportError as exc:
                raise ProviderError(said("provider.slow", provider=self.name),
                                    code="timeout", retryable=True) from exc
        raise ProviderError(said("vertex.token_refused", provider=self.name), code="auth")

    def poll(self, job_id: str) -> JobState:
        fetched = self._fetch(job_id)
        if fetched is None:
            return JobState(status="failed", error=GONE)
        operation, sizes = fetched
        if not operation.get("done"):
            return JobState(status="running")  # Veo reports no progress
        if operation.get("error"):
            return JobState(status="failed", **_failure(operation["error"]))
        if _video(operation, sizes) is None:
            return JobState(status="failed", **_no_video(operation))
        return JobState(status="succeeded", progress=100)

    def download(self, job_id: str, variant: str, dest: Path) -> None:
        if variant != "video":
            raise ProviderError(said("provider.video_only", provider=self.name), code="invalid_request")
        dest = Path(dest)
        part = dest.with_name(dest.name + ".part")
        try:
            with part.open("wb") as out:
                fetched = self._fetch(job_id, open_file=lambda index: out if index == 0 else None)
            if fetched is None:
                raise ProviderError(GONE, code="expired")
            operation, sizes = fetched
            video = _video(operation, sizes) if operation.get("done") and not operation.get("error") else None
            if video is None:
                raise ProviderError(said("provider.no_finished_video", provider=self.name), code="bad_download")
            if video.get("gcsUri"):
                self._download_from_bucket(video["gcsUri"], dest)
            elif sizes[0]:
                part.replace(dest)  # the inline bytes, decoded as they arrived
            else:
                raise ProviderError(said("provider.empty_video", provider=self.name), code="bad_download")
        finally:
            part.unlink(missing_ok=True)

    def _download_from_bucket(self, uri: str, dest: Path) -> None:
        """Read gs://bucket/object from the connection's bucket (Cloud Storage JSON API, `alt=media`)."""
        bucket = BUCKET.fullmatch(uri)
        own = BUCKET.fullmatch(self.output_uri)
        if bucket is None or own is None or bucket[1] != own[1]:
            raise ProviderError(said("vertex.outside_bucket", provider=self.name, uri=uri[:200], own=self.output_uri),
                                code="bad_download")
        name = (bucket[2] or "").lstrip("/")
        token = self.tokens.token()
        try:
            stream_download(self._storage,
                            f"/storage/v1/b/{quote(bucket[1], safe='')}/o/{quote(name, safe='')}?alt=media",
                            dest, headers={"Authorization": f"Bearer {token}"}, provider_name=self.name)
        except ProviderError as exc:
            if exc.code == "auth":
                raise ProviderError(said("vertex.bucket_unreadable", uri=uri[:200], bucket=bucket[1]),
                                    code="auth") from exc
            raise

    def test_connection(self) -> Said:
        """A token (the key works), then one project-scoped read (the API is on, the role is granted)."""
        response = self._call("GET", f"/v1/projects/{self.project}/locations/{self.region}/endpoints",
                              idempotent=True, params={"pageSize": 1})
        if response.status_code == 404:
            raise ProviderError(said("vertex.not_found", provider=self.name, project=self.project, region=self.region),
                                code="invalid_request")
        if response.is_error:
            raise self._fail(response)
        return said("vertex.connected", provider=self.name, email=self.tokens.account.client_email,
                    project=self.project, region=self.region)


# ---- reading Vertex's answers --------------------------------------------------------------

def _videos(operation: dict[str, Any]) -> list[dict[str, Any]]:
    response = operation.get("response")
    videos = response.get("videos") if isinstance(response, dict) else None
    return [v for v in videos if isinstance(v, dict)] if isinstance(videos, list) else []


def _video(operation: dict[str, Any], sizes: list[int]) -> dict[str, Any] | None:
    """The first video of a finished operation: inline (its bytes were seen) or in a bucket."""
    inline = 0
    for video in _videos(operation):
        if "bytesBase64Encoded" in video:
            seen = inline < len(sizes) and sizes[inline] > 0
            inline += 1
            if seen:
                return video
        elif isinstance(video.get("gcsUri"), str) and video["gcsUri"].startswith("gs://"):
            return video
    return None


def _no_video(operation: dict[str, Any]) -> dict[str, Any]:
    """Why a finished operation has no video (JobState words and code): usually Google's safety filters."""
    response = dict_at(operation, "response")
    reasons = response.get("raiMediaFilteredReasons")
    if response.get("raiMediaFilteredCount") or reasons:
        google = " ".join(str(r) for r in reasons) if isinstance(reasons, list) and reasons else ""
        return {"error": said("veo.blocked_said", said=google[:300]) if google else said("veo.blocked"),
                "error_code": "moderation"}
    return {"error": said("veo.no_video")}


__all__ = ["DEFAULT_BASE_URL", "VertexProvider", "bucket_problem", "build_body", "endpoint_for", "project_problem",
           "region_problem"]
