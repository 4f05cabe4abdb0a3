"""The one small interface every asynchronous video provider speaks.

submit → a provider job id; poll → a JobState; download → bytes streamed to a
local file; cancel where the provider has it. Remote adapters map their wire
format onto this; the built-in previz provider implements it in-process.

Each adapter also declares what its provider is (ProviderFacts): where it lives, how the key
is sent, how it calls back, what a cancel does and costs, whether it lists jobs and reports
job time and cost, which continuity frames its wire carries, whether it extends a take. Forms,
pages, the catalog, webhook receipt and the pipeline ask those facts instead of branching on a
connection's kind.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar

from django.utils.functional import Promise
from django.utils.translation import gettext

from generation.durations import lengths_problem
from generation.words import Said, said


@dataclass(frozen=True)
class Shot:
    """One shot of a multi-shot request: a scene's prompt and where it sits in the take (whole seconds)."""

    prompt: str
    seconds: int
    start: int
    title: str = ""
    scene_number: int = 1
    camera_notes: str = ""

    @property
    def end(self) -> int:
        return self.start + self.seconds


def shots_prompt(shots: Iterable[Shot], *, timed: bool) -> str:
    """The shots as one prompt, for models that read them from the text: timed ("Shot 1 [0-3s] …", Wan 2.6)
    or numbered in order only ("Shot 1: …", Seedance 2.0, whose time ranges are unreliable)."""
    lines = []
    for number, shot in enumerate(shots, start=1):
        head = f"Shot {number} [{shot.start}-{shot.end}s]" if timed else f"Shot {number}:"
        lines.append(f"{head} {' '.join(shot.prompt.split())}")
    return "\n".join(lines)


@dataclass(frozen=True)
class CharacterSet:
    """One cast member as several views, the frontal image first: a reusable character for models that keep one
    from an image set (Kling's elements)."""

    name: str
    images: tuple[Path, ...]


@dataclass(frozen=True)
class RenderRequest:
    prompt: str
    model: str
    seconds: int
    size: str  # "WxH"
    title: str = ""
    scene_number: int = 1
    camera_notes: str = ""
    recipe: dict[str, Any] = field(default_factory=dict)
    input_reference: Path | None = None  # the start frame, already fitted to `size`
    end_frame: Path | None = None  # the frame to end on, fitted to `size` (models declaring end_frame)
    character_images: tuple[Path, ...] = ()  # likeness references of the cast, for models that take them
    character_sets: tuple[CharacterSet, ...] = ()  # the cast as image sets, for models whose entry declares elements
    provider_characters: tuple[str, ...] = ()  # the provider's own character ids (OpenAI format)
    # What the catalog entry declares beyond the wire format: names of optional fields the model's
    # gateway accepts ("characters"), and constant fields to send as they are. Nothing else is sent.
    declared_fields: frozenset[str] = frozenset()
    extra_fields: tuple[tuple[str, str], ...] = ()
    # Stable per take: the same on every resend, so a gateway that honours it never creates twice;
    # providers that let the client name its job (ComfyUI's prompt_id) use it as the job's name.
    idempotency_key: str = ""
    # A multi-shot take (several scenes in one request): its shots in order, `seconds` their total;
    # "exact" when the model keeps each shot's timing, "order" when it keeps only their order.
    shots: tuple[Shot, ...] = ()
    shot_timing: str = ""
    # The request field a gateway reads the shots from, when the model's registration names one.
    shots_field: str = ""
    # For a model the owner added from its provider's published schema (generation/providers/schemas.py):
    # how its inputs are named and written. Empty for the models whose inputs an adapter maps by hand.
    input_map: dict[str, Any] = field(default_factory=dict)
    # Whether the take is booked with sound (the catalog entry's has_audio), for providers that take
    # it as a parameter (Vertex's generateAudio); None: the model's own default.
    generate_audio: bool | None = None

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
    recipe: dict[str, Any] = field(default_factory=dict)
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
    error: str | Said = ""  # Said (generation.words): the take says it again in each reader's language
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
    exclude_ids: frozenset[str] = frozenset()  # jobs other takes already own
    remix_of: str = ""  # the remixed video's id, for a remix
    extends: str = ""  # the extended video's id, for an extension (its listed length is the whole clip's)
    idempotency_key: str = ""  # the take's key, for providers whose job id is the name we chose
    # What the studio sends for the take, built again (facts.job_listing_shows_input): a provider whose
    # list shows each job's whole input (fal) recognises ours by it and nothing less. None otherwise.
    request: RenderRequest | ExtendRequest | None = None


