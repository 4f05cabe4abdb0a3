"""The live channel's endpoints: a page's event stream, the fallback poll, and presence."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.decorators import login_required
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpResponse, StreamingHttpResponse
from django.views.decorators.http import require_GET, require_POST

from projects.access import get_project_for, membership_for
from projects.inputs import parse_id
from projects.live.presence import presence_editing
from projects.live.stream import client_id, replay, stream_async, stream_sync

if TYPE_CHECKING:
    from django.http import HttpRequest
    from django.http.response import HttpResponseBase

    from projects.access import AuthedRequest



def _after(request: HttpRequest) -> int | None:
    """Where the page is up to: Last-Event-ID when the browser reconnects by itself, ?after= from the
    page; None when it says nothing (then it has just been drawn and there is nothing to replay)."""
    raw = request.headers.get("Last-Event-ID") or request.GET.get("after")
    return parse_id(raw) if raw else None


def _not_activity(request: HttpRequest) -> None:
    # A page reconnecting its stream (every few minutes, unattended) is not someone using the
    # studio: it must not keep their session from idling out (studio_site.accounts).
    request.session_idle_exempt = True  # type: ignore[attr-defined]  # read by studio_site.accounts


def _event_stream(request: AuthedRequest, channel: tuple[str, int], role: str) -> HttpResponseBase:
    return event_stream_response(request, channel=channel, role=role, user_id=request.user.pk)


def event_stream_response(request: HttpRequest, *, channel: tuple[str, int], role: str,
                          user_id: int) -> HttpResponseBase:
    """The page's stream of `channel` as `role` (a member's, or a guest's `guest:<link id>` with user_id 0: the
    hub's keep-alive ends it once the link stops working, stream.keep_open)."""
    _not_activity(request)
    args = {"channel": channel, "role": role, "user_id": user_id, "after": _after(request),
            "client": client_id(request.GET.get("client"), user_id=user_id)}
    body = stream_async(**args) if isinstance(request, ASGIRequest) else stream_sync(**args)
    response = StreamingHttpResponse(body, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # a proxy must pass each event on at once
    return response


@login_required
@require_GET
def project_events(request: AuthedRequest, pk: int) -> HttpResponseBase:
    project, membership = get_project_for(request.user, pk)
    return _event_stream(request, ("project", project.pk), membership.role)


@login_required
@require_GET
def team_events(request: AuthedRequest, team_pk: int) -> HttpResponseBase:
    membership = membership_for(request.user, team_pk)
    return _event_stream(request, ("team", membership.team_id), membership.role)


@login_required
@require_GET
def project_changes(request: AuthedRequest, pk: int) -> HttpResponseBase:
    """The fallback where a page can't hold a stream: the regions changed since ?after=, at once."""
    project, membership = get_project_for(request.user, pk)
    _not_activity(request)
    messages = replay(channel=("project", project.pk), role=membership.role, after=_after(request) or 0,
                      user_id=request.user.pk)
    body = "".join(m.data for m in messages if m.event == "change")
    response = HttpResponse(body, content_type="text/html; charset=utf-8")
    response["X-Live-Cursor"] = str(max([m.id for m in messages], default=_after(request) or 0))
    if any(m.event in ("reset", "fields") for m in messages):  # a field's change redraws every frame
        response["X-Live-Reset"] = "1"
    if orders := [m.data for m in messages if m.event == "order"]:
        response["X-Live-Order"] = orders[-1]
    return response


@login_required
@require_POST
def project_presence(request: AuthedRequest, pk: int) -> HttpResponseBase:
    """A page says which scene its user is editing (or none): "Rita is editing" on that frame."""
    project, _membership = get_project_for(request.user, pk)
    scene_id = parse_id(request.POST.get("editing") or "")
    client = client_id(request.POST.get("client"), user_id=request.user.pk)
    presence_editing(project=project, user=request.user, client=client, scene_id=scene_id)
    return HttpResponse(status=204)
