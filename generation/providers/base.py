"""The one small interface every asynchronous video provider speaks.

submit → a provider job id; poll → a JobState; download → bytes streamed to a
local file; cancel where the provider has it. Remote adapters map their wire
format onto this; the built-in previz provider implements it in-process.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path


@dataclass(frozen=True)
class RenderRequest:
    prompt: str
    model: str
    seconds: int
    size: str  # "WxH"
    title: str = ""
    scene_number: int = 1
    camera_notes: str = ""
    recipe: dict = field(default_factory=dict)
    input_reference: Path | None = None  # the start frame, already fitted to `size`
    end_frame: Path | None = None  # the frame to end on, fitted to `size` (models declaring end_frame)
    character_images: tuple[Path, ...] = ()  # likeness references of the cast, for models that take them
    provider_characters: tuple[str, ...] = ()  # the provider's own character ids (OpenAI format)
    # What the catalog entry declares beyond the wire format: names of optional fields the model's
    # gateway accepts ("characters"), and constant fields to send as they are. Nothing else is sent.
    declared_fields: frozenset = frozenset()
    extra_fields: tuple[tuple[str, str], ...] = ()
    # Stable per take: the same on every resend, so a gateway that honours it never creates twice;
    # providers that let the client name its job (ComfyUI's prompt_id) use it as the job's name.
    idempotency_key: str = ""

    @property
    def width(self) -> int:
        return int(self.size.split("x")[0])

    @property
    def height(self) -> int:
        return int(self.size.split("x")[1])


@dataclass(frozen=True)
class ExtendRequest:
    """A finished take continued by `seconds`: what each adapter maps onto its provider's extension.

    The provider finds the video its own way: by the job that made it (`source_job_id`: an OpenAI-format
    video id, a Veo operation), or from the studio's copy of the whole clip (`source_video`: fal, ComfyUI).
    The previz draws the continuation from the clip's last frame (`last_frame`)."""

    prompt: str
    model: str
    seconds: int  # of the new part only: what the provider bills
    size: str  # the extended take's, "WxH"
    source_job_id: str = ""
    source_video: Path | None = None
    source_seconds: float | None = None  # the length of the clip being extended, as the studio probed it
    last_frame: Path | None = None
    title: str = ""
    scene_number: int = 1
    recipe: dict = field(default_factory=dict)
    idempotency_key: str = ""

    @property
    def width(self) -> int:
        return int(self.size.split("x")[0])

    @property
    def height(self) -> int:
        return int(self.size.split("x")[1])


@dataclass(frozen=True)
class JobState:
    status: str  # queued | running | succeeded | failed | canceled
    progress: int = 0
    error: str = ""
    # Why a failed job failed, when the provider says in a way we classify: "moderation" when its
    # moderation (safety filters, content policy) refused the job; "" otherwise.
    error_code: str = ""
    poll_after: float | None = None  # seconds the provider asked us to wait
    # How long the job ran by the provider's own clock (finished − created), when
    # it says: the poll schedule learns from this, not from when we happened to look.
    provider_seconds: float | None = None
    # What the provider says the job cost, when it says (a cost field in US$), or the billed compute
    # seconds it reports (Replicate's metrics.predict_time) for the pipeline to price from the catalog.
    billed_cost: Decimal | None = None
    billed_seconds: float | None = None


@dataclass(frozen=True)
class JobProbe:
    """What we asked for, to recognise our own job among a provider's recent ones after a crash
    lost its id (the create was accepted, our worker died before storing the answer)."""

    model: str
    size: str
    seconds: int
    prompt: str
    created_after: datetime  # a little before we sent the create (clocks differ)
    exclude_ids: frozenset = frozenset()  # jobs other takes already own
    remix_of: str = ""  # the remixed video's id, for a remix
    extends: str = ""  # the extended video's id, for an extension (its listed length is the whole clip's)
    idempotency_key: str = ""  # the take's key, for providers whose job id is the name we chose


