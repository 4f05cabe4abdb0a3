"""Ship the model catalog, and give every existing team its built-in local connection.

OpenAI retired its Videos API and every sora-2 model on 2026-09-24: the rows
stay, retired, so old takes keep their history and prices.
"""

import datetime

from django.db import migrations

SORA_RETIRED = datetime.date(2026, 9, 24)
SORA_SIZES = ["720x1280", "1280x720"]
SORA_PRO_SIZES = ["720x1280", "1280x720", "1024x1792", "1792x1024"]
SORA_PRICE = {"*": 0.10}
SORA_PRO_PRICE = {"720x1280": 0.30, "1280x720": 0.30, "1024x1792": 0.50, "1792x1024": 0.50}
HD_SIZES = ["1280x720", "720x1280", "1920x1080", "1080x1920"]


def sora(model_id, name, *, pro, snapshot_of=""):
    return dict(
        kind="openai-videos", model_id=model_id, display_name=name,
        sizes=SORA_PRO_SIZES if pro else SORA_SIZES, durations=[4, 8, 12],
        input_kinds=["text", "image"], supports_remix=True, has_audio=True,
        price_per_second=SORA_PRO_PRICE if pro else SORA_PRICE,
        lifecycle="retired", lifecycle_date=SORA_RETIRED, snapshot_of=snapshot_of,
        notes="Removed by OpenAI on 2026-09-24.",
    )


CATALOG = [
    dict(kind="local", model_id="previz-animatic-1", display_name="Previz animatic",
         sizes=["1280x720", "720x1280", "1920x1080", "1080x1920", "1024x1024"],
         durations=list(range(1, 21)), input_kinds=["text"], has_audio=True,
         price_per_second={"*": 0}, notes="Built-in, offline, free."),
    sora("sora-2", "Sora 2", pro=False),
    sora("sora-2-pro", "Sora 2 Pro", pro=True),
    sora("sora-2-2025-10-06", "Sora 2 (2025-10-06)", pro=False, snapshot_of="sora-2"),
    sora("sora-2-pro-2025-10-06", "Sora 2 Pro (2025-10-06)", pro=True, snapshot_of="sora-2-pro"),
    sora("sora-2-2025-12-08", "Sora 2 (2025-12-08)", pro=False, snapshot_of="sora-2"),
    dict(kind="replicate", model_id="google/veo-3.1", display_name="Veo 3.1 (Replicate)",
         sizes=HD_SIZES, durations=[4, 6, 8], input_kinds=["text", "image"], has_audio=True,
         price_per_second={"*": 0.40},
         input_schema={"prompt": "string", "duration": "integer", "aspect_ratio": ["16:9", "9:16"],
                       "resolution": ["720p", "1080p"], "image": "uri", "last_frame": "uri",
                       "reference_images": "uri[]", "generate_audio": "boolean", "seed": "integer"},
         notes="Price as listed 2026-11; check the model page."),
    dict(kind="replicate", model_id="wan-video/wan-2.7-t2v", display_name="Wan 2.7 text-to-video (Replicate)",
         sizes=HD_SIZES, durations=list(range(2, 16)), input_kinds=["text"], has_audio=False,
         price_per_second={"*": 0.10},
         input_schema={"prompt": "string", "duration": "integer", "resolution": ["720p", "1080p"],
                       "aspect_ratio": ["16:9", "9:16"], "seed": "integer"},
         notes="Price is an estimate; check the model page."),
]


def forwards(apps, schema_editor):
    CatalogModel = apps.get_model("generation", "CatalogModel")
    for row in CATALOG:
        CatalogModel.objects.update_or_create(
            kind=row["kind"], model_id=row["model_id"], connection=None, defaults=row
        )
    Team = apps.get_model("projects", "Team")
    ProviderConnection = apps.get_model("generation", "ProviderConnection")
    import secrets

    for team in Team.objects.all():
        if not ProviderConnection.objects.filter(team=team, kind="local").exists():
            ProviderConnection.objects.create(
                team=team, kind="local", label="Local previz", webhook_token=secrets.token_urlsafe(24)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("generation", "0004_connections_and_catalog"),
        ("projects", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
