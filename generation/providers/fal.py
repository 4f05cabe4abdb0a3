"""fal's queue API (`https://queue.fal.run`).

`POST {queue}/{endpoint_id}` with the model's own input answers a `request_id` and
the request's `status_url`, `response_url` and `cancel_url`. Those URLs sit on the
app's root, not on the endpoint's sub-path (`fal-ai/veo3.1/fast` is polled under
`fal-ai/veo3.1/requests/…`), so they are kept as fal sent them, never rebuilt.

Where they are kept: a take stores one provider job id (200 characters), and the
adapter sees only that id afterwards, so the URLs go into the job id (FalJob). All
three must be on the queue's own origin (the key is sent to them), so only their
paths are kept: `"<request_id> <response path>"` when the status and cancel URLs are
the response URL plus `/status` and `/cancel` (fal's layout, checked at submit),
else `"<request_id> <response path> <status path> <cancel path>"`. The request id
comes first so a webhook, which carries only the request id, finds its take by
prefix (generation/providers/webhook_receive.py).

Webhooks: `?fal_webhook=<url>` when the studio is reachable; fal signs them with
Ed25519 keys it publishes as a JWKS (verify_fal_webhook below).

A create whose answer was lost (a timeout, a worker killed before it stored the id) is found in
fal's request listing per endpoint (`GET {api}/models/requests/by-endpoint`, with each request's
`json_input`): ours is the one whose input is exactly the body the studio builds for the take again,
sent after the create went out. The listing gives the request id only, so its addresses are then
built as fal's own client builds them: `{queue}/{owner}/{app}/requests/{request_id}` [sdk].
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import mimetypes
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.core.cache.backends.base import BaseCache
from django.utils import formats
from django.utils.translation import gettext

from generation.durations import grouped
from generation.words import Said, said

from . import schemas
from .base import (
    CancelRefund,
    CharacterSet,
    ExtendRequest,
    JobListing,
    JobProbe,
    JobState,
    ListedModel,
    ModelListing,
    ModelSpec,
    Provider,
    ProviderError,
    ProviderFacts,
    RenderRequest,
    Shot,
    WebhookNotice,
    WebhookScheme,
    dict_at,
    shots_prompt,
)
from .http import (
    EXPIRED,
    HttpAdapter,
    error_from_response,
    json_object,
    make_client,
    stream_download,
)
from .outbound import OutboundRefused
from .webhooks import TOLERANCE_SECONDS, WebhookError

if TYPE_CHECKING:
    from collections.abc import Callable


DEFAULT_BASE_URL = "https://queue.fal.run"
DEFAULT_JWKS_URL = "https://rest.alpha.fal.ai/.well-known/jwks.json"
# fal's Platform API: its model search (with each endpoint's OpenAPI schema) and its prices [docs:
# docs.fal.ai/platform-apis/v1/models, …/models/pricing]. The queue's key is sent there too (fal's own host).
DEFAULT_API_URL = "https://api.fal.ai/v1"
LISTED_CATEGORY = "text-to-video"  # the endpoints a take is booked on; image and frame endpoints are siblings
LIST_PAGE, LIST_PAGES, FIND_BATCH = 50, 20, 50
# The request listing's page [docs: docs.fal.ai/platform-apis/v1/models/requests/by-endpoint: 50 by default, 100
# at most], and how many pages a look-up reads at most (its `start` is when the create went out: a few in practice).
# A page carries each request's input, data URIs of frames and clips included: fal's default size, not its largest.
REQUESTS_PAGE, REQUESTS_PAGES = 50, 20
# owner/app[/sub/path]: each segment starts with a letter or digit, so "../x" cannot climb.
ENDPOINT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)+$")
JOB_ID_LIMIT = 200  # Render.provider_job_id
STATUSES = {"IN_QUEUE": "queued", "IN_PROGRESS": "running", "COMPLETED": "succeeded",
            # Not in fal's documented set, but reported by some apps after a cancel.
            "CANCELLED": "canceled", "CANCELED": "canceled"}
MODERATION = re.compile(r"content.?policy|moderation|nsfw|safety|flagged", re.IGNORECASE)
PERCENT = re.compile(r"(\d{1,3})\s?%")
GONE = said("provider.gone")

InputBuilder = Callable[[RenderRequest], dict[str, Any]]


def _aspect_ratio(request: RenderRequest | ExtendRequest, choices: tuple[str, ...] = ("16:9", "9:16")) -> str:
    ratio = request.width / request.height
    return min(choices, key=lambda c: abs(ratio - int(c.split(":")[0]) / int(c.split(":")[1])))


def _resolution(request: RenderRequest | ExtendRequest) -> str:
    return "1080p" if min(request.width, request.height) >= 1080 else "720p"


def _data_uri(path: Path) -> str:
    content_type = mimetypes.guess_type(path.name)[0] or "image/png"
    return f"data:{content_type};base64,{base64.b64encode(path.read_bytes()).decode()}"


def veo31_input(request: RenderRequest) -> dict[str, Any]:
    """fal-ai/veo3.1 and /fast [docs]: "4s" | "6s" | "8s", 16:9 or 9:16, 720p/1080p. The studio
    books Veo with audio ($0.40/s; silent is $0.20/s). The image-to-video endpoint adds image_url."""
    inputs = {"prompt": request.prompt, "duration": f"{request.seconds}s", "aspect_ratio": _aspect_ratio(request),
              "resolution": _resolution(request), "generate_audio": True}
    if request.end_frame is not None:
        if request.input_reference is None:
            raise ProviderError(said("fal.end_needs_start", model=request.model), code="invalid_request")
        # The first-last-frame endpoint names its two images first_frame_url and last_frame_url.
        inputs["first_frame_url"] = _data_uri(Path(request.input_reference))
        inputs["last_frame_url"] = _data_uri(Path(request.end_frame))
    elif request.input_reference is not None:
        inputs["image_url"] = _data_uri(Path(request.input_reference))
    return inputs


def seedance2_input(request: RenderRequest) -> dict[str, Any]:
    """bytedance/seedance-2.0 text-to-video [3p]: duration as a string of seconds, like Seedance 1 on fal;
    480p or 720p only (fal refuses 1080p)."""
    if _resolution(request) != "720p":  # refused here, before anything is sent or billed
        raise ProviderError(said("fal.seedance_sizes", size=request.size), code="invalid_request")
    return {"prompt": request.prompt, "duration": str(request.seconds), "resolution": "720p",
            "aspect_ratio": _aspect_ratio(request, ("16:9", "9:16", "1:1", "4:3", "3:4"))}


def seedance2_any(request: RenderRequest) -> dict[str, Any]:
    """Seedance 2.0 reads several shots numbered in its prompt, in order: its guide says time ranges are
    unreliable."""
    inputs = seedance2_input(request)
    return {**inputs, "prompt": shots_prompt(request.shots, timed=False)} if request.shots else inputs


# Kling 3.0 on fal [sdk: fal-js 381105e, libs/client/src/types/endpoints.ts; KlingVideoV3{Pro,Standard}
# {TextToVideo,ImageToVideo}Input are all KlingVideoV34k{TextToVideo,ImageToVideo}Input]: two tiers, each a
# text-to-video endpoint and an image-to-video sibling that takes the start frame (`start_image_url`, required),
# the frame to end on (`end_image_url`) and the reusable characters (`elements`), and no aspect ratio (the start
# image decides it). Prompts of at most 2,500 characters [fal's published OpenAPI schema: maxLength 2500].
KLING3_IMAGE = {
    "fal-ai/kling-video/v3/pro/text-to-video": "fal-ai/kling-video/v3/pro/image-to-video",
    "fal-ai/kling-video/v3/standard/text-to-video": "fal-ai/kling-video/v3/standard/image-to-video",
}
KLING3_PROMPT_MAX = 2500


def kling3_input(request: RenderRequest) -> dict[str, Any]:
    """fal-ai/kling-video/v3 (pro or standard): duration a string of seconds ("3"–"15"); audio on or off as the
    catalog entry books it (fal bills the two differently). Several shots go as `multi_prompt` [{prompt, duration
    "1"–"15"}] with `shot_type: "customize"`, and then no `prompt` ("either prompt or multi_prompt, not both").
    With a start frame the input is the image-to-video endpoint's: `start_image_url`, `end_image_url`."""
    if request.end_frame is not None and request.input_reference is None:
        raise ProviderError(said("fal.kling_end_needs_start"), code="invalid_request")
    if problems := kling3_prompt_problems(request.prompt if not request.shots else ""):
        raise ProviderError(" ".join(problems), code="invalid_request")
    inputs: dict[str, Any] = {"duration": str(request.seconds)}
    if request.input_reference is not None:
        inputs["start_image_url"] = _data_uri(Path(request.input_reference))
        if request.end_frame is not None:
            inputs["end_image_url"] = _data_uri(Path(request.end_frame))
    else:
        inputs["aspect_ratio"] = _aspect_ratio(request, ("16:9", "9:16", "1:1"))
    if request.generate_audio is not None:
        inputs["generate_audio"] = bool(request.generate_audio)
    prompt = request.prompt
    if request.character_sets and request.input_reference is not None:
        # Only the image-to-video endpoint defines elements; from text alone the cast goes by its descriptions.
        inputs["elements"] = [_kling_element(entry) for entry in request.character_sets]
        if not request.shots:
            prompt = f"{prompt}\n" + " ".join(f"@Element{number} is {entry.name}."
                                              for number, entry in enumerate(request.character_sets, start=1))
            if problems := kling3_prompt_problems(prompt):
                raise ProviderError(" ".join(problems), code="invalid_request")
    if request.shots:
        return {**inputs, "shot_type": "customize",
                "multi_prompt": [{"prompt": shot.prompt, "duration": str(shot.seconds)} for shot in request.shots]}
    return {"prompt": prompt, **inputs}


