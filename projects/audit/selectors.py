"""The audit log page's read model: filters (action or area, person, date range), keyset pages, the CSV.

A page is one indexed query whatever the log's length: newest first by id, `?before=<id>` for the
next page (ids only grow, so a page never shifts as entries are added), filtered by the team and,
when chosen, the action or the person, each with an index that starts with the team.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import cast
from urllib.parse import urlencode

from django import forms
from django.db.models import Max, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from projects import money
from projects.form_errors import error_text
from projects.inputs import RefuseControlCharacters, parse_id
from projects.models import AUDIT_AREAS, AuditEntry, FieldKind

PAGE_SIZE = 50
CSV_HEADER = ["at", "who", "action", "action_code", "target_type", "target", "target_id", "details"]
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection, OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")

FIELD_LABELS = {
    "monthly_budget": gettext_lazy("Team monthly budget"), "monthly_cap": gettext_lazy("Monthly cap"),
    "budget": gettext_lazy("Render budget"), "allowed_models": gettext_lazy("Models allowed"),
    "max_price_per_second": gettext_lazy("Price ceiling a second"), "role": gettext_lazy("Role"),
    "do_not_train": gettext_lazy("Refuse AI training"), "label": gettext_lazy("Name"),
    "base_url": gettext_lazy("Base URL"), "auth_style": gettext_lazy("Key header"), "kind": gettext_lazy("Kind"),
    "team": gettext_lazy("Team"), "api_key": gettext_lazy("API key"),
    "webhook_secret": gettext_lazy("Webhook signing secret"), "display_name": gettext_lazy("Display name"),
    "model_id": gettext_lazy("Model id"), "sizes": gettext_lazy("Sizes"), "durations": gettext_lazy("Lengths (s)"),
    "input_kinds": gettext_lazy("Inputs"), "input_schema": gettext_lazy("Declared fields"),
    "has_audio": gettext_lazy("Sound"), "supports_remix": gettext_lazy("Remix"),
    "price_per_second": gettext_lazy("Price a second"), "lifecycle": gettext_lazy("Lifecycle"),
    "lifecycle_date": gettext_lazy("Lifecycle date"), "snapshot_of": gettext_lazy("Snapshot of"),
    "typical_seconds": gettext_lazy("Typical job time (s)"), "native_characters": gettext_lazy("Native characters"),
    "extra_fields": gettext_lazy("Extra fields sent"), "copied_from_shipped": gettext_lazy("Team copy of the shipped entry"),
    "connection": gettext_lazy("Connection"), "shipped": gettext_lazy("Shipped entry (every team using it)"),
    "inputs": gettext_lazy("Inputs the studio fills"), "frames_rule": gettext_lazy("Frames rule"),
    "fps": gettext_lazy("Frames a second"), "nodes": gettext_lazy("Nodes"), "email": gettext_lazy("Email"),
    "invited_by": gettext_lazy("Invited by"), "already_a_member": gettext_lazy("Was already a member"),
    "scope": gettext_lazy("Scope"), "projects": gettext_lazy("Projects"), "providers": gettext_lazy("Providers"),
    "expires_at": gettext_lazy("Expires"), "takes_withheld": gettext_lazy("Takes withheld"),
    "files_deleted": gettext_lazy("Take files deleted"), "note": gettext_lazy("Reason"),
    "remix": gettext_lazy("Remix take"), "export": gettext_lazy("Export"), "approved_by": gettext_lazy("Approved by"),
    "scenes": gettext_lazy("Scenes"), "password": gettext_lazy("Password"), "link": gettext_lazy("Guest link"),
    "take": gettext_lazy("Take"), "via": gettext_lazy("Made in"), "takes": gettext_lazy("Takes (their spend is kept)"),
    "days_in_trash": gettext_lazy("Days in the trash"),
    "source": gettext_lazy("Read from"), "gone": gettext_lazy("Why it is gone"),
    "end_frame": gettext_lazy("End frame"), "shot_timing": gettext_lazy("Several shots"),
    "shots_max": gettext_lazy("Most shots"), "extend_seconds": gettext_lazy("Extends by (s)"),
    "reference_images": gettext_lazy("Likeness references"),
    "service_account_key": gettext_lazy("Service account key"), "service_account": gettext_lazy("Service account"),
    "project": gettext_lazy("Google Cloud project"), "region": gettext_lazy("Region"),
    "output_uri": gettext_lazy("Output bucket"),
    "name": gettext_lazy("Name"), "choices": gettext_lazy("Choices"), "in_project": gettext_lazy("Project"),
    "field_kind": gettext_lazy("Holds"),
    "scenes_holding": gettext_lazy("Scenes that held a value (values deleted)"),
}
MONEY_FIELDS = {"monthly_budget", "monthly_cap", "budget"}  # None: no limit
PRICE_FIELDS = {"price_per_second", "max_price_per_second"}  # a price, or prices by size ("*": any size)
TIME_FIELDS = {"expires_at", "lifecycle_date"}
SECRET_WORDS = {"set": gettext_lazy("set (never shown)"), "replaced": gettext_lazy("replaced (never shown)"),
                "removed": gettext_lazy("removed"),
                "fetched": gettext_lazy("fetched from the provider by the studio (never shown)")}
TARGET_TYPES = {
    "providerconnection": gettext_lazy("Connection"), "catalogmodel": gettext_lazy("Model"),
    "comfyworkflow": gettext_lazy("Workflow"), "project": gettext_lazy("Project"), "team": gettext_lazy("Team"),
    "membership": gettext_lazy("Member"), "invitation": gettext_lazy("Invitation"),
    "character": gettext_lazy("Character"), "render": gettext_lazy("Take"), "reviewlink": gettext_lazy("Guest link"),
    "projectfield": gettext_lazy("Field"),
}


def _everything_in(area) -> str:
    return _("Everything in “%(area)s”") % {"area": area}


def _action_choices():
    choices = [("", gettext_lazy("Every action"))]
    for key, (label, actions) in AUDIT_AREAS.items():
        choices.append((label, [(key, _everything_in(label)), *[(a.value, a.label) for a in actions]]))
    return choices


class AuditFilterForm(RefuseControlCharacters, forms.Form):
    action = forms.ChoiceField(required=False, label=gettext_lazy("What"), choices=_action_choices,
                               error_messages={"invalid_choice": gettext_lazy("Choose what to show from the list.")})
    person = forms.ChoiceField(required=False, label=gettext_lazy("Who"),
                               error_messages={"invalid_choice": gettext_lazy(
                                   "Nobody by that id made changes here: choose a person from the list.")})
    since = forms.DateField(required=False, label=gettext_lazy("From"), widget=forms.DateInput(attrs={"type": "date"}),
                            error_messages={"invalid": gettext_lazy("Dates look like 2026-11-01: a year, a month "
                                                                    "and a day.")})
    until = forms.DateField(required=False, label=gettext_lazy("To"), widget=forms.DateInput(attrs={"type": "date"}),
                            error_messages={"invalid": gettext_lazy("Dates look like 2026-11-01: a year, a month "
                                                                    "and a day.")})

    def __init__(self, *args, people: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["person"]).choices = [("", _("Everyone")), *[(str(pk), name) for pk, name in people]]

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            raise forms.ValidationError(_("The range ends before it starts: pick a “To” date on or after the "
                                          "“From” date."))
        for day in (since, until):
            if day and not date(1970, 1, 2) <= day <= date(9999, 12, 30):
                raise forms.ValidationError(_("Pick a date between 1970 and 9999."))
        return data


@dataclass
class AuditPage:
    form: AuditFilterForm
    entries: list[AuditEntry]  # each with `who`, `action_label`, `target_type_label` and `summary`
    older: int | None  # the id to pass as ?before= for the next (older) page; None on the last page
    is_first: bool
    error: str  # why the filters (or the page link) were not used; empty when they were
    query: str  # the filters as a query string, for the CSV link and the pages' links


def audit_people(*, team) -> list[tuple[int, str]]:
    """Everyone who changed something in the team's log (members who left, too), by name: two indexed
    queries whatever the log's length (the newest name each person was logged under)."""
    newest = (AuditEntry.objects.filter(team=team, actor__isnull=False).order_by().values("actor_id")
              .annotate(last=Max("id")).values_list("last", flat=True))
    people = AuditEntry.objects.filter(pk__in=list(newest)).order_by().values_list("actor_id", "actor_name")
    return sorted(people, key=lambda p: (p[1].lower(), p[0]))


