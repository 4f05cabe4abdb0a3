"""Native characters become a declared field of a model (input_schema "characters"), which the
OpenAI-format adapter now requires before it sends `characters` on create; and a canceled take
remembers that the provider's copy of its job is still to be deleted."""

from django.db import migrations, models


def declare_characters(apps, schema_editor):
    CatalogModel = apps.get_model("generation", "CatalogModel")
    for model in CatalogModel.objects.filter(kind="openai-videos"):
        if "character" in (model.input_kinds or []):
            model.input_kinds = [k for k in model.input_kinds if k != "character"]
            model.input_schema = {**(model.input_schema or {}), "characters": "id[]"}
            model.save(update_fields=["input_kinds", "input_schema"])


def undeclare_characters(apps, schema_editor):
    CatalogModel = apps.get_model("generation", "CatalogModel")
    for model in CatalogModel.objects.filter(kind="openai-videos"):
        if "characters" in (model.input_schema or {}):
            model.input_kinds = [*model.input_kinds, "character"]
            model.input_schema = {k: v for k, v in model.input_schema.items() if k != "characters"}
            model.save(update_fields=["input_kinds", "input_schema"])


class Migration(migrations.Migration):

    dependencies = [
        ("generation", "0024_catalog_typical_job_time"),
    ]

    operations = [
        migrations.AddField(
            model_name="render",
            name="provider_cleanup",
            field=models.CharField(blank=True, default="", max_length=16),
        ),
        migrations.RunPython(declare_characters, undeclare_characters),
    ]