def dict_at(data: Mapping[str, Any], key: str) -> dict[str, Any]:
    """`data[key]` when it is a JSON object, else {}: a provider's answer is read, never trusted to have a shape."""
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def list_at(data: Mapping[str, Any], key: str) -> list[Any]:
    """`data[key]` when it is a JSON array, else []."""
    value = data.get(key)
    return value if isinstance(value, list) else []


class ProviderError(Exception):
    """A provider refused or failed a call. `message` is shown to users.

    `code` lets callers branch without parsing words: auth, model_unknown,
    invalid_request, moderation, quota, rate_limited, expired, timeout (the
    outcome is unknown), server, network, bad_download; "" when unclassified.

    Given as `Said` (generation.words), the message is said in the active language and `words` keeps
    its code, so a take that stores it says it again in its reader's language; given as text, it is
    that text for everyone (`words` is None).
    """

    def __init__(
        self,
        message: str | Said,
        *,
        retryable: bool = False,
        retry_after: float | None = None,
        code: str = "",
    ):
        self.words = message if isinstance(message, Said) else None
        self.message = str(message)
        super().__init__(self.message)
        self.retryable = retryable
        self.retry_after = retry_after
        self.code = code


class WebhookScheme(StrEnum):
    """How the provider tells the studio a job changed."""

    NONE = "none"  # it calls nobody back: the studio polls every take
    STANDARD = "standard"  # Standard Webhooks, signed with the connection's secret (whsec_…)
    FAL_KEYS = "fal-keys"  # Ed25519, checked against fal's published key set: no secret to paste


class CancelRefund(StrEnum):
    """What a job canceled while it runs still costs."""

    FREE = "free"  # nobody bills it (your own GPU, the built-in previz)
    WORK_DONE = "work-done"  # the provider may bill the work already done
    NONE = "none"  # no refund: billed as if it had finished (Runway; and any job nothing can stop)


class JobListing(StrEnum):
    """Whether a create whose answer was lost can be found again (generation/renders/lookups.py)."""

    NONE = "none"  # the API cannot list jobs
    RECENT = "recent"  # recent jobs can be searched; not finding ours proves little
    COMPLETE = "complete"  # every job there is: not found means never created


class Credentials(StrEnum):
    """What an owner pastes to connect, and how the studio authenticates with it."""

    API_KEY = "api-key"  # a key sent on every request, as the facts' auth_header says
    # A Google Cloud service account's JSON key: the studio signs a JWT with its private key and trades
    # it at Google's token endpoint for a short-lived OAuth2 bearer token (Vertex AI).
    SERVICE_ACCOUNT = "service-account"


class ModelSource(StrEnum):
    """Where a connection's models come from."""

    CATALOG = "catalog"  # the studio ships them (owners edit the team's copy)
    REGISTERED = "registered"  # the owner registers what the gateway serves, with the fields it accepts
    WORKFLOWS = "workflows"  # the owner uploads workflow graphs and maps their inputs


