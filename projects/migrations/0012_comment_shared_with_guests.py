from django.db import migrations, models


def share_what_guests_wrote_and_were_answered(apps, schema_editor):
    """Before this field, a review link showed every comment on its takes. From now on:

    - a guest's comment or reply stays shared (they wrote it);
    - a teammate's reply in a thread a guest started stays shared (it answers the guest);
    - every other teammate's comment becomes team-only, requests for changes included:
      nothing internal is shown to guests unless someone on the team chooses to share it.
    """
    Comment = apps.get_model("projects", "Comment")
    # A guest wrote it: no author and a guest's name (a deleted teammate's comment has neither).
    Comment.objects.filter(author__isnull=True, guest_name__gt="").update(shared=True)
    Comment.objects.filter(parent__isnull=False, parent__author__isnull=True, parent__guest_name__gt="",
                           requests_changes=False).update(shared=True)


class Migration(migrations.Migration):

    dependencies = [
        ('projects', '0011_live_channel'),
    ]

    operations = [
        migrations.AddField(
            model_name='comment',
            name='shared',
            field=models.BooleanField(default=False, help_text='Guests of a review link showing this take can read it (a reply: only if its thread is shared)', verbose_name='Shared with guests'),
        ),
        migrations.RunPython(share_what_guests_wrote_and_were_answered, migrations.RunPython.noop),
    ]
