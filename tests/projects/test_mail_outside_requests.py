"""Email never runs inside a request: a page that causes an email queues it on commit, a worker sends
it, and a failing mail server is retried (a few times) and logged, never shown to anyone as a 500."""

import logging
import smtplib

import pytest
from celery.exceptions import Retry
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.urls import reverse

from projects.activity import tasks as activity_tasks
from projects.characters import consent
from projects.models import (
    CharacterKind,
    ConsentGrant,
    Invitation,
    Notification,
    NotificationKind,
    NotificationPreference,
    Role,
)
from tests.factories import photo

FAILING_BACKEND = "tests.projects.test_mail_outside_requests.FailingMailBackend"


class FailingMailBackend(BaseEmailBackend):
    """A mail server that accepts the connection and then drops it, as a broken relay does."""

    attempts = 0

    def send_messages(self, email_messages):
        FailingMailBackend.attempts += 1
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


@pytest.fixture
def failing_mail(settings):
    settings.EMAIL_BACKEND = FAILING_BACKEND
    FailingMailBackend.attempts = 0
    return FailingMailBackend


@pytest.fixture
def member(team, make_member):
    return make_member(team, Role.EDITOR, "maya")


@pytest.fixture
def maya(team, member):
    character = consent.character_create(team=team, user=member, name="Maya", kind=CharacterKind.PERSON,
                                         person=member, images=[photo()])
    consent.consent_grant(character=character, user=member)
    return character


def _revoke(client, character):
    return client.post(reverse("projects:character_revoke", args=[character.pk]))


# --- consent revoked ------------------------------------------------------------------------------

def test_revoking_consent_with_a_failing_mail_server_answers_normally_and_the_revocation_stands(
        client_for, maya, member, owner, editor, failing_mail, django_capture_on_commit_callbacks, caplog):
    with caplog.at_level(logging.ERROR, logger="projects.activity.tasks"), \
            django_capture_on_commit_callbacks(execute=True):
        response = _revoke(client_for(member), maya)

    assert response.status_code == 302
    assert response.url == reverse("projects:character_detail", args=[maya.pk])
    assert not ConsentGrant.objects.filter(character=maya, revoked_at__isnull=True).exists()
    assert consent.consent_state(maya).key == "revoked"
    assert failing_mail.attempts == 2  # the owner's and the editor's email were tried, and failed
    assert "Maya revoked consent" in caplog.text and "not sent" in caplog.text
    # The news still reached the teammates, where they look first.
    assert {n.recipient for n in Notification.objects.filter(kind=NotificationKind.CONSENT)} == {owner, editor}


