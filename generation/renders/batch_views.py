"""Render many scenes at once: the plan (what each costs, what is left out and why), then one click."""


from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import ngettext

from generation.renders import batch, batch_overview
from generation.renders.forms import BatchRenderForm
from generation.spend import budget
from projects.access import get_project_for, require
from projects.form_errors import error_messages
from projects.htmx import wants_fragment
from projects.inputs import ids_or_404
from projects.money import usd

if TYPE_CHECKING:
    from django.http.response import HttpResponseBase

    from generation.renders.batch_overview import PlanOverview
    from projects.access import AuthedRequest
    from projects.models import Membership, Project


PAGE = "generation/batch_render.html"


def _page(request: AuthedRequest, project: Project, membership: Membership, *, choices: QueryDict,
          error: list[str] | None = None, partial: bool = False) -> HttpResponseBase:
    """The page for the chosen target and scope, with the plan as it stands now."""
    form = BatchRenderForm(team=project.team)  # a fresh idempotency key for the next click
    target = form.targets.get(choices.get("target", "")) or next(iter(form.targets.values()), None)
    # Scenes chosen on the board come as repeated `scene` values: a scope of their own.
    selected = ids_or_404(choices.getlist("scene"), what="scene")
    scopes = {"selected": ngettext("The %(count)d scene selected on the storyboard",
                                   "The %(count)d scenes selected on the storyboard", len(selected))
              % {"count": len(selected)}, **batch.SCOPES} if selected else batch.SCOPES
    asked = choices.get("scope", "")
    scope = asked if asked in scopes else "unapproved"
    plan = batch_overview.batch_overview(
        project=project, scenes=batch.scenes_in_scope(project, scope, selected), connection=target.connection,
        model_id=target.model.model_id) if target else None
    left = budget.remaining(project)
    total = plan.total if plan is not None else 0
    month_caps = [c for c in budget.remaining_for(project, request.user) if c.scope != "project"]
    for cap in month_caps:
        cap.short = bool(total) and total > cap.left
    context = {"project": project, "membership": membership, "form": form, "target": target, "scope": scope,
               "scopes": scopes, "selected": selected, "plan": plan, "error": error, "budget_left": left,
               **_pages(plan, choices, target=target.value if target else "", scope=scope, selected=selected),
               "month_caps": month_caps, "over_budget": plan is not None and (
                   (left is not None and total > left) or any(c.short for c in month_caps))}
    return render(request, PAGE + "#batch-plan" if partial else PAGE, context)


def _pages(plan: PlanOverview | None, choices: QueryDict, *, target: str, scope: str,
           selected: list[int]) -> dict[str, object]:
    """A page of each of the plan's lists (its total, counts and the booking cover every scene it plans), and
    what a link to another page of one list keeps: the model, the scenes chosen, the other list's page."""
    pages = {name: Paginator(rows, batch_overview.PAGE_SIZE).get_page(choices.get(name))
             for name, rows in (("takes", plan.takes if plan else []), ("left_out", plan.skipped if plan else []))}
    query = QueryDict(mutable=True)
    query.update({"target": target, "scope": scope})
    query.setlist("scene", [str(pk) for pk in selected])
    links = {}
    for name, other in (("takes", "left_out"), ("left_out", "takes")):
        kept = query.copy()
        if pages[other].number > 1:
            kept[other] = str(pages[other].number)
        links[name] = kept.urlencode()
    return {"pages": pages, "links": links}


@login_required
def batch_render(request: AuthedRequest, project_pk: int) -> HttpResponseBase:
    project, membership = get_project_for(request.user, project_pk)
    require(membership, "edit")
    if request.method != "POST":
        return _page(request, project, membership, choices=request.GET, partial=wants_fragment(request))
    form = BatchRenderForm(request.POST, team=project.team)
    if not form.is_valid():
        error = error_messages(form)
        return _page(request, project, membership, choices=request.POST, error=error)
    target = form.chosen
    try:
        takes = batch.render_batch(
            project=project, user=request.user, connection=target.connection, model_id=target.model.model_id,
            scene_ids=form.cleaned_data["scenes"], idempotency_key=form.cleaned_data["idempotency_key"],
            shown_total=form.cleaned_data["plan_total"], shown_digest=form.cleaned_data["plan_digest"])
    except ValidationError as exc:
        return _page(request, project, membership, choices=request.POST, error=error_messages(exc))
    cost = sum(t.cost for t in takes)
    messages.success(request, ngettext("Booked %(count)d take on %(model)s (est. %(cost)s).",
                                       "Booked %(count)d takes on %(model)s (est. %(cost)s).", len(takes))
                     % {"count": len(takes), "model": target.label, "cost": usd(cost)})
    return redirect("projects:project_detail", pk=project.pk)