def _kling_element(entry: CharacterSet) -> dict[str, Any]:
    """KlingV3ComboElementInput as an image set: the frontal image and 1–3 more views ("at least one image is
    required"); the booking refused a cast member with fewer (CatalogModel.element_problems)."""
    if len(entry.images) < 2:
        raise ProviderError(said("fal.kling_views", name=entry.name), code="invalid_request")
    return {"frontal_image_url": _data_uri(entry.images[0]),
            "reference_image_urls": [_data_uri(path) for path in entry.images[1:4]]}


def kling3_prompt_problems(prompt: str) -> list[str]:
    if len(prompt) <= KLING3_PROMPT_MAX:
        return []
    return [gettext("Kling 3.0 on fal takes a prompt of at most %(limit)s characters; this one has %(length)s "
                    "(with the cast's descriptions, if any). Shorten the prompt.")
            % {"limit": grouped(KLING3_PROMPT_MAX), "length": grouped(len(prompt))}]


def wan26_input(request: RenderRequest) -> dict[str, Any]:
    """wan/v2.6/text-to-video [sdk: fal-js TextToVideoInput]: 5, 10 or 15 s as a string, 720p or 1080p. Several
    shots are timed in the prompt ("Shot 1 [0-3s] …") with `multi_shots`, which works only with prompt
    expansion on; one scene is one shot (`multi_shots` false)."""
    inputs = {"duration": str(request.seconds), "resolution": _resolution(request),
              "aspect_ratio": _aspect_ratio(request, ("16:9", "9:16", "1:1", "4:3", "3:4"))}
    if request.shots:
        return {**inputs, "prompt": shots_prompt(request.shots, timed=True), "multi_shots": True,
                "enable_prompt_expansion": True}
    return {**inputs, "prompt": request.prompt, "multi_shots": False}


