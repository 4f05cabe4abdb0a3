"""How long a model's job usually takes, so the first polls of a model nobody has timed yet land
near its end instead of at a fixed 15 s; and the help text of input_schema, which now also declares
the non-standard fields a gateway accepts.

Figures are typical queue-plus-render times for a short clip as providers and gateways reported them
in late 2026; the studio replaces them with its own median as soon as a few takes finish.
"""

from django.db import migrations, models

TYPICAL_SECONDS = {
    "previz-animatic-1": 2,
    "sora-2": 90, "sora-2-2025-10-06": 90, "sora-2-2025-12-08": 90,
    "sora-2-pro": 180, "sora-2-pro-2025-10-06": 180,
    "google/veo-3.1": 90,
    "wan-video/wan-2.7-t2v": 120,
    # Shipped by the adapters added beside these, when their rows exist.
    "veo-3.1-generate-preview": 90, "veo-3.1-generate-001": 90,
    "veo-3.1-fast-generate-preview": 45, "veo-3.1-lite-generate-preview": 40,
    "fal-ai/veo3.1": 90, "fal-ai/veo3.1/fast": 45,
    "gen4.5": 90, "gen4_turbo": 30,
}


def seed(apps, schema_editor):
    CatalogModel = apps.get_model("generation", "CatalogModel")
    for model_id, seconds in TYPICAL_SECONDS.items():
        CatalogModel.objects.filter(connection__isnull=True, model_id=model_id,
                                    typical_seconds__isnull=True).update(typical_seconds=seconds)


class Migration(migrations.Migration):

    dependencies = [
        ("generation", "0023_comfy_workflows"),
    ]

    operations = [
        migrations.AddField(
            model_name="catalogmodel",
            name="typical_seconds",
            field=models.PositiveIntegerField(
                blank=True, null=True,
                help_text="How long a job usually takes at the provider; the first polls are planned from it "
                          "until the studio has timed a few takes of its own."),
        ),
        migrations.AlterField(
            model_name="catalogmodel",
            name="input_schema",
            field=models.JSONField(
                blank=True, default=dict,
                help_text='Fields beyond the wire format\'s own. OpenAI format: {"characters": "id[]"} for native '
                          'characters, {"extra": {"name": "value"}} for constant fields a gateway accepts.'),
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
