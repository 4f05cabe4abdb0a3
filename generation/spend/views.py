"""The spend page (a team's for owners, a project's for its editors), its CSV, and reconciliations."""

import csv

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from generation.providers import remote_kinds
from generation.spend import reconcile
from generation.spend import selectors as spend
from projects.access import get_project_for, get_reconciliation_for, membership_for, require
from projects.selectors import mark_changes_requested

PAGE = "generation/spend.html"
SCENES_PER_PAGE = 50
RECONCILIATIONS = "generation/reconciliations.html"


class _Echo:
    def write(self, value):
        return value


def _period(request):
    """The period asked for, or (this month, the message saying why the filter was not used)."""
    try:
        return spend.period_from(request.GET), None
    except spend.PeriodError as exc:
        return spend.period_from({}), str(exc)


def _spend_page(request, *, team, project, membership):
    period, error = _period(request)
    figures = spend.spend_for(team=team, project=project, period=period)
    mark_changes_requested(figures.never_approved)  # each take's state, in its frame's words
    # The by-scene table a page at a time (a 1,000-scene project drew 1,000 rows); the totals above it are
    # aggregates over every take. get_page answers a page past the end (or "abc") with the nearest page.
    others = request.GET.copy()
    others.pop("scene_page", None)
    context = {"team": team, "project": project, "membership": membership, "error": error,
               "spend": figures, "query": request.GET.urlencode(), "others": others.urlencode(),
               "by_scene": Paginator(figures.by_scene, SCENES_PER_PAGE).get_page(request.GET.get("scene_page"))}
    return render(request, PAGE, context, status=400 if error else 200)


def _csv(request, *, team, project):
    try:
        period = spend.period_from(request.GET)
    except spend.PeriodError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    writer = csv.writer(_Echo())
    rows = spend.spend_csv_rows(team=team, project=project, period=period)
    response = StreamingHttpResponse((writer.writerow(row) for row in rows), content_type="text/csv; charset=utf-8")
    scope = f"project-{project.pk}" if project else f"team-{team.pk}"
    response["Content-Disposition"] = f'attachment; filename="spend-{scope}-{period.start}-{period.end}.csv"'
    return response


@login_required
def team_spend(request, team_pk):
    membership = membership_for(request.user, team_pk)
    require(membership, "manage")
    return _spend_page(request, team=membership.team, project=None, membership=membership)


@login_required
def team_spend_csv(request, team_pk):
    membership = membership_for(request.user, team_pk)
    require(membership, "manage")
    return _csv(request, team=membership.team, project=None)


@login_required
def project_spend(request, pk):
    project, membership = get_project_for(request.user, pk)
    require(membership, "edit")
    return _spend_page(request, team=project.team, project=project, membership=membership)


@login_required
def project_spend_csv(request, pk):
    project, membership = get_project_for(request.user, pk)
    require(membership, "edit")
    return _csv(request, team=project.team, project=project)


class ReconciliationForm(forms.Form):
    provider = forms.ChoiceField(choices=remote_kinds, label=_("Provider"))  # the built-in previz bills nobody
    start = forms.DateField(label=_("Start"), help_text=_("First day of the export's period"),
                            widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("End"), help_text=_("Last day of the export's period"),
                          widget=forms.DateInput(attrs={"type": "date"}))
    usage_file = forms.FileField(required=False, label=_("Usage export (CSV)"))
    pasted = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 6}), label=_("…or paste its rows"))

    def clean(self):
        data = super().clean()
        if not self.errors:
            try:
                data["period"] = spend.period_from({"start": data["start"].isoformat(), "end": data["end"].isoformat()})
            except spend.PeriodError as exc:
                raise ValidationError(str(exc)) from None
            upload = data.get("usage_file")
            if upload and upload.size > reconcile.MAX_BYTES:
                raise ValidationError(gettext("The usage file is larger than %(most)d MB: export a shorter period.")
                                      % {"most": reconcile.MAX_BYTES // (1024 * 1024)})
            data["raw"] = upload.read() if upload else data.get("pasted", "")
            if not data["raw"] or not str(data["raw"]).strip():
                raise ValidationError(gettext("Upload the provider's usage export (CSV) or paste its rows."))
        return data


@login_required
def reconciliation_list(request, team_pk):
    membership = membership_for(request.user, team_pk)
    require(membership, "manage")
    form = ReconciliationForm(request.POST, request.FILES) if request.method == "POST" else ReconciliationForm()
    if form.is_bound and form.is_valid():
        try:
            run = reconcile.reconciliation_create(
                team=membership.team, user=request.user, provider=form.cleaned_data["provider"],
                period=form.cleaned_data["period"], raw=form.cleaned_data["raw"])
            return redirect("generation:reconciliation_detail", team_pk=team_pk, pk=run.pk)
        except ValidationError as exc:
            form.add_error(None, exc)
    runs = membership.team.reconciliations.select_related("created_by")[:50]
    return render(request, RECONCILIATIONS, {"team": membership.team, "membership": membership, "form": form,
                                             "runs": runs}, status=400 if form.errors else 200)


@login_required
def reconciliation_detail(request, team_pk, pk):
    membership = membership_for(request.user, team_pk)
    require(membership, "manage")
    run = get_reconciliation_for(membership, pk)
    return render(request, "generation/reconciliation.html", {"team": membership.team, "run": run})
