"""The OpenAI Videos wire format (`/v1/videos`).

OpenAI retired its own Videos API and the sora-2 models on 2026-09-24, but
gateways (LiteLLM, hosted proxies, Azure with an `api-key` header) still serve
the same format for other models. So base URL, auth style and model list are
configuration; only the wire format is code.
"""

from __future__ import annotations

import json
import mimetypes
import re
import time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from generation.words import Said, said

from .base import (
    CancelRefund,
    ExtendRequest,
    JobListing,
    JobProbe,
    JobState,
    ListedModel,
    ModelListing,
    ModelSource,
    ModelSpec,
    Provider,
    ProviderError,
    ProviderFacts,
    RenderRequest,
    WebhookNotice,
    WebhookScheme,
    dict_at,
    shots_prompt,
)
from .http import HttpAdapter, error_from_response, json_object, stream_download

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


STATUSES = {
    "queued": "queued",
    "in_progress": "running",
    "completed": "succeeded",
    "failed": "failed",
    # Not in OpenAI's API, but some gateways report it.
    "cancelled": "canceled",
    "canceled": "canceled",
}
MODERATION_CODES = {"moderation_blocked", "content_policy_violation"}
VARIANT_TYPES = {"video": ("video/mp4",), "thumbnail": ("image/webp",), "spritesheet": ("image/jpeg",)}
GONE = said("provider.gone")
# The create fields the format itself defines; anything else must be declared per model.
WIRE_FIELDS = frozenset({"prompt", "model", "seconds", "size", "input_reference"})
DECLARABLE = {"characters": "id[]"}  # optional fields of the format that only some gateways accept
# A gateway's own field for several shots in one request (Sora's storyboard died with Sora): the owner names
# it at registration, {"storyboard": "<field name>"}; it carries the shots as JSON [{start, end, prompt}].
STORYBOARD = "storyboard"
FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\[\]-]{0,63}")


def declared_fields_problems(schema: object) -> list[str]:
    """Plain-words reasons an OpenAI-format catalog entry's input_schema is unusable (empty if fine)."""
    if not isinstance(schema, dict):
        return [gettext('Declared fields are a JSON object, e.g. {"characters": "id[]", "extra": {"quality": '
                        '"high"}}.')]
    problems = [gettext("“%(name)s” is not a field the studio can send; declare only %(fields)s, a storyboard field "
                        "or constant fields under “extra”.") % {"name": name, "fields": ", ".join(DECLARABLE)}
                for name in schema if name not in (*DECLARABLE, STORYBOARD, "extra")]
    if STORYBOARD in schema:
        field = schema[STORYBOARD]
        if not isinstance(field, str) or not FIELD_NAME.fullmatch(field):
            problems.append(gettext("The storyboard field is a usable field name (letters, digits, _ . - [ ])."))
        elif field in WIRE_FIELDS or field.startswith("characters") or field in (schema.get("extra") or {}):
            problems.append(gettext("“%(name)s” is already a field of the request; the storyboard needs its own.")
                            % {"name": field})
    extra = schema.get("extra", {})
    if not isinstance(extra, dict):
        return problems + [gettext('“extra” maps field names to values, e.g. {"quality": "high"}.')]
    for name, value in extra.items():
        if name in WIRE_FIELDS or name.startswith("characters"):
            problems.append(gettext("“%(name)s” is already a field of the format; it cannot be an extra field.")
                            % {"name": name})
        elif not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.\[\]-]{0,63}", name):
            problems.append(gettext("“%(name)s” is not a usable field name (letters, digits, _ . - [ ]).")
                            % {"name": name})
        if not isinstance(value, (str, int, float)) or isinstance(value, bool) or len(str(value)) > 200:
            problems.append(gettext("The value of “%(name)s” must be a short text or number.") % {"name": name})
    if len(extra) > 10:
        problems.append(gettext("At most 10 extra fields."))
    return problems


