"""Script in (upload → preview → import) and the storyboard out as Fountain."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import slugify
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from projects.access import get_project_for, require
from projects.form_errors import error_text
from projects.inputs import parse_id
from projects.models import DialogueLine, ScriptImport
from projects.storyboard import script_import as scripts
from projects.storyboard.fields import field_words
from projects.storyboard.script import SPLITS, storyboard_fountain
from projects.storyboard.views import board_url

PAGE = "projects/script_import.html"


@login_required
@require_http_methods(["GET", "POST"])
def script_upload(request, pk):
    project, membership = get_project_for(request.user, pk)
    require(membership, "edit")
    context = {"project": project, "membership": membership, "splits": SPLITS,
               "split": request.POST.get("split", "heading")}
    if request.method == "GET":
        return render(request, PAGE, context)
    try:
        pending = scripts.script_import_create(project=project, user=request.user, upload=request.FILES.get("script"),
                                               split=context["split"])
    except ValidationError as exc:
        return render(request, PAGE, {**context, "error": error_text(exc)}, status=400)
    return redirect("projects:script_preview", pk=project.pk, token=pending.token)


@login_required
@require_http_methods(["GET", "POST"])
def script_preview(request, pk, token):
    project, membership = get_project_for(request.user, pk)
    require(membership, "edit")
    pending = get_object_or_404(ScriptImport, token=token, project=project, created_by=request.user)
    if request.method == "POST":
        try:
            imported = scripts.script_import_confirm(
                script_import=pending, user=request.user, mode=request.POST.get("mode", ""),
                durations=request.POST.getlist("duration"),
                cast_ids=[parse_id(v) for v in request.POST.getlist("cast")],
                takes_to_delete=parse_id(request.POST.get("takes_to_delete")) or 0)
        except ValidationError as exc:
            context = {"project": project, "membership": membership, "error": error_text(exc),
                       "days": settings.TRASH_DAYS,
                       "preview": scripts.script_preview_for(script_import=pending).as_posted(request.POST)}
            return render(request, PAGE, context, status=400)
        count = len(imported.scenes)
        messages.success(request, ngettext("Imported %(count)d scene from the script.",
                                                  "Imported %(count)d scenes from the script.", count) % {"count": count})
        return redirect(board_url(project, undo=imported.replaced))
    context = {"project": project, "membership": membership, "days": settings.TRASH_DAYS,
               "preview": scripts.script_preview_for(script_import=pending)}
    return render(request, PAGE, context)


@login_required
def script_export(request, pk):
    """The storyboard as a Fountain screenplay: one scene heading per scene, in board order."""
    project, _ = get_project_for(request.user, pk)
    scenes = project.scenes.order_by("position", "pk").prefetch_related(
        Prefetch("lines", queryset=DialogueLine.objects.select_related("character"), to_attr="dialogue_lines"))
    own_fields = list(project.fields.all())
    scenes = list(scenes)
    for scene in scenes:  # the project's own fields, as a note under each heading
        scene.field_notes = field_words(values=scene.field_values, fields=own_fields)
    text = storyboard_fountain(title=project.name, scenes=scenes)
    response = HttpResponse(text.encode("utf-8"), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{slugify(project.name) or "storyboard"}.fountain"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
