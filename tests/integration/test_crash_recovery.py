"""Chaos: a real worker is killed (SIGKILL, by pid) while the provider holds its create.

The fake provider accepts the create and answers only seconds later; the worker is killed in
between, so the studio never learns the job id. A new worker (with the beat schedule, as a
deployment runs it) must find the job in the provider's list, finish the take, and never
send a second create, within 60 s of starting. The first test runs on the shipped lease (30 s), so it
checks that a deployment's defaults recover in time; the others shorten the lease their workers
and their sweep read (RENDER_LEASE_SECONDS, RENDER_SWEEP_SECONDS) and recover by the same path, without
waiting half a minute to say so.
"""

from __future__ import annotations

import time
import uuid
from decimal import Decimal

import pytest

from generation.models import Render, Status
from generation.providers import connections
from generation.renders import services

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_worker_killed_mid_submission_is_replaced_and_the_take_finishes_once(
        real_worker, provider_server, make_scene, team, owner, editor, tmp_path):
    gateway = connections.connection_create(
        team=team, user=owner, kind="openai-videos", label="Gateway", base_url=provider_server.openai_base,
        api_key=provider_server.api_key)
    connections.catalog_register_model(connection=gateway, model_id="veo-3.1", display_name="Veo via gateway",
                                       sizes=["1280x720"], durations=[4, 8], price_per_second=0.4)
    provider_server.scenario = "slow-create"  # accepted (and billed) at once, answered later
    provider_server.slow_seconds = 20
    provider_server.job_seconds = 1
    take, _ = services.render_create(scene=make_scene(duration=4), user=editor, connection=gateway,
                                     model_id="veo-3.1", idempotency_key=uuid.uuid4())

    deadline = time.monotonic() + 60
    while not provider_server.accepted["slow-create"]:
        real_worker.assert_healthy(" before the provider had the create")
        assert time.monotonic() < deadline, "the worker never sent the create" + real_worker.tail()
        time.sleep(0.05)
    real_worker.kill()
    assert Render.objects.get(pk=take.pk).status == Status.SUBMITTING
    assert Render.objects.get(pk=take.pk).provider_job_id == ""

    started = time.monotonic()
    real_worker.start_again("--beat", "--schedule", str(tmp_path / "beat-schedule"))
    take = real_worker.wait_for_render(take.pk, timeout=90)
    elapsed = time.monotonic() - started

    assert take.status == Status.SUCCEEDED, take.error_message + real_worker.tail()
    assert elapsed < 60, f"took {elapsed:.0f} s after the worker was back" + real_worker.tail()
    assert sum(provider_server.accepted.values()) == 1  # one create at the provider, ever
    assert len(provider_server.seen("POST", r"/openai/v1/videos")) == 1
    assert take.provider_job_id in provider_server.jobs
    assert not take.billing_unconfirmed


@pytest.fixture
def fal_listing_for_workers(monkeypatch, fal_server):
    """Workers started from now on read fal's request listing from the fake (their settings come from the
    environment). Listed before `real_worker` in a test's arguments, so that worker gets it too."""
    monkeypatch.setenv("FAL_API_URL", fal_server.api_url)
    return fal_server


@pytest.fixture
def short_lease_for_workers(monkeypatch):
    """Workers started from now on give up a take 2 s after their last renewal and sweep every 2 s,
    instead of 30 s and 15 s (the beat's first sweep comes one interval after it starts)."""
    monkeypatch.setenv("RENDER_LEASE_SECONDS", "2")
    monkeypatch.setenv("RENDER_SWEEP_SECONDS", "2")


def test_a_worker_killed_while_fal_holds_the_create_is_replaced_and_the_fal_take_finishes_once(
        fal_listing_for_workers, short_lease_for_workers, real_worker, make_scene, team, owner, editor, tmp_path):
    fal_server = fal_listing_for_workers
    fal = connections.connection_create(team=team, user=owner, kind="fal", label="fal", base_url=fal_server.url,
                                        api_key=fal_server.api_key)
    fal_server.scenario = "slow-create"  # accepted (and billed) at once, answered later
    fal_server.slow_seconds = 20
    fal_server.job_seconds = 1
    take, _ = services.render_create(scene=make_scene(duration=4), user=editor, connection=fal,
                                     model_id="fal-ai/veo3.1", idempotency_key=uuid.uuid4())

    deadline = time.monotonic() + 60
    while not fal_server.accepted:
        real_worker.assert_healthy(" before fal had the create")
        assert time.monotonic() < deadline, "the worker never sent the create" + real_worker.tail()
        time.sleep(0.05)
    real_worker.kill()
    assert Render.objects.get(pk=take.pk).provider_job_id == ""

    started = time.monotonic()
    real_worker.start_again("--beat", "--schedule", str(tmp_path / "beat-schedule"))
    take = real_worker.wait_for_render(take.pk, timeout=90)
    elapsed = time.monotonic() - started

    assert take.status == Status.SUCCEEDED, take.error_message + real_worker.tail()
    assert elapsed < 60, f"took {elapsed:.0f} s after the worker was back" + real_worker.tail()
    # On the shipped lease and sweep the take could not move before ~30 s: the workers read the shorter ones.
    assert elapsed < 25, f"took {elapsed:.0f} s on a 2 s lease and sweep" + real_worker.tail()
    assert fal_server.accepted == 1 and len(fal_server.seen("POST", r"/fal-ai/veo3\.1")) == 1  # one request, ever
    assert take.provider_job_id.split(" ")[0] in fal_server.jobs
    assert fal_server.seen("GET", r"/v1/models/requests/by-endpoint")  # found in fal's listing
    assert not take.billing_unconfirmed and take.cost == Decimal("1.6")  # charged once
