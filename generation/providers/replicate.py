"""Replicate predictions (`https://api.replicate.com/v1`).

Every Replicate model has its own input schema, so the mapping from our
RenderRequest to a model's `input` is data: one small function per model in
INPUT_BUILDERS, overridable per connection. Outputs are deleted after about an
hour, and provider objects are rebuilt per task, so download() re-reads the
prediction for its output URL instead of remembering it.
"""

from __future__ import annotations

import base64
import mimetypes
import re
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import httpx
from django.utils.translation import gettext

from generation.words import Said, said

from . import schemas, veo
from .base import (
    CancelRefund,
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
)
from .http import EXPIRED, HttpAdapter, error_from_response, json_object, stream_download

if TYPE_CHECKING:
    from collections.abc import Callable


DEFAULT_BASE_URL = "https://api.replicate.com/v1"
# Replicate's curated video models [sdk: collections.get]; a known model outside it is looked up by name.
LISTED_COLLECTION = "text-to-video"
# owner/name; each part starts with a letter or digit, so "../x" cannot climb the path.
MODEL_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*/[A-Za-z0-9_][A-Za-z0-9_.-]*$")
STATUSES = {
    "starting": "queued",
    "processing": "running",
    "succeeded": "succeeded",
    "failed": "failed",
    "canceled": "canceled",
    "aborted": "canceled",  # a Cancel-After deadline passed
}
PERCENT = re.compile(r"(\d{1,3})%")
# Replicate reports safety refusals as an ordinary failure; E005 is its code.
MODERATION = re.compile(r"flagged as sensitive|\(E005\)|nsfw|safety|moderation", re.IGNORECASE)
GONE = said("provider.gone")

InputBuilder = Callable[[RenderRequest], dict[str, Any]]


def _aspect_ratio(request: RenderRequest, choices: tuple[str, ...]) -> str:
    ratio = request.width / request.height
    return min(choices, key=lambda c: abs(ratio - int(c.split(":")[0]) / int(c.split(":")[1])))


def _resolution(request: RenderRequest) -> str:
    return "1080p" if min(request.width, request.height) >= 1080 else "720p"


def _reference_data_uri(request: RenderRequest) -> str | None:
    # Replicate takes files as URLs or data URIs; a start frame is small enough inline.
    path = getattr(request, "input_reference", None)
    if path is None:
        return None
    return _data_uri(Path(path))


def _data_uri(path: Path) -> str:
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{content_type};base64,{base64.b64encode(path.read_bytes()).decode()}"


def veo_31_input(request: RenderRequest) -> dict[str, Any]:
    """google/veo-3.1 [docs: the model's API page]: 4/6/8 s, 16:9 or 9:16, 720p/1080p. `last_frame`
    ends the video on an image, after `image`. Cast references follow Google's rule for the model
    (veo.py): only in 8-second 16:9 takes, never beside a start or end frame."""
    if problems := veo.reference_problems(request):  # refused before anything is sent or billed
        raise ProviderError(" ".join(problems), code="invalid_request")
    inputs = {
        "prompt": request.prompt,
        "duration": request.seconds,
        "aspect_ratio": _aspect_ratio(request, ("16:9", "9:16")),
        "resolution": _resolution(request),
        "generate_audio": True,
    }
    image = _reference_data_uri(request)
    if image:
        inputs["image"] = image
    if request.end_frame is not None:
        inputs["last_frame"] = _data_uri(Path(request.end_frame))
    references = veo.references_for(request)
    if references:
        # Veo's ASSET references keep a cast member's likeness (up to three); beside a start or end frame
        # none are sent and the cast travels by description in the prompt, as on the Gemini API.
        inputs["reference_images"] = [_data_uri(Path(p)) for p in references]
    return inputs


def wan_27_t2v_input(request: RenderRequest) -> dict[str, Any]:
    """wan-video/wan-2.7-t2v: 2–15 s. [3p] Replicate's schema for 2.7 is unconfirmed;
    gateways serving Wan 2.7 take `resolution` (720p/1080p) plus `aspect_ratio`, so
    we send those. Override via `input_builders` if the model page says otherwise."""
    return {
        "prompt": request.prompt,
        "duration": request.seconds,
        "resolution": _resolution(request),
        "aspect_ratio": _aspect_ratio(request, ("16:9", "9:16", "1:1", "4:3", "3:4")),
    }


def generic_input(request: RenderRequest) -> dict[str, Any]:
    """Unknown models: the two inputs nearly every video model has."""
    return {"prompt": request.prompt, "duration": request.seconds}


