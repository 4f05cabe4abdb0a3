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
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx
from django.utils.translation import gettext

from generation.durations import grouped
from generation.words import Said, said

from .base import (
    CancelRefund,
    JobListing,
    JobState,
    ListedModel,
    ModelListing,
    ModelSpec,
    Provider,
    ProviderError,
    ProviderFacts,
    RenderRequest,
    Shot,
    WebhookScheme,
    dict_at,
    list_at,
    shots_prompt,
)
from .http import EXPIRED, HttpAdapter, error_from_response, json_object, stream_download

if TYPE_CHECKING:
    from collections.abc import Callable


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
USD_PER_CREDIT = Decimal("0.01")
MAX_ISSUES = 5


@dataclass(frozen=True)
class Published:
    """A video model as runwayml's request types define it for API version 2024-11-06 (runwayml 5.24.0,
    TextToVideoCreateParams and ImageToVideoCreateParams, read 2026-12). Runway publishes no endpoint
    listing its models: this list, shipped with the adapter, is what "Check for model changes" reads."""

    model_id: str
    text: tuple[str, ...]  # text_to_video's `ratio` choices; empty: image to video only
    image: tuple[str, ...]  # image_to_video's; SAME: as text's; empty: it takes no ratio there
    durations: tuple[int, ...] | None  # None: the types give no lengths
    last_frame: bool = False  # promptImage takes {position: "last"} after the first
    prompt_limit: int | None = None  # promptText's longest, in UTF-16 code units, where the types say
    text_to_video: bool = True  # False: image to video only (it animates a start frame)


SAME = ("same",)
# Ratio lists several models share, written as the types write them.
HD = ("1280:720", "720:1280")
HD_FULL = ("1280:720", "720:1280", "1080:1920", "1920:1080")
KLING_PRO, KLING_STANDARD = ("1920:1080", "1080:1920", "1440:1440"), ("1280:720", "720:1280", "960:960")
KLING_4K = ("3840:2160", "2160:3840", "2880:2880")
SEEDANCE = ("992:432", "864:496", "752:560", "640:640", "560:752", "496:864", "1470:630", "1280:720", "1112:834",
            "960:960", "834:1112", "720:1280")
SEEDANCE_HD = SEEDANCE + ("2206:946", "1920:1080", "1664:1248", "1440:1440", "1248:1664", "1080:1920")
WAN = ("832:480", "720:544", "624:624", "544:720", "480:832", "1280:720", "1104:832", "960:960", "832:1104",
       "720:1280", "1920:1080", "1648:1248", "1440:1440", "1248:1648", "1080:1920", "auto_480p", "auto_720p",
       "auto_1080p")
