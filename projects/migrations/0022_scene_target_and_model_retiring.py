# Models that retire: a scene's chosen model; the activity, inbox and email kinds for it.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('generation', '0026_export_csv_and_pdf_layout'),
        ('projects', '0021_budgets_and_model_policy'),
    ]

    operations = [
        migrations.AddField(
            model_name='notificationpreference',
            name='model_retiring',
            field=models.BooleanField(default=True, verbose_name='When a model our scenes use will retire soon (owners)'),
        ),
        migrations.AddField(
            model_name='scene',
            name='target_connection',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='generation.providerconnection'),
        ),
        migrations.AddField(
            model_name='scene',
            name='target_model',
            field=models.CharField(blank=True, help_text="The chosen model's id", max_length=200),
        ),
        migrations.AlterField(
            model_name='activity',
            name='kind',
            field=models.CharField(choices=[('render_started', 'Render started'), ('render_finished', 'Render finished'), ('render_failed', 'Render failed'), ('comment', 'Comment'), ('approved', 'Approved'), ('changes_requested', 'Changes requested'), ('scene_edited', 'Scene edited'), ('project_created', 'Project created'), ('scene_created', 'Scene added'), ('scenes_reordered', 'Scenes reordered'), ('scene_deleted', 'Scene deleted'), ('remix_override', 'Remixed despite failed checks'), ('script_imported', 'Script imported'), ('scene_retargeted', 'Scene moved to another model'), ('model_retiring', 'Model retiring')], max_length=24),
        ),
        migrations.AlterField(
            model_name='notification',
            name='kind',
            field=models.CharField(choices=[('mention', 'Mention'), ('reply', 'Reply'), ('decision', 'Decision'), ('render', 'Render'), ('invitation', 'Invitation'), ('budget', 'Budget'), ('model_retiring', 'Model retiring')], max_length=16),
        ),
    ]
