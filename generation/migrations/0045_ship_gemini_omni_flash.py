"""Ship Gemini Omni Flash on the Gemini API connection (kind "veo"), rendered through the Interactions API
(generation/providers/gemini_omni.py).

Ids and limits from Google's own pages: the Gemini API's Omni page (`gemini-omni-1.1-flash`, "fully replaces
the previous Gemini Omni Flash version") and Google Cloud's model cards (`gemini-omni-1.2-flash`; the first
`gemini-omni-flash-preview` deprecated on 2026-11-06, "migrate to Gemini Omni 1.2 Flash", so not shipped);
16:9 and 9:16, at most 10 seconds of video on every Omni card, sound always generated. Shipped at 720p (the
documented default; the SDK's VideoResponseFormat also names 360p, 1080p and 4k, whose prices nobody
published where the studio could read them) and 4, 6, 8 or 10 s. A start frame animates from an inline image
(task image_to_video); no end frame, no likeness references, no extension through the studio yet.

Price: Google bills Omni's video by output tokens and the studio found no per-second price on Google's own
pricing page, so the rows carry a deliberately high estimate ($0.15/s, above the ~$0.10/s that third parties
derive from Google's token rate) that an owner corrects from ai.google.dev/gemini-api/docs/pricing. An
estimate above the bill keeps every budget; one below could exceed it.
"""

from django.db import migrations

SIZES = ["1280x720", "720x1280"]
SCHEMA = {
    "api": "interactions", "background": True, "input": "text, or text and one inline start image",
    "generation_config.video_config.task": ["text_to_video", "image_to_video"],
    "response_format": {"type": "video", "aspect_ratio": ["16:9", "9:16"], "resolution": ["720p"],
                        "duration": "<seconds>s"},
}
NOTES = ("Gemini API, Interactions API. Price is a high estimate: Google bills Omni's video by output tokens; "
         "check ai.google.dev/gemini-api/docs/pricing and edit it.")


def omni(model_id, name):
    return dict(
        kind="veo", model_id=model_id, display_name=name, sizes=SIZES, durations=[4, 6, 8, 10],
        input_kinds=["text", "image"], supports_remix=False, has_audio=True, price_per_second={"*": 0.15},
        lifecycle="available", lifecycle_date=None, input_schema=SCHEMA, typical_seconds=60, notes=NOTES,
        end_frame=False, reference_images=0, extend_seconds=[], extend_returns="",
    )


CATALOG = [
    omni("gemini-omni-1.2-flash", "Gemini Omni 1.2 Flash (Gemini API)"),
    omni("gemini-omni-1.1-flash", "Gemini Omni 1.1 Flash (Gemini API)"),
]


def forwards(apps, schema_editor):
    CatalogModel = apps.get_model("generation", "CatalogModel")
    for row in CATALOG:
        CatalogModel.objects.update_or_create(kind=row["kind"], model_id=row["model_id"], connection=None,
                                              defaults=row)


def backwards(apps, schema_editor):
    CatalogModel = apps.get_model("generation", "CatalogModel")
    # Takes keep their model id as text, so the rows can go without touching history.
    CatalogModel.objects.filter(kind="veo", connection=None,
                                model_id__in=[row["model_id"] for row in CATALOG]).delete()


class Migration(migrations.Migration):
    dependencies = [("generation", "0044_ship_multishot_catalog")]

    operations = [migrations.RunPython(forwards, backwards)]
