"""Budgets: takes that would spend past any cap that applies are refused at booking.

Three caps can apply to one booking: the team's monthly budget (`Team.monthly_budget`), the
booking member's monthly cap (`Membership.monthly_budget`) and the project's render budget
(`Project.budget`).

Committed spend of a project (`Project.render_spend`) grows by each take's estimated cost when it is
booked, in the booking's own transaction, and shrinks again only for a take that ended unbilled
(`take_gives_back`, decided once when it settles and kept as `Render.cost_given_back`): one that
failed or was canceled before a provider ever had it (no job id: nobody can have charged for it), or
one the provider's moderation refused at a provider that does not bill refused jobs
(`ProviderFacts.bills_refused_jobs`: Google says so in its refusal). Never a take whose create a crashed
worker may have sent (`billing_unconfirmed`), nor one the provider reported a bill for. Any other
take that reached the provider stays counted even if it failed, since providers may bill for it,
and deleting a scene does not give its takes' money back.

A month's committed spend (team or member) is summed from the takes booked that calendar month
(UTC), leaving out the ones given back (`REFUNDED`), so it needs no counter.

Lock order, the same on every booking path (single take, "Render scenes", retry, remix,
re-render from review): the team row, then the booking member's membership row, then the
project row, then scene rows. `hold` takes the first three; a path that only edits a scene
(approval, re-render) takes the project before the scene. Holding the team row while summing
and booking makes two clicks at once (in any of the team's projects) queue up, so they can't
both fit under what is left; locking always in this order means no two transactions wait on
each other in a circle (PostgreSQL would end one with "deadlock detected").

The locks are FOR NO KEY UPDATE (`select_for_update(no_key=True)`; plain row locks elsewhere): they
exclude each other, so bookings still queue, but not the KEY SHARE lock that any insert referencing the
row takes (a worker recording a take's progress inserts a ChangeEvent naming the team and project).
With FOR UPDATE such a worker, holding the project's key-share lock from its own earlier insert, would
wait for the team row a booking holds while that booking waits for the project: a deadlock.

Owners hear (inbox + email, `projects.activity.notifications`) when a cap reaches 80 % and 100 %, once per
level per cap per calendar month (`BudgetAlert` rows, written under the same locks). Takes rarely
add up to a cap exactly, so the first booking a cap refuses also counts as its 100 % (`on_refused`,
called after the booking's transaction rolled back, or the rollback would take the alert with it).
A path that books inside a larger transaction of its own (a remix, a re-render from review with
its comment and prompt edit) wraps that transaction in `refusal_alerts()`, so the alert is written
after the outermost rollback; the alerts written by inner paths roll back with it, and their emails
(queued on commit) with them, so owners hear once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext

from generation.models import Render, Status, spent_cost_expression
from generation.providers import ProviderError, adapter_class
from projects.activity.notifications import notify
from projects.models import (
    BudgetAlert,
    BudgetScope,
    Membership,
    NotificationKind,
    Project,
    Role,
    Scene,
    Team,
)
from projects.money import usd

ALERT_LEVELS = (80, 100)
# A take that gave its estimate back (see take_gives_back): not part of any month's spend.
REFUNDED = Q(cost_given_back=True)


def committed(project) -> Decimal:
    return Project.objects.filter(pk=project.pk).values_list("render_spend", flat=True).first() or Decimal(0)


def remaining(project) -> Decimal | None:
    """What is left of the project's budget (never below 0); None when it has no budget."""
    if project.budget is None:
        return None
    return max(project.budget - committed(project), Decimal(0))


def month_start(now: datetime | None = None) -> datetime:
    """The first instant of the calendar month (UTC) `now` falls in."""
    now = (now or timezone.now()).astimezone(UTC)
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _month_spend(takes, since: datetime) -> Decimal:
    # What providers billed where they said, else the estimate: a bill above the estimate counts, and so
    # does a duplicate job a provider made for a take.
    return takes.filter(created_at__gte=since).exclude(REFUNDED).aggregate(s=Sum(spent_cost_expression()))["s"] or Decimal(0)


def team_month_spend(team_id: int, *, since: datetime | None = None) -> Decimal:
    """What the team's takes booked this calendar month (UTC) commit."""
    return _month_spend(Render.objects.filter(scene__project__team_id=team_id), since or month_start())


def member_month_spend(team_id: int, user_id: int, *, since: datetime | None = None) -> Decimal:
    """What one member's takes booked in the team this calendar month (UTC) commit."""
    return _month_spend(Render.objects.filter(scene__project__team_id=team_id, created_by_id=user_id),
                        since or month_start())


def member_month_spends(team_id: int, *, since: datetime | None = None) -> dict[int, Decimal]:
    """Each member's month spend in the team, by user id, in one query (the team page)."""
    rows = (Render.objects.filter(scene__project__team_id=team_id, created_at__gte=since or month_start())
            .exclude(REFUNDED).values("created_by_id").annotate(s=Sum(spent_cost_expression())).values_list("created_by_id", "s"))
    return dict(rows)


