"""Storyboard pages: projects and their ordered scenes. htmx regions are partials."""

import copy
import json
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import push_url, replace_url, reswap, retarget

from generation.models import Render
from generation.renders.forms import RenderForm
from generation.storage import reference
from generation.storage.files import file_response, protect
from projects import selectors
from projects.access import AuthedRequest, get_project_for, get_scene_for, require
from projects.form_errors import error_text
from projects.htmx import wants_fragment
from projects.inputs import parse_id
from projects.live.fragments import presence_context
from projects.models import BoardView, Character, Membership, Project, ProjectField, Scene
from projects.models.storyboard import SIZE_CHOICES
from projects.money import usd
from projects.review import services as review
from projects.storyboard import fields, services, trash
from projects.storyboard.forms import (
    ProjectBudgetForm,
    ProjectForm,
    ProjectPolicyForm,
    SceneEditForm,
    SceneForm,
    dialogue_context,
)
from projects.teams import services as team_services

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
    cards = selectors.projects_home_for(team=membership.team)
    return render(request, "projects/project_list.html", {"cards": cards, "form": form})


def board_filter(project: Project, data: QueryDict) -> tuple[selectors.BoardFilter, list[ProjectField]]:
    """The board's filter from a request's GET or POST, and the project's own fields it may name."""
    own_fields = selectors.project_fields(project=project)
    return selectors.BoardFilter.from_query(data, fields=own_fields), own_fields


def board_context(request: AuthedRequest, project: Project, membership: Membership, *, scene: Scene | None = None,
                  filters: selectors.BoardFilter | None = None, own_fields: list[ProjectField] | None = None,
                  **extra: object) -> dict[str, object]:
    """The board page: its first page of frames, totals, the add form and, given a scene, its side panel."""
    if filters is None:
        filters, own_fields = board_filter(project, request.GET)
    board = selectors.board_for(project=project, user=request.user, filters=filters, fields=own_fields)
    assert board.totals is not None  # board_for always counts the whole board
    panel = _panel_context(scene, membership, frames=board.frames, total=board.totals.scenes,
                           own_fields=board.fields, **extra) \
        if scene is not None else {}
    # With a scene open, its panel read the team's library already: the @mention names come from it.
    cast = ([(c.pk, c.name) for c in panel["library"]] if panel
            else list(project.team.characters.order_by("name").values_list("pk", "name")))
    context = {
        "project": project, "membership": membership, "board": board, "frames": board.frames, "page": board.page,
        "filters": filters, "cast_choices": cast, "status_choices": selectors.STATUS_LABELS.items(),
        "own_fields": board.fields,
        "totals": board.totals, "trash_count": board.trash_count, "view": selectors.board_view_for(user=request.user),
        "character_names_json": json.dumps([name for _, name in cast]),
        "add_form": SceneForm(initial={"size": project.default_size, "duration": project.default_duration}),
        "budget_form": ProjectBudgetForm(instance=project), "policy_form": ProjectPolicyForm(project=project),
        **presence_context(project.pk), **extra,
    }
    return {**context, **panel}


def board_url(project, *, undo=None) -> str:
    """The board's address; after a delete (a trash.Trashed), with the batch its Undo toast offers back."""
    url = reverse("projects:project_detail", args=[project.pk])
    return f"{url}?{urlencode({'undo': undo.batch})}" if undo else url


def trashed_response(request, project, membership, trashed):
    """After a delete from the board: the board without those frames, and the Undo toast."""
    context = board_context(request, project, membership, undo=trashed.scenes, undo_batch=trashed.batch)
    return push_url(render(request, STORYBOARD + "#board-response", context), board_url(project, undo=trashed))


