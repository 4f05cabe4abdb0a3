"""Review links for people outside the team: what they may see, and making and revoking them."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from generation.models import Render
from projects.activity.notifications import notify
from projects.audit import audit_record, take_label
from projects.inputs import clean_text
from projects.models import (
    AuditAction,
    Comment,
    Membership,
    NotificationKind,
    ReviewLink,
    hash_token,
)
from projects.review.services import PERSON_MENTION
from projects.selectors.review import threads
from projects.throttle import (
    Throttled,
    burst_begins,
    client_known,
    client_remember,
    slowdown_check,
    slowdown_fail,
    throttle_check,
    throttle_fail,
    throttle_key,
)

MAX_DAYS = 90


def link_create(*, project, user, label: str, scope: str, scenes=(), days: int = 7, password: str = "",
                ) -> tuple[ReviewLink, str]:
    """Make a link; returns it and its token (shown once: only a hash is stored)."""
    label = clean_text(label, what=gettext("The link's name"), max_length=ReviewLink._meta.get_field("label").max_length)
    if not label:
        raise ValidationError(gettext("Give the link a name, e.g. who it is for."))
    if scope not in ReviewLink.Scope.values:
        raise ValidationError(gettext("Choose what the link shows."))
    scenes = list(scenes)
    if any(s.project_id != project.pk for s in scenes):
        raise ValidationError(gettext("A scene from another project was chosen."))
    if scope == ReviewLink.Scope.SCENES and not scenes:
        raise ValidationError(gettext("Choose at least one scene to share."))
    if not 1 <= int(days) <= MAX_DAYS:
        raise ValidationError(gettext("A link lasts between 1 and %(most)d days.") % {"most": MAX_DAYS})
    token, digest = ReviewLink.new_token()
    link = ReviewLink(project=project, label=label, scope=scope, token_hash=digest, created_by=user,
                      expires_at=timezone.now() + timedelta(days=int(days)))
    link.set_password(password or "")
    with transaction.atomic():
        link.save()
        if scope == ReviewLink.Scope.SCENES:
            link.scenes.set(scenes)
        audit_record(team=project.team_id, actor=user, action=AuditAction.GUEST_LINK_CREATED, target=link,
                     target_label=f"{label} · {project.name}",
                     details={"scope": scope, "scenes": [s.title for s in scenes] if scope == ReviewLink.Scope.SCENES
                              else [], "expires_at": link.expires_at, "password": bool(password)})
    return link, token


def guest_name_clean(name) -> str:
    """The name a guest gives before commenting: it is shown beside each of their comments."""
    name = clean_text(name, what=gettext("Your name"), max_length=80)
    if not name:
        raise ValidationError(gettext("Tell us your name so the team knows who wrote each comment."))
    return name


def link_revoke(*, link: ReviewLink, user) -> ReviewLink:
    with transaction.atomic():
        if ReviewLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(revoked_at=timezone.now()):
            audit_record(team=link.project.team_id, actor=user, action=AuditAction.GUEST_LINK_REVOKED, target=link,
                         target_label=f"{link.label} · {link.project.name}")
    link.refresh_from_db(fields=["revoked_at"])
    return link


def link_record_download(*, link: ReviewLink, take: Render, guest_name: str) -> None:
    """A guest of `link` fetched `take`'s video: the file left the studio, so its owners' log says who
    (the name the guest gave) took what through which link."""
    audit_record(team=link.project.team_id, actor=None, actor_name=guest_name,
                 action=AuditAction.GUEST_DOWNLOADED, target=take,
                 target_label=take_label(take),
                 details={"link": link.label, "take": take.number})


def live_link(token: str) -> ReviewLink | None:
    """The link a token opens, if it still works (not expired, not revoked)."""
    link = ReviewLink.objects.select_related("project").filter(token_hash=hash_token(token)).first()
    return link if link is not None and link.is_live else None


def links_still_live(link_ids) -> dict[int, int]:
    """Of the links guests' pages watch through, those that still work, each with its project (one query for
    every guest page of a web process, at its keep-alive): revoked or expired, their streams end."""
    links = ReviewLink.objects.filter(pk__in=set(link_ids)).only("pk", "project_id", "revoked_at", "expires_at")
    return {link.pk: link.project_id for link in links if link.is_live}


def takes_in_scope(link: ReviewLink, *, with_comments: bool = False) -> list[Render]:
    """What the guest may watch: finished, never withheld, only in the link's scope."""
    visible = Render.objects.watchable().filter(scene__project=link.project).select_related("scene")
    if with_comments:
        comments = threads(Comment.objects.select_related("author", "retake"), for_guests=True)
        visible = visible.prefetch_related(Prefetch("comments", comments))
    if link.scope == ReviewLink.Scope.CUT:
        approved = link.project.scenes.filter(approved_take__isnull=False).values("approved_take")
        return list(visible.filter(pk__in=approved).order_by("scene__position"))
    return list(visible.filter(scene__in=link.scenes.all()).order_by("scene__position", "-number"))


