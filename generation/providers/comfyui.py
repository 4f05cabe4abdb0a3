"""A team's own ComfyUI server (`/prompt`, `/history`, `/queue`, `/view`, `/upload/image`).

There is no fixed model list: each model is a workflow graph the team uploaded in ComfyUI's
API format, with the inputs the studio fills (prompt, size, frames, seed, reference image)
named per workflow. ComfyUI lets the client choose the prompt_id, so the take's own
idempotency key is the job's name: a create whose answer got lost is found again by name.
No auth by default (ComfyUI has none); an optional bearer key serves a reverse proxy.
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

import httpx

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
    Provider,
    ProviderError,
    ProviderFacts,
    RenderRequest,
    WebhookScheme,
    dict_at,
)
from .http import EXPIRED, HttpAdapter, error_from_response, json_object, stream_download

if TYPE_CHECKING:
    from collections.abc import Callable


VIDEO_SUFFIXES = (".mp4", ".webm")  # preferred in this order: WebM cannot carry C2PA
OUTPUT_KEYS = ("gifs", "videos", "images")  # VHS_VideoCombine, newer core nodes, SaveVideo
VIDEO_TYPES = ("video/mp4", "video/webm")
GONE = said("comfyui.gone")


@dataclass(frozen=True)
class Workflow:
    graph: dict[str, Any]  # {node_id: {"class_type": …, "inputs": {…}}}
    inputs: dict[str, Any]  # role → [node_id, input_name]
    frames_rule: str = "any"  # any | 8n+1 | 4n+1
    fps: int = 24


WorkflowLookup = Callable[[str], "Workflow | None"]


def frames_for(seconds: float, fps: int, rule: str) -> int:
    """seconds × fps frames, rounded to what the model renders (LTX 8n+1, Wan 4n+1)."""
    frames = max(1, round(seconds * fps))
    step = {"8n+1": 8, "4n+1": 4}.get(rule)
    if step is None:
        return frames
    return step * max(1, round((frames - 1) / step)) + 1


def seed_for(prompt_id: str) -> int:
    """A seed fixed by the take: the same take is the same picture, each new take a new one."""
    return int(hashlib.sha256(prompt_id.encode()).hexdigest(), 16) % 2**32


def _seed(value: object) -> int | None:
    """The recipe's own seed, if it is one ComfyUI takes (an unsigned 64-bit number). ASCII digits only:
    "²".isdigit() is true and int() refuses it. (An adapter speaks the wire only: it cannot use
    projects.inputs.parse_id, which reads ids the same way.)"""
    text = str(value if value is not None else "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 20:
        return None
    return int(text) if int(text) < 2**64 else None


def fill_graph(workflow: Workflow, request: RenderRequest | ExtendRequest, *, prompt_id: str, image_name: str = "",
               end_image_name: str = "", source_video_name: str = "") -> dict[str, Any]:
    """A deep copy of the workflow's graph with the mapped inputs set for this take."""
    params = (request.recipe or {}).get("parameters", {})
    seed = _seed(params.get("seed"))
    values = {
        "prompt": request.prompt,
        "width": request.width,
        "height": request.height,
        "length": frames_for(request.seconds, workflow.fps, workflow.frames_rule),
        "fps": workflow.fps,
        "seed": seed if seed is not None else seed_for(prompt_id),
    }
    negative = (request.recipe or {}).get("negative_prompt")
    if negative:
        values["negative_prompt"] = negative
    if image_name:
        values["image"] = image_name
    if end_image_name:
        values["end_image"] = end_image_name
    # The shot-list input: each shot's words and where it sits, in seconds and frames (an extension has none).
    if shots := getattr(request, "shots", ()):
        values["shots"] = json.dumps([
            {"index": n, "prompt": shot.prompt, "start": shot.start, "end": shot.end,
             "start_frame": round(shot.start * workflow.fps), "end_frame": round(shot.end * workflow.fps)}
            for n, shot in enumerate(shots)], ensure_ascii=False)
    if source_video_name:
        values["source_video"] = source_video_name
    graph = copy.deepcopy(workflow.graph)
    for role, value in values.items():
        target = workflow.inputs.get(role)
        if not target:
            continue
        node_id, input_name = target
        graph[str(node_id)]["inputs"][input_name] = value
    return graph


