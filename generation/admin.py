from django import forms
from django.contrib import admin

from generation.catalog import declaration_problems
from generation.models import CatalogModel, PrevizJob, ProviderConnection, Render
from generation.providers import facts_for
from generation.providers.openai_videos import declared_fields_problems
from projects.audit import url_for_log
from projects.audit.admin import AdminAudit, AuditedAdmin
from projects.models import AuditAction


@admin.register(Render)
class RenderAdmin(admin.ModelAdmin):
    list_display = ["pk", "scene", "provider", "model", "status", "progress", "c2pa_state", "created_at"]
    list_filter = ["status", "provider", "c2pa_state"]
    readonly_fields = ["idempotency_key", "recipe", "c2pa_manifest"]


@admin.register(PrevizJob)
class PrevizJobAdmin(admin.ModelAdmin):
    list_display = ["id", "status", "progress", "created_at", "finished_at"]


class ConnectionAdminForm(forms.ModelForm):
    """Keys are write-only: the form never shows one, and an empty field keeps the stored key."""

    api_key = forms.CharField(required=False, strip=True, widget=forms.PasswordInput(render_value=False),
                              help_text="Stored encrypted and never shown again. Leave empty to keep the current key.")
    webhook_secret = forms.CharField(required=False, strip=True, widget=forms.PasswordInput(render_value=False),
                                     help_text="The provider's webhook signing secret. Leave empty to keep it.")

    class Meta:
        model = ProviderConnection
        fields = ["team", "kind", "label", "base_url", "auth_style"]

    def save(self, commit=True):
        connection = super().save(commit=False)
        if self.cleaned_data.get("api_key"):
            connection.set_api_key(self.cleaned_data["api_key"])
        if self.cleaned_data.get("webhook_secret"):
            connection.set_webhook_secret(self.cleaned_data["webhook_secret"])
        if commit:
            connection.save()
        return connection


class CatalogAdminForm(forms.ModelForm):
    """Declared fields are checked like the registration form checks them: the adapter sends them as they are."""

    class Meta:
        model = CatalogModel
        fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Left empty, a continuity field declares nothing: no extension, no likeness references.
        for name in ("extend_seconds", "reference_images"):
            if name in self.fields:
                self.fields[name].required = False

    def clean_extend_seconds(self):
        return self.cleaned_data.get("extend_seconds") or []

    def clean_reference_images(self):
        return self.cleaned_data.get("reference_images") or 0

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind") or getattr(cleaned.get("connection"), "kind", None) or self.instance.kind
        facts = facts_for(kind) if kind else None
        if facts is not None and facts.declares_fields and "input_schema" in cleaned:
            for problem in declared_fields_problems(cleaned["input_schema"]):
                self.add_error("input_schema", problem)
        # What it declares for continuity must hold together and be something its provider's wire carries.
        if not self.errors:
            probe = CatalogModel(**{name: cleaned.get(name, getattr(self.instance, name))
                                    for name in (*CONTINUITY_FIELDS, "input_kinds")}, kind=kind)
            for problem in declaration_problems(probe):
                self.add_error(None, problem)
        return cleaned


CONTINUITY_FIELDS = ("end_frame", "extend_seconds", "extend_returns", "reference_images", "shot_timing", "shots_max",
                     "shots_seconds_min", "shots_seconds_max", "shot_min_seconds")


def _catalog_teams(entry: CatalogModel):
    """A team's own row is in its log; a shipped row (no connection) changes what every team with a
    connection of its kind is offered and charged, so it is in each of their logs."""
    if entry.connection is not None:
        return [entry.connection.team_id]
    return (ProviderConnection.objects.filter(kind=entry.kind).order_by("team_id")
            .values_list("team_id", flat=True).distinct())


CATALOG_AUDIT = AdminAudit[CatalogModel](
    teams_of=_catalog_teams,
    label_of=lambda m: f"{m.display_name} ({m.model_id})" + (f" · {m.connection.label}" if m.connection is not None else ""),
    fields={name: AuditAction.CATALOG_EDITED for name in (
        "model_id", "display_name", "sizes", "durations", "input_kinds", "input_schema", "supports_remix", "has_audio",
        "typical_seconds", "price_per_second", "lifecycle", "lifecycle_date", "snapshot_of", "kind", "connection",
        *CONTINUITY_FIELDS)},
    added=AuditAction.MODEL_REGISTERED, removed=AuditAction.CATALOG_REMOVED,
    facts=lambda m: {"price_per_second": m.price_per_second, "sizes": m.sizes, "durations": m.durations,
                     **({"shipped": True} if m.connection_id is None else {})})

CONNECTION_AUDIT = AdminAudit[ProviderConnection](
    teams_of=lambda c: [c.team_id], label_of=lambda c: c.label,
    fields={name: AuditAction.CONNECTION_CHANGED for name in ("team", "kind", "label", "base_url", "auth_style")},
    added=AuditAction.CONNECTION_ADDED, removed=AuditAction.CONNECTION_REMOVED,
    secrets=("api_key", "webhook_secret"), secrets_action=AuditAction.CONNECTION_CHANGED,
    facts=lambda c: {"kind": c.kind, "label": c.label, "base_url": url_for_log(c.base_url), "auth_style": c.auth_style})


class CatalogInline(admin.TabularInline):
    model = CatalogModel
    form = CatalogAdminForm
    extra = 0
    fields = ["model_id", "display_name", "sizes", "durations", "input_kinds", "input_schema", "supports_remix",
              "has_audio", "typical_seconds", "price_per_second", "lifecycle", "lifecycle_date", "end_frame",
              "extend_seconds", "extend_returns", "reference_images"]


@admin.register(ProviderConnection)
class ProviderConnectionAdmin(AuditedAdmin):
    form = ConnectionAdminForm
    list_display = ["label", "team", "kind", "base_url", "has_api_key", "last_test_ok", "last_tested_at"]
    list_filter = ["kind"]
    search_fields = ["label", "team__name"]
    readonly_fields = ["webhook_token", "last_tested_at", "last_test_ok", "last_test_message"]
    inlines = [CatalogInline]
    audit = CONNECTION_AUDIT
    inline_audits = {CatalogModel: CATALOG_AUDIT}

    @admin.display(boolean=True, description="API key stored")
    def has_api_key(self, connection):
        return connection.has_api_key


@admin.register(CatalogModel)
class CatalogModelAdmin(AuditedAdmin):
    """The model catalog: shipped entries (no connection) and each gateway's registered models."""

    form = CatalogAdminForm
    audit = CATALOG_AUDIT

    list_display = ["model_id", "display_name", "kind", "connection", "lifecycle", "lifecycle_date",
                    "supports_remix", "has_audio", "end_frame", "continuity"]
    list_filter = ["kind", "lifecycle", "supports_remix", "has_audio", "end_frame", "shot_timing"]
    search_fields = ["model_id", "display_name"]
    fieldsets = [
        (None, {"fields": ["kind", "connection", "model_id", "display_name", "snapshot_of", "sizes", "durations",
                           "input_kinds", "input_schema", "supports_remix", "has_audio", "price_per_second",
                           "typical_seconds", "lifecycle", "lifecycle_date", "notes"]}),
        ("Continuity (start frame: “image” in input kinds)", {"fields": [
            "end_frame", "extend_seconds", "extend_returns", "reference_images"]}),
        ("Multi-shot limits", {"fields": ["shot_timing", "shots_max", "shots_seconds_min", "shots_seconds_max",
                                          "shot_min_seconds"]}),
    ]

    @admin.display(description="Continuity")
    def continuity(self, model):
        return "; ".join(model.capability_words) or "—"