def audit_filters(params, *, team, people=None) -> tuple[AuditFilterForm, dict, str]:
    """The filter form, the filters to apply and, when the filters typed cannot be used, why
    (the log is then shown unfiltered, saying so)."""
    form = AuditFilterForm(params, people=audit_people(team=team) if people is None else people)
    if not form.is_valid():
        return form, {}, error_text(form)
    return form, {k: v for k, v in form.cleaned_data.items() if v not in ("", None)}, ""


def audit_entries(*, team, filters: dict) -> QuerySet[AuditEntry]:
    """The team's entries matching `filters` (action or area, person, since, until), newest first."""
    entries = AuditEntry.objects.filter(team=team)
    action = filters.get("action")
    if action in AUDIT_AREAS:
        entries = entries.filter(action__in=[a.value for a in AUDIT_AREAS[action][1]])
    elif action:
        entries = entries.filter(action=action)
    if filters.get("person"):
        entries = entries.filter(actor_id=int(filters["person"]))
    zone = timezone.get_current_timezone()
    if filters.get("since"):
        entries = entries.filter(at__gte=timezone.make_aware(datetime.combine(filters["since"], time.min), zone))
    if filters.get("until"):
        end = filters["until"] + timedelta(days=1)
        entries = entries.filter(at__lt=timezone.make_aware(datetime.combine(end, time.min), zone))
    return entries.order_by("-id")