GEN4 = ("1280:720", "720:1280", "1104:832", "832:1104", "960:960", "1584:672")
PUBLISHED = (
    Published("gen4.5", text=HD, image=GEN4, durations=tuple(range(2, 11)), prompt_limit=1000),
    Published("gen4_turbo", text=(), image=GEN4, durations=None, prompt_limit=1000, text_to_video=False),
    Published("veo3.1", text=HD_FULL, image=SAME, durations=(4, 6, 8), last_frame=True, prompt_limit=1000),
    Published("veo3.1_fast", text=HD_FULL, image=SAME, durations=(4, 6, 8), last_frame=True, prompt_limit=1000),
    Published("seedance2", text=SEEDANCE_HD + ("3840:1646", "3840:2160", "3840:2880", "3840:3840", "2880:3840",
                                               "2160:3840"),
              image=SAME, durations=None, last_frame=True, prompt_limit=3500),
    Published("seedance2_fast", text=SEEDANCE, image=SAME, durations=None, last_frame=True, prompt_limit=3500),
    Published("seedance2_mini", text=SEEDANCE, image=SAME, durations=None, last_frame=True, prompt_limit=3500),
    Published("seedance2_5", text=tuple(r.replace("864:496", "854:480").replace("496:864", "480:854")
                                        for r in SEEDANCE_HD),
              image=SAME, durations=None, last_frame=True, prompt_limit=15000),
    Published("kling2.5_turbo_pro", text=("1920:1080", "1440:1440", "1080:1920", "1280:720", "720:720", "720:1280"),
              image=(), durations=(5, 10), last_frame=True),
    Published("kling3.0_pro", text=KLING_PRO, image=SAME, durations=None, last_frame=True),
    Published("kling3.0_standard", text=KLING_STANDARD, image=SAME, durations=None, last_frame=True),
    Published("kling3.0_4k", text=KLING_4K, image=SAME, durations=None, last_frame=True),
    Published("klingO3_pro", text=KLING_PRO, image=SAME, durations=None, last_frame=True),
    Published("klingO3_standard", text=KLING_STANDARD, image=SAME, durations=None, last_frame=True),
    Published("klingO3_4k", text=KLING_4K, image=SAME, durations=None, last_frame=True),
    Published("kling_4", text=("1280:720", "720:1280", "940:940", "1460:624", "1920:1080", "1080:1920", "1440:1440",
                               "2200:940", "auto_720p", "auto_1080p"), image=("auto_720p", "auto_1080p"), durations=None),
    Published("hailuo3", text=("adaptive", "21:9", "16:9", "4:3", "1:1", "3:4", "9:16"), image=SAME, durations=None),
    Published("happyhorse_1_0", text=("1280:720", "720:1280", "960:960", "1108:832", "832:1108", "1920:1080",
                                      "1080:1920", "1440:1440", "1662:1248", "1248:1662"),
              image=(), durations=None, prompt_limit=2500),
    Published("gemini_omni_flash", text=HD, image=SAME, durations=tuple(range(3, 11))),
    Published("gemini_omni_flash_1.1", text=("640:360", "360:640") + HD + ("1920:1080", "1080:1920", "3840:2160",
                                                                         "2160:3840"),
              image=SAME, durations=tuple(range(3, 11)), last_frame=True),
    Published("wan3", text=WAN, image=SAME, durations=None),
    Published("wan3_prime", text=WAN, image=SAME, durations=None),
    Published("grok_imagine_1_5", text=("1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3"), image=(), durations=None),
    Published("grok_imagine_1_5_lite", text=("848:480", "480:848", "480:480", "640:480", "480:640", "720:480",
                                             "480:720", "1280:720", "720:1280", "720:720", "960:720", "720:960",
                                             "1088:720", "720:1088", "1904:1072", "1072:1904", "1424:1424",
                                             "1648:1232", "1232:1648", "1744:1152", "1152:1744"),
              image=("auto_480p", "auto_720p", "auto_1080p"), durations=None),
    Published("h3_max", text=(), image=(), durations=None, last_frame=True),  # sized by `resolution`, no ratio
)
# Models that animate a start frame and refuse a text-only request.
IMAGE_ONLY = {p.model_id for p in PUBLISHED if not p.text_to_video}
# promptText's longest, in UTF-16 code units (what Runway counts). A model without one gets the
# strictest limit: a prompt refused here costs nothing, one Runway refuses costs a failed take.
PROMPT_LIMITS = {p.model_id: p.prompt_limit for p in PUBLISHED if p.prompt_limit}
PROMPT_LIMIT_DEFAULT = 1000
# Models whose promptImage may hold a last frame too ([{uri, position: "first"}, {uri, position: "last"}]),
# as runwayml's ImageToVideoCreateParams types them; the others take a first frame only.
LAST_FRAME_MODELS = {p.model_id for p in PUBLISHED if p.last_frame}
GONE = said("provider.gone")
MODEL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
# Runway's multi-shot recipe (runwayml's RecipeMultiShotVideoParams, custom mode): 3–5 shots of
# {prompt (3–512 characters), duration} adding up to the take's 5, 10 or 15 s; version pinned; an optional
# firstFrame {uri}; ratios of 720p (standard tier) or 1080p (pro tier). It renders no single shot.
RECIPE = "multi_shot_video"
RECIPE_VERSION = "2026-06"
RECIPE_SHOTS = (3, 5)
RECIPE_PROMPT = (3, 512)
RECIPE_DURATIONS = (5, 10, 15)
# Models that read several shots numbered in their prompt, in order (Seedance 2.0).
NUMBERED_SHOTS = {"seedance2", "seedance2_fast", "seedance2_mini"}


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
        sends_shots=True,  # the multi-shot recipe's shots; Seedance's numbered in its prompt
        model_listing="the models runwayml's request types define for API version " + API_VERSION
                      + ", shipped with the studio (Runway publishes no endpoint listing them)",
    )

    job_listing_hint = said("runway.listing_hint")

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        name: str = "Runway",
        models: tuple[ModelSpec, ...] = (),
        client: httpx.Client | None = None,
        sleep: Callable[[float], None]=time.sleep,
    ) -> None:
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
        return [gettext("Runway's %(model)s takes a prompt of at most %(limit)s characters; this one has %(length)s "
                        "(with the cast's descriptions, if any). Shorten the prompt.")
                % {"model": model_id, "limit": grouped(limit), "length": grouped(length)}]

    @classmethod
    def shot_problems(cls, *, model_id: str, shots: Sequence[Shot], input_map: dict[str, Any] | None = None) -> list[str]:
        if model_id in NUMBERED_SHOTS:
            return cls.prompt_problems(model_id=model_id, prompt=shots_prompt(shots, timed=False))
        if model_id != RECIPE:
            return [gettext("Runway's %(model)s renders one shot per request: choose its multi-shot recipe.")
                    % {"model": model_id}]
        low, high = RECIPE_SHOTS
        problems = [] if low <= len(shots) <= high else [
            gettext("Runway's multi-shot recipe renders %(low)s to %(high)s shots in one take, not %(n)s.")
            % {"low": low, "high": high, "n": len(shots)}]
        shortest, longest = RECIPE_PROMPT
        for shot in shots:
            length = utf16_length(shot.prompt)
            if not shortest <= length <= longest:
                words = {"number": shot.scene_number, "length": grouped(length), "shortest": shortest,
                         "longest": longest}
                problems.append(gettext("Scene %(number)s's prompt has %(length)s characters; a shot of Runway's "
                                        "multi-shot recipe takes %(shortest)s to %(longest)s. Shorten it.") % words
                                if length > longest else
                                gettext("Scene %(number)s's prompt has %(length)s characters; a shot of Runway's "
                                        "multi-shot recipe takes %(shortest)s to %(longest)s. Write a little more.")
                                % words)
        return problems

    def recipe_body(self, request: RenderRequest) -> dict[str, Any]:
        """POST /v1/recipes/multi_shot_video in custom mode: exactly the fields the SDK's params define."""
        body: dict[str, Any] = {"mode": "custom", "version": RECIPE_VERSION, "duration": request.seconds,
                                "ratio": request.size.replace("x", ":"), "audio": True,
                                "shots": [{"prompt": shot.prompt, "duration": shot.seconds} for shot in request.shots]}
        if request.input_reference is not None:
            body["firstFrame"] = {"uri": _data_uri(Path(request.input_reference))}
        return body

    def build_body(self, request: RenderRequest) -> tuple[str, dict[str, Any]]:
        """(path, JSON body) for the create: exactly the fields Runway defines."""
        if request.model == RECIPE:
            return "/v1/recipes/multi_shot_video", self.recipe_body(request)
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
            raise ProviderError(said("provider.model_unknown", model=request.model),
                                code="model_unknown")
        if request.model in IMAGE_ONLY and request.input_reference is None:
            raise ProviderError(said("runway.needs_start", provider=self.name, model=request.model),
                                code="invalid_request")
        if request.end_frame is not None and (request.model not in LAST_FRAME_MODELS or request.input_reference is None):
            raise ProviderError(said("runway.no_end_frame", provider=self.name, model=request.model,
                                     models=", ".join(sorted(LAST_FRAME_MODELS))), code="invalid_request")
        if request.model == RECIPE and not request.shots:
            raise ProviderError(said("runway.recipe_alone", provider=self.name, least=RECIPE_SHOTS[0],
                                     most=RECIPE_SHOTS[1]), code="invalid_request")
        if request.shots:
            problems = self.shot_problems(model_id=request.model, shots=request.shots)
            request = replace(request, prompt=shots_prompt(request.shots, timed=False)) \
                if request.model in NUMBERED_SHOTS else request
        else:
            problems = self.prompt_problems(model_id=request.model, prompt=request.prompt)
        if problems:
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
            raise ProviderError(said("runway.no_task_id", provider=self.name), code="server")
        return str(task_id)

    def _fail(self, response: httpx.Response, *, model: str = "") -> ProviderError:
        """Runway answers validation errors with 400 `{"error": "...", "issues": [...]}`, one issue per
        field it refused (shown with the error: "Validation of body failed" alone helps nobody); an
        unknown model is such an issue on `model`, and running out of credits a 400 too."""
        body = _json(response)
        issues = [i for i in body.get("issues") or [] if isinstance(i, dict)] if isinstance(
            body.get("issues"), list) else []
        if response.status_code == 400 and model and any(i.get("path") == ["model"] for i in issues):
            return ProviderError(said("provider.model_unknown", model=model),
                                 code="model_unknown")
        error = error_from_response(response, self.name, model=model)
        if response.status_code == 400 and "credit" in str(body.get("error", "")).lower():
            error.code = "quota"
        elif response.status_code == 400 and issues:
            # Runway's own words (its error and each issue) pass through as they are, in the studio's sentence.
            detail = " ".join(str(body.get("error") or "").split())[:300].rstrip(".")
            issued = f"{detail}: {_issues_in_words(issues)}." if detail else f"{_issues_in_words(issues)}."
            return ProviderError(said("provider.refused", provider=self.name, detail=issued), code=error.code)
        return error

    def _task(self, job_id: str) -> dict[str, Any] | None:
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
            return JobState(status=status, error=said("take.canceled_at_provider"), **_billing(task))
        return JobState(status=status, progress=_progress(task.get("progress")) if status == "running" else 0)

    def download(self, job_id: str, variant: str, dest: Path) -> None:
        if variant != "video":
            raise ProviderError(said("provider.video_only", provider=self.name), code="invalid_request")
        task = self._task(job_id)
        if task is None:
            raise ProviderError(EXPIRED, code="expired")
        outputs = [u for u in task.get("output") or [] if isinstance(u, str) and u.startswith(("https://", "http://"))]
        if task.get("status") != "SUCCEEDED" or not outputs:
            raise ProviderError(said("provider.no_finished_video", provider=self.name), code="bad_download")
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

    def list_models(self, *, known: tuple[str, ...] = ()) -> ModelListing:
        """PUBLISHED, in the catalog's terms, and the multi-shot recipe: nothing is read over the network
        (Runway has no listing)."""
        return ModelListing(models=(*(_listed(p) for p in PUBLISHED), _recipe_listed()))

    def test_connection(self) -> Said:
        """GET /v1/organization: free, authenticated, and it tells the credit balance."""
        response = self._send("GET", "/v1/organization", idempotent=True)
        if response.is_error:
            raise self._fail(response)
        credits = _json(response).get("creditBalance")
        if isinstance(credits, int):
            return said("runway.connected_credits", provider=self.name, credits=credits)
        return said("connection.connected", provider=self.name)


