"""Polls land around when a job is expected to finish: few calls, no long wait after it is done."""

from datetime import timedelta

import pytest
from django.utils import timezone

from generation.models import Render, Status
from generation.providers import connections
from generation.renders.pipeline import expected_seconds, next_poll_delay, render_poll

NOW = timezone.now()


@pytest.fixture
def gateway(team, owner):
    return connections.connection_create(team=team, user=owner, kind="openai-videos", label="GW",
                                         base_url="https://gw.example/v1", api_key="k")


def take(scene, connection, *, status=Status.RUNNING, submitted_ago=0.0, took=None, model="m"):
    render = Render.objects.create(scene=scene, connection=connection, provider=connection.kind, model=model,
                                   recipe={}, status=status, submitted_at=NOW - timedelta(seconds=submitted_ago))
    if took is not None:
        done = render.submitted_at + timedelta(seconds=took)
        # Our own download finishes later: only the provider's time may count.
        Render.objects.filter(pk=render.pk).update(provider_done_at=done, finished_at=done + timedelta(seconds=90))
    return render


def test_with_no_history_a_remote_job_is_expected_to_take_a_minute(scene, gateway):
    assert expected_seconds(take(scene, gateway)) == 60


def test_with_no_history_the_first_poll_comes_at_a_quarter_of_the_catalogs_typical_time(scene, gateway):
    connections.catalog_register_model(connection=gateway, model_id="m", display_name="M", sizes=["1280x720"],
                                       durations=[4], price_per_second=0.1, typical_seconds=20)
    running = take(scene, gateway)

    assert expected_seconds(running) == 20
    assert next_poll_delay(running, now=NOW) == pytest.approx(5)  # not a blind 15 s


def test_the_studios_own_timings_win_over_the_catalogs_figure(scene, gateway):
    connections.catalog_register_model(connection=gateway, model_id="m", display_name="M", sizes=["1280x720"],
                                       durations=[4], price_per_second=0.1, typical_seconds=20)
    take(scene, gateway, status=Status.SUCCEEDED, submitted_ago=1000, took=50)
    assert expected_seconds(take(scene, gateway)) == 50


def test_shipped_models_come_with_a_typical_job_time(db):
    from generation.models import CatalogModel

    veo = CatalogModel.objects.get(kind="replicate", model_id="google/veo-3.1", connection=None)
    assert veo.typical_seconds == 90


def test_the_expectation_is_the_median_of_recent_takes(scene, gateway):
    for seconds in (30, 40, 400):
        take(scene, gateway, status=Status.SUCCEEDED, submitted_ago=1000, took=seconds)
    assert expected_seconds(take(scene, gateway)) == 40


@pytest.mark.parametrize("elapsed, delay", [
    (0, 10),     # first progress check at a quarter of the expected 40 s
    (10, 10),    # then at half
    (21, 9),     # then at three quarters
    (36.5, 3.5),  # then right at the expected end
    (40, 1),     # just after it: every 2.5 % of the expectation
    (52, 3),     # running late: a quarter of the overrun
    (900, 30),   # but never more than 30 s apart
])
def test_polls_gather_around_the_expected_end(scene, gateway, elapsed, delay):
    for _ in range(3):
        take(scene, gateway, status=Status.SUCCEEDED, submitted_ago=1000, took=40)
    running = take(scene, gateway, submitted_ago=elapsed)
    assert next_poll_delay(running, now=NOW) == pytest.approx(delay, abs=0.01)


def test_a_poll_after_hint_from_the_provider_wins(scene, gateway):
    assert next_poll_delay(take(scene, gateway), poll_after=2.5, now=NOW) == 2.5


def test_with_webhooks_polling_is_only_a_slow_safety_net(scene, gateway, settings):
    settings.PUBLIC_BASE_URL = "https://studio.example"
    gateway.set_webhook_secret("whsec_c2VjcmV0")
    gateway.save()
    assert next_poll_delay(take(scene, gateway), now=NOW) == 60


def test_with_webhooks_a_short_job_is_still_checked_within_twice_its_expected_time(scene, gateway, settings):
    # A lost webhook must not leave a ten-second job unseen for a minute.
    settings.PUBLIC_BASE_URL = "https://studio.example"
    gateway.set_webhook_secret("whsec_c2VjcmV0")
    gateway.save()
    for _ in range(3):
        take(scene, gateway, status=Status.SUCCEEDED, submitted_ago=1000, took=10)
    assert next_poll_delay(take(scene, gateway), now=NOW) == 20


def test_a_local_previz_is_polled_within_a_second(scene):
    local = scene.project.team.connections.get(kind="local")
    assert next_poll_delay(take(scene, local), now=NOW) == pytest.approx(0.5)


