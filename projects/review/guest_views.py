"""Guest review: owners make links; outside reviewers watch and comment, nothing more."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from generation.storage.files import file_response
from projects.access import get_project_for, require
from projects.form_errors import error_text
from projects.inputs import parse_id
from projects.live.review_fragments import guest_role
from projects.live.views import event_stream_response
from projects.models import ReviewLink, ReviewRoom
from projects.review import guest_links, rooms
from projects.review import services as review
from projects.throttle import Throttled
from studio_site.accounts import client_ip

SESSION_KEY = "guest_review"


@login_required
@require_http_methods(["GET", "POST"])
def review_links(request, pk):
    project, membership = get_project_for(request.user, pk)
    require(membership, "manage")
    context = {"project": project, "membership": membership, "scenes": project.scenes.all(),
               "scopes": ReviewLink.Scope.choices, "draft": {}}
    status = 200
    if request.method == "POST":
        chosen = project.scenes.filter(pk__in=[pk for pk in map(parse_id, request.POST.getlist("scenes")) if pk])
        days = parse_id(request.POST.get("days") or "7") or 0  # 0: link_create says how many days it takes
        try:
            link, token = guest_links.link_create(
                project=project, user=request.user, label=request.POST.get("label", ""),
                scope=request.POST.get("scope", ""), scenes=chosen, days=days,
                password=request.POST.get("password", ""))
            context["new_link"] = link
            context["new_link_url"] = request.build_absolute_uri(reverse("projects:guest_review", args=[token]))
            status = 201
        except ValidationError as exc:
            context["error"] = error_text(exc)
            context["draft"] = request.POST
            status = 422
    context["links"] = project.review_links.prefetch_related("scenes").select_related("created_by")
    return render(request, "projects/review_links.html", context, status=status)


@login_required
@require_POST
def review_link_revoke(request, pk, link_pk):
    project, membership = get_project_for(request.user, pk)
    require(membership, "manage")
    link = get_object_or_404(ReviewLink, pk=link_pk, project=project)
    guest_links.link_revoke(link=link, user=request.user)
    return redirect("projects:review_links", pk=project.pk)


def _guest_state(request, link) -> dict:
    return request.session.get(SESSION_KEY, {}).get(str(link.pk), {})


def _save_guest_state(request, link, **changes) -> None:
    everything = request.session.get(SESSION_KEY, {})
    everything[str(link.pk)] = {**everything.get(str(link.pk), {}), **changes}
    request.session[SESSION_KEY] = everything


def _open_link(request, token):
    """The live link and the guest's state; a dead link is a plain 404 page."""
    link = guest_links.live_link(token)
    if link is None:
        raise Http404("This review link has expired, was revoked, or never existed.")
    return link, _guest_state(request, link)


def _allowed(link, state) -> bool:
    return (state.get("unlocked") or not link.has_password) and bool(state.get("name"))


@require_http_methods(["GET", "POST"])
def guest_review(request, token):
    link = guest_links.live_link(token)
    if link is None:
        return render(request, "projects/guest_gone.html", status=404)
    state = _guest_state(request, link)
    error, error_status = "", 403
    if request.method == "POST":
        if request.POST.get("action") == "password":
            try:
                if guest_links.link_unlock(link=link, password=request.POST.get("password", ""),
                                           ip=client_ip(request)):
                    _save_guest_state(request, link, unlocked=True)
                else:
                    error = gettext("That password is not right.")
            except Throttled as exc:
                error, error_status = _too_many_guesses(exc), 429
        elif request.POST.get("action") == "name":
            try:
                _save_guest_state(request, link, name=guest_links.guest_name_clean(request.POST.get("name")))
            except ValidationError as exc:
                error = error_text(exc)
        if not error:
            return redirect("projects:guest_review", token=token)
        state = _guest_state(request, link)
    needs_password = link.has_password and not state.get("unlocked")
    if needs_password or not state.get("name"):
        return render(request, "projects/guest_gate.html", {
            "link": link, "token": token, "needs_password": needs_password, "error": error,
        }, status=error_status if error else 200)
    return _guest_page(request, link, token, state["name"])


def _too_many_guesses(exc: Throttled) -> str:
    if exc.slowed:
        return ngettext(
            "Many wrong passwords were tried on this link lately, so each try waits a moment: "
            "try again in %(count)d second.",
            "Many wrong passwords were tried on this link lately, so each try waits a moment: "
            "try again in %(count)d seconds.", exc.seconds) % {"count": exc.seconds}
    return ngettext("Too many wrong passwords; try again in %(count)d minute.",
                    "Too many wrong passwords; try again in %(count)d minutes.", exc.minutes) % {"count": exc.minutes}


