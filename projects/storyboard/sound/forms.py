"""Forms of the sound: the project's voice-over settings and bed, a plain name's voice, a line's
recording, a scene fitting its lines, a character's voice and voice sample."""

from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from generation.sound import speech
from projects.inputs import RefuseControlCharacters
from projects.models import Project


def _voices(blank: str | Promise | None = None):
    choices = speech.voice_choices()
    return [("", blank), *choices] if blank else choices


class ProjectSoundForm(RefuseControlCharacters, forms.ModelForm):
    voice_language = forms.ChoiceField(
        label=_("Language of plain speaker names"), choices=[(k, v) for k, v in speech.LANGUAGES.items()],
        error_messages={"invalid_choice": _("Choose a language from the list.")})
    dialogue_pause = forms.DecimalField(
        label=_("Pause around lines (seconds)"), min_value=0, max_value=3, decimal_places=1,
        help_text=_("Before the first line, between lines and after the last, in scenes that fit their dialogue."),
        error_messages={"min_value": _("A pause can't be negative."), "max_value": _("A pause is at most 3 seconds."),
                        "max_decimal_places": _("Give the pause in tenths of a second, e.g. 0.5."),
                        "invalid": _("Give the pause in seconds, e.g. 0.5.")})
    take_audio_level_db = forms.FloatField(
        label=_("Takes' own sound (dB)"), min_value=-60, max_value=6,
        help_text=_("How loud the sound of native-audio takes plays under the voice-over and the bed: 0 is as "
                    "delivered, -60 is silent."),
        error_messages={"min_value": _("At least -60 dB (silent)."), "max_value": _("At most +6 dB."),
                        "invalid": _("Give a level in dB, e.g. -6.")})

    class Meta:
        model = Project
        fields = ["voice_language", "dialogue_pause", "take_audio_level_db"]


class SoundFileForm(forms.Form):
    file = forms.FileField(label=_("Sound file"), error_messages={
        "required": _("Choose a sound file."), "empty": _("The file is empty.")})


class BedPlaceForm(forms.Form):
    start_at = forms.FloatField(label=_("Starts at (seconds of the board)"), min_value=0, max_value=3600,
                                error_messages={"min_value": _("The bed starts at 0 seconds or later."),
                                                "max_value": _("The bed starts within the board's first hour."),
                                                "invalid": _("Give the start in seconds, e.g. 4.5.")})
    level_db = forms.FloatField(label=_("Level (dB)"), min_value=-40, max_value=6,
                                error_messages={"min_value": _("At least -40 dB."), "max_value": _("At most +6 dB."),
                                                "invalid": _("Give a level in dB, e.g. -14.")})
    duck_db = forms.FloatField(label=_("Dips under lines by (dB)"), min_value=-40, max_value=0,
                               error_messages={"min_value": _("At most 40 dB lower."),
                                               "max_value": _("A dip lowers the bed: 0 or less."),
                                               "invalid": _("Give a dip in dB, e.g. -12.")})


class SpeakerVoiceForm(RefuseControlCharacters, forms.Form):
    name = forms.CharField(max_length=80, error_messages={"required": _("Name the speaker.")})
    voice = forms.ChoiceField(choices=_voices(), error_messages={
        "invalid_choice": _("Choose a voice from the list.")})
    rate = forms.IntegerField(label=_("Speed (words a minute)"), initial=speech.DEFAULT_RATE,
                              min_value=speech.RATE_RANGE[0], max_value=speech.RATE_RANGE[1], error_messages={
        "min_value": _("At least %(limit_value)s words a minute."),
        "max_value": _("At most %(limit_value)s words a minute."), "invalid": _("Give a whole number.")})
    pitch = forms.IntegerField(label=_("Pitch (0–99)"), initial=speech.DEFAULT_PITCH,
                               min_value=speech.PITCH_RANGE[0], max_value=speech.PITCH_RANGE[1], error_messages={
        "min_value": _("Pitch is 0 to 99."), "max_value": _("Pitch is 0 to 99."), "invalid": _("Give a whole number.")})


class CharacterVoiceForm(forms.Form):
    voice = forms.ChoiceField(required=False, choices=_voices(blank=_("Default for the name")), error_messages={
        "invalid_choice": _("Choose a voice from the list.")})
    rate = SpeakerVoiceForm.base_fields["rate"]
    pitch = SpeakerVoiceForm.base_fields["pitch"]


class FitForm(forms.Form):
    fit = forms.BooleanField(required=False)