class OpenAIVideosProvider(HttpAdapter, Provider):
    key = "openai-videos"
    # The API's thumbnail variant is WebP and the studio stores JPEG; extracting
    # a frame from the downloaded video is simpler than converting formats.
    has_thumbnail = True  # a WebP; the studio converts it to its JPEG thumbnail
    facts = ProviderFacts(
        title=_("The gateway"), default_base_url="", base_url_words="the gateway's base URL",
        base_url_example="https://gateway.example/v1",
        auth_header="Authorization: Bearer <key>", auth_configurable=True,  # Azure's v1 API: api-key
        webhooks=WebhookScheme.STANDARD,
        # The Videos API has no cancel: a job the studio no longer wants runs to its end (and may be
        # billed by whatever the gateway forwards to); then its copy is deleted.
        cancels=False, cancel_refund=CancelRefund.NONE, deletes_finished=True,
        job_listing=JobListing.RECENT,  # GET /videos, newest first
        reports_job_time=True,  # created_at and completed_at
        reports_billed_cost=False,
        # A gateway may forward to a provider that bills refused jobs: never assume it does not.
        bills_refused_jobs=True,
        model_source=ModelSource.REGISTERED,
        # Several shots: in the field the model's registration names (a JSON shot list), else written in the
        # prompt ("Shot 1 [0-3s] …"), which every gateway forwards.
        sends_shots=True,
        extends=True,  # POST /videos/extensions: video[id] of a video the gateway made
        model_listing=gettext_noop("the gateway's model list (GET /models), and LiteLLM's /model/info where the "
                                   "gateway has it"),
    )

    @classmethod
    def webhook_notice(cls, payload: dict[str, Any]) -> WebhookNotice:
        """`{type: video.completed | video.failed, data: {id}}`: the video to look at again."""
        data = dict_at(payload, "data")
        return WebhookNotice(job_id=str(data.get("id", "")), event=str(payload.get("type", "")))

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        auth_style: str = "bearer",
        name: str = "OpenAI-format gateway",
        models: tuple[ModelSpec, ...] = (),
        client: httpx.Client | None = None,
        sleep: Callable[[float], None]=time.sleep,
    ) -> None:
        if auth_style not in ("bearer", "api-key"):
            raise ValueError(f"auth_style must be “bearer” or “api-key”, not “{auth_style}”")
        self.name = name
        self.models = tuple(models)
        self._connect(
            base_url=base_url, client=client, sleep=sleep,
            auth={"Authorization": f"Bearer {api_key}"} if auth_style == "bearer" else {"api-key": api_key},
        )

    def _fail(self, response: httpx.Response, **kwargs: Any) -> ProviderError:
        return error_from_response(response, self.name, **kwargs)

    def submit(self, request: RenderRequest) -> str:
        if request.end_frame is not None:
            raise ProviderError(said("openai.no_end_frame"), code="invalid_request")
        # Always multipart, like the official SDK: gateways parse the form,
        # and `seconds` is a string there ("8"), never a JSON number.
        fields = {
            "prompt": request.prompt,
            "model": request.model,
            "seconds": str(request.seconds),
            "size": request.size,
        }
        if request.shots:  # the prompt names every shot in order, for gateways that read them from it
            fields["prompt"] = shots_prompt(request.shots, timed=request.shot_timing != "order")
        files: list[tuple[str, tuple[str | None, str] | tuple[str, bytes, str]]] = [
            (name, (None, value)) for name, value in fields.items()]
        if request.shots and request.shots_field:
            shots = [{"start": shot.start, "end": shot.end, "prompt": shot.prompt} for shot in request.shots]
            files.append((request.shots_field, (None, json.dumps(shots, ensure_ascii=False))))
        # Beyond the format's own fields, only what the model's catalog entry declares: a strict
        # gateway refuses a field it does not know, and a lax one may bill for what it guesses.
        if "characters" in request.declared_fields:
            # The SDK flattens `characters: [{"id": …}]` with bracket notation.
            files += [("characters[][id]", (None, cid)) for cid in request.provider_characters[:2]]
        files += [(name, (None, value)) for name, value in request.extra_fields if name not in WIRE_FIELDS]
        reference = getattr(request, "input_reference", None)
        if reference is not None:
            reference = Path(reference)
            content_type = mimetypes.guess_type(reference.name)[0] or "application/octet-stream"
            # Bytes, not an open file: a retry after a 429 must resend the same body.
            upload = (reference.name, reference.read_bytes(), content_type)
            files.append(("input_reference", upload))
        response = self._send("POST", "/videos", idempotent=False, files=files,
                              headers=self._idempotency(request.idempotency_key))
        if response.is_error:
            raise self._fail(response, model=request.model)
        return self._job_id(response)

    def _idempotency(self, key: str) -> dict[str, str]:
        # On every create, the same on every resend: a gateway that honours it answers a resend
        # with the job the first attempt made instead of making (and billing) a second one.
        return {"Idempotency-Key": key} if key else {}

    def create_character(self, *, name: str, video: Path) -> str:
        """POST /videos/characters: the provider's own character from a reference video."""
        upload = (Path(video).name, Path(video).read_bytes(), "video/mp4")
        response = self._send("POST", "/videos/characters", idempotent=False,
                              files=[("name", (None, name)), ("video", upload)])
        if response.is_error:
            raise self._fail(response)
        return self._job_id(response)

    def remix(self, job_id: str, prompt: str, *, idempotency_key: str = "") -> str:
        """Start a new video from a finished one with a changed prompt; returns its id."""
        response = self._send(
            "POST", f"/videos/{quote(job_id, safe='')}/remix", idempotent=False,
            json={"prompt": prompt}, headers=self._idempotency(idempotency_key),
        )
        if response.status_code == 404:
            raise ProviderError(said("openai.remix_gone"), code="expired")
        if response.is_error:
            raise self._fail(response)
        return self._job_id(response)

    def extend(self, request: ExtendRequest) -> str:
        """POST /videos/extensions, multipart as the SDK sends it (openai-python's VideoExtendParams):
        `prompt`, `seconds` (a string: the new part's length) and `video` as a reference to the completed
        video, `{"id": …}`, flattened `video[id]`. The answer is a Video whose content is the whole clip
        ("for extensions, `seconds` is the stitched total duration")."""
        if not request.source_job_id:
            raise ProviderError(said("openai.extends_own", provider=self.name), code="invalid_request")
        fields = {"prompt": request.prompt, "seconds": str(request.seconds), "video[id]": request.source_job_id}
        response = self._send("POST", "/videos/extensions", idempotent=False,
                              files=[(name, (None, value)) for name, value in fields.items()],
                              headers=self._idempotency(request.idempotency_key))
        if response.status_code == 404:
            raise ProviderError(said("openai.extend_gone"), code="expired")
        if response.is_error:
            raise self._fail(response, model=request.model)
        return self._job_id(response)

    def _job_id(self, response: httpx.Response) -> str:
        try:
            video = json_object(response, self.name)
        except ProviderError:
            video = {}
        if not video.get("id"):
            # Accepted, maybe billed, but we cannot track it: never resubmit blindly.
            raise ProviderError(said("openai.no_job_id", provider=self.name), code="server")
        return str(video["id"])

    def poll(self, job_id: str) -> JobState:
        response = self._send("GET", f"/videos/{quote(job_id, safe='')}", idempotent=True)
        if response.status_code == 404:
            return JobState(status="failed", error=GONE)
        if response.is_error:
            raise self._fail(response)
        video = json_object(response, self.name)
        status = STATUSES.get(str(video.get("status")), "running")
        poll_after = _poll_after(response)
        if status == "succeeded":
            return JobState(status=status, progress=100, poll_after=poll_after,
                            provider_seconds=_seconds_between(video.get("created_at"),
                                                              video.get("completed_at")))
        if status == "failed":
            return JobState(status=status, **_failure(video.get("error")))
        return JobState(status=status, progress=_progress(video), poll_after=poll_after)

    def download(self, job_id: str, variant: str, dest: Path) -> None:
        if variant not in VARIANT_TYPES:
            raise ProviderError(said("provider.no_variant", provider=self.name, variant=variant),
                                code="invalid_request")
        stream_download(
            self._client, f"/videos/{quote(job_id, safe='')}/content?variant={variant}",
            Path(dest), expected_content_types=VARIANT_TYPES[variant], headers=self._auth,
            provider_name=self.name,
        )

    # No cancel: the Videos API has none (facts.cancels). A job the studio no longer wants runs to
    # its end; then its copy is deleted.

    def delete(self, job_id: str) -> bool:
        """DELETE /videos/{id}: only a finished video can be deleted. True once it is gone
        (also when it already was: deleting twice is harmless); False while it still runs."""
        response = self._send("DELETE", f"/videos/{quote(job_id, safe='')}", idempotent=True)
        if response.status_code == 404:
            return True
        if response.status_code in (400, 409):  # still queued or in progress
            return False
        if response.is_error:
            raise self._fail(response)
        return True

    @property
    def job_listing_hint(self) -> Said:
        return said("openai.listing_hint", provider=self.name, base=str(self._client.base_url).rstrip("/"))

    def find_job(self, probe: JobProbe) -> str | None:
        """GET /videos?order=desc, newest first, back to when we sent the create; our video is the
        oldest one not owned by another take with exactly our model, size, seconds and prompt.

        Paged as the official SDK pages (its ConversationCursorPage): the next page is `after=` the
        page's `last_id` (a gateway's cursor need not be the last video's id), and there is none once
        `has_more` is false, or the page is empty or names no `last_id` (a gateway may omit has_more)."""
        since = probe.created_after.timestamp()
        found, after = [], None
        for _page in range(LIST_PAGES):
            params = {"order": "desc", "limit": LIST_LIMIT, **({"after": after} if after else {})}
            response = self._send("GET", "/videos", idempotent=True, params=params)
            if response.is_error:
                raise self._fail(response)
            page = json_object(response, self.name)
            videos = [v for v in page.get("data") or [] if isinstance(v, dict)]
            for video in videos:
                created = video.get("created_at")
                if isinstance(created, (int, float)) and created >= since and _same_request(video, probe):
                    found.append(video)
            oldest = videos[-1].get("created_at") if videos else None
            after = page.get("last_id")
            if page.get("has_more") is False or not videos or not (isinstance(after, str) and after):
                break
            if not isinstance(oldest, (int, float)) or oldest < since:
                break  # older pages hold only videos made before we sent the create
        ids = [str(v["id"]) for v in reversed(found) if v.get("id") and str(v["id"]) not in probe.exclude_ids]
        return ids[0] if ids else None

    def test_connection(self) -> Said:
        """A plain-words success message, or ProviderError saying what is wrong."""
        response = self._send("GET", "/videos", idempotent=True, params={"limit": 1})
        if response.status_code == 404:
            raise ProviderError(said("openai.no_videos_api", provider=self.name), code="invalid_request")
        if response.is_error:
            raise self._fail(response)
        return said("openai.connected", provider=self.name)


    def list_models(self, *, known: tuple[str, ...] = ()) -> ModelListing:
        """GET /models, the OpenAI list format (`{object: "list", data: [{id, object: "model", created,
        owned_by}]}`): names only. A LiteLLM proxy also answers GET /model/info (documented: each entry's
        `model_name` and its `model_info`): there `mode: "video_generation"` says which make video, and
        `output_cost_per_second` what one costs. Without it the names are listed for the owner to register."""
        response = self._send("GET", "/models", idempotent=True)
        if response.is_error:
            raise self._fail(response)
        names = [str(m["id"]) for m in json_object(response, self.name).get("data") or []
                 if isinstance(m, dict) and isinstance(m.get("id"), str) and m["id"]]
        info = self._litellm_info()
        if info is None:
            models = tuple(ListedModel(model_id=name) for name in names if name in known)
            return ModelListing(models=models, unlisted=tuple(n for n in names if n not in known))
        listed: list[ListedModel] = []
        for name in names:
            details = info.get(name)
            if name not in known and (details is None or details.get("mode") != "video_generation"):
                continue  # a chat or image model on the same gateway
            listed.append(ListedModel(model_id=name, price_per_second=_cost_per_second(details or {})))
        return ModelListing(models=tuple(listed))

    def _litellm_info(self) -> dict[str, dict[str, Any]] | None:
        """{model_name: model_info} from a LiteLLM proxy's GET /model/info; None from a gateway without it."""
        try:
            response = self._send("GET", "/model/info", idempotent=True)
        except ProviderError:
            return None
        if response.is_error:
            return None
        try:
            entries = json_object(response, self.name).get("data")
        except ProviderError:
            return None
        info = {}
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict) and isinstance(entry.get("model_name"), str):
                details = entry.get("model_info")
                info[entry["model_name"]] = details if isinstance(details, dict) else {}
        return info


