"""The worker side of a take: submit, poll, finish, and recovery after a crash.

Celery tasks call these with ids. Every status change goes through
Render.advance, a conditional UPDATE, so a task delivered twice or two workers
racing never do the work twice.
"""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from PIL import Image

from generation import catalog
from generation.models import ProviderCharacter, Render, Status
from generation.previz import animatic
from generation.previz import jobs as previz
from generation.previz import tasks as previz_tasks
from generation.provenance import credentials as provenance
from generation.provenance import take_signing
from generation.providers import (
    CharacterSet,
    ExtendRequest,
    ProviderError,
    RenderRequest,
    Shot,
    adapter_class,
    provider_for,
    webhook_url_for,
)
from generation.providers.base import JobState
from generation.renders import continuity, delivery, joining, lookups, shot_parts
from generation.renders import tasks as render_tasks
from generation.spend import billing
from generation.storage.scratch import FinishedFile, scratch_dir
from generation.words import Said, english, said
from projects.characters.consent import cast_problems
from projects.models import Character

if TYPE_CHECKING:

    from generation.providers.base import Provider


log = logging.getLogger(__name__)


def render_crashed(render_id: int, exc: Exception) -> None:
    """An unexpected error in a task: fail the take with words the user can act on."""
    render = Render.objects.filter(pk=render_id).first()
    if render is None or render.is_terminal:
        return
    if render.status == Status.SUBMITTING:  # the create may have reached the provider
        lookups.render_recover_submission(render)
    elif render.status == Status.CONFIRMING:  # the job may exist: never give its cost back on a guess
        lookups.render_confirm_crashed(render, exc)
    else:
        render.mark_failed(said("take.internal_error", error=type(exc).__name__))


# What a canceled take says when its provider cannot stop the job (services.render_cancel), and once
# the provider's copy is gone (words stored before the codes: their English is replaced).
WILL_DELETE = "; the studio will delete its copy."
DELETED = "; the studio deleted its copy when the job ended."


def render_cancel_at_provider(render_id: int) -> None:
    """After a take was canceled: the provider's cancel where it has one; where it has none, the
    job runs on and this looks again until it has ended, then deletes the provider's copy.
    Safe to run any number of times: a copy already gone counts as deleted."""
    render = (Render.objects.select_related("connection").filter(pk=render_id, status=Status.CANCELED)
              .exclude(provider_job_id="").first())
    if render is None:
        return
    provider = provider_for(render.connection)
    if render.provider_cleanup != "pending":
        if provider.facts.cancels:
            try:
                provider.cancel(render.provider_job_id)
            except ProviderError as exc:
                log.warning("provider cancel failed for take %s: %s", render_id, exc.message)
        return
    try:
        state = provider.poll(render.provider_job_id)
        gone = state.status not in ("queued", "running") and provider.delete(render.provider_job_id)
    except ProviderError as exc:
        if exc.retryable:
            _schedule_cleanup(render, delay=exc.retry_after or MAX_POLL_DELAY)
        else:
            log.warning("take %s: the provider's copy could not be deleted: %s", render_id, exc.message)
            Render.objects.filter(pk=render.pk, provider_cleanup="pending").update(provider_cleanup="failed")
        return
    if not gone:  # still running: look again around when it should end
        _schedule_cleanup(render, delay=next_poll_delay(render, poll_after=state.poll_after))
        return
    with transaction.atomic():
        row = Render.objects.select_for_update().filter(pk=render.pk, provider_cleanup="pending").first()
        if row is not None:
            # The stored sentence moves from "will delete" to "deleted", in the codes as in the English.
            words = [dict(w, key="take.no_cancel_deleted") if w.get("key") == "take.no_cancel_will_delete" else w
                     for w in row.error_words or []]
            message = (english([Said.load(w) for w in words]) if words
                       else row.error_message.replace(WILL_DELETE, DELETED))
            Render.objects.filter(pk=row.pk).update(provider_cleanup="done", error_message=message, error_words=words)
    log.info("take %s: deleted the provider's copy of canceled job %s", render_id, render.provider_job_id,
             extra={"take_id": render_id, "provider_job_id": render.provider_job_id})


