import datetime

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone

from generation.models import ConnectionKind
from generation.renders.catalog import available_targets
from projects.inputs import IdsChoiceField, RefuseControlCharacters
from projects.models import (
    MAX_SCENE_SECONDS,
    MIN_SCENE_SECONDS,
    SIZE_CHOICES,
    CharacterKind,
    ConsentScope,
    NotificationPreference,
    Project,
    Role,
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


class LoginForm(RefuseControlCharacters, AuthenticationForm):
    """Django's login form, refusing before authentication a username no account can have: the failed
    attempt is recorded (django-axes), and PostgreSQL refuses NUL or text past the column."""

    def clean_username(self):
        username = self.cleaned_data["username"]
        if len(username) > self.fields["username"].max_length:
            raise forms.ValidationError("No account has a username that long.")
        return username


class InvitationForm(RefuseControlCharacters, forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=Role.choices, initial=Role.EDITOR)


class MemberRoleForm(RefuseControlCharacters, forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class MonthlyBudgetForm(RefuseControlCharacters, forms.Form):
    """A monthly budget in US dollars (the team's, or one member's cap); empty removes it."""

    monthly_budget = forms.DecimalField(
        required=False, min_value=0, max_digits=10, decimal_places=2,
        error_messages={"min_value": "A budget can't be negative.",
                        "invalid": "Enter the budget in US dollars, e.g. 250 or 99.50.",
                        "max_digits": "That budget is too large: at most $99,999,999.99.",
                        "max_whole_digits": "That budget is too large: at most $99,999,999.99.",
                        "max_decimal_places": "Enter the budget in dollars and cents (at most 2 decimals)."})

    def error_text(self) -> str:
        return " ".join(m for errors in self.errors.values() for m in errors)


class TeamForm(RefuseControlCharacters, forms.Form):
    name = forms.CharField(max_length=120)


class JoinForm(RefuseControlCharacters, forms.Form):
    """A new invitee chooses a username and password."""

    username = forms.CharField(max_length=150)
    password1 = forms.CharField(label="Password", widget=forms.PasswordInput)
    password2 = forms.CharField(label="Password again", widget=forms.PasswordInput)

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("That username is taken; choose another.")
        return username

    def clean(self):
        cleaned = super().clean()
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", "The two passwords differ.")
        elif p1:
            try:
                password_validation.validate_password(p1)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


# --- Characters and consent ----------------------------------------------------

class MultipleImageInput(forms.FileInput):
    allow_multiple_selected = True


class ReferenceImagesField(forms.FileField):
    """One to four uploaded images; the consent service verifies each one really is an image."""

    widget = MultipleImageInput(attrs={"accept": "image/jpeg,image/png,image/webp"})
    default_error_messages = {"required": "Add 1 to 4 reference images (JPEG, PNG or WebP)."}

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, (list, tuple)) else [data]) if f]
        if not files and self.required:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        if len(files) > 4:
            raise forms.ValidationError(f"Add at most 4 reference images; you chose {len(files)}.")
        return [super(ReferenceImagesField, self).clean(f, initial) for f in files]


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        full_name = user.get_full_name()
        return f"{full_name} ({user.get_username()})" if full_name else user.get_username()


class CharacterForm(RefuseControlCharacters, forms.Form):
    """A new library character. The kind decides which of `person` / `declares_fictional` applies."""

    name = forms.CharField(max_length=80, error_messages={"required": "Give the character a name."})
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                                  help_text="Looks, wardrobe, manner: woven into prompts that mention them.")
    kind = forms.ChoiceField(choices=CharacterKind.choices, widget=forms.RadioSelect,
                             error_messages={"required": "Choose a real person or a fictional character."})
    person = PersonChoiceField(queryset=None, required=False, empty_label="Choose the person…",
                               label="The person (their own account)",
                               help_text="Only they can grant consent; until they do, nobody can render them.")
    declares_fictional = forms.BooleanField(required=False,
                                            label="I declare this character depicts no real person")
    images = ReferenceImagesField(label="Reference images (1 to 4)")
    reference_video = forms.FileField(
        required=False, label="Reference video (optional)",
        help_text="MP4, up to 20 s: providers with native characters build the character from it.",
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
            self.add_error("person", "Choose the team member this character depicts.")
        if kind == CharacterKind.FICTIONAL and not cleaned.get("declares_fictional"):
            self.add_error("declares_fictional", "Confirm that this character depicts no real person.")
        return cleaned


class ConsentForm(RefuseControlCharacters, forms.Form):
    """What the person allows: where, with which providers, until when."""

    scope = forms.ChoiceField(choices=ConsentScope.choices, widget=forms.RadioSelect, initial=ConsentScope.TEAM)
    projects = IdsChoiceField(queryset=None, required=False, widget=forms.CheckboxSelectMultiple)
    providers = forms.MultipleChoiceField(
        choices=ConnectionKind.choices, required=False, widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every provider.",
    )
    expires_on = forms.DateField(required=False, label="Until (optional)",
                                 widget=forms.DateInput(attrs={"type": "date"}),
                                 help_text="Consent ends at the end of this day.")

    def __init__(self, *args, team, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["projects"].queryset = team.projects.order_by("name")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("scope") == ConsentScope.PROJECTS and not cleaned.get("projects"):
            self.add_error("projects", "Choose at least one project, or allow the whole team.")
        return cleaned

    @property
    def expires_at(self):
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time(23, 59, 59)))


class NotificationPreferenceForm(RefuseControlCharacters, forms.ModelForm):
    class Meta:
        model = NotificationPreference
        fields = list(NotificationPreference.EVENTS)
