"""Unclear answers to a create: find the job, send it again only when the provider's list keeps
showing nothing, and catch a second job a provider made anyway.

A create answered with a timeout, a 5xx or a connection lost after sending may have made a job,
and a bill. Sending it again at once risks a second job (a gateway that ignores the
Idempotency-Key makes one); giving up loses a take for nothing. So the take waits in CONFIRMING
while the provider's own job list is searched, with growing gaps, over the connection's look-up
window (a slow gateway may list a job minutes after it took the create):

- the job shows: the take adopts it and renders on;
- the list answered and never showed it: the create is sent again, with the same key, up to
  CREATE_ATTEMPTS creates in all. After the last, or when a resend is refused outright, the take
  fails without cost: nothing was made;
- the list cannot be read (the provider cannot list, refuses to, or never answered during the
  window): "Unconfirmed — may be billed", and its cost stays counted.

After any resend the list is watched over one more window for a second job matching the take.
One found is recorded (DuplicateJob, its cost counted in spend) and canceled, or, where the
provider has no cancel, deleted once it has ended; the take keeps the job it renders.

Every look-up is a countdown task that claims its number with a conditional UPDATE, so a
redelivered task does nothing and no worker sits out a window. The stalled-take sweeper
(pipeline.renders_resume_stalled) resumes a window or a watch whose countdown was lost.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext

from generation.models import LOOKUP_WINDOW_DEFAULT, DuplicateCleanup, DuplicateJob, Render, Status
from generation.providers import JobProbe, ProviderError, provider_for
from generation.renders import pipeline
from generation.renders import tasks as render_tasks
from generation.spend import billing
from generation.storage.scratch import scratch_dir
from generation.words import Said, said

if TYPE_CHECKING:
    from generation.providers.base import Provider


log = logging.getLogger(__name__)

CREATE_ATTEMPTS = 3  # creates of one take at most, all with its one key
FIRST_GAP, MAX_GAP = 2.0, 60.0  # seconds between look-ups: doubling from 2 s, at most a minute
CLEANUP_GIVE_UP = timedelta(days=1)  # a duplicate the provider still will not let go of is left alone

# What a take waiting in CONFIRMING says happened (its error_message until it settles), and how it ends when
# the job cannot be found, are coded in generation.words ("take.sent_no_answer", "take.unconfirmed_*", …).

def window(render: Render) -> timedelta:
    connection = render.connection
    seconds = connection.lookup_window_seconds if connection is not None else LOOKUP_WINDOW_DEFAULT
    return timedelta(seconds=seconds)


def _minutes(render: Render) -> str:
    return f"{window(render).total_seconds() / 60:g}"


def _gap(elapsed: float) -> float:
    """Seconds to the next look-up: as long as the look has lasted so far, from 2 s to a minute."""
    return min(MAX_GAP, max(FIRST_GAP, elapsed))


def probe_for(render: Render, *, mine: frozenset[str] = frozenset()) -> JobProbe:
    """What the take asked for, to recognise its job among the provider's recent ones. Jobs other
    takes own (their own or a duplicate of theirs) and `mine` are never a match: takes on any connection
    to the same provider address, for two teams' keys may belong to one account, whose list shows both."""
    since = (render.first_sent_at or render.submitted_at or render.created_at) - pipeline.CLOCK_SKEW
    recipe = render.request_recipe  # a multi-shot take's job asked for its whole group
    params = recipe.get("parameters", {})
    connection = render.connection
    # A take whose connection was removed is looked up with the built-in adapter (provider_for(None)): the jobs
    # it may collide with are those of other such takes of the same provider.
    same_provider: dict[str, object] = (
        {"connection__kind": connection.kind, "connection__base_url": connection.base_url} if connection is not None
        else {"connection__isnull": True, "provider": render.provider})
    owned = set(Render.objects.filter(**same_provider, submitted_at__gte=since)
                .exclude(pk=render.pk).exclude(provider_job_id="").values_list("provider_job_id", flat=True))
    owned |= set(DuplicateJob.objects.filter(**{f"render__{k}": v for k, v in same_provider.items()},
                                             found_at__gte=since)
                 .exclude(render_id=render.pk).values_list("provider_job_id", flat=True))
    return JobProbe(model=render.model, size=str(params.get("size", "")), seconds=int(params.get("seconds") or 0),
                    prompt=recipe.get("prompt", ""), created_after=since,
                    exclude_ids=frozenset(owned | set(mine)),
                    remix_of=(render.recipe.get("remix_of") or {}).get("provider_job_id", ""),
                    extends=render.extension.get("provider_job_id", "") or ("extension" if render.extension else ""),
                    idempotency_key=str(render.idempotency_key))


