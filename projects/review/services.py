"""Review actions: comments at a timecode, approvals, requests for changes, and
the project's activity record. Views and tasks call these; they own the rules."""

from __future__ import annotations

import math
import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext

from generation.models import Status
from generation.provenance.tasks import prepare_ingredient
from generation.renders import services as generation
from generation.renders.checks import override_note_for
from generation.spend import budget
from generation.words import said
from projects.activity import notifications
from projects.activity.feed import record
from projects.audit import audit_record, take_label
from projects.inputs import clean_text, has_control_characters
from projects.live import ChangeKind, live_publish
from projects.models import (
    ActivityKind,
    AuditAction,
    Comment,
    CommentRevision,
    Decision,
    Membership,
    NotificationKind,
    ReviewDecision,
    Scene,
)
from projects.review.drawing import drawing_clean
from projects.storyboard import services as storyboard

MAX_COMMENT = 5000
# A username ([\w.+-], as Django allows) not ending in a dot: "thanks @rita." mentions rita.
PERSON_MENTION = re.compile(r"(?<![\w@])@([\w.+-]*[\w+-])")


# --- Comments -------------------------------------------------------------------------------


def _clean_body(body: str) -> str:
    body = (body or "").strip() if isinstance(body, str) else ""
    if not body:
        raise ValidationError(gettext("Write something in the comment."))
    if has_control_characters(body):
        raise ValidationError(gettext("The comment contains control characters (such as NUL) that can't be stored; "
                                      "remove them and try again."))
    if len(body) > MAX_COMMENT:
        raise ValidationError(gettext("A comment can be at most %(most)d characters (this one has %(length)d).")
                              % {"most": MAX_COMMENT, "length": len(body)})
    return body


def _clean_times(take, at, until) -> tuple[float | None, float | None]:
    def number(value, refusal: str):
        if value in (None, ""):
            return None
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise ValidationError(refusal)
        if not math.isfinite(value) or value < 0:  # NaN, infinite ("1e309") or negative
            raise ValidationError(refusal)
        return round(value, 2)

    at = number(at, gettext("The timecode must be a number of seconds."))
    until = number(until, gettext("The end of the range must be a number of seconds."))
    length = take.duration_seconds
    if at is not None and length and at > length + 0.05:
        raise ValidationError(gettext("The take is only %(length)s s long; that timecode is past its end.")
                              % {"length": number_format(length, 1)})
    if until is not None:
        if at is None:
            raise ValidationError(gettext("A range needs a start."))
        if until <= at:
            raise ValidationError(gettext("The end of the range must come after its start."))
        if length and until > length + 0.05:
            until = round(length, 2)
    return at, until


def _reviewable(take, doing: str = "reviewed") -> None:
    if take.status != Status.SUCCEEDED:
        # Whole sentences: the verb's place and agreement differ in French.
        refusals = {
            "reviewed": gettext("Only a finished take can be reviewed."),
            "commented on": gettext("Only a finished take can be commented on."),
            "approved": gettext("Only a finished take can be approved."),
        }
        raise ValidationError(refusals[doing])
    if take.quarantined_at:
        raise ValidationError(gettext("This take is withheld: %(why)s.") % {"why": take.quarantine_reason})