def _cost_per_second(details: dict[str, Any]) -> Decimal | None:
    """LiteLLM's cost of a second of video (`output_cost_per_second`, or its video-specific name)."""
    for name in ("output_cost_per_second", "output_cost_per_video_per_second"):
        value = details.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 100:
            return Decimal(str(value))
    return None


LIST_LIMIT, LIST_PAGES = 100, 5  # at most 500 recent videos are searched


def _same_request(video: dict[str, Any], probe: JobProbe) -> bool:
    # An extension lists the stitched clip's length, not the seconds asked for.
    seconds_match = bool(probe.extends) or str(video.get("seconds")) == str(probe.seconds)
    return (video.get("model") == probe.model and str(video.get("size")) == probe.size
            and seconds_match and video.get("prompt") == probe.prompt
            and (video.get("remixed_from_video_id") or "") == probe.remix_of)


def _progress(video: dict[str, Any]) -> int:
    try:
        return max(0, min(100, int(video.get("progress") or 0)))
    except (TypeError, ValueError):
        return 0


def _seconds_between(created_at: object, completed_at: object) -> float | None:
    """completed_at − created_at (Unix seconds); None when either is missing or odd."""
    if isinstance(created_at, bool) or isinstance(completed_at, bool):
        return None
    if not (isinstance(created_at, (int, float)) and isinstance(completed_at, (int, float))):
        return None
    seconds = float(completed_at) - float(created_at)
    return seconds if seconds >= 0 else None


def _poll_after(response: httpx.Response) -> float | None:
    try:
        return max(0.0, float(response.headers["openai-poll-after-ms"]) / 1000)
    except (KeyError, ValueError):
        return None


def _failure(error: object) -> dict[str, Any]:
    """A failed video's JobState words (and code, for a moderation refusal)."""
    if not isinstance(error, dict):
        return {"error": str(error or "") or said("provider.failed_unsaid")}
    message: str | Said = str(error.get("message") or "") or said("provider.unsaid")
    code = str(error.get("code") or "")
    if code in MODERATION_CODES or "moderation" in code:
        return {"error": said("provider.moderated", message=message), "error_code": "moderation"}
    return {"error": message}
