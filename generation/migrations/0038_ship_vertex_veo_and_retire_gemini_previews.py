"""Ship Veo 3.1 on Vertex AI (kind "vertex") and retire the Gemini API's Veo preview ids.

Vertex AI's GA ids are veo-3.1-generate-001 and veo-3.1-fast-generate-001 [Google's Vertex docs; the
google-genai SDK's Vertex path]. Like the Gemini API's 3.1 models they render 4, 6 or 8 s at 720p and
1080p (1080p at 8 s), take a start frame (`image`), an end frame (`lastFrame`), up to three ASSET
reference images (8-second 16:9 takes, never beside a frame) and sound (`generateAudio`), and Vertex
documents extending a Veo video (declared here: 7 s, the whole clip back; booking an extension is
another piece of work). Prices are estimates with sound (US$ per second: $0.40, Fast $0.15): check
Google Cloud's pricing page and edit the rows.

The Gemini API's preview ids (veo-3.1-*-generate-preview) shipped "deprecated, reportedly retired
2026-10-22"; google-genai 3.0 refuses their method outside Vertex, and the Gemini API answers them no
more. They become retired on that date: the render form stops offering them, and whatever asks for one
is refused with the team's live models that fit (the Vertex ids among them when the team has a Vertex
connection). Takes already made keep their model id.
"""

import datetime

from django.db import migrations

RETIRED_ON = datetime.date(2026, 10, 22)
PREVIEWS = ["veo-3.1-generate-preview", "veo-3.1-fast-generate-preview", "veo-3.1-lite-generate-preview"]
SIZES = ["1280x720", "720x1280", "1920x1080", "1080x1920"]
SCHEMA = {
    "durationSeconds": [4, 6, 8], "aspectRatio": ["16:9", "9:16"], "resolution": ["720p", "1080p"],
    "image": "inline base64 start frame", "lastFrame": "inline base64 end frame",
    "generateAudio": True, "sampleCount": 1,
    "durations_by_size": {"1920x1080": [8], "1080x1920": [8]},
    "reference_images": "up to 3 inline ASSET images (the cast's likeness)",
    "reference_images_need": {"seconds": [8], "sizes": ["1280x720", "1920x1080"]},
}
NOTES = "Vertex AI GA id. Price is an estimate with sound ({price}); 1080p only at 8 s."


def vertex(model_id, name, *, price, typical_seconds):
    return dict(
        kind="vertex", model_id=model_id, display_name=name, sizes=SIZES, durations=[4, 6, 8],
        input_kinds=["text", "image"], supports_remix=False, has_audio=True, price_per_second={"*": price},
        lifecycle="available", lifecycle_date=None, input_schema=SCHEMA, typical_seconds=typical_seconds,
        notes=NOTES.format(price=f"${price:.2f}/s"), end_frame=True, reference_images=3, extend_seconds=[7],
        extend_returns="whole",
    )


CATALOG = [
    vertex("veo-3.1-generate-001", "Veo 3.1 (Vertex AI)", price=0.40, typical_seconds=90),
    vertex("veo-3.1-fast-generate-001", "Veo 3.1 Fast (Vertex AI)", price=0.15, typical_seconds=45),
]


def forwards(apps, schema_editor):
    CatalogModel = apps.get_model("generation", "CatalogModel")
    for row in CATALOG:
        CatalogModel.objects.update_or_create(kind=row["kind"], model_id=row["model_id"], connection=None,
                                              defaults=row)
    CatalogModel.objects.filter(kind="veo", connection=None, model_id__in=PREVIEWS).update(
        lifecycle="retired", lifecycle_date=RETIRED_ON,
        notes="Retired by Google (reported 2026-10-22): Veo renders through Vertex AI now.")


def backwards(apps, schema_editor):
    CatalogModel = apps.get_model("generation", "CatalogModel")
    CatalogModel.objects.filter(kind="veo", connection=None, model_id__in=PREVIEWS).update(
        lifecycle="deprecated", lifecycle_date=RETIRED_ON)
    # Takes keep their model id as text, so the rows can go without touching history.
    CatalogModel.objects.filter(kind="vertex", connection=None,
                                model_id__in=[row["model_id"] for row in CATALOG]).delete()


class Migration(migrations.Migration):
    dependencies = [("generation", "0037_vertex_connections")]

    operations = [migrations.RunPython(forwards, backwards)]
