"""The model catalog: what each connection can book, its retirement notices, the proposals a model-change check
makes, and the characters a provider keeps."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any, TypedDict

from django.conf import settings
from django.db import models
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from generation.durations import either_words, lengths_problem
from generation.models.connections import ConnectionKind, ProviderConnection


class ElementSet(TypedDict):
    """A cast member as a model's element (a booking recipe's "character_sets"): its name and its images'
    stored names, the frontal one first."""

    name: str
    images: list[str]


class Lifecycle(models.TextChoices):
    AVAILABLE = "available", _("Available")
    DEPRECATED = "deprecated", _("Deprecated")
    RETIRED = "retired", _("Retired")


class ExtendReturns(models.TextChoices):
    WHOLE = "whole", _("the whole clip (the take and its continuation)")
    NEW = "new", _("only the new part")


# What a model takes to render, as the catalog's pages name it.
INPUT_KIND_WORDS = {"text": _("text"), "image": _("image")}


def kinds_words(kinds: Iterable[str]) -> str:
    """Input kinds in the reader's language, joined as the catalog writes them ("texte + image")."""
    return " + ".join(str(INPUT_KIND_WORDS.get(kind, kind)) for kind in kinds)


class ShotTiming(models.TextChoices):
    EXACT = "exact", _("exact timings per shot")
    ORDER = "order", _("shots in order, timings not kept")


