"""Guessing is not free: login lockout, guest link password throttling, account basics."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.sessions.models import Session
from django.core import mail
from django.db.models import F
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from projects.apps import create_cache_tables
from projects.models import Notification, NotificationKind, ReviewLink
from projects.review import guest_links
from projects.throttle import (
    slowdown_fail,
    slowdown_wait,
    throttle_fail,
    throttle_key,
    throttle_wait,
)
from studio_site import settings as studio_settings
from studio_site.accounts import IDLE_MARK, client_ip
from tests.conftest import PASSWORD

LOCKED = "Too many failed login attempts. Try again in 15 minutes."


def log_in(client, username, password, ip="10.0.0.1", **extra):
    return client.post(reverse("login"), {"username": username, "password": password},
                       REMOTE_ADDR=ip, **extra)


def is_logged_in(client) -> bool:
    return client.get(reverse("projects:project_list")).status_code == 200


@pytest.fixture
def clock(monkeypatch):
    """The cache's clock (throttle slots and waits expire by time.time()), moved by hand."""
    now = [time.time()]
    monkeypatch.setattr(time, "time", lambda: now[0])

    class Clock:
        def advance(self, seconds: float) -> None:
            now[0] += seconds

    return Clock()


def guesses_from_everywhere(username, count, clock, every=61):
    """A guesser with many addresses, each trying once, spaced so that every wrong password counts."""
    for n in range(count):
        clock.advance(every)
        log_in(Client(), username, f"guess-{n}", ip=f"203.0.113.{n}")


# --- login lockout ---------------------------------------------------------------------------------


def test_the_right_password_is_refused_once_an_account_reached_the_failure_limit(client, owner):
    for attempt in range(4):
        response = log_in(client, owner.username, f"guess-{attempt}")
        assert response.status_code == 200
        assert "didn't match" in response.content.decode()
    fifth = log_in(client, owner.username, "guess-5")
    assert fifth.status_code == 429 and LOCKED in fifth.content.decode()

    response = log_in(client, owner.username, PASSWORD)

    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert reverse("password_reset") in response.content.decode()
    assert not is_logged_in(client)


def test_wrong_passwords_lock_only_the_account_and_address_pair_that_made_them(client, owner):
    attacker = Client()
    for attempt in range(5):
        log_in(attacker, owner.username, f"guess-{attempt}", ip="203.0.113.66")
    assert log_in(attacker, owner.username, PASSWORD, ip="203.0.113.66").status_code == 429

    # The account's owner, anywhere else, is not locked out by a stranger's guesses.
    assert log_in(client, owner.username, PASSWORD, ip="192.0.2.77").status_code == 302
    assert is_logged_in(client)


def test_the_owners_own_address_still_works_after_guesses_from_everywhere(client, owner, settings, clock):
    settings.LOGIN_ACCOUNT_FAILURE_LIMIT = 6
    assert log_in(Client(), owner.username, PASSWORD, ip="198.51.100.4").status_code == 302  # the office, last week
    guesses_from_everywhere(owner.username, 20, clock)

    # A browser she never used, but from the office: not delayed, not locked.
    assert log_in(client, owner.username, PASSWORD, ip="198.51.100.4").status_code == 302
    assert is_logged_in(client)


def test_guesses_from_everywhere_make_a_new_place_wait_but_never_lock_it(client, owner, settings, clock):
    settings.LOGIN_ACCOUNT_FAILURE_LIMIT = 6
    settings.LOGIN_ACCOUNT_MAX_WAIT_SECONDS = 40
    guesses_from_everywhere(owner.username, 14, clock)

    waiting = log_in(client, owner.username, PASSWORD, ip="192.0.2.50")
    assert waiting.status_code == 429
    assert "a login from a new place waits between tries. Try again in 40 seconds." in waiting.content.decode()
    # Guesses refused while the account waits are not counted: they cannot stretch the wait.
    clock.advance(20)
    assert log_in(Client(), owner.username, "more", ip="203.0.113.200").status_code == 429
    clock.advance(21)

    assert log_in(client, owner.username, PASSWORD, ip="192.0.2.50").status_code == 302
    assert is_logged_in(client)


