"""The team's audit log for its owners: the page (filters, pages of entries) and its CSV."""

import csv
from itertools import chain

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from projects.access import membership_for, require
from projects.audit import selectors

PAGE = "projects/team_audit.html"


class _Echo:
    def write(self, value):
        return value


@login_required
@require_GET
def team_audit(request, team_pk):
    membership = membership_for(request.user, team_pk)
    require(membership, "manage")
    page = selectors.audit_page_for(team=membership.team, params=request.GET)
    context = {"team": membership.team, "membership": membership, "page": page}
    if request.htmx and not request.htmx.boosted and not request.htmx.history_restore_request:
        # htmx swaps only a 2xx answer: a refused filter says why inside the region it replaces.
        response = render(request, PAGE + "#log", context)
    else:
        response = render(request, PAGE, context, status=400 if page.error else 200)
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_GET
def team_audit_csv(request, team_pk):
    membership = membership_for(request.user, team_pk)
    require(membership, "manage")
    _form, filters, error = selectors.audit_filters(request.GET, team=membership.team)
    if error:
        return HttpResponse(error, status=400, content_type="text/plain; charset=utf-8")
    writer = csv.writer(_Echo())
    rows = selectors.audit_csv_rows(team=membership.team, filters=filters)
    # A byte-order mark first: Excel then reads the UTF-8 (names, arrows) as UTF-8.
    response = StreamingHttpResponse(chain(["\ufeff"], (writer.writerow(row) for row in rows)),
                                     content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (f'attachment; filename="audit-log-team-{membership.team_id}-'
                                       f'{timezone.localdate():%Y-%m-%d}.csv"')
    return response
