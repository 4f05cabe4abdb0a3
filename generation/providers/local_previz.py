"""The built-in local previz provider: real MP4 animatics, offline.

It behaves like a remote provider so the rest of the studio cannot tell the
difference: submit books a PrevizJob and returns its id, a Celery task renders
it in the worker, poll reports its progress, download copies the result.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.core.files.storage import default_storage
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from generation.models import PrevizJob
from generation.previz import jobs
from generation.previz import tasks as previz_tasks
from generation.words import said

from .base import (
    CancelRefund,
    ExtendRequest,
    JobListing,
    JobProbe,
    JobState,
    ModelSpec,
    Provider,
    ProviderError,
    ProviderFacts,
    RenderRequest,
    Shot,
    WebhookScheme,
)

PREVIZ_SIZES = ("1280x720", "720x1280", "1920x1080", "1080x1920", "1024x1024")


class LocalPrevizProvider(Provider):
    key = "local"
    name = "Local previz"
    has_thumbnail = True
    facts = ProviderFacts(
        title=_("The local previz"), default_base_url="", auth_header=gettext_noop("none (it runs in the studio)"), key_required=False,
        webhooks=WebhookScheme.NONE, cancels=True, cancel_refund=CancelRefund.FREE,
        # Our job book is a table: not found means never created.
        job_listing=JobListing.COMPLETE,
        reports_job_time=False,  # poll says only queued, running or done, not how long the job ran
        reports_billed_cost=False, bills_refused_jobs=False,  # free
        built_in=True, trained_model=False,  # it draws animatics by rule
        sends_shots=True,  # a group becomes one animatic with a cut per shot
        extends=True,  # an animatic of its own from the take's last frame (the studio joins it)
    )
    SHOTS_SECONDS_MAX = 60
    models = (
        ModelSpec(
            id="previz-animatic-1",
            name="Previz animatic",
            sizes=PREVIZ_SIZES,
            durations=tuple(range(1, 21)),
            price_per_second=0.0,
        ),
    )

    @classmethod
    def shot_problems(cls, *, model_id: str, shots: Sequence[Shot], input_map: dict[str, Any] | None = None) -> list[str]:
        spec = next((m for m in cls.models if m.id == model_id), None)
        if spec is None:
            return [gettext("The local previz has no model “%(model)s”.") % {"model": model_id}]
        longest = max(spec.durations)
        too_long = [s.scene_number for s in shots if s.seconds > longest]
        problems = [gettext("The previz draws shots of at most %(longest)s seconds; scene %(number)s is longer.")
                    % {"longest": longest, "number": n} for n in too_long]
        if sum(s.seconds for s in shots) > cls.SHOTS_SECONDS_MAX:
            problems.append(gettext("The previz draws a multi-shot take of at most %(seconds)s seconds.")
                            % {"seconds": cls.SHOTS_SECONDS_MAX})
        return problems

    def submit(self, request: RenderRequest) -> str:
        if request.shots:
            problems = self.shot_problems(model_id=request.model, shots=request.shots)
            if request.size not in PREVIZ_SIZES:
                problems.append(gettext("The previz draws %(sizes)s, not %(size)s.")
                                % {"sizes": ", ".join(PREVIZ_SIZES), "size": request.size})
        else:
            problems = self.check_request(model_id=request.model, size=request.size, seconds=request.seconds)
        if problems:
            raise ProviderError(" ".join(problems))
        spec = {
            "prompt": request.prompt,
            "model": request.model,
            "seconds": request.seconds,
            "size": request.size,
            "title": request.title,
            "scene_number": request.scene_number,
            "camera_notes": request.camera_notes,
            "recipe": request.recipe,
        }
        if request.shots:  # one animatic, a shot per scene, each cut on a keyframe of its own
            spec["shots"] = [{"seconds": s.seconds, "title": s.title, "prompt": s.prompt,
                              "scene_number": s.scene_number, "camera_notes": s.camera_notes} for s in request.shots]
        job = PrevizJob.objects.create(spec=spec)
        # Submit runs in a task outside any transaction, so the job row is
        # already committed: hand it to a worker now, as a remote service would.
        previz_tasks.previz_run_job.delay(str(job.id))
        return str(job.id)

    def extend(self, request: ExtendRequest) -> str:
        """The continuation as an animatic of its own, drawn from the take's last frame (kept in the media
        storage and named in the recipe's extend_of, so any worker draws it); the studio joins it to the take."""
        if not 1 <= request.seconds <= 20:
            raise ProviderError(said("previz.extend_seconds", seconds=request.seconds))
        return self.submit(RenderRequest(prompt=request.prompt, model=request.model, seconds=request.seconds,
                                         size=request.size, title=request.title, scene_number=request.scene_number,
                                         recipe=request.recipe))

    job_listing_hint = said("previz.listing_hint")

    def find_job(self, probe: JobProbe) -> str | None:
        """Our job book is a table: the oldest job since the crash with exactly this request."""
        jobs = (PrevizJob.objects.filter(created_at__gte=probe.created_after, spec__prompt=probe.prompt,
                                         spec__model=probe.model, spec__size=probe.size,
                                         spec__seconds=probe.seconds)
                .order_by("created_at").values_list("pk", flat=True))
        return next((str(pk) for pk in jobs if str(pk) not in probe.exclude_ids), None)

    def poll(self, job_id: str) -> JobState:
        job = PrevizJob.objects.filter(pk=job_id).first()
        if job is None:
            return JobState(status="failed", error=said("previz.gone"))
        if job.status == "failed":
            # The job keeps what failed in the renderer's own words; the take says it in its reader's language
            # (a job stored before that kept the English sentence whole: its first words are not said twice).
            why = job.error.removeprefix("Previz rendering failed: ")
            return JobState(status=job.status, progress=job.progress,
                            error=said("previz.failed", why=why) if why else said("take.failed_without_reason"))
        return JobState(status=job.status, progress=job.progress, error=job.error)

    def download(self, job_id: str, variant: str, dest: Path) -> None:
        try:
            with default_storage.open(jobs.output_name(job_id, variant), "rb") as src, dest.open("wb") as out:
                shutil.copyfileobj(src, out, length=1024 * 1024)
        except FileNotFoundError:
            raise ProviderError(said("previz.video_gone" if variant == "video" else "previz.thumbnail_gone", job=job_id))

    def cancel(self, job_id: str) -> bool:
        return bool(
            PrevizJob.objects.filter(pk=job_id, status__in=["queued", "running"]).update(
                status="canceled"
            )
        )
