"""A strict local stand-in for a team's ComfyUI server.

Speaks ComfyUI's own routes: POST /prompt (validated like ComfyUI's validate_prompt, with its
real error shape and node_errors), GET /history/{id}, GET/POST /queue, POST /interrupt,
POST /upload/image, GET /view, GET /system_stats, GET /object_info/{node} (what is installed: `installed`
node classes, and the `choices` of their file and option inputs). The queue runs in order, each job for
`job_seconds` of real time, one at a time as a GPU box does (`gpus` at a time when set higher). Strict on purpose: a top-level
field ComfyUI does not define, a node it does not know, a required input missing or a value
out of range is refused here in ComfyUI's words, so adapter bugs fail tests.

Knobs (reset per test): `api_key` (None: no auth, ComfyUI's default; set: a reverse proxy
wanting `Authorization: Bearer`), `job_seconds`, `outcome` ("success" | "oom" | "no-video"),
`prompt_replies` (scripted (status, body) answers to the next POSTs to /prompt), `gpus` (jobs that
run at once, default 1; a benchmark sets it to N to run every job in parallel, so that it
measures the studio rather than the queue).
"""

from __future__ import annotations

import atexit
import itertools
import json
import mimetypes
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest

from tests.fakes.multishot_video import multishot_mp4
from tests.fakes.provider_server import _load_video, parse_multipart
from tests.fakes.wire import Recorded

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures/comfyui"
PROMPT_FIELDS = {"prompt", "client_id", "prompt_id", "extra_data", "front", "number", "partial_execution_targets"}
UPLOAD_FIELDS = {"image", "overwrite", "type", "subfolder"}
INT_RANGE = (0, 2**64 - 1)
# class_type → required inputs (name → None for anything, or (min, max) for an INT), and output nodes.
NODES: dict[str, dict[str, Any]] = {
    "CheckpointLoaderSimple": {"ckpt_name": None},
    "CLIPLoader": {"clip_name": None, "type": None},
    "CLIPTextEncode": {"text": None, "clip": None},
    "EmptyLTXVLatentVideo": {"width": (64, 16384), "height": (64, 16384), "length": (1, 16384),
                             "batch_size": (1, 4096)},
    "LTXVImgToVideo": {"positive": None, "negative": None, "vae": None, "image": None, "width": (64, 16384),
                       "height": (64, 16384), "length": (9, 16384), "batch_size": (1, 4096), "strength": None},
    "LTXVConditioning": {"positive": None, "negative": None, "frame_rate": None},
    "KSampler": {"model": None, "seed": INT_RANGE, "steps": (1, 10000), "cfg": None, "sampler_name": None,
                 "scheduler": None, "positive": None, "negative": None, "latent_image": None, "denoise": None},
    "VAEDecode": {"samples": None, "vae": None},
    "LoadImage": {"image": None},
    # Video Helper Suite's loader: a video in the server's input folder (uploaded on /upload/image), as frames.
    "VHS_LoadVideo": {"video": None, "force_rate": None, "custom_width": None, "custom_height": None,
                      "frame_load_cap": None, "skip_first_frames": None, "select_every_nth": None},
    # LTX-Video's keyframe guide: frame_idx -1 pins the image as the last frame (first-last-frame workflows).
    "LTXVAddGuide": {"positive": None, "negative": None, "vae": None, "latent": None, "image": None,
                     "frame_idx": (-9999, 9999), "strength": None},
    "VHS_VideoCombine": {"images": None, "frame_rate": None, "loop_count": None, "filename_prefix": None,
                         "format": None, "pingpong": None, "save_output": None},
    "SaveAnimatedWEBP": {"images": None, "filename_prefix": None, "fps": None, "lossless": None,
                         "quality": None, "method": None},
    # Core text nodes: a multi-line text (a shot list, in a multi-shot workflow) and a join of two texts.
    "PrimitiveStringMultiline": {"value": None},
    "StringConcatenate": {"string_a": None, "string_b": None, "delimiter": None},
}