INPUT_BUILDERS: dict[str, InputBuilder] = {
    "google/veo-3.1": veo_31_input,
    "wan-video/wan-2.7-t2v": wan_27_t2v_input,
}
# Models whose input builder maps an end frame (last_frame).
END_FRAME_MODELS = {"google/veo-3.1"}


class ReplicateProvider(HttpAdapter, Provider):
    key = "replicate"
    has_thumbnail = False  # predictions output the video only; the studio extracts a frame
    facts = ProviderFacts(
        title="Replicate", default_base_url=DEFAULT_BASE_URL, auth_header="Authorization: Bearer <key>",
        webhooks=WebhookScheme.STANDARD,
        webhook_secret_from_api=True,  # GET /webhooks/default/secret: the owner need not paste it
        cancels=True, cancel_refund=CancelRefund.WORK_DONE,  # billed by the second it ran
        job_listing=JobListing.RECENT,  # GET /predictions, newest first
        reports_job_time=True,  # created_at and completed_at
        reports_billed_cost=True,  # metrics.predict_time (and a cost, where it reports one)
        bills_refused_jobs=True,
        # For models whose input builder maps them (google/veo-3.1: last_frame, reference_images).
        sends_end_frame=True, sends_reference_images=True,
        # For models added from a published schema that lists shots (an array of {prompt, duration}).
        sends_shots=True,
        model_listing="Replicate's text-to-video collection, with each model's latest version's OpenAPI input "
                      "schema",
    )

    @classmethod
    def shot_problems(cls, *, model_id: str, shots: Sequence[Shot], input_map: dict[str, Any] | None = None) -> list[str]:
        if model_id in INPUT_BUILDERS or not input_map:
            return [gettext("Replicate's %(model)s takes no shot list: choose a model that renders several shots.")
                    % {"model": model_id}]
        return schemas.shot_problems(input_map, shots)

    @classmethod
    def webhook_notice(cls, payload: dict[str, Any]) -> WebhookNotice:
        """The body is the prediction itself: `{id, status, …}`."""
        return WebhookNotice(job_id=str(payload.get("id", "")), event=str(payload.get("status", "")))

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        name: str = "Replicate",
        models: tuple[ModelSpec, ...] = (),
        webhook_url: str | None = None,
        input_builders: Mapping[str, InputBuilder] | None = None,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None]=time.sleep,
    ) -> None:
        self.name = name
        self.models = tuple(models)
        self._webhook_url = webhook_url
        self._builders = {**INPUT_BUILDERS, **(input_builders or {})}
        # Output files live on another host (replicate.delivery) that must never see the key.
        self._connect(base_url=base_url, client=client, sleep=sleep,
                      auth={"Authorization": f"Bearer {api_key}"})

    def build_input(self, request: RenderRequest) -> dict[str, Any]:
        if request.model not in self._builders and request.input_map:
            return schemas.mapped_input(request, request.input_map)  # added from its schema
        if request.end_frame is not None and request.model not in END_FRAME_MODELS:
            # Said before anything is sent: a model whose inputs we do not map would drop it silently.
            raise ProviderError(said("replicate.no_end_frame", model=request.model), code="invalid_request")
        if request.shots:  # never dropped silently: only models added from a schema listing shots take them
            raise ProviderError(said("replicate.no_shots", model=request.model), code="invalid_request")
        return self._builders.get(request.model, generic_input)(request)

    def submit(self, request: RenderRequest) -> str:
        if not MODEL_ID.match(request.model):
            raise ProviderError(said("provider.model_unknown", model=request.model), code="model_unknown")
        body: dict[str, object] = {"input": self.build_input(request)}
        if self._webhook_url:
            body["webhook"] = self._webhook_url
            body["webhook_events_filter"] = ["completed"]
        response = self._send(
            "POST", f"/models/{request.model}/predictions", idempotent=False, json=body
        )
        if response.is_error:
            raise error_from_response(response, self.name, model=request.model)
        try:
            prediction_id = response.json().get("id")
        except (ValueError, AttributeError):
            prediction_id = None
        if not prediction_id:
            raise ProviderError(said("replicate.no_prediction_id", provider=self.name), code="server")
        return str(prediction_id)

    def _prediction(self, job_id: str) -> dict[str, Any] | None:
        """The prediction, or None when Replicate no longer knows it."""
        response = self._send("GET", f"/predictions/{quote(job_id, safe='')}", idempotent=True)
        if response.status_code == 404:
            return None
        if response.is_error:
            raise error_from_response(response, self.name)
        return json_object(response, self.name)

    def poll(self, job_id: str) -> JobState:
        prediction = self._prediction(job_id)
        if prediction is None:
            return JobState(status="failed", error=GONE)
        status = STATUSES.get(str(prediction.get("status")), "running")
        if status == "succeeded":
            return JobState(status=status, progress=100, provider_seconds=_seconds_between(
                prediction.get("created_at"), prediction.get("completed_at")), **_billing(prediction))
        if status == "failed":  # a failed prediction that ran is billed for the time it ran
            return JobState(status=status, **_failure(prediction.get("error")), **_billing(prediction))
        return JobState(status=status, progress=_progress(prediction.get("logs")))

    def download(self, job_id: str, variant: str, dest: Path) -> None:
        if variant != "video":
            raise ProviderError(said("provider.video_only", provider=self.name), code="invalid_request")
        prediction = self._prediction(job_id)
        if prediction is None:
            raise ProviderError(EXPIRED, code="expired")
        url = _video_url(prediction.get("output"))
        if prediction.get("status") != "succeeded" or not url:
            raise ProviderError(said("provider.no_finished_video", provider=self.name), code="bad_download")
        stream_download(self._client, url, Path(dest), provider_name=self.name)

    def cancel(self, job_id: str) -> bool:
        response = self._send(
            "POST", f"/predictions/{quote(job_id, safe='')}/cancel", idempotent=True
        )
        if response.status_code == 404:
            return False
        if response.is_error:
            raise error_from_response(response, self.name)
        return True

    job_listing_hint = said("replicate.listing_hint")

    def find_job(self, probe: JobProbe) -> str | None:
        """GET /predictions lists the account's predictions newest first, a page at a time
        (`next` is the following page's URL). Ours has our model, prompt and duration and was
        created after we sent it; the oldest one no other take owns is ours."""
        since = probe.created_after.timestamp()
        found, url = [], "/predictions"
        for _page in range(LIST_PAGES):
            response = self._send("GET", url, idempotent=True)
            if response.is_error:
                raise error_from_response(response, self.name)
            page = json_object(response, self.name)
            results = [p for p in page.get("results") or [] if isinstance(p, dict)]
            for prediction in results:
                created = _timestamp(prediction.get("created_at"))
                if created is not None and created >= since and prediction.get("model") == probe.model:
                    found.append(prediction)
            oldest = _timestamp(results[-1].get("created_at")) if results else None
            next_url = page.get("next")
            if not (isinstance(next_url, str) and next_url) or oldest is None or oldest < since:
                break
            if not next_url.startswith(str(self._client.base_url).rstrip("/") + "/"):
                break  # the key goes to the API host only
            url = next_url  # an absolute URL on the same API host
        for prediction in reversed(found):
            job_id = str(prediction.get("id") or "")
            if not job_id or job_id in probe.exclude_ids:
                continue
            inputs = prediction.get("input")
            if not isinstance(inputs, dict):  # not every listing carries the input: read it
                inputs = (self._prediction(job_id) or {}).get("input") or {}
            if inputs.get("prompt") == probe.prompt and inputs.get("duration") in (None, probe.seconds):
                return job_id
        return None

    def webhook_secret(self) -> str:
        """The account's webhook signing secret (`whsec_…`), which signs every webhook
        Replicate sends it: GET /webhooks/default/secret."""
        response = self._send("GET", "/webhooks/default/secret", idempotent=True)
        if response.is_error:
            raise error_from_response(response, self.name)
        try:
            key = response.json().get("key")
        except (ValueError, AttributeError):
            key = None
        if not (isinstance(key, str) and key.startswith("whsec_")):
            raise ProviderError(said("replicate.no_signing_secret", provider=self.name), code="server")
        return key

    def list_models(self, *, known: tuple[str, ...] = ()) -> ModelListing:
        """GET /collections/text-to-video: each model with its latest version, whose `openapi_schema` names
        the input (`components.schemas.Input`). A known model outside the collection is read with
        GET /models/{owner}/{name}; 404 means Replicate no longer has it."""
        response = self._send("GET", f"/collections/{LISTED_COLLECTION}", idempotent=True)
        if response.is_error:
            raise error_from_response(response, self.name)
        found = {}
        for model in json_object(response, self.name).get("models") or []:
            model_id = _model_id(model)
            if model_id:
                found[model_id] = model
        for model_id in known:
            if model_id in found or not MODEL_ID.match(model_id):
                continue
            response = self._send("GET", f"/models/{model_id}", idempotent=True)
            if response.status_code == 404:
                continue
            if response.is_error:
                raise error_from_response(response, self.name)
            model = json_object(response, self.name)
            if _model_id(model) == model_id:
                found[model_id] = model
        for model_id, model in list(found.items()):
            if _schema_of(model) is None:  # a collection may leave the version out: read the model itself
                response = self._send("GET", f"/models/{model_id}", idempotent=True)
                if response.is_success:
                    found[model_id] = json_object(response, self.name)
        return ModelListing(models=tuple(_listed(model_id, model) for model_id, model in found.items()))

    def test_connection(self) -> Said:
        """A plain-words success message naming the account, or ProviderError."""
        response = self._send("GET", "/account", idempotent=True)
        if response.is_error:
            raise error_from_response(response, self.name)
        try:
            username = str(response.json().get("username") or "")
        except (ValueError, AttributeError):
            username = ""
        if not username:
            return said("replicate.connected_unnamed", provider=self.name)
        return said("replicate.connected_as", provider=self.name, user=username)


