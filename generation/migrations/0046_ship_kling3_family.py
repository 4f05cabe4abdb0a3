"""Kling 3.0 on fal as a family: the Pro and Standard tiers, each from text or from a start frame.

Field names from fal's client types (fal-js 381105e, libs/client/src/types/endpoints.ts:
KlingVideoV3{Pro,Standard}{TextToVideo,ImageToVideo}Input): the text-to-video endpoint takes prompt or
multi_prompt, duration "3"–"15", aspect_ratio 16:9 | 9:16 | 1:1, generate_audio, negative_prompt, cfg_scale,
shot_type; its image-to-video sibling takes the start frame as start_image_url (required), the frame to end on as
end_image_url, and elements (reusable characters: the cast's reference images, beside a start frame only), and
no aspect ratio. Prompts of at most 2,500 characters (fal's published OpenAPI
schema, maxLength). A take on the catalog's id goes to the image-to-video sibling when it starts from a frame
(generation/providers/fal.py, KLING3_IMAGE).

Prices from fal's model pages (fal.ai/models/fal-ai/kling-video/v3/…, 2026-12): per second, Pro $0.112 without
audio and $0.168 with it, Standard $0.084 and $0.126 ($0.196 / $0.154 with voice control, which the studio does
not send). The rows book audio on (generate_audio is sent as has_audio says): an owner who turns audio off sets
the lower price. Output sizes are not in the schema: Pro at 1080p, Standard at 720p [3p].
"""

from django.db import migrations

SCHEMA = {"prompt": "string ≤ 2500", "multi_prompt": "[{prompt, duration '1'–'15'}]",
          "duration": "string seconds 3-15", "aspect_ratio": ["16:9", "9:16", "1:1"], "generate_audio": "boolean",
          "image-to-video": "start_image_url (required), end_image_url, elements; no aspect_ratio",
          # Each element an image set: frontal_image_url and 1–3 reference_image_urls ("at least one image is
          # required"): 2 to 4 of a cast member's reference images.
          "elements": {"images_min": 2, "images_max": 4}}
# fal's schema sets no maximum number of elements: the studio sends at most four cast members.
ELEMENTS = dict(reference_images=4)
SHOTS = dict(shot_timing="exact", shots_max=6, shots_seconds_min=3, shots_seconds_max=15, shot_min_seconds=1)
SOURCE = "Fields: fal-js endpoint types (381105e). "

CATALOG = [
    {"model_id": "fal-ai/kling-video/v3/pro/text-to-video", "display_name": "Kling 3.0 Pro (fal)",
     "sizes": ["1920x1080", "1080x1920"], "durations": list(range(3, 16)), "input_kinds": ["text", "image"],
     "has_audio": True, "end_frame": True, "price_per_second": {"*": 0.168}, "input_schema": SCHEMA, **SHOTS, **ELEMENTS,
     "notes": SOURCE + "$0.168/s with audio, $0.112/s without (fal.ai/models, 2026-12)."},
    {"model_id": "fal-ai/kling-video/v3/standard/text-to-video", "display_name": "Kling 3.0 Standard (fal)",
     "sizes": ["1280x720", "720x1280"], "durations": list(range(3, 16)), "input_kinds": ["text", "image"],
     "has_audio": True, "end_frame": True, "price_per_second": {"*": 0.126}, "input_schema": SCHEMA, **SHOTS, **ELEMENTS,
     "notes": SOURCE + "$0.126/s with audio, $0.084/s without (fal.ai/models, 2026-12); 720p [3p]."},
]


def forwards(apps, schema_editor):
    CatalogModel = apps.get_model("generation", "CatalogModel")
    for row in CATALOG:
        CatalogModel.objects.update_or_create(
            kind="fal", model_id=row["model_id"], connection=None,
            defaults={**row, "kind": "fal", "lifecycle": "available", "lifecycle_date": None})


def backwards(apps, schema_editor):
    CatalogModel = apps.get_model("generation", "CatalogModel")
    CatalogModel.objects.filter(kind="fal", connection=None,
                                model_id="fal-ai/kling-video/v3/standard/text-to-video").delete()
    CatalogModel.objects.filter(kind="fal", connection=None, model_id="fal-ai/kling-video/v3/pro/text-to-video").update(
        display_name="Kling 3 Pro (fal)", input_kinds=["text"], has_audio=False, end_frame=False, reference_images=0,
        price_per_second={"*": 0.14})


class Migration(migrations.Migration):
    dependencies = [("generation", "0045_ship_gemini_omni_flash")]

    operations = [migrations.RunPython(forwards, backwards)]