def _schedule_cleanup(render: Render, *, delay: float) -> None:
    # The lease says when the sweeper may assume the countdown was lost and look itself.
    Render.objects.filter(pk=render.pk, provider_cleanup="pending").update(
        lease_until=timezone.now() + timedelta(seconds=delay) + LEASE)
    render_tasks.cancel_at_provider.apply_async((render.pk,), countdown=delay)


def _take(render_id: int, status: str, *related: str) -> Render | None:
    """The take if it is still in `status`, with the rows this step reads, in one SELECT.

    Tasks run by the hundred, and on a small box building a query costs more than
    running it: one query instead of three, and get() rather than first(), which
    would sort by Render's default ordering for nothing.
    """
    try:
        return (Render.objects.select_related("connection", *related)
                .get(pk=render_id, status=status))
    except Render.DoesNotExist:
        return None


def _request_for(render: Render, workdir: Path) -> RenderRequest:
    recipe = render.request_recipe  # a multi-shot take's lead asks for every shot of its group
    params = recipe["parameters"]
    input_reference = end_frame = None
    # The start frame: a frame of another take (continuity), else the scene's reference image; the end frame.
    # Each fitted at submit, from the original the take pinned, to the exact size asked.
    start = recipe.get("start_frame") or recipe.get("reference_image")
    if start:
        input_reference = workdir / "reference.png"
        input_reference.write_bytes(continuity.fitted(start["original"], size=params["size"], fit=start["fit"]))
    if recipe.get("end_frame"):
        end_frame = workdir / "end.png"
        end_frame.write_bytes(continuity.fitted(recipe["end_frame"]["original"], size=params["size"],
                                                fit=recipe["end_frame"]["fit"]))
    character_images = []
    for index, name in enumerate(recipe.get("character_images", [])):
        path = workdir / f"character-{index}{Path(name).suffix}"
        with default_storage.open(name, "rb") as image, path.open("wb") as out:
            shutil.copyfileobj(image, out, 1 << 20)
        character_images.append(path)
    character_sets = []
    for index, entry in enumerate(recipe.get("character_sets", [])):
        paths = []
        for view, name in enumerate(entry["images"]):
            path = workdir / f"element-{index}-{view}{Path(name).suffix}"
            with default_storage.open(name, "rb") as image, path.open("wb") as out:
                shutil.copyfileobj(image, out, 1 << 20)
            paths.append(path)
        character_sets.append(CharacterSet(name=entry["name"], images=tuple(paths)))
    # Beyond the wire format, only what the model's catalog entry declares today.
    model = catalog.resolve(render.connection, render.model) if render.connection_id else None
    schema = (model.input_schema or {}) if model else {}
    declared = frozenset(k for k in schema if k not in ("extra", "storyboard", "wire"))
    shots = tuple(Shot(prompt=shot["prompt"], seconds=int(shot["seconds"]), start=int(shot["start"]),
                       title=shot["scene"]["title"], scene_number=int(shot["scene"]["number"]),
                       camera_notes=shot.get("camera_notes", "")) for shot in recipe.get("shots", []))
    scene = recipe["shots"][0]["scene"] if shots else recipe["scene"]
    return RenderRequest(
        provider_characters=tuple(_provider_character_ids(render)) if "characters" in declared else (),
        declared_fields=declared, extra_fields=tuple(model.extra_fields.items()) if model else (),
        # A model added from its provider's published schema: how its inputs are named and written.
        input_map=model.input_map if model else {},
        idempotency_key=str(render.idempotency_key), generate_audio=model.has_audio if model else None,
        prompt=recipe["prompt"], model=render.model, seconds=int(params["seconds"]),
        size=params["size"], title=scene["title"],
        scene_number=int(scene["number"]), camera_notes=params.get("camera_notes", ""),
        recipe=recipe, input_reference=input_reference, end_frame=end_frame,
        character_images=tuple(character_images), character_sets=tuple(character_sets), shots=shots, shot_timing=recipe.get("shot_timing", "") if shots else "",
        shots_field=str(schema.get("storyboard", "")) if shots else "",
    )


