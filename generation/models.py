"""Renders (takes) and the job book of the built-in previz provider."""

import logging
import secrets
import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import BooleanField, Case, DecimalField, ExpressionWrapper, F, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from generation.events import take_settled
from generation.storage.crypto import decrypt, encrypt
from projects.live import ChangeKind, live_publish_for_project, live_publish_for_scene

log = logging.getLogger("generation.takes")


class InvalidTransition(Exception):
    pass


class Status(models.TextChoices):
    QUEUED = "queued", "Queued"
    SUBMITTING = "submitting", "Submitting"
    # The answer to its create was unclear (a timeout, a 5xx, the connection lost after sending):
    # the studio looks for the job in the provider's list before sending the create again.
    CONFIRMING = "confirming", _("Checking with the provider")
    RUNNING = "running", "Rendering"
    DOWNLOADING = "downloading", "Downloading"
    SUCCEEDED = "succeeded", "Done"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"


TERMINAL = {Status.SUCCEEDED, Status.FAILED, Status.CANCELED}


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
TRANSITIONS = {
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


def _render_upload_to(render, filename):
    return f"renders/{render.scene.project.team_id}/{render.scene.project_id}/{render.pk}/{filename}"


class ProvenanceState(models.TextChoices):
    # The words a chip shows. Only an operator-configured anchor earns "Trusted"; the
    # studio's own local CA is a root it made itself (generation/provenance/credentials.py).
    TRUSTED = "trusted", "Trusted"
    STUDIO = "studio", "Signed by this studio"
    VALID = "valid", "Intact, unknown signer"
    INVALID = "invalid", "Tampered or broken"
    NONE = "none", "No credentials"


class VerdictFingerprint(models.Model):
    """What the stored verdicts were computed with (anchors, studio CA, classifier): one row.

    Kept in the database, not on one machine's disk, so every web and worker host agrees
    whether verdicts need recomputing."""

    fingerprint = models.CharField(max_length=64)
    checked_at = models.DateTimeField(auto_now=True)


class CostSource(models.TextChoices):
    ESTIMATED = "estimated", "Estimated"
    PROVIDER = "provider", "Reported by the provider"


def recorded_cost_expression():
    """A take's recorded cost in SQL: what the provider reported, else the estimate (one rule, one home)."""
    return Coalesce("billed_cost", "cost")


def spent_cost_expression():
    """What a take spent in SQL: its recorded cost plus any duplicate jobs its provider made for it."""
    return recorded_cost_expression() + F("duplicate_cost")


MONEY = DecimalField(max_digits=14, decimal_places=4)


def _share_of_group(expression):
    # A part's share of its multi-shot take's figure (the lead's), by length (Render.cost_share).
    return ExpressionWrapper(expression * F("cost_share"), output_field=MONEY)


def attributed_cost_expression():
    """A take's recorded cost as the spend pages attribute it: a part of a multi-shot take counts its share of
    the group's recorded cost, which is its lead's (recorded once); any other take its own."""
    lead = Coalesce("shot_group__lead__billed_cost", "shot_group__lead__cost")
    return Case(When(shot_group__isnull=True, then=recorded_cost_expression()),
                default=_share_of_group(lead), output_field=MONEY)


def attributed_booked_expression():
    """The catalog estimate a take was booked at, as the spend pages attribute it (a part: its share)."""
    return Case(When(shot_group__isnull=True, then=F("cost")),
                default=_share_of_group(F("shot_group__lead__cost")), output_field=MONEY)


def attributed_estimate_expression():
    """Of attributed_cost_expression, the part that is the catalog's estimate (no provider's figure)."""
    return Case(When(shot_group__isnull=True, billed_cost__isnull=True, then=F("cost")),
                When(shot_group__isnull=False, shot_group__lead__billed_cost__isnull=True,
                     then=_share_of_group(F("shot_group__lead__cost"))),
                default=Value(Decimal(0)), output_field=MONEY)


def attributed_billed_expression():
    """Of attributed_cost_expression, what a provider reported (None when it reported nothing)."""
    return Case(When(shot_group__isnull=True, then=F("billed_cost")),
                default=_share_of_group(F("shot_group__lead__billed_cost")), output_field=MONEY)


# A take whose estimate went back to the budgets: its own flag, or for a part of a multi-shot take, its lead's.
GIVEN_BACK = Q(cost_given_back=True) | Q(shot_group__lead__cost_given_back=True)


# A take one may watch (on the board, in review, in compare, in the cut, through a guest link):
# finished, and not withheld because someone it casts revoked consent. One rule, one home: the
# queryset, the annotation and the instance property below all read this.
WATCHABLE = Q(status=Status.SUCCEEDED, quarantined_at__isnull=True)


class RenderQuerySet(models.QuerySet):
    def watchable(self):
        """Takes anyone on the team, and a guest with a link, may watch."""
        return self.filter(WATCHABLE)

    def on_board(self):
        """Takes whose scene is on the board: a scene in the trash takes its takes off every page with it."""
        return self.filter(scene__trashed_at__isnull=True)

    def with_watchable(self):
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

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status"])]

    def __str__(self):
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
    def request_recipe(self) -> dict:
        """What this take's provider job asks for: its own recipe, or for a multi-shot take's lead, the whole
        group's (every shot)."""
        return self.shot_group.recipe if self.leads_group else self.recipe

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
            return "Unconfirmed — may be billed"
        if self.status == Status.CONFIRMING:
            return self.get_status_display()
        if self.phase == "queued":
            return "Queued"
        if self.phase == "rendering":
            return f"Rendering {self.progress}%" if self.progress else "Rendering"
        return self.get_status_display()

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
        return ProvenanceState(self.provenance_state).label if self.provenance_state else ""

    @property
    def is_watchable(self) -> bool:
        """The WATCHABLE rule for a take already in memory."""
        return self.status == Status.SUCCEEDED and self.quarantined_at is None

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL

    def may_see_quarantined(self, user) -> bool:
        """Withheld takes stay visible only to the people they depict and the team's owners."""
        if self.characters.filter(person=user).exists():
            return True
        return self.scene.project.team.memberships.filter(user=user, role="owner").exists()

    def is_withheld_from(self, user) -> bool:
        """A teammate may open a take's page and files unless it is withheld and they may not see it."""
        return self.quarantined_at is not None and not self.may_see_quarantined(user)

    @property
    def lineage(self) -> str:
        """How this take came about, in words ("" for a first take)."""
        if self.parent_id is None:
            return ""
        parent = self.parent
        if "extend_of" in (self.recipe or {}) and parent.pk == self.extension.get("take", {}).get("id"):
            return gettext("Extension of take %(number)d") % {"number": parent.number}
        if "remix_of" in (self.recipe or {}):
            verb = "Remix"
        elif parent.status in {Status.FAILED, Status.CANCELED}:
            verb = "Retry"
        else:
            verb = "Re-render"  # asked for in a review ("changes requested")
        return f"{verb} of take {parent.number}"

    @property
    def extension(self) -> dict:
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

        model = resolve(self.connection, self.model)
        return bool(model and model.supports_remix)

    def advance(self, to: str, **changes) -> bool:
        """Move to status `to` if the row is still in a state that allows it.

        The check and the write are one conditional UPDATE, so two workers
        racing for the same take cannot both win. Returns False when another
        worker moved the row first; raises when this instance's own status
        can never reach `to`.
        """
        if to not in TRANSITIONS[self.status]:
            raise InvalidTransition(f"A {self.status} take cannot become {to}.")
        before = (self.status, self.progress, self.phase)
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
    FOLLOWED = ("progress", "error_message", "failure_code", "billing_unconfirmed", "submitted_at",
                "provider_started_at", "running_seen_at", "finished_at", "create_attempts", "lookup_until")

    def _parts_follow(self, changes: dict) -> None:
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
        kind = {Status.SUCCEEDED: ChangeKind.TAKE_FINISHED, Status.FAILED: ChangeKind.TAKE_FAILED,
                Status.CANCELED: ChangeKind.TAKE_FAILED}.get(self.status, ChangeKind.TAKE_PROGRESS)
        live_publish_for_scene(kind=kind, scene_id=self.scene_id, take_id=self.pk,
                               data={"status": self.status, "progress": self.progress, "moved": moved})

    def mark_failed(self, message: str, *, code: str = "") -> bool:
        """Fail the take with words the user reads; `code` classifies why (ProviderError.code), if known."""
        return self.advance(Status.FAILED, error_message=message, failure_code=code)


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

    def __str__(self):
        return f"Duplicate job {self.provider_job_id} of take {self.render_id}"


def _group_upload_to(group, filename):
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

    def __str__(self):
        return f"Multi-shot take {self.pk} ({len(self.recipe.get('shots', []))} shots)"

    @property
    def shots(self) -> list[dict]:
        return self.recipe.get("shots", [])

    @property
    def scene_words(self) -> str:
        """ "scenes 2–4" as the group's shots number them when booked."""
        numbers = [s["scene"]["number"] for s in self.shots]
        return gettext("scenes %(first)d–%(last)d") % {"first": numbers[0], "last": numbers[-1]} if numbers else ""


class PrevizJob(models.Model):
    """A job of the built-in previz provider.

    The provider is deliberately shaped like a remote service: submit books a
    job here, a worker task renders it, polls read it back.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    spec = models.JSONField()
    status = models.CharField(max_length=16, default="queued")
    progress = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # A heartbeat: set at claim and at every progress report, so a job whose
    # worker died can be told from one that is merely slow.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"previz job {self.id} ({self.status})"


class ConnectionKind(models.TextChoices):
    LOCAL = "local", "Local previz (built in)"
    OPENAI_VIDEOS = "openai-videos", "OpenAI Videos format (any compatible gateway)"
    REPLICATE = "replicate", "Replicate"
    VEO = "veo", "Google Veo (Gemini API)"
    VERTEX = "vertex", "Google Vertex AI (Veo, service account)"
    FAL = "fal", "fal (queue API)"
    RUNWAY = "runway", "Runway"
    COMFYUI = "comfyui", "ComfyUI (self-hosted)"


class AuthStyle(models.TextChoices):
    BEARER = "bearer", "Authorization: Bearer <key>"
    API_KEY = "api-key", "api-key: <key> (Azure)"


def _webhook_token() -> str:
    return secrets.token_urlsafe(24)


# After an unclear answer to a create, how long the provider's list is searched for the job (seconds;
# generation/renders/lookups.py): a connection's own choice within these bounds.
LOOKUP_WINDOW_MIN, LOOKUP_WINDOW_MAX, LOOKUP_WINDOW_DEFAULT = 30, 3600, 300


class ProviderConnection(models.Model):
    """A team's account at one provider. Keys are encrypted and never shown again."""

    team = models.ForeignKey("projects.Team", on_delete=models.CASCADE, related_name="connections")
    kind = models.CharField(max_length=32, choices=ConnectionKind.choices)
    label = models.CharField(max_length=120)
    base_url = models.URLField(blank=True)
    auth_style = models.CharField(max_length=16, choices=AuthStyle.choices, default=AuthStyle.BEARER)
    api_key_encrypted = models.TextField(blank=True)
    webhook_secret_encrypted = models.TextField(blank=True)
    webhook_token = models.CharField(max_length=64, unique=True, default=_webhook_token)
    # What a provider needs beyond an address and a key, as its adapter's facts ask for it: Google Cloud's
    # {"project", "region", "output_uri" (gs://…, optional), "service_account" (the key's client_email,
    # shown on the card; the key itself is api_key_encrypted)}.
    options = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_tested_at = models.DateTimeField(null=True, blank=True)
    last_test_ok = models.BooleanField(null=True)
    last_test_message = models.CharField(max_length=500, blank=True)
    # After an unclear answer to a create, how long the provider's list is searched for the job before
    # the create is sent again, and watched for a second job after a resend: a slow gateway may list a
    # job minutes after it took the create.
    lookup_window_seconds = models.PositiveIntegerField(
        default=LOOKUP_WINDOW_DEFAULT, validators=[MinValueValidator(LOOKUP_WINDOW_MIN),
                                                   MaxValueValidator(LOOKUP_WINDOW_MAX)],
        help_text=_("Seconds to look for a job in the provider's list after an unclear answer (30–3600)"))

    class Meta:
        ordering = ["kind", "label"]
        constraints = [
            models.UniqueConstraint(fields=["team", "label"], name="connection_label_unique_in_team")
        ]

    def __str__(self):
        return self.label

    def __repr__(self):  # never leak the key into logs
        return f"<ProviderConnection {self.pk} {self.kind} {self.label!r}>"

    @property
    def api_key(self) -> str:
        return decrypt(self.api_key_encrypted)

    def set_api_key(self, value: str) -> None:
        self.api_key_encrypted = encrypt(value)

    @property
    def webhook_secret(self) -> str:
        return decrypt(self.webhook_secret_encrypted)

    def set_webhook_secret(self, value: str) -> None:
        self.webhook_secret_encrypted = encrypt(value)

    @property
    def has_api_key(self) -> bool:
        return bool(self.api_key_encrypted)


class Lifecycle(models.TextChoices):
    AVAILABLE = "available", "Available"
    DEPRECATED = "deprecated", "Deprecated"
    RETIRED = "retired", "Retired"


class ExtendReturns(models.TextChoices):
    WHOLE = "whole", _("the whole clip (the take and its continuation)")
    NEW = "new", _("only the new part")


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

    def __str__(self):
        return f"{self.display_name} ({self.model_id})"

    @property
    def is_retired(self) -> bool:
        return self.lifecycle == Lifecycle.RETIRED

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
            returns = {ExtendReturns.WHOLE: gettext("returns the whole clip"),
                       ExtendReturns.NEW: gettext("returns only the new part")}.get(self.extend_returns, "")
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
        elif self.shots_seconds_min is not None and self.shots_seconds_min > self.shots_seconds_max:
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
    def input_map(self) -> dict:
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
        return [f"{self.display_name} renders {', '.join(self.sizes)}, not {size}."]

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
            allowed = sorted(self.durations)
            if allowed == list(range(allowed[0], allowed[-1] + 1)):
                span = f"{allowed[0]}–{allowed[-1]} seconds"
            else:
                span = ", ".join(str(d) for d in allowed) + " seconds"
            problems.append(f"{self.display_name} renders {span}, not {seconds}.")
        # Some models render their largest sizes only at some lengths (Veo: 1080p only at 8 s).
        only = (self.input_schema or {}).get("durations_by_size", {}).get(size)
        if only and seconds in self.durations and seconds not in only:
            lengths = " or ".join(str(d) for d in sorted(only))
            problems.append(f"{self.display_name} renders {size} only at {lengths} seconds, not {seconds}: "
                            f"choose {lengths} seconds or a smaller size.")
        return problems

    def element_problems(self, sets: list[dict]) -> list[str]:
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
            lengths = " or ".join(str(d) for d in sorted(need["seconds"]))
            problems.append(f"{self.display_name} keeps the cast's likeness only in {lengths}-second takes, "
                            f"not {seconds}: choose {lengths} seconds or another model.")
        if need.get("sizes") and size not in need["sizes"]:
            problems.append(f"{self.display_name} keeps the cast's likeness only at "
                            f"{', '.join(need['sizes'])}, not {size}: choose one of those sizes or another model.")
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

    def __str__(self):
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

    def __str__(self):
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


class FramesRule(models.TextChoices):
    ANY = "any", "Any number of frames"
    EIGHT_N_PLUS_ONE = "8n+1", "8n+1 frames (LTX-Video)"
    FOUR_N_PLUS_ONE = "4n+1", "4n+1 frames (Wan 2.x, HunyuanVideo)"


class ComfyWorkflow(models.Model):
    """A ComfyUI graph (API format) a team uploaded, and which of its inputs the studio fills.

    `inputs` maps a role (prompt, negative_prompt, width, height, length, fps, seed, image: the start
    frame, end_image: the end frame, source_video: the take a workflow extends, shots: a shot list for several
    scenes in one take) to [node_id, input_name]; booked takes render on the catalog entry it registers on the
    connection.
    """

    ROLES = ("prompt", "negative_prompt", "width", "height", "length", "fps", "seed", "image", "end_image",
             "source_video", "shots")

    team = models.ForeignKey("projects.Team", on_delete=models.CASCADE, related_name="comfy_workflows")
    connection = models.ForeignKey(ProviderConnection, on_delete=models.CASCADE, related_name="workflows")
    catalog_model = models.OneToOneField(CatalogModel, on_delete=models.SET_NULL, null=True, blank=True,
                                         related_name="workflow")
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, help_text="The catalog model id this workflow renders as")
    graph = models.JSONField(help_text="The workflow in ComfyUI's API format: {node_id: {class_type, inputs}}")
    inputs = models.JSONField(default=dict, blank=True, help_text="role → [node_id, input_name]")
    frames_rule = models.CharField(max_length=8, choices=FramesRule.choices, default=FramesRule.ANY)
    fps = models.PositiveSmallIntegerField(default=24)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                    blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "slug"], name="comfy_workflow_slug_unique"),
        ]

    def __str__(self):
        return self.name


