"""Multi-shot takes in the pages: book selected scenes as one take, play it whole, render it or a scene again."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from generation.models import Status
from generation.renders import shot_groups
from generation.renders.forms import RenderAloneForm, RetryForm, ShotGroupForm
from generation.storage.files import file_response
from projects.access import get_project_for, get_take_for, require
from projects.form_errors import error_messages, error_text
from projects.htmx import wants_fragment
from projects.inputs import ids_or_404

if TYPE_CHECKING:
    from django.http.response import HttpResponseBase

    from generation.models import Render, ShotGroup
    from projects.access import AuthedRequest
    from projects.models import Membership, Project

PAGE = "generation/shot_group.html"


def _page(request: AuthedRequest, project: Project, membership: Membership, *, ids: list[int], target_value: str = "",
          error: list[str] | None = None, partial: bool = False, status: int = 200) -> HttpResponseBase:
    form = ShotGroupForm(team=project.team)  # a fresh idempotency key for the next click
    target = form.targets.get(target_value) or next(iter(form.targets.values()), None)
    scenes = shot_groups.scenes_for(project, ids)
    plan = shot_groups.shot_group_plan(project=project, connection=target.connection,
                                       model_id=target.model.model_id, scenes=scenes) if target else None
    context = {"project": project, "membership": membership, "form": form, "target": target, "scenes": scenes,
               "plan": plan, "error": error, "lost": len(scenes) != len(ids)}
    return render(request, PAGE + "#shot-plan" if partial else PAGE, context, status=status)


@login_required
def shot_group_new(request: AuthedRequest, project_pk: int) -> HttpResponseBase:
    """The selected scenes as one multi-shot take: how they fit the model, what it costs and sends; one click."""
    project, membership = get_project_for(request.user, project_pk)
    require(membership, "edit")
    if request.method != "POST":
        ids = ids_or_404(request.GET.getlist("scene"), what="scene")
        return _page(request, project, membership, ids=ids, target_value=request.GET.get("target", ""),
                     partial=wants_fragment(request))
    form = ShotGroupForm(request.POST, team=project.team)
    ids = ids_or_404([i for i in request.POST.get("scenes", "").split(",") if i.strip()], what="scene")
    if not form.is_valid():
        return _page(request, project, membership, ids=ids, target_value=request.POST.get("target", ""),
                     error=error_messages(form))
    target = form.chosen
    try:
        group = shot_groups.shot_group_create(
            project=project, user=request.user, connection=target.connection, model_id=target.model.model_id,
            scene_ids=form.cleaned_data["scenes"], idempotency_key=form.cleaned_data["idempotency_key"],
            shown_cost=form.cleaned_data["plan_cost"])
    except ValidationError as exc:
        return _page(request, project, membership, ids=ids, target_value=target.value, error=error_messages(exc))
    assert group.lead is not None, "a booked group has its lead"
    messages.success(request, gettext("Booked one multi-shot take of %(scenes)s on %(model)s (est. $%(cost).2f).")
                     % {"scenes": group.scene_words, "model": target.label, "cost": group.lead.cost})
    return redirect("projects:project_detail", pk=project.pk)


def _part_action(request: AuthedRequest, pk: int, form_class: type[forms.Form],
                 action: Callable[[Render, Any], object]) -> HttpResponseBase:
    """A one-click form on a part's card: the whole take again, or the scene on its own."""
    take, membership = get_take_for(request.user, pk)
    require(membership, "edit")
    if take.shot_group_id is None:
        raise Http404("This take is not part of a multi-shot take.")
    extra: dict[str, Any] = {"team": take.scene.project.team} if form_class is RenderAloneForm else {}
    form = form_class(request.POST, **extra)
    error = None
    if form.is_valid():
        try:
            action(take, form)
        except ValidationError as exc:
            error = error_text(exc)
    else:
        error = error_text(form)
    if error:
        messages.error(request, gettext("Scene %(n)d: %(error)s") % {"n": take.scene.number, "error": error})
    return redirect("projects:scene_panel", take.scene.project_id, take.scene_id)


@login_required
@require_POST
def shot_group_again(request: AuthedRequest, pk: int) -> HttpResponseBase:
    """Retry (or render again) the whole multi-shot take a part belongs to."""
    return _part_action(request, pk, RetryForm, lambda take, form: shot_groups.shot_group_rerender(
        take=take, user=request.user, idempotency_key=form.cleaned_data["idempotency_key"]))


@login_required
@require_POST
def shot_part_alone(request: AuthedRequest, pk: int) -> HttpResponseBase:
    """One scene of a multi-shot take on its own, from the last frame of the scene before it."""
    return _part_action(request, pk, RenderAloneForm, lambda take, form: shot_groups.shot_part_render_alone(
        take=take, user=request.user, connection=form.chosen.connection, model_id=form.chosen.model.model_id,
        idempotency_key=form.cleaned_data["idempotency_key"]))


def _group_of(request: AuthedRequest, pk: int) -> tuple[Render, Membership, ShotGroup, list[Render]]:
    """The multi-shot take a part belongs to, and its parts, for someone who may watch every one of them."""
    take, membership = get_take_for(request.user, pk)
    group = take.shot_group
    if group is None:
        raise Http404("This take is not part of a multi-shot take.")
    parts = list(group.parts.select_related("scene").order_by("shot_index"))
    # The whole file shows every scene: withheld from anyone who may not watch one of them.
    if any(part.is_withheld_from(request.user) for part in parts):
        raise Http404("A scene of this multi-shot take is withheld.")
    return take, membership, group, parts


@login_required
def shot_group_play(request: AuthedRequest, pk: int) -> HttpResponseBase:
    """The multi-shot take as the provider rendered it, whole, with where each scene's take was cut."""
    take, membership, group, parts = _group_of(request, pk)
    cuts = (group.cuts or {}).get("parts", [])
    rows = [{"part": part, "cut": cuts[part.shot_index] if (part.shot_index or 0) < len(cuts) else None}
            for part in parts]
    return render(request, "generation/shot_group_play.html", {
        "take": take, "group": group, "rows": rows, "project": take.scene.project, "membership": membership,
        "playable": bool(group.video) and all(p.status == Status.SUCCEEDED for p in parts)})


@login_required
def shot_group_file(request: AuthedRequest, pk: int) -> HttpResponseBase:
    _take, _membership, group, parts = _group_of(request, pk)
    if not group.video or not all(p.status == Status.SUCCEEDED for p in parts):
        raise Http404("This multi-shot take has no file.")
    return file_response(request, group.video)
