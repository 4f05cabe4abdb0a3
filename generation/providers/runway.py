"""Runway's developer API (`https://api.dev.runwayml.com`, API version 2024-11-06).

A take is a task: `POST /v1/text_to_video` (or `/v1/image_to_video` when the take
has a start frame) answers `{id}`; `GET /v1/tasks/{id}` reports it; `DELETE`
cancels it. No webhooks and no task listing, so a create whose answer was lost
cannot be found again: it is reported as "may be billed" with where to look.
Output URLs are signed and expire after 24–48 hours; the studio copies the file
as soon as the task succeeds.

A task that ended (succeeded, failed or canceled) says what it was charged: `cost: {credits}`
(the SDK's types mark it required; a refunded task reports 0), at US$0.01 a credit. A canceled
task is not refunded. Prompts are at most 1,000 characters counted in UTF-16 code units (gen4.5,
gen4_turbo, veo3.1) or 3,500 (seedance2), as the SDK's request types say.
"""

from __future__ import annotations

import base64
import mimetypes
import re
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import httpx

from .base import (
    CancelRefund,
    JobListing,
    JobState,
    ModelSpec,
    Provider,
    ProviderError,
    ProviderFacts,
    RenderRequest,
    WebhookScheme,
)
from .http import EXPIRED, HttpAdapter, error_from_response, json_object, stream_download