def generic_input(request: RenderRequest) -> dict[str, Any]:
    if request.shots:  # never dropped silently: the model's catalog entry declared what it cannot take
        raise ProviderError(said("fal.no_shots", model=request.model), code="invalid_request")
    return {"prompt": request.prompt, "duration": str(request.seconds)}


INPUT_BUILDERS: dict[str, InputBuilder] = {
    "fal-ai/veo3.1": veo31_input,
    "fal-ai/veo3.1/fast": veo31_input,
    "bytedance/seedance-2.0/text-to-video": seedance2_any,
    **{model: kling3_input for model in KLING3_IMAGE},
    "wan/v2.6/text-to-video": wan26_input,
}
# How each model takes several shots, and its limits: "multi_prompt" (Kling 3: a prompt per shot, Kling's
# docs: at most 512 characters each), "timed" (Wan 2.6: timings in a prompt of at most 1,500 characters),
# "numbered" (Seedance 2.0: order only). Any other model takes no shot list.
SHOT_WIRES: dict[str, tuple[str, int | None]] = {
    **{model: ("multi_prompt", 512) for model in KLING3_IMAGE},
    "wan/v2.6/text-to-video": ("timed", 1500),
    "bytedance/seedance-2.0/text-to-video": ("numbered", None),
}
# A start frame goes to the model's image-to-video endpoint; a start and an end frame to its
# first-last-frame endpoint.
IMAGE_ENDPOINTS = {
    "fal-ai/veo3.1": "fal-ai/veo3.1/image-to-video",
    "fal-ai/veo3.1/fast": "fal-ai/veo3.1/fast/image-to-video",
    **KLING3_IMAGE,
}
FIRST_LAST_ENDPOINTS = {
    "fal-ai/veo3.1": "fal-ai/veo3.1/first-last-frame-to-video",
    "fal-ai/veo3.1/fast": "fal-ai/veo3.1/fast/first-last-frame-to-video",
    **KLING3_IMAGE,  # Kling's image-to-video endpoint takes both frames
}

# A finished take continues on the model's extend-video endpoint [docs: fal.ai/models/fal-ai/veo3.1/extend-video]:
# input videos of at most 8 seconds, 16:9 or 9:16, +7 s; the answer is the extended video. The Fast tier
# extends at 720p only [3p].
EXTEND_ENDPOINTS = {
    "fal-ai/veo3.1": "fal-ai/veo3.1/extend-video",
    "fal-ai/veo3.1/fast": "fal-ai/veo3.1/fast/extend-video",
}
EXTEND_SOURCE_MAX_SECONDS = 8.0
EXTEND_720P_ONLY = {"fal-ai/veo3.1/fast"}


def _video_data_uri(path: Path) -> str:
    # fal takes a base64 data URI wherever it takes a file URL: the studio's own copy of the take is sent,
    # so nothing depends on a provider URL that may have expired.
    return f"data:video/mp4;base64,{base64.b64encode(path.read_bytes()).decode()}"


