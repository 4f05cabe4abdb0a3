"""Each person reads their notifications (the email and the inbox entry) in their own language: the
one they chose in Settings, else the studio's default — not the language of whoever's request, or
which worker, made them."""

import pytest
from django.urls import reverse
from django.utils import translation

from generation.models import Render, Status
from projects.models import Notification, NotificationKind, UserPreference
from projects.review import services as review


@pytest.fixture
def take(scene, finished_take):
    return finished_take(scene)


@pytest.fixture
def sent(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture(autouse=True)
def _back_to_the_default_language():
    yield
    translation.deactivate()


def _mail_to(outbox, user):
    (message,) = [m for m in outbox if m.to == [user.email]]
    return message


def test_a_mention_reaches_a_french_teammate_in_french_though_its_author_writes_in_english(
        take, reviewer, editor, owner, mailoutbox, sent):
    UserPreference.objects.create(user=editor, language="fr")
    mailoutbox.clear()
    with translation.override("en"), sent():
        review.comment_add(take=take, author=reviewer, body=f"@eddie @{owner.get_username()} the mist", at="1.5")
    french, english = _mail_to(mailoutbox, editor), _mail_to(mailoutbox, owner)
    assert "rita vous a mentionné" in french.subject
    assert "vos paramètres de notification" in french.body
    assert "rita mentioned you" in english.subject
    assert "notification settings" in english.body and "paramètres" not in english.body
    assert "rita vous a mentionné" in Notification.objects.get(recipient=editor, kind=NotificationKind.MENTION).text


def test_an_english_reader_gets_english_from_a_french_author(take, reviewer, editor, mailoutbox, sent):
    UserPreference.objects.create(user=reviewer, language="fr")
    UserPreference.objects.create(user=editor, language="en")
    mailoutbox.clear()
    with translation.override("fr"), sent():
        review.take_approve(take=take, user=reviewer)
    message = _mail_to(mailoutbox, editor)
    assert "approved" in message.subject and "approuvée" not in message.subject


def test_a_reader_who_chose_nothing_gets_the_studios_default_language(
        take, reviewer, editor, mailoutbox, sent, settings):
    settings.LANGUAGE_CODE = "fr"
    mailoutbox.clear()
    with translation.override("en"), sent():
        review.take_request_changes(take=take, user=reviewer, note="Slower pan")
    assert "modifications demandées" in _mail_to(mailoutbox, editor).subject


def test_the_render_digest_speaks_its_authors_language(scene, editor, mailoutbox, sent):
    UserPreference.objects.create(user=editor, language="fr")
    takes = [Render.objects.create(scene=scene, provider="local", model="m", recipe={}, status=Status.DOWNLOADING,
                                   created_by=editor, number=n) for n in (1, 2)]
    mailoutbox.clear()
    with translation.override("en"), sent():
        for take in takes:
            take.advance(Status.SUCCEEDED)
    assert "2 prises terminées" in _mail_to(mailoutbox, editor).subject


def test_a_password_reset_email_speaks_the_accounts_language_not_the_browsers(
        client, owner, mailoutbox, django_capture_on_commit_callbacks):
    UserPreference.objects.create(user=owner, language="fr")
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("password_reset"), {"email": owner.email}, HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    (message,) = mailoutbox
    assert message.subject == "[Storyboard Studio] Réinitialiser votre mot de passe"
    assert "Choisissez un nouveau mot de passe ici" in message.body
