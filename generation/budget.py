"""A project's render budget: takes that would spend past it are refused at booking.

Committed spend (`Project.render_spend`) grows by each take's estimated cost when it is
booked, in the booking's own transaction, and shrinks again only for a take that failed or
was canceled before a provider ever had it (no job id: nobody can have charged for it), and
never for a take whose create a crashed worker may have sent (`billing_unconfirmed`). A
take that reached the provider stays counted even if it failed, since providers may bill
for it, and deleting a scene does not give its takes' money back. Booking holds the project
row while it checks and books, so two clicks at once can't both fit under what is left.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import F

from generation.models import Status


def _projects():
    from projects.models import Project

    return Project.objects


def committed(project) -> Decimal:
    return _projects().filter(pk=project.pk).values_list("render_spend", flat=True).first() or Decimal(0)


def remaining(project) -> Decimal | None:
    """What is left of the project's budget (never below 0); None when it has no budget."""
    if project.budget is None:
        return None
    return max(project.budget - committed(project), Decimal(0))


def lock(project_id: int) -> None:
    """Hold the project row until the transaction ends. Every path that books a take takes
    this lock before any scene row, so bookings and edits never wait on each other in a circle."""
    _projects().select_for_update().filter(pk=project_id).values_list("pk").first()


def hold(project, cost: Decimal) -> None:
    """Inside the booking transaction: lock the project, refuse `cost` if it doesn't fit, else commit it."""
    budget, spent = _projects().select_for_update().filter(pk=project.pk).values_list(
        "budget", "render_spend").first()
    if budget is not None and cost and spent + cost > budget:  # the free local previz always renders
        raise ValidationError(
            f"Over budget: this costs ${cost:.2f}, and ${spent:.2f} of {project.name}'s ${budget:.2f} render "
            f"budget is already committed (${max(budget - spent, Decimal(0)):.2f} left). An owner can raise the "
            "budget on the storyboard page.")
    if cost:
        _projects().filter(pk=project.pk).update(render_spend=F("render_spend") + cost)


def on_take_settled(sender, render, **kwargs) -> None:
    """A take that ended before any provider had it gives its estimate back."""
    if (render.status in {Status.FAILED, Status.CANCELED} and not render.provider_job_id and render.cost
            and not render.billing_unconfirmed):  # a create that may have reached the provider
        from projects.models import Scene

        project_id = Scene.objects.filter(pk=render.scene_id).values_list("project_id", flat=True).first()
        _projects().filter(pk=project_id).update(render_spend=F("render_spend") - render.cost)
