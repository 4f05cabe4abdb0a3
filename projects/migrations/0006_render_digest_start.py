from django.conf import settings
from django.db import migrations
from django.db.models import Max


def start_after_existing_entries(apps, schema_editor):
    """Everyone's digest starts after the feed as it is now: takes that settled before this
    release were emailed one by one already. Users who come later start from the beginning."""
    Activity = apps.get_model("projects", "Activity")
    RenderDigest = apps.get_model("projects", "RenderDigest")
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    last = Activity.objects.aggregate(n=Max("pk"))["n"] or 0
    have = set(RenderDigest.objects.values_list("user_id", flat=True))
    RenderDigest.objects.bulk_create([RenderDigest(user_id=pk, last_activity_id=last)
                                      for pk in User.objects.values_list("pk", flat=True) if pk not in have])


class Migration(migrations.Migration):

    dependencies = [
        ("projects", "0005_render_digest"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(start_after_existing_entries, migrations.RunPython.noop)]