def _guest_page(request, link, token, guest_name, status=200, room=None, **extra):
    takes = guest_links.takes_in_scope(link, with_comments=True)
    if room is not None:  # a review room: the take it watches, nothing else
        takes = [take for take in takes if take.pk == room.take_id]
        extra.update(rooms.room_page_context(room), presenter_name="")
    open_rooms = rooms.rooms_open_on(takes)
    for take in takes:
        take.open_room = open_rooms.get(take.pk)
    return render(request, "projects/guest_review.html", {
        "link": link, "token": token, "takes": takes, "guest_name": guest_name,
        "team_usernames": guest_links.team_usernames(link), **extra,
    }, status=status)


@require_GET
def guest_room(request, token, room_pk):
    """A review room opened on a take this link shows: the guest's player follows the presenter's. Never a room
    on anything else the project holds, a compare of two takes or Play all included (404: no link shows either),
    nor one that ended (back to the link's page)."""
    link, state = _open_link(request, token)
    if not _allowed(link, state):
        return redirect("projects:guest_review", token=token)  # the password and the name first
    room = ReviewRoom.objects.filter(pk=room_pk, project_id=link.project_id).first()
    # A guest's page shows takes one by one: a compare room and a room on Play all are for the team.
    if room is None or room.kind != ReviewRoom.Kind.TAKE or all(take.pk != room.take_id for take in guest_links.takes_in_scope(link)):
        raise Http404("This room is not part of the review.")
    if not room.is_open:
        return redirect("projects:guest_review", token=token)
    return _guest_page(request, link, token, state["name"], room=room)


def _guest_take(request, token, take_pk):
    link, state = _open_link(request, token)
    if not _allowed(link, state):
        raise Http404("Open the review link first.")
    take = next((t for t in guest_links.takes_in_scope(link) if t.pk == take_pk), None)
    if take is None:
        raise Http404("This take is not part of the review.")
    return link, state, take


@require_POST
def guest_comment(request, token, take_pk):
    link, state, take = _guest_take(request, token, take_pk)
    at, room_id = request.POST.get("at"), parse_id(request.POST.get("room") or "")
    if not (at or "").strip() and room_id:
        at = rooms.room_moment(take=take, room_id=room_id)  # made in a review room: at the moment everyone is at
    try:
        review.comment_add(take=take, guest_name=state["name"], via_link=link, body=request.POST.get("body", ""),
                           at=at, until=request.POST.get("until"),
                           drawing=request.POST.get("drawing"))
    except ValidationError as exc:
        return _guest_page(request, link, token, state["name"], status=422, comment_error=error_text(exc),
                           error_take=take.pk, draft=request.POST)
    if room_id and ReviewRoom.objects.filter(pk=room_id, take=take, closed_at__isnull=True).exists():
        return redirect("projects:guest_room", token=token, room_pk=room_id)  # back in the room, following
    return redirect(reverse("projects:guest_review", args=[token]) + f"#take-{take.pk}")


@require_POST
def guest_reply(request, token, pk):
    link, state = _open_link(request, token)
    if not _allowed(link, state):
        raise Http404("Open the review link first.")
    # Only a comment the guest can read, on a take this link shows: never a team-only one, never
    # another project's, never a withheld take's.
    parent = guest_links.comment_for_guest(link, pk)
    if parent is None:
        raise Http404("This comment is not part of the review.")
    try:
        review.comment_reply(parent=parent, guest_name=state["name"], via_link=link, body=request.POST.get("body", ""))
    except ValidationError as exc:
        # The reason and the typed text go back to that comment's reply form.
        return _guest_page(request, link, token, state["name"], status=422, reply_to=parent.pk,
                           reply_error=error_text(exc), reply_draft=request.POST.get("body", ""))
    return redirect(reverse("projects:guest_review", args=[token]) + f"#comment-{parent.pk}")


@require_GET
def guest_events(request, token):
    """The guest page's live stream: shared threads of the link's takes, while the link works."""
    link, state = _open_link(request, token)
    if not _allowed(link, state):
        raise Http404("Open the review link first.")
    # Its own audience, the link's: the hub's keep-alive ends it once the link is revoked or expires.
    return event_stream_response(request, channel=("project", link.project_id), role=guest_role(link.pk), user_id=0)


def guest_file(request, token, take_pk, variant):
    link, state, take = _guest_take(request, token, take_pk)
    if variant == "video" and take.video:
        # Once per take and browser session: playing sends many range requests for one file.
        fetched = state.get("fetched", [])
        if take.pk not in fetched:
            guest_links.link_record_download(link=link, take=take, guest_name=state["name"])
            _save_guest_state(request, link, fetched=[*fetched, take.pk])
        return file_response(request, take.video)
    if variant == "thumbnail" and take.thumbnail:
        return file_response(request, take.thumbnail)
    raise Http404("No such file.")