@dataclass(frozen=True, kw_only=True)
class ProviderFacts:
    """What a provider is, declared once by its adapter and read by every form, page and receiver.

    The fields that touch money and trust have no default: an adapter must say them."""

    title: str | Promise  # the provider as a sentence names it: "Runway", "Google Gemini API", the built-in one translated
    default_base_url: str  # "" when the owner must give one (base_url_example shows what)
    auth_header: str  # how the key travels, as the Providers page shows it
    webhooks: WebhookScheme
    # The API can stop a running job (True), or canceling only stops the studio watching it (False).
    cancels: bool
    cancel_refund: CancelRefund
    job_listing: JobListing
    # The job list shows each job's input as it was sent (fal's request listing, `expand=payloads`): a lost
    # create is recognised by the whole request the studio builds for the take again (JobProbe.request).
    job_listing_shows_input: bool = False
    # A finished job says how long it ran by the provider's clock (JobState.provider_seconds). When not,
    # the studio can only guess its end between two polls, and polls once more near the expected end
    # to narrow that guess (generation.renders.pipeline, the poll schedule).
    reports_job_time: bool
    # A job's answer says what it cost (JobState.billed_cost or billed_seconds): that becomes the take's
    # recorded cost (generation.spend.billing), the estimate otherwise.
    reports_billed_cost: bool
    # The provider charges for a job its moderation refused after accepting it (Runway: "Moderated
    # generations have the same credit cost as successful generations"). When not (Google: "You have
    # not been charged"), a refused take gives its estimate back (generation.spend.budget). Never give
    # back what a provider may have billed.
    bills_refused_jobs: bool
    # Without a default, what the owner gives, in words and by example.
    base_url_words: str = ""
    base_url_example: str = ""
    auth_configurable: bool = False  # the connection's auth style picks the header (Azure's api-key)
    key_required: bool = True
    webhook_secret_from_api: bool = False  # the API hands out the signing secret (Replicate)
    deletes_finished: bool = False  # the API can delete its copy of a finished job
    model_source: ModelSource = ModelSource.CATALOG
    built_in: bool = False  # runs in the studio itself: nothing it is given leaves this machine
    # Its videos come from a trained model (C2PA's trainedAlgorithmicMedia); False for one that draws
    # them by rule (algorithmicMedia: the previz animatic).
    trained_model: bool = True
    # Continuity this adapter puts on its provider's wire, for models whose catalog entry declares it:
    # an end frame beside the start frame (RenderRequest.end_frame), the cast's likeness reference
    # images (RenderRequest.character_images). A catalog row cannot declare what its wire cannot carry
    # (generation.catalog.declaration_problems), so a frame is never silently dropped.
    sends_end_frame: bool = False
    sends_reference_images: bool = False
    # A shot list (RenderRequest.shots) for models whose catalog entry declares several shots in one take.
    sends_shots: bool = False
    # The provider continues a finished video it made or is given (Provider.extend, ExtendRequest): only
    # then may a catalog row declare extension lengths (generation.catalog.declaration_problems).
    extends: bool = False
    # Where "Check for model changes" reads the provider's models (Provider.list_models), in words for the
    # Models page; "" when the provider publishes none the studio can read.
    model_listing: str = ""
    credentials: Credentials = Credentials.API_KEY
    # The connection names a cloud project and region, which make its address (Google Cloud's Vertex AI).
    cloud_project: bool = False
    # Outputs can be written to the team's own bucket instead of coming back in the answer (Vertex's
    # storageUri, gs://…); the studio reads them from there with the connection's own credentials.
    output_bucket: bool = False

    @property
    def lists_models(self) -> bool:
        return bool(self.model_listing)

    @property
    def lists_jobs(self) -> bool:
        return self.job_listing != JobListing.NONE

    @property
    def job_list_is_complete(self) -> bool:
        return self.job_listing == JobListing.COMPLETE

    @property
    def declares_fields(self) -> bool:
        """Each registered model declares the fields its gateway accepts beyond the wire format."""
        return self.model_source == ModelSource.REGISTERED


@dataclass(frozen=True)
class WebhookNotice:
    """What a verified webhook delivery is about, read by the adapter from its provider's payload."""

    job_id: str  # the job as the provider names it
    event: str  # its event type or status, kept with the delivery
    # When a take stores more than the provider's id (fal: the request id, then its URLs), the stored
    # job id starts with this; "" when it is the provider's id itself.
    stored_prefix: str = ""