def request_of(render: Render, workdir: Path) -> RenderRequest | ExtendRequest | None:
    """What the take's create sends (None for a remix, which sends only its prompt), its files in `workdir`:
    for the send, and again for a provider that recognises a lost job by its whole input (lookups.py)."""
    if render.recipe.get("remix_of"):
        return None
    return joining.extend_request_for(render, workdir) if render.extension else _request_for(render, workdir)


def _provider_character_ids(render: Render) -> list[str]:
    """The provider's ids for the take's native characters, created once per connection."""
    ids = []
    for entry in render.recipe.get("native_characters", []):
        known = ProviderCharacter.objects.filter(connection=render.connection, character_id=entry["id"]).first()
        if known is None:
            character = Character.objects.get(pk=entry["id"])
            if not character.reference_video.name:
                raise ProviderError(said("take.no_reference_video", name=character.name), code="invalid_request")
            with scratch_dir("studio-character-") as tmp:
                video = Path(tmp) / "reference.mp4"
                # Up to 100 MB: copied in chunks, never held in memory whole.
                with default_storage.open(character.reference_video.name, "rb") as source, \
                        video.open("wb") as out:
                    shutil.copyfileobj(source, out, 1 << 20)
                provider_id = provider_for(render.connection).create_character(name=character.name, video=video)
            known, _ = ProviderCharacter.objects.get_or_create(
                connection=render.connection, character=character,
                defaults={"provider_character_id": provider_id})
        ids.append(known.provider_character_id)
    return ids


def render_submit(render_id: int) -> None:
    render = _take(render_id, Status.QUEUED, "scene__project", "shot_group")
    if render is not None and render.follows_group:  # its group's lead sends the one job for every shot
        return
    now = timezone.now()
    # submitted_at from the claim: a crash after the create leaves when to look for the job.
    if render is None or not render.advance(Status.SUBMITTING, submitted_at=now, first_sent_at=now, create_attempts=1,
                                            lease_until=now + LEASE):
        return  # already submitted by an earlier delivery of this task
    render_send(render)


def render_send(render: Render) -> None:
    """Send the create of a take this worker claimed (SUBMITTING): the first one, or a resend after
    the provider's list stayed empty (lookups.py), always with the take's own Idempotency-Key."""
    # Consent is checked again right before the provider call: a take queued
    # before a revocation must never be sent after it.
    # A multi-shot take's one job shows everyone cast in any of its scenes: every consent must hold.
    people = (Character.objects.filter(renders__shot_group_id=render.shot_group_id).distinct()
              if render.leads_group else render.characters.all())
    refused = cast_problems(people, project=render.scene.project, provider_kind=render.provider)
    if refused:
        render.advance(Status.CANCELED, words=said("take.consent_revoked", why=" ".join(refused)))
        return
    provider = provider_for(render.connection)
    answer: ProviderError | None = None
    with scratch_dir("studio-submit-") as workdir, _lease_kept(render):
        try:
            request = request_of(render, Path(workdir))
        except ProviderError as exc:  # creating a native character failed
            render.mark_failed(said("take.character_refused", why=exc.words or exc.message))
            return
        except (OSError, ValueError) as exc:
            render.mark_failed(said("take.inputs_unprepared", why=str(exc)))
            return
        try:
            job_id = _create(provider, render, request)
        except ProviderError as exc:
            answer = exc
    if answer is not None:
        if answer.code != "timeout":  # a refusal: nothing was created by this create
            render.mark_failed(lookups.refusal_message(render, provider, answer))
        else:  # sent, and the answer lost or a gateway error: the job may exist; look before any resend
            log.info("take %s: unclear answer to create %s: %s", render.pk, render.create_attempts, answer.message,
                     extra={"take_id": render.pk})
            lookups.render_confirm_begin(render, unclear=said("take.sent_no_answer", provider=provider.name))
        return
    now = timezone.now()
    if render.advance(Status.RUNNING, provider_job_id=job_id, submitted_at=now):
        if render.create_attempts > 1:  # an earlier create may yet show up as a second job
            lookups.watch_begin(render, until=now + lookups.window(render))
        _schedule_poll(render, delay=next_poll_delay(render))


