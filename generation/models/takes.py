"""Takes: a take (Render) and its state machine, multi-shot groups, duplicate jobs found at a provider, the
cost expressions spend pages read, and the verdict fingerprints of provenance checks."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import models
from django.db.models import BooleanField, Case, DecimalField, ExpressionWrapper, F, Q, Value, When
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from generation.events import take_settled
from generation.words import Said, english, stored, worded
from projects.live import ChangeKind, live_publish_for_scene

log = logging.getLogger("generation.takes")


class InvalidTransition(Exception):
    pass


class Status(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SUBMITTING = "submitting", _("Submitting")
    # The answer to its create was unclear (a timeout, a 5xx, the connection lost after sending):
    # the studio looks for the job in the provider's list before sending the create again.
    CONFIRMING = "confirming", _("Checking with the provider")
    RUNNING = "running", _("Rendering")
    DOWNLOADING = "downloading", _("Downloading")
    SUCCEEDED = "succeeded", _("Done")
    FAILED = "failed", _("Failed")
    CANCELED = "canceled", _("Canceled")


TERMINAL: set[str] = {Status.SUCCEEDED, Status.FAILED, Status.CANCELED}


def take_phase(status: str, *, progress: int, started: bool) -> str | None:
    """How a take on its way reads, on its frame and on its card alike: "queued" until the provider
    works on it (sent, but waiting in the provider's queue, is still queued), then "rendering";
    None once it ended. `started`: a poll saw the provider's job running (Render.provider_started_at)."""
    if status in (Status.QUEUED, Status.SUBMITTING, Status.CONFIRMING):
        return "queued"
    if status == Status.RUNNING and not started and not progress:
        return "queued"
    if status in (Status.RUNNING, Status.DOWNLOADING):
        return "rendering"
    return None

# status → the statuses it may move to. RUNNING → RUNNING is a progress update.
TRANSITIONS: dict[str, set[str]] = {
    Status.QUEUED: {Status.SUBMITTING, Status.FAILED, Status.CANCELED},
    Status.SUBMITTING: {Status.RUNNING, Status.CONFIRMING, Status.FAILED, Status.CANCELED},
    # Found in the provider's list; sent again after the list stayed empty; or ended (see lookups.py).
    Status.CONFIRMING: {Status.RUNNING, Status.SUBMITTING, Status.FAILED},
    Status.RUNNING: {Status.RUNNING, Status.DOWNLOADING, Status.FAILED, Status.CANCELED},
    Status.DOWNLOADING: {Status.SUCCEEDED, Status.FAILED},
    Status.SUCCEEDED: set(),
    Status.FAILED: set(),
    Status.CANCELED: set(),
}


def _render_upload_to(render: Render, filename: str) -> str:
    return f"renders/{render.scene.project.team_id}/{render.scene.project_id}/{render.pk}/{filename}"


class ProvenanceState(models.TextChoices):
    # The words a chip shows. Only an operator-configured anchor earns "Trusted"; the
    # studio's own local CA is a root it made itself (generation/provenance/credentials.py).
    TRUSTED = "trusted", _("Trusted")
    STUDIO = "studio", _("Signed by this studio")
    VALID = "valid", _("Intact, unknown signer")
    INVALID = "invalid", _("Tampered or broken")
    NONE = "none", _("No credentials")


# What a failed check means, for people: c2pa-rs's codes name the check, not the consequence.
PROVENANCE_FAILURE_WORDS = {
    "assertion.bmffHash.mismatch": _("the video's bytes changed after it was signed"),
    "assertion.dataHash.mismatch": _("the file's bytes changed after it was signed"),
    "assertion.hashedURI.mismatch": _("a statement in the credentials was altered after signing"),
    "assertion.missing": _("a statement the signature covers is missing"),
    "claimSignature.mismatch": _("the signature does not match the credentials"),
    "claimSignature.missing": _("the credentials carry no signature"),
    "signingCredential.invalid": _("the signing certificate is invalid"),
    "signingCredential.expired": _("the signing certificate had expired"),
    "signingCredential.revoked": _("the signing certificate was revoked"),
    "claim.missing": _("the credentials are incomplete"),
    "manifest.inaccessible": _("the credentials could not be read"),
}
# Codes c2pa-rs reports on files that are sound; they say nothing was tampered with.
PROVENANCE_UNTRUSTED = "signingCredential.untrusted"
PROVENANCE_NOT_FAILURES = {PROVENANCE_UNTRUSTED}
CONFIGURE_SIGNING = _("To sign with a certificate from a recognised certificate authority, set "
                      "C2PA_SIGN_CERT_CHAIN (leaf then intermediates, PEM) and C2PA_SIGN_KEY.")


def provenance_failures(codes: list[str]) -> str:
    """What failed, in words, with the codes in brackets for whoever debugs the file."""
    failures = [c for c in codes if c.split(":")[0] not in PROVENANCE_NOT_FAILURES] or list(codes)
    words = [str(w) for w in dict.fromkeys(PROVENANCE_FAILURE_WORDS.get(c.split(":")[0], "") for c in failures) if w]
    what = "; ".join(words) or gettext("the content does not match its signature")
    return f"{what} ({', '.join(failures) or gettext('unknown reason')})"


def provenance_verdict(state: str, codes: list[str], signer: str | None) -> str:
    """A verdict in one sentence, in the active language. Said again from a take's stored state, codes
    and signer each time it is shown, so a row stored in another language reads in the reader's."""
    words = {"who": signer or gettext("an unnamed signer")}
    if state == ProvenanceState.TRUSTED:
        return gettext("Trusted: signed by %(who)s, whose certificate chains to a root this studio's operator "
                       "trusts.") % words
    if state == ProvenanceState.STUDIO:
        return gettext("Signed by this studio (%(who)s). This is the studio's own local certificate: it proves "
                       "the file is unchanged since this studio signed it, but it is not publicly trusted and "
                       "others will see an unknown signer.") % words + f" {CONFIGURE_SIGNING}"
    if state == ProvenanceState.VALID:
        return gettext("Intact, unknown signer: signed by %(who)s, whom this studio cannot vouch for.") % words
    if state == ProvenanceState.INVALID:
        return gettext("Tampered or broken: %(failures)s.") % {"failures": provenance_failures(codes)}
    return gettext("No content credentials: this file carries no C2PA manifest, so its origin cannot be checked.")


class VerdictFingerprint(models.Model):
    """What the stored verdicts were computed with (anchors, studio CA, classifier): one row.

    Kept in the database, not on one machine's disk, so every web and worker host agrees
    whether verdicts need recomputing."""

    fingerprint = models.CharField(max_length=64)
    checked_at = models.DateTimeField(auto_now=True)


class CostSource(models.TextChoices):
    ESTIMATED = "estimated", _("Estimated")
    PROVIDER = "provider", _("Reported by the provider")


def recorded_cost_expression() -> Coalesce:
    """A take's recorded cost in SQL: what the provider reported, else the estimate (one rule, one home)."""
    return Coalesce("billed_cost", "cost")


def spent_cost_expression() -> CombinedExpression:
    """What a take spent in SQL: its recorded cost plus any duplicate jobs its provider made for it."""
    return recorded_cost_expression() + F("duplicate_cost")


MONEY = DecimalField(max_digits=14, decimal_places=4)


def _share_of_group(expression: Coalesce | F) -> ExpressionWrapper[CombinedExpression]:
    # A part's share of its multi-shot take's figure (the lead's), by length (Render.cost_share).
    return ExpressionWrapper(expression * F("cost_share"), output_field=MONEY)


def attributed_cost_expression() -> Case:
    """A take's recorded cost as the spend pages attribute it: a part of a multi-shot take counts its share of
    the group's recorded cost, which is its lead's (recorded once); any other take its own."""
    lead = Coalesce("shot_group__lead__billed_cost", "shot_group__lead__cost")
    return Case(When(shot_group__isnull=True, then=recorded_cost_expression()),
                default=_share_of_group(lead), output_field=MONEY)


def attributed_booked_expression() -> Case:
    """The catalog estimate a take was booked at, as the spend pages attribute it (a part: its share)."""
    return Case(When(shot_group__isnull=True, then=F("cost")),
                default=_share_of_group(F("shot_group__lead__cost")), output_field=MONEY)


def attributed_estimate_expression() -> Case:
    """Of attributed_cost_expression, the part that is the catalog's estimate (no provider's figure)."""
    return Case(When(shot_group__isnull=True, billed_cost__isnull=True, then=F("cost")),
                When(shot_group__isnull=False, shot_group__lead__billed_cost__isnull=True,
                     then=_share_of_group(F("shot_group__lead__cost"))),
                default=Value(Decimal(0)), output_field=MONEY)


def attributed_billed_expression() -> Case:
    """Of attributed_cost_expression, what a provider reported (None when it reported nothing)."""
    return Case(When(shot_group__isnull=True, then=F("billed_cost")),
                default=_share_of_group(F("shot_group__lead__billed_cost")), output_field=MONEY)


# A take whose estimate went back to the budgets: its own flag, or for a part of a multi-shot take, its lead's.
GIVEN_BACK = Q(cost_given_back=True) | Q(shot_group__lead__cost_given_back=True)


# A take one may watch (on the board, in review, in compare, in the cut, through a guest link):
# finished, and not withheld because someone it casts revoked consent. One rule, one home: the
# queryset, the annotation and the instance property below all read this.
WATCHABLE = Q(status=Status.SUCCEEDED, quarantined_at__isnull=True)


class RenderQuerySet(models.QuerySet["Render"]):
    def watchable(self) -> RenderQuerySet:
        """Takes anyone on the team, and a guest with a link, may watch."""
        return self.filter(WATCHABLE)

    def on_board(self) -> RenderQuerySet:
        """Takes whose scene is on the board: a scene in the trash takes its takes off every page with it."""
        return self.filter(scene__trashed_at__isnull=True)

    def with_watchable(self) -> RenderQuerySet:
        """Each take annotated `watchable` (for read models that fetch every take, watchable or not)."""
        return self.annotate(watchable=ExpressionWrapper(WATCHABLE, output_field=BooleanField()))


class Render(models.Model):
    """One provider job for one scene: a take."""

    scene = models.ForeignKey("projects.Scene", on_delete=models.CASCADE, related_name="renders")
    parent = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="children",
        help_text="The take this one retries or remixes.",
    )
    connection = models.ForeignKey(
        "ProviderConnection", on_delete=models.PROTECT, null=True, blank=True, related_name="renders"
    )
    number = models.PositiveIntegerField(default=0, help_text="Take number within its scene (1, 2, …)")
    provider = models.CharField(max_length=64, help_text="The connection kind, e.g. local")
    model = models.CharField(max_length=200, help_text="The exact model id resolved at submit")
    recipe = models.JSONField(help_text="The exact request sent to the provider.")
    idempotency_key = models.UUIDField(unique=True, default=uuid.uuid4)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    provider_job_id = models.CharField(max_length=200, blank=True)
    error_message = models.TextField(blank=True)
    # The same, as codes and their parameters (generation.words): said again in each reader's language
    # (error_text). [] for a row stored before the codes and for words nobody coded: error_message is shown.
    error_words = models.JSONField(default=list, blank=True)
    # Why it failed, when the provider said in a way we classify (ProviderError codes): "moderation" for a
    # job its moderation refused, "expired" for a result gone before we copied it; for a take canceled
    # while it ran, "not_refunded" when its provider keeps a canceled job's cost; "" otherwise.
    failure_code = models.CharField(max_length=32, blank=True, default="")
    poll_count = models.PositiveIntegerField(default=0)
    video = models.FileField(upload_to=_render_upload_to, blank=True, max_length=300)
    thumbnail = models.FileField(upload_to=_render_upload_to, blank=True, max_length=300)
    duration_seconds = models.FloatField(null=True, blank=True)
    # An extension (recipe "extend_of") keeps the whole clip: the extended take, then its continuation.
    # Where the continuation begins, in seconds of this take's clip; the player marks it.
    join_seconds = models.FloatField(null=True, blank=True)
    c2pa_manifest = models.JSONField(null=True, blank=True)
    c2pa_state = models.CharField(max_length=16, choices=ProvenanceState.choices, blank=True)
    c2pa_codes = models.JSONField(default=list, blank=True)
    c2pa_summary = models.JSONField(default=dict, blank=True)
    # The take as a C2PA ingredient (its manifest and validation results, no media), written
    # once when it is approved so exports add it without re-validating the whole file.
    c2pa_ingredient = models.FileField(upload_to=_render_upload_to, blank=True, max_length=300)
    c2pa_ingredient_key = models.CharField(
        max_length=64, blank=True,
        help_text="Digest of the ingredient title and trust anchors the archive was written with")
    cost = models.DecimalField(max_digits=10, decimal_places=4, default=0,
                               help_text="The catalog estimate booked against the budget")
    # What the provider reported the take cost, when it reports one (Replicate metrics, a cost field):
    # then the recorded cost is billed_cost and cost_source says "provider"; else the estimate stands.
    cost_source = models.CharField(max_length=16, choices=CostSource.choices, default=CostSource.ESTIMATED)
    billed_cost = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)
    # Set when a worker died while sending the take and the provider's job list shows no job of
    # ours: the provider may have billed it, so its cost is never given back to the budget.
    billing_unconfirmed = models.BooleanField(default=False)
    # Set once, when the take ended, if no provider billed it (generation.spend.budget.take_gives_back):
    # its estimate went back to the budgets and it counts in no spend.
    cost_given_back = models.BooleanField(default=False)
    # A canceled take whose provider has no cancel: its job runs on, and the provider's copy is
    # deleted once it ends ("pending" until then, "done" after; see pipeline.render_cancel_at_provider).
    provider_cleanup = models.CharField(max_length=16, blank=True, default="")
    # Unclear answers to a create (generation/renders/lookups.py): creates sent for this take (a resend
    # carries the same Idempotency-Key), when the first went out (the provider's list is searched from
    # then), until when the current look-up window runs, how many look-ups were claimed (each task
    # claims its number) and whether the list answered at all in this window.
    create_attempts = models.PositiveSmallIntegerField(default=0)
    first_sent_at = models.DateTimeField(null=True, blank=True)
    lookup_until = models.DateTimeField(null=True, blank=True)
    lookup_count = models.PositiveIntegerField(default=0)
    list_answered = models.BooleanField(default=False)
    # After a resend, the provider's list is watched for a second job made for this take (a gateway
    # that ignored the key) until watch_until; the watch is in hand until watch_lease_until, past
    # which the sweeper resumes it. Jobs found are DuplicateJob rows; their cost is summed here.
    watch_until = models.DateTimeField(null=True, blank=True)
    watch_count = models.PositiveIntegerField(default=0)
    watch_lease_until = models.DateTimeField(null=True, blank=True)
    duplicate_count = models.PositiveSmallIntegerField(default=0)
    duplicate_cost = models.DecimalField(max_digits=10, decimal_places=4, default=0)
    # Until when the take's current step is known to be in hand (a worker renewing it, or a poll
    # due); a take past its lease is resumed by the sweeper (pipeline.renders_resume_stalled).
    lease_until = models.DateTimeField(null=True, blank=True)
    # What the provider delivered (renders/delivery.py), and each way it differs from the booking.
    delivered = models.JSONField(default=dict, blank=True)
    delivery_problems = models.JSONField(default=list, blank=True)
    characters = models.ManyToManyField("projects.Character", blank=True, related_name="renders",
                                        help_text="Who this take casts; revoking consent quarantines it")
    quarantined_at = models.DateTimeField(null=True, blank=True)
    quarantine_reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    provider_done_at = models.DateTimeField(
        null=True, blank=True,
        help_text="When the provider's job ended on our clock: submit + the provider's own job time, "
                  "else when a poll saw it")
    # The last poll that saw the job not yet done: with the first poll that saw it done, it brackets
    # when a job ended whose provider reports no job time (pipeline._provider_done_at).
    running_seen_at = models.DateTimeField(null=True, blank=True)
    # The first poll that saw the provider working on the job, not just holding it in its queue:
    # until then a sent take reads "Queued", not "Rendering 0%" (take_phase).
    provider_started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # A part of a multi-shot take (ShotGroup): several scenes rendered as one provider job, cut back into
    # one take per scene. The part with shot_index 0 (the group's lead) carries the job: its key, its
    # status, and the whole group's cost, recorded once; every other part follows its status and costs 0.
    # Spend pages attribute the group's cost to its parts by `cost_share` (their share of its length).
    shot_group = models.ForeignKey("ShotGroup", on_delete=models.CASCADE, null=True, blank=True,
                                   related_name="parts")
    shot_index = models.PositiveSmallIntegerField(null=True, blank=True)
    cost_share = models.DecimalField(max_digits=7, decimal_places=6, null=True, blank=True,
                                     help_text="Of its multi-shot take's cost, the share attributed to this scene")

    objects = RenderQuerySet.as_manager()
    # Whether its (connection, model) may be remixed, precomputed for a whole page (mark_remixable).
    _remixable: set[tuple[int | None, str]]

    class Meta:
        ordering = ["-created_at", "-pk"]
        # A scene's newest take, and its newest by number: per-scene subqueries on long boards (Play all's
        # sequence, the review status) read them from the index instead of sorting each scene's takes.
        indexes = [models.Index(fields=["status"]),
                   models.Index(fields=["scene", "created_at"], name="render_scene_newest"),
                   models.Index(fields=["scene", "number"], name="render_scene_number")]

    def __str__(self) -> str:
        return f"Take {self.pk} of {self.scene} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status not in TERMINAL

    @property
    def leads_group(self) -> bool:
        """The part of a multi-shot take that carries its provider job (and its cost)."""
        return self.shot_group_id is not None and self.shot_index == 0

    @property
    def follows_group(self) -> bool:
        """A part of a multi-shot take other than its lead: it never reaches a provider itself."""
        return self.shot_group_id is not None and self.shot_index != 0

    @property
    def request_recipe(self) -> dict[str, Any]:
        """What this take's provider job asks for: its own recipe, or for a multi-shot take's lead, the whole
        group's (every shot)."""
        group = self.shot_group if self.leads_group else None
        recipe: dict[str, Any] = group.recipe if group is not None else self.recipe  # JSON, as booked
        return recipe

    @property
    def phase(self) -> str | None:
        """ "queued" or "rendering" while the take is on its way (take_phase), None once it ended."""
        return take_phase(self.status, progress=self.progress, started=self.provider_started_at is not None)

    @property
    def status_label(self) -> str:
        """The status in words: a take a crashed worker may have created at the provider is not
        plainly "Failed" (it may be billed; pipeline.render_recover_submission). A take on its way
        reads as its frame does: "Queued", then "Rendering" (with its percentage once there is one)."""
        if self.billing_unconfirmed and self.status == Status.FAILED:
            return gettext("Unconfirmed — may be billed")
        if self.status == Status.CONFIRMING:
            return str(self.get_status_display())
        if self.phase == "queued":
            return str(Status.QUEUED.label)
        if self.phase == "rendering":
            return (gettext("Rendering %(percent)s%%") % {"percent": self.progress} if self.progress
                    else str(Status.RUNNING.label))
        return str(self.get_status_display())

    @property
    def error_text(self) -> str:
        """Why it ended without a video, in the reader's language where the words were stored as codes."""
        return worded(self.error_words) or self.error_message

    @property
    def cost_outcome(self) -> str:
        """For a take that ended without a video: whether its cost stays counted, in words ("" otherwise)."""
        if self.status not in {Status.FAILED, Status.CANCELED}:
            return ""
        if self.cost_given_back or not self.recorded_cost:
            return gettext("Not charged")
        if self.billing_unconfirmed:
            return gettext("Cost kept: the provider may have billed it")
        if self.billed_cost is not None:
            return gettext("Cost kept: the provider billed it")
        if self.failure_code == "moderation":
            return gettext("Cost kept: the provider bills refused jobs")
        if self.failure_code == "expired":
            return gettext("Cost kept: the provider billed the finished job")
        if self.failure_code == "not_refunded":
            return gettext("Cost kept: the provider does not refund a canceled job")
        if self.status == Status.CANCELED:
            return gettext("Cost kept: the provider may bill the work already done")
        return gettext("Cost kept: the provider may bill a job that failed")

    @property
    def recorded_cost(self) -> Decimal:
        return self.billed_cost if self.billed_cost is not None else self.cost

    @property
    def cost_is_estimated(self) -> bool:
        return self.billed_cost is None

    @property
    def provenance_broken(self) -> bool:
        """Tampered or broken credentials: approving, remixing or exporting it needs an owner's reason."""
        return self.c2pa_state == ProvenanceState.INVALID

    @property
    def needs_override(self) -> bool:
        """Approving it takes an owner's written reason (generation.renders.checks.approval_blocker says why)."""
        return self.provenance_broken or bool(self.delivery_problems)

    @property
    def provenance_state(self) -> str:
        """The state a chip shows ("" until the take is finished; a finished take without a verdict has none)."""
        if self.status != Status.SUCCEEDED:
            return ""
        return self.c2pa_state or ProvenanceState.NONE

    @property
    def provenance_label(self) -> str:
        return str(ProvenanceState(self.provenance_state).label) if self.provenance_state else ""

    @property
    def provenance_verdict(self) -> str:
        """The verdict in the reader's language; the stored sentence (English, for exports' manifests)
        only for a row whose state is unknown."""
        summary = self.c2pa_summary or {}
        if self.c2pa_state not in ProvenanceState.values:
            return str(summary.get("verdict", ""))
        return provenance_verdict(self.c2pa_state, list(self.c2pa_codes or []), summary.get("signer"))

    @property
    def is_watchable(self) -> bool:
        """The WATCHABLE rule for a take already in memory."""
        return self.status == Status.SUCCEEDED and self.quarantined_at is None

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL

    def may_see_quarantined(self, user: User) -> bool:
        """Withheld takes stay visible only to the people they depict and the team's owners."""
        if self.characters.filter(person=user).exists():
            return True
        return self.scene.project.team.memberships.filter(user=user, role="owner").exists()

    def is_withheld_from(self, user: User) -> bool:
        """A teammate may open a take's page and files unless it is withheld and they may not see it."""
        return self.quarantined_at is not None and not self.may_see_quarantined(user)

    @property
    def lineage(self) -> str:
        """How this take came about, in words ("" for a first take)."""
        parent = self.parent
        if parent is None:
            return ""
        if "extend_of" in (self.recipe or {}) and parent.pk == self.extension.get("take", {}).get("id"):
            return gettext("Extension of take %(number)d") % {"number": parent.number}
        words = {"number": parent.number}
        if "remix_of" in (self.recipe or {}):
            return gettext("Remix of take %(number)d") % words
        if parent.status in {Status.FAILED, Status.CANCELED}:
            return gettext("Retry of take %(number)d") % words
        return gettext("Re-render of take %(number)d") % words  # asked for in a review ("changes requested")

    @property
    def extension(self) -> dict[str, Any]:
        """What this take extends, when it is an extension (the recipe's "extend_of"), else {}."""
        return (self.recipe or {}).get("extend_of") or {}

    @property
    def frame_rate(self) -> float:
        """Frames per second, as probed from the delivered file (generation/renders/delivery.py);
        24, cinema's rate, for a take stored before deliveries were probed."""
        fps = (self.delivered or {}).get("fps")
        return round(float(fps), 3) if isinstance(fps, (int, float)) and 1 <= fps <= 240 else 24.0

    @property
    def can_remix(self) -> bool:
        if self.status != Status.SUCCEEDED or self.connection_id is None or self.shot_group_id is not None:
            return False  # a part of a multi-shot take is a cut of the provider's video, not a video it has
        if hasattr(self, "_remixable"):  # precomputed for a whole page (remixable_pairs)
            return (self.connection_id, self.model) in self._remixable
        # At call time: the catalog reads these models, so this module cannot import it at the top.
        from generation.catalog import resolve

        connection = self.connection
        model = resolve(connection, self.model) if connection is not None else None
        return bool(model and model.supports_remix)

    def advance(self, to: str, **changes: object) -> bool:
        """Move to status `to` if the row is still in a state that allows it.

        The check and the write are one conditional UPDATE, so two workers
        racing for the same take cannot both win. Returns False when another
        worker moved the row first; raises when this instance's own status
        can never reach `to`.
        """
        if to not in TRANSITIONS[self.status]:
            raise InvalidTransition(f"A {self.status} take cannot become {to}.")
        before = (self.status, self.progress, self.phase)
        words = changes.pop("words", None)
        if words is not None:  # said as codes: the English for logs and exports, the codes for pages
            changes["error_message"], changes["error_words"] = english(words), stored(words)  # type: ignore[arg-type]
        elif "error_message" in changes:  # plain words replace coded ones
            changes.setdefault("error_words", [])
        if to in TERMINAL:
            changes.setdefault("finished_at", timezone.now())
        changes["updated_at"] = timezone.now()
        sources = [s for s, targets in TRANSITIONS.items() if to in targets]
        won = (
            Render.objects.filter(pk=self.pk, status=self.status, status__in=sources)
            .update(status=to, **changes)
        )
        if won:
            self.status = to
            for field, value in changes.items():
                setattr(self, field, value)
            if self.status != before[0]:
                self._log_status()
            if to in TERMINAL:  # before the change is published: pages redrawn from it see the settled take
                take_settled.send(sender=Render, render=self)
            if (self.status, self.progress, self.phase) != before:
                # Leaving the provider's queue redraws the take's card too, not only its frame's chip.
                self._publish_change(moved=self.status != before[0] or self.phase != before[2])
            if self.leads_group and to != Status.SUCCEEDED:  # a finished group's parts finish one by one
                self._parts_follow(changes)
        return bool(won)

    # What every part of a multi-shot take shows of its lead's state (the job is the lead's alone).
    FOLLOWED = ("progress", "error_message", "error_words", "failure_code", "billing_unconfirmed", "submitted_at",
                "provider_started_at", "running_seen_at", "finished_at", "create_attempts", "lookup_until")

    def _parts_follow(self, changes: dict[str, object]) -> None:
        """The other parts of this lead's multi-shot take take on its status: every scene's frame shows the
        group's state, and one that ended settles (feed, notifications) like any take."""
        followed = {f: getattr(self, f) for f in self.FOLLOWED}
        followers = Render.objects.filter(shot_group_id=self.shot_group_id).exclude(pk=self.pk).exclude(
            status__in=TERMINAL)
        moved = list(followers.values_list("pk", "status", "progress", "provider_started_at"))
        if not moved or not followers.update(status=self.status, updated_at=changes["updated_at"], **followed):
            return
        for part in Render.objects.filter(pk__in=[row[0] for row in moved]).order_by("shot_index"):
            if part.status != self.status:
                continue  # moved on meanwhile by another worker
            before = next((status, progress, started) for pk, status, progress, started in moved if pk == part.pk)
            if self.status in TERMINAL:
                take_settled.send(sender=Render, render=part)
            phase_before = take_phase(before[0], progress=before[1], started=before[2] is not None)
            part._publish_change(moved=part.status != before[0] or part.phase != phase_before)

    def _log_status(self) -> None:
        # One structured line per status change, with the ids a log search follows.
        fields = {"take_id": self.pk, "scene_id": self.scene_id, "status": self.status,
                  "provider": self.provider, "model": self.model}
        if Render.scene.is_cached(self):
            fields["project_id"] = self.scene.project_id
        if self.status == Status.FAILED:
            fields["error"] = self.error_message[:500]
        log.info("take %s is %s", self.pk, self.status, extra=fields)

    def _publish_change(self, *, moved: bool) -> None:
        # Every open board and panel of the project shows the new status or progress.
        kinds: dict[str, str] = {Status.SUCCEEDED: ChangeKind.TAKE_FINISHED, Status.FAILED: ChangeKind.TAKE_FAILED,
                                 Status.CANCELED: ChangeKind.TAKE_FAILED}
        kind = kinds.get(self.status, ChangeKind.TAKE_PROGRESS)
        live_publish_for_scene(kind=kind, scene_id=self.scene_id, take_id=self.pk,
                               data={"status": self.status, "progress": self.progress, "moved": moved})

    def mark_failed(self, message: str | Said | Sequence[Said], *, code: str = "") -> bool:
        """Fail the take with words the user reads; `code` classifies why (ProviderError.code), if known.
        Words given as codes (generation.words) are said again in each reader's language."""
        if isinstance(message, str):
            return self.advance(Status.FAILED, error_message=message, failure_code=code)
        return self.advance(Status.FAILED, words=message, failure_code=code)