def _panel_context(scene, membership, *, frames=None, total=None, own_fields=None, **extra):
    panel = selectors.scene_panel_for(scene=scene, frames=frames, total=total)
    scene = panel.scene
    own_fields = selectors.project_fields(project=scene.project) if own_fields is None else own_fields
    field_rows = selectors.scene_field_rows(fields=own_fields, scene=scene, typed=extra.pop("fields_typed", None))
    form = extra.pop("form", None) or SceneEditForm.opened_on(scene, auto_id="edit_%s")
    dialogue = dialogue_context(lines=panel.dialogue, library=panel.library, team=scene.project.team, scene=panel.scene,
                                edited=extra.pop("edited_lines", None), add_form=extra.pop("add_line_form", None))
    return {"panel": panel, "scene": scene, "frame": panel.frame, "takes": panel.takes,
            "continuity": panel.continuity, "project": scene.project, "membership": membership, "form": form,
            "render_form": RenderForm(team=scene.project.team), "field_rows": field_rows, **dialogue, **extra}


def _panel(request: AuthedRequest, scene: Scene, membership: Membership, **extra: object) -> HttpResponse:
    """The side panel, with its frame and the totals swapped out of band."""
    context = _panel_context(scene, membership, **extra)
    context["totals"] = selectors.board_totals(project=scene.project)
    return render(request, STORYBOARD + "#panel-response", context)


def _board(request, project, membership, *, scene=None, status=200, **extra):
    """The whole #board region (after a change that renumbers frames)."""
    return render(request, STORYBOARD + "#board", board_context(request, project, membership, scene=scene, **extra),
                  status=status)


@login_required
def project_detail(request, pk):
    project, membership = get_project_for(request.user, pk)
    if request.GET.get("view") in BoardView.values:
        services.preference_set_board_view(user=request.user, view=request.GET["view"])
    undo = {}
    if membership.can_edit and request.GET.get("undo"):  # just deleted: the toast offers them back
        undo = {"undo": selectors.trash_batch_for(project=project, batch=request.GET["undo"]),
                "undo_batch": request.GET["undo"]}
    return render(request, STORYBOARD, board_context(request, project, membership, **undo))


@login_required
@require_POST
def board_view(request, pk):
    """Grid or list: remembered for this user on every board."""
    project, _ = get_project_for(request.user, pk)
    try:
        services.preference_set_board_view(user=request.user, view=request.POST.get("view", ""))
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    return redirect("projects:project_detail", pk=project.pk)


@login_required
def board_page(request, pk):
    """Frames by position, as the board's list scrolls or its filter changes; loaded alone, the board from there."""
    project, membership = get_project_for(request.user, pk)
    filters, own_fields = board_filter(project, request.GET)
    after = request.GET.get("after", "")
    after = int(after) if after.isascii() and after.isdigit() and len(after) < 10 else None
    if not wants_fragment(request):
        context = board_context(request, project, membership, filters=filters, own_fields=own_fields)
        context["page"] = selectors.board_page_for(project=project, after=after, filters=filters, fields=own_fields)
        return render(request, STORYBOARD, {**context, "frames": context["page"].frames})
    page = selectors.board_page_for(project=project, after=after, filters=filters, fields=own_fields)
    context = {"project": project, "membership": membership, "page": page, "frames": page.frames,
               "filters": filters, "later": after is not None,
               "totals": selectors.board_totals(project=project) if after is None else None}
    response = render(request, STORYBOARD + ("#board-page" if after is not None else "#board-frames"), context)
    if request.htmx.trigger == "board-filter":  # the filter form: the address says what the board shows
        replace_url(response, board_url(project) + (f"?{filters.query}" if filters.query else ""))
    return response


@login_required
def scene_panel(request, pk, scene_pk):
    """A scene opened in the side panel; loaded directly it is the board with the panel open."""
    scene, membership = get_scene_for(request.user, scene_pk)
    if scene.project_id != pk:
        raise Http404("No such scene in this project.")
    if wants_fragment(request):
        return render(request, STORYBOARD + "#scene-panel", _panel_context(scene, membership))
    return render(request, STORYBOARD, board_context(request, scene.project, membership, scene=scene))