def _create(provider: Provider, render: Render, request: RenderRequest | ExtendRequest | None) -> str:
    """`request`: None for a remix (the provider remixes its own video), else what render_send prepared."""
    remix_of = render.recipe.get("remix_of")
    if remix_of:
        return provider.remix(remix_of["provider_job_id"], render.recipe["prompt"],
                              idempotency_key=str(render.idempotency_key))
    if isinstance(request, ExtendRequest):
        return provider.extend(request)
    if request is None:
        raise ValueError(f"take {render.pk}: nothing prepared to send")
    return provider.submit(request)


# A take's step is "in hand" while its lease runs: a worker sending or downloading renews it
# every few seconds, a scheduled poll holds it until just after the poll is due. A take past
# its lease lost its worker (kill -9, a lost countdown) and is resumed by the next sweep, so
# after a crash every take moves again within LEASE + SWEEP_EVERY of a worker being back.
# Both are settings (30 s and 15 s unless the deployment sets them), read once, when a process starts.
LEASE = timedelta(seconds=settings.RENDER_LEASE_SECONDS)
LEASE_RENEW_EVERY = settings.RENDER_LEASE_SECONDS / 3
SWEEP_EVERY = float(settings.RENDER_SWEEP_SECONDS)  # settings.CELERY_BEAT_SCHEDULE runs the sweeper this often
CLOCK_SKEW = timedelta(minutes=2)  # a provider's clock may run behind ours