def comment_add(*, take, body: str, author=None, guest_name: str = "", via_link=None, at=None, until=None,
                requests_changes: bool = False, shared: bool = False, drawing=None) -> Comment:
    """A comment at a timecode. A guest's is shared with guests; a teammate's is team-only
    unless `shared`, and a request for changes (an internal decision note) never is.

    `drawing`: shapes drawn on the paused frame (JSON, checked by projects/drawing.py)."""
    _reviewable(take, "commented on")
    body = _clean_body(body)
    at, until = _clean_times(take, at, until)
    shapes = drawing_clean(drawing)
    if shapes and at is None:
        raise ValidationError(gettext("A drawing belongs to a moment of the take: set the timecode (At) it was drawn on."))
    guest_name = clean_text(guest_name, what=gettext("Your name"))[:80]
    if author is None and not guest_name:
        raise ValidationError(gettext("Tell us your name before commenting."))
    comment = Comment.objects.create(
        take=take, author=author, guest_name="" if author else guest_name, via_link=via_link, body=body,
        at_seconds=at, until_seconds=until, requests_changes=requests_changes, drawing=shapes,
        shared=author is None or (bool(shared) and not requests_changes),
    )
    scene = take.scene
    words = {"scene": scene.title, "number": take.number, "body": body[:200]}
    record(project=scene.project, kind=ActivityKind.COMMENT, actor=author,
           actor_name=comment.who_in_english if author is None else "", scene=scene, take=take,
           text=said("feed.commented_at", **words, at=comment.timecode) if comment.timecode
           else said("feed.commented", **words))
    live_publish(kind=ChangeKind.COMMENT_ADDED, project=scene.project, scene_id=scene.pk, take_id=take.pk,
                 object_id=comment.pk, actor=author)
    _notify_mentions(comment)
    return comment


def comment_import(*, take, body: str, at, written_by: str, imported_by) -> Comment:
    """A marker an editor left in an accepted editor's cut, as a comment at its moment of the take: its
    author as the timeline wrote it (perhaps nobody), imported by a member. Team-only, like a member's."""
    _reviewable(take, "commented on")
    body = _clean_body(body)
    # Past the take's end (the editor slipped the clip) it lands on the last moment, never refused.
    at = min(max(float(at or 0.0), 0.0), take.duration_seconds or float("inf"))
    comment = Comment.objects.create(take=take, body=body, at_seconds=round(at, 2), imported_by=imported_by,
                                     written_by=clean_text(written_by or "", what=gettext("The marker's author"))[:80])
    scene = take.scene
    record(project=scene.project, kind=ActivityKind.COMMENT, actor=imported_by, scene=scene, take=take,
           text=f"imported {comment.who}'s marker on {scene.title} take {take.number} at {comment.timecode}: "
                f"{body[:200]}")
    live_publish(kind=ChangeKind.COMMENT_ADDED, project=scene.project, scene_id=scene.pk, take_id=take.pk,
                 object_id=comment.pk, actor=imported_by)
    return comment


def comment_reply(*, parent: Comment, body: str, author=None, guest_name: str = "", via_link=None,
                  shared: bool | None = None) -> Comment:
    """Answer a comment in its thread. Threads are one level deep, as in Frame.io: a reply
    to a reply joins the same thread. Everyone who wrote in the thread hears about it.

    A guest's reply is shared. A teammate's reply follows its thread unless `shared` says
    otherwise: in a shared thread (one a guest started, say) it is shared, so the guest
    reads the answer to their question; in a team-only thread it stays team-only."""
    parent = parent.parent or parent
    take = parent.take
    _reviewable(take, "commented on")
    body = _clean_body(body)
    guest_name = clean_text(guest_name, what=gettext("Your name"))[:80]
    if author is None and not guest_name:
        raise ValidationError(gettext("Tell us your name before commenting."))
    if author is None:
        shared = True
    else:
        shared = parent.shared and (True if shared is None else bool(shared))
    reply = Comment.objects.create(take=take, parent=parent, author=author, guest_name="" if author else guest_name,
                                   via_link=via_link, body=body, shared=shared)
    scene = take.scene
    record(project=scene.project, kind=ActivityKind.COMMENT, actor=author,
           actor_name=reply.who_in_english if author is None else "", scene=scene, take=take,
           text=said("feed.replied", who=parent.who_in_english, scene=scene.title, number=take.number, body=body[:200]))
    live_publish(kind=ChangeKind.COMMENT_ADDED, project=scene.project, scene_id=scene.pk, take_id=take.pk,
                 object_id=reply.pk, actor=author)
    mentioned = _notify_mentions(reply)
    writers = {parent.author} | {r.author for r in parent.replies.select_related("author")}
    thread = _still_members({u for u in writers if u is not None}, scene.project.team_id)
    notifications.notify(
        [u for u in thread if u.pk != reply.author_id and u not in mentioned], "replies",
        kind=NotificationKind.REPLY, team_id=scene.project.team_id, actor=author,
        subject=lambda: gettext("%(who)s replied on %(scene)s") % {"who": reply.who, "scene": scene.title},
        body=lambda: _about_take(
            gettext("%(who)s replied to %(parent)s on %(project)s / %(scene)s, take %(take)s at %(at)s:"),
            gettext("%(who)s replied to %(parent)s on %(project)s / %(scene)s, take %(take)s:"),
            at=parent.timecode, who=reply.who, parent=parent.who, project=scene.project.name, scene=scene.title,
            take=take.number) + f"\n\n{body}",
        path=notifications.comment_path(reply),
    )
    return reply


