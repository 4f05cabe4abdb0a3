"""Replicate's google/veo-3.1 follows Google's rule for the cast's likeness images.

The model keeps a likeness from reference images only in 8-second 16:9 takes (the Gemini API's
Veo rows say so since they shipped). The Replicate row lacked the rule, so such takes were booked
at any length and aspect and sent their references anyway. The shipped row and teams' own copies
of it get the same `reference_images_need` as the Gemini API's rows.

0033_catalog_continuity_capabilities gives these rows the same rule as it declares their likeness
references (the `reference_images` column); this step fills any row that still lacks it.
"""

from django.db import migrations

MODEL_ID = "google/veo-3.1"
NEED = {"seconds": [8], "sizes": ["1280x720", "1920x1080"]}


def forwards(apps, schema_editor):
    CatalogModel = apps.get_model("generation", "CatalogModel")
    for row in CatalogModel.objects.filter(kind="replicate", model_id=MODEL_ID):
        schema = dict(row.input_schema or {})
        declares = row.reference_images or schema.get("reference_images")
        if declares and "reference_images_need" not in schema:
            schema["reference_images_need"] = NEED
            row.input_schema = schema
            row.save(update_fields=["input_schema"])


class Migration(migrations.Migration):
    dependencies = [("generation", "0033_catalog_continuity_capabilities")]

    # Not reversed: 0033 gives these rows the same rule, and taking it away would book takes the
    # model refuses.
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
