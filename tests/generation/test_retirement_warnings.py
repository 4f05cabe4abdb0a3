"""The daily warning: owners hear once per model, and only within 30 days of its retirement, when a
model their scenes use is going; board frames show it."""

import datetime

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from generation import tasks
from generation.models import CatalogModel, Render, RetirementNotice, Status
from generation.providers import connections
from projects.models import Activity, Notification, NotificationPreference, Scene

TODAY = timezone.localdate()


@pytest.fixture
def replicate(team, owner):
    return connections.connection_create(team=team, user=owner, kind="replicate", label="Replicate",
                                         base_url="http://127.0.0.1:9/v1", api_key="r8-test",
                                         webhook_secret="whsec_c2VjcmV0")


def veo_retires_in(days):
    CatalogModel.objects.filter(model_id="google/veo-3.1").update(
        lifecycle="deprecated", lifecycle_date=TODAY + datetime.timedelta(days=days))


def on_veo(scene, replicate):
    Render.objects.create(scene=scene, connection=replicate, provider="replicate", model="google/veo-3.1",
                          recipe={"parameters": {"seconds": 4, "size": "1280x720"}}, status=Status.SUCCEEDED,
                          number=1)
    return scene


def run_daily(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        tasks.warn_of_retiring_models.delay()


def test_owners_are_told_once_when_a_model_their_scenes_use_retires_within_30_days(
        team, owner, editor, project, make_scene, replicate, django_capture_on_commit_callbacks):
    on_veo(make_scene(title="Pier"), replicate)
    make_scene(title="Untouched")  # no take, no chosen model: not affected
    veo_retires_in(20)
    run_daily(django_capture_on_commit_callbacks)
    run_daily(django_capture_on_commit_callbacks)  # a second run (or a second beat) sends nothing more
    assert [m.to for m in mail.outbox] == [[owner.email]]  # the editor hears nothing
    when = f"{TODAY + datetime.timedelta(days=20):%Y-%m-%d}"
    assert mail.outbox[0].subject == f"[Storyboard Studio] Veo 3.1 (Replicate) retires on {when}"
    assert "Harbour Story: 1. Pier" in mail.outbox[0].body
    assert reverse("generation:scene_retarget", args=[project.pk]) + "?from=" in mail.outbox[0].body
    assert list(Activity.objects.filter(kind="model_retiring").values_list("text", flat=True)) == [(
        f"Veo 3.1 (Replicate) retires on {when}: 1 scene uses it (1. Pier). Move them to another model "
        "before then.")]
    assert RetirementNotice.objects.count() == 1
    inbox = Notification.objects.filter(kind="model_retiring")
    assert [(n.recipient_id, n.path.split("?")[0]) for n in inbox] == [
        (owner.pk, reverse("generation:scene_retarget", args=[project.pk]))]  # the bell rings for owners only


def test_a_retirement_further_than_30_days_or_already_past_is_not_announced(
        team, project, make_scene, replicate, django_capture_on_commit_callbacks):
    on_veo(make_scene(), replicate)
    for days in (31, 0, -3):
        veo_retires_in(days)
        run_daily(django_capture_on_commit_callbacks)
    assert not mail.outbox and not Activity.objects.filter(kind="model_retiring").exists()


def test_a_scene_moved_to_the_retiring_model_counts_too(team, owner, project, scene, replicate,
                                                        django_capture_on_commit_callbacks):
    Scene.objects.filter(pk=scene.pk).update(target_connection=replicate, target_model="google/veo-3.1")
    veo_retires_in(5)
    run_daily(django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1


def test_an_owner_who_turned_the_email_off_still_gets_the_activity_entry(
        team, owner, project, scene, replicate, django_capture_on_commit_callbacks):
    NotificationPreference.objects.create(user=owner, model_retiring=False)
    on_veo(scene, replicate)
    veo_retires_in(5)
    run_daily(django_capture_on_commit_callbacks)
    assert not mail.outbox and Activity.objects.filter(kind="model_retiring").count() == 1


def test_each_team_hears_about_its_own_scenes_only(team, owner, project, scene, replicate, make_team, make_user,
                                                   django_capture_on_commit_callbacks):
    rival_owner = make_user("rival-owner")
    rival = make_team("Rival", owner=rival_owner)
    connections.connection_create(team=rival, user=rival_owner, kind="replicate", label="Theirs", api_key="k",
                                  webhook_secret="whsec_c2VjcmV0")  # but no scene of theirs uses Veo
    on_veo(scene, replicate)
    veo_retires_in(5)
    run_daily(django_capture_on_commit_callbacks)
    assert [m.to for m in mail.outbox] == [[owner.email]]
    assert not RetirementNotice.objects.exclude(team=team).exists()


def test_the_board_shows_a_chip_on_frames_whose_model_is_going(client_for, editor, project, make_scene,
                                                                replicate):
    on_veo(make_scene(title="Pier"), replicate)
    make_scene(title="Dock")  # no take, no chosen model: no chip
    veo_retires_in(12)
    html = client_for(editor).get(reverse("projects:project_detail", args=[project.pk])).content.decode()
    when = f"{TODAY + datetime.timedelta(days=12):%Y-%m-%d}"
    assert html.count('data-testid="frame-retiring"') == 1
    assert f"Veo 3.1 (Replicate) retires {when}" in html
    CatalogModel.objects.filter(model_id="google/veo-3.1").update(lifecycle="retired")  # the day came
    html = client_for(editor).get(reverse("projects:project_detail", args=[project.pk])).content.decode()
    assert "Veo 3.1 (Replicate) retired<" in html


def test_the_daily_task_is_in_the_beat_schedule():
    entry = settings.CELERY_BEAT_SCHEDULE["warn-of-retiring-models"]
    assert entry["task"] == "generation.tasks.warn_of_retiring_models" and entry["schedule"] == 86400.0
