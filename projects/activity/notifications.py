"""Notifications: each one recorded in its recipient's inbox (the bell, live) and emailed to those
who want that email — in one place, so the two never disagree."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from projects.activity import tasks as activity_tasks
from projects.live import ChangeKind, live_publish
from projects.models import (
    Activity,
    ActivityKind,
    Notification,
    NotificationKind,
    NotificationPreference,
    RenderDigest,
    UserPreference,
)

SETTLED = (ActivityKind.RENDER_FINISHED, ActivityKind.RENDER_FAILED)
DIGEST_LOST_AFTER = timedelta(minutes=5)
DIGEST_LINES = 40

# What a notification says, in the language active when it is called: notify() calls it once per
# recipient inside that recipient's language. A plain string is said as it is, in every language.
Words = str | Callable[[], str]


def _footer() -> str:
    return "\n\n" + gettext("Change what you receive by email in your notification settings.")


def _said(words: Words) -> str:
    return words() if callable(words) else words


def recipient_languages(users) -> dict[int, str]:
    """The language each user reads the studio in away from a page (their emails, their inbox): the
    one they chose in Settings, else the studio's default: a worker or another person's request has
    no browser of theirs to follow."""
    known = dict(settings.LANGUAGES)
    chosen = dict(UserPreference.objects.filter(user__in=[u.pk for u in users]).values_list("user_id", "language"))
    return {u.pk: chosen[u.pk] if chosen.get(u.pk) in known else settings.LANGUAGE_CODE for u in users}

# The address the studio was reached at by the request being served (StudioAddressMiddleware):
# an email queued now links there when no PUBLIC_BASE_URL is set.
_reached_at: ContextVar[str] = ContextVar("studio_reached_at", default="")


def studio_address() -> str:
    """Where links in emails start: PUBLIC_BASE_URL, else the address of the request being served."""
    return (settings.PUBLIC_BASE_URL or _reached_at.get()).rstrip("/")


class StudioAddressMiddleware:
    """Remembers, for the request, the address the studio was reached at."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _reached_at.set(request.build_absolute_uri("/"))
        try:
            return self.get_response(request)
        finally:
            _reached_at.reset(token)


# Backends that keep an email on this machine (printed to the worker's log, written to a file, kept in
# memory or dropped): with one of these, no email reaches anybody.
UNDELIVERED_BACKENDS = {
    "django.core.mail.backends.console.EmailBackend", "django.core.mail.backends.filebased.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend", "django.core.mail.backends.dummy.EmailBackend",
}


def mail_is_delivered() -> bool:
    """Whether the studio's emails reach people: not without a mail server (EMAIL_HOST unset: the worker prints
    them), so the pages that would rely on an email (an invitation) give its link instead."""
    return settings.EMAIL_BACKEND not in UNDELIVERED_BACKENDS


def preferences_for(user) -> NotificationPreference:
    """The user's saved preferences, or the defaults (everything on) unsaved."""
    return NotificationPreference.objects.filter(user=user).first() or NotificationPreference(user=user)


def wants(user, event: str | None) -> bool:
    """Whether `user` gets the email of `event`; None: news everyone gets, with no opt-out."""
    if event is not None and event not in NotificationPreference.EVENTS:
        raise ValueError(f"Unknown notification event {event!r}")
    if not user.email or not user.is_active:
        return False
    return event is None or getattr(preferences_for(user), event)


def notify(users, event: str | None, *, kind: str, team_id: int, subject: Words, body: Words, path: str,
           actor=None) -> int:
    """Put a notification in each user's inbox and queue the email of those who want `event` (None:
    of all of them); returns how many emails were queued. The emails leave from a worker after commit.
    Each recipient reads both in their own language, whoever's request made them."""
    users = [u for u in {u.pk: u for u in users if u is not None}.values() if u.is_active]
    base = studio_address()
    languages = recipient_languages(users)
    said: dict[int, tuple[str, str]] = {}
    for user in users:
        with translation.override(languages[user.pk]):
            said[user.pk] = (_said(subject), _said(body) + f"\n\n{base + path}" + _footer())
    notifications_record([
        Notification(team_id=team_id, recipient=user, kind=kind, actor=actor if getattr(actor, "pk", None) else None,
                     text=said[user.pk][0][:300], path=path, base_url=base)
        for user in users
    ])
    sent = 0
    for user in users:
        if wants(user, event):
            subject_said, text = said[user.pk]
            activity_tasks.send_notification.delay_on_commit(user.pk, f"[Storyboard Studio] {subject_said}"[:200],
                                                             text)
            sent += 1
    return sent