DEFAULT_BASE_URL = "https://api.dev.runwayml.com"
API_VERSION = "2024-11-06"
STATUSES = {
    "PENDING": "queued",
    "THROTTLED": "queued",  # waiting for a free slot of the organisation's concurrency: queued to users
    "RUNNING": "running",
    "SUCCEEDED": "succeeded",
    "FAILED": "failed",
    "CANCELLED": "canceled",
}
# Models that animate a start frame and refuse a text-only request.
IMAGE_ONLY = {"gen4_turbo"}
# promptText's longest, in UTF-16 code units (what Runway counts). A model not listed gets the
# strictest limit: a prompt refused here costs nothing, one Runway refuses costs a failed take.
PROMPT_LIMITS = {"gen4.5": 1000, "gen4_turbo": 1000, "veo3.1": 1000, "veo3.1_fast": 1000, "seedance2": 3500}
PROMPT_LIMIT_DEFAULT = 1000
USD_PER_CREDIT = Decimal("0.01")
MAX_ISSUES = 5
# Models whose promptImage may hold a last frame too ([{uri, position: "first"}, {uri, position: "last"}]),
# as runwayml's ImageToVideoCreateParams types them; the others take a first frame only.
LAST_FRAME_MODELS = {"veo3.1", "veo3.1_fast", "seedance2", "seedance2_fast", "seedance2_mini"}
GONE = "The provider no longer knows this job."
MODEL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class RunwayProvider(HttpAdapter, Provider):
    key = "runway"
    has_thumbnail = False  # tasks output the video only; the studio extracts a frame
    facts = ProviderFacts(
        title="Runway", default_base_url=DEFAULT_BASE_URL,
        auth_header=f"Authorization: Bearer <key> (X-Runway-Version: {API_VERSION})",
        webhooks=WebhookScheme.NONE,
        # DELETE stops a running task, but Runway does not give a canceled task's credits back.
        cancels=True, cancel_refund=CancelRefund.NONE,
        job_listing=JobListing.NONE,
        reports_job_time=False,  # a task has createdAt only, no end time
        reports_billed_cost=True,  # a finished task's cost.credits (1 credit = US$0.01)
        bills_refused_jobs=True,  # "Moderated generations have the same credit cost as successful ones"
        sends_end_frame=True,  # promptImage position "last", for LAST_FRAME_MODELS
    )

    job_listing_hint = ("Look for it in Runway's developer portal (dev.runwayml.com › your organization › "
                        "Usage / Tasks); the API cannot list tasks.")

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        name: str = "Runway",
        models: tuple[ModelSpec, ...] = (),
        client: httpx.Client | None = None,
        sleep=time.sleep,
    ):
        self.name = name
        self.models = tuple(models)
        # Output files live on Runway's CDN: the key and version header go only to the API host.
        self._connect(base_url=base_url, client=client, sleep=sleep,
                      auth={"Authorization": f"Bearer {api_key}", "X-Runway-Version": API_VERSION})

    @classmethod
    def prompt_problems(cls, *, model_id: str, prompt: str) -> list[str]:
        limit = PROMPT_LIMITS.get(model_id, PROMPT_LIMIT_DEFAULT)
        length = utf16_length(prompt)
        if length <= limit:
            return []
        return [f"Runway's {model_id} takes a prompt of at most {limit:,} characters; this one has {length:,} "
                "(with the cast's descriptions, if any). Shorten the prompt."]

    def build_body(self, request: RenderRequest) -> tuple[str, dict]:
        """(path, JSON body) for the create: exactly the fields Runway defines."""
        body = {
            "model": request.model,
            "promptText": request.prompt,
            "ratio": request.size.replace("x", ":"),  # "1280x720" → "1280:720"
            "duration": request.seconds,
        }
        seed = (request.recipe.get("parameters") or {}).get("seed")
        if type(seed) is int:
            body["seed"] = seed
        if request.input_reference is None:
            return "/v1/text_to_video", body
        start = _data_uri(Path(request.input_reference))
        if request.end_frame is None:
            body["promptImage"] = start
        else:
            body["promptImage"] = [{"uri": start, "position": "first"},
                                   {"uri": _data_uri(Path(request.end_frame)), "position": "last"}]
        return "/v1/image_to_video", body

    def submit(self, request: RenderRequest) -> str:
        if not MODEL_ID.match(request.model):
            raise ProviderError(f"The model “{request.model}” is unknown or retired at this provider.",
                                code="model_unknown")
        if request.model in IMAGE_ONLY and request.input_reference is None:
            raise ProviderError(f"{self.name}'s {request.model} animates a start frame: add a reference image "
                                "to the scene, or pick another model.", code="invalid_request")
        if request.end_frame is not None and (request.model not in LAST_FRAME_MODELS or request.input_reference is None):
            raise ProviderError(f"{self.name}'s {request.model} cannot end on a frame (only "
                                f"{', '.join(sorted(LAST_FRAME_MODELS))} do, after a first frame).",
                                code="invalid_request")
        if problems := self.prompt_problems(model_id=request.model, prompt=request.prompt):
            raise ProviderError(" ".join(problems), code="invalid_request")
        path, body = self.build_body(request)
        response = self._send("POST", path, idempotent=False, json=body)
        if response.is_error:
            raise self._fail(response, model=request.model)
        try:
            task_id = json_object(response, self.name).get("id")
        except ProviderError:
            task_id = None
        if not task_id:
            raise ProviderError(f"{self.name} accepted the request but sent no task id. "
                                "Check the provider before retrying.", code="server")
        return str(task_id)

    def _fail(self, response: httpx.Response, *, model: str = "") -> ProviderError:
        """Runway answers validation errors with 400 `{"error": "...", "issues": [...]}`, one issue per
        field it refused (shown with the error: "Validation of body failed" alone helps nobody); an
        unknown model is such an issue on `model`, and running out of credits a 400 too."""
        body = _json(response)
        issues = [i for i in body.get("issues") or [] if isinstance(i, dict)] if isinstance(
            body.get("issues"), list) else []
        if response.status_code == 400 and model and any(i.get("path") == ["model"] for i in issues):
            return ProviderError(f"The model “{model}” is unknown or retired at this provider.",
                                 code="model_unknown")
        error = error_from_response(response, self.name, model=model)
        if response.status_code == 400 and "credit" in str(body.get("error", "")).lower():
            error.code = "quota"
        elif response.status_code == 400 and issues:
            return ProviderError(f"{error.message.rstrip('.')}: {_issues_in_words(issues)}.", code=error.code)
        return error

    def _task(self, job_id: str) -> dict | None:
        """The task, or None when Runway no longer knows it (deleted, or expired)."""
        response = self._send("GET", f"/v1/tasks/{quote(job_id, safe='')}", idempotent=True)
        if response.status_code == 404:
            return None
        if response.is_error:
            raise self._fail(response)
        return json_object(response, self.name)

    def poll(self, job_id: str) -> JobState:
        task = self._task(job_id)
        if task is None:
            return JobState(status="failed", error=GONE)
        status = STATUSES.get(str(task.get("status")), "running")
        if status == "succeeded":
            return JobState(status=status, progress=100, **_billing(task))
        if status == "failed":
            return JobState(status=status, **_failure(task), **_billing(task))
        if status == "canceled":
            return JobState(status=status, error="Canceled at the provider.", **_billing(task))
        return JobState(status=status, progress=_progress(task.get("progress")) if status == "running" else 0)

    def download(self, job_id: str, variant: str, dest: Path) -> None:
        if variant != "video":
            raise ProviderError(f"{self.name} outputs only the video; the thumbnail is taken from it.",
                                code="invalid_request")
        task = self._task(job_id)
        if task is None:
            raise ProviderError(EXPIRED, code="expired")
        outputs = [u for u in task.get("output") or [] if isinstance(u, str) and u.startswith(("https://", "http://"))]
        if task.get("status") != "SUCCEEDED" or not outputs:
            raise ProviderError(f"{self.name} has no finished video for this job.", code="bad_download")
        try:
            stream_download(self._client, outputs[0], Path(dest), provider_name=self.name)
        except ProviderError as exc:
            # A signed URL past its expiry answers 403 from the CDN: the file is gone, not our key.
            if exc.code == "auth":
                raise ProviderError(EXPIRED, code="expired") from exc
            raise

    def cancel(self, job_id: str) -> bool:
        """DELETE cancels a running task (and deletes a finished one): 204 either way."""
        response = self._send("DELETE", f"/v1/tasks/{quote(job_id, safe='')}", idempotent=True)
        if response.status_code == 404:
            return False
        if response.is_error:
            raise self._fail(response)
        return True

    def test_connection(self) -> str:
        """GET /v1/organization: free, authenticated, and it tells the credit balance."""
        response = self._send("GET", "/v1/organization", idempotent=True)
        if response.is_error:
            raise self._fail(response)
        credits = _json(response).get("creditBalance")
        if isinstance(credits, int):
            return f"Connected to {self.name}: {credits} credits left."
        return f"Connected to {self.name}."