def test_a_browser_that_logged_in_before_is_not_delayed_wherever_it_is(client, owner, settings, clock):
    settings.LOGIN_ACCOUNT_FAILURE_LIMIT = 3
    assert log_in(client, owner.username, PASSWORD, ip="198.51.100.4").status_code == 302
    client.post(reverse("logout"))
    guesses_from_everywhere(owner.username, 6, clock)

    assert log_in(Client(), owner.username, PASSWORD, ip="192.0.2.50").status_code == 429  # a stranger's browser waits
    assert log_in(client, owner.username, PASSWORD, ip="192.0.2.50").status_code == 302  # her laptop, on a train


def test_tries_while_locked_do_not_stretch_the_lock(client, owner):
    for attempt in range(5):
        log_in(client, owner.username, f"guess-{attempt}")
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=10))
    assert log_in(client, owner.username, "still guessing").status_code == 429
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=6))

    # 16 minutes after the failure that locked, whatever was tried in between.
    assert log_in(client, owner.username, PASSWORD).status_code == 302


def test_one_guess_every_fourteen_minutes_never_keeps_the_owner_out(client, owner, clock):
    for _ in range(10):
        log_in(Client(), owner.username, "guess", ip="203.0.113.66")
        AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=14))
        clock.advance(14 * 60)

    assert log_in(client, owner.username, PASSWORD, ip="192.0.2.77").status_code == 302


def test_a_locked_login_says_how_long_is_left(client, owner):
    for attempt in range(5):
        log_in(client, owner.username, f"guess-{attempt}")
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=10, seconds=5))

    page = log_in(client, owner.username, PASSWORD).content.decode()

    assert "Too many failed login attempts. Try again in 5 minutes." in page
    assert "not counted and do not make the wait longer" in page


def test_one_address_spraying_a_password_over_many_accounts_is_locked(client, make_user, settings):
    settings.LOGIN_IP_FAILURE_LIMIT = 8
    for n in range(8):
        log_in(client, f"someone-{n}", "Summer2026!", ip="203.0.113.9")
    user = make_user("paula")

    assert log_in(client, user.username, PASSWORD, ip="203.0.113.9").status_code == 429
    # Her account itself was never guessed at: from her own address she gets in.
    assert log_in(client, user.username, PASSWORD, ip="198.51.100.4").status_code == 302
    assert is_logged_in(client)


def test_logging_in_to_ones_own_account_does_not_wipe_the_addresss_guesses_at_others(client, make_user, settings):
    settings.LOGIN_IP_FAILURE_LIMIT = 8
    mallory = make_user("mallory")
    for n in range(7):
        log_in(Client(), f"someone-{n}", "Summer2026!", ip="203.0.113.9")
    assert log_in(Client(), mallory.username, PASSWORD, ip="203.0.113.9").status_code == 302

    log_in(Client(), "someone-7", "Summer2026!", ip="203.0.113.9")

    assert log_in(client, mallory.username, PASSWORD, ip="203.0.113.9").status_code == 429


def test_a_successful_login_starts_the_count_again(client, owner):
    for attempt in range(4):
        log_in(client, owner.username, f"guess-{attempt}")
    assert log_in(client, owner.username, PASSWORD).status_code == 302
    client.post(reverse("logout"))
    for attempt in range(4):
        log_in(client, owner.username, f"again-{attempt}")

    assert log_in(client, owner.username, PASSWORD).status_code == 302
    assert is_logged_in(client)


def test_after_the_cool_off_the_right_password_logs_in(client, owner):
    for attempt in range(5):
        log_in(client, owner.username, f"guess-{attempt}")
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))

    assert log_in(client, owner.username, PASSWORD).status_code == 302
    assert is_logged_in(client)


def test_forwarded_for_is_ignored_unless_behind_the_tls_proxy(client, owner, settings):
    # Without the proxy setting, a forged header can't buy fresh addresses.
    for attempt in range(5):
        log_in(client, f"nobody-{attempt}", "x", ip="10.9.9.9", HTTP_X_FORWARDED_FOR=f"172.16.0.{attempt}")
    assert AccessAttempt.objects.filter(ip_address="10.9.9.9").count() == 5

    settings.BEHIND_TLS_PROXY = True
    log_in(client, "nobody", "x", ip="10.9.9.9", HTTP_X_FORWARDED_FOR="6.6.6.6, 172.16.5.5")
    assert AccessAttempt.objects.filter(ip_address="172.16.5.5").exists()