def shot_list_video(prompt: dict) -> bytes | None:
    """A graph whose multi-line text holds a shot list renders a video with a cut per shot (each shot's
    end − start seconds) at the latent's size and the output's frame rate; None for any other graph."""
    for node in prompt.values():
        if node["class_type"] != "PrimitiveStringMultiline":
            continue
        try:
            shots = json.loads(node["inputs"]["value"])
        except (ValueError, TypeError):
            return None
        if not isinstance(shots, list) or len(shots) < 2:
            return None
        latent = next(n["inputs"] for n in prompt.values() if n["class_type"] == "EmptyLTXVLatentVideo")
        return multishot_mp4(tuple(float(s["end"] - s["start"]) for s in shots),
                             size=f"{latent['width']}x{latent['height']}")
    return None
OUTPUT_NODES = {"VHS_VideoCombine", "SaveAnimatedWEBP"}
# The inputs ComfyUI offers as a list of choices (GET /object_info/{node}: `[[choices…], {…}]`): the model
# files in the server's folders, the samplers, the formats. Tests uninstall a node or remove a file.
CHOICES = {
    ("CheckpointLoaderSimple", "ckpt_name"): ["ltx-video-2b-v0.9.5.safetensors", "wan2.2_ti2v_5B_fp16.safetensors"],
    ("CLIPLoader", "clip_name"): ["t5xxl_fp16.safetensors", "umt5_xxl_fp8_e4m3fn_scaled.safetensors"],
    ("CLIPLoader", "type"): ["stable_diffusion", "stable_cascade", "sd3", "stable_audio", "mochi", "ltxv", "wan"],
    ("CLIPLoader", "device"): ["default", "cpu"],
    ("KSampler", "sampler_name"): ["euler", "euler_ancestral", "dpmpp_2m", "uni_pc"],
    ("KSampler", "scheduler"): ["normal", "karras", "simple", "beta"],
    ("VHS_VideoCombine", "format"): ["image/gif", "image/webp", "video/h264-mp4", "video/webm"],
    ("LoadImage", "image"): ["example.png"],
}
CATEGORIES = {"CheckpointLoaderSimple": "loaders", "CLIPLoader": "advanced/loaders", "LoadImage": "image",
              "VHS_VideoCombine": "Video Helper Suite 🎥🅥🅗🅢"}


@dataclass
class Job:
    prompt_id: str
    number: int
    prompt: dict
    extra: dict
    outputs_to_execute: list
    outcome: str
    seconds: float
    interrupted: threading.Event = field(default_factory=threading.Event)
    started: float | None = None  # when it began to run (monotonic)

    def queue_item(self) -> list:
        return [self.number, self.prompt_id, self.prompt, self.extra, self.outputs_to_execute]


def _error(kind: str, message: str, details: str = "", extra=None) -> dict:
    return {"type": kind, "message": message, "details": details, "extra_info": extra or {}}