def test_teammates_get_an_inbox_entry_that_leads_to_the_character(client_for, maya, member, owner, editor, reviewer,
                                                                  django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _revoke(client_for(member), maya)

    notes = Notification.objects.filter(kind=NotificationKind.CONSENT)
    assert {n.recipient for n in notes} == {owner, editor, reviewer}  # not Maya: she did it
    assert {n.text for n in notes} == {"Maya revoked consent"}
    assert {n.actor for n in notes} == {member}
    assert {n.path for n in notes} == {reverse("projects:character_detail", args=[maya.pk])}
    inbox = client_for(reviewer).get(reverse("projects:inbox")).content.decode()
    assert "Maya revoked consent" in inbox


def test_the_revocation_email_is_sent_by_the_task_after_the_request_not_in_it(
        client_for, maya, member, owner, editor, django_capture_on_commit_callbacks):
    # Even a teammate who turned every email off hears of this one: it changes what the team may show.
    NotificationPreference.objects.create(user=editor, mentions=False, approvals=False, changes_requested=False,
                                          renders_finished=False, replies=False, budgets=False,
                                          model_retiring=False)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks() as queued:
        response = _revoke(client_for(member), maya)
    assert response.status_code == 302
    assert mail.outbox == []  # the request answered without talking to the mail server

    for callback in queued:  # the commit: the queued tasks run (inline here, as a worker would)
        callback()
    assert sorted(m.to[0] for m in mail.outbox) == sorted([owner.email, editor.email])
    assert {m.subject for m in mail.outbox} == {"[Storyboard Studio] Maya revoked consent"}
    assert "0 takes casting them are withheld" in mail.outbox[0].body


# --- invitations ----------------------------------------------------------------------------------

def _invite(client, team, email="new@example.com"):
    return client.post(reverse("projects:team_members", args=[team.pk]), {"email": email, "role": "reviewer"})


def test_inviting_with_a_failing_mail_server_answers_normally_and_keeps_the_invitation(
        client_for, owner, team, failing_mail, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = _invite(client_for(owner), team)

    assert response.status_code == 302
    invitation = Invitation.objects.get(team=team, email="new@example.com")
    assert invitation.is_usable
    assert failing_mail.attempts == 1


def test_the_invitation_email_is_sent_by_the_task_after_the_request(client_for, owner, team,
                                                                   django_capture_on_commit_callbacks):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks() as queued:
        _invite(client_for(owner), team)
    assert mail.outbox == []

    for callback in queued:
        callback()
    (message,) = mail.outbox
    assert message.to == ["new@example.com"]
    invitation = Invitation.objects.get(team=team)
    assert reverse("invitation_accept", args=[invitation.token]) in message.body


def test_an_invitation_accepted_before_its_email_left_is_not_emailed(client_for, owner, team, make_user,
                                                                   django_capture_on_commit_callbacks):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks() as queued:
        _invite(client_for(owner), team)
    Invitation.objects.filter(team=team).update(accepted_at="2026-01-01T00:00:00Z")
    for callback in queued:
        callback()
    assert mail.outbox == []


# --- the task: tried again later, then given up and logged -----------------------------------------

def _run_as_worker(task, *args, retries: int):
    """Run `task` as a worker runs a delivery (not inline), on its `retries`-th retry."""
    task.push_request(retries=retries, is_eager=False, id="mail-test", args=args, kwargs={})
    try:
        return task.run(*args)
    finally:
        task.pop_request()


def test_a_mail_server_failure_is_retried_later_with_a_growing_wait(editor, failing_mail, settings, monkeypatch,
                                                                    caplog):
    settings.EMAIL_RETRIES, settings.EMAIL_RETRY_SECONDS = 3, 60
    scheduled = []

    def retry(*, exc, countdown, max_retries):
        scheduled.append((countdown, max_retries, type(exc)))
        return Retry(exc=exc, when=countdown)

    # The worker's own scheduling (a message back on the broker) is Celery's: what matters is what is asked.
    monkeypatch.setattr(activity_tasks.send_notification, "retry", retry)
    with caplog.at_level(logging.WARNING, logger="projects.activity.tasks"):
        for retries in range(3):
            with pytest.raises(Retry):
                _run_as_worker(activity_tasks.send_notification, editor.pk, "Hello", "Body", retries=retries)

    assert scheduled == [(60, 3, smtplib.SMTPServerDisconnected), (120, 3, smtplib.SMTPServerDisconnected),
                         (240, 3, smtplib.SMTPServerDisconnected)]
    assert failing_mail.attempts == 3
    assert caplog.text.count("retrying in") == 3


def test_after_the_last_retry_the_email_is_given_up_and_logged_without_raising(editor, failing_mail, settings,
                                                                              caplog):
    settings.EMAIL_RETRIES = 3
    with caplog.at_level(logging.ERROR, logger="projects.activity.tasks"):
        _run_as_worker(activity_tasks.send_notification, editor.pk, "Hello", "Body", retries=3)
    assert failing_mail.attempts == 1
    assert f"email 'Hello' to {editor.email} not sent after 4 tries, given up" in caplog.text


def test_the_email_settings_say_a_withdrawn_consent_is_emailed_whatever_is_chosen(client_for, editor):
    page = client_for(editor).get(reverse("projects:notification_settings")).content.decode()
    assert "everyone in the team is emailed, whatever they chose here" in page