@dataclass(frozen=True)
class ListedModel:
    """One model as its provider publishes it, in the catalog's terms. None where the listing does not say:
    the studio never guesses, it asks the owner (a new model) or leaves the entry as it is (a known one)."""

    model_id: str
    display_name: str = ""
    deprecated: bool = False  # still listed, but the provider marks it deprecated
    sizes: tuple[str, ...] | None = None
    durations: tuple[int, ...] | None = None
    input_kinds: tuple[str, ...] | None = None  # ("text",), ("image",) or ("text", "image")
    has_audio: bool | None = None
    end_frame: bool | None = None
    reference_images: int | None = None
    extend_seconds: tuple[int, ...] | None = None
    shot_timing: str | None = None  # "exact", "order" or "" (one shot per request)
    shots_max: int | None = None
    shots_seconds_min: int | None = None
    shots_seconds_max: int | None = None
    shot_min_seconds: int | None = None
    price_per_second: Decimal | None = None  # the provider's own listed price: the owner confirms it
    input_map: dict[str, Any] = field(default_factory=dict)  # RenderRequest.input_map for this model
    # Optional inputs the studio does not fill (their provider's default applies), and sizes it does not map.
    not_sent: tuple[str, ...] = ()
    unmapped: tuple[str, ...] = ()
    # Why the studio cannot render it at all: (code, detail), e.g. ("required_input", "motion_bucket").
    blockers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ModelListing:
    """What a provider publishes: every model of `known` (the ids the studio asked about) that it still
    serves is in `models`; one missing is gone. `reasons` says why, where the provider tells (ComfyUI: a node
    no longer installed). `unlisted`: ids the provider lists without saying what they are (an OpenAI-format
    gateway's plain list), left for the owner to register."""

    models: tuple[ListedModel, ...]
    reasons: dict[str, Any] = field(default_factory=dict)
    unlisted: tuple[str, ...] = ()


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
    facts: ClassVar[ProviderFacts]  # every adapter declares its own

    @classmethod
    def prompt_problems(cls, *, model_id: str, prompt: str) -> list[str]:
        """Plain-words reasons the provider would refuse this prompt for this model (empty if fine):
        asked at booking, so a prompt it would refuse is never booked."""
        return []

    @classmethod
    def shot_problems(cls, *, model_id: str, shots: Sequence[Shot], input_map: dict[str, Any] | None = None) -> list[str]:
        """Plain-words reasons the provider would refuse this shot list for this model (empty if fine):
        asked when a multi-shot take is booked, as prompt_problems is for one take. `input_map`: the
        model's RenderRequest.input_map, for a model added from its provider's published schema."""
        return []

    @classmethod
    def webhook_notice(cls, payload: dict[str, Any]) -> WebhookNotice:
        """The job a webhook delivery (already verified) is about. Adapters whose provider calls
        back read their payload here."""
        return WebhookNotice(job_id="", event="")

    @classmethod
    def address(cls, *, base_url: str, options: dict[str, Any]) -> str:
        """Where a connection of this kind calls, as the Providers page shows it: its own base URL,
        else the provider's (Vertex: the regional endpoint its region names)."""
        return base_url or cls.facts.default_base_url

    def model(self, model_id: str) -> ModelSpec | None:
        return next((m for m in self.models if m.id == model_id), None)

    def check_request(self, *, model_id: str, size: str, seconds: int) -> list[str]:
        """Plain-words reasons this provider would refuse the request (empty if fine)."""
        spec = self.model(model_id)
        if spec is None:
            return [gettext("%(provider)s has no model “%(model)s”.") % {"provider": self.name, "model": model_id}]
        problems = []
        if size not in spec.sizes:
            problems.append(gettext("%(model)s renders %(sizes)s, not %(size)s.") % {
                "model": spec.name, "sizes": ", ".join(spec.sizes), "size": size})
        if seconds not in spec.durations:
            problems.append(lengths_problem(spec.name, spec.durations, seconds))
        return problems

    @abstractmethod
    def submit(self, request: RenderRequest) -> str: ...

    @abstractmethod
    def poll(self, job_id: str) -> JobState: ...

    @abstractmethod
    def download(self, job_id: str, variant: str, dest: Path) -> None:
        """Stream the result `variant` ("video" or "thumbnail") into `dest`."""

    def cancel(self, job_id: str) -> bool:
        """Stop a running job, where the API can (facts.cancels); True when the provider took it."""
        return False

    def extend(self, request: ExtendRequest) -> str:
        """Start the continuation of a finished video (a provider job id, polled and downloaded like any),
        where the provider documents an extension (facts.extends); the catalog refuses extension lengths
        declared on any other."""
        raise ProviderError(said("provider.cannot_extend", provider=self.name), code="invalid_request")

    def remix(self, job_id: str, prompt: str, *, idempotency_key: str = "") -> str:
        """Start a new video from a finished one and a new prompt, where a model's catalog entry says it
        remixes (supports_remix): the provider's job id."""
        raise ProviderError(said("provider.cannot_remix", provider=self.name), code="invalid_request")

    def create_character(self, *, name: str, video: Path) -> str:
        """Register a person's reference video as a character the provider keeps (the OpenAI format's
        `characters`, where a model's catalog entry declares them); its id goes with each take casting them."""
        raise ProviderError(said("provider.no_characters", provider=self.name), code="invalid_request")

    def delete(self, job_id: str) -> bool:
        """Remove the provider's copy of a finished job, where the API can (facts.deletes_finished);
        True once it is gone."""
        return False

    @property
    def job_listing_hint(self) -> str | Promise | Said:
        """Where a person can look for a job we could not confirm (shown with "may be billed"); adapters
        say it as a class attribute, or as a property when it names their base URL. Said, it is stored in the
        take's unconfirmed sentence as a code, so each reader reads it in their language."""
        return said("provider.listing_hint")

    def find_job(self, probe: JobProbe) -> str | None:
        """The id of a recent job matching `probe` (ours, its id lost in a crash), or None.

        Providers whose API cannot list jobs (facts.job_listing) keep this default: nothing can be found."""
        return None

    def test_connection(self) -> str | Said:
        """One cheap authenticated call; a plain-words success message (Said: each reader reads it in their
        language) or ProviderError."""
        return said("connection.ready", provider=self.name)

    def list_models(self, *, known: tuple[str, ...] = ()) -> ModelListing:
        """The models the provider publishes (facts.model_listing says where), each in the catalog's terms.

        Providers that publish none keep this default."""
        raise ProviderError(said("provider.no_model_list", provider=self.name), code="invalid_request")