def extend_problems(request: ExtendRequest) -> list[str]:
    """Why fal's extend endpoint would refuse `request` (empty if it extends): checked before sending."""
    problems = []
    if request.model not in EXTEND_ENDPOINTS:
        problems.append(gettext("fal has no extend endpoint for %(model)s.") % {"model": request.model})
    if request.seconds != 7:
        problems.append(gettext("fal's Veo 3.1 extends a video by 7 seconds, not %(seconds)s.")
                        % {"seconds": request.seconds})
    if request.source_seconds is not None and request.source_seconds > EXTEND_SOURCE_MAX_SECONDS + 0.05:
        problems.append(gettext("fal's Veo 3.1 extends videos of at most 8 seconds; this take is %(length)s s long.")
                        % {"length": formats.number_format(request.source_seconds, 1)})
    if request.model in EXTEND_720P_ONLY and min(request.width, request.height) != 720:
        problems.append(gettext("fal's Veo 3.1 Fast extends 720p videos only."))
    return problems


def veo31_extend_input(request: ExtendRequest) -> dict[str, Any]:
    """fal-ai/veo3.1/extend-video's input: the continuation's prompt, the video, 7 s, the take's shape, with audio."""
    if request.source_video is None:
        raise ProviderError(said("fal.no_copy"), code="invalid_request")
    return {"prompt": request.prompt, "video_url": _video_data_uri(Path(request.source_video)), "duration": "7s",
            "aspect_ratio": _aspect_ratio(request), "resolution": _resolution(request), "generate_audio": True}