@pytest.mark.parametrize("forwarded, expected", [
    ("", "10.0.0.2"),
    ("198.51.100.7", "198.51.100.7"),
    ("1.2.3.4, 198.51.100.7", "198.51.100.7"),  # the left entry is the client's own claim
    ("not-an-address", "10.0.0.2"),
])
def test_client_ip_believes_only_the_entry_our_proxy_appended(settings, forwarded, expected):
    settings.BEHIND_TLS_PROXY = True
    settings.TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_the_login_page_offers_a_password_reset(client):
    response = client.get(reverse("login"))
    assert "Forgot your password?" in response.content.decode()
    assert reverse("password_reset") in response.content.decode()


# --- guest link passwords --------------------------------------------------------------------------


@pytest.fixture
def locked_link(project, owner):
    link, token = guest_links.link_create(project=project, user=owner, label="Client", days=7,
                                          scope=ReviewLink.Scope.CUT, password="open sesame")
    return link, token


def guess(client, token, password, ip="10.0.0.1"):
    return client.post(reverse("projects:guest_review", args=[token]),
                       {"action": "password", "password": password}, REMOTE_ADDR=ip)


def test_the_fifth_wrong_link_password_rests_the_form(client, locked_link):
    _link, token = locked_link
    for attempt in range(4):
        response = guess(client, token, f"guess-{attempt}")
        assert response.status_code == 403 and "That password is not right." in response.content.decode()

    fifth = guess(client, token, "guess-5")

    assert fifth.status_code == 429
    assert "Too many wrong passwords; try again in 15 minutes." in fifth.content.decode()


def test_the_right_link_password_is_refused_while_the_form_rests(client, locked_link):
    _link, token = locked_link
    for attempt in range(5):
        guess(client, token, f"guess-{attempt}")

    response = guess(client, token, "open sesame")

    assert response.status_code == 429
    assert 'name="password"' in client.get(reverse("projects:guest_review", args=[token])).content.decode()


def test_another_guest_of_the_link_is_not_locked_by_one_guests_typos(client, locked_link):
    _link, token = locked_link
    for attempt in range(5):
        guess(client, token, f"guess-{attempt}", ip="10.0.0.1")

    assert guess(client, token, "open sesame", ip="10.0.0.2").status_code == 302


def test_guesses_from_many_addresses_slow_the_link_but_never_lock_the_real_guest_out(client, locked_link, settings,
                                                                                     clock):
    settings.GUEST_PASSWORD_LINK_LIMIT = 6
    settings.GUEST_PASSWORD_LINK_MAX_WAIT_SECONDS = 30
    _link, token = locked_link
    for n in range(20):
        clock.advance(31)
        guess(Client(), token, f"guess-{n}", ip=f"10.0.2.{n}")

    slowed = guess(client, token, "open sesame", ip="10.0.3.1")
    assert slowed.status_code == 429
    assert "so each try waits a moment: try again in 30 seconds." in slowed.content.decode()
    # A guess refused while the link waits is not counted: it cannot stretch the wait.
    clock.advance(15)
    assert guess(Client(), token, "guess-again", ip="10.0.2.99").status_code == 429
    clock.advance(16)
    assert guess(client, token, "open sesame", ip="10.0.3.1").status_code == 302


def test_an_address_that_opened_the_link_before_is_not_slowed(client, locked_link, settings, clock):
    settings.GUEST_PASSWORD_LINK_LIMIT = 3
    _link, token = locked_link
    assert guess(Client(), token, "open sesame", ip="10.0.0.9").status_code == 302  # the client's office, Monday
    for n in range(8):
        clock.advance(61)
        guess(Client(), token, f"guess-{n}", ip=f"10.0.2.{n}")

    assert guess(Client(), token, "open sesame", ip="10.0.0.7").status_code == 429  # a new address waits
    assert guess(client, token, "open sesame", ip="10.0.0.9").status_code == 302  # a colleague at that office


