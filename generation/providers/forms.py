"""Forms of a team's provider connections: adding one, registering a model, mapping a
ComfyUI workflow."""

from typing import ClassVar

from django import forms

from generation.models import FramesRule
from generation.providers import remote_kinds
from generation.providers.openai_videos import declared_fields_problems
from projects.inputs import RefuseControlCharacters


class ConnectionForm(RefuseControlCharacters, forms.Form):
    # Every remote kind the studio has an adapter for (the local previz is built in).
    kind = forms.ChoiceField(choices=remote_kinds)
    label = forms.CharField(max_length=120)
    base_url = forms.URLField(
        required=False, label="Base URL", assume_scheme="https",
        help_text="OpenAI format: the gateway's /v1 URL. Replicate: leave blank for api.replicate.com. "
                  "ComfyUI: your server, e.g. http://192.168.1.20:8188.",
    )
    auth_style = forms.ChoiceField(choices=[("bearer", "Authorization: Bearer <key>"),
                                            ("api-key", "api-key: <key> (Azure)")], initial="bearer")
    # Write-only: never rendered back into the page.
    api_key = forms.CharField(required=False, label="API key", widget=forms.PasswordInput(render_value=False),
                              strip=True)
    webhook_secret = forms.CharField(required=False, label="Webhook signing secret (whsec_…)",
                                     widget=forms.PasswordInput(render_value=False), strip=True)

    def __init__(self, *args, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.editing = editing
        if editing:
            self.fields["kind"].disabled = True
            self.fields["api_key"].help_text = "Leave blank to keep the stored key."
            self.fields["webhook_secret"].help_text = "Leave blank to keep the stored secret."

    def clean_api_key(self):
        # It goes into an HTTP header, where a line break inside is illegal (the test call would crash).
        key = self.cleaned_data["api_key"]
        if any(character.isspace() for character in key):
            raise forms.ValidationError("An API key has no spaces or line breaks inside; paste it again.")
        return key

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") == "openai-videos" and not cleaned.get("base_url"):
            self.add_error("base_url", "An OpenAI-format connection needs the gateway's base URL, e.g. https://gateway.example/v1.")
        if cleaned.get("kind") == "comfyui" and not cleaned.get("base_url"):
            self.add_error("base_url", "A ComfyUI connection needs your server's address, e.g. http://192.168.1.20:8188.")
        # ComfyUI has no auth of its own; a key is only for a reverse proxy in front of it.
        if not self.editing and not cleaned.get("api_key") and cleaned.get("kind") != "comfyui":
            self.add_error("api_key", "Paste the API key for this provider.")
        return cleaned


class RegisterModelForm(RefuseControlCharacters, forms.Form):
    model_id = forms.CharField(max_length=200, label="Model id (as the gateway names it)")
    display_name = forms.CharField(max_length=200, required=False)
    sizes = forms.CharField(help_text="Comma-separated, e.g. 1280x720, 720x1280")
    durations = forms.CharField(help_text="Comma-separated seconds, e.g. 5, 10")
    price_per_second = forms.DecimalField(min_value=0, max_digits=8, decimal_places=4, label="Price per second (US$)")
    image_input = forms.BooleanField(required=False, label="Accepts a reference image")
    native_characters = forms.BooleanField(required=False,
                                           label="Has native characters (POST /videos/characters)")
    supports_remix = forms.BooleanField(required=False, label="Can remix a finished video (POST /videos/{id}/remix)")
    typical_seconds = forms.IntegerField(
        required=False, min_value=1, max_value=3600, label="Typical job time (seconds)",
        help_text="How long a job usually takes; the first polls are planned from it. Leave blank if unknown.")
    extra_fields = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Extra fields the gateway accepts",
        help_text="One name=value a line, sent with every create of this model (e.g. quality=high). "
                  "Nothing else beyond the OpenAI format is sent.")

    def clean_extra_fields(self) -> dict[str, str]:
        extra = {}
        for line in self.cleaned_data["extra_fields"].splitlines():
            if not line.strip():
                continue
            name, sep, value = line.partition("=")
            if not sep or not name.strip():
                raise forms.ValidationError(f"Write each extra field as name=value (not “{line.strip()[:40]}”).")
            if name.strip() in extra:
                raise forms.ValidationError(f"“{name.strip()}” is given twice.")
            extra[name.strip()] = value.strip()
        problems = declared_fields_problems({"extra": extra})
        if problems:
            raise forms.ValidationError(problems)
        return extra

    def clean_sizes(self):
        import re

        sizes = [s.strip() for s in self.cleaned_data["sizes"].split(",") if s.strip()]
        bad = [s for s in sizes if not re.fullmatch(r"\d{2,5}x\d{2,5}", s)]
        if bad or not sizes:
            raise forms.ValidationError(f"Sizes are WIDTHxHEIGHT, e.g. 1280x720 (not {', '.join(bad) or 'empty'}).")
        return sizes

    def clean_durations(self):
        try:
            durations = sorted({int(d) for d in self.cleaned_data["durations"].split(",") if d.strip()})
        except ValueError:
            raise forms.ValidationError("Durations are whole seconds separated by commas, e.g. 5, 10.")
        if not durations or durations[0] < 1 or durations[-1] > 120:
            raise forms.ValidationError("Durations are between 1 and 120 seconds.")
        return durations


class WorkflowUploadForm(RefuseControlCharacters, forms.Form):
    name = forms.CharField(max_length=120, help_text="How the model is listed in the render form, e.g. LTX-Video 2B")
    file = forms.FileField(label="Workflow (API format JSON)",
                           help_text="In ComfyUI: Workflow › Export (API).")


class WorkflowMappingForm(RefuseControlCharacters, forms.Form):
    """Which literal input of the graph takes each value the studio fills; the model's limits and price."""

    ROLE_LABELS: ClassVar[dict[str, str]] = {"prompt": "Prompt", "negative_prompt": "Negative prompt", "width": "Width", "height": "Height",
                   "length": "Length (frames)", "fps": "Frame rate", "seed": "Seed", "image": "Reference image"}

    frames_rule = forms.ChoiceField(choices=(), label="Frames rule",
                                    help_text="LTX-Video renders 8n+1 frames; Wan 2.x 4n+1.")
    fps = forms.IntegerField(min_value=1, max_value=120, label="Frames per second")
    sizes = forms.CharField(help_text="Comma-separated, e.g. 768x512, 512x768 (LTX: multiples of 32)")
    durations = forms.CharField(help_text="Comma-separated seconds, e.g. 2, 3, 4, 5")
    price_per_second = forms.DecimalField(min_value=0, max_digits=8, decimal_places=4, initial=0,
                                          label="Price per second (US$, 0 for your own GPU)")

    clean_sizes = RegisterModelForm.clean_sizes
    clean_durations = RegisterModelForm.clean_durations

    def __init__(self, *args, literals=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["frames_rule"].choices = FramesRule.choices
        choices = [("", "— not used —")] + [(i.key, i.label) for i in literals]
        roles = {f"input_{role}": forms.ChoiceField(choices=choices, required=False, label=label)
                 for role, label in self.ROLE_LABELS.items()}
        self.fields = {**roles, **self.fields}

    def mapped_inputs(self) -> dict:
        return {role: self.cleaned_data[f"input_{role}"].split("|", 1) for role in self.ROLE_LABELS
                if self.cleaned_data.get(f"input_{role}")}
