"""Per-provider drivers for bench/pipeline.py: one local fake, one connection, the counts.

Each driver starts the strict local fake of one wire format (tests/fakes/) in its
benchmark mode, where every job runs for `job_seconds` of real time, all at once,
however often it is polled. It makes the studio's connection (and model) on it, and
afterwards reads from the fake what it saw: creates, status polls, downloads and when
each job finished. Django must be set up before `connection()` and `figures()`.

    openai   the OpenAI Videos format (tests/fakes/provider_server.py), model veo-3.1
    veo      Google Veo on the Gemini API (veo_server.py), veo-3.1-fast-generate-preview
    fal      fal's queue API (fal_server.py), fal-ai/veo3.1/fast
    runway   Runway's API (runway_server.py), gen4.5
    comfyui  a team's ComfyUI (comfyui_server.py) running the LTX-Video workflow, every
             job on a GPU of its own (`gpus` = many: the bench measures the studio, not
             ComfyUI's one-at-a-time queue)

tests/bench/test_pipeline_providers.py runs every driver at tiny N through a real worker.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

SIZE, SECONDS = "1280x720", 4
OPENAI_WEBHOOK_SECRET = "whsec_" + "YmVuY2gtcGlwZWxpbmUtd2ViaG9vay1zZWNyZXQ="  # base64 of a bench secret
COMFY_INPUTS = {"prompt": ["3", "text"], "negative_prompt": ["4", "text"], "width": ["5", "width"],
                "height": ["5", "height"], "length": ["5", "length"], "fps": ["9", "frame_rate"],
                "seed": ["7", "seed"]}


@dataclass
class Figures:
    """What the fake saw of a batch of takes (times are this process's time.monotonic())."""

    takes: int
    creates: int  # jobs the fake accepted since the batch was booked
    polls: dict[str, list[float]] = field(default_factory=dict)  # job → status requests
    downloads: int = 0  # videos fetched (not thumbnails)
    done_at: dict[str, float] = field(default_factory=dict)  # job → when it finished
    webhooks: list = field(default_factory=list)  # (job, outcome) deliveries

    @property
    def poll_count(self) -> int:
        return sum(len(times) for times in self.polls.values())


class Driver:
    name = ""
    label = ""
    model = ""
    webhooks = False  # whether the fake can call the studio back

    def __init__(self, job_seconds: float):
        self.job_seconds = job_seconds
        self.fake = self.start()

    # -- what each driver defines ------------------------------------------------------
    def start(self):
        raise NotImplementedError

    def connection(self, *, team, user, webhooks: bool = False):
        raise NotImplementedError

    def job_count(self) -> int:
        """Jobs the fake has accepted so far (a create that reached it)."""
        raise NotImplementedError

    def job_key(self, provider_job_id: str) -> str:
        """The fake's id for a take's job."""
        return provider_job_id

    def seen(self, keys: set[str]) -> Figures:
        raise NotImplementedError

    def close(self) -> None:
        self.fake.close()

    # -- shared --------------------------------------------------------------------------
    def webhooks_on(self, connection, public_url: str, settings) -> None:
        """Point the fake at the studio served at public_url (only drivers with webhooks)."""
        raise SystemExit(f"--webhooks: {self.label} sends no webhooks.")

    def figures(self, renders, jobs_before: int) -> Figures:
        """The fake's counts for these takes; `jobs_before` = job_count() before they were booked."""
        keys = {self.job_key(r.provider_job_id) for r in renders if r.provider_job_id}
        figures = self.seen(keys)
        figures.takes = len(renders)
        figures.creates = self.job_count() - jobs_before
        return figures


def _polls(records, keys: set[str], key_of) -> dict[str, list[float]]:
    polls: dict[str, list[float]] = {}
    for record in records:
        key = key_of(record)
        if key in keys:
            polls.setdefault(key, []).append(record.at)
    return polls


class OpenAIDriver(Driver):
    name, label, model, webhooks = "openai", "OpenAI Videos format (gateway)", "veo-3.1", True

    def start(self):
        from tests.fakes.provider_server import ProviderServer

        server = ProviderServer()
        server.job_seconds = self.job_seconds
        return server

    def connection(self, *, team, user, webhooks: bool = False):
        from generation.providers import connections

        gateway = connections.connection_create(
            team=team, user=user, kind="openai-videos", label="Fake gateway",
            base_url=self.fake.openai_base, api_key=self.fake.api_key,
            webhook_secret=OPENAI_WEBHOOK_SECRET if webhooks else "",
        )
        connections.catalog_register_model(
            connection=gateway, model_id=self.model, display_name="Veo 3.1 (fake gateway)",
            sizes=[SIZE], durations=[SECONDS], price_per_second=0.4,
        )
        return gateway

    def webhooks_on(self, connection, public_url: str, settings) -> None:
        from generation.providers import webhook_url_for

        self.fake.webhook_url = webhook_url_for(connection)
        self.fake.webhook_secret = OPENAI_WEBHOOK_SECRET

    def job_count(self) -> int:
        return len(self.fake.jobs)

    def seen(self, keys):
        def job_of(r):
            return r.path.split("/")[4]  # /openai/v1/videos/{id}[/content]
        return Figures(
            takes=0, creates=0,
            polls=_polls(self.fake.seen("GET", r"/openai/v1/videos/[^/]+"), keys, job_of),
            downloads=sum(job_of(r) in keys and r.query.get("variant", "video") == "video"
                          for r in self.fake.seen("GET", r"/openai/v1/videos/[^/]+/content")),
            done_at={j.id: j.created + j.duration for j in list(self.fake.jobs.values())
                     if j.id in keys and j.duration is not None},
            webhooks=[(j, o) for j, _, o in self.fake.webhook_deliveries if j in keys],
        )


class VeoDriver(Driver):
    name, label, model = "veo", "Google Veo (Gemini API)", "veo-3.1-fast-generate-preview"

    def start(self):
        from tests.fakes.veo_server import VeoServer

        server = VeoServer()
        server.job_seconds = self.job_seconds
        return server

    def connection(self, *, team, user, webhooks: bool = False):
        from generation.providers import connections

        return connections.connection_create(team=team, user=user, kind="veo", label="Google Veo",
                                             base_url=self.fake.url, api_key=self.fake.api_key)

    def job_count(self) -> int:
        return len(self.fake.operations)

    def seen(self, keys):
        operations = list(self.fake.operations.values())
        files = {o.file_id: o.name for o in operations}
        downloads = 0
        for record in list(self.fake.storage_requests):  # the file, after the API's redirect
            match = re.fullmatch(r"/videos/(file_\d+)\.mp4", record.path)
            downloads += bool(match and files.get(match[1]) in keys)
        return Figures(
            takes=0, creates=0,
            polls=_polls(self.fake.seen("GET", r"/v1beta/models/[^/]+/operations/[^/]+"), keys,
                         lambda r: r.path.removeprefix("/v1beta/")),
            downloads=downloads,
            done_at={o.name: o.done_at for o in operations if o.name in keys and o.done_at is not None},
        )


class FalDriver(Driver):
    name, label, model, webhooks = "fal", "fal queue", "fal-ai/veo3.1/fast", True

    def start(self):
        from tests.fakes.fal_server import FalServer

        server = FalServer()
        server.job_seconds = self.job_seconds
        return server

    def connection(self, *, team, user, webhooks: bool = False):
        from generation.providers import connections

        return connections.connection_create(team=team, user=user, kind="fal", label="fal",
                                             base_url=self.fake.url, api_key=self.fake.api_key)

    def webhooks_on(self, connection, public_url: str, settings) -> None:
        # fal signs with its published Ed25519 keys: the studio fetches the fake's key set.
        settings.FAL_JWKS_URL = self.fake.jwks_url

    def job_key(self, provider_job_id: str) -> str:
        return provider_job_id.split(" ", 1)[0]  # "{request_id} {response_url}"

    def job_count(self) -> int:
        return len(self.fake.jobs)

    def seen(self, keys):
        requests = list(self.fake.jobs.values())
        return Figures(
            takes=0, creates=0,
            polls=_polls(self.fake.seen("GET", r"/[^/]+/[^/]+/requests/[^/]+/status"), keys,
                         lambda r: r.path.split("/")[-2]),
            downloads=sum(r.path.split("/")[2] in keys for r in self.fake.seen("GET", r"/cdn/[^/]+/output\.mp4")),
            done_at={j.id: j.done_at for j in requests if j.id in keys and j.done_at is not None},
            webhooks=[(j, o) for j, o in self.fake.webhook_deliveries if j in keys],
        )


class RunwayDriver(Driver):
    name, label, model = "runway", "Runway", "gen4.5"

    def start(self):
        from tests.fakes.runway_server import RunwayServer

        server = RunwayServer()
        server.job_seconds = self.job_seconds
        return server

    def connection(self, *, team, user, webhooks: bool = False):
        from generation.providers import connections

        return connections.connection_create(team=team, user=user, kind="runway", label="Runway",
                                             base_url=self.fake.url, api_key=self.fake.api_key)

    def job_count(self) -> int:
        return len(self.fake.tasks)

    def seen(self, keys):
        tasks = list(self.fake.tasks.values())
        return Figures(
            takes=0, creates=0,
            polls=_polls(self.fake.seen("GET", r"/v1/tasks/[^/]+"), keys, lambda r: r.path.split("/")[3]),
            downloads=sum(r.path.split("/")[2] in keys for r in self.fake.seen("GET", r"/cdn/[^/]+/output\.mp4")),
            done_at={t.id: t.done_at for t in tasks if t.id in keys and t.done_at is not None},
        )


class ComfyUIDriver(Driver):
    name, label, model = "comfyui", "ComfyUI (LTX-Video workflow)", "ltx-video"

    def start(self):
        from tests.fakes.comfyui_server import ComfyServer

        server = ComfyServer()
        server.job_seconds = self.job_seconds
        server.gpus = 1_000_000  # every job at once, as the other fakes run them
        return server

    def connection(self, *, team, user, webhooks: bool = False):
        from decimal import Decimal

        from generation.providers import comfy_workflows, connections
        from tests.fakes.comfyui_server import FIXTURES

        connection = connections.connection_create(team=team, user=user, kind="comfyui", label="Studio GPU",
                                                   base_url=self.fake.url)
        workflow = comfy_workflows.workflow_upload(connection=connection, user=user, name="LTX-Video",
                                                   data=(FIXTURES / "ltxv_t2v_api.json").read_bytes())
        model = comfy_workflows.workflow_map(workflow=workflow, inputs=COMFY_INPUTS, frames_rule="8n+1", fps=24,
                                             sizes=[SIZE], durations=[SECONDS], price_per_second=Decimal(0))
        self.model = model.model_id
        return connection

    def job_count(self) -> int:
        return len(self.fake.created())

    def seen(self, keys):
        wall = time.time() - time.monotonic()
        done_at, files = {}, {}
        for prompt_id, entry in list(self.fake.history.items()):
            if prompt_id not in keys:
                continue
            for message in entry["status"]["messages"]:
                if message[0] == "execution_success":
                    done_at[prompt_id] = message[1]["timestamp"] / 1000 - wall
            for output in entry["outputs"].values():
                for item in output.get("gifs", []) + output.get("images", []):
                    files[item["filename"]] = prompt_id
        views = [r for r in list(self.fake.requests) if r.method == "GET" and r.path == "/view"]
        return Figures(
            takes=0, creates=0,
            polls=_polls([r for r in list(self.fake.requests) if r.method == "GET"
                          and r.path.startswith("/history/")], keys, lambda r: r.path.removeprefix("/history/")),
            downloads=sum(files.get(r.query.get("filename")) in keys for r in views),
            done_at=done_at,
        )


DRIVERS = {d.name: d for d in (OpenAIDriver, VeoDriver, FalDriver, RunwayDriver, ComfyUIDriver)}
