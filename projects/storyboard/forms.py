"""Forms for projects and scenes: a project, its budget and model policy, a scene and its editor,
a line of dialogue."""

import re
from typing import cast

from django import forms
from django.utils.translation import gettext, gettext_lazy

from generation.catalog import available_targets
from projects.inputs import RefuseControlCharacters, parse_id
from projects.models import (
    MAX_LINE,
    MAX_PARENTHETICAL,
    MAX_SCENE_SECONDS,
    MAX_SPEAKER,
    MIN_SCENE_SECONDS,
    SIZE_CHOICES,
    Project,
    Scene,
)
from projects.selectors.sound import line_sounds_for, scene_spoken_for


class ProjectForm(RefuseControlCharacters, forms.ModelForm):
    class Meta:
        model = Project
        fields = ["name", "description", "default_size", "default_duration"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
        labels = {"name": gettext_lazy("Name"), "description": gettext_lazy("Description"),
                  "default_size": gettext_lazy("Default size"),
                  "default_duration": gettext_lazy("Default duration (seconds)")}


class ProjectBudgetForm(RefuseControlCharacters, forms.ModelForm):
    class Meta:
        model = Project
        fields = ["budget"]
        error_messages = {"budget": {"min_value": gettext_lazy("A budget can't be negative."),
                                     "invalid": gettext_lazy("Enter the budget in US dollars, e.g. 250 or 99.50.")}}


class ProjectPolicyForm(RefuseControlCharacters, forms.Form):
    """Which models may be booked in a project (none ticked: any), and a price ceiling per second."""

    allowed_models = forms.MultipleChoiceField(
        required=False, error_messages={"invalid_choice": gettext_lazy("Unknown model “%(value)s”: pick models from the list.")})
    max_price_per_second = forms.DecimalField(
        required=False, min_value=0, max_digits=8, decimal_places=4,
        error_messages={"min_value": gettext_lazy("A price ceiling can't be negative."),
                        "invalid": gettext_lazy("Enter the price ceiling in US dollars a second, e.g. 0.25."),
                        "max_digits": gettext_lazy("That price ceiling is too large."),
                        "max_whole_digits": gettext_lazy("That price ceiling is too large."),
                        "max_decimal_places": gettext_lazy("Enter the price ceiling with at most 4 decimals.")})

    def __init__(self, *args, project: Project, **kwargs):
        super().__init__(*args, **kwargs)
        self.project = project
        # Evaluated when the field is rendered or validated: the board only shows it to owners.
        cast(forms.MultipleChoiceField, self.fields["allowed_models"]).choices = self._choices

    def _choices(self):
        choices = {t.model.model_id: f"{t.model.display_name} ({t.model.model_id})"
                   for t in available_targets(self.project.team)}
        # A model allowed earlier and gone from the catalog since can still be kept or unticked.
        choices.update({m: m for m in self.project.allowed_models or [] if m not in choices})
        return list(choices.items())


class SceneForm(RefuseControlCharacters, forms.ModelForm):
    duration = forms.IntegerField(
        min_value=MIN_SCENE_SECONDS, max_value=MAX_SCENE_SECONDS, label=gettext_lazy("Duration (seconds)"),
        error_messages={
            "min_value": gettext_lazy("A scene lasts at least %(limit_value)s second."),
            "max_value": gettext_lazy("A scene lasts at most %(limit_value)s seconds; split longer action into more scenes."),
        },
    )
    size = forms.ChoiceField(
        choices=SIZE_CHOICES, label=gettext_lazy("Size"),
        error_messages={"invalid_choice": gettext_lazy("Unknown frame size “%(value)s”: pick one from the list.")},
    )

    class Meta:
        model = Scene
        fields = ["title", "prompt", "duration", "size", "camera_notes"]
        widgets = {
            "prompt": forms.Textarea(attrs={"rows": 4}),
            "camera_notes": forms.TextInput(attrs={"placeholder": gettext_lazy("e.g. slow push-in, low angle")}),
        }
        labels = {"title": gettext_lazy("Title"), "prompt": gettext_lazy("Prompt"),
                  "camera_notes": gettext_lazy("Camera / shot notes")}
        error_messages = {"prompt": {"required": gettext_lazy("Describe what happens in the scene.")},
                          "title": {"required": gettext_lazy("Give the scene a title.")}}

    def clean_prompt(self):
        prompt = self.cleaned_data["prompt"].strip()
        # A scene that speaks may leave its action empty: its lines are what it sends.
        if not prompt and not (self.instance.pk and self.instance.lines.exists()):
            raise forms.ValidationError(gettext_lazy("Describe what happens in the scene."))
        return prompt


class SceneEditForm(SceneForm):
    """The editor, carrying the version and the values it was opened with (its base).

    With the base, a save after a teammate's merges by field (services.scene_update):
    only what this person changed is written, and only a field both changed is a conflict.
    """

    version = forms.IntegerField(widget=forms.HiddenInput)
    base_title = forms.CharField(required=False, widget=forms.HiddenInput, strip=False)
    base_prompt = forms.CharField(required=False, widget=forms.HiddenInput, strip=False)
    base_duration = forms.IntegerField(required=False, widget=forms.HiddenInput)
    base_size = forms.CharField(required=False, widget=forms.HiddenInput)
    base_camera_notes = forms.CharField(required=False, widget=forms.HiddenInput, strip=False)

    FIELDS = ("title", "prompt", "duration", "size", "camera_notes")

    @classmethod
    def opened_on(cls, scene, **kwargs):
        """The editor as it opens on `scene`: its values, version and base."""
        initial = {"version": scene.version, **{f"base_{name}": getattr(scene, name) for name in cls.FIELDS}}
        return cls(instance=scene, initial=initial, **kwargs)

    def base(self) -> dict | None:
        """The values the editor was opened with; None from a form that did not carry them."""
        if not self.data.get("base_title") and not self.data.get("base_prompt"):
            return None
        return {name: self.cleaned_data.get(f"base_{name}") for name in self.FIELDS}

    def edits(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.FIELDS}

    @classmethod
    def rearmed(cls, data, *, theirs, base: dict | None, clashes, **kwargs):
        """After a conflict: based on their version; what this person left alone shows theirs,
        what they changed stays as they typed it, for them to decide and save again."""
        data = data.copy()
        data["version"] = theirs.version
        for name in cls.FIELDS:
            data[f"base_{name}"] = getattr(theirs, name)
            if base is not None and name not in clashes and str(data.get(name, "")) == str(base.get(name) or ""):
                data[name] = getattr(theirs, name)
        return cls(data, **kwargs)


# A plain speaker is a name as a script writes it: "ANNA", "Mrs. O'Hara", "Jean-Luc".
SPEAKER_NAME = re.compile(r"^[^\W\d_][\w .'\-]*$")


class DialogueLineForm(RefuseControlCharacters, forms.Form):
    """A line of dialogue: who speaks it (a character of the team's library, or a name), an optional
    parenthetical and the words. An edit also carries the line's version and the values it was opened
    with (its base), so a save after a teammate's merges by field (dialogue.dialogue_line_update)."""

    character = forms.CharField(required=False)
    speaker = forms.CharField(required=False, max_length=MAX_SPEAKER, error_messages={
        "max_length": gettext_lazy("A speaker's name is at most %(limit_value)d characters.")})
    parenthetical = forms.CharField(required=False, max_length=MAX_PARENTHETICAL + 2, error_messages={
        "max_length": gettext_lazy("A parenthetical is at most %(limit_value)d characters: a word or two on "
                                   "how the line is said.")})
    text = forms.CharField(max_length=MAX_LINE, error_messages={
        "required": gettext_lazy("Write the line."),
        "max_length": gettext_lazy("A line is at most %(limit_value)d characters (this one has %(show_value)d): "
                                   "split a long speech into several lines.")})
    version = forms.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
    base_character = forms.CharField(required=False)
    base_speaker = forms.CharField(required=False)
    base_parenthetical = forms.CharField(required=False)
    base_text = forms.CharField(required=False)

    def __init__(self, *args, team, **kwargs):
        super().__init__(*args, **kwargs)
        self.team = team

    @classmethod
    def opened_on(cls, line, *, team):
        """The editor as it opens on `line`: its values, version and base."""
        values = {"character": line.character_id or "", "speaker": "" if line.character_id else line.speaker,
                  "parenthetical": line.parenthetical, "text": line.text}
        return cls(initial={**values, "version": line.version, **{f"base_{k}": v for k, v in values.items()}},
                   team=team)

    def clean_character(self):
        return self._character(self.cleaned_data["character"])

    def clean_base_character(self):
        return self._character(self.cleaned_data["base_character"], base=True)

    def _character(self, value, *, base=False):
        if not str(value).strip():
            return None
        pk = parse_id(value)
        character = self.team.characters.filter(pk=pk).first() if pk else None
        if character is None and not base:
            raise forms.ValidationError(gettext("That character is not in your team's library: choose one from "
                                                "the list, or type a name."))
        return character

    def clean_speaker(self):
        name = re.sub(r"\s+", " ", self.cleaned_data["speaker"]).strip()
        if name and not SPEAKER_NAME.match(name):
            raise forms.ValidationError(gettext("A speaker's name is letters, spaces, apostrophes, dots and hyphens "
                                                "(e.g. ANNA or Mrs. O'Hara)."))
        return name

    def clean_parenthetical(self):
        value = re.sub(r"\s+", " ", self.cleaned_data["parenthetical"]).strip()
        if value.startswith("(") and value.endswith(")"):
            value = value[1:-1].strip()  # typed with its brackets: the studio writes them
        if "(" in value or ")" in value:
            raise forms.ValidationError(gettext("Write the parenthetical without brackets, e.g. sleepy."))
        if len(value) > MAX_PARENTHETICAL:
            raise forms.ValidationError(gettext("A parenthetical is at most %(limit)d characters: a word or two on "
                                                "how the line is said.") % {"limit": MAX_PARENTHETICAL})
        return value

    def clean_text(self):
        # One line of a prompt: a line break inside it would read as another row of the scene.
        text = re.sub(r"\s+", " ", self.cleaned_data["text"]).strip()
        if not text:
            raise forms.ValidationError(gettext("Write the line."))
        return text

    def clean(self):
        data = super().clean()
        if not self.errors and data.get("character") is None and not data.get("speaker"):
            self.add_error("speaker", gettext("Say who speaks the line: choose a character or type a name."))
        return data

    def line_fields(self) -> dict:
        """What the services take: the speaker as (character or None, name), the parenthetical, the words."""
        data = self.cleaned_data
        return {"speaker": (data["character"], data["speaker"]), "parenthetical": data["parenthetical"],
                "text": data["text"]}

    def base(self) -> dict | None:
        """The values the editor was opened with; None from a form that did not carry them."""
        data = self.cleaned_data
        if not self.data.get("base_text"):
            return None
        return {"speaker": (data["base_character"], data["base_speaker"]),
                "parenthetical": data["base_parenthetical"], "text": data["base_text"]}


def dialogue_context(*, lines, library, team, edited=None, add_form=None, scene=None, **extra) -> dict:
    """The dialogue section's context: each line with its editor (`edited`: a form as posted, by line
    id, shown open with its errors or conflict), the add form and the team's character library; with
    `scene`, each line's sound (its voice, its recording) and the scene's spoken length."""
    edited = edited or {}
    sounds = line_sounds_for(scene=scene, lines=lines) if scene is not None else {}
    for line in lines:
        line.form = edited.get(line.pk) or DialogueLineForm.opened_on(line, team=team)
        line.sound = sounds.get(line.pk)
    spoken = scene_spoken_for(scene=scene, sounds=sounds) if scene is not None else None
    return {"dialogue": lines, "library": library, "add_line_form": add_form or DialogueLineForm(team=team),
            "spoken": spoken, **extra}
