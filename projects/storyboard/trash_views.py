"""The project's trash: its page (restore; owners delete forever or empty it) and the board's Undo."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from django_htmx.http import push_url

from projects import selectors
from projects.access import get_project_for, require
from projects.form_errors import error_messages, error_text
from projects.htmx import wants_fragment
from projects.storyboard import trash
from projects.storyboard.views import STORYBOARD, board_context, board_url

PAGE = "projects/trash.html"


def _page(request, project, membership, *, words=None, error=None, status=200):
    context = {"project": project, "membership": membership, "items": selectors.trash_for(project=project),
               "days": settings.TRASH_DAYS, "words": words or [], "error": error}
    return render(request, PAGE + ("#trash-response" if wants_fragment(request) else ""), context, status=status)


def _done(request, project, membership, *, words=None, error=None):
    """The trash region after an action (htmx), or back to the page with the outcome as messages."""
    if wants_fragment(request):
        return _page(request, project, membership, words=words, error=error)
    for sentence in words or []:
        messages.success(request, sentence)
    if error:
        messages.error(request, error)
    return redirect("projects:project_trash", pk=project.pk)


@login_required
def project_trash(request, pk):
    project, membership = get_project_for(request.user, pk)
    require(membership, "edit")
    return _page(request, project, membership)


@login_required
@require_POST
def trash_restore(request, pk):
    """Any editor: restore the ticked scenes, or the one whose own Restore was pressed."""
    project, membership = get_project_for(request.user, pk)
    require(membership, "edit")
    chosen = request.POST.getlist("only") or request.POST.getlist("scene")
    try:
        result = trash.scene_restore(project=project, scene_ids=chosen, user=request.user)
    except ValidationError as exc:
        return _done(request, project, membership, error=error_text(exc))
    return _done(request, project, membership, words=trash.restored_words(result))


@login_required
@require_POST
def trash_undo(request, pk):
    """The toast's Undo: the board with the delete's scenes back, and what happened in the toast."""
    project, membership = get_project_for(request.user, pk)
    require(membership, "edit")
    try:
        words = trash.restored_words(trash.trash_undo(project=project, batch=request.POST.get("batch", ""),
                                                      user=request.user))
    except ValidationError as exc:
        words = error_messages(exc)
    if not wants_fragment(request):
        for sentence in words:
            messages.info(request, sentence)
        return redirect("projects:project_detail", pk=project.pk)
    context = board_context(request, project, membership, undo_words=words)
    return push_url(render(request, STORYBOARD + "#board-response", context), board_url(project))


@login_required
@require_POST
def trash_delete(request, pk):
    """Owners: delete the ticked scenes forever (their spend stays on record)."""
    project, membership = get_project_for(request.user, pk)
    require(membership, "manage")
    try:
        result = trash.scene_delete_forever(project=project, scene_ids=request.POST.getlist("scene"),
                                            user=request.user)
    except ValidationError as exc:
        return _done(request, project, membership, error=error_text(exc))
    return _done(request, project, membership, words=trash.purged_words(result))


@login_required
@require_POST
def trash_empty(request, pk):
    """Owners: delete everything in the trash forever."""
    project, membership = get_project_for(request.user, pk)
    require(membership, "manage")
    return _done(request, project, membership, words=trash.purged_words(trash.trash_empty(project=project,
                                                                                         user=request.user)))
