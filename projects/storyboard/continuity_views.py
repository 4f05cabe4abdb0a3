"""Continuity pages: what a scene starts from and ends on, and "Use this frame as the start of scene N+1"
from the player. The frames themselves are served by generation.renders.views.scene_frame."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from projects.access import get_scene_for, get_take_for, require
from projects.form_errors import error_text
from projects.storyboard import continuity as services
from projects.storyboard.views import _panel, _panel_url


@login_required
@require_POST
def scene_continuity(request, pk):
    """Choose what the scene's takes start from and end on (a plain form; the panel swaps it in)."""
    scene, membership = get_scene_for(request.user, pk)
    require(membership, "edit")
    error = None
    try:
        scene = services.scene_set_continuity(
            scene=scene, user=request.user, start_from=request.POST.get("start_from", ""),
            end_on=request.POST.get("end_on", ""), end_image=request.FILES.get("end_image"),
            follow=request.POST.get("follow") == "1")
    except ValidationError as exc:
        error = error_text(exc)
    if request.htmx:
        return _panel(request, scene, membership, continuity_error=error)
    if error:
        messages.error(request, error)
    return redirect(_panel_url(scene))


@login_required
@require_POST
def take_start_next(request, pk):
    """ "Use this frame as the start of scene N+1", from the player (frame: the paused frame; none: the last)."""
    take, membership = get_take_for(request.user, pk)
    require(membership, "edit")
    frame = request.POST.get("frame", "").strip()
    try:
        number = _frame_number(frame)
        following = services.scene_start_from_frame(take=take, frame=number, user=request.user)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect(reverse("projects:take_review", args=[take.pk]))
    messages.success(request, gettext("Scene %(scene)d now starts from %(frame)s of scene %(from)d, take %(take)d.")
                     % {"scene": following.number, "from": take.scene.number, "take": take.number,
                        "frame": gettext("the last frame") if number is None
                        else gettext("frame %(n)d") % {"n": number}})
    return redirect(_panel_url(following))


def _frame_number(text: str) -> int | None:
    """A frame number as the player sends it ("" when no frame was chosen: the last frame)."""
    if not text:
        return None
    if not (text.isascii() and text.isdigit() and len(text) <= 7):
        raise ValidationError(gettext("“%(frame)s” is not a frame number.") % {"frame": text[:20]})
    return int(text)
