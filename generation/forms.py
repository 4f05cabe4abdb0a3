import uuid

from django import forms

from generation.providers import all_providers


def provider_model_choices():
    return [
        (f"{p.key}:{m.id}", f"{p.name} — {m.name}")
        for p in all_providers().values()
        for m in p.models
    ]


class RenderForm(forms.Form):
    target = forms.ChoiceField(label="Provider and model")
    # Minted when the form is drawn; the same click resent finds the same take.
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = provider_model_choices()

    @property
    def provider_key(self) -> str:
        return self.cleaned_data["target"].split(":", 1)[0]

    @property
    def model_id(self) -> str:
        return self.cleaned_data["target"].split(":", 1)[1]


class RetryForm(forms.Form):
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)