def _pixels(ratios: tuple[str, ...]) -> list[str]:
    """The `ratio` values that are pixel sizes ("1280:720"), as the catalog writes sizes ("1280x720"); the
    adapter sends a take's size back the same way. Aspect ratios ("16:9") and "auto_720p" are not sizes."""
    sizes = []
    for ratio in ratios:
        width, colon, height = ratio.partition(":")
        if colon and width.isdigit() and height.isdigit() and min(int(width), int(height)) >= 100:
            sizes.append(f"{width}x{height}")
    return sizes


def _listed(model: Published) -> ListedModel:
    text, image = _pixels(model.text), _pixels(model.text if model.image == SAME else model.image)
    sizes = text or image
    # A start frame goes with the take's own size as `ratio`: only where image to video takes every size.
    takes_image = bool(image) and set(sizes) <= set(image)
    kinds = (("text",) if text else ()) + (("image",) if takes_image else ())
    ratios = dict.fromkeys(model.text + (model.image if model.image != SAME else ()))
    unmapped = tuple(r for r in ratios if not _pixels((r,)))
    blockers = () if sizes else (("ratio_format", ", ".join(ratios) or "—"),)
    return ListedModel(model_id=model.model_id, display_name=f"{model.model_id} (Runway)", sizes=tuple(sizes) or None,
                       durations=model.durations, input_kinds=kinds or None,
                       end_frame=model.last_frame and takes_image, unmapped=unmapped, blockers=blockers)