def notifications_record(notifications: list[Notification]) -> None:
    """Save them, and ring each recipient's bell on their open pages (theirs alone)."""
    if not notifications:
        return
    Notification.objects.bulk_create(notifications)
    for recipient_id, team_id in {n.recipient_id: n.team_id for n in notifications}.items():
        live_publish(kind=ChangeKind.NOTIFICATION, team_id=team_id, recipient_id=recipient_id)


def comment_path(comment) -> str:
    """The review page, at the comment's moment, scrolled to the comment."""
    at = comment.at_seconds if comment.at_seconds is not None else getattr(comment.parent, "at_seconds", None)
    query = f"?t={at:g}" if at is not None else ""
    return reverse("projects:take_review", args=[comment.take_id]) + f"{query}#comment-{comment.pk}"


def invitation_notify(invitation, *, invited_by) -> str:
    """Queue the invitation's email (to the address: the invitee may have no account yet) and put it
    in the inbox of the account that has that address, if one does; returns the link."""
    team = invitation.team
    path = reverse("invitation_accept", args=[invitation.token])
    base = studio_address()
    accounts = list(get_user_model().objects.filter(email__iexact=invitation.email, is_active=True))
    languages = recipient_languages(accounts)
    said = {}
    for user in accounts:
        with translation.override(languages[user.pk]):
            said[user.pk] = gettext("%(who)s invited you to join %(team)s") % {
                "who": invited_by.get_username(), "team": team.name}
    notifications_record([
        Notification(team=team, recipient=user, kind=NotificationKind.INVITATION, actor=invited_by,
                     text=said[user.pk][:300], path=path, base_url=base)
        for user in accounts
    ])
    url = base + path
    words = {"who": invited_by.get_username(), "team": team.name, "role": invitation.get_role_display().lower(),
             "url": url}
    # The email goes to an address that may be nobody's yet: it speaks the inviter's language.
    subject = gettext("You are invited to %(team)s on Storyboard Studio") % words
    body = gettext("%(who)s invited you to join %(team)s as %(role)s.\n\nAccept (valid for 7 days, once): %(url)s\n"
                   ) % words
    activity_tasks.send_invitation.delay_on_commit(invitation.pk, subject, body)
    return url


def address_remember(*, user_id: int) -> None:
    """A take was booked from this address: its author's render digest, sent later by a worker
    that has no request, links there."""
    address = _reached_at.get()
    if not address or settings.PUBLIC_BASE_URL:
        return
    if not RenderDigest.objects.filter(user_id=user_id).exclude(base_url=address).update(base_url=address):
        RenderDigest.objects.get_or_create(user_id=user_id, defaults={"base_url": address})


# --- Finished renders: one digest per author, not one email per take -----------------------------


def render_settled(take) -> None:
    """A take of `take.created_by` finished or failed (its feed entry is recorded): make sure
    that author's digest is scheduled. Only the first settle of a batch schedules it."""
    if not take.created_by_id:
        return
    now = timezone.now()
    delay = settings.RENDER_DIGEST_SECONDS
    # A digest due long ago was lost with its worker: this settle schedules a new one.
    free = Q(due_at__isnull=True) | Q(due_at__lt=now - timedelta(seconds=delay) - DIGEST_LOST_AFTER)
    due = now + timedelta(seconds=delay)
    if not RenderDigest.objects.filter(free, user_id=take.created_by_id).update(due_at=due):
        try:
            with transaction.atomic():  # the author's first digest: it covers every entry so far
                RenderDigest.objects.create(user_id=take.created_by_id, due_at=due)
        except IntegrityError:
            return  # the row exists and a digest is already due
    activity_tasks.send_render_digest.apply_async_on_commit((take.created_by_id,), countdown=delay)


def render_digest_send(user_id: int) -> int:
    """Email the author the takes settled since their last digest; returns how many were in it."""
    with transaction.atomic():
        # One digest at a time per author: a second delivery waits here, then finds nothing new.
        digest = RenderDigest.objects.select_for_update().select_related("user").filter(user_id=user_id).first()
        if digest is None:
            return 0
        # From here on a take that settles schedules the next digest; the entries read here
        # are not repeated there, as last_activity_id moves past them.
        RenderDigest.objects.filter(pk=digest.pk).update(due_at=None)
        entries = list(
            Activity.objects.filter(kind__in=SETTLED, take__created_by_id=user_id, pk__gt=digest.last_activity_id)
            .select_related("project", "scene", "take").order_by("pk")
        )
        if not entries:
            return 0
        RenderDigest.objects.filter(pk=digest.pk).update(last_activity_id=entries[-1].pk)
        base = settings.PUBLIC_BASE_URL.rstrip("/") or digest.base_url.rstrip("/")
        # The author's language, not the worker's: nobody's browser is here.
        with translation.override(recipient_languages([digest.user])[digest.user.pk]):
            notifications_record([
                Notification(team_id=batch[0].project.team_id, recipient_id=user_id, kind=NotificationKind.RENDER,
                             text=text[:300], base_url=base, path=path)
                for batch in _per_project(entries) for text, path in [_batch_entry(batch)]
            ])
            if not wants(digest.user, "renders_finished"):
                return 0
            subject, body = _digest_text(entries, base)
        # Queued with the claim, or not at all.
        activity_tasks.send_notification.delay_on_commit(user_id, f"[Storyboard Studio] {subject}"[:200], body)
    return len(entries)


