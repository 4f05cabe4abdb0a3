"""The Django admin's changes, in the teams' audit logs.

Staff (an instance's operator is often an owner too) can change in the admin what owners change in
the pages: connections and keys, catalog rows and prices, budgets and caps, model policies, roles,
invitations. `AuditedAdmin` writes each save and delete to the log of the team it concerns, as the
services do for the pages. The log itself is read-only in the admin (`AuditEntryAdmin`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from django.contrib import admin
from django.db import models, transaction

from projects.audit import audit_entry
from projects.models import AuditEntry

M = TypeVar("M", bound=models.Model)


@dataclass(frozen=True)
class AdminAudit(Generic[M]):
    """How the admin's saves and deletes of one model (M) are written to the log."""

    teams_of: Callable[[M], Iterable[int]]  # whose logs (a shipped catalog row: every team using it)
    label_of: Callable[[M], str]
    fields: dict[str, str]  # a field whose change is recorded → the action that records it
    added: str | None = None
    removed: str | None = None
    secrets: tuple[str, ...] = ()  # form fields holding a secret: only that it was set or replaced
    secrets_action: str = ""  # the action recording a replaced secret
    # What else the log says of a row added or removed (its settings, not its secrets).
    facts: Callable[[M], dict] = field(default=lambda obj: {})
    # A field logged under the name the pages' services use (a membership's monthly_budget is its cap).
    names: dict[str, str] = field(default_factory=dict)

    def saved(self, *, user, obj, form, added: bool) -> list[AuditEntry]:
        teams = list(self.teams_of(obj))
        if added:
            if self.added is None:
                return []
            details = {**self.facts(obj), **{name: "set" for name in self.secrets if form.cleaned_data.get(name)}}
            return self._write(teams, user, self.added, obj, details)
        by_action: dict[str, dict] = {}
        for name in form.changed_data:
            if name in self.fields:
                model_field = obj._meta.get_field(name)
                before, after = form.initial.get(name), getattr(obj, model_field.attname)
                if before != after:
                    by_action.setdefault(self.fields[name], {})[self.names.get(name, name)] = [before, after]
            elif name in self.secrets and form.cleaned_data.get(name):
                by_action.setdefault(self.secrets_action, {})[name] = "replaced"
        entries = []
        for action, changed in by_action.items():
            entries += self._write(teams, user, action, obj, {"changes": changed})
        return entries

    def deleted(self, *, user, obj) -> list[AuditEntry]:
        if self.removed is None:
            return []
        return self._write(list(self.teams_of(obj)), user, self.removed, obj, self.facts(obj))

    def _write(self, teams, user, action, obj, details) -> list[AuditEntry]:
        details = {**details, "via": "admin"}
        entries = [audit_entry(team=team, actor=user, action=action, target=obj, target_label=self.label_of(obj),
                               details=details) for team in teams]
        return AuditEntry.objects.bulk_create(entries)


class AuditedAdmin(admin.ModelAdmin):
    """A ModelAdmin whose saves and deletes (its inlines' too) write the teams' audit logs."""

    audit: AdminAudit[Any] | None = None
    inline_audits: dict[type, AdminAudit[Any]] = {}

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            if self.audit is not None:
                self.audit.saved(user=request.user, obj=obj, form=form, added=not change)

    def delete_model(self, request, obj):
        with transaction.atomic():
            if self.audit is not None:
                self.audit.deleted(user=request.user, obj=obj)
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            if self.audit is not None:
                for obj in queryset:
                    self.audit.deleted(user=request.user, obj=obj)
            super().delete_queryset(request, queryset)

    def save_formset(self, request, form, formset, change):
        audit = self.inline_audits.get(formset.model)
        if audit is None:
            return super().save_formset(request, form, formset, change)
        with transaction.atomic():
            # Who is removed is read before the rows go; who is added or changed, after they are saved.
            for removed in [f.instance for f in formset.deleted_forms if f.instance.pk]:
                audit.deleted(user=request.user, obj=removed)
            super().save_formset(request, form, formset, change)
            deleted = set(formset.deleted_forms)
            for inline_form in formset.forms:
                if inline_form in deleted or not inline_form.has_changed() or inline_form.instance.pk is None:
                    continue
                added = inline_form.instance in formset.new_objects
                audit.saved(user=request.user, obj=inline_form.instance, form=inline_form, added=added)
