"""Sign-in plumbing: who the client is, how login failures lock or slow, how sessions idle out."""

from __future__ import annotations

import ipaddress
import math
import time
from datetime import timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessLog
from django.conf import settings
from django.core import signing
from django.db.models import Max, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from projects.throttle import slowdown_clear, slowdown_fail, slowdown_wait, throttle_key


def _valid_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def client_ip(request: HttpRequest) -> str:
    """The address a request came from, for lockouts and throttles.

    X-Forwarded-For is only believed behind our own TLS proxy (BEHIND_TLS_PROXY),
    and then only the entry our proxies appended (TRUSTED_PROXY_COUNT from the
    right): anything left of it is whatever the client chose to send.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    if settings.BEHIND_TLS_PROXY:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        count = max(settings.TRUSTED_PROXY_COUNT, 1)
        if len(hops) >= count and _valid_ip(hops[-count]):
            return hops[-count]
    return remote if _valid_ip(remote) else "0.0.0.0"


KNOWN_BROWSER_COOKIE = "studio_known"
KNOWN_FOR = timedelta(days=90)
_KNOWN_SALT = "studio.accounts.known-browser"


def account_key(username) -> str:
    """The throttle key of one account's wrong passwords from everywhere."""
    return throttle_key("login-account", username or "")


def account_slowdown_clear(username: str) -> None:
    slowdown_clear(key=account_key(username), free=settings.LOGIN_ACCOUNT_FAILURE_LIMIT,
                   longest=settings.LOGIN_ACCOUNT_MAX_WAIT_SECONDS)


def _browser_accounts(request: HttpRequest) -> list[str]:
    try:
        names = signing.loads(request.COOKIES.get(KNOWN_BROWSER_COOKIE, ""), salt=_KNOWN_SALT, max_age=KNOWN_FOR)
    except signing.BadSignature:
        return []
    return [n for n in names if isinstance(n, str)] if isinstance(names, list) else []


def browser_remember(request: HttpRequest, response: HttpResponse, username: str) -> None:
    """This browser signed in as `username`, or its holder proved they own the account's mailbox:
    it is one of the account's usual places, never delayed by guesses from elsewhere."""
    names = [username] + [n for n in _browser_accounts(request) if n != username][:4]
    response.set_cookie(KNOWN_BROWSER_COOKIE, signing.dumps(names, salt=_KNOWN_SALT),
                        max_age=int(KNOWN_FOR.total_seconds()), httponly=True, samesite="Lax",
                        secure=settings.SESSION_COOKIE_SECURE)


def known_client(request: HttpRequest, username: str) -> bool:
    """Whether the account signed in from this browser or this address lately."""
    if username in _browser_accounts(request):
        return True
    return AccessLog.objects.filter(username=username, ip_address=client_ip(request),
                                    attempt_time__gte=timezone.now() - KNOWN_FOR).exists()


class StudioAxesHandler(AxesDatabaseHandler):
    """axes' database handler, with locks nobody can aim at someone else.

    AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"] gives two groups of
    attempts: the account and address pair, locked at LOGIN_FAILURE_LIMIT, and the address across
    accounts, locked at LOGIN_IP_FAILURE_LIMIT. An account's failures from everywhere only slow
    sign-ins from places the account has not used (projects.throttle's slowdown); they never lock.
    """

    def _groups(self, request, credentials) -> list[dict]:
        return [qs.aggregate(n=Sum("failures_since_start"), last=Max("attempt_time"))
                for qs in self.get_user_attempts(request, credentials)]

    def get_failures(self, request, credentials=None) -> int:
        pair, address = (group["n"] or 0 for group in self._groups(request, credentials))
        if address >= settings.LOGIN_IP_FAILURE_LIMIT:
            return max(pair, settings.LOGIN_FAILURE_LIMIT)
        return pair

    def locked_for(self, request, credentials=None) -> int:
        """Seconds left of this pair's or this address's lock (0: none)."""
        limits = (settings.LOGIN_FAILURE_LIMIT, settings.LOGIN_IP_FAILURE_LIMIT)
        # Tries while locked are not recorded: the latest failure is the one that locked.
        latest = [group["last"] for group, limit in zip(self._groups(request, credentials), limits)
                  if (group["n"] or 0) >= limit]
        if not latest:
            return 0
        left = max(latest) + get_cool_off(request) - timezone.now()
        return max(math.ceil(left.total_seconds()), 0)

    def slowed_for(self, request, credentials=None) -> int:
        """Seconds this sign-in must wait because the account is being guessed at from everywhere."""
        username = get_client_username(request, credentials)
        left = slowdown_wait(key=account_key(username))
        return 0 if not left or known_client(request, username) else left

    def is_locked(self, request, credentials=None) -> bool:
        return super().is_locked(request, credentials) or self.slowed_for(request, credentials) > 0

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        # A try refused while locked or waiting checked no password: it counts for nothing.
        refused = getattr(request, "axes_locked_out", False)
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is not None and not refused:
            slowdown_fail(key=account_key(get_client_username(request, credentials)),
                          free=settings.LOGIN_ACCOUNT_FAILURE_LIMIT, minutes=settings.LOGIN_ACCOUNT_WINDOW_MINUTES,
                          longest=settings.LOGIN_ACCOUNT_MAX_WAIT_SECONDS)

    def reset_user_attempts(self, request, credentials=None) -> int:
        """A success forgets its own pair's failures only: signing in to one's own account must not
        wipe the address's count of guesses at other accounts."""
        pair = self.filter_user_attempts(request, credentials)[0]
        count, _ = pair.delete()
        return count


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """What a refused login sees: the studio's page, how long to wait and why, and a way out."""
    handler = AxesProxyHandler.get_implementation()
    locked = handler.locked_for(request, credentials)
    slowed = 0 if locked else handler.slowed_for(request, credentials)
    wait = locked or slowed or 1
    return render(request, "registration/locked_out.html", {
        "slowed": bool(slowed), "seconds": wait if wait < 60 else 0, "minutes": math.ceil(wait / 60),
    }, status=429)


IDLE_MARK = "_idle_minute"


def idle_minute() -> int:
    """The minute a session's use is marked with (tests hold it still so counted queries do not
    gain the session's save when a run crosses a minute)."""
    return int(time.time() // 60)


class SessionIdleMiddleware:
    """Slide a signed-in session's expiry forward while it is used.

    Marking the session modified at most once a minute makes SessionMiddleware
    save it with a fresh SESSION_COOKIE_AGE: an idle timeout, without a session
    write on every request (a video plays as dozens of range requests).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is None or not session.session_key:
            return response  # no session cookie: nothing to keep alive
        if getattr(request, "session_idle_exempt", False):
            return response  # a page's own background traffic, not the person
        minute = idle_minute()
        # Loading an expired or forged key empties session_key: never revive one.
        if session.get(IDLE_MARK) != minute and session.session_key:
            session[IDLE_MARK] = minute
        return response
