"""A team's provider connections: add, edit (keys write-only), test, register models."""


from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from generation import catalog
from generation.providers import connections, facts_for
from generation.providers.forms import CatalogEntryForm, ConnectionForm, RegisterModelForm
from generation.providers.selectors import team_connections
from projects.access import get_connection_for, membership_for, require
from projects.form_errors import error_text
from projects.htmx import wants_fragment

if TYPE_CHECKING:
    from django.http.response import HttpResponseBase

    from generation.models import CatalogModel, ProviderConnection
    from projects.access import AuthedRequest


PAGE = "generation/connections.html"


@login_required
@require_http_methods(["GET", "POST"])
def connection_list(request: AuthedRequest, team_pk: int) -> HttpResponseBase:
    membership = membership_for(request.user, team_pk)
    form = ConnectionForm(request.POST or None)
    if request.method == "POST":
        require(membership, "manage")
        if form.is_valid():
            try:
                connection = connections.connection_create(team=membership.team, user=request.user,
                                                           **form.cleaned_data)
            except ValidationError as exc:
                form.add_error("label", exc)
            else:
                messages.success(request, (
                    gettext("Added %(connection)s. Testing it now, and fetching its webhook signing secret.")
                    if (facts := facts_for(connection.kind)) and facts.webhook_secret_from_api
                    and not form.cleaned_data["webhook_secret"]
                    else gettext("Added %(connection)s. Test it to check the key.")) % {"connection": connection.label})
                return redirect("generation:connection_list", team_pk=team_pk)
    catalog.connection_ensure_local(membership.team)
    listed = team_connections(team=membership.team)
    for connection in listed:
        connection.webhook_url = request.build_absolute_uri(
            reverse("generation:webhook", args=[connection.webhook_token]))
    context = {
        "team": membership.team, "membership": membership, "form": form,
        "connections": listed,
        "model_form": RegisterModelForm(),
    }
    return render(request, PAGE, context)


@login_required
@require_http_methods(["GET", "POST"])
def connection_edit(request: AuthedRequest, team_pk: int, pk: int) -> HttpResponseBase:
    connection, membership = get_connection_for(request.user, team_pk, pk)
    require(membership, "manage")
    initial = {"kind": connection.kind, "label": connection.label, "base_url": connection.base_url,
               "auth_style": connection.auth_style, "lookup_window_seconds": connection.lookup_window_seconds,
               **{name: (connection.options or {}).get(name, "") for name in ("project", "region", "output_uri")}}
    form = ConnectionForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "kind"}
        try:
            connections.connection_update(connection=connection, user=request.user, **data)
        except ValidationError as exc:
            form.add_error("label", exc)
        else:
            messages.success(request, gettext("Saved %(connection)s.") % {"connection": connection.label})
            return redirect("generation:connection_list", team_pk=team_pk)
    return render(request, "generation/connection_edit.html",
                  {"team": membership.team, "membership": membership, "connection": connection, "form": form,
                   "entries": catalog.catalog_entries(connection)})


@login_required
@require_http_methods(["GET", "POST"])
def catalog_entry_edit(request: AuthedRequest, team_pk: int, pk: int, entry_pk: int) -> HttpResponseBase:
    """An owner edits one model for the team (a shipped one gets the team's own copy), or resets it."""
    connection, membership = get_connection_for(request.user, team_pk, pk)
    require(membership, "manage")
    listed = catalog.catalog_entry_for(connection, entry_pk)
    if listed is None:
        raise Http404("No such model on this connection.")
    entry = catalog.resolve(connection, listed.model_id)  # the team's copy, even from a shipped row's link
    if entry is None:
        raise Http404("No such model on this connection.")
    facts = facts_for(connection.kind)
    form = CatalogEntryForm(request.POST or None, initial=CatalogEntryForm.initial_for(entry),
                            declares_fields=bool(facts and facts.declares_fields), kind=connection.kind)
    if request.method == "POST" and "reset" in request.POST:
        return _entry_reset(request, connection, entry)
    if request.method == "POST" and form.is_valid():
        try:
            saved = catalog.catalog_entry_update(connection=connection, model_id=entry.model_id, user=request.user,
                                                 declared=form.declared(), **form.entry_fields())
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, gettext("Saved %(model)s on %(connection)s for your team.")
                             % {"model": saved.display_name, "connection": connection.label})
            return redirect("generation:connection_catalog", team_pk=team_pk, pk=pk)
    return render(request, "generation/catalog_entry.html", {
        "team": membership.team, "connection": connection, "entry": entry, "form": form,
        "edited": entry.connection_id is not None and catalog.catalog_entry_shipped(connection, entry.model_id)})


def _entry_reset(request: AuthedRequest, connection: ProviderConnection, entry: CatalogModel) -> HttpResponseBase:
    try:
        shipped = catalog.catalog_entry_reset(connection=connection, model_id=entry.model_id, user=request.user)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, gettext("%(model)s on %(connection)s is back to the shipped entry.")
                         % {"model": shipped.display_name, "connection": connection.label})
    return redirect("generation:connection_catalog", team_pk=connection.team_id, pk=connection.pk)


@login_required
@require_POST
def connection_test(request: AuthedRequest, team_pk: int, pk: int) -> HttpResponseBase:
    connection, membership = get_connection_for(request.user, team_pk, pk)
    require(membership, "manage")
    connections.connection_request_test(connection=connection)
    connection.refresh_from_db()
    if wants_fragment(request):
        return render(request, PAGE + "#test-result", {"connection": connection, "team": membership.team})
    return redirect("generation:connection_list", team_pk=team_pk)


@login_required
def connection_status(request: AuthedRequest, team_pk: int, pk: int) -> HttpResponseBase:
    connection, membership = get_connection_for(request.user, team_pk, pk)
    return render(request, PAGE + "#test-result", {"connection": connection, "team": membership.team})


@login_required
@require_POST
def model_register(request: AuthedRequest, team_pk: int, pk: int) -> HttpResponseBase:
    connection, membership = get_connection_for(request.user, team_pk, pk)
    require(membership, "manage")
    form = RegisterModelForm(request.POST)
    if form.is_valid():
        try:
            model = connections.catalog_register_model(connection=connection, user=request.user,
                                                       **form.cleaned_data)
            messages.success(request, gettext("Registered %(model)s on %(connection)s.") % {"model": model.model_id, "connection": connection.label})
        except ValidationError as exc:
            messages.error(request, error_text(exc))
    else:
        problems = "; ".join(f"{form.fields[f].label or f}: {' '.join(map(str, e))}" if f in form.fields else " ".join(map(str, e))
                             for f, e in form.errors.items())
        messages.error(request, gettext("The model was not registered. %(problems)s") % {"problems": problems})
    return redirect("generation:connection_list", team_pk=team_pk)
