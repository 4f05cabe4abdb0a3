"""Teams: owners invite by single-use expiring links, members switch teams, roles gate actions."""

import runpy
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.urls import reverse
from django.utils import timezone

from projects.models import Invitation, Membership, Role, Team
from projects.teams import services as team_services

CLOSED = "only its staff create teams"


def invite(client, team, email="new@example.com", role="reviewer"):
    return client.post(reverse("projects:team_members", args=[team.pk]), {"email": email, "role": role})


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """The request's transaction commits: the emails it queued are sent (by the task, inline here)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def accept_url_from_mail():
    body = mail.outbox[-1].body
    return next(word for word in body.split() if "/invitations/" in word)


def test_an_owner_invites_and_the_invitee_joins_with_the_chosen_role(client_for, owner, team, client, committed):
    with committed():
        invite(client_for(owner), team)
    assert mail.outbox[-1].to == ["new@example.com"]
    url = accept_url_from_mail()
    client.logout()
    page = client.get(url)
    assert "Join Harbour Films" in page.content.decode()
    response = client.post(url, {"username": "newbie", "password1": "a-long-pass-phrase", "password2": "a-long-pass-phrase"})
    assert response.url == reverse("projects:project_list")
    membership = Membership.objects.get(user__username="newbie")
    assert (membership.team, membership.role) == (team, Role.REVIEWER)
    # Logged in as the new member straight away.
    assert client.get(reverse("projects:project_list")).context["request"].user.username == "newbie"


def test_an_invitation_works_only_once(client_for, owner, team, client, committed):
    with committed():
        invite(client_for(owner), team)
    url = accept_url_from_mail()
    client.logout()
    client.post(url, {"username": "first", "password1": "a-long-pass-phrase", "password2": "a-long-pass-phrase"})
    client.logout()
    again = client.post(url, {"username": "second", "password1": "a-long-pass-phrase", "password2": "a-long-pass-phrase"})
    assert again.status_code == 410
    assert not Membership.objects.filter(user__username="second").exists()


def test_an_expired_invitation_is_refused(client, team, owner):
    invitation = Invitation.objects.create(team=team, email="late@example.com", role=Role.EDITOR, invited_by=owner,
                                           expires_at=timezone.now() - timedelta(minutes=1))
    response = client.get(reverse("invitation_accept", args=[invitation.token]))
    assert response.status_code == 410
    assert "can no longer be used" in response.content.decode()


def test_mismatched_passwords_keep_the_username_and_join_nobody(client, team, owner):
    invitation = Invitation.objects.create(team=team, email="x@example.com", role=Role.EDITOR, invited_by=owner)
    response = client.post(reverse("invitation_accept", args=[invitation.token]),
                           {"username": "typo", "password1": "a-long-pass-phrase", "password2": "another-pass-phrase"})
    html = response.content.decode()
    assert "The two passwords differ." in html and 'value="typo"' in html
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_someone_logged_in_with_another_address_is_shown_whom_the_invitation_is_for(client_for, owner, team,
                                                                                   make_user):
    invitation = Invitation.objects.create(team=team, email="new@example.com", role=Role.EDITOR, invited_by=owner)
    url = reverse("invitation_accept", args=[invitation.token])
    forwarded_to = client_for(make_user("sam"))  # sam@example.com, given the link by the invitee

    page = forwarded_to.get(url)
    joined = forwarded_to.post(url)

    html = page.content.decode()
    assert page.status_code == 403 and joined.status_code == 403
    assert "This invitation is for new@example.com." in html
    assert "You are logged in as sam (sam@example.com), so it cannot add you to the team." in html
    # The way out: log out and come back to the same link, as whoever it is for.
    assert f'action="{reverse("logout")}"' in html and f'name="next" value="{url}"' in html
    assert "Join the team" not in html
    assert not Membership.objects.filter(team=team, user__username="sam").exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None and invitation.is_usable


def test_logging_out_from_someone_elses_invitation_comes_back_to_it(client_for, owner, team, make_user):
    invitation = Invitation.objects.create(team=team, email="new@example.com", role=Role.EDITOR, invited_by=owner)
    url = reverse("invitation_accept", args=[invitation.token])
    client = client_for(make_user("sam"))

    response = client.post(reverse("logout"), {"next": url}, follow=True)

    assert response.redirect_chain[-1][0] == url
    assert 'name="password1"' in response.content.decode()  # the invitee makes their account here


def test_the_account_with_the_invited_address_joins_whatever_its_case(client_for, owner, team, make_user):
    invitee = make_user("ines")
    get_user_model().objects.filter(pk=invitee.pk).update(email="Ines.Martin@Example.com")
    invitation = Invitation.objects.create(team=team, email="ines.martin@example.com", role=Role.REVIEWER,
                                           invited_by=owner)

    response = client_for(invitee).post(reverse("invitation_accept", args=[invitation.token]))

    assert response.status_code == 302 and response.url == reverse("projects:project_list")
    assert Membership.objects.get(team=team, user=invitee).role == Role.REVIEWER


def test_an_invitee_who_has_an_account_is_asked_to_log_in_not_to_sign_up_again(client, owner, team, make_user):
    make_user("ines")  # ines@example.com
    invitation = Invitation.objects.create(team=team, email="Ines@Example.com", role=Role.EDITOR, invited_by=owner)
    url = reverse("invitation_accept", args=[invitation.token])

    page = client.get(url)
    second_account = client.post(url, {"username": "ines2", "password1": "a-long-pass-phrase",
                                       "password2": "a-long-pass-phrase"})

    html = page.content.decode()
    assert "An account already uses Ines@Example.com: log in to it to join the team." in html
    assert f'action="{reverse("login")}"' in html and f'name="next" value="{url}"' in html
    assert 'name="password1"' not in html
    assert second_account.status_code == 409
    assert not Membership.objects.filter(team=team).exclude(user=owner).exists()
    assert not get_user_model().objects.filter(username="ines2").exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_the_invitation_service_refuses_an_account_with_another_address(owner, team, make_user):
    invitation = Invitation.objects.create(team=team, email="new@example.com", role=Role.OWNER, invited_by=owner)

    with pytest.raises(ValidationError, match="This invitation is for new@example.com, not for sam."):
        team_services.invitation_accept(invitation=invitation, user=make_user("sam"))

    invitation.refresh_from_db()
    assert invitation.accepted_at is None


@pytest.mark.parametrize("role", ["editor", "reviewer", "viewer"])
def test_only_owners_invite_or_change_roles(request, client_for, team, role, owner, committed):
    client = client_for(request.getfixturevalue(role))
    with committed():
        assert invite(client, team).status_code == 403
    owner_membership = Membership.objects.get(user=owner)
    client.post(reverse("projects:member_update", args=[team.pk, owner_membership.pk]), {"role": "viewer"})
    owner_membership.refresh_from_db()
    assert owner_membership.role == Role.OWNER
    assert not mail.outbox


def test_an_owner_changes_a_role(client_for, owner, team, editor):
    membership = Membership.objects.get(user=editor)
    client_for(owner).post(reverse("projects:member_update", args=[team.pk, membership.pk]), {"role": "reviewer"})
    membership.refresh_from_db()
    assert membership.role == Role.REVIEWER


def test_the_last_owner_cannot_step_down(client_for, owner, team):
    membership = Membership.objects.get(user=owner)
    response = client_for(owner).post(reverse("projects:member_update", args=[team.pk, membership.pk]),
                                      {"role": "viewer"}, follow=True)
    assert "A team needs at least one owner." in response.content.decode()
    membership.refresh_from_db()
    assert membership.role == Role.OWNER


def test_a_member_of_two_teams_switches_between_them(client_for, owner, team, make_team, project):
    other = make_team("Second Unit", owner=owner)
    client = client_for(owner)
    assert "Harbour Story" in client.get(reverse("projects:project_list")).content.decode()
    client.post(reverse("projects:team_switch", args=[other.pk]))
    page = client.get(reverse("projects:project_list")).content.decode()
    assert "Second Unit" in page and "Harbour Story" not in page


def test_switching_to_a_team_you_are_not_in_is_a_404(client_for, owner, make_team, make_user):
    stranger_team = make_team("Strangers", owner=make_user())
    assert client_for(owner).post(reverse("projects:team_switch", args=[stranger_team.pk])).status_code == 404


# --- who may create a team (TEAM_CREATION) ---------------------------------------------------------

def create_team(client, name="Night Shoot"):
    return client.post(reverse("projects:team_create"), {"name": name})


def test_by_default_anyone_signed_in_creates_a_team_and_owns_it(client_for, make_user):
    user = make_user()
    page = client_for(user).get(reverse("projects:project_list")).content.decode()
    assert 'action="/teams/new/"' in page and CLOSED not in page
    assert create_team(client_for(user)).status_code == 302
    assert Membership.objects.get(user=user, team__name="Night Shoot").role == Role.OWNER


def test_when_only_staff_create_teams_a_user_is_refused_in_words_and_no_team_is_made(
        client_for, make_user, settings):
    settings.TEAM_CREATION = "staff"
    response = create_team(client_for(make_user()))
    assert response.status_code == 403
    assert "On this studio only its staff create teams. Ask a team owner to invite you." in response.content.decode()
    assert not Team.objects.filter(name="Night Shoot").exists()


def test_when_only_staff_create_teams_the_pages_say_so_instead_of_offering_the_form(
        client_for, make_user, owner, settings):
    settings.TEAM_CREATION = "staff"
    newcomer = client_for(make_user()).get(reverse("projects:project_list")).content.decode()
    assert "Ask a team owner for an invitation: on this studio, only its staff create teams." in newcomer
    member = client_for(owner).get(reverse("projects:project_list")).content.decode()
    assert "On this studio only its staff create teams." in member
    assert 'action="/teams/new/"' not in newcomer + member


def test_staff_still_create_teams_when_creation_is_closed(client_for, make_user, settings):
    settings.TEAM_CREATION = "staff"
    staff = make_user(is_staff=True)
    assert 'action="/teams/new/"' in client_for(staff).get(reverse("projects:project_list")).content.decode()
    assert create_team(client_for(staff)).status_code == 302
    assert Membership.objects.filter(user=staff, team__name="Night Shoot", role=Role.OWNER).exists()


@pytest.mark.parametrize("value, expected", [(None, "anyone"), ("staff", "staff"), (" Staff ", "staff")])
def test_the_operator_sets_who_creates_teams_in_the_environment(monkeypatch, value, expected):
    monkeypatch.setenv("SECRET_KEY", "not-written-to-data")
    if value is None:
        monkeypatch.delenv("TEAM_CREATION", raising=False)
    else:
        monkeypatch.setenv("TEAM_CREATION", value)
    assert runpy.run_path(str(django_settings.BASE_DIR / "studio_site" / "settings.py"))["TEAM_CREATION"] == expected


def test_a_misspelt_team_creation_setting_stops_the_start(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "not-written-to-data")
    monkeypatch.setenv("TEAM_CREATION", "admins")
    with pytest.raises(ImproperlyConfigured, match="TEAM_CREATION"):
        runpy.run_path(str(django_settings.BASE_DIR / "studio_site" / "settings.py"))


# --- The invitation's link, on the page -------------------------------------------------------------------

SMTP = "django.core.mail.backends.smtp.EmailBackend"
CONSOLE = "django.core.mail.backends.console.EmailBackend"


def test_a_pending_invitation_shows_its_owner_the_link_with_a_copy_button(client_for, owner, team, settings):
    settings.EMAIL_BACKEND = SMTP  # a mail server: the email leaves, and the link is on the page all the same
    client = client_for(owner)
    invite(client, team)
    invitation = team.invitations.get()
    page = client.get(reverse("projects:team_members", args=[team.pk])).content.decode()
    link = "http://testserver" + reverse("invitation_accept", args=[invitation.token])
    assert f'value="{link}" id="invitation-link-{invitation.pk}"' in page
    assert f'data-copy="#invitation-link-{invitation.pk}"' in page and ">Copy link</button>" in page
    assert 'data-testid="mail-not-sent"' not in page


def test_the_link_starts_at_the_public_address_as_the_email_does(client_for, owner, team, settings, committed):
    settings.PUBLIC_BASE_URL = "https://studio.example"
    with committed():
        invite(client_for(owner), team)
    page = client_for(owner).get(reverse("projects:team_members", args=[team.pk])).content.decode()
    assert f'value="{accept_url_from_mail()}"' in page and accept_url_from_mail().startswith("https://studio.example/")


def test_without_a_mail_server_the_page_says_no_email_was_sent_and_the_link_is_the_way_in(client_for, owner, team,
                                                                                         settings):
    settings.EMAIL_BACKEND = CONSOLE  # EMAIL_HOST unset: emails are printed in the worker's log
    client = client_for(owner)
    response = invite(client, team)
    page = client.get(response.url).content.decode()
    assert "Invitation made for new@example.com, but no email was sent" in page
    assert "Invitation sent" not in page
    assert 'data-testid="mail-not-sent"' in page and "not emailed" in page
    assert reverse("invitation_accept", args=[team.invitations.get().token]) in page


def test_an_email_that_leaves_says_so(client_for, owner, team, settings):
    settings.EMAIL_BACKEND = SMTP
    client = client_for(owner)
    page = client.get(invite(client, team).url).content.decode()
    assert "Invitation sent to new@example.com." in page


def test_only_owners_see_invitation_links_and_an_expired_one_has_none(client_for, owner, editor, team):
    live = Invitation.objects.create(team=team, email="live@example.com", role=Role.EDITOR, invited_by=owner)
    gone = Invitation.objects.create(team=team, email="gone@example.com", role=Role.EDITOR, invited_by=owner,
                                     expires_at=timezone.now() - timedelta(minutes=1))
    owners = client_for(owner).get(reverse("projects:team_members", args=[team.pk])).content.decode()
    assert live.token in owners and gone.token not in owners
    editors = client_for(editor).get(reverse("projects:team_members", args=[team.pk])).content.decode()
    assert live.token not in editors and "live@example.com" not in editors
