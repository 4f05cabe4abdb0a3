"""Move scenes to another model: the plan (per scene what changes and what it costs), then Apply."""


from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from generation import catalog
from generation.renders import retarget
from generation.renders.forms import RetargetForm
from projects.access import get_project_for, require
from projects.form_errors import error_messages
from projects.htmx import wants_fragment
from projects.inputs import ids_or_404

if TYPE_CHECKING:
    from django.http.response import HttpResponseBase

    from generation.models import CatalogModel
    from projects.access import AuthedRequest
    from projects.models import Membership, Project, Scene


PAGE = "generation/retarget.html"


def _page(request: AuthedRequest, project: Project, membership: Membership, *, choices: QueryDict,
          error: list[str] | None = None, partial: bool = False) -> HttpResponseBase:
    """The page for the chosen scenes and model, with the plan as it stands now."""
    selected = ids_or_404(choices.getlist("scene"), what="scene")
    board = retarget.with_used_model(project.scenes.all()).order_by("position", "pk")
    scenes = list(board.filter(pk__in=selected) if selected else board)
    used = retarget.describe(project.team, [retarget.used_value(s) for s in scenes])
    moving = choices.get("from", "") if choices.get("from", "") in used else ""
    if moving:  # every scene that uses that model
        scenes = [s for s in scenes if retarget.used_value(s) == moving]
    form = RetargetForm(team=project.team)
    target = form.targets.get(choices.get("target", "")) or next(
        (a.target for a in catalog.alternatives_for(project.team, *scenes)), None)
    context = {"project": project, "membership": membership, "form": form, "target": target, "error": error,
               "selected": selected, "moving": moving, "models_used": _models_used(used, scenes, selected),
               "plan": retarget.retarget_plan(team=project.team, target=target, scenes=scenes) if target else None}
    return render(request, PAGE + "#retarget-plan" if partial else PAGE, context)


def _models_used(used: dict[str, CatalogModel | None], scenes: list[Scene], selected: list[int],
                 ) -> list[tuple[str, str]]:
    """The "from" choices: each model the project's scenes use, retired ones marked."""
    if selected:
        return []
    retired = catalog.retired_entries()
    return [(value, f"{model.display_name}{' (retired)' if catalog.is_retired(model, entries=retired) else ''}"
             if model else value) for value, model in sorted(used.items(), key=lambda item: str(item[1]))]


@login_required
@require_http_methods(["GET", "POST"])
def scene_retarget(request: AuthedRequest, project_pk: int) -> HttpResponseBase:
    project, membership = get_project_for(request.user, project_pk)
    require(membership, "edit")
    if request.method != "POST":
        return _page(request, project, membership, choices=request.GET, partial=wants_fragment(request))
    form = RetargetForm(request.POST, team=project.team)
    if not form.is_valid():
        error = error_messages(form)
        return _page(request, project, membership, choices=request.POST, error=error)
    try:
        moved = retarget.scene_retarget(project=project, user=request.user, target=form.chosen,
                                        shown=form.cleaned_data["shown"])
    except ValidationError as exc:
        return _page(request, project, membership, choices=request.POST, error=error_messages(exc))
    messages.success(request, ngettext("Moved %(count)d scene to %(model)s. Nothing was booked.",
                                       "Moved %(count)d scenes to %(model)s. Nothing was booked.", len(moved))
                     % {"count": len(moved), "model": form.chosen.model.display_name})
    return redirect("projects:project_detail", pk=project.pk)