@contextmanager
def _lease_kept(render: Render) -> Iterator[None]:
    """Renew the take's lease from a thread while this worker is busy with it (a slow create,
    a long download); a worker killed with -9 stops renewing and the lease runs out."""
    done, status = threading.Event(), render.status

    def renew() -> None:
        try:
            while not done.wait(LEASE_RENEW_EVERY):
                Render.objects.filter(pk=render.pk, status=status).update(lease_until=timezone.now() + LEASE)
        except Exception as exc:  # the lease then simply runs out: never fail the take for it
            log.warning("take %s: lease renewal stopped: %r", render.pk, exc)
        finally:
            db_connection.close()

    thread = threading.Thread(target=renew, name=f"lease-take-{render.pk}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(timeout=5)


def _schedule_poll(render: Render, *, delay: float) -> None:
    Render.objects.filter(pk=render.pk, status=Status.RUNNING).update(
        lease_until=timezone.now() + timedelta(seconds=delay) + LEASE)
    render_tasks.poll_render.apply_async((render.pk,), countdown=delay)


def lease_extend(render_id: int, *, seconds: float) -> None:
    Render.objects.filter(pk=render_id).exclude(status__in=[Status.SUCCEEDED, Status.FAILED, Status.CANCELED]).update(
        lease_until=timezone.now() + timedelta(seconds=seconds) + LEASE)


# Poll schedule. A provider job takes roughly as long as the last few of the
# same model took, so poll around that moment instead of on a blind backoff:
# a few progress checks before it (the progress bar moves), one right at the
# expected end, then every 2.5 % of the expectation just after it, then ever
# more patiently if it runs late. A job that ends on time is seen within a
# poll or two of its end, in at most 8 polls.
# A provider that reports no job time (Veo, Runway: ProviderFacts.reports_job_time) is
# learned from the midpoint of the last poll that saw the job running and the one
# that saw it done (_provider_done_at). Between checks at 0.75 and 1 × E, a job
# ending just before E would teach 0.875 E, and the next takes would then be
# polled every 2.5 % from there to their real end: 9–13 polls. One more check at
# 0.9 E halves that gap, so the expectation stays within ~5 % below the real time,
# in 5–8 polls per take. Providers that report their job time learn it exactly:
# for them a fifth check would only cost a poll.
DEFAULT_EXPECTED_SECONDS = {"local": 2.0}
REMOTE_EXPECTED_SECONDS = 60.0
CHECKPOINTS = (0.25, 0.5, 0.75, 1.0)
UNTIMED_CHECKPOINTS = (0.25, 0.5, 0.75, 0.9, 1.0)
LATE_STEP = 0.025  # of the expectation, just after the expected end…
LATE_GROWTH = 0.25  # …or this share of the overrun, when that is longer
MIN_POLL_DELAY, MAX_POLL_DELAY = 0.3, 30.0
WEBHOOK_FALLBACK_DELAY = 60.0


def expected_seconds(render: Render) -> float:
    """Median provider time of the last 20 finished takes of this connection and model."""
    # Provider time only (submit → the provider's own finish, see _provider_done_at):
    # neither a late poll nor our download queue may teach the schedule that jobs
    # are slower than they are.
    recent = (
        Render.objects.filter(connection_id=render.connection_id, model=render.model,
                              status=Status.SUCCEEDED, submitted_at__isnull=False,
                              provider_done_at__isnull=False)
        .order_by("-provider_done_at").values_list("submitted_at", "provider_done_at")[:20]
    )
    times = sorted((done - start).total_seconds() for start, done in recent if done and start)
    if times:
        return max(0.5, times[len(times) // 2])
    if render.provider in DEFAULT_EXPECTED_SECONDS:
        return DEFAULT_EXPECTED_SECONDS[render.provider]
    # Nothing timed yet: what the catalog says this model usually takes, not a blind minute.
    model = catalog.resolve(render.connection, render.model) if render.connection_id else None
    if model is not None and model.typical_seconds:
        return float(model.typical_seconds)
    return REMOTE_EXPECTED_SECONDS


def next_poll_delay(render: Render, *, poll_after: float | None = None, now: datetime | None = None) -> float:
    if poll_after:  # the provider asked (openai-poll-after-ms)
        return min(MAX_POLL_DELAY, max(MIN_POLL_DELAY, poll_after))
    expected = expected_seconds(render)
    if render.connection_id and webhook_url_for(render.connection):
        # The webhook will nudge us; this is only a safety net, but a lost webhook must not leave
        # a ten-second job unseen for a minute: at most twice the expected time apart.
        return max(MIN_POLL_DELAY, min(WEBHOOK_FALLBACK_DELAY, 2 * expected))
    elapsed = ((now or timezone.now()) - (render.submitted_at or render.created_at)).total_seconds()
    upcoming = [c * expected for c in _checkpoints(render) if c * expected > elapsed + MIN_POLL_DELAY / 2]
    if upcoming:
        delay = upcoming[0] - elapsed
    else:  # at or past the expected end: close together, then growing with the overrun
        delay = max(LATE_STEP * expected, LATE_GROWTH * (elapsed - expected))
    return min(MAX_POLL_DELAY, max(MIN_POLL_DELAY, delay))


def _checkpoints(render: Render) -> tuple[float, ...]:
    kind = render.connection.kind if render.connection is not None else "local"  # as provider_for builds it
    return CHECKPOINTS if adapter_class(kind).facts.reports_job_time else UNTIMED_CHECKPOINTS


def render_poll(render_id: int) -> None:
    """Ask the provider how the job is doing, and finish the take the moment it succeeded.

    Finishing here rather than in a task of its own: results expire, and another task
    would only add a trip through the broker and a second lookup. A download that should
    be tried again raises TryAgainLater, for the calling task to schedule.
    """
    # With the scene and project too: when the job is done, the same row finishes it.
    render = _take(render_id, Status.RUNNING, "scene__project")
    if render is None:
        return
    provider = provider_for(render.connection)
    Render.objects.filter(pk=render.pk).update(poll_count=F("poll_count") + 1)
    try:
        state = provider.poll(render.provider_job_id)
    except ProviderError as exc:
        if exc.retryable:
            _schedule_poll(render, delay=exc.retry_after or next_poll_delay(render))
        else:
            render.mark_failed(exc.words or exc.message, code=exc.code)
        return
    if state.status in {"succeeded", "failed", "canceled"}:  # a job that ended says what it cost, where it does
        billing.take_record_billed(render=render, state=state)
    if state.status == "succeeded":
        done_at = _provider_done_at(render, state)
        if render.advance(Status.DOWNLOADING, progress=100, provider_done_at=done_at,
                          lease_until=timezone.now() + LEASE):
            _finish(render, final_attempt=False)
    elif state.status == "failed":
        render.mark_failed(state.error or said("take.failed_without_reason"), code=state.error_code)
    elif state.status == "canceled":
        render.advance(Status.CANCELED, words=said("take.canceled_at_provider"))
    elif render.advance(Status.RUNNING, progress=max(render.progress, min(99, state.progress)),
                        running_seen_at=timezone.now(), **_started(render, state)):
        _schedule_poll(render, delay=next_poll_delay(render, poll_after=state.poll_after))


def _started(render: Render, state: JobState) -> dict[str, Any]:
    """The first poll that sees the provider working on the job (not queueing it) marks it started."""
    if render.provider_started_at is None and (state.status == "running" or state.progress):
        return {"provider_started_at": timezone.now()}
    return {}


def _provider_done_at(render: Render, state: JobState) -> datetime:
    """When the job finished, on our clock. The schedule learns from this, so it must not
    include how late we looked: submit + the provider's own job time when it says; else the
    midpoint between the last poll that saw the job running and this one that sees it done."""
    now = timezone.now()
    if render.submitted_at is None:
        return now
    if state.provider_seconds is None:
        # Learning "now" would be a fixed point above the truth: with checkpoints at 0.75 and
        # 1 × the expectation E, any E up to 4/3 of the real time sees every job at E, and
        # learns E again (bench/README.md, Veo and Runway). The midpoint errs by at most half
        # the gap between two polls, either way, so the expectation closes in on the real time.
        # A webhook's nudge sees the job done as it ends: then now is the better guess.
        if render.connection_id and webhook_url_for(render.connection):
            return now
        last_running = max(render.running_seen_at or render.submitted_at, render.submitted_at)
        return last_running + (now - last_running) / 2
    # The provider's clock starts before ours (it answered the create first), so this
    # errs late by about one round trip, plus or minus the provider's rounding to
    # whole seconds; and it is never in the future.
    return min(now, render.submitted_at + timedelta(seconds=state.provider_seconds))


def _provider_thumbnail(provider: Provider, render: Render, dest: Path) -> bool:
    """The provider's own thumbnail as our JPEG; False (use a frame of the video) if unusable."""
    raw = dest.with_name("provider-thumbnail")
    try:
        provider.download(render.provider_job_id, "thumbnail", raw)
        with Image.open(raw) as image:
            image.convert("RGB").save(dest, format="JPEG", quality=85)
        return True
    except (ProviderError, OSError, ValueError) as exc:
        log.info("take %s: provider thumbnail unusable (%s); using a frame", render.pk, exc)
        return False


def _delivery_problems(render: Render, facts: dict[str, Any], *, seconds: float | None = None) -> list[str]:
    """`seconds`: how long the kept clip should play, when not the booked seconds (an extension's whole clip)."""
    params = render.recipe.get("parameters", {})
    model = catalog.resolve(render.connection, render.model) if render.connection_id else None
    problems = delivery.delivery_problems(
        facts, size=params.get("size", "0x0"),
        seconds=float(seconds if seconds is not None else params.get("seconds") or 0),
        audio_expected=bool(model and model.has_audio))
    if problems:
        log.warning("take %s delivered other than booked: %s", render.pk, "; ".join(problems),
                    extra={"take_id": render.pk, "delivery_problems": problems})
    return problems


def _whole_clip(render: Render, delivered: Path, workdir: Path) -> joining.WholeClip | None:
    """An extension's whole clip (joining.whole_clip), or None once the take failed saying why."""
    number = render.extension["take"]["number"]
    try:
        return joining.whole_clip(render, delivered, workdir)
    except ValueError as exc:
        render.mark_failed(said("take.not_joined", take=number, why=str(exc)))
    except OSError as exc:
        render.mark_failed(said("take.extended_unreadable", take=number, why=str(exc.strerror or exc)))
    return None


class TryAgainLater(Exception):
    """A transient failure the calling task should retry (bounded) before giving up."""

    def __init__(self, retry_after: float | None = None):
        super().__init__("try again later")
        self.retry_after = retry_after


def render_finish(render_id: int, *, final_attempt: bool = True) -> None:
    """Copy the result to our storage, read its provenance, attach it to the take.

    Provider results expire (Replicate ~1 h), so this runs the moment a job
    succeeds; a cut-off or refused download is retried a few times first.
    """
    render = _take(render_id, Status.DOWNLOADING, "scene__project", "shot_group")
    if render is not None:
        _finish(render, final_attempt=final_attempt)


def _finish(render: Render, *, final_attempt: bool) -> None:
    if render.leads_group:  # a multi-shot take: one file, cut back into one take per scene
        _finish_group(render, final_attempt=final_attempt)
        return
    provider = provider_for(render.connection)
    with scratch_dir("studio-take-") as tmp, _lease_kept(render):
        video_path, thumb_path = Path(tmp) / "video.mp4", Path(tmp) / "thumbnail.jpg"
        whole = None
        try:
            provider.download(render.provider_job_id, "video", video_path)
            if render.extension:  # the whole clip is kept, however the provider returned it
                whole = _whole_clip(render, video_path, Path(tmp))
                if whole is None:
                    return
            clip = whole.path if whole else video_path
            facts = delivery.delivered_facts(clip)
            duration = facts["duration"]
            # A provider's thumbnail of an extension may show only the new part: a frame of the clip kept instead.
            if whole or not (provider.has_thumbnail and _provider_thumbnail(provider, render, thumb_path)):
                animatic.extract_thumbnail(clip, thumb_path, exact=False)
        except ProviderError as exc:
            if exc.retryable and not final_attempt:
                raise TryAgainLater(exc.retry_after)
            render.mark_failed(exc.words or exc.message, code=exc.code)  # "expired": the job finished, and was billed
            return
        except ValueError:
            render.mark_failed(said("take.not_a_video"))
            return
        except OSError as exc:
            render.mark_failed(said("take.not_stored", why=str(exc.strerror or exc)))
            return
        report = provenance.read_with_settings(video_path)
        if whole is None:
            problems = _delivery_problems(render, facts)
        else:  # an extension: what the provider delivered, the new part or the whole clip
            checked = facts if whole.checked == clip else delivery.delivered_facts(whole.checked)
            problems = _delivery_problems(render, checked, seconds=whole.checked_seconds)
        # The provider's verdict (above) is what the take shows; what is kept is the studio's copy,
        # whose own manifest says what these checks found.
        kept = take_signing.take_sign(render=render, video=clip, read=report, container=facts["container"],
                                      checks=provenance.TakeChecks.of(report, delivery_problems=problems),
                                      extension=whole.extension if whole else None)
        try:
            with kept.path.open("rb") as video, thumb_path.open("rb") as thumb:
                render.video.save("video.mp4", FinishedFile(video), save=False)
                render.thumbnail.save("thumbnail.jpg", FinishedFile(thumb), save=False)
        except Exception as exc:  # a full disk, an unreachable bucket: usually passes
            log.warning("take %s: storing the result failed: %r", render.pk, exc)
            for field in (render.video, render.thumbnail):
                if field:
                    field.delete(save=False)
            if not final_attempt:
                raise TryAgainLater()
            render.mark_failed(said("take.storage_refused"))
            return
    won = render.advance(
        Status.SUCCEEDED,
        delivered=facts,
        delivery_problems=problems,
        video=render.video.name,
        thumbnail=render.thumbnail.name,
        duration_seconds=duration,
        join_seconds=whole.join_seconds if whole else None,
        **provenance.take_fields(report, summary=kept.summary),
    )
    if not won:  # canceled meanwhile: do not keep orphaned files
        render.video.delete(save=False)
        render.thumbnail.delete(save=False)


def _finish_group(lead: Render, *, final_attempt: bool) -> None:
    """The group's one file: downloaded, cut into its parts (shot_parts.py), and every part finished."""
    provider = provider_for(lead.connection)
    with scratch_dir("studio-group-") as tmp, _lease_kept(lead):
        video_path = Path(tmp) / "group.mp4"
        try:
            provider.download(lead.provider_job_id, "video", video_path)
            cut = shot_parts.parts_cut(lead, video_path, Path(tmp))
        except ProviderError as exc:
            if exc.retryable and not final_attempt:
                raise TryAgainLater(exc.retry_after)
            lead.mark_failed(exc.words or exc.message, code=exc.code)  # "expired": the job finished, and was billed
            return
        except shot_parts.NotStored:
            if not final_attempt:
                raise TryAgainLater()
            lead.mark_failed(said("take.storage_refused"))
            return
        except ValueError as exc:  # not a video, or not one that can be cut into the booked shots
            lead.mark_failed(said("take.not_cut", why=str(exc)))
            return
        except OSError as exc:
            lead.mark_failed(said("take.not_stored", why=str(exc.strerror or exc)))
            return
    shot_parts.parts_finish(lead, cut)


# For takes without a lease (booked before leases existed, or queued and not yet taken):
# how long one may sit in a status, with no task touching it, before its worker is presumed dead.
STALL_AFTER: dict[str, timedelta] = {
    Status.QUEUED: timedelta(seconds=30),  # resubmitting a queued take is safe (the claim stops doubles)
    Status.SUBMITTING: timedelta(minutes=5),
    Status.CONFIRMING: timedelta(minutes=5),  # a look-up due: its countdown holds the lease
    Status.RUNNING: timedelta(minutes=2),
    Status.DOWNLOADING: timedelta(minutes=10),
    Status.CANCELED: timedelta(minutes=2),  # a provider copy still to delete (provider_cleanup)
}
PREVIZ_STALL_AFTER = timedelta(minutes=3)


def renders_resume_stalled(*, now: datetime | None = None) -> dict[str, int]:
    """Pick up takes whose worker died, without ever submitting one twice.

    Each stalled take is claimed first by extending its lease with a conditional UPDATE, so
    two sweeps running at once never both resume it, and a live worker (renewing its lease)
    never has its take taken away.
    """
    now = now or timezone.now()
    counts = {"resubmitted": 0, "adopted": 0, "unconfirmed": 0, "failed": 0, "looking": 0, "polled": 0,
              "refinished": 0}

    def claimed(status: str) -> Iterator[Render]:
        stalled = Render.objects.filter(status=status).filter(
            Q(lease_until__lt=now) | Q(lease_until__isnull=True, updated_at__lt=now - STALL_AFTER[status]))
        # The parts of a multi-shot take other than its lead never reach a provider: their lead's job is
        # resumed, and they follow it.
        stalled = stalled.exclude(shot_index__gt=0)
        if status == Status.CANCELED:
            stalled = stalled.filter(provider_cleanup="pending")
        for render in stalled.select_related("connection"):
            if Render.objects.filter(pk=render.pk, status=status, lease_until=render.lease_until).update(
                    lease_until=now + LEASE):
                render.lease_until = now + LEASE
                yield render

    for render in claimed(Status.QUEUED):  # never reached the provider: submitting is safe
        render_tasks.submit_render.delay(render.pk)
        counts["resubmitted"] += 1
    # Submitting: the provider may have the job. Look for it in its list of recent jobs over the
    # connection's window (lookups.py); where it cannot be looked up, never guess: the take is
    # marked unconfirmed and its cost stays counted.
    for render in claimed(Status.SUBMITTING):
        outcome = lookups.render_recover_submission(render)
        if outcome in counts:
            counts[outcome] += 1
    for render in claimed(Status.CONFIRMING):  # a look-up whose countdown was lost
        render_tasks.look_up_render.apply_async((render.pk, render.lookup_count), countdown=0)
        counts["looking"] += 1
    counts["watches"] = lookups.watches_resume(now=now)
    for render in claimed(Status.RUNNING):
        _schedule_poll(render, delay=0)
        counts["polled"] += 1
    for render in claimed(Status.DOWNLOADING):
        render_tasks.finish_render.delay(render.pk)
        counts["refinished"] += 1
    counts["cleanups"] = 0
    for render in claimed(Status.CANCELED):  # only those with a provider copy still to delete
        render_tasks.cancel_at_provider.delay(render.pk)
        counts["cleanups"] += 1
    requeued = previz.previz_jobs_requeue_stalled(older_than=now - PREVIZ_STALL_AFTER)
    for job_id in requeued:
        previz_tasks.previz_run_job.delay(job_id)
    counts["previz_requeued"] = len(requeued)
    return counts