@login_required
@require_POST
def scene_order(request, pk):
    """One drag and drop: the full new order of the project's scenes."""
    project, membership = get_project_for(request.user, pk)
    require(membership, "edit")
    status, message = 200, None
    try:
        if request.POST.get("move"):  # one frame dropped next to another: the rest need not be loaded
            services.scene_move_next_to(project=project, user=request.user, scene_id=request.POST["move"],
                                        after_id=request.POST.get("after"), before_id=request.POST.get("before"))
        else:
            services.scene_reorder(project=project, user=request.user, scene_ids=request.POST.get("order", ""))
    except services.StaleOrder as exc:
        status, message = 409, error_text(exc)
    except ValidationError as exc:
        status, message = 400, error_text(exc)
    if not wants_fragment(request):
        if message:
            messages.error(request, message)
        return redirect("projects:project_detail", pk=project.pk)
    filters, own_fields = board_filter(project, request.POST)
    context = board_context(request, project, membership, board_message=message, filters=filters,
                            own_fields=own_fields)
    return render(request, STORYBOARD + "#order-response", context, status=status)


@login_required
@require_POST
def scene_bulk(request, pk):
    """Render, move or delete the selected scenes (a plain form: works without JavaScript)."""
    project, membership = get_project_for(request.user, pk)
    require(membership, "edit")
    action, ids = request.POST.get("action"), request.POST.getlist("scene")
    if request.POST.get("all"):  # "Select all N scenes": the server's ids, loaded on the page or not
        filters, _ = board_filter(project, request.POST)
        ids = [str(i) for i in selectors.board_scene_ids(project=project, filters=filters)]
    if action == "render":
        return redirect(reverse("generation:batch_render", args=[project.pk]) + "?" + urlencode(
            [("scope", "selected")] + [("scene", i) for i in ids]))
    if action == "multishot":  # the selected scenes as one take: the page shows how they fit first
        return redirect(reverse("generation:shot_group_new", args=[project.pk]) + "?" + urlencode(
            [("scene", i) for i in ids]))
    try:
        if action == "delete":  # to the trash, at once: the board's toast offers the Undo
            # parse_id, not str.isdigit: "²" is a digit to Python and 10**30 is past bigint (no such scene).
            ids = [pk for pk in map(parse_id, ids) if pk]
            return redirect(board_url(project, undo=trash.scene_bulk_trash(project=project, scene_ids=ids,
                                                                            user=request.user)))
        messages.success(request, _bulk_apply(project, request.user, action, ids,
                                              request.POST.get("position") or request.POST.get("to"), request.POST))
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    return redirect("projects:project_detail", pk=project.pk)


def _bulk_apply(project, user, action, ids, to, post=None) -> str:
    if action == "field":  # one of the project's own fields, set (or cleared) on every selected scene
        field = project.fields.filter(pk=parse_id((post or {}).get("field"))).first()
        if field is None:
            raise ValidationError(gettext("Choose one of this project's fields."))
        changed = fields.scene_bulk_fields_set(project=project, user=user, scene_ids=ids, field=field,
                                               value=post.get("value", ""))
        return fields.bulk_message(field=field, changed=len(changed), value=fields.field_value_clean(
            field, post.get("value", "")))
    if action == "move":
        moved = [s for s in services.scene_bulk_move(project=project, user=user, scene_ids=ids, to=to)
                 if str(s.pk) in ids]
        if len(moved) == 1:
            return gettext("Moved the scene to %(number)s.") % {"number": moved[0].number}
        return ngettext("Moved %(count)d scene to %(first)s–%(last)s.", "Moved %(count)d scenes to %(first)s–%(last)s.",
                        len(moved)) % {"count": len(moved), "first": moved[0].number, "last": moved[-1].number}
    raise ValidationError(gettext("Choose what to do with the selected scenes."))