@dataclass(frozen=True)
class FalJob:
    """A queued request: its id and the three URLs fal gave for it (all on the queue's origin)."""

    request_id: str
    response_url: str
    status_url: str
    cancel_url: str

    def encode(self) -> str:
        """`request_id path` in fal's usual layout, else `request_id path status_path cancel_path`;
        paths without the origin, which is the connection's queue address."""
        paths = [_path(u) for u in (self.response_url, self.status_url, self.cancel_url)]
        if paths[1:] == [paths[0] + "/status", paths[0] + "/cancel"]:
            return f"{self.request_id} {paths[0]}"
        return " ".join([self.request_id, *paths])

    @classmethod
    def decode(cls, job_id: str, base_url: str) -> FalJob:
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(base_url))
        parts = job_id.split(" ")
        if len(parts) == 2:  # fal's usual layout, checked when the job was stored
            parts += [parts[1] + "/status", parts[1] + "/cancel"]
        if len(parts) != 4 or not all(p.startswith("/") for p in parts[1:]):
            raise ProviderError(said("fal.foreign_job_id"), code="invalid_request")
        return cls(parts[0], *(origin + p for p in parts[1:]))


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class FalProvider(HttpAdapter, Provider):
    key = "fal"
    has_thumbnail = False  # the result is the video only; the studio extracts a frame
    facts = ProviderFacts(
        title="fal", default_base_url=DEFAULT_BASE_URL, auth_header="Authorization: Key <key>",
        webhooks=WebhookScheme.FAL_KEYS,  # ?fal_webhook=, signed with fal's published keys
        cancels=True, cancel_refund=CancelRefund.WORK_DONE,  # PUT cancel_url
        # GET /models/requests/by-endpoint with expand=payloads: the account's recent requests and their inputs.
        job_listing=JobListing.RECENT, job_listing_shows_input=True,
        reports_job_time=True,  # metrics.inference_time
        reports_billed_cost=False,
        bills_refused_jobs=True,
        sends_end_frame=True,  # for models with a first-last-frame endpoint (FIRST_LAST_ENDPOINTS)
        # Kling 3.0's elements, beside a start frame (RenderRequest.character_sets); no other model's.
        sends_reference_images=True,
        sends_shots=True,  # for the models of SHOT_WIRES, and those added from a schema listing shots
        extends=True,  # for models with an extend-video endpoint (veo3.1: the clip as a data URI)
        model_listing="fal's model search (text-to-video endpoints, each with its OpenAPI schema) and its "
                      "price list",
    )

    @classmethod
    def prompt_problems(cls, *, model_id: str, prompt: str) -> list[str]:
        return kling3_prompt_problems(prompt) if model_id in KLING3_IMAGE else []

    @classmethod
    def shot_problems(cls, *, model_id: str, shots: Sequence[Shot], input_map: dict[str, Any] | None = None) -> list[str]:
        if model_id not in INPUT_BUILDERS and input_map:  # added from its schema: the shots its map says
            return schemas.shot_problems(input_map, shots)
        wire = SHOT_WIRES.get(model_id)
        if wire is None:
            return [gettext("fal's %(model)s takes no shot list: choose a model that renders several shots.")
                    % {"model": model_id}]
        how, limit = wire
        if how == "multi_prompt" and limit is not None:
            return [gettext("Scene %(number)s's prompt has %(length)s characters; Kling takes at most %(limit)s per "
                            "shot. Shorten it.") % {"number": shot.scene_number, "length": grouped(len(shot.prompt)),
                                                    "limit": grouped(limit)}
                    for shot in shots if len(shot.prompt) > limit] + [
                    gettext("Scene %(number)s lasts %(seconds)s s; a Kling shot lasts 1 to 15 s.")
                    % {"number": shot.scene_number, "seconds": shot.seconds}
                    for shot in shots if not 1 <= shot.seconds <= 15]
        if limit is not None and len(text := shots_prompt(shots, timed=how == "timed")) > limit:
            return [gettext("The shots' prompts make %(length)s characters together; %(model)s takes at most "
                            "%(limit)s. Shorten the scenes' prompts.")
                    % {"length": grouped(len(text)), "model": model_id, "limit": grouped(limit)}]
        return []

    @classmethod
    def webhook_notice(cls, payload: dict[str, Any]) -> WebhookNotice:
        """`{request_id, status: OK | ERROR, payload, error}`. A take stores the request id followed
        by its URLs (FalJob.encode), so it is found by that prefix."""
        request_id = str(payload.get("request_id", ""))
        return WebhookNotice(job_id=request_id, event=str(payload.get("status", "")), stored_prefix=request_id + " ")

    job_listing_hint = said("fal.listing_hint")

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        name: str = "fal",
        models: tuple[ModelSpec, ...] = (),
        webhook_url: str | None = None,
        input_builders: Mapping[str, InputBuilder] | None = None,
        api_url: str = DEFAULT_API_URL,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None]=time.sleep,
    ) -> None:
        self.name = name
        self.models = tuple(models)
        self._webhook_url = webhook_url
        self._builders = {**INPUT_BUILDERS, **(input_builders or {})}
        self._api = api_url.rstrip("/")
        self._base = base_url.rstrip("/")
        self._connect(base_url=self._base, client=client, sleep=sleep, auth={"Authorization": f"Key {api_key}"})

    def endpoint_for(self, request: RenderRequest) -> str:
        if request.model not in self._builders and request.input_map:
            return request.model  # added from its schema: its own inputs take the frames
        if request.end_frame is not None:
            if request.input_reference is None or request.model not in FIRST_LAST_ENDPOINTS:
                raise ProviderError(said("provider.no_start_end", provider=self.name, model=request.model),
                                    code="invalid_request")
            return FIRST_LAST_ENDPOINTS[request.model]
        if request.input_reference is not None and request.model in IMAGE_ENDPOINTS:
            return IMAGE_ENDPOINTS[request.model]
        return request.model

    def build_input(self, request: RenderRequest) -> dict[str, Any]:
        if request.character_images and request.model not in KLING3_IMAGE:  # never dropped silently
            raise ProviderError(said("provider.no_likeness", provider=self.name, model=request.model),
                                code="invalid_request")
        if request.model not in self._builders and request.input_map:
            return schemas.mapped_input(request, request.input_map)
        return self._builders.get(request.model, generic_input)(request)

    def submit(self, request: RenderRequest) -> str:
        if not ENDPOINT_ID.match(request.model):
            raise ProviderError(said("provider.model_unknown", model=request.model), code="model_unknown")
        return self._queue(self.endpoint_for(request), self.build_input(request), model=request.model)

    def extend(self, request: ExtendRequest) -> str:
        """The model's extend-video endpoint, queued like any request (polled and fetched the same way)."""
        if problems := extend_problems(request):
            raise ProviderError(" ".join(problems), code="invalid_request")
        if request.source_video is None:
            raise ProviderError(said("provider.no_source_video"), code="invalid_request")
        return self._queue(EXTEND_ENDPOINTS[request.model], veo31_extend_input(request), model=request.model)

    def _queue(self, endpoint: str, inputs: dict[str, Any], *, model: str = "") -> str:
        """Queue a request on fal (a render or an extension alike): the job's addresses, encoded."""
        params = {"fal_webhook": self._webhook_url} if self._webhook_url else None
        response = self._send("POST", f"/{endpoint}", idempotent=False, json=inputs, params=params)
        if response.is_error:
            raise self._fail(response, model=model)
        try:
            body = json_object(response, self.name)
        except ProviderError:
            body = {}
        job = self._job_from(body)
        encoded = job.encode()
        if len(encoded) > JOB_ID_LIMIT:
            try:  # best effort: the studio cannot track it
                self._send("PUT", job.cancel_url, idempotent=True)
            except ProviderError:
                pass
            raise ProviderError(said("fal.addresses_too_long", provider=self.name), code="server")
        return encoded

    def _job_from(self, body: dict[str, Any]) -> FalJob:
        given = [body.get(k) for k in ("request_id", "response_url", "status_url", "cancel_url")]
        fields = [f for f in given if isinstance(f, str) and f and " " not in f]
        if len(fields) != len(given):
            # Accepted, maybe billed, but we cannot track it: never resubmit blindly.
            raise ProviderError(said("fal.no_request_id", provider=self.name), code="server")
        job = FalJob(*fields)
        if not all(self._own(url) for url in fields[1:]):
            raise ProviderError(said("fal.other_host", provider=self.name), code="server")
        return job

    def _own(self, url: str) -> bool:
        base, other = urlsplit(self._base), urlsplit(url)
        return (other.scheme, other.netloc) == (base.scheme, base.netloc)

    def _fail(self, response: httpx.Response, *, model: str = "") -> ProviderError:
        """fal's validation errors are 422 `{"detail": [{loc, msg, type}]}`; others `{"detail": "..."}`."""
        detail = _json(response).get("detail")
        if response.status_code == 422 and isinstance(detail, list):
            problems = "; ".join(_validation_line(item) for item in detail[:5] if isinstance(item, dict))
            code = "moderation" if MODERATION.search(problems) else "invalid_request"
            return ProviderError(said("provider.refused", provider=self.name, detail=problems) if problems
                                 else said("provider.refused_input", provider=self.name), code=code)
        return error_from_response(response, self.name, model=model)

    def poll(self, job_id: str) -> JobState:
        job = FalJob.decode(job_id, self._base)
        response = self._send("GET", job.status_url, idempotent=True, params={"logs": "1"})
        if response.status_code == 404:
            return JobState(status="failed", error=GONE)
        if response.is_error:
            raise self._fail(response)
        body = json_object(response, self.name)
        status = STATUSES.get(str(body.get("status")), "running")
        if status == "succeeded" and "cancel" in str(body.get("error_type") or ""):
            return JobState(status="canceled", error=said("take.canceled_at_provider"))
        if status == "succeeded" and (body.get("error") or body.get("error_type")):
            return JobState(status="failed", **_failure(body.get("error"), body.get("error_type")))
        if status == "succeeded":
            metrics = dict_at(body, "metrics")
            seconds = metrics.get("inference_time")
            return JobState(status=status, progress=100,
                            provider_seconds=float(seconds) if isinstance(seconds, (int, float)) else None)
        return JobState(status=status, progress=_progress(body.get("logs")) if status == "running" else 0)

    def download(self, job_id: str, variant: str, dest: Path) -> None:
        if variant != "video":
            raise ProviderError(said("provider.video_only", provider=self.name), code="invalid_request")
        job = FalJob.decode(job_id, self._base)
        response = self._send("GET", job.response_url, idempotent=True)
        if response.status_code in (404, 410):
            raise ProviderError(EXPIRED, code="expired")
        if response.is_error:
            raise self._fail(response)
        video = json_object(response, self.name).get("video")
        url = video.get("url") if isinstance(video, dict) else None
        if not (isinstance(url, str) and url.startswith(("https://", "http://"))):
            raise ProviderError(said("provider.no_finished_video", provider=self.name), code="bad_download")
        stream_download(self._client, url, Path(dest), provider_name=self.name)

    def cancel(self, job_id: str) -> bool:
        """PUT cancel_url: CANCELLATION_REQUESTED (202), ALREADY_COMPLETED (400) or NOT_FOUND (404)."""
        response = self._send("PUT", FalJob.decode(job_id, self._base).cancel_url, idempotent=True)
        if response.status_code in (400, 404):
            return False
        if response.is_error:
            raise self._fail(response)
        return _json(response).get("status") == "CANCELLATION_REQUESTED"

    def find_job(self, probe: JobProbe) -> str | None:
        """The take's request in fal's listing of its endpoint (`expand=payloads`, from when the create went
        out, pages of `limit` followed by `cursor` while `has_more`): the earliest one sent since then whose
        `json_input` is exactly the body the studio builds for the take, and that no other take owns."""
        if probe.request is None:
            return None
        if isinstance(probe.request, ExtendRequest):
            if probe.request.model not in EXTEND_ENDPOINTS:
                return None
            endpoint, body = EXTEND_ENDPOINTS[probe.request.model], veo31_extend_input(probe.request)
        else:
            endpoint, body = self.endpoint_for(probe.request), self.build_input(probe.request)
        since = probe.created_after.astimezone(UTC)
        owned = {job_id.split(" ")[0] for job_id in probe.exclude_ids}
        found: list[tuple[datetime, str]] = []
        cursor = None
        for _page in range(REQUESTS_PAGES):
            page = self._platform("/models/requests/by-endpoint", [
                ("endpoint_id", endpoint), ("expand", "payloads"), ("start", since.strftime("%Y-%m-%dT%H:%M:%SZ")),
                ("limit", str(REQUESTS_PAGE)), *([("cursor", cursor)] if cursor else [])])
            for item in page.get("items") or []:
                if not isinstance(item, dict):
                    continue
                request_id, sent = item.get("request_id"), _instant(item.get("sent_at"))
                if (isinstance(request_id, str) and request_id and " " not in request_id and request_id not in owned
                        and sent is not None and sent >= since and item.get("json_input") == body):
                    found.append((sent, request_id))
            cursor = page.get("next_cursor")
            if page.get("has_more") is not True or not (isinstance(cursor, str) and cursor):
                break
        else:
            if not found:  # pages left unread: that is no answer, and "not listed" would send the take again
                raise ProviderError(said("fal.listing_too_long", provider=self.name, endpoint=endpoint,
                                         count=REQUESTS_PAGES * REQUESTS_PAGE), retryable=True, code="server")
        if not found:
            return None
        request_id = min(found)[1]
        # The request's addresses live on the app's root (owner/app), whatever the endpoint's sub-path.
        response = f"{self._base}/{'/'.join(endpoint.split('/')[:2])}/requests/{request_id}"
        encoded = FalJob(request_id, response, response + "/status", response + "/cancel").encode()
        if len(encoded) > JOB_ID_LIMIT:  # found but not trackable: "not found" would send it again
            raise ProviderError(said("fal.listed_address_too_long", provider=self.name, request=request_id),
                                code="server")
        return encoded

    def test_connection(self) -> Said:
        """The queue API has no account endpoint, so ask for the status of a request that cannot
        exist: a wrong key answers 401, a good one 404. It costs nothing."""
        response = self._send("GET", "/fal-ai/veo3.1/requests/00000000-0000-0000-0000-000000000000/status",
                              idempotent=True)
        if response.status_code in (401, 403):
            raise self._fail(response)
        if response.status_code >= 500:
            raise self._fail(response)
        return said("fal.key_accepted", provider=self.name)


    # ---- the models fal publishes -----------------------------------------------------------------

    def list_models(self, *, known: tuple[str, ...] = ()) -> ModelListing:
        """fal's text-to-video endpoints (model search, `expand=openapi-3.0`, page by `cursor`), each read
        from its own OpenAPI schema; endpoints of `known` not in that category are looked up by id (Find
        mode). New endpoints carry fal's price per second when its price list says one."""
        found: dict[str, dict[str, Any]] = {}
        cursor = None
        for _page in range(LIST_PAGES):
            page = self._platform("/models", [("category", LISTED_CATEGORY), ("expand", "openapi-3.0"),
                                              ("limit", str(LIST_PAGE)), *([("cursor", cursor)] if cursor else [])])
            found.update(_endpoints(page))
            cursor = page.get("next_cursor")
            if not page.get("has_more") or not (isinstance(cursor, str) and cursor):
                break
        missing = [model_id for model_id in known if model_id not in found and ENDPOINT_ID.match(model_id)]
        for start in range(0, len(missing), FIND_BATCH):
            batch = missing[start:start + FIND_BATCH]
            found.update(_endpoints(self._platform(
                "/models", [("expand", "openapi-3.0"), *[("endpoint_id", m) for m in batch]])))
        new = [m for m in found if m not in known]
        prices = self._prices(new)
        models = []
        for endpoint_id, entry in found.items():
            metadata = dict_at(entry, "metadata")
            models.append(_listed(endpoint_id, entry.get("openapi"), metadata, prices.get(endpoint_id)))
        return ModelListing(models=tuple(models))

    def _platform(self, path: str, params: list[tuple[str, str]]) -> dict[str, Any]:
        response = self._send("GET", f"{self._api}{path}", idempotent=True, params=params)
        if response.is_error:
            raise self._fail(response)
        return json_object(response, self.name)

    def _prices(self, endpoint_ids: list[str]) -> dict[str, Any]:
        """{endpoint id: US$ a second} from fal's price list, for endpoints billed by the second in USD. Its
        price list needs a key allowed to read it: without one, new models just need a price."""
        prices: dict[str, Decimal] = {}
        for start in range(0, len(endpoint_ids), FIND_BATCH):
            batch = endpoint_ids[start:start + FIND_BATCH]
            try:
                page = self._platform("/models/pricing", [("endpoint_id", m) for m in batch])
            except ProviderError:
                return prices
            for item in page.get("prices") or []:
                if not isinstance(item, dict) or item.get("unit") != "second" or item.get("currency") != "USD":
                    continue
                price = item.get("unit_price")
                if isinstance(price, (int, float)) and not isinstance(price, bool) and 0 <= price <= 100:
                    prices[str(item.get("endpoint_id"))] = Decimal(str(price))
        return prices


