from django import forms
from django.contrib import admin

from generation.models import CatalogModel, PrevizJob, ProviderConnection, Render
from generation.providers import facts_for
from generation.providers.openai_videos import declared_fields_problems


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

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind") or getattr(cleaned.get("connection"), "kind", None) or self.instance.kind
        facts = facts_for(kind) if kind else None
        if facts is not None and facts.declares_fields and "input_schema" in cleaned:
            for problem in declared_fields_problems(cleaned["input_schema"]):
                self.add_error("input_schema", problem)
        return cleaned


class CatalogInline(admin.TabularInline):
    model = CatalogModel
    form = CatalogAdminForm
    extra = 0
    fields = ["model_id", "display_name", "sizes", "durations", "input_kinds", "input_schema", "supports_remix",
              "has_audio", "typical_seconds", "price_per_second", "lifecycle", "lifecycle_date"]


@admin.register(ProviderConnection)
class ProviderConnectionAdmin(admin.ModelAdmin):
    form = ConnectionAdminForm
    list_display = ["label", "team", "kind", "base_url", "has_api_key", "last_test_ok", "last_tested_at"]
    list_filter = ["kind"]
    search_fields = ["label", "team__name"]
    readonly_fields = ["webhook_token", "last_tested_at", "last_test_ok", "last_test_message"]
    inlines = [CatalogInline]

    @admin.display(boolean=True, description="API key stored")
    def has_api_key(self, connection):
        return connection.has_api_key


@admin.register(CatalogModel)
class CatalogModelAdmin(admin.ModelAdmin):
    """The model catalog: shipped entries (no connection) and each gateway's registered models."""

    form = CatalogAdminForm

    list_display = ["model_id", "display_name", "kind", "connection", "lifecycle", "lifecycle_date",
                    "supports_remix", "has_audio"]
    list_filter = ["kind", "lifecycle", "supports_remix", "has_audio"]
    search_fields = ["model_id", "display_name"]