def test_the_links_owner_is_told_once_per_burst_of_guessing(locked_link, settings, clock, owner, editor,
                                                            django_capture_on_commit_callbacks):
    settings.GUEST_PASSWORD_LINK_LIMIT = 6
    link, token = locked_link

    def burst():
        with django_capture_on_commit_callbacks(execute=True):
            for n in range(12):
                clock.advance(61)
                guess(Client(), token, f"guess-{n}", ip=f"10.0.2.{n}")

    def alerts():
        return list(Notification.objects.filter(kind=NotificationKind.SECURITY))

    burst()
    (alert,) = alerts()
    assert alert.recipient == owner and alert.team_id == link.project.team_id
    assert alert.text == f"Someone is guessing the password of the review link “Client” ({link.project.name})"
    assert alert.path == reverse("projects:review_links", args=[link.project_id])
    assert [m.to for m in mail.outbox] == [[owner.email]]
    assert "revoke it and make a new one" in mail.outbox[0].body

    clock.advance(16 * 60)  # quiet for a cool-off: the next burst is news again
    burst()
    assert [a.recipient for a in alerts()] == [owner, owner]


def test_the_link_password_works_again_after_the_cool_off(client, locked_link, monkeypatch):
    _link, token = locked_link
    for attempt in range(5):
        guess(client, token, f"guess-{attempt}")
    later = time.time() + 16 * 60
    monkeypatch.setattr(time, "time", lambda: later)

    assert guess(client, token, "open sesame").status_code == 302


def test_a_resting_link_says_how_long_is_left(client, locked_link, monkeypatch):
    _link, token = locked_link
    for attempt in range(5):
        guess(client, token, f"guess-{attempt}")
    later = time.time() + 10 * 60 + 5
    monkeypatch.setattr(time, "time", lambda: later)

    assert "try again in 5 minutes." in guess(client, token, "open sesame").content.decode()
    monkeypatch.setattr(time, "time", lambda: later + 4 * 60 + 30)
    assert "try again in 1 minute." in guess(client, token, "open sesame").content.decode()


@pytest.fixture
def embedded_cache(db, settings, monkeypatch):
    """The embedded default (no Redis): every web worker process reads the same table,
    which migrate made (no separate createcachetable step to forget)."""
    for name in ("CACHE_URL", "REDIS_URL", "CELERY_BROKER_URL"):
        monkeypatch.delenv(name, raising=False)
    settings.CACHES = studio_settings._caches()
    # What migrate's post_migrate hook runs (CI's test database was migrated with Redis configured).
    create_cache_tables()


def test_failures_are_counted_in_the_database_cache_the_workers_share(embedded_cache):
    key = throttle_key("test", "10.0.0.1")

    assert [throttle_fail(key=key, limit=3, minutes=15) for _ in range(3)] == [0, 0, 15]
    assert throttle_wait(key=key) == 15
    assert throttle_wait(key=throttle_key("test", "10.0.0.2")) == 0
    link = throttle_key("test-link")
    assert [slowdown_fail(key=link, free=2, minutes=15, longest=5) for _ in range(5)] == [0, 0, 2, 4, 5]
    assert slowdown_wait(key=link) == 5


def test_failures_under_made_up_names_do_not_flush_an_accounts_count(embedded_cache):
    account = throttle_key("login-account", "rita")
    for _ in range(3):
        slowdown_fail(key=account, free=3, minutes=60, longest=300)
    for n in range(400):  # one wrong password each for 400 usernames nobody has
        slowdown_fail(key=throttle_key("login-account", f"nobody-{n}"), free=3, minutes=60, longest=300)

    assert slowdown_fail(key=account, free=3, minutes=60, longest=300) == 2


# --- password reset ----------------------------------------------------------------------------------


@pytest.fixture
def ask_reset(client, django_capture_on_commit_callbacks):
    """Ask for a reset email; the email leaves through the worker once the request commits."""
    def ask(email, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("password_reset"), {"email": email}, **extra)

    return ask


def reset_link() -> str:
    assert len(mail.outbox) == 1
    link = re.search(r"(https?://\S+/password-reset/\S+/)", str(mail.outbox[0].body))
    assert link, mail.outbox[0].body
    return link.group(1)