def node_errors_in_words(body: dict[str, Any]) -> str:
    """ComfyUI's refusal of a graph as one line: "node 6 (CLIPTextEncode): Required input is missing: text"."""
    error = dict_at(body, "error")
    lines = []
    node_errors = body.get("node_errors")
    if isinstance(node_errors, dict):
        for node_id, node in node_errors.items():
            node = node if isinstance(node, dict) else {}
            for problem in node.get("errors") or []:
                if not isinstance(problem, dict):
                    continue
                words = str(problem.get("message") or problem.get("type") or "invalid")
                if problem.get("details"):
                    words += f": {problem['details']}"
                lines.append(f"node {node_id} ({node.get('class_type', '?')}): {words}")
    summary = str(error.get("message") or "the workflow is invalid")
    if error.get("type") == "invalid_prompt" and error.get("details"):
        summary += f" ({error['details']}). Is the custom node installed on that server?"
    return summary + (": " + "; ".join(lines) if lines else "")


class ComfyUIProvider(HttpAdapter, Provider):
    key = "comfyui"
    has_thumbnail = False  # the studio takes a frame of the video
    facts = ProviderFacts(
        title="ComfyUI", default_base_url="", base_url_words="your server's address",
        base_url_example="http://192.168.1.20:8188",
        # ComfyUI has no auth of its own; a key is only for a reverse proxy in front of it.
        auth_header="none (a bearer key only for a reverse proxy in front of it)", key_required=False,
        webhooks=WebhookScheme.NONE,
        cancels=True, cancel_refund=CancelRefund.FREE,  # your own GPU: nobody bills
        # We name every job ourselves and look it up by that name: not found means never created
        # (unless the server was restarted, which also loses what it was running).
        job_listing=JobListing.COMPLETE,
        reports_job_time=True,  # execution_start and execution_success timestamps
        reports_billed_cost=False, bills_refused_jobs=False,
        model_source=ModelSource.WORKFLOWS,
        sends_end_frame=True,  # for workflows mapping the "end_image" role (a second LoadImage)
        sends_shots=True,  # for workflows mapping the "shots" role (a text input taking a JSON shot list)
        extends=True,  # for workflows mapping the "source_video" role (a video loader)
        model_listing="the nodes and model files installed on your server (GET /object_info/{node}), checked "
                      "against each workflow",
    )

    def __init__(
        self,
        *,
        base_url: str,
        workflows: WorkflowLookup,
        api_key: str = "",
        name: str = "ComfyUI",
        client_id: str = "storyboard-studio",
        client: httpx.Client | None = None,
        sleep: Callable[[float], None]=time.sleep,
    ) -> None:
        if not base_url:
            raise ProviderError(said("comfyui.needs_address"), code="invalid_request")
        self.name = name
        self.models = ()
        self._workflows = workflows
        self._client_id = client_id
        self._connect(base_url=base_url, client=client, sleep=sleep,
                      auth={"Authorization": f"Bearer {api_key}"} if api_key else {})

    # ---- submit -------------------------------------------------------------------

    def submit(self, request: RenderRequest) -> str:
        workflow = self._workflows(request.model)
        if workflow is None:
            raise ProviderError(said("provider.model_unknown", model=request.model), code="model_unknown")
        prompt_id = request.idempotency_key or str(uuid.uuid4())
        if workflow.inputs.get("source_video"):
            raise ProviderError(said("comfyui.extends_only"), code="invalid_request")
        image_name = ""
        if workflow.inputs.get("image"):
            if request.input_reference is None:
                raise ProviderError(said("comfyui.needs_image"), code="invalid_request")
            image_name = self._upload_image(Path(request.input_reference), prompt_id)
        end_image_name = ""
        if workflow.inputs.get("end_image"):
            if request.end_frame is None:
                raise ProviderError(said("comfyui.needs_end_frame"), code="invalid_request")
            end_image_name = self._upload_image(Path(request.end_frame), f"{prompt_id}-end")
        elif request.end_frame is not None:
            raise ProviderError(said("comfyui.no_end_frame_input"), code="invalid_request")
        if request.shots and not workflow.inputs.get("shots"):
            raise ProviderError(said("comfyui.no_shots_input"), code="invalid_request")
        graph = fill_graph(workflow, request, prompt_id=prompt_id, image_name=image_name,
                           end_image_name=end_image_name)
        return self._queue_prompt(graph, prompt_id)

    def extend(self, request: ExtendRequest) -> str:
        """A workflow with a "source video" input continues the take: the studio's copy of the whole clip is
        uploaded to the server's input folder (as ComfyUI takes any file, on /upload/image) and named in that
        input; a workflow that also maps a start image gets the clip's last frame there. Length, size, fps and
        seed are filled as for any take; what it saves (the new part or the whole clip) its catalog entry says."""
        workflow = self._workflows(request.model)
        if workflow is None:
            raise ProviderError(said("provider.model_unknown", model=request.model), code="model_unknown")
        if not workflow.inputs.get("source_video"):
            raise ProviderError(said("comfyui.no_source_input"), code="invalid_request")
        if request.source_video is None:
            raise ProviderError(said("provider.no_source_video"), code="invalid_request")
        prompt_id = request.idempotency_key or str(uuid.uuid4())
        video_name = self._upload(Path(request.source_video), f"studio-{prompt_id}-source.mp4", "video/mp4")
        image_name = ""
        if workflow.inputs.get("image"):
            if request.last_frame is None:
                raise ProviderError(said("comfyui.no_last_frame"), code="invalid_request")
            image_name = self._upload_image(Path(request.last_frame), prompt_id)
        graph = fill_graph(workflow, request, prompt_id=prompt_id, image_name=image_name,
                           source_video_name=video_name)
        return self._queue_prompt(graph, prompt_id)

    def _queue_prompt(self, graph: dict[str, Any], prompt_id: str) -> str:
        body = {"prompt": graph, "client_id": self._client_id, "prompt_id": prompt_id}
        response = self._send("POST", "/prompt", idempotent=False, json=body)
        if response.status_code == 400:
            raise ProviderError(said("comfyui.refused_workflow", provider=self.name,
                                     detail=node_errors_in_words(_json_or_empty(response))), code="invalid_request")
        if response.is_error:
            raise error_from_response(response, self.name)
        answer = _json_or_empty(response)
        return str(answer.get("prompt_id") or prompt_id)

    def _upload_image(self, path: Path, prompt_id: str) -> str:
        """POST /upload/image; the name is ours (never the user's), so a retry overwrites the same file."""
        suffix = path.suffix.lower() if path.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp") else ".png"
        filename = f"studio-{prompt_id}{suffix}"
        content_type = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}.get(suffix, "image/png")
        return self._upload(path, filename, content_type)

    def _upload(self, path: Path, filename: str, content_type: str) -> str:
        response = self._send(
            "POST", "/upload/image", idempotent=True,
            files={"image": (filename, path.read_bytes(), content_type)},
            data={"overwrite": "true", "type": "input"},
        )
        if response.is_error:
            raise error_from_response(response, self.name)
        answer = json_object(response, self.name)
        name, subfolder = str(answer.get("name") or filename), str(answer.get("subfolder") or "")
        return f"{subfolder}/{name}" if subfolder else name

    # ---- poll, download, cancel -------------------------------------------------------

    def _history(self, job_id: str) -> dict[str, Any] | None:
        response = self._send("GET", f"/history/{quote(job_id, safe='')}", idempotent=True)
        if response.is_error:
            raise error_from_response(response, self.name)
        entry = json_object(response, self.name).get(job_id)
        return entry if isinstance(entry, dict) else None

    def _queue_place(self, job_id: str) -> str:
        """"running", "pending" or "" (not in the queue)."""
        response = self._send("GET", "/queue", idempotent=True)
        if response.is_error:
            raise error_from_response(response, self.name)
        queue = json_object(response, self.name)
        for place, key in (("running", "queue_running"), ("pending", "queue_pending")):
            for item in queue.get(key) or []:
                if isinstance(item, list) and len(item) > 1 and str(item[1]) == job_id:
                    return place
        return ""

    def poll(self, job_id: str) -> JobState:
        entry = self._history(job_id)
        if entry is None:
            place = self._queue_place(job_id)
            if place:
                return JobState(status="running" if place == "running" else "queued")
            entry = self._history(job_id)  # it may have finished between the two looks
            if entry is None:
                return JobState(status="failed", error=GONE)
        return _state_of(entry)

    def download(self, job_id: str, variant: str, dest: Path) -> None:
        if variant != "video":
            raise ProviderError(said("provider.video_only", provider=self.name), code="invalid_request")
        entry = self._history(job_id)
        if entry is None:
            raise ProviderError(EXPIRED, code="expired")
        output = _video_output(entry.get("outputs"))
        if output is None:
            raise ProviderError(said("comfyui.no_video_saved", provider=self.name), code="bad_download")
        query = urlencode({"filename": output["filename"], "subfolder": output.get("subfolder") or "",
                           "type": output.get("type") or "output"})
        stream_download(self._client, f"/view?{query}", Path(dest), expected_content_types=VIDEO_TYPES,
                        headers=self._auth, provider_name=self.name)

    def cancel(self, job_id: str) -> bool:
        place = self._queue_place(job_id)
        if place == "pending":
            response = self._send("POST", "/queue", idempotent=True, json={"delete": [job_id]})
        elif place == "running":
            # With the prompt_id, ComfyUI interrupts only that job, never another one running.
            response = self._send("POST", "/interrupt", idempotent=True, json={"prompt_id": job_id})
        else:
            return False
        if response.is_error:
            raise error_from_response(response, self.name)
        return True

    @property
    def job_listing_hint(self) -> Said:
        return said("comfyui.listing_hint", base=str(self._client.base_url).rstrip("/"))

    def find_job(self, probe: JobProbe) -> str | None:
        """Our job is the prompt_id we chose: in the history or the queue, or never created."""
        job_id = probe.idempotency_key
        if not job_id:
            return None
        if self._history(job_id) is not None or self._queue_place(job_id):
            return job_id
        return None

    def list_models(self, *, known: tuple[str, ...] = ()) -> ModelListing:
        """A ComfyUI model is a team's workflow, so nothing new is listed: each known workflow is checked
        against what the server has installed (GET /object_info/{class_type} per node: `{}` when the node is
        not installed; its inputs' choices name the model files it finds). One missing makes it gone."""
        installed: dict[str, dict[str, Any]] = {}
        models, reasons = [], {}
        for model_id in known:
            workflow = self._workflows(model_id)
            if workflow is None:
                continue
            missing = self._missing(workflow.graph, installed)
            if missing:
                reasons[model_id] = missing
            else:
                models.append(ListedModel(model_id=model_id))
        return ModelListing(models=tuple(models), reasons=reasons)

    def _missing(self, graph: dict[str, Any], installed: dict[str, dict[str, Any]]) -> str:
        """What the graph needs that the server lacks, in words ("" when nothing)."""
        for node_id, node in sorted(graph.items(), key=lambda item: (len(str(item[0])), str(item[0]))):
            class_type = str(node.get("class_type") or "") if isinstance(node, dict) else ""
            if class_type not in installed:
                response = self._send("GET", f"/object_info/{quote(class_type, safe='')}", idempotent=True)
                if response.is_error:
                    raise error_from_response(response, self.name)
                installed[class_type] = json_object(response, self.name).get(class_type) or {}
            info = installed[class_type]
            if not info:
                return f"node {node_id} ({class_type}) is not installed on {self.name}"
            for name, value in (node.get("inputs") or {}).items():
                choices = _choices(info, name)
                if isinstance(value, str) and choices is not None and value not in choices:
                    return f"node {node_id} ({class_type}): {value} is not among its {name} files on {self.name}"
        return ""

    def test_connection(self) -> Said:
        response = self._send("GET", "/system_stats", idempotent=True)
        if response.status_code == 404:
            raise ProviderError(said("comfyui.not_comfyui", provider=self.name), code="invalid_request")
        if response.is_error:
            raise error_from_response(response, self.name)
        stats = json_object(response, self.name)
        version = str((stats.get("system") or {}).get("comfyui_version") or "") or said("comfyui.unknown_version")
        devices = [str(d.get("name")) for d in stats.get("devices") or [] if isinstance(d, dict) and d.get("name")]
        if devices:
            return said("comfyui.connected_on", provider=self.name, version=version, device=devices[0])
        return said("comfyui.connected", provider=self.name, version=version)


