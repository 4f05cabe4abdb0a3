"""Sign-in plumbing: who the client is, how login failures lock, how sessions idle out."""

from __future__ import annotations

import ipaddress
import time

from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


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


class StudioAxesHandler(AxesDatabaseHandler):
    """axes' database handler with one limit per account and a higher one per address.

    AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"] gives two groups of
    attempts; axes compares the larger count with one AXES_FAILURE_LIMIT. Here the
    address group only counts as "at the limit" once it reaches LOGIN_IP_FAILURE_LIMIT.
    """

    def get_failures(self, request, credentials=None) -> int:
        groups = self.get_user_attempts(request, credentials)
        counts = [qs.aggregate(n=Sum("failures_since_start"))["n"] or 0 for qs in groups]
        if len(counts) != 2:
            return max(counts, default=0)
        account, address = counts
        return max(account, settings.LOGIN_FAILURE_LIMIT if address >= settings.LOGIN_IP_FAILURE_LIMIT else 0)


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """What a locked-out login sees: the studio's page, when to try again, and a way out."""
    # axes counts the cool-off from the latest failure, so "in N minutes" holds from now.
    return render(request, "registration/locked_out.html",
                  {"minutes": settings.LOGIN_COOLOFF_MINUTES}, status=429)


IDLE_MARK = "_idle_minute"


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
        minute = int(time.time() // 60)
        # Loading an expired or forged key empties session_key: never revive one.
        if session.get(IDLE_MARK) != minute and session.session_key:
            session[IDLE_MARK] = minute
        return response
