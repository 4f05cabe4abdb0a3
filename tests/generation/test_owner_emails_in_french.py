"""Budget alerts and retirement warnings reach each owner in the language they chose, as every other
notification does: one owner reads French, another English, from the same booking or the same daily run."""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import formats, timezone, translation

from generation import tasks
from generation.models import CatalogModel, Render, Status
from generation.providers import connections
from generation.renders import services
from projects.models import Activity, Notification, NotificationKind, Role, UserPreference

TODAY = timezone.localdate()


@pytest.fixture(autouse=True)
def _back_to_the_default_language():
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def unsent(monkeypatch):
    from generation.tasks import submit_render

    monkeypatch.setattr(submit_render, "delay_on_commit", lambda *a: None)  # booked takes stay booked, unsent


@pytest.fixture
def french_owner(team, make_member):
    owner = make_member(team, Role.OWNER, "odile")
    UserPreference.objects.create(user=owner, language="fr")
    return owner


def mail_to(user) -> list[mail.EmailMessage]:
    return [m for m in mail.outbox if m.to == [user.email]]


def test_a_budget_alert_reaches_a_french_owner_in_french_and_an_english_owner_in_english(
        team, owner, french_owner, editor, make_scene, priced_gateway, django_capture_on_commit_callbacks):
    team.monthly_budget = Decimal("2.00")  # one $2.00 take spends it all
    team.save()
    with django_capture_on_commit_callbacks(execute=True):
        services.render_create(scene=make_scene(duration=4), user=editor, connection=priced_gateway,
                               model_id="wan-2.7", idempotency_key=uuid.uuid4())

    with translation.override("fr"):
        mois = formats.date_format(TODAY.replace(day=1), "F")
    french = [m for m in mail_to(french_owner) if "budget" in m.subject.lower()]
    assert [m.subject for m in french] == [
        f"[Storyboard Studio] Alerte budget — Budget de {mois} de l’équipe\u00a0: engagé à 80\u00a0% "
        "(2,00\u00a0$ sur 2,00\u00a0$)",
        f"[Storyboard Studio] Alerte budget — Budget de {mois} de l’équipe\u00a0: épuisé (2,00\u00a0$ sur "
        "2,00\u00a0$ engagés)"]
    assert ("la dernière réservation était de 2,00\u00a0$ dans Harbour Story. Les prises qui le dépasseraient "
            "sont refusées jusqu’à ce qu’un propriétaire le relève.") in french[1].body
    assert "Budget alert" not in french[1].body and "committed" not in french[1].body
    inbox = Notification.objects.filter(recipient=french_owner, kind=NotificationKind.BUDGET)
    assert all(n.text.startswith("Alerte budget") for n in inbox) and inbox.count() == 2

    month = f"{TODAY:%B}"
    english = [m.subject for m in mail_to(owner) if "Budget" in m.subject]
    assert english == [f"[Storyboard Studio] Budget alert: the team's {month} budget is 80 % committed "
                       "($2.00 of $2.00)",
                       f"[Storyboard Studio] Budget alert: the team's {month} budget is spent ($2.00 of $2.00 "
                       "committed)"]


def test_a_booking_over_a_cap_is_refused_in_the_booking_persons_language(
        team, owner, french_owner, editor, make_scene, priced_gateway, django_capture_on_commit_callbacks):
    team.monthly_budget = Decimal("1.00")  # less than one take
    team.save()
    with translation.override("fr"), django_capture_on_commit_callbacks(execute=True), \
            pytest.raises(ValidationError) as refused:  # the booking person's own language: the request's
        services.render_create(scene=make_scene(duration=4), user=editor, connection=priced_gateway,
                               model_id="wan-2.7", idempotency_key=uuid.uuid4())
    assert "Dépassement — Budget de" in " ".join(refused.value.messages)
    assert "il reste 1,00\u00a0$ sur 1,00\u00a0$, et ceci coûte 2,00\u00a0$." in " ".join(refused.value.messages)


def test_a_model_retirement_warning_reaches_a_french_owner_in_french(
        team, owner, french_owner, project, make_scene, django_capture_on_commit_callbacks):
    replicate = connections.connection_create(team=team, user=owner, kind="replicate", label="Replicate",
                                              base_url="http://127.0.0.1:9/v1", api_key="r8-test",
                                              webhook_secret="whsec_c2VjcmV0")
    scene = make_scene(title="Jetée")
    Render.objects.create(scene=scene, connection=replicate, provider="replicate", model="google/veo-3.1",
                          recipe={"parameters": {"seconds": 4, "size": "1280x720"}}, status=Status.SUCCEEDED,
                          number=1)
    when = TODAY + datetime.timedelta(days=20)
    CatalogModel.objects.filter(model_id="google/veo-3.1").update(lifecycle="deprecated", lifecycle_date=when)

    with django_capture_on_commit_callbacks(execute=True):
        tasks.warn_of_retiring_models.delay()

    [french] = mail_to(french_owner)
    assert french.subject == f"[Storyboard Studio] Veo 3.1 (Replicate) sera retiré le {when:%Y-%m-%d}"
    assert f"Veo 3.1 (Replicate) cessera de générer le {when:%Y-%m-%d}. Ces scènes l’utilisent\u00a0:" in french.body
    assert "- Harbour Story\u00a0: 1. Jetée\n  Les déplacer\u00a0: " in french.body
    assert "rien n’est réservé" in french.body and "stops rendering" not in french.body
    with translation.override("fr"):  # the projects' feed says it in each reader's language too
        assert Activity.objects.get(kind="model_retiring").said == (
            f"Veo 3.1 (Replicate) sera retiré le {when:%Y-%m-%d}\u00a0: 1 scène l’utilise (1. Jetée). Passez-la à un "
            "autre modèle d’ici là.")
    [english] = mail_to(owner)
    assert english.subject == f"[Storyboard Studio] Veo 3.1 (Replicate) retires on {when:%Y-%m-%d}"
    assert "- Harbour Story: 1. Jetée\n  Move them: " in english.body