@dataclass
class Cap:
    """One budget that applies to a booking, as it stands under the booking's locks."""

    scope: str  # BudgetScope
    subject_id: int
    cap: Decimal
    spent: Decimal
    month: date  # the first day of the month a team's or member's cap counts
    owner_name: str  # whose it is: the member's username, the project's name ("" for the team's)
    short: bool = False  # set by the Render scenes page: the plan's total is past what is left

    @property
    def left(self) -> Decimal:
        return max(self.cap - self.spent, Decimal(0))

    @property
    def name(self) -> str:
        """"the team's November budget", in the active language: an alert is worded once per recipient."""
        words = {"month": date_format(self.month, "F"), "who": self.owner_name}
        if self.scope == BudgetScope.TEAM:
            return gettext("the team's %(month)s budget") % words
        if self.scope == BudgetScope.MEMBER:
            return gettext("%(who)s's %(month)s cap") % words
        return gettext("%(who)s's render budget") % words


def remaining_for(project, user) -> list[Cap]:
    """The caps a booking by `user` in `project` would meet, with what is left (read, not locked)."""
    return _caps(project, user, month_start(), lock=False)


def lock(project_id: int, *, user=None) -> None:
    """Hold the team, the member's membership and the project rows (in that order, as `hold`
    does) until the transaction ends. A path that edits a scene and then books a take (a re-render
    from review) takes this before any scene row, so it never waits on a booking in a circle."""
    team_id = Project.objects.filter(pk=project_id).values_list("team_id", flat=True).first()
    if team_id is None:  # no such project: nothing to hold
        return
    Team.objects.select_for_update(no_key=True).filter(pk=team_id).values_list("pk").first()
    if user is not None:
        Membership.objects.select_for_update(no_key=True).filter(team_id=team_id, user_id=user.pk).values_list(
            "pk").first()
    Project.objects.select_for_update(no_key=True).filter(pk=project_id).values_list("pk").first()


def _caps(project, user, since: datetime, *, lock: bool) -> list[Cap]:
    """Each cap that applies, locking the team, membership and project rows in that order when `lock`."""
    def rows(manager):
        return manager.select_for_update(no_key=True) if lock else manager.all()

    caps = []
    month = since.date()
    team_cap = rows(Team.objects).filter(pk=project.team_id).values_list("monthly_budget", flat=True).first()
    if team_cap is not None:
        caps.append(Cap(BudgetScope.TEAM, project.team_id, team_cap, team_month_spend(project.team_id, since=since),
                        month, ""))
    member = None
    if user is not None:
        member = rows(Membership.objects).filter(team_id=project.team_id, user_id=user.pk).values_list(
            "pk", "monthly_budget").first()
    if member and member[1] is not None:
        caps.append(Cap(BudgetScope.MEMBER, member[0], member[1],
                        member_month_spend(project.team_id, user.pk, since=since), month, user.get_username()))
    budget, spent = rows(Project.objects).filter(pk=project.pk).values_list("budget", "render_spend").first()
    if budget is not None:
        caps.append(Cap(BudgetScope.PROJECT, project.pk, budget, spent, month, project.name))
    return caps


def _refusal(cap: Cap, cost: Decimal, project) -> str:
    """In the booking person's language (the request's)."""
    words = {"cost": usd(cost), "spent": usd(cap.spent), "cap": usd(cap.cap), "left": usd(cap.left),
             "project": project.name, "name": cap.name}
    if cap.scope == BudgetScope.PROJECT:  # the project's own words, as before the monthly caps
        return gettext("Over budget: this costs %(cost)s, and %(spent)s of %(project)s's %(cap)s render budget is "
                       "already committed (%(left)s left). An owner can raise the budget on the storyboard page."
                       ) % words
    return gettext("Over %(name)s: %(left)s of %(cap)s left, and this costs %(cost)s. An owner can raise it on "
                   "the team page.") % words


class OverBudget(ValidationError):
    """A booking refused by one or more caps; `caps` are the ones it didn't fit under."""

    def __init__(self, messages: list[str], *, project, cost: Decimal, caps: list[Cap], month: date):
        super().__init__(messages)
        self.project, self.cost, self.caps, self.month = project, cost, caps, month


def hold(project, cost: Decimal, *, user=None) -> None:
    """Inside the booking transaction: lock the team, the member and the project (in that order),
    refuse `cost` if it doesn't fit under every cap that applies (OverBudget), else commit it."""
    since = month_start()
    caps = _caps(project, user, since, lock=True)
    if not cost:  # the free local previz always renders
        return
    over = [c for c in caps if c.spent + cost > c.cap]
    if over:
        raise OverBudget([_refusal(c, cost, project) for c in over], project=project, cost=cost, caps=over,
                         month=since.date())
    Project.objects.filter(pk=project.pk).update(render_spend=F("render_spend") + cost)
    for cap in caps:
        after = cap.spent + cost
        for level in ALERT_LEVELS:
            if cap.cap and after * 100 >= cap.cap * level:
                subject = functools.partial(_reached, cap, level, after)
                _alert(cap, level, project, since.date(), subject=subject,
                       body=functools.partial(_reached_body, subject, cost, project.name))


