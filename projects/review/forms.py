"""The notification preferences form (the account page)."""

from django import forms

from projects.inputs import RefuseControlCharacters
from projects.models import NotificationPreference


class NotificationPreferenceForm(RefuseControlCharacters, forms.ModelForm):
    class Meta:
        model = NotificationPreference
        fields = list(NotificationPreference.EVENTS)