@login_required
@require_POST
def project_budget(request, pk):
    """Owners set (or clear) the project's render budget."""
    project, membership = get_project_for(request.user, pk)
    require(membership, "manage")
    form = ProjectBudgetForm(request.POST, instance=project)
    if form.is_valid():
        team_services.project_budget_set(project=project, user=request.user, amount=form.cleaned_data["budget"])
        messages.success(request, gettext("Render budget set to %(amount)s.") % {"amount": usd(project.budget)}
                         if project.budget is not None else gettext("Render budget removed: no limit."))
    else:
        messages.error(request, error_text(form))
    return redirect("projects:project_detail", pk=project.pk)


@login_required
@require_POST
def project_policy(request, pk):
    """Owners choose which models may be booked in the project and a price ceiling per second."""
    project, membership = get_project_for(request.user, pk)
    require(membership, "manage")
    form = ProjectPolicyForm(request.POST, project=project)
    if form.is_valid():
        services.project_set_model_policy(project=project, user=request.user, **form.cleaned_data)
        messages.success(request, gettext("Model policy saved: it applies to every booking here, yours too.")
                         if project.allowed_models or project.max_price_per_second is not None
                         else gettext("Model policy removed: any model the team has may be booked."))
    else:
        messages.error(request, error_text(form))
    return redirect("projects:project_detail", pk=project.pk)


@login_required
@require_POST
def scene_create(request, pk):
    project, membership = get_project_for(request.user, pk)
    require(membership, "edit")
    form = SceneForm(request.POST)
    if form.is_valid():
        try:
            services.scene_create(project=project, user=request.user, **form.cleaned_data)
        except ValidationError as exc:  # e.g. an @mention of someone whose consent does not allow it
            form.add_error("prompt", exc)
    if not form.is_valid():
        context = board_context(request, project, membership, add_form=form)
        if wants_fragment(request):
            response = render(request, STORYBOARD + "#add-scene", context)
            # The form picks the frames out of its answer (hx-select): a refusal is the form's own section.
            response["HX-Reselect"] = "#add-scene"
            return reswap(retarget(response, "#add-scene"), "outerHTML")
        return render(request, STORYBOARD, context, status=400)
    if wants_fragment(request):
        return _board(request, project, membership)
    return redirect("projects:project_detail", pk=project.pk)


def _panel_url(scene) -> str:
    return reverse("projects:scene_panel", args=[scene.project_id, scene.pk])


@login_required
def scene_card(request, pk):
    """The scene's old address: its side panel now."""
    scene, membership = get_scene_for(request.user, pk)
    if wants_fragment(request):
        return _panel(request, scene, membership)
    return redirect(_panel_url(scene))


@login_required
@require_http_methods(["GET", "POST"])
def scene_edit(request, pk):
    scene, membership = get_scene_for(request.user, pk)
    require(membership, "edit")
    if request.method == "GET":  # the editor lives in the panel
        return scene_card(request, pk)
    form = SceneEditForm(request.POST, instance=scene, auto_id="edit_%s")
    if not form.is_valid():
        return _edited(request, scene, membership, form=form, status=400)
    base = form.base()
    try:
        scene = services.scene_update(scene=scene, expected_version=form.cleaned_data["version"], base=base,
                                      user=request.user, **form.edits())
    except ValidationError as exc:  # e.g. an @mention of someone whose consent does not allow it
        form.add_error("prompt", exc)
        return _edited(request, scene, membership, form=form, status=400)
    except services.SceneConflict as conflict:
        theirs = conflict.current
        # Keep what this user typed; base the form on their version so saving again is a decision.
        # Validation writes the typed values into its instance: give it a copy.
        form = SceneEditForm.rearmed(request.POST, theirs=theirs, base=base, clashes=conflict.fields,
                                     instance=copy.copy(theirs), auto_id="edit_%s")
        form.is_valid()
        clashes = [(form[name].label,
                    getattr(theirs, name), form.data.get(name, "")) for name in conflict.fields]
        clash_labels = ", ".join(str(label).lower() for label, _theirs, _yours in clashes)
        return _edited(request, theirs, membership, form=form, conflict=theirs, clashes=clashes,
                       clash_labels=clash_labels, status=409)
    if wants_fragment(request):
        return _panel(request, scene, membership, saved=True)
    messages.success(request, gettext("Saved scene %(number)s.") % {"number": scene.number})
    return redirect(_panel_url(scene))