def test_a_forgotten_password_is_reset_through_an_absolute_emailed_link(client, owner, ask_reset):
    response = ask_reset(owner.email)
    assert response.status_code == 302 and response.url == reverse("password_reset_done")
    link = reset_link()
    assert link.startswith("http://testserver/password-reset/")
    assert mail.outbox[0].to == [owner.email]

    form = client.get(link, follow=True)
    assert "Choose a new password" in form.content.decode()
    done = client.post(form.redirect_chain[-1][0], {"new_password1": "a brand new phrase 42",
                                                    "new_password2": "a brand new phrase 42"})

    assert done.status_code == 302 and done.url == reverse("password_reset_complete")
    owner.refresh_from_db()
    assert owner.check_password("a brand new phrase 42")
    assert "already been used" in client.get(link, follow=True).content.decode()


def test_the_reset_link_uses_the_public_address_when_set(client, owner, ask_reset, settings):
    settings.PUBLIC_BASE_URL = "https://studio.example.com/"
    ask_reset(owner.email)
    assert reset_link().startswith("https://studio.example.com/password-reset/")


def test_an_unknown_address_gets_the_same_answer_and_no_email(client, owner, ask_reset):
    response = ask_reset("nobody@example.com", follow=True)

    assert "If an account uses that address" in response.content.decode()
    assert mail.outbox == []


def test_reset_requests_from_one_address_are_throttled(client, owner, ask_reset):
    for _ in range(5):
        assert ask_reset(owner.email).status_code == 302

    response = ask_reset(owner.email)

    assert response.status_code == 429
    assert "Too many reset requests; try again in 15 minutes." in response.content.decode()
    assert len(mail.outbox) == 5


def test_resetting_the_password_lifts_a_login_lock(client, owner, ask_reset):
    for attempt in range(5):
        log_in(client, owner.username, f"guess-{attempt}")
    ask_reset(owner.email)
    form = client.get(reset_link(), follow=True)
    client.post(form.redirect_chain[-1][0], {"new_password1": "a brand new phrase 42",
                                             "new_password2": "a brand new phrase 42"})

    assert log_in(client, owner.username, "a brand new phrase 42").status_code == 302


# --- password change ---------------------------------------------------------------------------------


def test_a_member_changes_their_password_from_the_top_bar(client_for, owner):
    client = client_for(owner)
    assert reverse("password_change") in client.get(reverse("projects:project_list")).content.decode()

    response = client.post(reverse("password_change"), {
        "old_password": PASSWORD, "new_password1": "a brand new phrase 42", "new_password2": "a brand new phrase 42"})

    assert response.status_code == 302 and response.url == reverse("password_change_done")
    owner.refresh_from_db()
    assert owner.check_password("a brand new phrase 42")
    assert is_logged_in(client)


def test_a_wrong_old_password_changes_nothing(client_for, owner):
    client = client_for(owner)
    response = client.post(reverse("password_change"), {
        "old_password": "not it", "new_password1": "a brand new phrase 42", "new_password2": "a brand new phrase 42"})

    assert response.status_code == 200
    assert "Your old password was entered incorrectly" in response.content.decode()
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)


def test_changing_the_password_signs_out_other_browsers(client_for, owner):
    other = Client()
    other.force_login(owner)
    client_for(owner).post(reverse("password_change"), {
        "old_password": PASSWORD, "new_password1": "a brand new phrase 42", "new_password2": "a brand new phrase 42"})

    assert not is_logged_in(other)


def test_password_change_needs_a_login(client):
    response = client.get(reverse("password_change"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


# --- idle sessions -----------------------------------------------------------------------------------


def test_a_session_used_within_the_idle_timeout_stays_signed_in(client_for, owner, settings):
    client = client_for(owner)
    session = Session.objects.get()
    # Last used 7 hours ago, expiring in one: a request slides the expiry forward.
    store = client.session
    store[IDLE_MARK] = 0
    store.save()
    Session.objects.update(expire_date=timezone.now() + timedelta(hours=1))

    assert is_logged_in(client)
    session = Session.objects.get(pk=session.pk)
    assert session.expire_date > timezone.now() + timedelta(minutes=settings.SESSION_IDLE_MINUTES - 1)


def test_a_session_idle_past_the_timeout_must_log_in_again(client_for, owner):
    client = client_for(owner)
    Session.objects.update(expire_date=timezone.now() - timedelta(minutes=1))

    response = client.get(reverse("projects:project_list"))

    assert response.status_code == 302 and response.url.startswith(reverse("login"))