def _model_id(model: object) -> str | None:
    if not isinstance(model, dict):
        return None
    model_id = f"{model.get('owner')}/{model.get('name')}"
    return model_id if MODEL_ID.match(model_id) else None


def _schema_of(model: dict[str, Any]) -> dict[str, Any] | None:
    version = dict_at(model, "latest_version")
    schema = version.get("openapi_schema")
    return schema if isinstance(schema, dict) else None


def _listed(model_id: str, model: dict[str, Any]) -> ListedModel:
    """A model as its latest version's schema says it (Cog: `components.schemas.Input`). Replicate publishes
    no price per second: a new model needs one from the owner."""
    schema = _schema_of(model) or {}
    components = (schema.get("components") or {}).get("schemas") or {}
    if not isinstance(components, dict) or not isinstance(components.get("Input"), dict):
        return ListedModel(model_id=model_id, blockers=(("no_schema", ""),))
    listed = schemas.listed_from_schema(model_id, components["Input"], components, vocabulary=schemas.REPLICATE)
    return schemas.hand_mapped(listed) if model_id in INPUT_BUILDERS else listed


def _video_url(output: object) -> str | None:
    """The first .mp4 among a model's outputs (a URL, a list of URLs, or a dict of them)."""
    if isinstance(output, str):
        urls = [output]
    elif isinstance(output, list):
        urls = [u for u in output if isinstance(u, str)]
    elif isinstance(output, dict):
        urls = [u for u in output.values() if isinstance(u, str)]
    else:
        urls = []
    urls = [u for u in urls if u.startswith(("https://", "http://"))]
    mp4 = [u for u in urls if urlsplit(u).path.lower().endswith(".mp4")]
    found = mp4 or urls
    return found[0] if found else None


