"""Storyboard pages: projects and their ordered scenes. htmx regions are partials."""

import copy
import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import reswap, retarget

from generation import budget, reference
from generation.catalog import mark_remixable
from generation.files import file_response, protect
from generation.forms import RenderForm
from generation.models import Render
from projects import consent, review, services
from projects.access import get_project_for, get_scene_for, require
from projects.forms import ProjectBudgetForm, ProjectForm, SceneEditForm, SceneForm
from projects.inputs import parse_id
from projects.models import Character

STORYBOARD = "projects/project_detail.html"


@login_required
@require_http_methods(["GET", "POST"])
def project_list(request):
    membership = request.membership
    if membership is None:
        return render(request, "projects/no_team.html")
    form = ProjectForm(request.POST or None)
    if request.method == "POST":
        require(membership, "edit")
        if form.is_valid():
            project = services.project_create(team=membership.team, user=request.user, **form.cleaned_data)
            return redirect("projects:project_detail", pk=project.pk)
    projects = membership.team.projects.all()
    return render(request, "projects/project_list.html", {"projects": projects, "form": form})


def _storyboard_context(project, membership, **extra):
    scenes = review.with_review_status(
        project.scenes.select_related("updated_by", "approved_take", "approved_by").prefetch_related("cast")
    )
    takes = list(Render.objects.filter(scene__project=project).select_related("created_by")
                 .annotate(comment_count=Count("comments")).order_by("-created_at", "-pk"))
    mark_remixable(takes, project.team)
    by_scene = {}
    for take in takes:
        by_scene.setdefault(take.scene_id, []).append(take)
    for scene in scenes:
        scene.takes = by_scene.get(scene.pk, [])
    library = list(project.team.characters.all())
    names = [c.name for c in library]
    return {
        "project": project, "membership": membership, "scenes": scenes, "progress": review.progress(scenes),
        "character_names_json": json.dumps(names), "library": library,
        "add_form": SceneForm(initial={"size": project.default_size, "duration": project.default_duration}),
        "render_form": RenderForm(team=project.team), "budget_form": ProjectBudgetForm(instance=project),
        "committed": budget.committed(project) if project.budget is not None else None, **extra,
    }


@login_required
def project_detail(request, pk):
    project, membership = get_project_for(request.user, pk)
    return render(request, STORYBOARD, _storyboard_context(project, membership))


@login_required
@require_POST
def project_budget(request, pk):
    """Owners set (or clear) the project's render budget."""
    project, membership = get_project_for(request.user, pk)
    require(membership, "manage")
    form = ProjectBudgetForm(request.POST, instance=project)
    if form.is_valid():
        form.save()
        messages.success(request, f"Render budget set to ${project.budget:.2f}." if project.budget is not None
                         else "Render budget removed: no limit.")
    else:
        messages.error(request, " ".join(m for errors in form.errors.values() for m in errors))
    return redirect("projects:project_detail", pk=project.pk)


@login_required
@require_POST
def scene_create(request, pk):
    project, membership = get_project_for(request.user, pk)
    require(membership, "edit")
    form = SceneForm(request.POST)
    if not form.is_valid():
        context = _storyboard_context(project, membership, add_form=form)
        if request.htmx:
            response = render(request, STORYBOARD + "#add-scene", context)
            return reswap(retarget(response, "#add-scene"), "outerHTML")
        return render(request, STORYBOARD, context, status=400)
    services.scene_create(project=project, user=request.user, **form.cleaned_data)
    if request.htmx:
        return render(request, STORYBOARD + "#storyboard", _storyboard_context(project, membership))
    return redirect("projects:project_detail", pk=project.pk)


def _scene_card(request, scene, membership, template="#scene-card", **extra):
    """One scene card, with the project's progress bar swapped out of band."""
    project = scene.project
    scenes = review.with_review_status(project.scenes.select_related("approved_take", "approved_by", "updated_by"))
    fresh = next((s for s in scenes if s.pk == scene.pk), None)
    if fresh is not None and template == "#scene-card":
        scene = fresh
    scene.takes = list(scene.renders.select_related("created_by").annotate(comment_count=Count("comments"))
                       .order_by("-created_at", "-pk"))
    mark_remixable(scene.takes, project.team)
    context = {"scene": scene, "project": project, "membership": membership, "progress": review.progress(scenes),
               "progress_oob": True,
               "render_form": RenderForm(team=scene.project.team),
               "library": list(scene.project.team.characters.all()), **extra}
    return render(request, STORYBOARD + template, context)


@login_required
def scene_card(request, pk):
    scene, membership = get_scene_for(request.user, pk)
    return _scene_card(request, scene, membership)