def _about_take(at_moment: str, whole: str, *, at: str, **words) -> str:
    """An email's opening line about a take, at a moment of it when the comment has one."""
    return (at_moment % {**words, "at": at}) if at else (whole % words)


def mentioned_members(text: str, team) -> list:
    names = {m.lower() for m in PERSON_MENTION.findall(text)}
    if not names:
        return []
    members = Membership.objects.filter(team=team).select_related("user")
    return [m.user for m in members if m.user.get_username().lower() in names]


def _notify_mentions(comment: Comment) -> list:
    """Notify the teammates @mentioned in the comment; returns those who will get that email
    (they are not emailed again about the same words as a reply)."""
    scene = comment.take.scene
    users = [u for u in mentioned_members(comment.body, scene.project.team) if u.pk != comment.author_id]
    notifications.notify(
        users, "mentions", kind=NotificationKind.MENTION, team_id=scene.project.team_id, actor=comment.author,
        subject=lambda: gettext("%(who)s mentioned you on %(scene)s") % {"who": comment.who, "scene": scene.title},
        body=lambda: _about_take(
            gettext("%(who)s wrote on %(project)s / %(scene)s, take %(take)s at %(at)s:"),
            gettext("%(who)s wrote on %(project)s / %(scene)s, take %(take)s:"),
            at=comment.timecode, who=comment.who, project=scene.project.name, scene=scene.title,
            take=comment.take.number) + f"\n\n{comment.body}",
        path=notifications.comment_path(comment),
    )
    return [u for u in users if notifications.wants(u, "mentions")]


def _own(comment: Comment, user) -> None:
    if comment.author_id != user.pk:
        raise ValidationError(gettext("Only the person who wrote a comment can edit it."))


def comment_edit(*, comment: Comment, user, body: str) -> Comment:
    _own(comment, user)
    body = _clean_body(body)
    if body == comment.body:
        return comment
    with transaction.atomic():
        CommentRevision.objects.create(comment=comment, body=comment.body, edited_by=user)
        comment.body = body
        comment.edited_at = timezone.now()
        comment.save(update_fields=["body", "edited_at"])
        _comment_changed(comment, user)
    return comment


def _comment_changed(comment: Comment, user, *, unshared: bool = False) -> None:
    """The open review pages redraw the comment's thread (guests' too, when they may read it).

    `unshared`: it was just made team only, so a guest page that shows it takes it away."""
    scene = comment.take.scene
    live_publish(kind=ChangeKind.COMMENT_EDITED, project=scene.project, scene_id=scene.pk, take_id=comment.take_id,
                 object_id=comment.pk, actor=user, data={"unshared": True} if unshared else None)


def comment_share(*, comment: Comment, user, shared: bool) -> Comment:
    """Share a teammate's comment with guests, or make it team-only again: its author or an owner."""
    shared = bool(shared)
    if comment.by_guest:
        raise ValidationError(gettext("A guest's comment is always shared with guests: they wrote it."))
    is_owner = Membership.objects.filter(team_id=comment.take.scene.project.team_id, user=user,
                                         role__in=Membership.roles_that_can("manage")).exists()
    if comment.author_id != user.pk and not is_owner:
        raise ValidationError(gettext("Only the person who wrote a comment, or an owner, can choose who sees it."))
    if shared and comment.requests_changes:
        raise ValidationError(gettext("A request for changes is an internal decision note and stays with the team; "
                                      "write a separate comment to share with guests."))
    if shared and comment.parent is not None and not comment.parent.shared:
        raise ValidationError(gettext("This thread is team-only: share its first comment before a reply in it."))
    if comment.shared != shared:
        comment.shared = shared
        comment.save(update_fields=["shared"])
        _comment_changed(comment, user, unshared=not shared)
    return comment


