"""A take's checks, and an owner's override of them.

A take whose content credentials failed (tampered or broken) or whose delivery is not what was booked
may not be approved, remixed or exported unless an owner writes down why. The rule lives here, under
the review pages and the export that apply it, so booking a remix can apply it too."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils.translation import gettext, gettext_lazy

from generation.renders.delivery import delivery_blocks_approval
from generation.words import said
from projects.activity.feed import record
from projects.audit import audit_record, take_label
from projects.inputs import clean_text
from projects.models import ActivityKind, AuditAction, Decision, Membership, ReviewDecision

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from generation.models import Render


MAX_REASON = 5000


def approval_blocker(take: Render) -> str | None:
    """Why this take may not be approved without an owner's written reason (None: it may).

    Each check is one sentence: tampered or broken content credentials, a delivery other than what
    was booked (generation.renders.delivery.delivery_blocks_approval)."""
    reasons = []
    if take.provenance_broken:
        verdict = take.provenance_verdict or gettext("Tampered or broken content credentials.")
        reasons.append(gettext("Its content credentials failed: %(verdict)s") % {"verdict": verdict})
    if delivered := delivery_blocks_approval(take):
        reasons.append(delivered)
    return " ".join(reasons) or None


# What an override lets an owner do with a blocked take: the take "cannot be …", "to … it anyway",
# "the reason for … it anyway".
OVERRIDE_ACTIONS = {"approve": ("approved", "approve", "approving"), "remix": ("remixed", "remix", "remixing"),
                    "extend": ("extended", "extend", "extending")}
# Why an override is refused, a whole sentence per action (no reason written, not an owner, too short).
OVERRIDE_REFUSALS = {
    "approve": (gettext_lazy("Take %(number)s cannot be approved. %(blocker)s To approve it anyway, an owner writes "
                             "the reason."),
                gettext_lazy("Take %(number)s cannot be approved. %(blocker)s Only an owner can approve it anyway."),
                gettext_lazy("Write the reason for approving it anyway in a sentence (10 characters or more).")),
    "remix": (gettext_lazy("Take %(number)s cannot be remixed. %(blocker)s To remix it anyway, an owner writes the "
                           "reason."),
              gettext_lazy("Take %(number)s cannot be remixed. %(blocker)s Only an owner can remix it anyway."),
              gettext_lazy("Write the reason for remixing it anyway in a sentence (10 characters or more).")),
    "extend": (gettext_lazy("Take %(number)s cannot be extended. %(blocker)s To extend it anyway, an owner writes "
                            "the reason."),
               gettext_lazy("Take %(number)s cannot be extended. %(blocker)s Only an owner can extend it anyway."),
               gettext_lazy("Write the reason for extending it anyway in a sentence (10 characters or more).")),
}


def override_note_for(*, take: Render, user: User, override_reason: str | None, action: str = "approve") -> str | None:
    """The decision note of an owner's override of a blocked take; None when nothing blocks it.
    Refuses anyone but an owner, and an owner without a reason. `action`: "approve", "remix" or "extend"."""
    blocker = approval_blocker(take)
    if blocker is None:
        return None
    done, _verb, _doing = OVERRIDE_ACTIONS[action]
    unwritten, not_owner, too_short = OVERRIDE_REFUSALS[action]
    words = {"number": take.number, "blocker": blocker}
    reason = clean_text(override_reason or "", what=gettext("The reason"), max_length=MAX_REASON)
    if not reason:
        raise ValidationError(str(unwritten % words))
    if not Membership.objects.filter(team_id=take.scene.project.team_id, user=user,
                                     role__in=Membership.roles_that_can("manage")).exists():
        raise ValidationError(str(not_owner % words))
    if len(reason) < 10:
        raise ValidationError(str(too_short))
    # The reason first: the history shows it whole, and the export's manifest carries it.
    return f"Reason: {reason} ({done} despite: {blocker})"


def take_remix_overridden(*, take: Render, remix: Render, user: User, override: str) -> None:
    """Record that an owner remixed a blocked take: in the scene's decision history and the feed.
    (The remix's own recipe carries the note too, so exports keep it.)"""
    scene = take.scene
    ReviewDecision.objects.create(scene=scene, take=take, by=user, decision=Decision.REMIX_OVERRIDE, note=override)
    record(project=scene.project, kind=ActivityKind.REMIX_OVERRIDE, actor=user, scene=scene, take=remix,
           text=said("feed.remixed_despite", scene=scene.title, number=take.number, new=remix.number,
                     reason=override[:300]))
    audit_record(team=scene.project.team_id, actor=user, action=AuditAction.REMIXED_DESPITE_CHECKS, target=take,
                 target_label=take_label(take), details={"note": override, "remix": remix.number})


def take_extend_overridden(*, take: Render, extension: Render, user: User, override: str) -> None:
    """Record that an owner extended a blocked take: in the scene's decision history, the feed and the audit log.
    (The extension's recipe carries the note too, so exports keep it.)"""
    scene = take.scene
    ReviewDecision.objects.create(scene=scene, take=take, by=user, decision=Decision.EXTEND_OVERRIDE, note=override)
    record(project=scene.project, kind=ActivityKind.EXTEND_OVERRIDE, actor=user, scene=scene, take=extension,
           text=said("feed.extended_despite", scene=scene.title, number=take.number, new=extension.number,
                     reason=override[:300]))
    audit_record(team=scene.project.team_id, actor=user, action=AuditAction.EXTENDED_DESPITE_CHECKS, target=take,
                 target_label=take_label(take), details={"note": override, "extension": extension.number})