class CatalogModel(models.Model):
    """What a model accepts and costs, and whether it still exists.

    Shipped entries (connection empty) apply to every connection of their kind;
    an owner may register extra models that one gateway connection serves.
    """

    kind = models.CharField(max_length=32, choices=ConnectionKind.choices)
    connection = models.ForeignKey(
        ProviderConnection, on_delete=models.CASCADE, null=True, blank=True, related_name="models"
    )
    model_id = models.CharField(max_length=200)
    display_name = models.CharField(max_length=200)
    sizes = models.JSONField(help_text='Allowed sizes, e.g. ["1280x720", "720x1280"]')
    durations = models.JSONField(help_text="Allowed whole seconds, e.g. [4, 8, 12]")
    input_kinds = models.JSONField(default=list, help_text='["text"] or ["text", "image"]')
    supports_remix = models.BooleanField(default=False)
    has_audio = models.BooleanField(default=False)
    price_per_second = models.JSONField(
        default=dict, help_text='US$ per second by size; "*" is the price for any other size'
    )
    lifecycle = models.CharField(max_length=16, choices=Lifecycle.choices, default=Lifecycle.AVAILABLE)
    lifecycle_date = models.DateField(null=True, blank=True, help_text="Deprecation or retirement date")
    snapshot_of = models.CharField(
        max_length=200, blank=True, help_text="For a dated snapshot: the alias it pins"
    )
    input_schema = models.JSONField(
        default=dict, blank=True,
        help_text='Fields beyond the wire format\'s own. OpenAI format: {"characters": "id[]"} for native '
                  'characters, {"extra": {"name": "value"}} for constant fields a gateway accepts.')
    typical_seconds = models.PositiveIntegerField(
        null=True, blank=True,
        help_text="How long a job usually takes at the provider; the first polls are planned from it "
                  "until the studio has timed a few takes of its own.")
    notes = models.CharField(max_length=300, blank=True)
    # Continuity (what a take can start from, end on, grow into). The start frame is "image" in
    # input_kinds: a model that takes an image animates it from the first frame.
    end_frame = models.BooleanField(
        default=False, help_text="Takes an end frame: the video ends on a given image (first and last frame)")
    extend_seconds = models.JSONField(
        default=list, blank=True, help_text="Whole seconds a finished take can be extended by, e.g. [7]; "
                                            "empty: it cannot be extended")
    extend_returns = models.CharField(
        max_length=8, choices=ExtendReturns.choices, blank=True,
        help_text="What an extension returns; the studio always keeps the whole clip")
    reference_images = models.PositiveSmallIntegerField(
        default=0, help_text="How many likeness reference images of the cast it takes (0: none)")
    # Several timed shots in one request (for multi-shot takes). No timing: one shot per request.
    shot_timing = models.CharField(max_length=8, choices=ShotTiming.choices, blank=True,
                                   help_text="Renders several shots in one request: with exact timings, "
                                             "or in order only. Empty: one shot per request")
    shots_max = models.PositiveSmallIntegerField(null=True, blank=True,
                                                 help_text="Most shots in one request (empty: no stated limit)")
    shots_seconds_min = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Shortest total length of a multi-shot take (empty: its durations)")
    shots_seconds_max = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Longest total length of a multi-shot take (empty: its durations)")
    shot_min_seconds = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Shortest single shot (empty: no stated minimum)")

    class Meta:
        ordering = ["kind", "display_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "model_id"], condition=models.Q(connection__isnull=True),
                name="catalog_shipped_model_unique",
            ),
            models.UniqueConstraint(
                fields=["connection", "model_id"], condition=models.Q(connection__isnull=False),
                name="catalog_registered_model_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.model_id})"

    @property
    def is_retired(self) -> bool:
        return self.lifecycle == Lifecycle.RETIRED

    @property
    def input_kinds_words(self) -> str:
        """What the model takes, in the reader's language ("text + image")."""
        return kinds_words(self.input_kinds)

    def price_for(self, size: str) -> Decimal:
        price = self.price_per_second.get(size, self.price_per_second.get("*", 0))
        return Decimal(str(price))

    @property
    def start_frame(self) -> bool:
        """Takes a start frame (image-to-video): the scene's reference image or another take's frame."""
        return "image" in (self.input_kinds or [])

    @property
    def can_extend(self) -> bool:
        return bool(self.extend_seconds)

    @property
    def multi_shot(self) -> bool:
        return bool(self.shot_timing)

    @property
    def shots_min(self) -> int:
        """Fewest shots in one multi-shot take (2 unless the entry says more: Runway's recipe takes 3)."""
        value = (self.input_schema or {}).get("shots_min")
        return value if type(value) is int and value >= 2 else 2

    @property
    def renders_single_shots(self) -> bool:
        """Whether it renders one scene on its own (a recipe that only cuts between shots does not)."""
        return "shots_min" not in (self.input_schema or {})

    def total_fits(self, seconds: int) -> bool:
        """Whether a multi-shot take may last `seconds` in all: within the entry's total range when it gives
        one, else one of its durations."""
        if self.shots_seconds_min is not None and self.shots_seconds_max is not None:
            return self.shots_seconds_min <= seconds <= self.shots_seconds_max
        return seconds in (self.durations or [])

    @property
    def totals_words(self) -> str:
        """ "3–15 s" or "5, 10 or 15 s": how long a multi-shot take of this model may last."""
        if self.shots_seconds_min is not None and self.shots_seconds_max is not None:
            return gettext("%(low)d–%(high)d s") % {"low": self.shots_seconds_min, "high": self.shots_seconds_max}
        allowed = sorted(self.durations or [])
        if len(allowed) > 2 and allowed == list(range(allowed[0], allowed[-1] + 1)):
            return gettext("%(low)d–%(high)d s") % {"low": allowed[0], "high": allowed[-1]}
        if len(allowed) > 1:
            return gettext("%(some)s or %(last)d s") % {"some": ", ".join(str(d) for d in allowed[:-1]),
                                                        "last": allowed[-1]}
        return gettext("%(n)s s") % {"n": allowed[0] if allowed else "?"}

    def has(self, capability: str) -> bool:
        """Whether the model declares `capability`: a key of CAPABILITIES."""
        return bool(getattr(self, CAPABILITIES[capability][0]))

    @property
    def capability_words(self) -> list[str]:
        """What the model declares beyond text, in words, for the catalog page."""
        words = []
        if self.start_frame:
            words.append(gettext("start frame"))
        if self.end_frame:
            words.append(gettext("end frame"))
        if self.extend_seconds:
            said: dict[str, str] = {ExtendReturns.WHOLE: gettext("returns the whole clip"),
                                    ExtendReturns.NEW: gettext("returns only the new part")}
            returns = said.get(self.extend_returns, "")
            words.append(gettext("extend by %(seconds)s s") % {
                "seconds": ", ".join(str(s) for s in self.extend_seconds)} + (f", {returns}" if returns else ""))
        if self.reference_images:
            words.append(ngettext("%(count)d likeness reference", "up to %(count)d likeness references",
                                  self.reference_images) % {"count": self.reference_images})
        if self.shot_timing:
            limits = [gettext("up to %(n)d shots") % {"n": self.shots_max} if self.shots_max else gettext("several shots")]
            if self.shots_seconds_min and self.shots_seconds_max:
                limits.append(gettext("%(low)d–%(high)d s in all") % {"low": self.shots_seconds_min,
                                                                 "high": self.shots_seconds_max})
            if self.shot_min_seconds:
                limits.append(gettext("each at least %(n)d s") % {"n": self.shot_min_seconds})
            limits.append(self.get_shot_timing_display())
            words.append(gettext("multi-shot: %(limits)s") % {"limits": ", ".join(limits)})
        return words

    def capability_problems(self) -> list[str]:
        """Why what the row declares about continuity cannot be so (empty when it is coherent)."""
        problems = []
        if self.end_frame and not self.start_frame:
            problems.append(gettext("A model that ends on an end frame starts from a start frame too: tick the "
                              "reference image (start frame) as well."))
        seconds = self.extend_seconds
        if not isinstance(seconds, list) or not all(type(s) is int and 1 <= s <= 120 for s in seconds):
            problems.append(gettext("Extension lengths are whole seconds from 1 to 120, e.g. [7]."))
        elif seconds and not self.extend_returns:
            problems.append(gettext("Say what an extension returns: the whole clip, or only the new part."))
        elif not seconds and self.extend_returns:
            problems.append(gettext("Give the lengths a take can be extended by, or clear what an extension returns."))
        shots = (self.shots_max, self.shots_seconds_min, self.shots_seconds_max, self.shot_min_seconds)
        if not self.shot_timing and any(v is not None for v in shots):
            problems.append(gettext("Multi-shot limits need a timing (exact, or order only); clear them otherwise."))
        if self.shots_max is not None and self.shots_max < 2:
            problems.append(gettext("A multi-shot take has at least 2 shots."))
        if (self.shots_seconds_min is None) != (self.shots_seconds_max is None):
            problems.append(gettext("Give both the shortest and the longest total length of a multi-shot take, or "
                              "neither."))
        elif (self.shots_seconds_min is not None and self.shots_seconds_max is not None
              and self.shots_seconds_min > self.shots_seconds_max):
            problems.append(gettext("The shortest total length of a multi-shot take is longer than the longest."))
        if self.shot_min_seconds is not None and self.shot_min_seconds < 1:
            problems.append(gettext("The shortest single shot is at least 1 second."))
        return problems

    @property
    def declares_characters(self) -> bool:
        """The gateway takes the provider's own character ids on create (OpenAI format `characters`)."""
        return "characters" in (self.input_schema or {})

    @property
    def extra_fields(self) -> dict[str, str]:
        """Constant fields this model's gateway accepts beyond the wire format, sent on every create."""
        extra = (self.input_schema or {}).get("extra")
        return {str(k): str(v) for k, v in extra.items()} if isinstance(extra, dict) else {}

    @property
    def input_map(self) -> dict[str, Any]:
        """How a model added from its provider's published schema names and writes its inputs, shots included
        (generation/providers/schemas.py); {} for the models whose inputs an adapter maps by hand."""
        wire = (self.input_schema or {}).get("wire")
        return wire if isinstance(wire, dict) else {}

    @property
    def price_for_any_size(self) -> Decimal:
        return Decimal(str(self.price_per_second.get("*", 0)))

    def size_problems(self, size: str) -> list[str]:
        if size in self.sizes:
            return []
        return [gettext("%(model)s renders %(sizes)s, not %(size)s.") % {
            "model": self.display_name, "sizes": ", ".join(self.sizes), "size": size}]

    def problems_for(self, *, size: str, seconds: int) -> list[str]:
        """Plain-words reasons this model cannot render the request (empty if it can)."""
        problems = []
        if not self.renders_single_shots:
            problems.append(gettext("%(model)s renders %(low)d to %(high)d scenes as one multi-shot take, not one "
                                    "scene on its own: select them on the board and choose Render as one multi-shot "
                                    "take, or choose another model.") % {
                "model": self.display_name, "low": self.shots_min, "high": self.shots_max or self.shots_min})
        problems += self.size_problems(size)
        if seconds not in self.durations:
            problems.append(lengths_problem(self.display_name, self.durations, seconds))
        # Some models render their largest sizes only at some lengths (Veo: 1080p only at 8 s).
        only = (self.input_schema or {}).get("durations_by_size", {}).get(size)
        if only and seconds in self.durations and seconds not in only:
            lengths = either_words(sorted(only))
            problems.append(gettext("%(model)s renders %(size)s only at %(lengths)s seconds, not %(seconds)s: choose "
                                    "%(lengths)s seconds or a smaller size.") % {
                "model": self.display_name, "size": size, "lengths": lengths, "seconds": seconds})
        return problems

    def element_problems(self, sets: list[ElementSet]) -> list[str]:
        """Why a cast member cannot go as one of the model's elements (empty if each can): the model keeps a
        character from a frontal image and `input_schema["elements"]["images_min"] - 1` more views."""
        need = ((self.input_schema or {}).get("elements") or {}).get("images_min", 1)
        return [gettext("%(model)s keeps %(name)s from a frontal image and at least %(more)d more view(s): add "
                        "another reference image of %(name)s in the character library, or start the scene from "
                        "no frame.") % {"model": self.display_name, "name": entry["name"], "more": need - 1}
                for entry in sets if len(entry["images"]) < need]

    def reference_image_problems(self, *, size: str, seconds: int) -> list[str]:
        """Why the cast's likeness images cannot go with this take (empty if they can).

        `input_schema["reference_images_need"]` holds the model's limits, e.g. Veo keeps
        likenesses only in 8-second landscape takes: {"seconds": [8], "sizes": [...]}."""
        need = (self.input_schema or {}).get("reference_images_need") or {}
        problems = []
        if need.get("seconds") and seconds not in need["seconds"]:
            lengths = either_words(sorted(need["seconds"]))
            problems.append(gettext("%(model)s keeps the cast's likeness only in %(lengths)s-second takes, not "
                                    "%(seconds)s: choose %(lengths)s seconds or another model.") % {
                "model": self.display_name, "lengths": lengths, "seconds": seconds})
        if need.get("sizes") and size not in need["sizes"]:
            problems.append(gettext("%(model)s keeps the cast's likeness only at %(sizes)s, not %(size)s: choose one "
                                    "of those sizes or another model.") % {
                "model": self.display_name, "sizes": ", ".join(need["sizes"]), "size": size})
        return problems


# What a model may lack, for refusals: the field that declares it, and the words for it.
CAPABILITIES = {
    "start_frame": ("start_frame", _("a start frame")),
    "end_frame": ("end_frame", _("an end frame")),
    "extend": ("can_extend", _("extending a take")),
    "reference_images": ("reference_images", _("likeness reference images")),
    "multi_shot": ("multi_shot", _("several shots in one take")),
}


class RetirementNotice(models.Model):
    """A team's owners were told that a model their scenes use retires soon: once per model and team."""

    team = models.ForeignKey("projects.Team", on_delete=models.CASCADE, related_name="+")
    model = models.ForeignKey(CatalogModel, on_delete=models.CASCADE, related_name="+")
    retires_on = models.DateField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "model"], name="retirement_notice_once")]


