"""Gemini Omni Flash through the Gemini API's Interactions API (`generativelanguage.googleapis.com/v1beta`).

The Gemini API connection (veo.py) renders its Omni models here; everything below is read from the
google-genai SDK's generated Interactions types (`google/genai/_gaos`: CreateModelInteraction, Interaction,
VideoResponseFormat, VideoConfig, VideoContent, Error) and Google's Omni and background-execution docs.

A take is one interaction run in the background: `POST /v1beta/interactions` with `"background": true`
answers at once with the interaction's `id` (our job id is `interactions/{id}`), and
`GET /v1beta/interactions/{id}` tells its `status`: queued, in_progress, then completed, failed,
cancelled, incomplete, budget_exceeded or requires_action. A completed interaction's `steps` end with
a `model_output` step whose `content` holds the video, `{"type": "video", "mime_type", "data"}` with
the mp4 as base64, or a `uri` on the API's host that needs the key. The base64 runs to tens of
megabytes in one JSON string, so the answer is read as it streams (json_stream.py) and the video
decoded into its file as it arrives.

The Interactions API documents a cancel (`POST …/interactions/{id}/cancel`) for background interactions,
but not what a cancelled video costs, and the connection's facts are the Gemini API's (Veo's: no cancel,
no refund). So the studio never cancels an Omni take: **Stop watching**, and its estimate stays counted.
Nor does it claim a refused video is free (Google says so for Veo's safety refusals only): an Omni
refusal fails the take without the "moderation" code that would give its estimate back.
"""

from __future__ import annotations

import base64
import mimetypes
import re
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import quote

import httpx
from django.utils.translation import gettext as _

from generation.words import Said, said

from .base import JobState, ProviderError, RenderRequest
from .http import NEVER_SENT, error_from_response, json_object, stream_download
from .json_stream import InlineFiles, Unreadable
from .outbound import OutboundRefused

# The Gemini API serves Omni under these ids (and Google's next ones will follow the pattern): a take on
# one of them goes to the Interactions API, any other model to Veo's predictLongRunning.
OMNI_MODEL = re.compile(r"^gemini-omni-[a-z0-9][a-z0-9.-]*$")
JOB = re.compile(r"^interactions/([A-Za-z0-9_-]{1,200})$")
SIZES = {  # our size -> (aspect_ratio, resolution) of VideoResponseFormat
    "1280x720": ("16:9", "720p"),
    "720x1280": ("9:16", "720p"),
    "1920x1080": ("16:9", "1080p"),
    "1080x1920": ("9:16", "1080p"),
}
# Google's Omni pages give 3 to 15 seconds (10 on the first Omni Flash); each model's own lengths are
# in the catalog. VideoResponseFormat.duration is a string: a protobuf Duration, "8s".
SECONDS = range(3, 16)
IMAGE_TYPES = {"image/png", "image/jpeg", "image/webp"}
RUNNING = {"queued": "queued", "in_progress": "running"}
ENDED_UNFINISHED = {
    "incomplete": said("omni.incomplete"),
    "budget_exceeded": said("omni.budget_exceeded"),
    "requires_action": said("omni.requires_action"),
}


def is_omni(model_id: str) -> bool:
    return bool(OMNI_MODEL.match(model_id or ""))


def is_interaction(job_id: str) -> bool:
    return bool(JOB.match(job_id or ""))


def request_problems(request: RenderRequest) -> list[str]:
    """Plain-words reasons Omni would refuse `request` (empty if it renders): checked before anything is
    sent. What the SDK's types cannot carry is refused, never dropped."""
    problems = []
    if request.size not in SIZES:
        problems.append(_("Gemini Omni renders %(sizes)s, not %(size)s.") % {"sizes": ", ".join(SIZES),
                                                                              "size": request.size})
    if request.seconds not in SECONDS:
        problems.append(_("Gemini Omni renders 3 to 15 seconds, not %(seconds)s.") % {"seconds": request.seconds})
    if request.end_frame is not None:
        problems.append(_("Gemini Omni takes no end frame through the studio: give the take a start frame only."))
    if request.character_images:
        problems.append(_("Gemini Omni takes no likeness references through the studio: the cast is described "
                          "in the prompt."))
    if request.shots:
        problems.append(_("Gemini Omni renders one shot per take."))
    return problems


def _image(path: Path) -> dict[str, Any]:
    """An ImageContent block: the bytes inline, base64, with their type."""
    path = Path(path)
    mime = mimetypes.guess_type(path.name)[0] or ""
    if mime not in IMAGE_TYPES:
        raise ProviderError(_("Gemini Omni takes PNG, JPEG or WebP images, not “%(name)s”.")
                            % {"name": path.suffix or path.name}, code="invalid_request")
    return {"type": "image", "data": base64.b64encode(path.read_bytes()).decode(), "mime_type": mime}