ISO_FRACTION = re.compile(r"(\.\d{6})\d+")


def _billing(prediction: dict[str, Any]) -> dict[str, Any]:
    """What Replicate says the prediction cost: a `cost` (US$) when it reports one, and the
    billed compute time (`metrics.predict_time`, seconds) the pipeline prices by hardware."""
    facts: dict[str, float | Decimal] = {}
    metrics = dict_at(prediction, "metrics")
    seconds = metrics.get("predict_time")
    if isinstance(seconds, (int, float)) and not isinstance(seconds, bool) and 0 <= seconds < 10**6:
        facts["billed_seconds"] = float(seconds)
    for source in (prediction, metrics):
        cost = source.get("cost")
        if isinstance(cost, (int, float, str)) and not isinstance(cost, bool):
            try:
                value = Decimal(str(cost))
            except InvalidOperation:
                continue
            if value.is_finite() and 0 <= value < 10**5:
                facts["billed_cost"] = value
                break
    return facts


def _seconds_between(created_at: object, completed_at: object) -> float | None:
    """completed_at − created_at from Replicate's ISO 8601 times; None when unreadable."""
    try:
        # Python 3.11 reads "Z" but at most six fractional digits.
        start, end = (datetime.fromisoformat(ISO_FRACTION.sub(r"\1", str(t)))
                      for t in (created_at, completed_at))
        seconds = (end - start).total_seconds()
    except (TypeError, ValueError):
        return None
    return seconds if seconds >= 0 else None


LIST_PAGES = 5


def _timestamp(value: object) -> float | None:
    try:
        return datetime.fromisoformat(ISO_FRACTION.sub(r"\1", str(value))).timestamp()
    except (TypeError, ValueError):
        return None


def _progress(logs: object) -> int:
    # Replicate has no progress field; many models print tqdm bars ("42%|████").
    matches = PERCENT.findall(str(logs or "")[-4000:])
    return min(100, int(matches[-1])) if matches else 0


def _failure(error: object) -> dict[str, Any]:
    """A failed prediction's JobState words (and code, for a moderation refusal)."""
    message = str(error or "").strip()
    if MODERATION.search(message):
        return {"error": said("provider.moderated", message=message), "error_code": "moderation"}
    return {"error": message or said("provider.failed_unsaid")}
