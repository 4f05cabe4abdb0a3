"""{{ moment|ago }}: how long ago something happened, in the words a person uses."""

from datetime import datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def ago(moment: datetime | None) -> str:
    """ "just now" under a minute (and for a clock a little ahead), else "5 minutes ago", "2 days, 3 hours ago"."""
    if not moment:
        return ""
    if timezone.now() - moment < timedelta(minutes=1):
        return _("just now")
    return _("%(delay)s ago") % {"delay": timesince(moment)}
