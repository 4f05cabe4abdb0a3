"""Ship fal's video endpoints (queue API).

Veo 3.1 on fal is $0.20/s silent and $0.40/s with audio [docs]; the studio books it with
audio, so the catalog carries $0.40. Fast is listed at the same rate until checked (fal's
page may show less: an over-estimate keeps budgets safe). Seedance 2.0 and Kling 3 ids,
durations and prices are from third-party listings: estimates, editable in the admin.
"""

from django.db import migrations

HD = ["1280x720", "720x1280", "1920x1080", "1080x1920"]
VEO_SCHEMA = {"prompt": "string", "duration": ["4s", "6s", "8s"], "aspect_ratio": ["16:9", "9:16"],
              "resolution": ["720p", "1080p"], "generate_audio": "boolean", "image_url": "uri (image-to-video)"}
VEO_PRICE = "With audio: $0.40/s ($0.20/s silent), as listed 2026-11; check fal.ai/models."

CATALOG = [
    {"model_id": "fal-ai/veo3.1", "display_name": "Veo 3.1 (fal)", "sizes": HD, "durations": [4, 6, 8],
     "input_kinds": ["text", "image"], "has_audio": True, "price_per_second": {"*": 0.40},
     "input_schema": VEO_SCHEMA, "notes": VEO_PRICE},
    {"model_id": "fal-ai/veo3.1/fast", "display_name": "Veo 3.1 Fast (fal)", "sizes": HD, "durations": [4, 6, 8],
     "input_kinds": ["text", "image"], "has_audio": True, "price_per_second": {"*": 0.40},
     "input_schema": VEO_SCHEMA, "notes": "Estimated at Veo 3.1's rate; Fast may cost less. " + VEO_PRICE},
    {"model_id": "bytedance/seedance-2.0/text-to-video", "display_name": "Seedance 2.0 (fal)", "sizes": HD,
     "durations": list(range(4, 16)), "input_kinds": ["text"], "has_audio": False,
     "price_per_second": {"*": 0.30},
     "input_schema": {"prompt": "string", "duration": "string seconds 4-15", "resolution": ["480p", "720p", "1080p"],
                      "aspect_ratio": ["16:9", "9:16", "1:1", "4:3", "3:4", "21:9"]},
     "notes": "Endpoint id, durations and price are estimates [3p]; check fal.ai/models."},
    {"model_id": "fal-ai/kling-video/v3/pro/text-to-video", "display_name": "Kling 3 Pro (fal)",
     "sizes": ["1920x1080", "1080x1920"], "durations": list(range(3, 16)), "input_kinds": ["text"],
     "has_audio": False, "price_per_second": {"*": 0.14},
     "input_schema": {"prompt": "string", "duration": "string seconds 3-15", "aspect_ratio": ["16:9", "9:16", "1:1"]},
     "notes": "Endpoint id, durations and price are estimates [3p]; check fal.ai/models."},
]


def forwards(apps, schema_editor):
    CatalogModel = apps.get_model("generation", "CatalogModel")
    for row in CATALOG:
        CatalogModel.objects.update_or_create(
            kind="fal", model_id=row["model_id"], connection=None,
            defaults={**row, "kind": "fal", "lifecycle": "available", "lifecycle_date": None})


def backwards(apps, schema_editor):
    apps.get_model("generation", "CatalogModel").objects.filter(
        kind="fal", connection=None, model_id__in=[row["model_id"] for row in CATALOG]).delete()


class Migration(migrations.Migration):
    dependencies = [("generation", "0021_ship_runway_catalog")]

    operations = [migrations.RunPython(forwards, backwards)]