class ProviderError(Exception):
    """A provider refused or failed a call. `message` is shown to users.

    `code` lets callers branch without parsing words: auth, model_unknown,
    invalid_request, moderation, quota, rate_limited, expired, timeout (the
    outcome is unknown), server, network, bad_download; "" when unclassified.
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool = False,
        retry_after: float | None = None,
        code: str = "",
    ):
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.retry_after = retry_after
        self.code = code


@dataclass(frozen=True)
class ModelSpec:
    id: str
    name: str
    sizes: tuple[str, ...]
    durations: tuple[int, ...]
    price_per_second: float = 0.0


class Provider(ABC):
    key: str
    name: str
    models: tuple[ModelSpec, ...]
    has_thumbnail: bool = False
    # The finished job says how long it ran by the provider's clock (JobState.provider_seconds).
    # When not, the studio can only guess its end between two polls, and polls once more near the
    # expected end to narrow that guess (generation.renders.pipeline, the poll schedule).
    reports_job_time: bool = True
    # The provider charges for a job its moderation refused after accepting it (Runway: "Moderated
    # generations have the same credit cost as successful generations"). When not (Google: "You have
    # not been charged"), a refused take gives its estimate back (generation.spend.budget). True unless
    # the provider says otherwise: never give back what a provider may have billed.
    bills_refused_jobs: bool = True
    # Continuity this adapter puts on its provider's wire, for models whose catalog entry declares it:
    # an end frame beside the start frame (input_reference), the cast's likeness reference images.
    sends_end_frame: bool = False
    sends_reference_images: bool = False

    def model(self, model_id: str) -> ModelSpec | None:
        return next((m for m in self.models if m.id == model_id), None)

    def check_request(self, *, model_id: str, size: str, seconds: int) -> list[str]:
        """Plain-words reasons this provider would refuse the request (empty if fine)."""
        spec = self.model(model_id)
        if spec is None:
            return [f"{self.name} has no model “{model_id}”."]
        problems = []
        if size not in spec.sizes:
            problems.append(f"{spec.name} renders {', '.join(spec.sizes)}, not {size}.")
        if seconds not in spec.durations:
            lo, hi = min(spec.durations), max(spec.durations)
            problems.append(f"{spec.name} renders {lo}–{hi} seconds, not {seconds}.")
        return problems

    @abstractmethod
    def submit(self, request: RenderRequest) -> str: ...

    @abstractmethod
    def poll(self, job_id: str) -> JobState: ...

    @abstractmethod
    def download(self, job_id: str, variant: str, dest: Path) -> None:
        """Stream the result `variant` ("video" or "thumbnail") into `dest`."""

    def cancel(self, job_id: str) -> bool:
        return False

    def extend(self, request: ExtendRequest) -> str:
        """Start the continuation of a finished video (a provider job id, polled and downloaded like any).
        Adapters whose provider documents an extension implement it; the catalog refuses an extension
        declared on any other (can_extend)."""
        raise ProviderError(f"{self.name} cannot extend a take.", code="invalid_request")

    @property
    def can_extend(self) -> bool:
        return type(self).extend is not Provider.extend

    @property
    def can_cancel(self) -> bool:
        """The provider's API can stop a running job (the adapter implements cancel)."""
        return type(self).cancel is not Provider.cancel

    def delete(self, job_id: str) -> bool:
        """Remove the provider's copy of a finished job, where the API can; True once it is gone."""
        return False

    @property
    def can_delete(self) -> bool:
        return type(self).delete is not Provider.delete

    @property
    def can_list_jobs(self) -> bool:
        """find_job can look (the adapter implements it): not finding a job then means something."""
        return type(self).find_job is not Provider.find_job

    # Where a person can look for a job we could not confirm (shown with "may be billed").
    job_listing_hint: str = "Check the provider's own list of recent jobs."
    # True when find_job sees every job there is (our own job book): not found means never created.
    job_list_is_complete: bool = False

    def find_job(self, probe: JobProbe) -> str | None:
        """The id of a recent job matching `probe` (ours, its id lost in a crash), or None.

        Providers whose API cannot list jobs keep this default: nothing can be found."""
        return None

    def test_connection(self) -> str:
        """One cheap authenticated call; a plain-words success message or ProviderError."""
        return f"{self.name} is ready."