def find_job(provider: Provider, render: Render, *, mine: frozenset[str] = frozenset()) -> str | None:
    """The take's job in the provider's list, or None. A provider whose list shows each job's input (fal) is
    handed the request the take sends, built again as it was sent (the same frames, fitted the same way)."""
    probe = probe_for(render, mine=mine)
    if not provider.facts.job_listing_shows_input:
        return provider.find_job(probe)
    with scratch_dir("studio-lookup-") as workdir:
        try:
            request = pipeline.request_of(render, Path(workdir))
        except (OSError, ValueError) as exc:  # its inputs are gone: it cannot be recognised, so it is not found
            raise ProviderError(gettext("The take's inputs could not be prepared again to recognise its job: "
                                        "%(error)s") % {"error": exc}, code="invalid_request") from exc
        return provider.find_job(dataclasses.replace(probe, request=request))


def refusal_message(render: Render, provider: Provider, refusal: ProviderError) -> str | Said:
    """A create refused outright; after earlier unclear answers, the list never showed their job."""
    if render.create_attempts > 1:
        return said("take.refused_after_unclear", refusal=refusal.words or refusal.message, provider=provider.name)
    return refusal.words or refusal.message


# --- finding the job after an unclear answer -------------------------------------------------------

def render_recover_submission(render: Render) -> str:
    """A take left SUBMITTING by a worker that died: the create may have reached the provider.

    A provider whose job book is complete (the previz, ComfyUI) answers at once: adopted, or
    "failed" (never created). Any other looks over the connection's window, counted from when the
    create went out. Returns "adopted", "failed", "unconfirmed", "looking", "resent" or "later"."""
    provider = provider_for(render.connection)
    if not provider.facts.job_list_is_complete:
        return render_confirm_begin(render, unclear=said("take.worker_stopped"), answered_at=render.submitted_at)
    try:
        job_id = find_job(provider, render)
    except ProviderError as exc:
        if exc.retryable:  # the next sweep asks again
            log.info("take %s: the provider's job book did not answer (%s)", render.pk, exc.message)
            return "later"
        return _unconfirmed(render, provider, "take.unconfirmed_refused", unclear=said("take.worker_stopped"),
                            detail=exc.words or exc.message)
    if job_id:
        return _adopt(render, job_id)
    render.mark_failed(said("take.never_created"))
    return "failed"


def render_confirm_begin(render: Render, *, unclear: Said, answered_at: datetime | None = None) -> str:
    """The answer to the take's create was unclear (or never came): look for the job from now on.
    The first look is made at once, here; the rest are countdown tasks."""
    now = timezone.now()
    # Counted from the answer (or, after a crash, from when the create went out), never from long ago.
    until = max(answered_at or now, now - window(render)) + window(render)
    # A take sent before the studio counted its creates has sent one, when its submit claim said.
    if not render.advance(Status.CONFIRMING, words=unclear, lookup_until=until, list_answered=False,
                          create_attempts=max(1, render.create_attempts),
                          first_sent_at=render.first_sent_at or render.submitted_at or now,
                          lease_until=now + pipeline.LEASE):
        return "later"  # moved meanwhile (a sweep, a redelivered task)
    return render_look_up(render.pk, seq=render.lookup_count)


def render_look_up(render_id: int, *, seq: int) -> str:
    """One look at the provider's list for a take in CONFIRMING, claimed as look-up number `seq`.

    Returns "adopted", "looking" (another look is scheduled), "resent", "failed", "unconfirmed" or
    "taken" (another delivery of this look-up ran it, or the take moved on)."""
    now = timezone.now()
    if not Render.objects.filter(pk=render_id, status=Status.CONFIRMING, lookup_count=seq).update(
            lookup_count=seq + 1, lease_until=now + pipeline.LEASE):
        return "taken"
    render = pipeline._take(render_id, Status.CONFIRMING, "scene__project")
    if render is None:
        return "taken"
    provider = provider_for(render.connection)
    if not provider.facts.lists_jobs:
        return _unconfirmed(render, provider, "take.unconfirmed_no_list")
    try:
        job_id, answered = find_job(provider, render), True
    except ProviderError as exc:
        if not exc.retryable:  # refused: its silence says nothing about our job
            return _unconfirmed(render, provider, "take.unconfirmed_refused", detail=exc.words or exc.message)
        log.info("take %s: the provider's job list did not answer (%s)", render.pk, exc.message)
        job_id, answered = None, False
    if job_id:
        return _adopt(render, job_id)
    if answered and not render.list_answered:
        Render.objects.filter(pk=render.pk).update(list_answered=True)
        render.list_answered = True
    # A complete job book (the previz, ComfyUI) needs no window: one answer says the job does not exist.
    assert render.lookup_until is not None  # set by render_confirm_begin, with the claim this look holds
    if now < render.lookup_until and not (answered and provider.facts.job_list_is_complete):
        _schedule_look_up(render, seq=seq + 1, now=now)
        return "looking"
    if not render.list_answered:  # the window passed without one answer: its fate cannot be learned
        return _unconfirmed(render, provider, "take.unconfirmed_no_answer")
    if render.create_attempts >= CREATE_ATTEMPTS:
        render.mark_failed(said("take.nothing_made", provider=provider.name, attempts=render.create_attempts,
                                minutes=_minutes(render)))
        return "failed"
    # The list answered all along and never showed the job: nothing was made. Send it again, same key.
    if not render.advance(Status.SUBMITTING, create_attempts=render.create_attempts + 1, submitted_at=now,
                          lease_until=now + pipeline.LEASE):
        return "taken"
    log.info("take %s: no job in the provider's list after an unclear answer; sending create %s",
             render.pk, render.create_attempts, extra={"take_id": render.pk})
    pipeline.render_send(render)
    return "resent"