def comment_resolve(*, comment: Comment, user, resolved: bool) -> Comment:
    if comment.parent_id:
        raise ValidationError(gettext("Resolve the thread's first comment; replies go with it."))
    if resolved and not comment.is_resolved:
        comment.resolved_at, comment.resolved_by = timezone.now(), user
    elif not resolved:
        comment.resolved_at, comment.resolved_by = None, None
    comment.save(update_fields=["resolved_at", "resolved_by"])
    scene = comment.take.scene
    live_publish(kind=ChangeKind.COMMENT_RESOLVED, project=scene.project, scene_id=scene.pk,
                 take_id=comment.take_id, object_id=comment.pk, actor=user)
    return comment


# --- Decisions -------------------------------------------------------------------------------


def _people_around(take, *, exclude) -> list:
    """The take's author and everyone who commented on it, but not `exclude`."""
    users = {take.created_by} if take.created_by_id else set()
    users |= {c.author for c in take.comments.select_related("author") if c.author_id}
    return [u for u in _still_members(users, take.scene.project.team_id) if u.pk != getattr(exclude, "pk", None)]


def _still_members(users, team_id) -> list:
    """Those of `users` still in the team: someone who left hears nothing more of its work."""
    members = set(Membership.objects.filter(team_id=team_id, user__in=users).values_list("user_id", flat=True))
    return [u for u in users if u.pk in members]


def _take_path(take) -> str:
    from django.urls import reverse

    return reverse("projects:take_review", args=[take.pk])


def take_approve(*, take, user, note: str = "", override_reason: str | None = None) -> Scene:
    """Approve a take. A take whose checks failed (approval_blocker) needs an owner's written
    reason, kept as an "approved despite failed checks" decision and in later exports' manifests."""
    _reviewable(take, "approved")
    note = clean_text(note, what=gettext("The note"), max_length=MAX_COMMENT)
    override = override_note_for(take=take, user=user, override_reason=override_reason)
    scene = take.scene
    with transaction.atomic():
        Scene.objects.filter(pk=scene.pk).update(approved_take=take, approved_by=user, approved_at=timezone.now(),
                                                 approval_stale_fields=[])
        ReviewDecision.objects.create(scene=scene, take=take, by=user,
                                      decision=Decision.APPROVED_OVERRIDE if override else Decision.APPROVED,
                                      note=override + (f" {note}" if note else "") if override else note)
        record(project=scene.project, kind=ActivityKind.APPROVED, actor=user, scene=scene, take=take,
               text=said("feed.approved_despite", scene=scene.title, number=take.number, reason=override[:300])
               if override else said("feed.approved", scene=scene.title, number=take.number))
        if override:
            audit_record(team=scene.project.team_id, actor=user, action=AuditAction.APPROVED_DESPITE_CHECKS,
                         target=take, target_label=take_label(take), details={"note": override})
        live_publish(kind=ChangeKind.TAKE_APPROVED, project=scene.project, scene_id=scene.pk, take_id=take.pk,
                     actor=user)
        # An approved take goes into exports: read its C2PA manifest now, once, not per export.
        prepare_ingredient.delay_on_commit(take.pk)
    scene.refresh_from_db()
    notifications.notify(
        _people_around(take, exclude=user), "approvals",
        kind=NotificationKind.DECISION, team_id=scene.project.team_id, actor=user,
        subject=lambda: gettext("%(scene)s: take %(take)s approved") % {"scene": scene.title, "take": take.number},
        body=lambda: gettext("%(who)s approved take %(take)s of %(project)s / %(scene)s.") % {
            "who": user.get_username(), "take": take.number, "project": scene.project.name, "scene": scene.title}
            + (f"\n\n{note}" if note else ""),
        path=_take_path(take) + "#decision",
    )
    return scene


