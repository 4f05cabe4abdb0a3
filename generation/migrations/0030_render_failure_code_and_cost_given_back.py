# Why a take failed (failure_code: "moderation", "expired"), and whether its estimate went back to the
# budgets when it ended (cost_given_back): decided once, when it settles, by the one rule in
# generation.spend.budget, instead of recomputed from its columns wherever spend is summed.

from django.db import migrations, models


def mark_takes_given_back(apps, schema_editor):
    """Takes that ended before any provider had them gave their estimate back, by the rule of the time."""
    Render = apps.get_model("generation", "Render")
    Render.objects.filter(status__in=["failed", "canceled"], provider_job_id="", billing_unconfirmed=False,
                          billed_cost__isnull=True).update(cost_given_back=True)


class Migration(migrations.Migration):

    dependencies = [
        ('generation', '0029_render_running_seen_at'),
    ]

    operations = [
        migrations.AddField(
            model_name='render',
            name='cost_given_back',
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name='render',
            name='failure_code',
            field=models.CharField(blank=True, default='', max_length=32),
        ),
        migrations.RunPython(mark_takes_given_back, migrations.RunPython.noop),
    ]