class ProposalStatus(models.TextChoices):
    CHECKING = "checking", _("Checking")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")


class CatalogProposal(models.Model):
    """The latest "Check for model changes" of one connection: what its provider publishes, compared with the
    team's catalog (generation/providers/catalog_sync.py). One per connection: a check (an owner's, or the
    daily one) replaces the changes nobody accepted yet. Nothing in the catalog changes until an owner
    accepts a change."""

    connection = models.OneToOneField(ProviderConnection, on_delete=models.CASCADE, related_name="catalog_proposal")
    status = models.CharField(max_length=16, choices=ProposalStatus.choices, default=ProposalStatus.CHECKING)
    requested_at = models.DateTimeField(null=True, blank=True)
    # Who pressed "Check for model changes"; empty for the daily check.
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+")
    checked_at = models.DateTimeField(null=True, blank=True)
    message = models.CharField(max_length=500, blank=True, help_text="Why the last check failed")
    # Model ids the provider lists without saying what they are (an OpenAI-format gateway's plain list).
    unlisted = models.JSONField(default=list, blank=True)

    def __str__(self) -> str:
        return f"Model changes of {self.connection}"


class ProposedChangeKind(models.TextChoices):
    NEW = "new", _("New model")
    CHANGED = "changed", _("Changed")
    GONE = "gone", _("Gone")