def build_body(request: RenderRequest) -> dict[str, Any]:
    """Our request as CreateModelInteraction, field for field: run in the background, one video back."""
    aspect_ratio, resolution = SIZES[request.size]
    if request.input_reference is None:
        given: str | list[dict[str, Any]]
        task, given = "text_to_video", request.prompt
    else:  # the start frame: the video animates it
        task, given = "image_to_video", [{"type": "text", "text": request.prompt}, _image(request.input_reference)]
    return {
        "model": request.model,
        "input": given,
        "background": True,
        "generation_config": {"video_config": {"task": task}},
        "response_format": {"type": "video", "aspect_ratio": aspect_ratio, "resolution": resolution,
                            "duration": f"{request.seconds}s"},
    }


class GeminiInteractions:
    """The Interactions half of the Gemini API adapter (VeoProvider mixes it in): its `_call` (throttles
    waited out), `_client`, `_auth`, `name` and `_fail_auth` are the connection's."""

    name: str
    _client: httpx.Client
    _auth: dict[str, str]

    if TYPE_CHECKING:  # the connection's, from VeoProvider
        def _call(self, method: str, path: str, *, idempotent: bool, **kwargs: Any) -> httpx.Response: ...

        def _fail_auth(self, response: httpx.Response) -> ProviderError | None: ...

    def _interaction_fail(self, response: httpx.Response, *, model: str = "") -> ProviderError:
        failed = self._fail_auth(response)
        if failed is not None:
            return failed
        if response.status_code == 404 and model:
            return ProviderError(said("omni.model_retired", model=model), code="model_unknown")
        return error_from_response(response, self.name)

    def interaction_submit(self, request: RenderRequest) -> str:
        if problems := request_problems(request):
            raise ProviderError(" ".join(problems), code="invalid_request")
        response = self._call("POST", "/v1beta/interactions", idempotent=False, json=build_body(request))
        if response.is_error:
            raise self._interaction_fail(response, model=request.model)
        try:
            interaction_id = json_object(response, self.name).get("id")
        except ProviderError:
            interaction_id = None
        job_id = f"interactions/{interaction_id}" if isinstance(interaction_id, str) else ""
        if not is_interaction(job_id):
            # Accepted, maybe billed, but we cannot track it: never resubmit blindly.
            raise ProviderError(said("omni.no_interaction_id", provider=self.name), code="server")
        return job_id

    def _interaction(self, job_id: str, *,
                     open_file: Callable[[int], BinaryIO | None] = lambda index: None) -> tuple[dict[str, Any], list[int]] | None:
        """The interaction (its base64 strings emptied, their decoded sizes beside it in order), or None when
        Google no longer knows it. `open_file(i)` may take the i-th base64 string's bytes as they arrive."""
        match = JOB.match(job_id)
        if match is None:
            return None
        files = InlineFiles(field="data", open_file=open_file)
        try:
            with self._client.stream("GET", f"/v1beta/interactions/{quote(match[1], safe='')}",
                                     headers=self._auth) as response:
                if response.status_code == 404:
                    return None
                if response.is_error:
                    response.read()
                    error = self._interaction_fail(response)
                    error.retryable = error.retryable or response.status_code == 429 or response.status_code >= 500
                    raise error
                for chunk in response.iter_bytes():
                    files.feed(chunk)
            return files.finish(), files.sizes
        except Unreadable as exc:
            raise ProviderError(said("provider.unreadable", provider=self.name), code="server", retryable=True) from exc
        except OutboundRefused as exc:
            raise ProviderError(said("provider.not_called", provider=self.name, refusal=exc.message),
                                code=exc.code) from exc
        except NEVER_SENT as exc:
            raise ProviderError(said("provider.unreachable_retry", provider=self.name),
                                code="network", retryable=True) from exc
        except httpx.TransportError as exc:
            raise ProviderError(said("provider.slow", provider=self.name), code="timeout", retryable=True) from exc

    def interaction_poll(self, job_id: str) -> JobState:
        fetched = self._interaction(job_id)
        if fetched is None:
            return JobState(status="failed", error=said("omni.gone"))
        interaction, sizes = fetched
        status = interaction.get("status")
        if status in RUNNING:
            return JobState(status=RUNNING[status])
        if status == "cancelled":
            return JobState(status="canceled", error=said("omni.canceled"))
        if status == "failed":
            return JobState(status="failed", error=_failure(interaction))
        if status in ENDED_UNFINISHED:
            return JobState(status="failed", error=ENDED_UNFINISHED[status])
        if status != "completed":  # a status newer than the SDK's: it has not ended as far as we know
            return JobState(status="running")
        if video_of(interaction, sizes) is None:
            return JobState(status="failed", error=_no_video(interaction))
        return JobState(status="succeeded", progress=100)

    def interaction_download(self, job_id: str, dest: Path) -> None:
        """The finished video into `dest`: each base64 string of the answer is decoded into its own part file
        as it arrives (the answer's structure says only afterwards which one is the video), then the video's
        part becomes `dest` and the others go."""
        dest = Path(dest)
        parts: list[Path] = []

        def open_file(index: int) -> BinaryIO:
            parts.append(dest.with_name(f"{dest.name}.{index}.part"))
            return opened.enter(parts[-1])

        opened = _Opened()
        try:
            with opened:
                fetched = self._interaction(job_id, open_file=open_file)
            if fetched is None:
                raise ProviderError(said("omni.expired"), code="expired")
            interaction, sizes = fetched
            found = video_of(interaction, sizes) if interaction.get("status") == "completed" else None
            if found is None:
                raise ProviderError(said("provider.no_finished_video", provider=self.name), code="bad_download")
            video, index = found
            if index is not None:
                parts[index].replace(dest)  # the inline bytes, decoded as they arrived
            else:
                # Files API: on the API's host, with the key; a redirect elsewhere is followed without it.
                stream_download(self._client, video["uri"], dest, headers=self._auth, provider_name=self.name)
        finally:
            for part in parts:
                part.unlink(missing_ok=True)


