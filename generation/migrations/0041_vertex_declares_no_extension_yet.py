"""Vertex AI's shipped Veo rows declare no extension lengths until its adapter sends one.

0038 shipped them with extend_seconds=[7] ("booking an extension is another piece of work"), but a
catalog row may declare only what its adapter's wire carries (ProviderFacts.extends,
generation.catalog.declaration_problems): the Vertex adapter has no extend() yet, so the take card would
offer an extension that fails at the provider. Gemini API Veo, fal, the OpenAI format, ComfyUI and the
previz keep theirs. When the Vertex adapter learns extension, its facts say so and a migration declares 7 s
again.
"""

from django.db import migrations

MODELS = ["veo-3.1-generate-001", "veo-3.1-fast-generate-001"]


def forwards(apps, schema_editor):
    CatalogModel = apps.get_model("generation", "CatalogModel")
    CatalogModel.objects.filter(kind="vertex", connection=None, model_id__in=MODELS).update(
        extend_seconds=[], extend_returns="")


def backwards(apps, schema_editor):
    CatalogModel = apps.get_model("generation", "CatalogModel")
    CatalogModel.objects.filter(kind="vertex", connection=None, model_id__in=MODELS).update(
        extend_seconds=[7], extend_returns="whole")


class Migration(migrations.Migration):
    dependencies = [("generation", "0040_render_join_seconds_for_extensions")]

    operations = [migrations.RunPython(forwards, backwards)]
