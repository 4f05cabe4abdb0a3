"""The OpenAI-format gateway made strict: an honest cancel, only declared fields on the wire,
no blind second create, and first polls planned from the catalog. Takes run through our tasks against
the strict local fake."""

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from generation.models import CatalogModel, Render, Status
from generation.providers import connections
from generation.renders import pipeline, services

NO_CANCEL = "Gateway has no cancel: the job runs to its end and may be billed; the studio will delete its copy."


def render_on(connection, scene, model_id, user, capture, **kwargs):
    with capture(execute=True):
        take, _ = services.render_create(scene=scene, user=user, connection=connection, model_id=model_id,
                                         idempotency_key=uuid.uuid4(), **kwargs)
    take.refresh_from_db()
    return take


@pytest.fixture
def four_second_scene(make_scene):
    return make_scene(duration=4)


@pytest.fixture
def running(gateway, four_second_scene, provider_server):
    """A take whose job the gateway is rendering (queued at the fake, not yet polled)."""
    job = provider_server.new_job("veo-3.1", {"prompt": "p", "seconds": "4", "size": "1280x720"})
    return Render.objects.create(scene=four_second_scene, connection=gateway, provider="openai-videos",
                                 model="veo-3.1", recipe={}, status=Status.RUNNING, provider_job_id=job.id,
                                 submitted_at=timezone.now())


# --- cancel ---------------------------------------------------------------------------------------

def test_cancelling_a_gateway_take_says_it_may_be_billed_and_deletes_the_copy_once_the_job_ends(
        client_for, editor, running, provider_server, django_capture_on_commit_callbacks):
    job_id = running.provider_job_id
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(editor).post(f"/takes/{running.pk}/cancel/", HTTP_HX_REQUEST="true")

    running.refresh_from_db()
    assert NO_CANCEL in response.content.decode()
    assert running.status == Status.CANCELED
    assert running.error_message == ("Canceled by eddie. Gateway has no cancel: the job runs to its end and may "
                                     "be billed; the studio deleted its copy when the job ended.")
    # The job ran to its end at the provider (no cancel there), then its copy was deleted, once.
    assert provider_server.deleted == [job_id] and job_id not in provider_server.jobs
    deletes = provider_server.seen("DELETE", rf"/openai/v1/videos/{job_id}")
    assert len(deletes) == 1
    assert running.provider_cleanup == "done"
    assert not running.video and not provider_server.seen("GET", rf"/openai/v1/videos/{job_id}/content")


def test_a_canceled_take_is_not_polled_or_downloaded_any_more(running, provider_server, editor):
    services.render_cancel(render=running, user=editor)  # its cleanup task is not run here
    before = len(provider_server.requests)

    pipeline.render_poll(running.pk)  # a poll that was already scheduled arrives

    assert len(provider_server.requests) == before
    running.refresh_from_db()
    assert running.status == Status.CANCELED and not running.video


def test_the_cleanup_waits_while_the_job_runs_and_running_it_again_changes_nothing(
        running, provider_server, editor, monkeypatch):
    from generation import tasks

    later = []
    monkeypatch.setattr(tasks.cancel_at_provider, "apply_async", lambda args, countdown: later.append(countdown))
    services.render_cancel(render=running, user=editor)
    job_id = running.provider_job_id

    pipeline.render_cancel_at_provider(running.pk)  # queued at the provider: nothing to delete yet

    assert later and 0 < later[0] <= 30 and provider_server.deleted == []
    assert not provider_server.seen("DELETE", rf"/openai/v1/videos/{job_id}")  # never while it runs
    provider_server.jobs[job_id].polls = provider_server.polls_to_finish  # the job ends
    for _ in range(3):  # a redelivered task, a sweep: deleting twice is harmless
        pipeline.render_cancel_at_provider(running.pk)
        Render.objects.filter(pk=running.pk).update(provider_cleanup="pending")

    assert provider_server.deleted == [job_id]
    running.refresh_from_db()
    assert running.status == Status.CANCELED


def test_a_cleanup_whose_countdown_was_lost_is_finished_by_the_sweeper(running, provider_server, editor, monkeypatch):
    from generation import tasks

    monkeypatch.setattr(tasks.cancel_at_provider, "delay_on_commit", lambda *a: None)  # the worker died
    services.render_cancel(render=running, user=editor)
    provider_server.jobs[running.provider_job_id].polls = provider_server.polls_to_finish
    Render.objects.filter(pk=running.pk).update(lease_until=timezone.now() - timedelta(seconds=1))

    counts = pipeline.renders_resume_stalled()

    running.refresh_from_db()
    assert counts["cleanups"] == 1
    assert running.provider_cleanup == "done" and provider_server.deleted == [running.provider_job_id]