def _recipe_listed() -> ListedModel:
    """The multi-shot recipe as runwayml's RecipeMultiShotVideoParams define it: custom mode's shots (at most
    RECIPE_SHOTS[1], each at least a second) adding up to RECIPE_DURATIONS, an optional first frame. Its
    ratios' tiers are the catalog's to price: the listing leaves sizes as the catalog has them."""
    return ListedModel(model_id=RECIPE, display_name="Multi-shot recipe (Runway)", durations=RECIPE_DURATIONS,
                       input_kinds=("text", "image"), shot_timing="exact", shots_max=RECIPE_SHOTS[1],
                       shot_min_seconds=1)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def utf16_length(text: str) -> int:
    """Characters as Runway (JavaScript) counts them: UTF-16 code units, so an emoji counts two."""
    return len(text.encode("utf-16-le")) // 2


def _issues_in_words(issues: list[dict[str, Any]]) -> str:
    """Runway's per-field issues, one short clause each: "promptText: Too big: …; ratio: Invalid ratio"."""
    words = []
    for issue in issues[:MAX_ISSUES]:
        path = list_at(issue, "path")
        where = ".".join(str(p) for p in path)
        message = " ".join(str(issue.get("message") or "invalid").split())[:120]
        words.append(f"{where}: {message}" if where else message)
    more = len(issues) - MAX_ISSUES
    return "; ".join(words) + (f"; and {more} more" if more > 0 else "")


