"""Polls land around when a job is expected to finish: few calls, no long wait after it is done."""

from datetime import timedelta

import pytest
from django.utils import timezone

from generation import connections
from generation.models import Render, Status
from generation.pipeline import expected_seconds, next_poll_delay

NOW = timezone.now()


@pytest.fixture
def gateway(team, owner):
    return connections.connection_create(team=team, user=owner, kind="openai-videos", label="GW",
                                         base_url="https://gw.example/v1", api_key="k")


def take(scene, connection, *, status=Status.RUNNING, submitted_ago=0.0, took=None):
    render = Render.objects.create(scene=scene, connection=connection, provider=connection.kind, model="m",
                                   recipe={}, status=status, submitted_at=NOW - timedelta(seconds=submitted_ago))
    if took is not None:
        done = render.submitted_at + timedelta(seconds=took)
        # Our own download finishes later: only the provider's time may count.
        Render.objects.filter(pk=render.pk).update(provider_done_at=done, finished_at=done + timedelta(seconds=90))
    return render


def test_with_no_history_a_remote_job_is_expected_to_take_a_minute(scene, gateway):
    assert expected_seconds(take(scene, gateway)) == 60


def test_the_expectation_is_the_median_of_recent_takes(scene, gateway):
    for seconds in (30, 40, 400):
        take(scene, gateway, status=Status.SUCCEEDED, submitted_ago=1000, took=seconds)
    assert expected_seconds(take(scene, gateway)) == 40


@pytest.mark.parametrize("elapsed, delay", [
    (0, 10),     # first progress check at a quarter of the expected 40 s
    (10, 10),    # then at half
    (31, 5),     # then at 90 %, close to the end
    (36.5, 3.5),  # and right at the expected end
    (41, 2),     # running late: every 5 % of the expectation
    (240, 20),   # …growing with the overrun
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


def test_a_local_previz_is_polled_within_a_second(scene):
    local = scene.project.team.connections.get(kind="local")
    assert next_poll_delay(take(scene, local), now=NOW) == pytest.approx(0.5)