def _schedule_look_up(render: Render, *, seq: int, now: datetime) -> None:
    assert render.lookup_until is not None  # only a take being looked up is scheduled
    elapsed = (now - (render.lookup_until - window(render))).total_seconds()
    delay = min(_gap(elapsed), (render.lookup_until - now).total_seconds())
    # The lease says when the sweeper may assume the countdown was lost and look itself.
    Render.objects.filter(pk=render.pk, status=Status.CONFIRMING).update(
        lease_until=now + timedelta(seconds=delay) + pipeline.LEASE)
    render_tasks.look_up_render.apply_async((render.pk, seq), countdown=delay)


def _adopt(render: Render, job_id: str) -> str:
    log.info("take %s: adopted job %s found in the provider's list", render.pk, job_id,
             extra={"take_id": render.pk, "provider_job_id": job_id})
    if not render.advance(Status.RUNNING, provider_job_id=job_id, error_message=""):
        return "taken"
    if render.create_attempts > 1:  # the other creates may yet show up as jobs of their own
        watch_begin(render, until=max(render.lookup_until or timezone.now(), timezone.now()))
    pipeline._schedule_poll(render, delay=0)
    return "adopted"


def _unconfirmed(render: Render, provider: Provider, key: str, *, unclear: Said | None = None,
                 detail: str | Said = "") -> str:
    """The take's fate cannot be learned: unconfirmed, its cost kept. `unclear`: what happened to its create,
    by default what the take said while the studio looked (its code, or its stored sentence)."""
    said_before: str | Said = (unclear or (Said.load(render.error_words[0]) if len(render.error_words or []) == 1
                                           else render.error_message))
    render.advance(Status.FAILED, billing_unconfirmed=True, words=said(
        key, unclear=said_before, provider=provider.name, hint=_hint(provider), detail=detail,
        minutes=_minutes(render)))
    return "unconfirmed"


def _hint(provider: Provider) -> str | Said:
    hint = provider.job_listing_hint
    return hint if isinstance(hint, Said) else str(hint)


def render_confirm_crashed(render: Render, exc: Exception) -> None:
    """An unexpected error while looking: the job may exist, so the take is unconfirmed, never refunded."""
    _unconfirmed(render, provider_for(render.connection), "take.unconfirmed_internal", detail=type(exc).__name__)


# --- watching for a second job after a resend --------------------------------------------------------

def watch_begin(render: Render, *, until: datetime) -> None:
    """After a resend: watch the provider's list for a second job of this take until `until`."""
    if not provider_for(render.connection).facts.lists_jobs:
        return
    now = timezone.now()
    Render.objects.filter(pk=render.pk).update(
        watch_until=until, watch_lease_until=now + timedelta(seconds=FIRST_GAP) + pipeline.LEASE)
    render.watch_until = until
    render_tasks.watch_render.apply_async((render.pk, render.watch_count), countdown=FIRST_GAP)