class _Opened:
    """Files opened while an answer streams, all closed when it ends (before they are moved or removed)."""

    def __init__(self) -> None:
        self._files: list[BinaryIO] = []

    def enter(self, path: Path) -> BinaryIO:
        handle = path.open("wb")
        self._files.append(handle)
        return handle

    def __enter__(self) -> _Opened:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        for handle in self._files:
            handle.close()


# ---- reading Google's answers --------------------------------------------------------------

def _inline_positions(node: object, counter: list[int], positions: dict[int, int]) -> None:
    """Number every base64 string ("data") in document order, as json_stream met them: id(block) -> index."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "data" and isinstance(value, str):
                positions[id(node)] = counter[0]
                counter[0] += 1
            else:
                _inline_positions(value, counter, positions)
    elif isinstance(node, list):
        for item in node:
            _inline_positions(item, counter, positions)


def _model_outputs(interaction: dict[str, Any]) -> list[dict[str, Any]]:
    """The interaction's model_output steps since the last user input, newest first (as the SDK's output_video)."""
    steps = interaction.get("steps")
    found = []
    for step in reversed(steps if isinstance(steps, list) else []):
        kind = step.get("type") if isinstance(step, dict) else None
        if kind == "user_input":
            break
        if kind == "model_output":
            found.append(step)
    return found


def video_of(interaction: dict[str, Any], sizes: list[int]) -> tuple[dict[str, Any], int | None] | None:
    """The video the interaction made, with the index of its inline bytes (None for a `uri`), or None.
    The last video block of the newest model output, as the SDK's `output_video` picks it."""
    positions: dict[int, int] = {}
    _inline_positions(interaction, [0], positions)
    for step in _model_outputs(interaction):
        content = step.get("content")
        for block in reversed(content if isinstance(content, list) else []):
            if not (isinstance(block, dict) and block.get("type") == "video"):
                continue
            index = positions.get(id(block))
            if index is not None and index < len(sizes) and sizes[index] > 0:
                return block, index
            uri = block.get("uri")
            if index is None and isinstance(uri, str) and uri.startswith(("https://", "http://")):
                return block, None
    return None


def _said(text: object) -> str:
    return " ".join(str(text or "").split())[:300]


def _failure(interaction: dict[str, Any]) -> Said:
    """A failed interaction's reason: its `errors`, else a model output's `error` (google.rpc.Status)."""
    errors = interaction.get("errors")
    messages = [_said(e.get("message")) for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []
    for step in _model_outputs(interaction):
        if isinstance(step.get("error"), dict):
            messages.append(_said(step["error"].get("message")))
    google = " ".join(m for m in messages if m)
    return said("veo.failed", message=google) if google else said("omni.failed_unsaid")


def _no_video(interaction: dict[str, Any]) -> Said:
    """Why a completed interaction holds no video: the model's own words, when it answered in text."""
    texts = []
    for step in _model_outputs(interaction):
        content = step.get("content")
        texts += [_said(b.get("text")) for b in (content if isinstance(content, list) else [])
                  if isinstance(b, dict) and b.get("type") == "text"]
    google = " ".join(t for t in reversed(texts) if t)
    if google:
        return said("omni.model_answered", said=google[:300])
    return said("omni.no_video")


__all__ = ["GeminiInteractions", "build_body", "is_interaction", "is_omni", "request_problems", "video_of"]