def test_a_queued_gateway_take_is_canceled_without_a_provider_warning(gateway, four_second_scene, editor):
    take = Render.objects.create(scene=four_second_scene, connection=gateway, provider="openai-videos",
                                 model="veo-3.1", recipe={}, status=Status.QUEUED)

    services.render_cancel(render=take, user=editor)

    take.refresh_from_db()
    assert take.error_message == "Canceled by eddie." and take.provider_cleanup == ""


# --- only declared fields ---------------------------------------------------------------------------

def test_a_model_that_declares_no_characters_never_sends_them(
        gateway, four_second_scene, editor, provider_server, django_capture_on_commit_callbacks):
    # A take booked before its model lost the declaration still carries the cast in its recipe.
    recipe = services.recipe_for(scene=four_second_scene, connection=gateway, model_id="veo-3.1")
    recipe["native_characters"] = [{"id": 999, "name": "Maya"}]

    take = render_on(gateway, four_second_scene, "veo-3.1", editor, django_capture_on_commit_callbacks,
                     recipe=recipe)

    assert take.status == Status.SUCCEEDED, take.error_message
    assert not provider_server.seen("POST", r"/openai/v1/videos/characters")
    (create,) = provider_server.seen("POST", r"/openai/v1/videos")
    assert set(create.fields) == {"prompt", "model", "seconds", "size"}


def test_a_declared_extra_field_goes_out_and_a_gateway_that_does_not_know_it_refuses(
        gateway, four_second_scene, editor, provider_server, django_capture_on_commit_callbacks):
    # A second gateway serving Veo with an extra field (Sora 2 is retired: no gateway may register it).
    extras = connections.connection_create(team=gateway.team, user=None, kind="openai-videos", label="Extras",
                                           base_url=provider_server.openai_base, api_key=provider_server.api_key)
    connections.catalog_register_model(connection=extras, model_id="veo-3.1", display_name="Veo, high quality",
                                       sizes=["1280x720"], durations=[4], price_per_second=0.1,
                                       extra_fields={"quality": "high"})

    refused = render_on(extras, four_second_scene, "veo-3.1", editor, django_capture_on_commit_callbacks)
    provider_server.gateway_fields = {"quality"}
    accepted = render_on(extras, four_second_scene, "veo-3.1", editor, django_capture_on_commit_callbacks)

    assert refused.status == Status.FAILED
    assert "Unrecognized request argument supplied: quality" in refused.error_message
    assert accepted.status == Status.SUCCEEDED, accepted.error_message
    assert provider_server.seen("POST", r"/openai/v1/videos")[-1].fields["quality"] == "high"


def test_an_owner_registers_remix_typical_time_and_extra_fields(client_for, owner, team, gateway):
    data = {"model_id": "seedance-2", "sizes": "1280x720", "durations": "5", "price_per_second": "0.2",
            "supports_remix": "on", "native_characters": "on", "typical_seconds": "45",
            "extra_fields": "quality=high\nwatermark = false"}
    page = client_for(owner).post(reverse("generation:model_register", args=[team.pk, gateway.pk]), data,
                                  follow=True).content.decode()

    model = CatalogModel.objects.get(connection=gateway, model_id="seedance-2")
    assert "Registered seedance-2 on" in page
    assert (model.supports_remix, model.typical_seconds) == (True, 45)
    assert model.input_schema == {"characters": "id[]", "extra": {"quality": "high", "watermark": "false"}}


@pytest.mark.parametrize("extra, message", [
    ("seconds=8", "“seconds” is already a field of the format"),
    ("just-a-name", "Write each extra field as name=value"),
    ("bad name=1", "is not a usable field name"),
])
def test_an_extra_field_the_adapter_could_not_send_is_refused_in_the_page(
        client_for, owner, team, gateway, extra, message):
    data = {"model_id": "m", "sizes": "1280x720", "durations": "5", "price_per_second": "0.1", "extra_fields": extra}
    page = client_for(owner).post(reverse("generation:model_register", args=[team.pk, gateway.pk]), data,
                                  follow=True).content.decode()
    assert message in page
    assert not CatalogModel.objects.filter(model_id="m").exists()


