# Models that retire: a warning sent once per model and team.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('generation', '0027_render_billed_cost_and_reconciliation'),
        ('projects', '0020_script_import'),
    ]

    operations = [
        migrations.CreateModel(
            name='RetirementNotice',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('retires_on', models.DateField()),
                ('sent_at', models.DateTimeField(auto_now_add=True)),
                ('model', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='generation.catalogmodel')),
                ('team', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='projects.team')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('team', 'model'), name='retirement_notice_once')],
            },
        ),
    ]