def _json(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def utf16_length(text: str) -> int:
    """Characters as Runway (JavaScript) counts them: UTF-16 code units, so an emoji counts two."""
    return len(text.encode("utf-16-le")) // 2


def _issues_in_words(issues: list[dict]) -> str:
    """Runway's per-field issues, one short clause each: "promptText: Too big: …; ratio: Invalid ratio"."""
    words = []
    for issue in issues[:MAX_ISSUES]:
        path = issue.get("path") if isinstance(issue.get("path"), list) else []
        where = ".".join(str(p) for p in path)
        message = " ".join(str(issue.get("message") or "invalid").split())[:120]
        words.append(f"{where}: {message}" if where else message)
    more = len(issues) - MAX_ISSUES
    return "; ".join(words) + (f"; and {more} more" if more > 0 else "")


def _billing(task: dict) -> dict:
    """What an ended task was charged, in US$: its `cost.credits` (required on every ended task in
    Runway's SDK types; 0 when refunded) at US$0.01 a credit. Nothing when it does not say."""
    cost = task.get("cost") if isinstance(task.get("cost"), dict) else {}
    credits = cost.get("credits")
    if isinstance(credits, bool) or not isinstance(credits, (int, float)) or not 0 <= credits < 10**7:
        return {}
    return {"billed_cost": Decimal(str(credits)) * USD_PER_CREDIT}


def _data_uri(path: Path) -> str:
    # Runway takes a start frame as an https URL or a data URI; a fitted frame is small enough inline.
    content_type = mimetypes.guess_type(path.name)[0] or "image/png"
    return f"data:{content_type};base64,{base64.b64encode(path.read_bytes()).decode()}"


def _progress(value) -> int:
    # Runway reports progress as a fraction, 0 to 1.
    try:
        return max(0, min(99, int(float(value) * 100)))
    except (TypeError, ValueError):
        return 0


def _failure(task: dict) -> dict:
    """A failed task's JobState words (and code, for a moderation refusal)."""
    message = str(task.get("failure") or "").strip() or "The provider did not say why the video failed."
    code = str(task.get("failureCode") or "")
    # Runway's moderation codes start with SAFETY (SAFETY.INPUT.TEXT, SAFETY.OUTPUT.VIDEO, …).
    if code.upper().startswith("SAFETY"):
        return {"error": f"Refused by the provider's moderation: {message}", "error_code": "moderation"}
    return {"error": message}
