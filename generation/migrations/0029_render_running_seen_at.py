# The last poll that saw a take's job still running: for providers that report no job
# time, the schedule learns the midpoint between it and the poll that saw the job done.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('generation', '0028_retirement_notices'),
    ]

    operations = [
        migrations.AddField(
            model_name='render',
            name='running_seen_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