def _endpoints(page: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["endpoint_id"]: m for m in page.get("models") or []
            if isinstance(m, dict) and isinstance(m.get("endpoint_id"), str) and ENDPOINT_ID.match(m["endpoint_id"])}


def _listed(endpoint_id: str, openapi: object, metadata: dict[str, Any], price: Decimal | None) -> ListedModel:
    """One endpoint from its queue OpenAPI document: the POST to `/{endpoint_id}` names its input schema."""
    name = str(metadata.get("display_name") or endpoint_id)[:200]
    deprecated = metadata.get("status") == "deprecated"
    openapi = openapi if isinstance(openapi, dict) else {}
    components = (openapi.get("components") or {}).get("schemas") or {}
    post = ((openapi.get("paths") or {}).get(f"/{endpoint_id}") or {}).get("post") or {}
    body = (((post.get("requestBody") or {}).get("content") or {}).get("application/json") or {}).get("schema")
    if not isinstance(body, dict) or not isinstance(components, dict):
        return ListedModel(model_id=endpoint_id, display_name=name, deprecated=deprecated,
                           price_per_second=price, blockers=(("no_schema", ""),))
    listed = schemas.listed_from_schema(endpoint_id, body, components, vocabulary=schemas.FAL, display_name=name,
                                        deprecated=deprecated, price=price)
    return schemas.hand_mapped(listed) if endpoint_id in INPUT_BUILDERS else listed