def _billing(task: dict[str, Any]) -> dict[str, Any]:
    """What an ended task was charged, in US$: its `cost.credits` (required on every ended task in
    Runway's SDK types; 0 when refunded) at US$0.01 a credit. Nothing when it does not say."""
    cost = dict_at(task, "cost")
    credits = cost.get("credits")
    if isinstance(credits, bool) or not isinstance(credits, (int, float)) or not 0 <= credits < 10**7:
        return {}
    return {"billed_cost": Decimal(str(credits)) * USD_PER_CREDIT}


def _data_uri(path: Path) -> str:
    # Runway takes a start frame as an https URL or a data URI; a fitted frame is small enough inline.
    content_type = mimetypes.guess_type(path.name)[0] or "image/png"
    return f"data:{content_type};base64,{base64.b64encode(path.read_bytes()).decode()}"


def _progress(value: object) -> int:
    # Runway reports progress as a fraction, 0 to 1.
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return 0
    try:
        return max(0, min(99, int(float(value) * 100)))
    except (ValueError, OverflowError):  # "abc", or an "inf" past int
        return 0


def _failure(task: dict[str, Any]) -> dict[str, Any]:
    """A failed task's JobState words (and code, for a moderation refusal)."""
    message: str | Said = str(task.get("failure") or "").strip() or said("provider.failed_unsaid")
    code = str(task.get("failureCode") or "")
    # Runway's moderation codes start with SAFETY (SAFETY.INPUT.TEXT, SAFETY.OUTPUT.VIDEO, …).
    if code.upper().startswith("SAFETY"):
        return {"error": said("provider.moderated", message=message), "error_code": "moderation"}
    return {"error": message}