class DuplicateCleanup(models.TextChoices):
    PENDING = "pending", _("To be removed")
    CANCELED = "canceled", _("Canceled by the studio")
    DELETED = "deleted", _("Deleted by the studio once it ended")
    KEPT = "kept", _("Left at the provider: it can neither cancel nor delete jobs")
    FAILED = "failed", _("The studio could not remove it")


class DuplicateJob(models.Model):
    """A second job a provider made for one take: a gateway that ignored the take's Idempotency-Key
    and forwarded a create the studio had to send again. The take keeps its own job; this one is
    canceled or deleted where the provider allows, and its cost counts in spend."""

    render = models.ForeignKey(Render, on_delete=models.CASCADE, related_name="duplicates")
    provider_job_id = models.CharField(max_length=200)
    found_at = models.DateTimeField(auto_now_add=True)
    cleanup = models.CharField(max_length=16, choices=DuplicateCleanup.choices, default=DuplicateCleanup.PENDING)
    cleanup_note = models.CharField(max_length=300, blank=True)
    cost = models.DecimalField(max_digits=10, decimal_places=4, default=0,
                               help_text="The take's estimate, or what the provider reported for this job")
    cost_source = models.CharField(max_length=16, choices=CostSource.choices, default=CostSource.ESTIMATED)

    class Meta:
        ordering = ["found_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["render", "provider_job_id"], name="duplicate_job_once")]

    def __str__(self) -> str:
        return f"Duplicate job {self.provider_job_id} of take {self.render_id}"


def _group_upload_to(group: ShotGroup, filename: str) -> str:
    return f"renders/{group.project.team_id}/{group.project_id}/groups/{group.pk}/{filename}"


class ShotGroup(models.Model):
    """A multi-shot take: consecutive scenes rendered as one provider job, then cut back into one take per
    scene (its parts, Render.shot_group). The job, its key and its cost are its lead part's; the group keeps
    what was asked of the provider, the file it delivered (its manifest intact) and where it was cut."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="shot_groups")
    lead = models.OneToOneField(Render, on_delete=models.CASCADE, null=True, blank=True, related_name="led_group",
                                help_text="The part that carries the provider job and the group's cost")
    recipe = models.JSONField(help_text="What the group asked of the provider: its shots, timings, size, model")
    video = models.FileField(upload_to=_group_upload_to, blank=True, max_length=300,
                             help_text="The whole file as the provider delivered it")
    cuts = models.JSONField(default=dict, blank=True,
                            help_text="Where the file was cut: each boundary booked and found, each part's range")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Multi-shot take {self.pk} ({len(self.recipe.get('shots', []))} shots)"

    @property
    def shots(self) -> list[dict[str, Any]]:
        shots: list[dict[str, Any]] = self.recipe.get("shots", [])  # JSON, as booked
        return shots

    @property
    def scene_words(self) -> str:
        """ "scenes 2–4" as the group's shots number them when booked."""
        numbers = [s["scene"]["number"] for s in self.shots]
        return gettext("scenes %(first)d–%(last)d") % {"first": numbers[0], "last": numbers[-1]} if numbers else ""