def _instant(value: object) -> datetime | None:
    """An ISO 8601 time from fal's listing (`2025-01-01T00:00:01Z`), aware; None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _validation_line(item: dict[str, Any]) -> str:
    where = ".".join(str(p) for p in item.get("loc", []) if p != "body")
    return f"{where}: {item.get('msg', 'invalid')}" if where else str(item.get("msg", "invalid"))


def _progress(logs: object) -> int:
    # fal has no progress field; many apps log "42%" steps. The newest mention wins.
    if not isinstance(logs, list):
        return 0
    for entry in reversed(logs[-50:]):
        message = entry.get("message", "") if isinstance(entry, dict) else ""
        if match := PERCENT.findall(str(message)):
            return min(99, int(match[-1]))
    return 0


def _failure(error: object, error_type: object) -> dict[str, Any]:
    """A failed request's JobState words (and code, for a moderation refusal)."""
    message = str(error or "").strip()
    if MODERATION.search(f"{message} {error_type or ''}"):
        return {"error": said("provider.moderated", message=message or said("provider.failed_unsaid")),
                "error_code": "moderation"}
    return {"error": message or said("provider.failed_unsaid")}


# --- webhooks -------------------------------------------------------------------------------

JWKS_CACHE_KEY = "fal-webhook-jwks"
JWKS_CACHE_SECONDS = 24 * 3600
JWKS_REFETCH_AFTER = 60  # a signature no cached key verifies refetches, at most once a minute


