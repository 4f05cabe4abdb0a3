"""Ship Runway's video models (API version 2024-11-06).

Sizes are Runway's `ratio` values written as WxH; prices are Runway's credit rates at
$0.01 a credit, read 2026-11 (gen4.5 12/s, gen4_turbo 5/s, veo3.1 40/s with audio);
seedance2's rate is an estimate. Owners can correct any row in the admin.
"""

from django.db import migrations

LANDSCAPE_PORTRAIT = ["1280x720", "720x1280"]
ESTIMATED = "Price estimated from Runway's credit rates (1 credit = $0.01), read 2026-11; check docs.dev.runwayml.com."

CATALOG = [
    dict(model_id="gen4.5", display_name="Gen-4.5 (Runway)", sizes=LANDSCAPE_PORTRAIT,
         durations=list(range(2, 11)), input_kinds=["text", "image"], has_audio=False,
         price_per_second={"*": 0.12}, notes=ESTIMATED),
    dict(model_id="gen4_turbo", display_name="Gen-4 Turbo (Runway, start frame only)",
         sizes=["1280x720", "720x1280", "1104x832", "832x1104", "960x960", "1584x672"],
         durations=list(range(2, 11)), input_kinds=["image"], has_audio=False,
         price_per_second={"*": 0.05}, notes="Animates a start frame: image to video only. " + ESTIMATED),
    dict(model_id="veo3.1", display_name="Veo 3.1 (Runway)", sizes=LANDSCAPE_PORTRAIT + ["1920x1080", "1080x1920"],
         durations=[4, 6, 8], input_kinds=["text", "image"], has_audio=True,
         price_per_second={"*": 0.40}, notes="With audio. " + ESTIMATED),
    dict(model_id="seedance2", display_name="Seedance 2 (Runway)", sizes=LANDSCAPE_PORTRAIT,
         durations=list(range(4, 16)), input_kinds=["text", "image"], has_audio=False,
         price_per_second={"*": 0.20},
         notes="Durations and price are estimates [3p]; check docs.dev.runwayml.com."),
]


def forwards(apps, schema_editor):
    CatalogModel = apps.get_model("generation", "CatalogModel")
    for row in CATALOG:
        CatalogModel.objects.update_or_create(
            kind="runway", model_id=row["model_id"], connection=None,
            defaults={**row, "kind": "runway", "lifecycle": "available", "lifecycle_date": None})


def backwards(apps, schema_editor):
    apps.get_model("generation", "CatalogModel").objects.filter(
        kind="runway", connection=None, model_id__in=[row["model_id"] for row in CATALOG]).delete()


class Migration(migrations.Migration):
    dependencies = [("generation", "0020_ship_veo_catalog")]

    operations = [migrations.RunPython(forwards, backwards)]