class WebhookEvent(models.Model):
    """A verified webhook delivery, kept so a replayed one is recognised."""

    connection = models.ForeignKey(ProviderConnection, on_delete=models.CASCADE, related_name="webhook_events")
    webhook_id = models.CharField(max_length=200)
    job_id = models.CharField(max_length=200, blank=True)
    event_type = models.CharField(max_length=100, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "webhook_id"], name="webhook_delivered_once")
        ]


# --- Exports ---------------------------------------------------------------------------------


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Exporting"
    SUCCEEDED = "succeeded", "Ready"
    FAILED = "failed", "Failed"


class PdfLayout(models.TextChoices):
    SCENES = "scenes", "One scene per row (3 a page), with the full prompt"
    GRID = "grid", "Grid of 6 frames a page, with notes"


def _export_upload_to(export, filename):
    return f"exports/{export.project.team_id}/{export.project_id}/{export.pk}/{filename}"


class Export(models.Model):
    """One "export approved cut" click: a stitched MP4, a ZIP for editors, a PDF storyboard and
    a CSV of the review comments."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="exports")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    idempotency_key = models.UUIDField(unique=True, default=uuid.uuid4)
    status = models.CharField(max_length=16, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    error_message = models.TextField(blank=True)
    takes = models.ManyToManyField(Render, blank=True, related_name="exports",
                                   help_text="The approved takes this export contains")
    mp4 = models.FileField(upload_to=_export_upload_to, blank=True, max_length=300)
    zip = models.FileField(upload_to=_export_upload_to, blank=True, max_length=300)
    pdf = models.FileField(upload_to=_export_upload_to, blank=True, max_length=300)
    csv = models.FileField(upload_to=_export_upload_to, blank=True, max_length=300,
                           help_text="The review comments of the exported takes, for producers")
    pdf_layout = models.CharField(max_length=8, choices=PdfLayout.choices, default=PdfLayout.SCENES)
    burn_captions = models.BooleanField(default=False, help_text="The lines' captions drawn into the cut's picture")
    summary = models.JSONField(default=dict, blank=True,
                               help_text="Scenes included and left out, durations, remux or re-encode")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"Export {self.pk} of {self.project} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in {ExportStatus.QUEUED, ExportStatus.RUNNING}

    def withheld_takes(self):
        """Takes in this export whose consent was revoked since: its files must not be handed out."""
        return self.takes.filter(quarantined_at__isnull=False)

    def report_progress(self, percent: int) -> None:
        percent = max(0, min(99, int(percent)))  # 100 means "files stored"
        if Export.objects.filter(pk=self.pk, status=ExportStatus.RUNNING).update(
                progress=percent, updated_at=timezone.now()):
            self.publish_change()
        self.progress = percent

    def mark_failed(self, message: str) -> None:
        if Export.objects.filter(pk=self.pk).exclude(status=ExportStatus.SUCCEEDED).update(
                status=ExportStatus.FAILED, error_message=message, finished_at=timezone.now(),
                updated_at=timezone.now()):
            self.publish_change()
        self.status, self.error_message = ExportStatus.FAILED, message

    def publish_change(self) -> None:
        """The export's row on every open exports page shows its new progress or outcome."""
        live_publish_for_project(kind=ChangeKind.EXPORT_CHANGED, project_id=self.project_id, object_id=self.pk)


class CutImportStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting for a worker")
    READING = "reading", _("Reading the timeline")
    READY = "ready", _("Ready to review")
    FAILED = "failed", _("Could not be read")
    ACCEPTED = "accepted", _("Accepted")


def _cut_import_upload_to(cut_import, filename):
    # Never the uploader's name in the path: it is kept in `filename`, for the page only.
    return f"cut-imports/{cut_import.project.team_id}/{cut_import.project_id}/{uuid.uuid4().hex}.timeline"


class CutImport(models.Model):
    """An editor's cut brought back: the timeline file as uploaded, what a worker read in it (the diff
    against the board, generation/exports/cut_import.py) and, once someone accepted some of it, the
    board revision that made."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="cut_imports")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   related_name="+")
    idempotency_key = models.UUIDField(unique=True, default=uuid.uuid4)
    upload = models.FileField(upload_to=_cut_import_upload_to, max_length=300)
    filename = models.CharField(max_length=200, help_text="The file's name as uploaded (shown, never used as a path)")
    size = models.BigIntegerField(default=0)
    kind = models.CharField(max_length=16, blank=True, help_text="otio, edl, fcp_xml or fcpxml, from its content")
    status = models.CharField(max_length=16, choices=CutImportStatus.choices, default=CutImportStatus.QUEUED)
    error_message = models.TextField(blank=True)
    timeline_name = models.CharField(max_length=200, blank=True)
    diff = models.JSONField(default=dict, blank=True, help_text="The changes read, against the board when read")
    accepted_changes = models.JSONField(default=list, blank=True, help_text="The ids of the changes accepted")
    revision = models.ForeignKey("projects.BoardRevision", on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+")
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    accepted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"Cut import {self.pk} of {self.project_id} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in {CutImportStatus.QUEUED, CutImportStatus.READING}

    def mark_failed(self, message: str) -> None:
        """It could not be read: the message names the line or clip. Nothing on the board changed."""
        if CutImport.objects.filter(pk=self.pk, status__in=[CutImportStatus.QUEUED, CutImportStatus.READING]).update(
                status=CutImportStatus.FAILED, error_message=message, updated_at=timezone.now()):
            self.publish_change()
        self.status, self.error_message = CutImportStatus.FAILED, message

    def publish_change(self) -> None:
        """Its status region on every open page of it shows what the worker found."""
        live_publish_for_project(kind=ChangeKind.CUT_IMPORT_CHANGED, project_id=self.project_id, object_id=self.pk)


class WorkerHeartbeat(models.Model):
    """When each Celery worker last ran a task: /healthz reports a worker alive from it.

    Written by a periodic task a worker has to take off the broker, so a fresh
    heartbeat also says the broker delivers.
    """

    hostname = models.CharField(max_length=200, primary_key=True)
    seen_at = models.DateTimeField()

    def __str__(self):
        return f"{self.hostname} seen {self.seen_at:%Y-%m-%d %H:%M:%S}"


class ReconciliationRun(models.Model):
    """An owner's comparison of a provider's usage export with the takes the studio recorded.

    The parsed rows and the differences found are kept as they were on that day, so a run can be
    reopened later (and compared with a newer one) even after takes changed."""

    team = models.ForeignKey("projects.Team", on_delete=models.CASCADE, related_name="reconciliations")
    provider = models.CharField(max_length=32, choices=ConnectionKind.choices)
    period_start = models.DateField()
    period_end = models.DateField()
    csv_shape = models.CharField(max_length=16, help_text="generic or replicate")
    rows = models.JSONField(default=list, help_text="The usage rows as parsed: job_id, model, billed_usd, created_at")
    result = models.JSONField(default=dict, help_text="Matches and differences found (generation/spend/reconcile.py)")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"Reconciliation {self.pk} of {self.get_provider_display()} {self.period_start}–{self.period_end}"