def _edited(request, scene, membership, *, status, **extra):
    """The panel with the edit form as typed (errors or a conflict), 200 for htmx so it swaps in."""
    if wants_fragment(request):
        return _panel(request, scene, membership, **extra)
    context = board_context(request, scene.project, membership, scene=scene, **extra)
    return render(request, STORYBOARD, context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def scene_delete(request, pk):
    scene, membership = get_scene_for(request.user, pk)
    require(membership, "edit")
    project = scene.project
    if request.method == "GET":  # an old link to it: the button is a form now
        return render(request, "projects/scene_confirm_delete.html", {"scene": scene})
    try:
        trashed = trash.scene_trash(scene=scene, user=request.user)
    except ValidationError as exc:  # a teammate deleted it a moment before
        if wants_fragment(request):
            return _board(request, project, membership, board_message=error_text(exc))
        messages.error(request, error_text(exc))
        return redirect("projects:project_detail", pk=project.pk)
    if wants_fragment(request):  # the panel closes: back to the board's own address, with the Undo
        return trashed_response(request, project, membership, trashed)
    return redirect(board_url(project, undo=trashed))


@login_required
@require_POST
def scene_move(request, pk, direction):
    if direction not in ("up", "down"):
        raise Http404("Scenes move up or down.")
    scene, membership = get_scene_for(request.user, pk)
    require(membership, "edit")
    services.scene_move(scene=scene, offset=-1 if direction == "up" else 1, user=request.user)
    if wants_fragment(request):
        return _board(request, scene.project, membership, scene=scene)
    return redirect(_panel_url(scene))


@login_required
@require_POST
def scene_approve(request, pk, take_pk):
    scene, membership = get_scene_for(request.user, pk)
    require(membership, "review")
    take = get_object_or_404(Render, pk=take_pk, scene=scene)
    try:
        review.take_approve(take=take, user=request.user)
    except ValidationError as exc:
        if wants_fragment(request):
            return _panel(request, scene, membership, error=error_text(exc))
        messages.error(request, error_text(exc))
    if wants_fragment(request):
        return _panel(request, scene, membership)
    return redirect(_panel_url(scene))


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
        error = error_text(exc)
    if wants_fragment(request):
        return _panel(request, scene, membership, reference_error=error)
    if error:
        messages.error(request, error)
    return redirect(_panel_url(scene))


@login_required
def scene_reference_image(request, pk, variant):
    """The original upload, or a preview fitted to the scene's size the way a take will get it."""
    scene, _ = get_scene_for(request.user, pk)
    if not scene.reference_image or variant not in ("original", "crop", "pad"):
        raise Http404("No reference image.")
    if variant == "original":
        return file_response(request, scene.reference_image)
    # ?size=: how it would be fitted at another of the studio's sizes (the re-target plan shows it).
    size = request.GET.get("size") if request.GET.get("size") in dict(SIZE_CHOICES) else scene.size
    with scene.reference_image.open("rb") as original:
        fitted = reference.fit(original, size=size, mode=variant)
    return protect(HttpResponse(fitted), f"{variant}.png")


@login_required
@require_POST
def scene_cast(request, pk):
    scene, membership = get_scene_for(request.user, pk)
    require(membership, "edit")
    character = get_object_or_404(Character, pk=parse_id(request.POST.get("character")) or 0,
                                  team=scene.project.team_id)
    change = services.scene_cast_remove if request.POST.get("action") == "remove" else services.scene_cast_add
    error = None
    try:
        scene = change(scene=scene, character=character, user=request.user)
    except (ValidationError, services.SceneConflict) as exc:
        error = "The scene changed meanwhile; reload and try again." if isinstance(
            exc, services.SceneConflict) else error_text(exc)
    if wants_fragment(request):
        return _panel(request, scene, membership, error=error)
    if error:
        messages.error(request, error)
    return redirect(_panel_url(scene))