def audit_page_for(*, team, params) -> AuditPage:
    form, filters, error = audit_filters(params, team=team)
    before = params.get("before")
    cursor = parse_id(before) if before else None
    if before and cursor is None:
        error = " ".join(filter(None, [error, _("That page of the log does not exist: showing the newest "
                                                 "entries.")]))
    entries = audit_entries(team=team, filters=filters)
    if cursor:
        entries = entries.filter(id__lt=cursor)
    rows = list(entries[:PAGE_SIZE + 1])
    older = rows[PAGE_SIZE - 1].pk if len(rows) > PAGE_SIZE else None
    rows = [describe(e) for e in rows[:PAGE_SIZE]]
    query = urlencode({k: v.isoformat() if isinstance(v, date) else v for k, v in filters.items()})
    return AuditPage(form=form, entries=rows, older=older, is_first=cursor is None, error=error, query=query)


def audit_csv_rows(*, team, filters: dict):
    """The header, then every entry matching the filters, newest first (a generator: a long log streams)."""
    yield CSV_HEADER
    for entry in audit_entries(team=team, filters=filters).iterator(chunk_size=500):
        entry = describe(entry)
        yield [csv_safe(v) for v in (
            timezone.localtime(entry.at).isoformat(timespec="seconds"), entry.who, entry.action_label,
            entry.action, entry.target_type_label, entry.target_label, entry.target_id or "", entry.summary)]


def csv_safe(value) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


# --- Words for an entry ---------------------------------------------------------------------------


def describe(entry: AuditEntry) -> AuditEntry:
    """The entry with the words the page and the CSV show: who, what, on what, and what changed."""
    if entry.actor_id:
        entry.who = entry.actor_name or _("a deleted account")
    elif entry.actor_name:  # a guest of a review link, under the name they gave
        entry.who = _("%(name)s (guest)") % {"name": entry.actor_name}
    else:
        entry.who = _("the studio")
    entry.action_label = entry.get_action_display()
    entry.target_type_label = str(TARGET_TYPES.get(entry.target_type, entry.target_type))
    entry.summary = summary(entry.details or {})
    return entry


def summary(details: dict) -> str:
    """What changed, in words: "Render budget: $100.00 → $250.00; Made in: the admin"."""
    clauses = []
    for name, change in (details.get("changes") or {}).items():
        if isinstance(change, list) and len(change) == 2:
            clauses.append(_("%(field)s: %(before)s → %(after)s") % {
                "field": _label(name), "before": _value(name, change[0]), "after": _value(name, change[1])})
        else:
            clauses.append(_("%(field)s: %(value)s") % {"field": _label(name), "value": _value(name, change)})
    for name, value in details.items():
        if name != "changes":
            clauses.append(_("%(field)s: %(value)s") % {"field": _label(name), "value": _value(name, value)})
    return "; ".join(clauses)


def _label(name: str) -> str:
    return str(FIELD_LABELS.get(name, name.replace("_", " ").capitalize()))


def _value(name: str, value) -> str:
    if name == "allowed_models" and not value:
        return _("any model")
    if name == "max_price_per_second" and value is None:
        return _("no ceiling")
    if name in MONEY_FIELDS:
        if value is None:
            return _("no limit")
        try:
            return f"${Decimal(str(value)):,.2f}"
        except InvalidOperation:
            return str(value)
    if name in PRICE_FIELDS and value is not None:
        if isinstance(value, dict):
            return ", ".join(_("%(size)s: %(price)s") % {"size": _("any size") if size == "*" else size,
                                                          "price": _dollars(price)} for size, price in value.items())
        return _dollars(value)
    if name in TIME_FIELDS and isinstance(value, str):
        return _when(value)
    if name == "field_kind" and value in FieldKind.values:
        return str(FieldKind(value).label)
    if name == "via" and value == "admin":
        return _("the admin (/admin/)")
    if isinstance(value, str) and value in SECRET_WORDS:
        return str(SECRET_WORDS[value])
    if value is None or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(_value("", v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_value('', v)}" for k, v in value.items())
    return str(value)


def _dollars(price) -> str:
    """$0.40, or every decimal of a finer price ($0.0125), as the catalog writes prices."""
    try:
        price = Decimal(str(price))
    except InvalidOperation:
        return str(price)
    return money.usd(price, 2 if price == price.quantize(Decimal("0.01")) else None)


def _when(value: str) -> str:
    """A date or a moment kept as ISO text, in the page's time zone."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if len(value) <= 10:
        return f"{moment:%Y-%m-%d}"
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}" if timezone.is_aware(moment) else f"{moment:%Y-%m-%d %H:%M}"
