"""Review pages: a take with its time-coded comments and decisions, side-by-side
compare, the approved cut, the activity feed and notification settings."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from generation.storage.files import file_response
from projects import selectors
from projects.access import (
    get_comment_for,
    get_project_for,
    get_scene_for,
    get_take_for,
    require,
    trashed_take_for,
)
from projects.activity import notifications
from projects.form_errors import error_text
from projects.htmx import wants_fragment
from projects.inputs import id_or_404, parse_id, search_problem
from projects.models import ACTIVITY_FILTERS, Membership, PlayAllMix, Project, SoundStatus
from projects.review import playall, rooms
from projects.review import services as review
from projects.review.forms import LanguageForm, NotificationPreferenceForm
from projects.teams.language import preference_set_language, stored_language

REVIEW = "projects/take_review.html"
CUT = "projects/cut.html"


def _review_context(take, membership, **extra):
    return {**selectors.take_review_for(take=take).as_context(), "membership": membership, **extra}


def _page_context(request, take, membership, **extra):
    return selectors.take_review_page_for(take=take, membership=membership, user=request.user, **extra)


def _comments_partial(request, take, membership, **extra):
    return render(request, REVIEW + "#comments", _review_context(take, membership, **extra))


@login_required
def take_review(request, pk):
    try:
        take, membership = get_take_for(request.user, pk)
    except Http404:
        if (trashed := trashed_take_for(request.user, pk)) is None:
            raise
        return render(request, "projects/take_trashed.html", {"take": trashed, "project": trashed.scene.project},
                      status=404)
    if take.is_withheld_from(request.user):
        raise Http404("This take is withheld.")
    return render(request, REVIEW, _page_context(request, take, membership))


@login_required
@require_POST
def comment_create(request, pk):
    take, membership = get_take_for(request.user, pk)
    if not membership.can_comment:
        raise PermissionDenied(_("Viewers can watch but not comment."))
    at = request.POST.get("at")
    if not (at or "").strip() and (room_id := parse_id(request.POST.get("room") or "")):
        at = rooms.room_moment(take=take, room_id=room_id)  # made in a review room: at the moment everyone is at
    try:
        review.comment_add(take=take, author=request.user, body=request.POST.get("body", ""),
                           at=at, until=request.POST.get("until"),
                           shared=bool(request.POST.get("shared")), drawing=request.POST.get("drawing"))
    except ValidationError as exc:
        if wants_fragment(request):  # htmx swaps only 2xx: the error shows in the panel, the draft stays in the form
            return _comments_partial(request, take, membership, comment_error=error_text(exc))
        return render(request, REVIEW, _page_context(request, take, membership, comment_error=error_text(exc),
                                                     draft=request.POST), status=422)
    if wants_fragment(request):
        return trigger_client_event(_comments_partial(request, take, membership), "commentSaved")
    return redirect("projects:take_review", pk=take.pk)


@login_required
@require_POST
def comment_update(request, pk):
    comment, membership = get_comment_for(request.user, pk)
    take = comment.take
    action = request.POST.get("action")
    try:
        if action in {"resolve", "reopen"}:
            if not membership.can_comment:
                raise PermissionDenied(_("Viewers cannot resolve comments."))
            review.comment_resolve(comment=comment, user=request.user, resolved=action == "resolve")
        elif action in {"share", "unshare"}:
            review.comment_share(comment=comment, user=request.user, shared=action == "share")
        elif action == "edit":
            review.comment_edit(comment=comment, user=request.user, body=request.POST.get("body", ""))
        else:
            raise ValidationError(_("Unknown action."))
    except ValidationError as exc:
        if wants_fragment(request):
            return _comments_partial(request, take, membership, comment_error=error_text(exc))
        messages.error(request, error_text(exc))
    if wants_fragment(request):
        return _comments_partial(request, take, membership)
    return redirect("projects:take_review", pk=take.pk)


@login_required
@require_POST
def comment_reply(request, pk):
    parent, membership = get_comment_for(request.user, pk)
    take = parent.take
    if not membership.can_comment:
        raise PermissionDenied(_("Viewers can watch but not comment."))
    body = request.POST.get("body", "")
    try:
        review.comment_reply(parent=parent, author=request.user, body=body, shared=bool(request.POST.get("shared")))
    except ValidationError as exc:
        # The reason and the typed text go back to that comment's reply form.
        kept = {"reply_to": parent.pk, "reply_error": error_text(exc), "reply_draft": body}
        if wants_fragment(request):
            return _comments_partial(request, take, membership, **kept)
        return render(request, REVIEW, _page_context(request, take, membership, **kept), status=422)
    if wants_fragment(request):
        return _comments_partial(request, take, membership)
    return redirect(reverse("projects:take_review", args=[take.pk]) + f"#comment-{parent.pk}")


@login_required
@require_POST
def take_decide(request, pk):
    """Approve the take, or request changes (optionally re-rendering at once). With htmx the decision card
    answers in place, with the status, history and comments it changed: the player plays on."""
    take, membership = get_take_for(request.user, pk)
    require(membership, "review")
    try:
        done = _decide(request, take, membership)
    except ValidationError as exc:
        context = {"decision_error": error_text(exc), "draft": request.POST}
        if wants_fragment(request):  # htmx swaps only 2xx: the reason shows in the card, what was typed stays
            return render(request, REVIEW + "#decision-answer", _review_context(take, membership, **context))
        return render(request, REVIEW, _page_context(request, take, membership, **context), status=422)
    if wants_fragment(request):
        take.scene.refresh_from_db()
        return render(request, REVIEW + "#decided", _review_context(take, membership, decision_done=done))
    messages.success(request, done)
    # The reviewer stays on the take they were reviewing; a new take joins the scene's stack.
    return redirect("projects:take_review", pk=take.pk)


def _decide(request, take, membership) -> str:
    """Record the decision the form asks for; returns what to tell the reviewer."""
    decision = request.POST.get("decision")
    if decision == "approve":
        review.take_approve(take=take, user=request.user, note=request.POST.get("note", ""),
                            override_reason=request.POST.get("override_reason", ""))
        return _("Take %(number)s approved.") % {"number": take.number}
    if decision == "changes":
        wants_take = bool(request.POST.get("rerender")) and membership.can_edit
        _comment, new_take = review.request_changes(
            take=take, user=request.user, note=request.POST.get("note", ""),
            at=request.POST.get("at"), until=request.POST.get("until"),
            retake_prompt=request.POST.get("prompt", "") if wants_take else None,
            idempotency_key=request.POST.get("idempotency_key"))
        if new_take is not None:
            return _("Changes requested; take %(number)s is rendering.") % {"number": new_take.number}
        return _("Changes requested.")
    raise ValidationError(_("Choose approve or request changes."))


@login_required
@require_POST
def comment_rerender(request, pk):
    """An editor answers a request for changes with a new take."""
    comment, membership = get_comment_for(request.user, pk)
    require(membership, "edit")
    try:
        new_take, _created = review.rerender_for(
            comment=comment, user=request.user, prompt=request.POST.get("prompt", ""),
            idempotency_key=request.POST.get("idempotency_key"))
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect("projects:take_review", pk=comment.take_id)
    messages.success(request, _("Take %(number)s is rendering.") % {"number": new_take.number})
    return redirect("projects:take_review", pk=comment.take_id)


@login_required
def scene_compare(request, pk):
    scene, membership = get_scene_for(request.user, pk)
    takes = list(selectors.reviewable_takes(scene=scene))
    by_pk = {t.pk: t for t in takes}

    def pick(name, fallback):
        value = request.GET.get(name)
        if not value:
            return fallback
        take = by_pk.get(id_or_404(value, what="take"))
        if take is None:
            raise Http404("No such finished take in this scene.")
        return take

    a = pick("a", takes[1] if len(takes) > 1 else None)
    b = pick("b", takes[0] if takes else None)
    return render(request, "projects/compare.html",
                  selectors.compare_page_for(scene=scene, membership=membership, takes=takes, left=a, right=b))


@login_required
def project_cut(request, pk):
    project, membership = get_project_for(request.user, pk)
    return cut_page(request, project=project, membership=membership,
                    open_room=rooms.room_open_on_play_all(project=project))


def cut_page(request: HttpRequest, *, project: Project, membership: Membership, **extra: object) -> HttpResponse:
    """Play all's page: on its own, or as a review room on it (projects/review/room_views.py). It sends the
    sequence as one small script of stops; a card's lines and the sound's state are asked for by the page."""
    sequence = selectors.cut_sequence_for(project=project)
    return render(request, CUT, {
        "project": project, "membership": membership, "sequence": sequence, "cut": sequence.stops,
        "missing": sequence.missing, "total": sequence.total, "player": {"stops": sequence.stops, "chips": sequence.chips},
        "take_volume": min(1.0, 10 ** (project.take_audio_level_db / 20)), **extra,
    })


@login_required
def project_cut_stop(request, pk, scene_pk):
    """One stop of Play all as it is about to play: a card's title and lines, and the stop's captions until the
    mix is made (not in the page: at 1,000 scenes every card's lines were most of it)."""
    project, _membership = get_project_for(request.user, pk)
    scene = selectors.cut_stop_for(project=project, scene_pk=scene_pk)
    return render(request, f"{CUT}#cut-card", {"project": project, "scene": scene,
                                               "cues": playall.stop_cues(project, scene.pk)})


@login_required
def project_cut_sound_state(request, pk):
    """Play all's sound: the mix made already, else asked of a worker (the page asks for it once it has loaded:
    its recipe reads every line of the board)."""
    project, _membership = get_project_for(request.user, pk)
    mix, _inputs = playall.play_all_mix_request(
        project=project, entries=selectors.cut_timings_for(project=project))
    return render(request, f"{CUT}#cut-sound", {"project": project, "mix": mix})


@login_required
def project_cut_captions(request, pk):
    """Play all's captions (WebVTT), timed to its mix: every line with its speaker."""
    project, _membership = get_project_for(request.user, pk)
    mix, inputs = playall.play_all_mix_request(
        project=project, entries=selectors.cut_timings_for(project=project))
    response = HttpResponse(playall.play_all_captions(mix, inputs), content_type="text/vtt; charset=utf-8")
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def project_cut_sound(request, pk, mix_pk):
    """Play all's mix, once a worker has made it."""
    project, _membership = get_project_for(request.user, pk)
    mix = get_object_or_404(PlayAllMix, project=project, pk=mix_pk, status=SoundStatus.READY)
    return file_response(request, mix.audio)


@login_required
def project_activity(request, pk):
    project, membership = get_project_for(request.user, pk)
    chosen = request.GET.get("kind", "")
    if chosen and chosen not in ACTIVITY_FILTERS:
        raise Http404("Unknown filter.")
    scene_id = request.GET.get("scene")
    # Like an unknown filter, a scene not in this project (or no id at all) is a 404.
    scene = get_object_or_404(project.scenes, pk=id_or_404(scene_id, what="scene")) if scene_id else None
    before = request.GET.get("before")
    cursor = selectors.ActivityCursor.parse(before) if before else None
    if before and cursor is None:
        raise Http404("No such page of the activity.")
    search = "" if scene else request.GET.get("scene_q", "").strip()
    problem = search_problem(search)
    page = (selectors.ActivityPage([], None) if problem else
            selectors.activity_page(project=project, kind=chosen, scene=scene, scene_search=search, before=cursor))
    kept = {k: v for k, v in (("kind", chosen), ("scene", scene_id), ("scene_q", search)) if v}
    context = {"project": project, "membership": membership, "entries": page.entries, "chosen": chosen, "scene": scene,
               "filters": list(ACTIVITY_FILTERS), "scene_search": search, "search_problem": problem,
               "before": before, "newest_query": urlencode(kept),
               "older_query": urlencode({**kept, "before": page.older.token}) if page.older else ""}
    fragment = ("#older" if before else "#feed") if wants_fragment(request) else ""
    return render(request, "projects/activity.html" + fragment, context, status=400 if problem else 200)


@login_required
@require_http_methods(["GET", "POST"])
def notification_settings(request):
    prefs = notifications.preferences_for(request.user)
    form = NotificationPreferenceForm(request.POST or None, instance=prefs)
    language_form = LanguageForm(request.POST or None, initial={"language": stored_language(request.user)})
    if request.method == "POST" and form.is_valid() and language_form.is_valid():
        form.save()
        language = preference_set_language(request=request, language=language_form.cleaned_data["language"])
        # The confirmation already speaks the language just chosen.
        translation.activate(language or translation.get_language_from_request(request))
        messages.success(request, _("Settings saved."))
        return redirect("projects:notification_settings")
    return render(request, "projects/notification_settings.html", {"form": form, "language_form": language_form})
