"""A connection's Models page, and its owners' check for model changes: ask for one, accept what it found."""


from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_POST

from generation import catalog
from generation.providers import catalog_sync
from generation.providers.forms import AcceptChangesForm
from generation.providers.selectors import catalog_proposal_for
from projects.access import get_connection_for, require
from projects.form_errors import error_text
from projects.htmx import wants_fragment

if TYPE_CHECKING:
    from django.http import HttpRequest
    from django.http.response import HttpResponseBase

    from generation.models import ProviderConnection
    from projects.access import AuthedRequest
    from projects.models import Membership


PAGE = "generation/connection_catalog.html"


def models_page(request: HttpRequest, connection: ProviderConnection, membership: Membership, *,
                form: AcceptChangesForm | None = None, region: bool = False) -> HttpResponseBase:
    """The Models page (or, for htmx, its owners' region of model changes): what the connection offers
    and, for its owners, what its provider changed."""
    proposal = catalog_proposal_for(connection=connection) if membership.can_manage else None
    if proposal is not None and form is None:
        form = AcceptChangesForm(rows=proposal.rows)
    context = {"team": membership.team, "membership": membership, "connection": connection, "proposal": proposal,
               "form": form}
    if region and proposal is not None:
        return render(request, PAGE + "#changes", context)
    return render(request, PAGE, {**context, "entries": catalog.catalog_entries(connection)})


@login_required
def connection_catalog(request: AuthedRequest, team_pk: int, pk: int) -> HttpResponseBase:
    """The models a connection offers, as every member may read them; owners get Edit links and the check.
    When a check ends, the live channel says so and "Show what it found" asks for the owners' region."""
    connection, membership = get_connection_for(request.user, team_pk, pk)
    return models_page(request, connection, membership, region=wants_fragment(request))


@login_required
@require_POST
def catalog_check(request: AuthedRequest, team_pk: int, pk: int) -> HttpResponseBase:
    """Check for model changes: queued for the worker (the provider is never called in a request)."""
    connection, membership = get_connection_for(request.user, team_pk, pk)
    require(membership, "manage")
    try:
        catalog_sync.catalog_check_request(connection=connection, user=request.user)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    if wants_fragment(request):
        return models_page(request, connection, membership, region=True)
    return redirect("generation:connection_catalog", team_pk=team_pk, pk=pk)


@login_required
@require_POST
def catalog_changes_accept(request: AuthedRequest, team_pk: int, pk: int) -> HttpResponseBase:
    """An owner accepts the ticked changes (or all): every one is applied, or none with the reasons."""
    connection, membership = get_connection_for(request.user, team_pk, pk)
    require(membership, "manage")
    form = AcceptChangesForm(request.POST, rows=catalog_proposal_for(connection=connection).rows)
    if form.is_valid():
        try:
            accepted = catalog_sync.proposed_changes_accept(connection=connection, user=request.user,
                                                            decisions=form.decisions())
        except catalog_sync.AcceptRefused as exc:
            form.add_row_problems(exc.problems)
        else:
            messages.success(request, ngettext("Accepted %(count)d change on %(connection)s.",
                                               "Accepted %(count)d changes on %(connection)s.", len(accepted))
                             % {"count": len(accepted), "connection": connection.label})
            return redirect("generation:connection_catalog", team_pk=team_pk, pk=pk)
    messages.error(request, gettext("Nothing was accepted: see the changes below."))
    return models_page(request, connection, membership, form=form)