def _choices(info: dict[str, Any], name: str) -> list[Any] | None:
    """The values an input of a node may take, when ComfyUI lists them (a file picker: `[[…], {…}]`, or
    `["COMBO", {"options": […]}]`); None for any other input. Uploaded images are not checked (LoadImage's
    are filled per take)."""
    if info.get("name") == "LoadImage" or str(info.get("display_name", "")).startswith("Load Image"):
        return None
    inputs = dict_at(info, "input")
    for group in ("required", "optional"):
        spec = (inputs.get(group) or {}).get(name)
        if not isinstance(spec, list) or not spec:
            continue
        if isinstance(spec[0], list):
            return [str(v) for v in spec[0]]
        if spec[0] == "COMBO" and len(spec) > 1 and isinstance(spec[1], dict) and isinstance(spec[1].get("options"), list):
            return [str(v) for v in spec[1]["options"]]
    return None


def _json_or_empty(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _messages(entry: dict[str, Any]) -> dict[str, Any]:
    """The history's status messages as {event: data} (the last of each)."""
    found = {}
    for message in (entry.get("status") or {}).get("messages") or []:
        if isinstance(message, list) and len(message) == 2 and isinstance(message[1], dict):
            found[str(message[0])] = message[1]
    return found


def _state_of(entry: dict[str, Any]) -> JobState:
    status = entry.get("status") or {}
    events = _messages(entry)
    if "execution_interrupted" in events:
        return JobState(status="canceled", error=said("comfyui.interrupted"))
    if status.get("status_str") == "error" or "execution_error" in events:
        failure = events.get("execution_error") or {}
        reason: str | Said = str(failure.get("exception_message") or "").strip() or said("comfyui.no_reason")
        if "OutOfMemory" in str(failure.get("exception_type") or ""):
            reason = said("comfyui.out_of_memory", reason=reason)
        if failure.get("node_id"):
            return JobState(status="failed", error=said("comfyui.failed_in_node", node=str(failure.get("node_id")),
                                                        type=str(failure.get("node_type")), reason=reason))
        return JobState(status="failed", error=said("comfyui.failed", reason=reason))
    if status.get("status_str") == "success" or status.get("completed") or entry.get("outputs"):
        start = (events.get("execution_start") or {}).get("timestamp")
        end = (events.get("execution_success") or {}).get("timestamp")
        seconds = (end - start) / 1000 if isinstance(start, (int, float)) and isinstance(end, (int, float)) \
            and end >= start else None
        return JobState(status="succeeded", progress=100, provider_seconds=seconds)
    return JobState(status="running")


def _video_output(outputs: object) -> dict[str, Any] | None:
    """The first saved mp4 (else webm) among the workflow's outputs; saved files before previews."""
    if not isinstance(outputs, dict):
        return None
    files = []
    for node_id in sorted(outputs, key=lambda n: (len(str(n)), str(n))):
        node = outputs[node_id] if isinstance(outputs[node_id], dict) else {}
        for key in OUTPUT_KEYS:
            files += [f for f in node.get(key) or [] if isinstance(f, dict) and isinstance(f.get("filename"), str)]
    for suffix in VIDEO_SUFFIXES:
        for wanted_type in ("output", "temp"):
            for item in files:
                if item["filename"].lower().endswith(suffix) and (item.get("type") or "output") == wanted_type:
                    return item
    return None
