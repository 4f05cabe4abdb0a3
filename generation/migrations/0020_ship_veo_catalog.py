"""Ship the Google Veo 3.1 models of the Gemini API (kind "veo").

The three ids are the Gemini API's preview ids. They were reportedly retired on
2026-10-22 [third-party reports, unconfirmed by Google's docs as read 2026-11-26], so
they ship "deprecated" with that date: still bookable, and a 404 from Google fails
the take as "retired or unknown". Google's docs name no Gemini API GA ids for Veo 3.1
(veo-3.1-generate-001 is a Vertex AI id, another API): when Google publishes them, an
owner adds them in the admin by copying one of these rows.

Prices are estimates (US$ per second, audio on, as listed 2026-11); check Google's
pricing page. 1080p renders only at 8 s (durations_by_size); the cast's likeness
images (ASSET references, at most three) go only with 8-second 16:9 takes, and Lite
takes none.
"""

import datetime

from django.db import migrations

REPORTED_RETIRED = datetime.date(2026, 10, 22)
SIZES = ["1280x720", "720x1280", "1920x1080", "1080x1920"]
SCHEMA = {
    "durationSeconds": [4, 6, 8], "aspectRatio": ["16:9", "9:16"], "resolution": ["720p", "1080p"],
    "image": "inline base64 start frame",
    # 1080p only at 8 s, whatever the model.
    "durations_by_size": {"1920x1080": [8], "1080x1920": [8]},
}
WITH_REFERENCES = {
    **SCHEMA,
    "reference_images": "up to 3 inline ASSET images (the cast's likeness)",
    "reference_images_need": {"seconds": [8], "sizes": ["1280x720", "1920x1080"]},
}
NOTES = ("Preview id, reportedly retired by Google on 2026-10-22: a 404 fails the take as retired or "
         "unknown. Price is an estimate ({price}); 1080p only at 8 s.")


def veo(model_id, name, *, price, price_words, schema):
    return dict(
        kind="veo", model_id=model_id, display_name=name, sizes=SIZES, durations=[4, 6, 8],
        input_kinds=["text", "image"], supports_remix=False, has_audio=True, price_per_second=price,
        lifecycle="deprecated", lifecycle_date=REPORTED_RETIRED, input_schema=schema,
        notes=NOTES.format(price=price_words),
    )


CATALOG = [
    veo("veo-3.1-generate-preview", "Veo 3.1 (Gemini API)", price={"*": 0.40},
        price_words="$0.40/s", schema=WITH_REFERENCES),
    veo("veo-3.1-fast-generate-preview", "Veo 3.1 Fast (Gemini API)", price={"*": 0.15},
        price_words="$0.15/s", schema=WITH_REFERENCES),
    veo("veo-3.1-lite-generate-preview", "Veo 3.1 Lite (Gemini API)",
        price={"1280x720": 0.05, "720x1280": 0.05, "1920x1080": 0.08, "1080x1920": 0.08, "*": 0.08},
        price_words="$0.05/s at 720p, $0.08/s at 1080p", schema=SCHEMA),
]


def forwards(apps, schema_editor):
    CatalogModel = apps.get_model("generation", "CatalogModel")
    for row in CATALOG:
        CatalogModel.objects.update_or_create(
            kind=row["kind"], model_id=row["model_id"], connection=None, defaults=row
        )


def backwards(apps, schema_editor):
    # Takes keep their model id as text, so the rows can go without touching history.
    apps.get_model("generation", "CatalogModel").objects.filter(
        kind="veo", connection=None, model_id__in=[row["model_id"] for row in CATALOG]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("generation", "0019_provider_kinds_veo_fal_runway_comfyui")]

    operations = [migrations.RunPython(forwards, backwards)]
