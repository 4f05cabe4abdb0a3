"""A scene's dialogue in its side panel: add, edit, move and delete lines (htmx regions are partials).

Each answer to htmx is the dialogue section, with the scene's frame and cast swapped out of band;
without JavaScript a save goes back to the panel's address, and a refusal draws the whole page with
what was typed. A teammate's page hears of every change on the live channel.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from projects import selectors
from projects.access import get_line_for, get_scene_for, require
from projects.form_errors import error_text
from projects.htmx import wants_fragment
from projects.storyboard import views as board
from projects.storyboard.dialogue import services as dialogue
from projects.storyboard.forms import DialogueLineForm, dialogue_context


@login_required
@require_POST
def line_add(request, pk):
    scene, membership = get_scene_for(request.user, pk)
    require(membership, "edit")
    form = DialogueLineForm(request.POST, team=scene.project.team)
    try:
        if form.is_valid():
            dialogue.dialogue_line_add(scene=scene, user=request.user, **form.line_fields())
            return _answer(request, scene, membership, saved=gettext("Line added."))
    except ValidationError as exc:
        form.add_error(None, error_text(exc))
    return _answer(request, scene, membership, add_line_form=form, status=400)


@login_required
@require_POST
def line_edit(request, scene_pk, pk):
    scene, line, membership = get_line_for(request.user, scene_pk, pk)
    require(membership, "edit")
    form = DialogueLineForm(request.POST, team=scene.project.team)
    try:
        if form.is_valid():
            if line is None:
                raise dialogue.LineConflict(None)
            dialogue.dialogue_line_update(line=line, user=request.user, expected_version=form.cleaned_data["version"]
                                          or line.version, base=form.base(), **form.line_fields())
            return _answer(request, scene, membership, saved=gettext("Line saved."))
    except dialogue.LineConflict as conflict:
        return _conflict(request, scene, membership, form, conflict)
    except ValidationError as exc:
        form.add_error(None, error_text(exc))
    if line is None:  # gone, and what was typed does not pass: it waits in the add form
        return _answer(request, scene, membership, add_line_form=form, status=400)
    return _answer(request, scene, membership, edited_lines={line.pk: form}, status=400)


@login_required
@require_POST
def line_delete(request, scene_pk, pk):
    scene, line, membership = get_line_for(request.user, scene_pk, pk)
    require(membership, "edit")
    seen = DialogueLineForm(request.POST, team=scene.project.team)
    seen.is_valid()
    try:
        if line is not None:
            dialogue.dialogue_line_delete(line=line, user=request.user,
                                          expected_version=seen.cleaned_data.get("version") or line.version)
    except dialogue.LineConflict as conflict:
        return _answer(request, scene, membership, status=409, dialogue_error=gettext(
            "%(who)s changed this line since you opened it; it now reads as below. Delete it again to delete "
            "their version.") % {"who": _who(conflict.current)})
    except ValidationError as exc:
        return _answer(request, scene, membership, status=400, dialogue_error=error_text(exc))
    return _answer(request, scene, membership, saved=gettext("Line deleted."))


@login_required
@require_POST
def line_move(request, scene_pk, pk, direction):
    if direction not in ("up", "down"):
        raise Http404("Lines move up or down.")
    scene, line, membership = get_line_for(request.user, scene_pk, pk)
    require(membership, "edit")
    if line is not None:
        dialogue.dialogue_line_move(line=line, user=request.user, offset=-1 if direction == "up" else 1)
    return _answer(request, scene, membership)


def _conflict(request, scene, membership, form, conflict):
    """Nothing was saved: the line as the teammate left it, and the editor armed on their version with
    what this person typed, to decide and save again (or, deleted meanwhile, to add it back)."""
    theirs = conflict.current
    if theirs is None:
        return _answer(request, scene, membership, status=409, add_line_form=form, dialogue_error=gettext(
            "A teammate deleted this line while you were editing it. What you typed is in the form below: "
            "add it again to keep it."))
    data = request.POST.copy()
    fresh = DialogueLineForm.opened_on(theirs, team=scene.project.team).initial
    data.update({"version": theirs.version, **{k: v for k, v in fresh.items() if k.startswith("base_")}})
    rearmed = DialogueLineForm(data, team=scene.project.team)
    rearmed.is_valid()
    rearmed.conflict = theirs
    rearmed.conflict_fields = conflict.fields  # empty: a form without its base, saving again replaces theirs
    return _answer(request, scene, membership, edited_lines={theirs.pk: rearmed}, status=409)


def _who(line) -> str:
    return line.updated_by.get_username() if line.updated_by else gettext("A teammate")


def _answer(request, scene, membership, *, status=200, saved="", **extra):
    """The dialogue section (frame and cast out of band), or the page: the panel after a save, the
    whole board with the panel and what was typed after a refusal."""
    if not wants_fragment(request):
        if status == 200:
            if saved:
                messages.success(request, saved)
            return redirect(board._panel_url(scene))
        context = board.board_context(request, scene.project, membership, scene=scene, **extra)
        return render(request, board.STORYBOARD, context, status=status)
    panel = selectors.scene_panel_for(scene=scene)  # the lines, and the frame and cast they changed
    context = {"scene": panel.scene, "frame": panel.frame, "project": scene.project, "membership": membership,
               "dialogue_saved": saved,
               **dialogue_context(lines=panel.dialogue, library=panel.library, team=scene.project.team, scene=panel.scene,
                                  edited=extra.pop("edited_lines", None), add_form=extra.pop("add_line_form", None)),
               **extra}
    # 200 even for a refusal: htmx swaps the section, whose messages say what to do.
    return render(request, board.STORYBOARD + "#dialogue-response", context)
