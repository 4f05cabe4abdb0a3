"""Exports of a project's approved cut: list them, start one, follow it, download its files."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from generation.exports import services as exports
from generation.models import ExportStatus, PdfLayout
from generation.storage.files import file_response
from projects.access import get_export_for, get_project_for, require
from projects.form_errors import error_text
from projects.htmx import wants_fragment

PAGE = "generation/exports.html"
# Their content types come from generation.storage.files, like every served file's.
FILES = ("mp4", "zip", "pdf", "csv")
EXPORTS_PER_PAGE = 20


def _page(request, project, membership, *, error=None, status=200):
    # Past exports newest first, a page at a time: a project exported every day keeps a short page.
    # get_page answers a page past the end (or "abc") with the nearest page, never an error.
    past = Paginator(project.exports.select_related("created_by").prefetch_related("takes"), EXPORTS_PER_PAGE)
    context = {
        "project": project, "membership": membership, "error": error,
        "exports": past.get_page(request.GET.get("page")),
        # The plan's counts cover every scene; its two lists come a page at a time.
        "plan": exports.export_plan_page(project, included_page=request.GET.get("included"),
                                         left_out_page=request.GET.get("left_out")),
        "pdf_layouts": PdfLayout.choices,
    }
    template = PAGE + "#exports" if wants_fragment(request) else PAGE
    return render(request, template, context, status=status)


@login_required
def export_list(request, project_pk):
    project, membership = get_project_for(request.user, project_pk)
    return _page(request, project, membership)


@login_required
@require_POST
def export_create(request, project_pk):
    project, membership = get_project_for(request.user, project_pk)
    require(membership, "start_export")
    error = None
    try:
        exports.export_create(project=project, user=request.user,
                              idempotency_key=request.POST.get("idempotency_key", ""),
                              pdf_layout=request.POST.get("pdf_layout", PdfLayout.SCENES),
                              burn_captions=request.POST.get("burn_captions") == "on")
    except ValidationError as exc:
        error = error_text(exc)
    if wants_fragment(request):
        return _page(request, project, membership, error=error)
    if error:
        messages.error(request, error)
    return redirect("generation:export_list", project_pk=project.pk)


@login_required
def export_status(request, pk):
    export, _membership = get_export_for(request.user, pk)
    return render(request, PAGE + "#export-row", {"export": export, "project": export.project})


@login_required
def export_file(request, pk, kind):
    export, _membership = get_export_for(request.user, pk)
    if kind not in FILES or export.status != ExportStatus.SUCCEEDED or not getattr(export, kind):
        raise Http404("No such file.")
    if export.withheld_takes().exists():
        # Consent was revoked after this export was made: its files contain that take.
        raise Http404("This export contains a withheld take.")
    # A download, even the MP4: its name may carry the project's name, so it is quoted properly.
    name = getattr(export, kind).name.rsplit("/", 1)[-1]
    response = file_response(request, getattr(export, kind), download_as=name)
    return response