@login_required
@require_http_methods(["GET", "POST"])
def scene_edit(request, pk):
    scene, membership = get_scene_for(request.user, pk)
    require(membership, "edit")
    if request.method == "GET":
        form = SceneEditForm(instance=scene, initial={"version": scene.version})
        return _scene_card(request, scene, membership, "#scene-edit", form=form)
    form = SceneEditForm(request.POST, instance=scene)
    if not form.is_valid():
        return _scene_card(request, scene, membership, "#scene-edit", form=form)
    fields = {k: v for k, v in form.cleaned_data.items() if k != "version"}
    try:
        scene = services.scene_update(
            scene=scene, expected_version=form.cleaned_data["version"], user=request.user, **fields
        )
    except services.SceneConflict as conflict:
        theirs = conflict.current
        # Keep what this user typed; arm the form with the current version so
        # saving again is a deliberate overwrite.
        data = request.POST.copy()
        data["version"] = theirs.version
        # Validation writes the typed values into its instance: give it a copy
        # so "their version" stays what is in the database.
        form = SceneEditForm(data, instance=copy.copy(theirs))
        form.is_valid()
        return _scene_card(request, theirs, membership, "#scene-edit", form=form, conflict=theirs)
    if request.htmx:
        return _scene_card(request, scene, membership)
    return redirect("projects:project_detail", pk=scene.project_id)


@login_required
@require_http_methods(["GET", "POST"])
def scene_delete(request, pk):
    scene, membership = get_scene_for(request.user, pk)
    require(membership, "edit")
    project = scene.project
    if request.method == "GET":  # confirmation page for browsers without JS
        return render(request, "projects/scene_confirm_delete.html", {"scene": scene})
    services.scene_delete(scene=scene)
    if request.htmx:
        return render(request, STORYBOARD + "#scene-list", _storyboard_context(project, membership))
    messages.success(request, f"Deleted scene “{scene.title}”.")
    return redirect("projects:project_detail", pk=project.pk)


@login_required
@require_POST
def scene_move(request, pk, direction):
    if direction not in ("up", "down"):
        raise Http404("Scenes move up or down.")
    scene, membership = get_scene_for(request.user, pk)
    require(membership, "edit")
    services.scene_move(scene=scene, offset=-1 if direction == "up" else 1)
    if request.htmx:
        return render(request, STORYBOARD + "#scene-list", _storyboard_context(scene.project, membership))
    return redirect("projects:project_detail", pk=scene.project_id)


@login_required
@require_POST
def scene_approve(request, pk, take_pk):
    scene, membership = get_scene_for(request.user, pk)
    require(membership, "review")
    take = get_object_or_404(Render, pk=take_pk, scene=scene)
    try:
        review.take_approve(take=take, user=request.user)
    except ValidationError as exc:
        if request.htmx:
            return _scene_card(request, scene, membership, error=" ".join(exc.messages))
        messages.error(request, " ".join(exc.messages))
    if request.htmx:
        return _scene_card(request, scene, membership)
    return redirect("projects:project_detail", pk=scene.project_id)


@login_required
@require_POST
def scene_reference(request, pk):
    scene, membership = get_scene_for(request.user, pk)
    require(membership, "edit")
    error = None
    try:
        services.scene_set_reference(
            scene=scene, user=request.user, upload=request.FILES.get("image"),
            fit=request.POST.get("fit") or None, remove=request.POST.get("action") == "remove",
        )
    except ValidationError as exc:
        error = " ".join(exc.messages)
    if request.htmx:
        return _scene_card(request, scene, membership, reference_error=error)
    if error:
        messages.error(request, error)
    return redirect("projects:project_detail", pk=scene.project_id)


@login_required
def scene_reference_image(request, pk, variant):
    """The original upload, or a preview fitted to the scene's size the way a take will get it."""
    scene, _ = get_scene_for(request.user, pk)
    if not scene.reference_image or variant not in ("original", "crop", "pad"):
        raise Http404("No reference image.")
    if variant == "original":
        return file_response(request, scene.reference_image)
    with scene.reference_image.open("rb") as original:
        fitted = reference.fit(original, size=scene.size, mode=variant)
    return protect(HttpResponse(fitted), f"{variant}.png")


@login_required
@require_POST
def scene_cast(request, pk):
    scene, membership = get_scene_for(request.user, pk)
    require(membership, "edit")
    character = get_object_or_404(Character, pk=parse_id(request.POST.get("character")) or 0,
                                  team=scene.project.team_id)
    change = consent.scene_cast_remove if request.POST.get("action") == "remove" else consent.scene_cast_add
    error = None
    try:
        scene = change(scene=scene, character=character, user=request.user)
    except (ValidationError, services.SceneConflict) as exc:
        error = "The scene changed meanwhile; reload and try again." if isinstance(
            exc, services.SceneConflict) else " ".join(exc.messages)
    if request.htmx:
        return _scene_card(request, scene, membership, error=error)
    return redirect("projects:project_detail", pk=scene.project_id)