def render_watch(render_id: int, *, seq: int) -> None:
    """One look for a duplicate job of the take, and one step of removing those found (claimed as `seq`)."""
    now = timezone.now()
    if not Render.objects.filter(pk=render_id, watch_count=seq, watch_lease_until__isnull=False).update(
            watch_count=seq + 1, watch_lease_until=now + pipeline.LEASE):
        return
    render = Render.objects.select_related("connection", "scene").get(pk=render_id)
    provider = provider_for(render.connection)
    changed = False
    assert render.watch_until is not None  # set by watch_begin, with the lease this watch holds
    if now <= render.watch_until and render.provider_job_id:
        changed = _find_duplicates(render, provider)
    cleaning, cleaned = _remove_duplicates(render, provider, now=now)
    if changed or cleaned:  # the take card shows what was found and what became of it
        render._publish_change(moved=False)
    if now < render.watch_until:
        elapsed = (now - (render.watch_until - window(render))).total_seconds()
        delay = min(_gap(elapsed), (render.watch_until - now).total_seconds())
    elif cleaning:  # a duplicate still running at a provider without cancel: look again as a poll would
        delay = pipeline.MAX_POLL_DELAY
    else:
        Render.objects.filter(pk=render.pk, watch_count=seq + 1).update(watch_lease_until=None)
        return
    Render.objects.filter(pk=render.pk, watch_count=seq + 1).update(
        watch_lease_until=now + timedelta(seconds=delay) + pipeline.LEASE)
    render_tasks.watch_render.apply_async((render.pk, seq + 1), countdown=delay)


def _find_duplicates(render: Render, provider: Provider) -> bool:
    # A take of the same request still looking for its own job may be the owner of what shows up.
    if (Render.objects.filter(connection_id=render.connection_id, model=render.model,
                              status__in=[Status.SUBMITTING, Status.CONFIRMING],
                              recipe__prompt=render.recipe.get("prompt", ""))
            .exclude(pk=render.pk).exists()):
        return False
    mine = {render.provider_job_id, *render.duplicates.values_list("provider_job_id", flat=True)}
    found = False
    for _attempt in range(CREATE_ATTEMPTS):  # at most one job per create sent
        try:
            job_id = find_job(provider, render, mine=frozenset(mine))
        except ProviderError as exc:
            log.info("take %s: the provider's job list did not answer (%s)", render.pk, exc.message)
            return found
        if not job_id:
            return found
        log.warning("take %s: the provider made a second job %s for it", render.pk, job_id,
                    extra={"take_id": render.pk, "provider_job_id": job_id})
        billing.duplicate_record(render=render, job_id=job_id)
        mine.add(job_id)
        found = True
    return found


def _remove_duplicates(render: Render, provider: Provider, *, now: datetime) -> tuple[bool, bool]:
    """Cancel each duplicate found, or delete it once ended where the provider has no cancel.
    Returns (some are still to remove, some changed now)."""
    cleaning = cleaned = False
    for duplicate in render.duplicates.filter(cleanup=DuplicateCleanup.PENDING):
        try:
            outcome = _remove(render, provider, duplicate)
        except ProviderError as exc:
            if exc.retryable and now - duplicate.found_at < CLEANUP_GIVE_UP:
                cleaning = True
                continue
            outcome = DuplicateCleanup.FAILED
            DuplicateJob.objects.filter(pk=duplicate.pk).update(cleanup_note=exc.message[:300])
        if outcome == DuplicateCleanup.PENDING:
            cleaning = True
        else:
            DuplicateJob.objects.filter(pk=duplicate.pk, cleanup=DuplicateCleanup.PENDING).update(cleanup=outcome)
            cleaned = True
    return cleaning, cleaned


def _remove(render: Render, provider: Provider, duplicate: DuplicateJob) -> str:
    job_id = duplicate.provider_job_id
    if provider.facts.cancels:
        if provider.cancel(job_id):
            return DuplicateCleanup.CANCELED
        DuplicateJob.objects.filter(pk=duplicate.pk).update(
            cleanup_note=gettext("It had already ended at the provider."))
        return DuplicateCleanup.FAILED
    if not provider.facts.deletes_finished:
        return DuplicateCleanup.KEPT
    state = provider.poll(job_id)
    if state.status in ("queued", "running"):  # only a finished job can be deleted
        return DuplicateCleanup.PENDING
    billing.duplicate_record_billed(duplicate=duplicate, render=render, state=state)
    return DuplicateCleanup.DELETED if provider.delete(job_id) else DuplicateCleanup.PENDING


def watches_resume(*, now: datetime) -> int:
    """For the sweeper: watches whose countdown was lost (a worker died) are scheduled again, each
    claimed by a conditional UPDATE of its lease so two sweeps never both resume it."""
    # A watch that keeps failing is let go a day after its window (the duplicates found stay recorded).
    Render.objects.filter(watch_lease_until__lt=now, watch_until__lt=now - CLEANUP_GIVE_UP).update(
        watch_lease_until=None)
    resumed = 0
    for pk, lease, seq in Render.objects.filter(watch_lease_until__lt=now).values_list(
            "pk", "watch_lease_until", "watch_count"):
        if Render.objects.filter(pk=pk, watch_lease_until=lease).update(watch_lease_until=now + pipeline.LEASE):
            render_tasks.watch_render.apply_async((pk, seq), countdown=0)
            resumed += 1
    return resumed

