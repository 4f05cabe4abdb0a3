"""A project's render budget: takes that would spend past it are refused at booking.

Committed spend is every take's estimated cost, except takes that failed or were canceled
before a provider ever had them (no job id: nobody can have charged for them). A take that
reached the provider counts even if it failed, since providers may bill for it. Booking
holds the project row while it checks and books, so two clicks at once can't both fit
under the same remaining budget.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Q, Sum

from generation.models import Render, Status


def committed(project) -> Decimal:
    never_sent = Q(status__in=[Status.FAILED, Status.CANCELED], provider_job_id="")
    spent = (Render.objects.filter(scene__project=project).exclude(never_sent)
             .aggregate(total=Sum("cost"))["total"])
    return spent or Decimal(0)


def hold(project, cost: Decimal) -> None:
    """Inside the booking transaction: lock the project and refuse `cost` if it doesn't fit."""
    budget = type(project).objects.select_for_update().filter(pk=project.pk).values_list("budget", flat=True).first()
    if budget is None or not cost:  # no limit, or free (the local previz)
        return
    spent = committed(project)
    if spent + cost > budget:
        raise ValidationError(
            f"Over budget: this costs ${cost:.2f}, and ${spent:.2f} of {project.name}'s ${budget:.2f} render "
            f"budget is already committed (${max(budget - spent, Decimal(0)):.2f} left). An owner can raise the "
            "budget on the storyboard page.")