def _public_keys(jwks: object) -> list[Ed25519PublicKey]:
    keys = []
    for key in (jwks.get("keys") if isinstance(jwks, dict) else None) or []:
        if not (isinstance(key, dict) and key.get("kty") == "OKP" and key.get("crv") == "Ed25519"):
            continue
        x = str(key.get("x", ""))
        try:
            keys.append(Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(x + "=" * (-len(x) % 4))))
        except (ValueError, binascii.Error):
            continue
    return keys


def fetch_jwks(url: str) -> dict[str, Any]:
    """fal's published key set (no auth)."""
    with make_client(base_url="", headers={"User-Agent": "storyboard-studio"}, read=10.0) as client:
        try:
            response = client.get(url)
        except httpx.HTTPError as exc:
            raise WebhookError(f"fal's key set could not be fetched: {type(exc).__name__}") from exc
        except OutboundRefused as exc:  # FAL_JWKS_URL at an address the studio does not call
            raise WebhookError(f"fal's key set was not fetched: {exc.message}") from exc
    if response.status_code != 200:
        raise WebhookError(f"fal's key set answered HTTP {response.status_code}.")
    try:
        keys = response.json()
    except ValueError:
        raise WebhookError("fal's key set is not JSON.") from None
    if not isinstance(keys, dict):
        raise WebhookError("fal's key set is not a JSON object.")
    return keys


def verify_fal_webhook(
    *,
    headers: Mapping[str, str],
    body: bytes,
    jwks_url: str,
    cache: BaseCache,
    fetch: Callable[[str], dict[str, Any]] = fetch_jwks,
    now: float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> str:
    """Return the request id the webhook is about, or raise WebhookError.

    The signed message is `request_id\\nuser_id\\ntimestamp\\nsha256hex(body)`; the signature
    is hex in X-Fal-Webhook-Signature. The key set is cached for a day (`cache`: a Django
    cache) and fetched again when no cached key verifies, so a key rotation is picked up.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    request_id = lowered.get("x-fal-webhook-request-id", "")
    user_id = lowered.get("x-fal-webhook-user-id", "")
    stamp = lowered.get("x-fal-webhook-timestamp", "")
    signature_hex = lowered.get("x-fal-webhook-signature", "")
    if not (request_id and user_id and stamp and signature_hex):
        raise WebhookError("Missing an X-Fal-Webhook-Request-Id, -User-Id, -Timestamp or -Signature header.")
    try:
        timestamp = int(stamp)
        signature = bytes.fromhex(signature_hex)
    except ValueError:
        raise WebhookError("The webhook timestamp or signature is malformed.") from None
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        raise WebhookError("The webhook timestamp is too far from now.")
    message = "\n".join([request_id, user_id, stamp, hashlib.sha256(body).hexdigest()]).encode()

    cached = cache.get(JWKS_CACHE_KEY)
    if cached is None or not _verifies(_public_keys(cached["jwks"]), signature, message):
        if cached is not None and now - cached["fetched_at"] < JWKS_REFETCH_AFTER:
            raise WebhookError("No fal key verifies the webhook signature.")
        cached = {"jwks": fetch(jwks_url), "fetched_at": now}
        cache.set(JWKS_CACHE_KEY, cached, JWKS_CACHE_SECONDS)
        if not _verifies(_public_keys(cached["jwks"]), signature, message):
            raise WebhookError("No fal key verifies the webhook signature.")
    return request_id


def _verifies(keys: list[Ed25519PublicKey], signature: bytes, message: bytes) -> bool:
    for key in keys:
        try:
            key.verify(signature, message)
            return True
        except InvalidSignature:
            continue
    return False
