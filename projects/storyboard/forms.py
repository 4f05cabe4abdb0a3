"""Forms for projects and scenes: a project, its budget and model policy, a scene and its editor."""

from django import forms

from generation.catalog import available_targets
from projects.inputs import RefuseControlCharacters
from projects.models import (
    MAX_SCENE_SECONDS,
    MIN_SCENE_SECONDS,
    SIZE_CHOICES,
    Project,
    Scene,
)


class ProjectForm(RefuseControlCharacters, forms.ModelForm):
    class Meta:
        model = Project
        fields = ["name", "description", "default_size", "default_duration"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
        labels = {"default_duration": "Default duration (seconds)"}


class ProjectBudgetForm(RefuseControlCharacters, forms.ModelForm):
    class Meta:
        model = Project
        fields = ["budget"]
        error_messages = {"budget": {"min_value": "A budget can't be negative.",
                                     "invalid": "Enter the budget in US dollars, e.g. 250 or 99.50."}}


class ProjectPolicyForm(RefuseControlCharacters, forms.Form):
    """Which models may be booked in a project (none ticked: any), and a price ceiling per second."""

    allowed_models = forms.MultipleChoiceField(
        required=False, error_messages={"invalid_choice": "Unknown model “%(value)s”: pick models from the list."})
    max_price_per_second = forms.DecimalField(
        required=False, min_value=0, max_digits=8, decimal_places=4,
        error_messages={"min_value": "A price ceiling can't be negative.",
                        "invalid": "Enter the price ceiling in US dollars a second, e.g. 0.25.",
                        "max_digits": "That price ceiling is too large.",
                        "max_whole_digits": "That price ceiling is too large.",
                        "max_decimal_places": "Enter the price ceiling with at most 4 decimals."})

    def __init__(self, *args, project: Project, **kwargs):
        super().__init__(*args, **kwargs)
        self.project = project
        # Evaluated when the field is rendered or validated: the board only shows it to owners.
        self.fields["allowed_models"].choices = self._choices

    def _choices(self):
        choices = {t.model.model_id: f"{t.model.display_name} ({t.model.model_id})"
                   for t in available_targets(self.project.team)}
        # A model allowed earlier and gone from the catalog since can still be kept or unticked.
        choices.update({m: m for m in self.project.allowed_models or [] if m not in choices})
        return list(choices.items())

    def error_text(self) -> str:
        return " ".join(m for errors in self.errors.values() for m in errors)


class SceneForm(RefuseControlCharacters, forms.ModelForm):
    duration = forms.IntegerField(
        min_value=MIN_SCENE_SECONDS, max_value=MAX_SCENE_SECONDS, label="Duration (seconds)",
        error_messages={
            "min_value": f"A scene lasts at least {MIN_SCENE_SECONDS} second.",
            "max_value": f"A scene lasts at most {MAX_SCENE_SECONDS} seconds; split longer action into more scenes.",
        },
    )
    size = forms.ChoiceField(
        choices=SIZE_CHOICES,
        error_messages={"invalid_choice": "Unknown frame size “%(value)s”: pick one from the list."},
    )

    class Meta:
        model = Scene
        fields = ["title", "prompt", "duration", "size", "camera_notes"]
        widgets = {
            "prompt": forms.Textarea(attrs={"rows": 4}),
            "camera_notes": forms.TextInput(attrs={"placeholder": "e.g. slow push-in, low angle"}),
        }
        labels = {"camera_notes": "Camera / shot notes"}
        error_messages = {"prompt": {"required": "Describe what happens in the scene."},
                          "title": {"required": "Give the scene a title."}}

    def clean_prompt(self):
        prompt = self.cleaned_data["prompt"].strip()
        if not prompt:
            raise forms.ValidationError("Describe what happens in the scene.")
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
