"""Forms for the character pages: a character with its reference images, and a consent record."""

import datetime

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy

from generation.models import ConnectionKind
from projects.inputs import IdsChoiceField, RefuseControlCharacters
from projects.models import CharacterKind, ConsentScope


class MultipleImageInput(forms.FileInput):
    allow_multiple_selected = True


class ReferenceImagesField(forms.FileField):
    """One to four uploaded images; the consent service verifies each one really is an image."""

    widget = MultipleImageInput(attrs={"accept": "image/jpeg,image/png,image/webp"})
    default_error_messages = {"required": gettext_lazy("Add 1 to 4 reference images (JPEG, PNG or WebP).")}

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, (list, tuple)) else [data]) if f]
        if not files and self.required:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        if len(files) > 4:
            raise forms.ValidationError(gettext_lazy("Add at most 4 reference images; you chose %(count)d.") % {"count": len(files)})
        return [super(ReferenceImagesField, self).clean(f, initial) for f in files]


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        full_name = user.get_full_name()
        return f"{full_name} ({user.get_username()})" if full_name else user.get_username()


class CharacterForm(RefuseControlCharacters, forms.Form):
    """A new library character. The kind decides which of `person` / `declares_fictional` applies."""

    name = forms.CharField(max_length=80, label=gettext_lazy("Name"), error_messages={"required": gettext_lazy("Give the character a name.")})
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                                  help_text=gettext_lazy("Looks, wardrobe, manner: woven into prompts that mention them."))
    kind = forms.ChoiceField(choices=CharacterKind.choices, widget=forms.RadioSelect,
                             error_messages={"required": gettext_lazy("Choose a real person or a fictional character.")})
    person = PersonChoiceField(queryset=None, required=False, empty_label=gettext_lazy("Choose the person…"),
                               label=gettext_lazy("The person (their own account)"),
                               help_text=gettext_lazy("Only they can grant consent; until they do, nobody can render them."))
    declares_fictional = forms.BooleanField(required=False,
                                            label=gettext_lazy("I declare this character depicts no real person"))
    images = ReferenceImagesField(label=gettext_lazy("Reference images (1 to 4)"))
    reference_video = forms.FileField(
        required=False, label=gettext_lazy("Reference video (optional)"),
        help_text=gettext_lazy("MP4, up to 20 s: providers with native characters build the character from it."),
        widget=forms.ClearableFileInput(attrs={"accept": "video/mp4"}),
    )

    def __init__(self, *args, team, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = (
            get_user_model().objects.filter(memberships__team=team).order_by("username")
        )

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        if kind == CharacterKind.PERSON and not cleaned.get("person"):
            self.add_error("person", gettext_lazy("Choose the team member this character depicts."))
        if kind == CharacterKind.FICTIONAL and not cleaned.get("declares_fictional"):
            self.add_error("declares_fictional", gettext_lazy("Confirm that this character depicts no real person."))
        return cleaned


class ConsentForm(RefuseControlCharacters, forms.Form):
    """What the person allows: where, with which providers, until when."""

    scope = forms.ChoiceField(choices=ConsentScope.choices, widget=forms.RadioSelect, initial=ConsentScope.TEAM)
    projects = IdsChoiceField(queryset=None, required=False, widget=forms.CheckboxSelectMultiple)
    providers = forms.MultipleChoiceField(
        choices=ConnectionKind.choices, required=False, widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("None ticked: every provider."),
    )
    covers_voice = forms.BooleanField(
        required=False, label=gettext_lazy("My recorded voice too"),
        help_text=gettext_lazy("A sample of my voice, and recordings of my lines, may be kept and heard in the "
                               "voice-over. Without it, only the engine's voice speaks my lines."))
    expires_on = forms.DateField(required=False, label=gettext_lazy("Until (optional)"),
                                 widget=forms.DateInput(attrs={"type": "date"}),
                                 help_text=gettext_lazy("Consent ends at the end of this day."))

    def __init__(self, *args, team, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["projects"].queryset = team.projects.order_by("name")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("scope") == ConsentScope.PROJECTS and not cleaned.get("projects"):
            self.add_error("projects", gettext_lazy("Choose at least one project, or allow the whole team."))
        return cleaned

    @property
    def expires_at(self):
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time(23, 59, 59)))
