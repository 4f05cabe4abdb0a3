"""The project's own fields: the owners' page to define, rename and delete them (a delete asks first,
saying how many scenes hold a value), and a scene's values saved from its panel."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_http_methods, require_POST

from projects.access import AuthedRequest, get_project_for, get_scene_for, require
from projects.htmx import wants_fragment
from projects.inputs import id_or_404
from projects.models import FieldKind, Membership, Project, ProjectField
from projects.selectors.fields import project_fields
from projects.storyboard import fields as services
from projects.storyboard.services import SceneConflict
from projects.storyboard.views import STORYBOARD, _panel, _panel_url, board_context

PAGE = "projects/project_fields.html"


def _page(request: AuthedRequest, project: Project, membership: Membership, *, status: int = 200,
          **extra: object) -> HttpResponse:
    context = {"project": project, "membership": membership, "fields": project_fields(project=project),
               "kinds": FieldKind.choices, **extra}
    return render(request, PAGE, context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def project_fields_page(request: AuthedRequest, pk: int) -> HttpResponse:
    """Every member sees the fields; owners add one here."""
    project, membership = get_project_for(request.user, pk)
    if request.method == "GET":
        return _page(request, project, membership)
    require(membership, "manage")
    try:
        field = services.field_create(project=project, user=request.user, name=request.POST.get("name", ""),
                                      kind=request.POST.get("kind", ""), choices=request.POST.get("choices", ""))
    except ValidationError as exc:
        return _page(request, project, membership, status=400, create_error=" ".join(exc.messages),
                     typed=request.POST)
    messages.success(request, gettext("Field “%(name)s” added.") % {"name": field.name})
    return redirect("projects:project_fields", pk=project.pk)


def _field_for(request: AuthedRequest, pk: int, field_pk: int) -> tuple[Project, Membership, ProjectField]:
    project, membership = get_project_for(request.user, pk)
    field = get_object_or_404(ProjectField, pk=id_or_404(field_pk, what="field"), project=project)
    return project, membership, field


@login_required
@require_POST
def field_update(request: AuthedRequest, pk: int, field_pk: int) -> HttpResponse:
    """Owners rename a field or change its choices."""
    project, membership, field = _field_for(request, pk, field_pk)
    require(membership, "manage")
    choices = request.POST.get("choices") if field.kind in (FieldKind.CHOICE, FieldKind.TAGS) else None
    try:
        services.field_update(field=field, user=request.user, name=request.POST.get("name", ""), choices=choices)
    except ValidationError as exc:
        # The owner's typing is shown again, to fix rather than retype.
        return _page(request, project, membership, status=400, edit_error=" ".join(exc.messages),
                     edited=field.pk, edit_typed=request.POST)
    messages.success(request, gettext("Field “%(name)s” saved.") % {"name": field.name})
    return redirect("projects:project_fields", pk=project.pk)


@login_required
@require_http_methods(["GET", "POST"])
def field_delete(request: AuthedRequest, pk: int, field_pk: int) -> HttpResponse:
    """Owners delete a field: the page asks first, saying how many scenes hold a value of it."""
    project, membership, field = _field_for(request, pk, field_pk)
    require(membership, "manage")
    if request.method == "GET":
        return render(request, "projects/field_confirm_delete.html", {
            "project": project, "membership": membership, "field": field,
            "holders": services.field_holders(field=field)})
    name = field.name
    held = services.field_delete(field=field, user=request.user)
    messages.success(request, ngettext("Field “%(name)s” deleted, with its value on %(count)d scene.",
                                       "Field “%(name)s” deleted, with its values on %(count)d scenes.", held)
                     % {"name": name, "count": held})
    return redirect("projects:project_fields", pk=project.pk)


def _typed(post: QueryDict, prefix: str) -> dict[str, str]:
    # A form's value for each key is its last one (as `items()` gives it); `get` says it is a string.
    return {key[len(prefix):]: post.get(key, "") for key in post if key.startswith(prefix)}


@login_required
@require_POST
def scene_fields(request: AuthedRequest, pk: int) -> HttpResponse:
    """A scene's values of the project's fields, saved from its panel with the scene's version check."""
    scene, membership = get_scene_for(request.user, pk)
    require(membership, "edit")
    values, base = _typed(request.POST, "field_"), _typed(request.POST, "base_field_")
    error, status = None, 200
    try:
        scene = services.scene_fields_set(scene=scene, user=request.user, values=values, base=base or None,
                                          expected_version=id_or_404(request.POST.get("version"), what="version"))
    except ValidationError as exc:
        error, status = " ".join(exc.messages), 400
    except SceneConflict as conflict:
        scene, status = conflict.current, 409
        error = gettext("A teammate changed %(fields)s meanwhile: nothing was saved. Their values are shown; what "
                        "you typed is below, save again to keep it.") % {
            "fields": ", ".join(conflict.fields) or gettext("this scene")}
    extra = {"fields_error": error, "fields_typed": values} if error else {"fields_saved": True}
    if wants_fragment(request):
        return _panel(request, scene, membership, **extra)
    if error:
        context = board_context(request, scene.project, membership, scene=scene, **extra)
        return render(request, STORYBOARD, context, status=status)
    return redirect(_panel_url(scene))
