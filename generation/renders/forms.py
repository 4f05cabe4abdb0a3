"""Forms of booking takes: one scene, a batch, a remix, an extension, a retry, a re-target."""


from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext_lazy as _

from generation import catalog
from generation.renders.retarget import parse_shown
from projects.inputs import RefuseControlCharacters, parse_id
from projects.models import Scene

if TYPE_CHECKING:
    from typing import Any

    from projects.models import Team


STALE_FORM = {"required": _("This form is out of date; reload the page and try again."),
              "invalid": _("This form is out of date; reload the page and try again.")}


class RenderForm(RefuseControlCharacters, forms.Form):
    # Not a ChoiceField: a model that retired since the page was drawn (or a hand-made value)
    # is refused with the live models that fit the scene, not with "not one of the choices".
    target = forms.CharField(label=_("Provider and model"), max_length=260, error_messages={
        "required": _("Choose one of your team's providers and models, then try again.")})
    # Minted when the form is drawn; the same click resent finds the same take.
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4, error_messages=STALE_FORM)

    def __init__(self, *args: Any, team: Team, scenes: Iterable[Scene] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.team, self.scenes = team, list(scenes)
        self.targets = {t.value: t for t in catalog.available_targets(team)}

    def clean_target(self) -> str:
        value: str = self.cleaned_data["target"]
        if value not in self.targets:
            raise forms.ValidationError(catalog.refusal_for_value(self.team, value, scenes=self.refused_for()))
        return value

    def refused_for(self) -> list[Any]:
        """The scenes a refused model's alternatives must fit."""
        return self.scenes

    @property
    def chosen(self) -> catalog.Target:
        return self.targets[self.cleaned_data["target"]]


class PlannedScenesForm(RenderForm):
    """Booking what a plan showed: `scenes` are the ids of the scenes it listed, `plan_target` the model it was
    for. Subclasses say what else must not have moved since (`stale_model` is their words for a changed model)."""

    # A declared field: Django moves it to base_fields, so on an instance `scenes` stays RenderForm's list.
    scenes = forms.CharField(widget=forms.HiddenInput, required=False)  # type: ignore[assignment]
    plan_target = forms.CharField(widget=forms.HiddenInput, error_messages=STALE_FORM)
    stale_model: Any = ""

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("target") and cleaned.get("plan_target") and cleaned["target"] != cleaned["plan_target"]:
            raise forms.ValidationError(self.stale_model)
        return cleaned

    def _posted_ids(self, text: str) -> list[int | None]:
        return [parse_id(part) for part in text.split(",") if part.strip()]

    def refused_for(self) -> list[Any]:
        ids = self._posted_ids(str(self.data.get("scenes", "")))
        return list(Scene.objects.filter(project__team=self.team, pk__in=[i for i in ids if i]))

    def clean_scenes(self) -> list[int]:
        given = self._posted_ids(self.cleaned_data["scenes"])
        ids = [pk for pk in given if pk is not None]
        if len(ids) != len(given):  # not an id we could have drawn: text, "²", past bigint
            raise forms.ValidationError(STALE_FORM["invalid"])
        return ids


class BatchRenderForm(PlannedScenesForm):
    """Render many scenes on one model; `scenes` are the ids of the scenes the plan showed."""

    # What the shown plan was for: booking refuses if the model or the total moved since.
    plan_total = forms.DecimalField(widget=forms.HiddenInput, min_value=0, error_messages=STALE_FORM)
    # The plan is shown a page at a time: its fingerprint (batch.BatchPlan.digest) says which scenes at which
    # prices the user confirmed, all of them, not only the page in view.
    plan_digest = forms.RegexField(widget=forms.HiddenInput, regex=r"^[0-9a-f]{32}$", error_messages=STALE_FORM)
    stale_model = _("The model changed after the plan was shown; check the plan below and click again.")


class RemixForm(RefuseControlCharacters, forms.Form):
    prompt = forms.CharField(max_length=32000, error_messages={"required": _("Describe what should change in the remix.")})
    # Only for a take whose checks failed: an owner's reason to remix it anyway (services.render_remix).
    override_reason = forms.CharField(required=False, max_length=5000)
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4, error_messages=STALE_FORM)


class ExtendForm(RefuseControlCharacters, forms.Form):
    # "model@seconds": a model of the take's connection and a length it extends by (extension.extend_options).
    choice = forms.CharField(max_length=260, error_messages={"required": _("Choose how much to extend the take by.")})
    prompt = forms.CharField(required=False, max_length=32000)
    # Only for a take whose checks failed: an owner's reason to extend it anyway (extension.render_extend).
    override_reason = forms.CharField(required=False, max_length=5000)
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4, error_messages=STALE_FORM)


class RetryForm(RefuseControlCharacters, forms.Form):
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4, error_messages=STALE_FORM)


class RetargetForm(RenderForm):
    """Move scenes to `target`; `shown` is what the plan showed ("scene:version,…"), nothing else moves."""

    shown = forms.CharField(widget=forms.HiddenInput, required=False)
    # A move books nothing: doing it twice changes nothing more. (None is how Django drops an inherited field.)
    idempotency_key = None  # type: ignore[assignment]

    def clean_shown(self) -> list[tuple[int, int]]:
        if not self.cleaned_data["shown"]:
            raise forms.ValidationError(_("No scene can move to this model: nothing was changed."))
        return parse_shown(self.cleaned_data["shown"])


class ShotGroupForm(PlannedScenesForm):
    """Several consecutive scenes as one multi-shot take; `scenes` the ids the plan showed, in board order."""

    scenes = forms.CharField(widget=forms.HiddenInput, error_messages=STALE_FORM)
    # What the shown plan was for: booking refuses if the model changed, or the cost rose, since.
    plan_cost = forms.DecimalField(widget=forms.HiddenInput, min_value=0, max_digits=14, decimal_places=4,
                                   error_messages=STALE_FORM)
    stale_model = _("The model changed after the take was shown; check it below and click again.")

    def __init__(self, *args: Any, team: Team, **kwargs: Any) -> None:
        super().__init__(*args, team=team, **kwargs)
        self.targets = {value: t for value, t in self.targets.items() if t.model.multi_shot}

    def clean_scenes(self) -> list[int]:
        ids = super().clean_scenes()
        if not ids:
            raise forms.ValidationError(STALE_FORM["invalid"])
        return ids


class RenderAloneForm(RenderForm):
    """One scene of a multi-shot take on its own, on the chosen model."""