def comment_for_guest(link: ReviewLink, pk) -> Comment | None:
    """A comment the link's guest may read (and so answer), on a take the link shows."""
    takes = [t.pk for t in takes_in_scope(link)]
    return Comment.objects.for_guests().filter(pk=pk, take__in=takes).first()


def team_usernames(link: ReviewLink) -> frozenset[str]:
    """The team's usernames (lower case): a guest page hides them where a comment @mentions them."""
    names = Membership.objects.filter(team_id=link.project.team_id).values_list("user__username", flat=True)
    return frozenset(name.lower() for name in names)


def hide_mentions(text: str, usernames) -> str:
    """`@rita` → `@teammate` for every team member: guests read what was said, not who is on the team.
    Anything else after an @ (an email, "@2x") stays as written."""
    return PERSON_MENTION.sub(lambda m: "@teammate" if m.group(1).lower() in usernames else m.group(0), text)


def link_unlock(*, link: ReviewLink, password: str, ip: str) -> bool:
    """Whether `password` opens the link; raises Throttled while this address rests or the link slows.

    Wrong tries from one address rest that address (GUEST_PASSWORD_LIMIT): a guest's typos, or one
    guesser, lock only themselves. Wrong tries from everywhere never lock the link, which a stranger
    holding the link could aim at the real guest: past GUEST_PASSWORD_LINK_LIMIT in the cool-off each
    try waits a few seconds (GUEST_PASSWORD_LINK_MAX_WAIT_SECONDS at most), and the link's owner is
    told once per burst, so they can revoke it and make another. An address that opened the link
    before is not slowed. The password isn't even checked while this address rests or must wait.
    """
    minutes = settings.GUEST_PASSWORD_COOLOFF_MINUTES
    address = throttle_key("guest-password", link.pk, ip)
    everywhere = throttle_key("guest-password", link.pk)
    opened_here = throttle_key("guest-opened", link.pk, ip)
    throttle_check(keys=[address])
    if not client_known(key=opened_here):
        slowdown_check(key=everywhere)
    if link.check_password(password):
        client_remember(key=opened_here, seconds=int((link.expires_at - timezone.now()).total_seconds()))
        return True
    rest = throttle_fail(key=address, limit=settings.GUEST_PASSWORD_LIMIT, minutes=minutes)
    slowed = slowdown_fail(key=everywhere, free=settings.GUEST_PASSWORD_LINK_LIMIT, minutes=minutes,
                           longest=settings.GUEST_PASSWORD_LINK_MAX_WAIT_SECONDS)
    if slowed and burst_begins(key=throttle_key("guest-password-alert", link.pk), minutes=minutes):
        _guessing_alert(link)
    if rest:
        raise Throttled(rest * 60)
    return False


def _link_keepers(link: ReviewLink) -> list:
    """Who hears about a link being guessed at: its maker while they manage the team, else its owners."""
    members = [m for m in Membership.objects.filter(team_id=link.project.team_id).select_related("user")
               if m.can("manage")]
    return [m.user for m in members if m.user_id == link.created_by_id] or [m.user for m in members]


def _guessing_alert(link: ReviewLink) -> None:
    words = {"label": link.label, "project": link.project.name, "limit": settings.GUEST_PASSWORD_LINK_LIMIT,
             "minutes": settings.GUEST_PASSWORD_COOLOFF_MINUTES}
    notify(_link_keepers(link), "link_guessing", kind=NotificationKind.SECURITY, team_id=link.project.team_id,
           subject=lambda: gettext("Someone is guessing the password of the review link “%(label)s” (%(project)s)")
           % words,
           body=lambda: gettext(
               "More than %(limit)d wrong passwords were tried on the review link “%(label)s” of %(project)s "
               "within %(minutes)d minutes. Each further try now waits a little; a guest who knows the password "
               "still gets in. If the link reached more people than it was meant for, revoke it and make a new "
               "one.") % words,
           path=reverse("projects:review_links", args=[link.project_id]))
