"""The previz now draws the scene's reference image, so the shipped model takes one."""

from django.db import migrations


def take_images(apps, schema_editor):
    CatalogModel = apps.get_model("generation", "CatalogModel")
    CatalogModel.objects.filter(kind="local", model_id="previz-animatic-1", connection__isnull=True).update(
        input_kinds=["text", "image"])


def text_only(apps, schema_editor):
    CatalogModel = apps.get_model("generation", "CatalogModel")
    CatalogModel.objects.filter(kind="local", model_id="previz-animatic-1", connection__isnull=True).update(
        input_kinds=["text"])


class Migration(migrations.Migration):
    dependencies = [("generation", "0014_repair_uploads")]
    operations = [migrations.RunPython(take_images, text_only)]