def validate(prompt, uploads: set) -> tuple[dict | None, dict | list]:
    """(error, node_errors) as ComfyUI's validate_prompt words them; (None, {}) when fine."""
    if not isinstance(prompt, dict):
        return _error("invalid_prompt", "Prompt is not a dict"), []
    for node_id, node in prompt.items():
        if not isinstance(node, dict) or "class_type" not in node:
            return _error("invalid_prompt", "Cannot execute because a node is missing the class_type property.",
                          f"Node ID '#{node_id}'"), []
        if node["class_type"] not in NODES:
            return _error("invalid_prompt", f"Cannot execute because node {node['class_type']} does not exist.",
                          f"Node ID '#{node_id}'"), []
    outputs = [n for n, node in prompt.items() if node["class_type"] in OUTPUT_NODES]
    if not outputs:
        return _error("prompt_no_outputs", "Prompt has no outputs"), []
    node_errors = {}
    for node_id, node in prompt.items():
        inputs = node.get("inputs") if isinstance(node.get("inputs"), dict) else {}
        errors = []
        for name, rule in NODES[node["class_type"]].items():
            if name not in inputs:
                errors.append(_error("required_input_missing", "Required input is missing", name,
                                     {"input_name": name}))
                continue
            value = inputs[name]
            if isinstance(value, list):
                if len(value) != 2 or str(value[0]) not in prompt:
                    errors.append(_error("bad_linked_input", "Bad linked input, must be a length-2 list of "
                                         "[node_id, slot_index]", name, {"input_name": name}))
                continue
            if isinstance(rule, tuple):
                if type(value) is not int:
                    errors.append(_error("invalid_input_type", "Failed to convert an input value to a INT value",
                                         f"{name}, {value!r}", {"input_name": name}))
                elif value < rule[0]:
                    errors.append(_error("value_smaller_than_min", f"Value {value} smaller than min of {rule[0]}",
                                         name, {"input_name": name}))
                elif value > rule[1]:
                    errors.append(_error("value_bigger_than_max", f"Value {value} bigger than max of {rule[1]}",
                                         name, {"input_name": name}))
        if node["class_type"] == "LoadImage" and isinstance(inputs.get("image"), str) \
                and inputs["image"] not in uploads:
            errors.append(_error("custom_validation_failed", "Custom validation failed for node",
                                 f"image - Invalid image file: {inputs['image']}", {"input_name": "image"}))
        if node["class_type"] == "VHS_LoadVideo" and isinstance(inputs.get("video"), str) \
                and inputs["video"] not in uploads:
            errors.append(_error("custom_validation_failed", "Custom validation failed for node",
                                 f"video - Invalid video file: {inputs['video']}", {"input_name": "video"}))
        if errors:
            node_errors[node_id] = {"errors": errors, "dependent_outputs": outputs,
                                    "class_type": node["class_type"]}
    if node_errors:
        return _error("prompt_outputs_failed_validation", "Prompt outputs failed validation"), node_errors
    return None, {}


