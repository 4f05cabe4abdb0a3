"""The notification preferences form (the account page)."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from projects.inputs import RefuseControlCharacters
from projects.models import NotificationPreference


class NotificationPreferenceForm(RefuseControlCharacters, forms.ModelForm):
    class Meta:
        model = NotificationPreference
        fields = list(NotificationPreference.EVENTS)


class LanguageForm(forms.Form):
    language = forms.ChoiceField(label=_("Language of the studio"), required=False,
                                 choices=[("", _("As my browser says")), *settings.LANGUAGES])
