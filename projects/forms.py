from django import forms
from django.contrib.auth import get_user_model, password_validation

from projects.models import MAX_SCENE_SECONDS, MIN_SCENE_SECONDS, SIZE_CHOICES, Project, Role, Scene


class ProjectForm(forms.ModelForm):
    class Meta:
        model = Project
        fields = ["name", "description", "default_size", "default_duration"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
        labels = {"default_duration": "Default duration (seconds)"}


class SceneForm(forms.ModelForm):
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
    version = forms.IntegerField(widget=forms.HiddenInput)


class InvitationForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=Role.choices, initial=Role.EDITOR)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class TeamForm(forms.Form):
    name = forms.CharField(max_length=120)


class JoinForm(forms.Form):
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
