"""ComfyUI workflows on a team's connection: upload the graph, then say which inputs the studio fills."""


from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from generation.models import ComfyWorkflow
from generation.providers import comfy_workflows
from generation.providers.forms import WorkflowMappingForm, WorkflowUploadForm
from projects.access import get_comfy_connection_for, get_workflow_for
from projects.htmx import wants_fragment

if TYPE_CHECKING:
    from django.http.response import HttpResponseBase

    from projects.access import AuthedRequest



@login_required
@require_http_methods(["GET", "POST"])
def workflow_upload(request: AuthedRequest, team_pk: int, pk: int) -> HttpResponseBase:
    connection, membership = get_comfy_connection_for(request.user, team_pk, pk)
    form = WorkflowUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            workflow = comfy_workflows.workflow_upload(connection=connection, user=request.user,
                                                       name=form.cleaned_data["name"],
                                                       data=form.cleaned_data["file"].read(comfy_workflows.MAX_BYTES + 1))
        except ValidationError as exc:
            form.add_error("file", exc)
        else:
            messages.success(request, gettext("Uploaded %(name)s. Check which inputs the studio fills.") % {"name": workflow.name})
            return redirect("generation:workflow_map", team_pk=team_pk, pk=pk, workflow_pk=workflow.pk)
    return render(request, "generation/workflow_upload.html",
                  {"team": membership.team, "connection": connection, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def workflow_map(request: AuthedRequest, team_pk: int, pk: int, workflow_pk: int) -> HttpResponseBase:
    connection, membership = get_comfy_connection_for(request.user, team_pk, pk)
    workflow = get_workflow_for(connection, workflow_pk)
    literals = comfy_workflows.literal_inputs(workflow.graph)
    form = WorkflowMappingForm(request.POST or None, literals=literals, initial=_initial(workflow))
    if request.method == "POST" and form.is_valid():
        data = {k: form.cleaned_data[k] for k in ("frames_rule", "fps", "sizes", "durations", "price_per_second")}
        try:
            model = comfy_workflows.workflow_map(workflow=workflow, inputs=form.mapped_inputs(), user=request.user,
                                                 **data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, gettext("%(model)s is ready to render on %(connection)s.")
                             % {"model": model.display_name, "connection": connection.label})
            url = reverse("generation:connection_list", args=[team_pk])
            return HttpResponseClientRedirect(url) if wants_fragment(request) else redirect(url)
    template = "generation/workflow_map.html" + ("#mapping" if wants_fragment(request) else "")
    return render(request, template, {"team": membership.team, "connection": connection, "workflow": workflow,
                                      "form": form})


def _initial(workflow: ComfyWorkflow) -> dict[str, Any]:
    model = workflow.catalog_model
    initial: dict[str, object] = {f"input_{role}": "|".join(target) for role, target in workflow.inputs.items()}
    initial.update(frames_rule=workflow.frames_rule, fps=workflow.fps,
                   sizes=", ".join(model.sizes) if model else "768x512, 512x768",
                   durations=", ".join(str(d) for d in model.durations) if model else "2, 3, 4, 5",
                   price_per_second=model.price_for_any_size if model else 0)
    return initial
