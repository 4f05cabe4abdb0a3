"""Uploads stored under the uploader's extension are renamed to their real type or quarantined."""

from django.db import migrations


def repair(apps, schema_editor):
    from generation.storage.upload_repair import repair_uploads

    for line in repair_uploads(apps):
        print(f"  {line}")


class Migration(migrations.Migration):
    dependencies = [
        ("generation", "0013_worker_heartbeat"),
        ("projects", "0009_project_render_spend"),
    ]

    operations = [migrations.RunPython(repair, migrations.RunPython.noop)]
