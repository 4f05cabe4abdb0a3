"""Takes: start a render, follow its progress, retry, remix or extend it, play its files."""


from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from generation import catalog
from generation.models import ProviderConnection, Status
from generation.providers import webhook_receive as webhooks
from generation.renders import continuity, extension, services
from generation.renders.forms import ExtendForm, RemixForm, RenderForm, RetryForm
from generation.storage.files import file_response, protect
from projects.access import get_scene_for, get_take_for, require
from projects.form_errors import error_text
from projects.htmx import wants_fragment

if TYPE_CHECKING:
    from django.http import HttpRequest
    from django.http.response import HttpResponseBase

    from generation.models import Render
    from projects.access import AuthedRequest
    from projects.models import Membership, Scene


TAKES = "generation/_takes.html"


def _takes(request: HttpRequest, scene: Scene, membership: Membership, *, form: RenderForm | None = None,
           error: str | None = None, status: int = 200) -> HttpResponseBase:
    context = {
        "scene": scene, "membership": membership, "takes": scene.renders.select_related("created_by", "parent"),
        "render_form": form or RenderForm(team=scene.project.team), "render_error": error,
    }
    return render(request, TAKES, context, status=status)


@login_required
@require_POST
def render_create(request: AuthedRequest, scene_pk: int) -> HttpResponseBase:
    scene, membership = get_scene_for(request.user, scene_pk)
    require(membership, "edit")
    form = RenderForm(request.POST, team=scene.project.team, scenes=[scene])
    shown: RenderForm | None = form  # None: a fresh form, with a fresh key, for the next click
    error = None
    if form.is_valid():
        try:
            services.render_create(
                scene=scene, user=request.user, connection=form.chosen.connection,
                model_id=form.chosen.model.model_id, idempotency_key=form.cleaned_data["idempotency_key"],
            )
            shown = None
        except ValidationError as exc:
            error = error_text(exc)
    else:
        error = error_text(form)
    if wants_fragment(request):
        return _takes(request, scene, membership, form=shown, error=error)
    if error:
        messages.error(request, gettext("Scene %(number)s: %(error)s") % {"number": scene.number, "error": error})
    return redirect("projects:project_detail", pk=scene.project_id)


def _act_on_take(request: AuthedRequest, pk: int, form_class: type[forms.Form],
                 action: Callable[[Render, dict[str, Any]], object]) -> HttpResponseBase:
    """POST handler shape shared by retry and remix: a one-click form that makes a new take."""
    take, membership = get_take_for(request.user, pk)
    require(membership, "edit")
    form = form_class(request.POST)
    error = None
    if form.is_valid():
        try:
            action(take, form.cleaned_data)
        except ValidationError as exc:
            error = error_text(exc)
    else:
        error = error_text(form)
    if wants_fragment(request):
        return _takes(request, take.scene, membership, error=error)
    if error:
        messages.error(request, error)
    return redirect("projects:project_detail", pk=take.scene.project_id)


@login_required
@require_POST
def render_retry(request: AuthedRequest, pk: int) -> HttpResponseBase:
    return _act_on_take(request, pk, RetryForm, lambda take, data: services.render_retry(
        render=take, user=request.user, idempotency_key=data["idempotency_key"]))


@login_required
@require_POST
def render_remix(request: AuthedRequest, pk: int) -> HttpResponseBase:
    return _act_on_take(request, pk, RemixForm, lambda take, data: services.render_remix(
        render=take, user=request.user, prompt=data["prompt"], idempotency_key=data["idempotency_key"],
        override_reason=data["override_reason"]))


@login_required
@require_POST
def render_extend(request: AuthedRequest, pk: int) -> HttpResponseBase:
    return _act_on_take(request, pk, ExtendForm, lambda take, data: extension.render_extend(
        render=take, user=request.user, choice=data["choice"], prompt=data["prompt"],
        idempotency_key=data["idempotency_key"], override_reason=data["override_reason"]))


@login_required
def render_extend_preview(request: AuthedRequest, pk: int) -> HttpResponseBase:
    """What an extension of the take would send and cost, and where its continuation would begin."""
    take, membership = get_take_for(request.user, pk)
    require(membership, "edit")
    if take.is_withheld_from(request.user):
        raise Http404("This take is withheld.")
    preview = extension.extension_preview(take=take, choice=request.GET.get("choice", ""))
    return render(request, "generation/_extend_compiled.html", {"take": take, "preview": preview})