def test_the_admin_refuses_a_declared_field_the_format_has_not(client, gateway):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "a long password"))
    model = CatalogModel.objects.get(connection=gateway, model_id="veo-3.1")
    url = reverse("admin:generation_catalogmodel_change", args=[model.pk])
    data = {"kind": "openai-videos", "connection": gateway.pk, "model_id": "veo-3.1", "display_name": "Veo",
            "sizes": '["1280x720"]', "durations": "[4]", "input_kinds": '["text"]', "price_per_second": '{"*": 0.4}',
            "lifecycle": "available", "input_schema": '{"seed": "integer"}', "typical_seconds": "30"}

    page = client.post(url, data).content.decode()
    model.refresh_from_db()

    assert "“seed” is not a field the studio can send" in page
    assert model.input_schema == {}
    data["input_schema"] = '{"characters": "id[]"}'
    assert client.post(url, data).status_code == 302
    model.refresh_from_db()
    assert model.declares_characters and model.typical_seconds == 30


# --- ambiguous creates --------------------------------------------------------------------------------

def test_a_create_the_gateway_forwarded_then_failed_is_adopted_not_sent_again(
        gateway, four_second_scene, editor, provider_server, django_capture_on_commit_callbacks):
    provider_server.scenario = "forward-then-fail"

    take = render_on(gateway, four_second_scene, "veo-3.1", editor, django_capture_on_commit_callbacks)

    assert take.status == Status.SUCCEEDED, take.error_message
    assert len(provider_server.seen("POST", r"/openai/v1/videos")) == 1
    assert provider_server.accepted == {"forward-then-fail": 1}  # exactly one job exists…
    assert list(provider_server.jobs) == [take.provider_job_id]  # …and it is the take's


def test_every_create_of_a_take_carries_the_takes_own_idempotency_key(
        gateway, four_second_scene, editor, provider_server, django_capture_on_commit_callbacks, monkeypatch):
    import generation.providers

    waits = []
    monkeypatch.setattr(generation.providers, "_sleep", waits.append)
    provider_server.scenario = "throttled"

    take = render_on(gateway, four_second_scene, "veo-3.1", editor, django_capture_on_commit_callbacks)

    assert take.status == Status.SUCCEEDED and waits == [2]  # after the 429, as Retry-After said
    keys = [r.headers.get("idempotency-key") for r in provider_server.seen("POST", r"/openai/v1/videos")]
    assert keys == [str(take.idempotency_key)] * 2


def test_a_create_lost_then_missing_from_the_list_all_window_long_is_resent_once_with_the_same_key(
        gateway, four_second_scene, editor, provider_server, django_capture_on_commit_callbacks, monkeypatch,
        countdowns):
    from tests.fakes import provider_server as fake

    real, calls = fake.openai_create, []

    def fails_once_before_forwarding(server, h, r):  # a 502 before the gateway forwarded anything
        calls.append(r)
        if len(calls) == 1:
            return fake.openai_error(h, 502, "Bad gateway.", kind="server_error")
        return real(server, h, r)

    monkeypatch.setattr(fake, "openai_create", fails_once_before_forwarding)
    countdowns.freeze()

    take = render_on(gateway, four_second_scene, "veo-3.1", editor, django_capture_on_commit_callbacks)
    assert take.status == Status.CONFIRMING  # the worker is free: the next looks are countdowns
    countdowns.run()
    take.refresh_from_db()

    assert take.status == Status.SUCCEEDED, take.error_message
    # It looked at the job list over the whole window before the second create, and it never had ours.
    methods = [r.method for r in provider_server.requests]
    assert methods[0] == "POST" and methods.index("POST", 1) > 5 and set(methods[1:methods.index("POST", 1)]) == {"GET"}
    assert calls[0].headers["idempotency-key"] == calls[1].headers["idempotency-key"] == str(take.idempotency_key)
    assert provider_server.accepted == {"success": 1}


def test_a_lost_create_is_never_sent_again_when_the_gateway_will_not_list_its_videos(
        gateway, four_second_scene, editor, provider_server, django_capture_on_commit_callbacks, monkeypatch):
    from tests.fakes import provider_server as fake

    monkeypatch.setattr(fake, "openai_list", lambda server, h, r: fake.openai_error(
        h, 403, "Listing videos is not enabled on this gateway.", code="forbidden"))
    provider_server.scenario = "forward-then-fail"

    take = render_on(gateway, four_second_scene, "veo-3.1", editor, django_capture_on_commit_callbacks)

    assert take.status == Status.FAILED and take.billing_unconfirmed
    assert take.error_message.startswith("Unconfirmed — may be billed")
    assert len(provider_server.seen("POST", r"/openai/v1/videos")) == 1  # the one job there is, never a second
