"""A review room's pages: open one on a take or on a compare of two takes, the room (the take's review page, or the
compare page, following the presenter), the presenter's player events, taking the lead, ending it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from projects import selectors
from projects.access import (
    AuthedRequest,
    get_project_for,
    get_room_for,
    get_scene_for,
    get_take_for,
)
from projects.htmx import wants_fragment
from projects.inputs import id_or_404, parse_id
from projects.models import ReviewRoom
from projects.review import rooms
from projects.review.views import REVIEW, cut_page
from projects.selectors import take_review_page_for

COMPARE = "projects/compare.html"


@login_required
@require_POST
def room_open(request: AuthedRequest, pk: int) -> HttpResponse:
    take, membership = get_take_for(request.user, pk)
    if take.is_withheld_from(request.user) or not membership.can_comment:
        raise PermissionDenied(_("Viewers can join a room, not open one."))
    try:
        room = rooms.room_open(take=take, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("projects:take_review", pk=take.pk)
    return redirect("projects:review_room", pk=room.pk)


@login_required
@require_POST
def compare_room_open(request: AuthedRequest, pk: int) -> HttpResponse:
    """A room on the compare page: the two takes it shows (a and b), both finished takes of this scene."""
    scene, membership = get_scene_for(request.user, pk)
    by_pk = {take.pk: take for take in selectors.reviewable_takes(scene=scene)}
    left = by_pk.get(id_or_404(request.POST.get("a") or "", what="take"))
    right = by_pk.get(id_or_404(request.POST.get("b") or "", what="take"))
    if left is None or right is None or any(t.is_withheld_from(request.user) for t in (left, right)):
        raise Http404("No such finished take in this scene.")
    if not membership.can_comment:
        raise PermissionDenied(_("Viewers can join a room, not open one."))
    try:
        room = rooms.room_open_compare(left=left, right=right, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(f"{reverse('projects:scene_compare', args=[scene.pk])}?a={left.pk}&b={right.pk}")
    return redirect("projects:review_room", pk=room.pk)


@login_required
@require_POST
def play_all_room_open(request: AuthedRequest, pk: int) -> HttpResponse:
    """A room on the project's Play all: everyone in it follows the presenter's scene and moment in the sequence."""
    project, membership = get_project_for(request.user, pk)
    if not membership.can_comment:
        raise PermissionDenied(_("Viewers can join a room, not open one."))
    room = rooms.room_open_play_all(project=project, user=request.user)
    return redirect("projects:review_room", pk=room.pk)


@login_required
def review_room(request: AuthedRequest, pk: int) -> HttpResponse:
    room, membership = get_room_for(request.user, pk)
    if not room.is_open:
        messages.info(request, _("This review room has ended."))
        return redirect(_room_home(room))
    take = room.take
    if room.is_play_all or take is None:
        return cut_page(request, project=room.project, membership=membership, **rooms.room_page_context(room))
    if room.is_compare:
        return render(request, COMPARE, selectors.compare_page_for(
            scene=take.scene, membership=membership, takes=list(selectors.reviewable_takes(scene=take.scene)),
            left=take, right=room.other_take, **rooms.room_page_context(room)))
    return render(request, REVIEW, take_review_page_for(take=take, membership=membership, user=request.user,
                                                        **rooms.room_page_context(room)))


def _room_home(room: ReviewRoom) -> str:
    """Where a room's page goes once it ends: the take's review page, or the compare of its two takes."""
    if room.is_play_all or room.take is None:
        return reverse("projects:project_cut", args=[room.project_id])
    if room.is_compare:
        return f"{reverse('projects:scene_compare', args=[room.take.scene_id])}?a={room.take_id}&b={room.other_take_id}"
    return reverse("projects:take_review", args=[room.take_id])


@login_required
@require_POST
def room_state(request: AuthedRequest, pk: int) -> HttpResponse:
    """The presenter's player moved, or their drawing on the frame changed: 204 (applied, or a stale event ignored,
    said in X-Room-Stale)."""
    room, _membership = get_room_for(request.user, pk)
    try:
        moved = rooms.room_update(room=room, user=request.user, seq=request.POST.get("seq"),
                                  position=request.POST.get("position"), playing=request.POST.get("playing"),
                                  drawing=request.POST.get("drawing"), mode=request.POST.get("mode"),
                                  scene=request.POST.get("scene"), rate=request.POST.get("rate"))
    except ValidationError as exc:
        return HttpResponse(" ".join(exc.messages), status=422, content_type="text/plain; charset=utf-8")
    except PermissionDenied as exc:
        return HttpResponse(str(exc), status=409, content_type="text/plain; charset=utf-8")
    except rooms.RoomThrottled:
        return HttpResponse(_("Too many player events: slow down."), status=429, headers={"Retry-After": "1"})
    response = HttpResponse(status=204)
    if not moved:
        response["X-Room-Stale"] = "1"
    return response


@login_required
@require_POST
def room_lead(request: AuthedRequest, pk: int) -> HttpResponse:
    room, _membership = get_room_for(request.user, pk)
    try:
        room = rooms.room_take_lead(room=room, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(_room_home(room))
    if wants_fragment(request):
        return render(request, "projects/_room_bar.html#room-state", {**rooms.room_page_context(room), "oob": True})
    return redirect("projects:review_room", pk=room.pk)


@login_required
@require_POST
def room_close(request: AuthedRequest, pk: int) -> HttpResponse:
    room, _membership = get_room_for(request.user, pk)
    rooms.room_close(room=room, user=request.user)
    return redirect(_room_home(room))


@login_required
@require_POST
def room_take(request: AuthedRequest, pk: int) -> HttpResponse:
    """The presenter shows another take: everyone's page in the room moves to it (static/studio/room.js)."""
    room, _membership = get_room_for(request.user, pk)
    take_id = parse_id(request.POST.get("take") or "")
    if take_id is None:
        messages.error(request, _("Choose a take to show."))
        return redirect("projects:review_room", pk=room.pk)
    take, _membership = get_take_for(request.user, take_id)
    try:
        rooms.room_switch_take(room=room, user=request.user, take=take)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    return redirect("projects:review_room", pk=room.pk)