def take_request_changes(*, take, user, note: str, at=None, until=None) -> Comment:
    """Record "changes requested" with the note as a comment on the take.

    Requesting changes on the approved take withdraws the approval.
    """
    _reviewable(take)
    scene = take.scene
    with transaction.atomic():
        comment = comment_add(take=take, body=note, author=user, at=at, until=until, requests_changes=True)
        ReviewDecision.objects.create(scene=scene, take=take, decision=Decision.CHANGES_REQUESTED, by=user,
                                      comment=comment, note=comment.body)
        if scene.approved_take_id == take.pk:
            Scene.objects.filter(pk=scene.pk).update(approved_take=None, approved_by=None, approved_at=None,
                                                     approval_stale_fields=[])
        record(project=scene.project, kind=ActivityKind.CHANGES_REQUESTED, actor=user, scene=scene, take=take,
               text=said("feed.changes_requested", scene=scene.title, number=take.number, body=comment.body[:200]))
        live_publish(kind=ChangeKind.DECISION_MADE, project=scene.project, scene_id=scene.pk, take_id=take.pk,
                     object_id=comment.pk, actor=user)
    notifications.notify(
        _people_around(take, exclude=user), "changes_requested",
        kind=NotificationKind.CHANGES, team_id=scene.project.team_id, actor=user,
        subject=lambda: gettext("%(scene)s: changes requested on take %(take)s") % {
            "scene": scene.title, "take": take.number},
        body=lambda: gettext("%(who)s asked for changes to take %(take)s of %(project)s / %(scene)s:") % {
            "who": user.get_username(), "take": take.number, "project": scene.project.name, "scene": scene.title}
            + f"\n\n{comment.body}",
        path=notifications.comment_path(comment),
    )
    return comment


def rerender_for(*, comment: Comment, user, prompt: str, idempotency_key):
    """A new take in the same stack for a "changes requested" comment.

    The edited prompt becomes the scene's prompt (the scene says what we want
    now), and the take goes to the same provider and model as the reviewed take.
    """
    if not comment.requests_changes:
        raise ValidationError(gettext("Only a request for changes can start a re-render."))
    take = comment.take
    scene = Scene.objects.get(pk=take.scene_id)
    prompt = clean_text(prompt, what=gettext("The prompt"), max_length=Scene._meta.get_field("prompt").max_length)
    if not prompt:
        raise ValidationError(gettext("The prompt for the new take is empty."))
    with budget.refusal_alerts(), transaction.atomic():  # a refusal's alert outlives this rollback
        budget.lock(scene.project_id, user=user)  # before the scene row: bookings lock in that order
        if prompt != scene.prompt:
            scene = storyboard.scene_update(scene=scene, expected_version=scene.version, user=user, prompt=prompt)
        if take.connection is None:
            raise ValidationError(gettext("This take's provider connection was removed: choose a model for the "
                                          "scene and render a new take."))
        new_take, created = generation.render_create(
            scene=scene, user=user, connection=take.connection, model_id=take.model,
            idempotency_key=idempotency_key, parent=take,
        )
        if created:
            Comment.objects.filter(pk=comment.pk).update(retake=new_take)
            comment.retake = new_take
    return new_take, created


def request_changes(*, take, user, note: str, at=None, until=None, retake_prompt: str | None = None,
                    idempotency_key=None):
    """Request changes and, given a prompt, book the new take at once: all or nothing.

    If the take cannot be booked (retired model, revoked consent, …) the request is
    not recorded either. Returns (comment, new take or None).
    """
    with budget.refusal_alerts(), transaction.atomic():  # a refusal's alert outlives this rollback
        if retake_prompt is not None:
            budget.lock(take.scene.project_id, user=user)  # before the scene row: bookings lock in that order
        comment = take_request_changes(take=take, user=user, note=note, at=at, until=until)
        if retake_prompt is None:
            return comment, None
        new_take, _ = rerender_for(comment=comment, user=user, prompt=retake_prompt,
                                   idempotency_key=idempotency_key)
    return comment, new_take