class ComfyServer:
    def __init__(self):
        self.video = _load_video()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.fake = self
        self.lock = threading.Condition()
        self.numbers = itertools.count(1)
        self.reset()
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        threading.Thread(target=self._work, daemon=True).start()

    def reset(self) -> None:
        with self.lock:
            # A job still running from the previous test finishes into the void.
            for old in getattr(self, "running", ()):
                old.interrupted.set()
            self.api_key: str | None = None
            self.job_seconds = 0.05
            self.gpus = 1
            self.outcome = "success"
            self.prompt_replies: list[tuple[int, dict]] = []
            self.requests: list[Recorded] = []
            self.pending: list[Job] = []
            self.running: list[Job] = []
            self.history: dict[str, dict] = {}
            self.files: dict[tuple[str, str, str], bytes] = {}
            self.uploads = {"example.png"}
            self.interrupts: list[str | None] = []
            self.installed = set(NODES)  # the node classes GET /object_info/{node} knows
            self.choices = {key: list(values) for key, values in CHOICES.items()}

    url = property(lambda self: f"http://127.0.0.1:{self.httpd.server_address[1]}")

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def seen(self, method: str, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path == path]

    def created(self) -> list[dict]:
        """The graphs of every /prompt the server accepted."""
        return [r.json["prompt"] for r in self.seen("POST", "/prompt") if r.accepted]

    def wait_idle(self, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while (self.pending or self.running) and time.monotonic() < deadline:
            time.sleep(0.01)

    # ---- the GPU ------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            with self.lock:
                while not (self.pending and len(self.running) < self.gpus):
                    self.lock.wait()
                job = self.pending.pop(0)
                job.started = time.monotonic()
                self.running.append(job)
            threading.Thread(target=self._run, args=(job,), daemon=True).start()

    def _run(self, job: Job) -> None:
        started = int(time.time() * 1000)
        interrupted = job.interrupted.wait(job.seconds)
        with self.lock:
            if any(other is job for other in self.running):  # not a job from before a reset
                self.running = [other for other in self.running if other is not job]
                self.history[job.prompt_id] = self._entry(job, started, interrupted)
            self.lock.notify_all()

    def _entry(self, job: Job, started: int, interrupted: bool) -> dict:
        ended = max(started, int(time.time() * 1000))
        messages = [["execution_start", {"prompt_id": job.prompt_id, "timestamp": started}],
                    ["execution_cached", {"nodes": [], "prompt_id": job.prompt_id, "timestamp": started}]]
        outputs = {}
        if interrupted:
            messages.append(["execution_interrupted", {"prompt_id": job.prompt_id, "node_id": "7",
                                                       "node_type": "KSampler", "executed": ["1", "2", "3", "4"],
                                                       "timestamp": ended}])
            status = "error"
        elif job.outcome == "oom":
            messages.append(["execution_error", {
                "prompt_id": job.prompt_id, "node_id": "7", "node_type": "KSampler", "executed": ["1", "2"],
                "exception_message": "Allocation on device", "exception_type": "torch.OutOfMemoryError",
                "traceback": ["  File \"execution.py\", line 496, in execute\n"], "current_inputs": {},
                "current_outputs": {}, "timestamp": ended}])
            status = "error"
        else:
            for node_id, node in job.prompt.items():
                if node["class_type"] not in OUTPUT_NODES:
                    continue
                prefix = str(node["inputs"].get("filename_prefix") or "ComfyUI")
                if job.outcome == "no-video" or node["class_type"] == "SaveAnimatedWEBP":
                    name = f"{prefix}_{job.number:05}_.webp"
                    outputs[node_id] = {"images": [{"filename": name, "subfolder": "", "type": "output"}],
                                        "animated": [True]}
                else:
                    name = f"{prefix}_{job.number:05}.mp4"
                    outputs[node_id] = {"gifs": [{
                        "filename": name, "subfolder": "", "type": "output", "format": "video/h264-mp4",
                        "frame_rate": float(node["inputs"].get("frame_rate") or 24),
                        "workflow": f"{prefix}_{job.number:05}.png", "fullpath": f"/opt/ComfyUI/output/{name}"}]}
                self.files[("output", "", name)] = shot_list_video(job.prompt) or self.video
            messages.append(["execution_success", {"prompt_id": job.prompt_id, "timestamp": ended}])
            status = "success"
        return {"prompt": job.queue_item(), "outputs": outputs,
                "status": {"status_str": status, "completed": status == "success", "messages": messages},
                "meta": {n: {"node_id": n, "display_node": n} for n in outputs}}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def do_GET(self):
        fake: ComfyServer = self.server.fake
        url = urlsplit(self.path)
        length = int(self.headers.get("content-length") or 0)
        record = Recorded(method=self.command, path=url.path, query=dict(parse_qsl(url.query, keep_blank_values=True)),
                          headers={k.lower(): v for k, v in self.headers.items()},
                          body=self.rfile.read(length) if length else b"")
        with fake.lock:
            fake.requests.append(record)
        if fake.api_key is not None and record.headers.get("authorization") != f"Bearer {fake.api_key}":
            return self.reply(401, body=b"401: Unauthorized", content_type="text/plain")
        try:
            route(fake, self, record)
        except (BrokenPipeError, ConnectionResetError):
            pass

    do_POST = do_GET

    def reply(self, status: int, payload=None, *, body: bytes | None = None,
              content_type: str = "application/json") -> None:
        if body is None:
            body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def route(fake: ComfyServer, h: _Handler, r: Recorded) -> None:
    if r.method == "POST" and r.path == "/prompt":
        return post_prompt(fake, h, r)
    if r.method == "GET" and r.path.startswith("/history/"):
        entry = fake.history.get(unquote(r.path.removeprefix("/history/")))
        return h.reply(200, {unquote(r.path.removeprefix("/history/")): entry} if entry else {})
    if r.path == "/queue":
        return get_queue(fake, h) if r.method == "GET" else post_queue(fake, h, r)
    if r.method == "POST" and r.path == "/interrupt":
        return post_interrupt(fake, h, r)
    if r.method == "POST" and r.path == "/upload/image":
        return upload_image(fake, h, r)
    if r.method == "GET" and r.path == "/view":
        return view(fake, h, r)
    if r.method == "GET" and r.path.startswith("/object_info/"):
        return h.reply(200, object_info(fake, unquote(r.path.removeprefix("/object_info/"))))
    if r.method == "GET" and r.path == "/system_stats":
        return h.reply(200, {"system": {"os": "posix", "comfyui_version": "0.3.68", "python_version": "3.12.3",
                                        "embedded_python": False},
                             "devices": [{"name": "cuda:0 NVIDIA GeForce RTX 4090 : cudaMallocAsync",
                                          "type": "cuda", "index": 0, "vram_total": 25386352640}]})
    h.reply(404, body=b"404: Not Found", content_type="text/plain")


def object_info(fake: ComfyServer, class_type: str) -> dict:
    """ComfyUI's node_info for one installed node class, else {} (as its server answers)."""
    if class_type not in fake.installed:
        return {}
    required = {}
    for name, rule in NODES[class_type].items():
        choices = fake.choices.get((class_type, name))
        if choices is not None:
            required[name] = [list(choices), {"image_upload": True} if class_type == "LoadImage" else {}]
        elif isinstance(rule, tuple):
            required[name] = ["INT", {"default": max(rule[0], 0), "min": rule[0], "max": rule[1]}]
        else:
            required[name] = ["*", {}]
    optional = {name: [list(choices), {}] for (node, name), choices in fake.choices.items()
                if node == class_type and name not in required}
    return {class_type: {
        "input": {"required": required, **({"optional": optional} if optional else {})},
        "input_order": {"required": list(required), **({"optional": list(optional)} if optional else {})},
        "output": [], "output_is_list": [], "output_name": [], "name": class_type, "display_name": class_type,
        "description": "", "python_module": "nodes" if class_type in CATEGORIES else "custom_nodes",
        "category": CATEGORIES.get(class_type, "sampling"), "output_node": class_type in OUTPUT_NODES}}


def _json_body(r: Recorded):
    try:
        return json.loads(r.body)
    except ValueError:
        return None


def post_prompt(fake: ComfyServer, h: _Handler, r: Recorded) -> None:
    if fake.prompt_replies:
        status, body = fake.prompt_replies.pop(0)
        return h.reply(status, body)
    if r.headers.get("content-type", "").split(";")[0] != "application/json":
        return h.reply(400, {"error": _error("invalid_prompt", "Request body is not JSON"), "node_errors": []})
    body = r.json = _json_body(r)
    if not isinstance(body, dict) or "prompt" not in body:
        return h.reply(400, {"error": _error("no_prompt", "No prompt provided", "No prompt provided"),
                             "node_errors": []})
    unknown = sorted(set(body) - PROMPT_FIELDS)
    if unknown:  # real ComfyUI ignores these; refusing them keeps the adapter honest
        return h.reply(400, {"error": _error("invalid_prompt", f"Unknown field: {', '.join(unknown)}"),
                             "node_errors": []})
    prompt_id = body.get("prompt_id")
    if prompt_id is not None and not (isinstance(prompt_id, str) and prompt_id):
        return h.reply(400, {"error": _error("invalid_prompt", "prompt_id must be a string"), "node_errors": []})
    with fake.lock:
        error, node_errors = validate(body["prompt"], fake.uploads)
    if error:
        return h.reply(400, {"error": error, "node_errors": node_errors})
    outputs = [n for n, node in body["prompt"].items() if node["class_type"] in OUTPUT_NODES]
    with fake.lock:
        job = Job(prompt_id=prompt_id or f"{next(fake.numbers):08x}-auto", number=next(fake.numbers),
                  prompt=body["prompt"], extra=body.get("extra_data") or {}, outputs_to_execute=outputs,
                  outcome=fake.outcome, seconds=fake.job_seconds)
        r.accepted = True
        fake.pending.append(job)
        fake.lock.notify_all()
    h.reply(200, {"prompt_id": job.prompt_id, "number": job.number, "node_errors": {}})


def get_queue(fake: ComfyServer, h: _Handler) -> None:
    with fake.lock:
        running = [job.queue_item() for job in fake.running]
        pending = [job.queue_item() for job in fake.pending]
    h.reply(200, {"queue_running": running, "queue_pending": pending})


def post_queue(fake: ComfyServer, h: _Handler, r: Recorded) -> None:
    body = r.json = _json_body(r)
    if not isinstance(body, dict) or not set(body) <= {"delete", "clear"}:
        return h.reply(400, body=b"", content_type="text/plain")
    with fake.lock:
        if body.get("clear"):
            fake.pending.clear()
        for prompt_id in body.get("delete") or []:
            fake.pending = [job for job in fake.pending if job.prompt_id != prompt_id]
    h.reply(200, body=b"", content_type="text/plain")


def post_interrupt(fake: ComfyServer, h: _Handler, r: Recorded) -> None:
    body = r.json = _json_body(r) if r.body else {}
    prompt_id = body.get("prompt_id") if isinstance(body, dict) else None
    with fake.lock:
        fake.interrupts.append(prompt_id)
        # Newer ComfyUI interrupts only the named prompt, and only if it is the one running.
        for job in fake.running:
            if prompt_id in (None, job.prompt_id):
                job.interrupted.set()
    h.reply(200, body=b"", content_type="text/plain")


def upload_image(fake: ComfyServer, h: _Handler, r: Recorded) -> None:
    fields = r.fields = parse_multipart(r.headers.get("content-type", ""), r.body)
    if not fields or not isinstance(fields.get("image"), tuple) or not set(fields) <= UPLOAD_FIELDS:
        return h.reply(400, body=b"", content_type="text/plain")
    filename = Path(fields["image"][0]).name
    subfolder = fields.get("subfolder", "")
    name = f"{subfolder}/{filename}" if subfolder else filename
    with fake.lock:
        if name in fake.uploads and fields.get("overwrite") != "true":
            stem, suffix = Path(filename).stem, Path(filename).suffix
            filename = f"{stem} (1){suffix}"
            name = f"{subfolder}/{filename}" if subfolder else filename
        fake.uploads.add(name)
    h.reply(200, {"name": filename, "subfolder": subfolder, "type": fields.get("type", "input")})


def view(fake: ComfyServer, h: _Handler, r: Recorded) -> None:
    filename = r.query.get("filename", "")
    if not filename or filename.startswith("/") or ".." in filename:
        return h.reply(400, body=b"", content_type="text/plain")
    data = fake.files.get((r.query.get("type", "output"), r.query.get("subfolder", ""), filename))
    if data is None:
        return h.reply(404, body=b"", content_type="text/plain")
    h.reply(200, body=data, content_type=mimetypes.guess_type(filename)[0] or "application/octet-stream")


def workflow_fixture(name: str = "ltxv_t2v_api.json") -> dict:
    return json.loads((FIXTURES / name).read_text())


_server: ComfyServer | None = None


def fresh_server() -> ComfyServer:
    """One server per test run, reset for each test: fast, and no state leaks."""
    global _server
    if _server is None:
        _server = ComfyServer()
        atexit.register(_server.close)
    _server.reset()
    return _server


@pytest.fixture
def comfy_server() -> ComfyServer:
    return fresh_server()
