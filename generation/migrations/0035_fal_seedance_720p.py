"""fal's Seedance 2.0 renders 480p or 720p only: it no longer offers 1080p sizes.

The shipped row listed 1920x1080 and 1080x1920, which fal refuses. The shipped row and teams' own
copies of it lose those sizes (and any price given for them); a copy left with no size gets the
720p ones. Scenes booked on it at 1080p are refused at booking, with the models that fit.
"""

from django.db import migrations

MODEL_ID = "bytedance/seedance-2.0/text-to-video"
REFUSED = {"1920x1080", "1080x1920"}
HD_720 = ["1280x720", "720x1280"]
RESOLUTIONS = ["480p", "720p"]


def forwards(apps, schema_editor):
    CatalogModel = apps.get_model("generation", "CatalogModel")
    for row in CatalogModel.objects.filter(kind="fal", model_id=MODEL_ID):
        row.sizes = [s for s in row.sizes if s not in REFUSED] or list(HD_720)
        row.price_per_second = {s: p for s, p in (row.price_per_second or {}).items() if s not in REFUSED}
        if not row.price_per_second:
            row.price_per_second = {"*": 0.30}
        schema = dict(row.input_schema or {})
        if "resolution" in schema:
            schema["resolution"] = RESOLUTIONS
        row.input_schema = schema
        row.save(update_fields=["sizes", "price_per_second", "input_schema"])


class Migration(migrations.Migration):
    dependencies = [("generation", "0034_replicate_veo_reference_rule")]

    # Not reversed: putting back sizes fal refuses would only make takes fail.
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
