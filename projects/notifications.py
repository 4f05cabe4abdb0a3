"""Email notifications, filtered by each user's preferences and sent by a Celery task."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from projects.models import Activity, ActivityKind, NotificationPreference, RenderDigest

SETTLED = (ActivityKind.RENDER_FINISHED, ActivityKind.RENDER_FAILED)
DIGEST_LOST_AFTER = timedelta(minutes=5)
DIGEST_LINES = 40


def preferences_for(user) -> NotificationPreference:
    """The user's saved preferences, or the defaults (everything on) unsaved."""
    return NotificationPreference.objects.filter(user=user).first() or NotificationPreference(user=user)


def wants(user, event: str) -> bool:
    if event not in NotificationPreference.EVENTS:
        raise ValueError(f"Unknown notification event {event!r}")
    if not user.email or not user.is_active:
        return False
    return getattr(preferences_for(user), event)


def notify(users, event: str, *, subject: str, body: str, path: str = "") -> int:
    """Queue one email per user who wants `event`; returns how many were queued."""
    from projects.tasks import send_notification

    link = (settings.PUBLIC_BASE_URL.rstrip("/") + path) if (path and settings.PUBLIC_BASE_URL) else path
    text = body + (f"\n\n{link}" if link else "") + "\n\nChange what you receive by email in your notification settings."
    sent = 0
    for user in {u.pk: u for u in users if u is not None}.values():
        if wants(user, event):
            send_notification.delay_on_commit(user.pk, f"[Storyboard Studio] {subject}"[:200], text)
            sent += 1
    return sent


# --- Finished renders: one digest per author, not one email per take -----------------------------


def render_settled(take) -> None:
    """A take of `take.created_by` finished or failed (its feed entry is recorded): make sure
    that author's digest is scheduled. Only the first settle of a batch schedules it."""
    from projects.tasks import send_render_digest

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
    send_render_digest.apply_async_on_commit((take.created_by_id,), countdown=delay)


def render_digest_send(user_id: int) -> int:
    """Email the author the takes settled since their last digest; returns how many were in it."""
    from projects.tasks import send_notification

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
        if not wants(digest.user, "renders_finished"):
            return 0
        subject, body = _digest_text(entries)
        # Queued with the claim, or not at all.
        send_notification.delay_on_commit(user_id, f"[Storyboard Studio] {subject}"[:200], body)
    return len(entries)


def _digest_text(entries: list[Activity]) -> tuple[str, str]:
    failed = sum(e.kind == ActivityKind.RENDER_FAILED for e in entries)
    finished = len(entries) - failed
    if len(entries) == 1:
        take, scene = entries[0].take, entries[0].scene
        subject = f"{scene.title}: take {take.number} {'failed' if failed else 'finished'}"
    else:
        subject = ", ".join(part for part in (f"{finished} takes finished" if finished else "",
                                              f"{failed} failed" if failed else "") if part)
    base = settings.PUBLIC_BASE_URL.rstrip("/")
    lines = []
    for entry in entries[:DIGEST_LINES]:
        path = reverse("projects:take_review", args=[entry.take_id])
        lines.append(f"- {entry.project.name} / {entry.text}\n  {base + path if base else path}")
    if len(entries) > DIGEST_LINES:
        lines.append(f"…and {len(entries) - DIGEST_LINES} more: see each project's activity feed.")
    body = "\n".join(lines) + "\n\nChange what you receive by email in your notification settings."
    return subject, body