def on_refused(refusal: OverBudget) -> None:
    """After a refused booking's transaction rolled back: a cap that refused a take is used up (takes
    rarely add up to the cap exactly), so its owners hear it as the 100 % alert, if not told yet."""
    for cap in refusal.caps:
        if not cap.cap:
            continue  # a cap of $0: paid takes are off on purpose
        subject = functools.partial(_refused, cap, refusal.cost)
        _alert(cap, 100, refusal.project, refusal.month, subject=subject,
               body=functools.partial(_refused_body, cap, refusal.cost, refusal.project.name))


@contextmanager
def refusal_alerts():
    """Around (outside) a booking path's own transaction: a refusal's 100 % alert is written once
    that transaction rolled back. Usage: `with budget.refusal_alerts(), transaction.atomic():`."""
    try:
        yield
    except OverBudget as refusal:
        on_refused(refusal)
        raise


# An alert's words, said once per owner in that owner's language (notify calls them inside it).

def _reached(cap: Cap, level: int, after: Decimal) -> str:
    words = {"name": cap.name, "level": level, "after": usd(after), "cap": usd(cap.cap)}
    if level == 100:
        return gettext("Budget alert: %(name)s is spent (%(after)s of %(cap)s committed)") % words
    return gettext("Budget alert: %(name)s is %(level)s %% committed (%(after)s of %(cap)s)") % words


def _reached_body(subject: Callable[[], str], cost: Decimal, project_name: str) -> str:
    return gettext("%(subject)s; the latest booking was %(cost)s in %(project)s.") % {
        "subject": subject(), "cost": usd(cost), "project": project_name} + " " + _refused_until_raised()


def _refused(cap: Cap, cost: Decimal) -> str:
    return gettext("Budget alert: %(name)s is spent (%(spent)s of %(cap)s committed; a %(cost)s booking was "
                   "refused)") % {"name": cap.name, "spent": usd(cap.spent), "cap": usd(cap.cap), "cost": usd(cost)}


def _refused_body(cap: Cap, cost: Decimal, project_name: str) -> str:
    return gettext("%(subject)s in %(project)s. %(left)s is left.") % {
        "subject": _refused(cap, cost), "project": project_name, "left": usd(cap.left)} + " " + _refused_until_raised()


def _refused_until_raised() -> str:
    return gettext("Takes that would spend past it are refused until an owner raises it.")


def _alert(cap: Cap, level: int, project, month: date, *, subject: Callable[[], str],
           body: Callable[[], str]) -> None:
    """Tell the team's owners, once per cap, level and month (the BudgetAlert row says they were)."""
    try:
        with transaction.atomic():
            BudgetAlert.objects.create(team_id=project.team_id, scope=cap.scope, subject_id=cap.subject_id,
                                       month=month, level=level)
    except IntegrityError:
        return  # already told this month
    owners = [m.user for m in Membership.objects.filter(team_id=project.team_id, role=Role.OWNER)
              .select_related("user")]
    path = (reverse("projects:project_detail", args=[project.pk]) if cap.scope == BudgetScope.PROJECT
            else reverse("projects:team_members", args=[project.team_id]))
    notify(owners, "budgets", kind=NotificationKind.BUDGET, team_id=project.team_id, subject=subject, body=body,
           path=path)


def take_gives_back(render) -> bool:
    """Whether a take that ended gives its estimate back: only when no provider can have billed it."""
    if render.status not in {Status.FAILED, Status.CANCELED} or render.billing_unconfirmed:
        return False  # finished, or a create that may have reached the provider
    if render.follows_group:
        return False  # a multi-shot take's cost is its lead's, and only the lead gives it back
    if render.billed_cost is not None:
        return False  # the provider said what it billed: never refunded
    if not render.provider_job_id:
        return True  # ended before any provider had it
    if render.status != Status.FAILED or render.failure_code != "moderation":
        return False  # the provider ran it, or was asked to: it may bill the work done
    try:
        return not adapter_class(render.provider).facts.bills_refused_jobs
    except ProviderError:  # a kind this studio no longer talks to: keep what may have been billed
        return False


def on_take_settled(sender, render, **kwargs) -> None:
    """A take that ended unbilled gives its estimate back, once (the flag is the claim)."""
    if not take_gives_back(render):
        return
    with transaction.atomic():
        if not Render.objects.filter(pk=render.pk, cost_given_back=False).update(cost_given_back=True):
            return
        if render.cost:
            project_id = (Scene.all_objects.filter(pk=render.scene_id)  # a scene in the trash spends too
                          .values_list("project_id", flat=True).first())
            if project_id is not None:
                Project.objects.filter(pk=project_id).update(render_spend=F("render_spend") - render.cost)
    render.cost_given_back = True
