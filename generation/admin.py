from django.contrib import admin

from generation.models import PrevizJob, Render


@admin.register(Render)
class RenderAdmin(admin.ModelAdmin):
    list_display = ["pk", "scene", "provider", "model", "status", "progress", "c2pa_state", "created_at"]
    list_filter = ["status", "provider", "c2pa_state"]
    readonly_fields = ["idempotency_key", "recipe", "c2pa_manifest"]


@admin.register(PrevizJob)
class PrevizJobAdmin(admin.ModelAdmin):
    list_display = ["id", "status", "progress", "created_at", "finished_at"]
