"""The editor's cut brought back: upload a timeline, follow its reading, accept the changes one wants."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from generation.exports import cut_import as cuts
from generation.models import CutImport
from projects.access import get_project_for, require
from projects.form_errors import error_text
from projects.htmx import wants_fragment

PAGE = "generation/cut_import.html"


@login_required
@require_http_methods(["GET", "POST"])
def cut_import_upload(request, project_pk):
    project, membership = get_project_for(request.user, project_pk)
    context = {"project": project, "membership": membership, "imports": project.cut_imports.all()[:10]}
    if request.method == "GET":
        return render(request, PAGE, context)
    require(membership, "edit")
    try:
        made = cuts.cut_import_create(project=project, user=request.user, upload=request.FILES.get("timeline"),
                                      idempotency_key=request.POST.get("idempotency_key", ""))
    except ValidationError as exc:
        return render(request, PAGE, {**context, "error": error_text(exc)}, status=400)
    return redirect("generation:cut_import_detail", project_pk=project.pk, pk=made.pk)


@login_required
@require_http_methods(["GET", "POST"])
def cut_import_detail(request, project_pk, pk):
    project, membership = get_project_for(request.user, project_pk)
    cut_import = get_object_or_404(CutImport, pk=pk, project=project)
    context = {"project": project, "membership": membership, "cut_import": cut_import, "detail": True}
    status = 200
    if request.method == "POST":
        require(membership, "edit")
        try:
            cuts.cut_import_accept(cut_import=cut_import, user=request.user, change_ids=request.POST.getlist("change"))
            return redirect("projects:project_detail", pk=project.pk)
        except ValidationError as exc:
            context.update(error=error_text(exc), ticked=set(request.POST.getlist("change")))
            status = 400
            cut_import.refresh_from_db()
    template = PAGE + "#cut-import-status" if wants_fragment(request) else PAGE
    return render(request, template, context, status=status)
