"""Board revisions: the list (and naming the board as it is), a side-by-side comparison, restoring one."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from projects.access import get_project_for, require
from projects.form_errors import error_text
from projects.inputs import parse_id
from projects.models import BoardRevision
from projects.storyboard import restore
from projects.storyboard import revisions as history
from projects.storyboard.views import board_url

LIST, COMPARE = "projects/revisions.html", "projects/revision_compare.html"


@login_required
@require_http_methods(["GET", "POST"])
def revision_list(request, pk):
    project, membership = get_project_for(request.user, pk)
    context = {"project": project, "membership": membership,
               "revisions": project.revisions.select_related("created_by", "named_by")[:200]}
    if request.method == "POST":
        require(membership, "edit")
        try:
            history.revision_name_board(project=project, user=request.user, name=request.POST.get("name", ""))
            return redirect("projects:revision_list", pk=project.pk)
        except ValidationError as exc:
            return render(request, LIST, {**context, "error": error_text(exc)}, status=400)
    return render(request, LIST, context)


@login_required
@require_POST
def revision_rename(request, pk, number):
    project, membership = get_project_for(request.user, pk)
    require(membership, "edit")
    revision = get_object_or_404(BoardRevision, project=project, number=number)
    try:
        history.revision_name(revision=revision, user=request.user, name=request.POST.get("name", ""))
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    return redirect("projects:revision_list", pk=project.pk)


@login_required
def revision_compare(request, pk):
    project, membership = get_project_for(request.user, pk)
    first = get_object_or_404(BoardRevision, project=project, number=parse_id(request.GET.get("a")) or 0)
    second = get_object_or_404(BoardRevision, project=project, number=parse_id(request.GET.get("b")) or 0)
    contents = history.revision_contents([first, second])
    diff = history.compare_boards(history.revision_board(first, contents), history.revision_board(second, contents))
    return render(request, COMPARE, {"project": project, "membership": membership, "first": first,
                                     "second": second, "diff": diff,
                                     "counts": {s: diff.count(s) for s in ("added", "removed", "moved", "edited")}})


@login_required
@require_POST
def revision_restore(request, pk, number):
    project, membership = get_project_for(request.user, pk)
    require(membership, "edit")
    revision = get_object_or_404(BoardRevision, project=project, number=number)
    result = restore.revision_restore(revision=revision, user=request.user)
    messages.success(request, gettext("Revision %(number)s is the board again (as new edits: nothing was "
                                      "deleted).") % {"number": revision.number})
    for note in result.notes:
        messages.warning(request, note)
    return redirect(board_url(project))