def _per_project(entries: list[Activity]) -> list[list[Activity]]:
    batches: dict[int, list[Activity]] = {}
    for entry in entries:
        batches.setdefault(entry.project_id, []).append(entry)
    return list(batches.values())


def _outcomes(entries: list[Activity]) -> tuple[int, int, int]:
    """How many finished, failed and are unconfirmed (a take a crashed worker may have created at the
    provider is not plainly "failed": it may be billed)."""
    unconfirmed = sum(e.kind == ActivityKind.RENDER_FAILED and e.take is not None and e.take.billing_unconfirmed
                      for e in entries)
    failed = sum(e.kind == ActivityKind.RENDER_FAILED for e in entries) - unconfirmed
    return len(entries) - failed - unconfirmed, failed, unconfirmed


def _batch_entry(batch: list[Activity]) -> tuple[str, str]:
    """One inbox entry for the takes of one project settled together: a lone take links to its review,
    a batch ("5 takes finished in Harbour Storm") to the project's board, where their frames are."""
    project = batch[0].project
    if len(batch) == 1:
        return f"{project.name} / {batch[0].said}", reverse("projects:take_review", args=[batch[0].take_id])
    finished, failed, unconfirmed = _outcomes(batch)
    words = {"count": len(batch), "project": project.name, "finished": finished, "failed": failed,
             "unconfirmed": unconfirmed}
    if finished == len(batch):
        text = ngettext("%(count)d take finished in %(project)s", "%(count)d takes finished in %(project)s",
                        len(batch)) % words
    elif failed == len(batch):
        text = ngettext("%(count)d take failed in %(project)s", "%(count)d takes failed in %(project)s",
                        len(batch)) % words
    elif unconfirmed:
        text = gettext("%(count)d takes ended in %(project)s: %(finished)d finished, %(failed)d failed, "
                       "%(unconfirmed)d unconfirmed (may be billed)") % words
    else:
        text = gettext("%(count)d takes ended in %(project)s: %(finished)d finished, %(failed)d failed") % words
    return text, reverse("projects:project_detail", args=[project.pk])


def _digest_text(entries: list[Activity], base: str) -> tuple[str, str]:
    finished, failed, unconfirmed = _outcomes(entries)
    take, scene = entries[0].take, entries[0].scene
    if len(entries) == 1 and take is not None and scene is not None:  # a take's entry names both
        words = {"title": scene.title, "number": take.number, "status": take.status_label}
        subject = (gettext("%(title)s: take %(number)s (%(status)s)") if unconfirmed
                   else gettext("%(title)s: take %(number)s failed") if failed
                   else gettext("%(title)s: take %(number)s finished")) % words
    else:
        subject = ", ".join(part for part in (
            ngettext("%(count)d take finished", "%(count)d takes finished", finished) % {"count": finished}
            if finished else "",
            ngettext("%(count)d failed", "%(count)d failed", failed) % {"count": failed} if failed else "",
            ngettext("%(count)d unconfirmed — may be billed", "%(count)d unconfirmed — may be billed", unconfirmed)
            % {"count": unconfirmed} if unconfirmed else "") if part)
    lines = []
    for entry in entries[:DIGEST_LINES]:
        path = reverse("projects:take_review", args=[entry.take_id])
        lines.append(f"- {entry.project.name} / {entry.said}\n  {base + path}")
    if len(entries) > DIGEST_LINES:
        lines.append(gettext("…and %(count)d more: see each project's activity feed.")
                     % {"count": len(entries) - DIGEST_LINES})
    body = "\n".join(lines) + _footer()
    return subject, body


# --- The inbox ------------------------------------------------------------------------------------


def notification_mark_read(*, notification: Notification) -> Notification:
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=notification.read_at)
        live_publish(kind=ChangeKind.NOTIFICATION, team_id=notification.team_id,
                     recipient_id=notification.recipient_id)  # the bell on their other open pages
    return notification


def notifications_mark_all_read(*, user) -> int:
    unread = Notification.objects.visible_to(user).unread()
    team_id = unread.values_list("team_id", flat=True).first()
    marked = unread.update(read_at=timezone.now())
    if marked:
        live_publish(kind=ChangeKind.NOTIFICATION, team_id=team_id, recipient_id=user.pk)
    return marked