class ProposedChangeState(models.TextChoices):
    PENDING = "pending", _("Waiting for an owner")
    ACCEPTED = "accepted", _("Accepted")


class ProposedChange(models.Model):
    """One row of a proposal: a model the provider added, changed or no longer serves."""

    proposal = models.ForeignKey(CatalogProposal, on_delete=models.CASCADE, related_name="changes")
    change = models.CharField(max_length=8, choices=ProposedChangeKind.choices)
    model_id = models.CharField(max_length=200)
    display_name = models.CharField(max_length=200)
    # Catalog fields: a new model's all; a change's new values of the fields that differ.
    proposed = models.JSONField(default=dict, blank=True)
    current = models.JSONField(default=dict, blank=True)  # those fields' values in the catalog now
    needs = models.JSONField(default=list, blank=True)  # what the owner must give: "price", "sizes", "durations"
    blockers = models.JSONField(default=list, blank=True)  # [code, detail] pairs: why it cannot be added
    notes = models.JSONField(default=dict, blank=True)  # inputs not sent, sizes not mapped, why it is gone
    # What was proposed, hashed: an owner accepts only the change they saw.
    fingerprint = models.CharField(max_length=64)
    state = models.CharField(max_length=16, choices=ProposedChangeState.choices, default=ProposedChangeState.PENDING)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")

    class Meta:
        ordering = ["change", "model_id"]
        constraints = [
            models.UniqueConstraint(fields=["proposal", "model_id"], condition=models.Q(state="pending"),
                                    name="one_pending_change_per_model"),
        ]

    def __str__(self) -> str:
        return f"{self.get_change_display()}: {self.model_id}"


class ProviderCharacter(models.Model):
    """A character as one connection's provider knows it (OpenAI format: POST /videos/characters)."""

    connection = models.ForeignKey(ProviderConnection, on_delete=models.CASCADE, related_name="characters")
    character = models.ForeignKey("projects.Character", on_delete=models.CASCADE, related_name="provider_ids")
    provider_character_id = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "character"], name="one_provider_id_per_connection")
        ]