def polls_until_seen(render, *, done_after: float) -> tuple[int, float]:
    """Follow the schedule for a job that finishes `done_after` s after submit: (polls, delay seen)."""
    elapsed, polls = 0.0, 0
    while True:
        elapsed += next_poll_delay(render, now=render.submitted_at + timedelta(seconds=elapsed))
        polls += 1
        if elapsed >= done_after:
            return polls, elapsed - done_after


@pytest.mark.parametrize("done_after", [20.0, 20.4, 21.0, 22.0])  # up to 10 % over
def test_a_job_that_ends_about_on_time_is_seen_promptly_in_few_polls(scene, gateway, done_after):
    for _ in range(3):
        take(scene, gateway, status=Status.SUCCEEDED, submitted_ago=1000, took=20)
    polls, late = polls_until_seen(take(scene, gateway), done_after=done_after)
    assert polls <= 8
    assert late <= 0.5



def test_a_late_poll_does_not_teach_the_studio_that_jobs_are_slow(scene, team, owner, provider_server):
    # The provider says its job ran 12 s; our poll only came 30 s after submit.
    connection = connections.connection_create(team=team, user=owner, kind="openai-videos", label="Fake",
                                               base_url=provider_server.openai_base,
                                               api_key=provider_server.api_key)
    job = provider_server.new_job("veo-3.1", {"prompt": "p", "seconds": "4", "size": "1280x720"})
    job.polls = provider_server.polls_to_finish  # done
    job.completed_wall = job.created_wall + 12
    late = Render.objects.create(scene=scene, connection=connection, provider=connection.kind, model="m",
                                 recipe={}, status=Status.RUNNING, provider_job_id=job.id,
                                 submitted_at=timezone.now() - timedelta(seconds=30))

    render_poll(late.pk)

    late.refresh_from_db()
    assert late.status == Status.SUCCEEDED
    assert expected_seconds(take(scene, connection)) == pytest.approx(12, abs=0.01)


class JobWithoutATime:
    """A provider that, like Veo and Runway, says only "running" or "done", never how long the job
    ran; its jobs end `job_seconds` after submit on the test's clock."""

    def __init__(self, clock, job_seconds):
        self.clock, self.job_seconds, self.ends_at = clock, job_seconds, {}

    def poll(self, job_id):
        from generation.providers.base import JobState

        if self.clock.now >= self.ends_at[job_id]:
            return JobState(status="succeeded", progress=100)
        return JobState(status="running")


class Clock:
    def __init__(self):
        self.now = NOW

    def advance(self, seconds):
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr("django.utils.timezone.now", lambda: clock.now)
    return clock


def follow_the_schedule(monkeypatch, clock, provider, render) -> float:
    """Poll the take when the schedule says, on the fake clock, until it is done: how late it was seen."""
    from generation.renders import pipeline

    asked = []
    monkeypatch.setattr(pipeline, "_schedule_poll", lambda render, *, delay: asked.append(delay))
    monkeypatch.setattr(pipeline, "_finish", lambda render, **kw: render.advance(Status.SUCCEEDED))
    monkeypatch.setattr(pipeline, "provider_for", lambda connection: provider)
    provider.ends_at[render.provider_job_id] = render.submitted_at + timedelta(seconds=provider.job_seconds)
    clock.advance(next_poll_delay(render))
    while True:
        render_poll(render.pk)
        render.refresh_from_db()
        if render.status == Status.SUCCEEDED:
            return (clock.now - provider.ends_at[render.provider_job_id]).total_seconds()
        clock.advance(asked[-1])


def test_without_the_providers_job_time_the_expectation_closes_in_on_the_real_time(
        scene, team, owner, clock, monkeypatch):
    # Learning "the poll that saw it done" settled at ~23 s for 20 s jobs, each seen ~3 s late.
    runway = connections.connection_create(team=team, user=owner, kind="runway", label="Runway", base_url="",
                                           api_key="k")
    provider = JobWithoutATime(clock, job_seconds=20)
    late = []
    for n in range(6):
        clock.advance(60)
        render = Render.objects.create(scene=scene, connection=runway, provider="runway", model="gen4.5",
                                       recipe={}, status=Status.RUNNING, provider_job_id=f"task-{n}",
                                       submitted_at=clock.now)
        late.append(follow_the_schedule(monkeypatch, clock, provider, render))

    assert expected_seconds(take(scene, runway, model="gen4.5")) == pytest.approx(20, abs=1)
    assert late[-1] <= 1  # and the last take was seen within a second of its end