@login_required
@require_POST
def render_cancel(request: AuthedRequest, pk: int) -> HttpResponseBase:
    take, membership = get_take_for(request.user, pk)
    require(membership, "edit")
    error = None
    try:
        take = services.render_cancel(render=take, user=request.user)
    except ValidationError as exc:
        error = error_text(exc)
        take.refresh_from_db()
    if not wants_fragment(request):
        if error:
            messages.error(request, error)
        return redirect("projects:project_detail", pk=take.scene.project_id)
    return render(request, "generation/_take.html", {
        "take": take, "scene": take.scene, "membership": membership, "take_error": error,
    })


@login_required
def render_status(request: AuthedRequest, pk: int) -> HttpResponseBase:
    take, membership = get_take_for(request.user, pk)
    return render(request, "generation/_take.html", {
        "take": take, "scene": take.scene, "membership": membership, "retry_form": RetryForm(),
    })


@login_required
def render_file(request: AuthedRequest, pk: int, variant: str) -> HttpResponseBase:
    take, _membership = get_take_for(request.user, pk)
    if take.status != Status.SUCCEEDED:
        raise Http404("This take has no files yet.")
    if take.is_withheld_from(request.user):
        raise Http404("This take is withheld.")
    if variant == "video" and take.video:
        return file_response(request, take.video)
    if variant == "thumbnail" and take.thumbnail:
        return file_response(request, take.thumbnail)
    raise Http404("No such file.")


@csrf_exempt
@require_POST
def webhook(request: HttpRequest, token: str) -> HttpResponseBase:
    connection = get_object_or_404(ProviderConnection, webhook_token=token)
    try:
        webhooks.webhook_receive(connection=connection, headers=request.headers, body=request.body)
    except webhooks.WebhookRefused as refused:
        return HttpResponse(refused.reason, status=refused.status, content_type="text/plain")
    except webhooks.WebhookAlreadyProcessed:
        # A retried delivery (the sender missed our answer): acknowledged, nothing done twice.
        return HttpResponse("Already processed.", status=200, content_type="text/plain")
    return HttpResponse(status=204)


@login_required
def render_preview(request: AuthedRequest, scene_pk: int) -> HttpResponseBase:
    """What a take would send with the chosen provider and model, before anyone pays for it."""
    scene, membership = get_scene_for(request.user, scene_pk)
    # Only the target matters here; a preview books nothing, so any key will do.
    form = RenderForm({"target": request.GET.get("target", ""), "idempotency_key": str(uuid.uuid4())},
                      team=scene.project.team)
    compiled = None
    if form.is_valid():
        target = form.chosen
        compiled = services.render_compile(scene=scene, connection=target.connection,
                                           model_id=target.model.model_id)
        # The model booked: an alias's pinned snapshot may cost otherwise.
        compiled.estimate = (catalog.cost_of(compiled.model, size=scene.size, seconds=scene.duration)
                             if compiled.model
                             else target.estimate(size=scene.size, seconds=scene.duration))
    return render(request, "generation/_compiled.html", {"scene": scene, "compiled": compiled})


@login_required
def scene_frame(request: AuthedRequest, pk: int, role: str) -> HttpResponseBase:
    """The frame a take of the scene would start from (or end on), fitted to its size as it would be sent."""
    scene, _ = get_scene_for(request.user, pk)
    resolve = {"start": continuity.start_source, "end": continuity.end_source}.get(role)
    if resolve is None:
        raise Http404("No such frame.")
    try:
        source = resolve(scene)
    except ValidationError:
        source = None
    if source is None:
        raise Http404("This scene takes no such frame.")
    try:
        name = source.image if source.kind == "image" else continuity.stored_frame(source.of_take, source.frame).name
        fitted = continuity.fitted(name, size=scene.size, fit=scene.reference_fit)
    except (ValueError, OSError):
        raise Http404("The frame cannot be read.")
    return protect(HttpResponse(fitted), f"{role}.png")
