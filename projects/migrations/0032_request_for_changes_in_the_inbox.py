from django.db import migrations, models


def requests_already_received(apps, schema_editor):
    """A request for changes already in an inbox was a "decision": it becomes a request, and so is listed
    first while unread. Its text was written by take_request_changes: "<scene>: changes requested on take <n>"."""
    Notification = apps.get_model("projects", "Notification")
    Notification.objects.filter(kind="decision", text__regex=r": changes requested on take [0-9]+$").update(
        kind="changes")


class Migration(migrations.Migration):

    dependencies = [
        ('projects', '0031_comment_edited_live_change'),
    ]

    operations = [
        migrations.AlterField(
            model_name='notification',
            name='kind',
            field=models.CharField(choices=[('mention', 'Mention'), ('reply', 'Reply'), ('decision', 'Decision'), ('changes', 'Request for changes'), ('render', 'Render'), ('invitation', 'Invitation'), ('budget', 'Budget'), ('model_retiring', 'Model retiring'), ('security', 'Security'), ('consent', 'Consent')], max_length=16),
        ),
        migrations.RunPython(requests_already_received, migrations.RunPython.noop),
    ]