def test_a_poll_nudged_by_a_webhook_learns_the_moment_it_saw_the_job_done(
        scene, gateway, clock, monkeypatch, settings):
    # With webhooks the poll that sees a job done comes as it ends, and the last one that saw it
    # running was a slow safety net: the midpoint of the two would teach the studio jobs are faster.
    from generation.renders import pipeline

    settings.PUBLIC_BASE_URL = "https://studio.example"
    gateway.set_webhook_secret("whsec_c2VjcmV0")
    gateway.save()
    monkeypatch.setattr(pipeline, "_finish", lambda render, **kw: render.advance(Status.SUCCEEDED))
    monkeypatch.setattr(pipeline, "provider_for", lambda connection: provider)
    provider = JobWithoutATime(clock, job_seconds=20)
    render = Render.objects.create(scene=scene, connection=gateway, provider=gateway.kind, model="m", recipe={},
                                   status=Status.RUNNING, provider_job_id="v-1", submitted_at=clock.now,
                                   running_seen_at=clock.now + timedelta(seconds=2))
    provider.ends_at["v-1"] = clock.now + timedelta(seconds=20)
    clock.advance(20)

    render_poll(render.pk)  # the webhook's nudge

    render.refresh_from_db()
    assert render.status == Status.SUCCEEDED
    assert (render.provider_done_at - render.submitted_at).total_seconds() == pytest.approx(20)


@pytest.fixture
def runway(team, owner):
    return connections.connection_create(team=team, user=owner, kind="runway", label="Runway", base_url="",
                                         api_key="k")


@pytest.mark.parametrize("elapsed, delay", [
    (21, 9),     # three quarters of the expected 40 s, as for any provider
    (30, 6),     # then at nine tenths: the end it learns lies between this check and the next
    (36.5, 3.5),  # then right at the expected end
])
def test_a_provider_without_a_job_time_is_also_checked_at_nine_tenths_of_the_expected_end(
        scene, runway, elapsed, delay):
    for _ in range(3):
        take(scene, runway, status=Status.SUCCEEDED, submitted_ago=1000, took=40)
    assert next_poll_delay(take(scene, runway, submitted_ago=elapsed), now=NOW) == pytest.approx(delay, abs=0.01)


@pytest.mark.parametrize("kind", ["openai-videos", "fal", "comfyui"])
def test_a_provider_that_reports_its_job_time_keeps_four_polls_for_an_on_time_job(scene, team, owner, kind):
    # Its expectation is learned exactly, so a check at nine tenths would only be one more request.
    connection = connections.connection_create(team=team, user=owner, kind=kind, label=kind,
                                               base_url="https://provider.example", api_key="k")
    for _ in range(3):
        take(scene, connection, status=Status.SUCCEEDED, submitted_ago=1000, took=20)
    assert polls_until_seen(take(scene, connection), done_after=20.0) == (4, 0.0)


def poll_rounds(monkeypatch, clock, provider, *, connection, rounds, takes) -> list[list[Render]]:
    """Book `takes` takes at once, `rounds` times, and poll each when the schedule says, in the order
    the polls come due on the fake clock, as one worker would; every poll goes through render_poll."""
    from generation.renders import pipeline

    due = []
    monkeypatch.setattr(pipeline, "_schedule_poll",
                        lambda render, *, delay: due.append((clock.now + timedelta(seconds=delay), render.pk)))
    monkeypatch.setattr(pipeline, "_finish", lambda render, **kw: render.advance(Status.SUCCEEDED))
    monkeypatch.setattr(pipeline, "provider_for", lambda connection: provider)
    booked = []
    for r in range(rounds):
        clock.advance(60)
        batch = [Render.objects.create(scene=scene_of(connection), connection=connection, provider=connection.kind,
                                       model="gen4.5", recipe={}, status=Status.RUNNING,
                                       provider_job_id=f"task-{r}-{n}", submitted_at=clock.now)
                 for n in range(takes)]
        for render in batch:
            provider.ends_at[render.provider_job_id] = clock.now + timedelta(seconds=provider.job_seconds)
            due.append((clock.now + timedelta(seconds=next_poll_delay(render)), render.pk))
        while due:
            due.sort()
            when, pk = due.pop(0)
            clock.now = when
            render_poll(pk)
        booked.append([Render.objects.get(pk=render.pk) for render in batch])
    return booked


def scene_of(connection):
    return connection.team.projects.first().scenes.first()


def test_without_the_providers_job_time_takes_booked_together_settle_at_eight_polls_or_fewer(
        scene, runway, clock, monkeypatch):
    # Learning midpoints with checks at 0.75 and 1 × E, 20 s jobs taught 17.5–17.9 s every other
    # round, and the takes after it were polled every 2.5 % up to 20 s: 9–13 polls each.
    provider = JobWithoutATime(clock, job_seconds=20)
    booked = poll_rounds(monkeypatch, clock, provider, connection=runway, rounds=8, takes=5)

    assert all(render.status == Status.SUCCEEDED for batch in booked for render in batch)
    settled = booked[3:]  # after a cold start from the catalog's 90 s and a few rounds of learning
    assert max(render.poll_count for batch in settled for render in batch) <= 8
    assert 19 <= expected_seconds(take(scene, runway, model="gen4.5")) <= 21  # within 5 % of the real 20 s
