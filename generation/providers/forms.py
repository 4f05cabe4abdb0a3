"""Forms of a team's provider connections: adding one, registering a model, mapping a
ComfyUI workflow, accepting the model changes its provider published."""


from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, ClassVar, cast

from django import forms
from django.utils import timezone
from django.utils.functional import Promise, lazy
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from generation import catalog
from generation.models import (
    LOOKUP_WINDOW_DEFAULT,
    LOOKUP_WINDOW_MAX,
    LOOKUP_WINDOW_MIN,
    CatalogModel,
    ConnectionKind,
    ExtendReturns,
    FramesRule,
    Lifecycle,
    ProposedChangeKind,
    ProviderConnection,
    ShotTiming,
)
from generation.providers import Credentials, WebhookScheme, facts_for, outbound, remote_kinds
from generation.providers.base import ProviderFacts
from generation.providers.catalog_sync import GONE_GRACE_DAYS, Decision
from generation.providers.google_auth import KeyProblem, service_account_from_json
from generation.providers.openai_videos import declared_fields_problems
from generation.providers.vertex import bucket_problem, project_problem, region_problem
from projects.inputs import RefuseControlCharacters, refuse_control_characters

if TYPE_CHECKING:
    from typing import Any

    from generation.models import CatalogModel



def _base_url_help() -> str:
    """Per provider, the address used when the field is blank, or what to give (from each adapter)."""
    lines = []
    for kind, label in remote_kinds():
        facts = facts_for(kind)
        if facts is None:  # remote kinds all have an adapter
            continue
        lines.append(gettext("{provider}: leave blank for {url}.").format(provider=label, url=facts.default_base_url)
                     if facts.default_base_url else
                     gettext("{provider}: required, e.g. {example}.").format(provider=label,
                                                                               example=facts.base_url_example))
    lines.append(gettext("An address on your network works once the studio's operator allows it."))
    return " ".join(lines)


class WriteOnlyTextarea(forms.Textarea):
    """A secret pasted over several lines (a service account's JSON key): never rendered back into the
    page, not even when the form comes back with an error."""

    def format_value(self, value: object) -> None:
        return None


DEFAULT_REGION = "us-central1"  # where Google serves Veo 3.1 on Vertex AI


class ConnectionForm(RefuseControlCharacters, forms.Form):
    # Every remote kind the studio has an adapter for (the local previz is built in).
    # Labels from the model's fields, so the admin and this form name them alike, in the reader's language.
    kind = forms.ChoiceField(choices=remote_kinds, label=capfirst(ProviderConnection._meta.get_field("kind").verbose_name))
    label = forms.CharField(max_length=120, label=capfirst(ProviderConnection._meta.get_field("label").verbose_name))
    base_url = forms.URLField(required=False, label=_("Base URL"), assume_scheme="https",
                              help_text=lazy(_base_url_help, str)())
    auth_style = forms.ChoiceField(choices=[("bearer", "Authorization: Bearer <key>"),
                                            ("api-key", "api-key: <key> (Azure)")], initial="bearer",
                                   label=capfirst(ProviderConnection._meta.get_field("auth_style").verbose_name),
                                   help_text=_("Only an OpenAI-format gateway lets you choose: every other "
                                               "provider has its own header."))
    # Write-only: never rendered back into the page.
    api_key = forms.CharField(required=False, label=_("API key"), widget=forms.PasswordInput(render_value=False),
                              strip=True)
    webhook_secret = forms.CharField(required=False, label=_("Webhook signing secret (whsec_…)"),
                                     widget=forms.PasswordInput(render_value=False), strip=True)
    # Google Vertex AI (ProviderFacts.credentials and cloud_project): a service account, a project, a region.
    service_account_key = forms.CharField(
        required=False, label=_("Service account key (JSON)"), max_length=20_000,
        widget=WriteOnlyTextarea(attrs={"rows": 4, "spellcheck": "false", "autocomplete": "off"}),
        help_text=_("Google Vertex AI only: paste the whole JSON key of a service account with the Vertex AI User "
                    "role (IAM & Admin › Service accounts › Keys › Add key › Create new key › JSON). Stored encrypted and never "
                    "shown again."))
    project = forms.CharField(
        required=False, max_length=100, label=_("Google Cloud project id"),
        help_text=_("Google Vertex AI only: the project that runs and pays for the videos; blank for the key's own "
                    "project."))
    region = forms.CharField(
        required=False, max_length=40, label=_("Region"),
        help_text=_("Google Vertex AI only: where Veo runs; blank for us-central1."))
    output_uri = forms.CharField(
        required=False, max_length=300, label=_("Output bucket (gs://…)"),
        help_text=_("Google Vertex AI only, optional: Google writes each video to this Cloud Storage folder and the "
                    "studio reads it from there with the service account (which then needs Storage Object Viewer on "
                    "the bucket). Blank: videos come back in Google's answer."))
    lookup_window_seconds = forms.IntegerField(
        required=False, min_value=LOOKUP_WINDOW_MIN, max_value=LOOKUP_WINDOW_MAX, initial=LOOKUP_WINDOW_DEFAULT,
        label=_("Look-up window after an unclear answer (seconds)"),
        help_text=_("When a create times out or gets a 5xx, the studio looks for the job in the provider's list "
                    "for this long before sending it again (with the same key), and after a resend watches as "
                    "long for a second job. Raise it for a gateway that forwards slowly. 30 to 3600; blank for "
                    "300."),
        error_messages={
            "min_value": _("At least 30 seconds: a gateway needs that long to list a job it took."),
            "max_value": _("At most 3600 seconds (an hour): longer only keeps a take waiting."),
            "invalid": _("Write the window as a whole number of seconds, e.g. 300."),
        })

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.editing = editing
        if editing:
            self.fields["kind"].disabled = True
            self.fields["api_key"].help_text = _("Leave blank to keep the stored key.")
            self.fields["webhook_secret"].help_text = _("Leave blank to keep the stored secret.")
            self.fields["service_account_key"].help_text = _("Leave blank to keep the stored key.")

    def clean_base_url(self) -> str:
        # Refused now, in words, rather than when the worker first calls it (outbound.py refuses then too).
        url: str = self.cleaned_data["base_url"]
        problem = outbound.url_problem(url) if url else None
        if problem:
            raise forms.ValidationError(problem)
        return url

    def clean_api_key(self) -> str:
        # It goes into an HTTP header, where a line break inside is illegal (the test call would crash).
        key: str = self.cleaned_data["api_key"]
        if any(character.isspace() for character in key):
            raise forms.ValidationError(_("An API key has no spaces or line breaks inside; paste it again."))
        return key

    def clean_lookup_window_seconds(self) -> int:
        value = self.cleaned_data["lookup_window_seconds"]
        return LOOKUP_WINDOW_DEFAULT if value is None else value

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        facts = facts_for(cleaned.get("kind") or "")
        if facts is None:
            return cleaned  # the kind itself was refused
        # A base URL already refused (not a URL, an address the studio does not call) is not also "missing".
        missing_url = not cleaned.get("base_url") and "base_url" not in self.errors
        if not facts.default_base_url and missing_url:
            self.add_error("base_url", gettext("This connection needs {what}, e.g. {example}.")
                           .format(what=facts.base_url_words, example=facts.base_url_example))
        if facts.credentials == Credentials.SERVICE_ACCOUNT:
            self._clean_service_account(cleaned, facts)
        else:
            if not self.editing and not cleaned.get("api_key") and facts.key_required:
                self.add_error("api_key", _("Paste the API key for this provider."))
            if cleaned.get("service_account_key"):
                self.add_error("service_account_key", gettext(
                    "{provider} takes an API key, not a service account key: paste its key under API key.")
                    .format(provider=facts.title))
        self._clean_cloud_project(cleaned, facts)
        if cleaned.get("auth_style", "bearer") != "bearer" and not facts.auth_configurable:
            self.add_error("auth_style", gettext("{provider} takes its key as {header}: leave this on Bearer.")
                           .format(provider=facts.title, header=gettext(facts.auth_header)))
        if cleaned.get("webhook_secret") and facts.webhooks != WebhookScheme.STANDARD:
            self.add_error("webhook_secret", gettext(
                "{provider} signs its webhooks with its own published keys: there is no secret to paste."
                if facts.webhooks == WebhookScheme.FAL_KEYS else
                "{provider} sends no webhooks (the studio polls each take): there is no secret to paste.")
                .format(provider=facts.title))
        return cleaned


    def _clean_service_account(self, cleaned: dict[str, Any], facts: ProviderFacts) -> None:
        key = cleaned.get("service_account_key") or ""
        if cleaned.get("api_key"):
            self.add_error("api_key", gettext("{provider} takes a service account's JSON key, not an API key: paste "
                                              "the key file under Service account key.").format(provider=facts.title))
        if not key and self.editing:
            return  # the stored key stays
        try:
            self.service_account = service_account_from_json(key)
        except KeyProblem as problem:
            self.add_error("service_account_key", problem.message)

    def _clean_cloud_project(self, cleaned: dict[str, Any], facts: ProviderFacts) -> None:
        names = ("project", "region", "output_uri")
        if not facts.cloud_project:
            for name in names:
                if cleaned.get(name):
                    self.add_error(name, gettext("{provider} needs no Google Cloud setting: leave this empty.")
                                   .format(provider=facts.title))
            return
        account = getattr(self, "service_account", None)
        cleaned["project"] = (cleaned.get("project") or "").strip() or (account.project_id if account else "")
        cleaned["region"] = (cleaned.get("region") or "").strip() or DEFAULT_REGION
        cleaned["output_uri"] = (cleaned.get("output_uri") or "").strip().rstrip("/")
        if not cleaned["project"]:
            if "service_account_key" not in self.errors:
                self.add_error("project", gettext("Give the Google Cloud project id that runs the videos "
                                                  "(e.g. my-studio-123)."))
        elif problem := project_problem(cleaned["project"]):
            self.add_error("project", problem)
        if problem := region_problem(cleaned["region"]):
            self.add_error("region", problem)
        if not facts.output_bucket and cleaned["output_uri"]:
            self.add_error("output_uri", gettext("{provider} cannot write to a bucket: leave this empty.")
                           .format(provider=facts.title))
        elif problem := bucket_problem(cleaned["output_uri"]):
            self.add_error("output_uri", problem)


class ContinuityFields(forms.Form):
    """What a model declares for continuity, as an owner writes it (the catalog entry page, gateway registration).

    Fields the kind's wire cannot carry (an end frame, likeness references on the OpenAI format) are not
    offered: `kind` says which (each adapter declares what it sends)."""

    end_frame = forms.BooleanField(required=False, label=_("Takes an end frame (the video ends on a given image)"))
    reference_images = forms.IntegerField(
        required=False, min_value=0, max_value=10, initial=0, label=_("Likeness reference images it takes"),
        help_text=_("How many images of the cast it keeps a likeness from; 0 for none."))
    extend_seconds = forms.CharField(
        required=False, max_length=300, label=_("Can extend a finished take by (seconds)"),
        help_text=_("Comma-separated whole seconds, e.g. 7; empty if it cannot extend a take."))
    extend_returns = forms.ChoiceField(
        required=False, label=_("An extension returns"), choices=[("", "—"), *ExtendReturns.choices])
    shot_timing = forms.ChoiceField(
        required=False, label=_("Several shots in one take"),
        choices=[("", _("no: one shot per request")), *ShotTiming.choices])
    shots_max = forms.IntegerField(required=False, min_value=2, max_value=50, label=_("Most shots in one take"),
                                   help_text=_("Empty: no stated limit."))
    shots_seconds_min = forms.IntegerField(required=False, min_value=1, max_value=600,
                                           label=_("Multi-shot take: shortest in all (seconds)"))
    shots_seconds_max = forms.IntegerField(required=False, min_value=1, max_value=600,
                                           label=_("Multi-shot take: longest in all (seconds)"))
    shot_min_seconds = forms.IntegerField(required=False, min_value=1, max_value=600,
                                          label=_("Shortest single shot (seconds)"))

    CONTINUITY = ("end_frame", "reference_images", "extend_seconds", "extend_returns", "shot_timing", "shots_max",
                  "shots_seconds_min", "shots_seconds_max", "shot_min_seconds")

    def drop_what_the_wire_cannot_carry(self, kind: str) -> None:
        facts = facts_for(kind)
        if facts is None:
            return
        if not facts.sends_end_frame:
            self.fields.pop("end_frame", None)
        if not facts.sends_reference_images:
            self.fields.pop("reference_images", None)
        if not facts.extends:
            self.fields.pop("extend_seconds", None)
            self.fields.pop("extend_returns", None)

    def clean_extend_seconds(self) -> list[int]:
        text = self.cleaned_data.get("extend_seconds") or ""
        return durations_clean(text) if text.strip() else []

    def continuity(self) -> dict[str, Any]:
        """The declaration as CatalogModel fields (what the form does not offer stays as it is)."""
        data = {name: self.cleaned_data.get(name) for name in self.CONTINUITY if name in self.fields}
        if "reference_images" in data:
            data["reference_images"] = data["reference_images"] or 0
        if "end_frame" in data:
            data["end_frame"] = bool(data["end_frame"])
        if "extend_returns" in self.fields:
            data["extend_returns"] = data.get("extend_returns") or ""
        data["shot_timing"] = data.get("shot_timing") or ""
        return data

    def continuity_problems(self, *, input_kinds: list[str]) -> list[str]:
        """What the declaration says that cannot be so (the catalog's one rule, CatalogModel.capability_problems)."""
        probe = CatalogModel(input_kinds=input_kinds, **self.continuity())
        return probe.capability_problems()

    @staticmethod
    def continuity_initial(model: CatalogModel) -> dict[str, Any]:
        return {"end_frame": model.end_frame, "reference_images": model.reference_images,
                "extend_seconds": ", ".join(str(s) for s in model.extend_seconds or []),
                "extend_returns": model.extend_returns, "shot_timing": model.shot_timing,
                "shots_max": model.shots_max, "shots_seconds_min": model.shots_seconds_min,
                "shots_seconds_max": model.shots_seconds_max, "shot_min_seconds": model.shot_min_seconds}


class RegisterModelForm(RefuseControlCharacters, ContinuityFields):
    """A model an OpenAI-format gateway serves; what the format cannot carry (an end frame, likeness
    references) is not offered."""

    model_id = forms.CharField(max_length=200, label=_("Model id (as the gateway names it)"))
    display_name = forms.CharField(max_length=200, required=False, label=_("Display name"))
    sizes = forms.CharField(label=_("Sizes"), help_text=_("Comma-separated, e.g. 1280x720, 720x1280"))
    durations = forms.CharField(label=_("Durations"), help_text=_("Comma-separated seconds, e.g. 5, 10"))
    price_per_second = forms.DecimalField(min_value=0, max_digits=8, decimal_places=4, label=_("Price per second (US$)"))
    image_input = forms.BooleanField(required=False, label=_("Accepts a reference image"))
    native_characters = forms.BooleanField(required=False,
                                           label=_("Has native characters (POST /videos/characters)"))
    supports_remix = forms.BooleanField(required=False, label=_("Can remix a finished video (POST /videos/{id}/remix)"))
    typical_seconds = forms.IntegerField(
        required=False, min_value=1, max_value=3600, label=_("Typical job time (seconds)"),
        help_text=_("How long a job usually takes; the first polls are planned from it. Leave blank if unknown."))
    extra_fields = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label=_("Extra fields the gateway accepts"),
        help_text=_("One name=value a line, sent with every create of this model (e.g. quality=high). "
                  "Nothing else beyond the OpenAI format is sent."))
    storyboard_field = forms.CharField(
        required=False, max_length=64, label=_("Storyboard field (several shots in one request)"),
        help_text=_("The request field the gateway reads a shot list from, as JSON [{start, end, prompt}] in "
                    "seconds, for models declaring several shots. Blank: the shots are written in the prompt "
                    "(Shot 1 [0-3s] …)."))

    def clean_storyboard_field(self) -> str:
        field = str(self.cleaned_data["storyboard_field"]).strip()
        if field and (problems := declared_fields_problems({"storyboard": field})):
            raise forms.ValidationError(problems)
        return field

    def clean_extra_fields(self) -> dict[str, str]:
        extra = {}
        for line in self.cleaned_data["extra_fields"].splitlines():
            if not line.strip():
                continue
            name, sep, value = line.partition("=")
            if not sep or not name.strip():
                raise forms.ValidationError(_("Write each extra field as name=value (not “%(line)s”).") % {"line": line.strip()[:40]})
            if name.strip() in extra:
                raise forms.ValidationError(_("“%(name)s” is given twice.") % {"name": name.strip()})
            extra[name.strip()] = value.strip()
        problems = declared_fields_problems({"extra": extra})
        if problems:
            raise forms.ValidationError(problems)
        return extra

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.drop_what_the_wire_cannot_carry(ConnectionKind.OPENAI_VIDEOS)
        # Registration declares what the gateway adds; the rest of the form comes first.
        self.order_fields([f for f in self.fields if f not in self.CONTINUITY] + list(self.CONTINUITY))

    def clean_sizes(self) -> list[str]:
        return sizes_clean(self.cleaned_data["sizes"])

    def clean_durations(self) -> list[int]:
        return durations_clean(self.cleaned_data["durations"])

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if not self.errors:
            for problem in self.continuity_problems(input_kinds=["text"] + (["image"] if cleaned.get("image_input")
                                                                           else [])):
                self.add_error(None, problem)
        return cleaned


SIZE = re.compile(r"([0-9]{1,5})x([0-9]{1,5})")


def sizes_clean(text: str) -> list[str]:
    """A model's sizes as an owner writes them ("1280x720, 720x1280"): ASCII digits, 1–8192 px, no repeats.
    The one rule for registering a model and for editing a catalog entry."""
    sizes = []
    for size in (s.strip() for s in text.split(",")):
        match = SIZE.fullmatch(size)
        if not match or not all(0 < int(n) <= 8192 for n in match.groups()):
            raise forms.ValidationError(
                _("“%(size)s” is not a size. Sizes are WIDTHxHEIGHT in pixels, e.g. 1280x720.") % {"size": size[:40]}
                if size else _("Sizes are WIDTHxHEIGHT separated by commas, e.g. 1280x720, 720x1280."))
        if size not in sizes:
            sizes.append(size)
    return sizes


def durations_clean(text: str) -> list[int]:
    """A model's durations in whole seconds from 1 to 120 ("4, 8"), sorted, no repeats."""
    durations = set()
    for seconds in (d.strip() for d in text.split(",")):
        if not (seconds.isascii() and seconds.isdigit()) or not 0 < int(seconds) <= 120:
            raise forms.ValidationError(
                _("“%(seconds)s” is not a length: durations are whole seconds from 1 to 120, e.g. 4, 8.")
                % {"seconds": seconds[:40]} if seconds else _("Durations are whole seconds separated by commas, e.g. 4, 8."))
        durations.add(int(seconds))
    return sorted(durations)
MAX_PRICE = Decimal("100")  # US$ a second: far above any provider's list price, so a typo is caught


class CatalogEntryForm(RefuseControlCharacters, ContinuityFields):
    """An owner edits one model a connection offers: what it renders, what it costs, whether it lives."""

    display_name = forms.CharField(max_length=200, label=_("Name in the render form"))
    sizes = forms.CharField(max_length=500, label=_("Sizes"),
                            help_text=_("WIDTHxHEIGHT, comma-separated, e.g. 1280x720, 720x1280"))
    durations = forms.CharField(max_length=500, label=_("Durations"),
                                help_text=_("Whole seconds, comma-separated, e.g. 4, 6, 8"))
    input_kinds = forms.MultipleChoiceField(
        choices=[("text", _("Text (a prompt)")), ("image", _("A reference image (start frame)"))],
        widget=forms.CheckboxSelectMultiple, label=_("Takes"),
        error_messages={"required": _("Tick what the model takes: text, a reference image, or both.")})
    has_audio = forms.BooleanField(required=False, label=_("Renders audio"))
    price_per_second = forms.CharField(
        max_length=500, label=_("Price per second (US$)"),
        help_text=_("One price, e.g. 0.40, or a price per size, e.g. 1280x720=0.05, 1920x1080=0.08, *=0.08 "
                  "(* is any other size)."))
    lifecycle = forms.ChoiceField(choices=Lifecycle.choices, label=_("Lifecycle"))
    lifecycle_date = forms.DateField(
        required=False, label=_("Retires on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Deprecated: the day it retires. Retired: the day it did."))
    typical_seconds = forms.IntegerField(
        required=False, min_value=1, max_value=3600, label=_("Typical job time (seconds)"),
        help_text=_("How long a job usually takes; the first polls are planned from it. Leave blank if unknown."))
    native_characters = RegisterModelForm.base_fields["native_characters"]
    extra_fields = RegisterModelForm.base_fields["extra_fields"]
    storyboard_field = RegisterModelForm.base_fields["storyboard_field"]
    clean_storyboard_field = RegisterModelForm.clean_storyboard_field

    clean_extra_fields = RegisterModelForm.clean_extra_fields

    def __init__(self, *args: Any, declares_fields: bool = False, kind: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not declares_fields:  # only registered models declare fields (ProviderFacts.declares_fields)
            del self.fields["native_characters"], self.fields["extra_fields"], self.fields["storyboard_field"]
        self.drop_what_the_wire_cannot_carry(kind)
        self.order_fields([f for f in self.fields if f not in self.CONTINUITY] + list(self.CONTINUITY))

    @staticmethod
    def initial_for(model: CatalogModel) -> dict[str, Any]:
        prices = model.price_per_second or {}
        price = (f"{Decimal(str(prices['*']))}" if set(prices) == {"*"} else
                 ", ".join(f"{size}={Decimal(str(p))}" for size, p in catalog.prices_in_order(model)))
        return {
            "display_name": model.display_name, "sizes": ", ".join(model.sizes),
            "durations": ", ".join(str(d) for d in model.durations), "input_kinds": model.input_kinds,
            "has_audio": model.has_audio, "price_per_second": price, "lifecycle": model.lifecycle,
            "lifecycle_date": model.lifecycle_date, "typical_seconds": model.typical_seconds,
            "native_characters": model.declares_characters,
            "extra_fields": "\n".join(f"{k}={v}" for k, v in model.extra_fields.items()),
            "storyboard_field": (model.input_schema or {}).get("storyboard", ""),
            **CatalogEntryForm.continuity_initial(model),
        }

    def clean_sizes(self) -> list[str]:
        return sizes_clean(self.cleaned_data["sizes"])

    def clean_durations(self) -> list[int]:
        return durations_clean(self.cleaned_data["durations"])

    def clean_price_per_second(self) -> dict[str, float]:
        prices = {}
        for item in (i.strip() for i in self.cleaned_data["price_per_second"].split(",")):
            size, _sep, price = item.rpartition("=")
            size = size.strip() or "*"
            if size != "*" and not SIZE.fullmatch(size):
                raise forms.ValidationError(_("“%(size)s” is not a size: write 1280x720=0.40, or * for any size.") % {"size": size[:40]})
            if size in prices:
                raise forms.ValidationError(
                    _("%(size)s is given two prices.") % {"size": size} if size != "*" else
                    _("Write one price with a decimal point, e.g. 0.40, or size=price pairs separated by commas."))
            prices[size] = self._price(price.strip())
        return prices

    @staticmethod
    def _price(text: str) -> float:
        try:
            price = Decimal(text)
        except InvalidOperation:
            price = None
        if price is None or not price.is_finite():
            raise forms.ValidationError(_("“%(text)s” is not a price: write US$ a second, e.g. 0.40.") % {"text": text[:40]})
        if price < 0 or price > MAX_PRICE:
            raise forms.ValidationError(_("A price per second is between 0 and %(max)s US$ (not %(text)s).") % {"max": MAX_PRICE, "text": text})
        if price != price.quantize(Decimal("0.0001")):
            raise forms.ValidationError(_("A price per second has at most 4 decimals (not %(text)s).") % {"text": text})
        return float(price)

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        sizes, prices = cleaned.get("sizes"), cleaned.get("price_per_second")
        if sizes and prices:
            stray = [s for s in prices if s != "*" and s not in sizes]
            unpriced = [s for s in sizes if s not in prices]
            if stray:
                self.add_error("price_per_second", _("%(sizes)s is not one of the model's sizes.") % {"sizes": ", ".join(stray)})
            elif unpriced and "*" not in prices:
                self.add_error("price_per_second", _("Give %(sizes)s a price too, or add *=price for any other size.")
                                                   % {"sizes": ", ".join(unpriced)})
        lifecycle, when = cleaned.get("lifecycle"), cleaned.get("lifecycle_date")
        if "lifecycle_date" in self.errors:
            pass  # a date that is not one was already said
        elif lifecycle and when and not datetime.date(2000, 1, 1) <= when <= datetime.date(2100, 1, 1):
            self.add_error("lifecycle_date", _("Give a retirement date between 2000 and 2100."))
        elif lifecycle == Lifecycle.RETIRED and not when:
            self.add_error("lifecycle_date", _("A retired model needs the day it retired."))
        elif lifecycle == Lifecycle.RETIRED and when is not None and when > timezone.localdate():
            self.add_error("lifecycle_date", _("A retired model retired on a day that has come: for a later day "
                                             "choose Deprecated."))
        elif lifecycle == Lifecycle.DEPRECATED and not when:
            self.add_error("lifecycle_date", _("A deprecated model needs the day it retires."))
        elif lifecycle == Lifecycle.DEPRECATED and when is not None and when <= timezone.localdate():
            self.add_error("lifecycle_date", _("That day has come: a model past its retirement date is retired. "
                                             "Choose Retired, or a later date."))
        elif lifecycle == Lifecycle.AVAILABLE and when:
            self.add_error("lifecycle_date", _("An available model has no retirement date: clear it, or choose "
                                             "Deprecated."))
        if cleaned.get("input_kinds") and not any(name in self.errors for name in self.CONTINUITY):
            for problem in self.continuity_problems(input_kinds=cleaned["input_kinds"]):
                self.add_error(None, problem)
        return cleaned

    def declared(self) -> dict[str, Any] | None:
        """The OpenAI format's declared fields, for catalog_entry_update (None for other kinds)."""
        if "extra_fields" not in self.fields:
            return None
        return {"characters": self.cleaned_data["native_characters"], "extra": self.cleaned_data["extra_fields"],
                "storyboard": self.cleaned_data["storyboard_field"]}

    def entry_fields(self) -> dict[str, Any]:
        skip = ("native_characters", "extra_fields", "storyboard_field", *self.CONTINUITY)
        return {**{k: v for k, v in self.cleaned_data.items() if k not in skip}, **self.continuity()}


class WorkflowUploadForm(RefuseControlCharacters, forms.Form):
    name = forms.CharField(max_length=120, label=_("Name"),
                           help_text=_("How the model is listed in the render form, e.g. LTX-Video 2B"))
    file = forms.FileField(label=_("Workflow (API format JSON)"),
                           help_text=_("In ComfyUI: Workflow › Export (API)."))


class WorkflowMappingForm(RefuseControlCharacters, forms.Form):
    """Which literal input of the graph takes each value the studio fills; the model's limits and price."""

    ROLE_LABELS: ClassVar[dict[str, str | Promise]] = {
        "prompt": _("Prompt"), "negative_prompt": _("Negative prompt"), "width": _("Width"), "height": _("Height"),
        "length": _("Length (frames)"), "fps": _("Frame rate"), "seed": _("Seed"),
        "image": _("Reference image (start frame)"), "end_image": _("End frame image"),
        "source_video": _("Source video (the take it extends)"),
                   # A text input that takes several scenes as one take: a JSON list of each shot's words and timing.
                   "shots": _("Shot list (several scenes in one take, as JSON)")}

    frames_rule = forms.ChoiceField(choices=(), label=_("Frames rule"),
                                    help_text=_("LTX-Video renders 8n+1 frames; Wan 2.x 4n+1."))
    fps = forms.IntegerField(min_value=1, max_value=120, label=_("Frames per second"))
    sizes = forms.CharField(label=_("Sizes"), help_text=_("Comma-separated, e.g. 768x512, 512x768 (LTX: multiples of 32)"))
    durations = forms.CharField(label=_("Durations"), help_text=_("Comma-separated seconds, e.g. 2, 3, 4, 5"))
    price_per_second = forms.DecimalField(min_value=0, max_digits=8, decimal_places=4, initial=0,
                                          label=_("Price per second (US$, 0 for your own GPU)"))

    clean_sizes = RegisterModelForm.clean_sizes
    clean_durations = RegisterModelForm.clean_durations

    def __init__(self, *args: Any, literals: Sequence[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["frames_rule"]).choices = FramesRule.choices
        choices = [("", "— not used —")] + [(i.key, i.label) for i in literals]
        roles = {f"input_{role}": forms.ChoiceField(choices=choices, required=False, label=str(label))
                 for role, label in self.ROLE_LABELS.items()}
        self.fields = {**roles, **self.fields}

    def mapped_inputs(self) -> dict[str, Any]:
        return {role: self.cleaned_data[f"input_{role}"].split("|", 1) for role in self.ROLE_LABELS
                if self.cleaned_data.get(f"input_{role}")}


class AcceptChangesForm(forms.Form):
    """An owner accepts proposed model changes: the rows ticked (or every one, with Accept all), with what a
    new model's listing left them to give (its price; its sizes or lengths when the listing says none) and
    the day a model gone from the provider retires."""

    def __init__(self, *args: Any, rows: Sequence[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows = []
        retire_on = timezone.localdate() + datetime.timedelta(days=GONE_GRACE_DAYS)
        for change in rows:
            row, names = change.row, {}
            if change.acceptable:
                names["accept"], names["seen"] = f"accept-{row.pk}", f"seen-{row.pk}"
                self.fields[names["accept"]] = forms.BooleanField(required=False, label=row.display_name)
                self.fields[names["seen"]] = forms.CharField(required=False, max_length=64, initial=row.fingerprint,
                                                             widget=forms.HiddenInput)
                if row.change == ProposedChangeKind.NEW:
                    names["price"] = f"price-{row.pk}"
                    self.fields[names["price"]] = forms.CharField(
                        required=False, max_length=20, label=_("Price per second (US$)"),
                        initial=row.proposed.get("price_per_second") or "")
                    for need, label in (("sizes", _("Sizes")), ("durations", _("Seconds"))):
                        if need in row.needs:
                            names[need] = f"{need}-{row.pk}"
                            self.fields[names[need]] = forms.CharField(required=False, max_length=500, label=label)
                if row.change == ProposedChangeKind.GONE:
                    names["retire_on"] = f"retire_on-{row.pk}"
                    self.fields[names["retire_on"]] = forms.DateField(
                        required=False, initial=retire_on, label=_("Retires on"),
                        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
            self.rows.append((change, {role: self[name] for role, name in names.items()}))
        for field in self.fields.values():  # fields made here: the mixin sees only declared ones
            if isinstance(field, forms.CharField):
                field.validators.append(refuse_control_characters)

    def _chosen(self) -> list[Any]:
        every = "all" in self.data
        return [(change, fields) for change, fields in self.rows
                if fields and (every or self.cleaned_data.get(fields["accept"].name))]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        chosen = self._chosen()
        if not chosen:
            raise forms.ValidationError(gettext("Tick the changes to accept, or press Accept all."))
        for change, fields in chosen:
            for role, parse in (("price", CatalogEntryForm._price), ("sizes", sizes_clean),
                                ("durations", durations_clean)):
                if role in fields and (text := (cleaned.get(fields[role].name) or "").strip()):
                    try:
                        cleaned[fields[role].name] = parse(text)
                    except forms.ValidationError as exc:
                        self.add_error(fields[role].name, exc)
        return cleaned

    def decisions(self) -> dict[int, Decision]:
        decisions = {}
        for change, fields in self._chosen():
            value = {role: self.cleaned_data.get(bound.name) for role, bound in fields.items()}
            price = value.get("price")
            decisions[change.row.pk] = Decision(
                fingerprint=value.get("seen") or "", price=Decimal(str(price)) if isinstance(price, float) else None,
                sizes=value.get("sizes") or None, durations=value.get("durations") or None,
                retire_on=value.get("retire_on"))
        return decisions

    def add_row_problems(self, problems: dict[int, list[str]]) -> None:
        """A refusal from the service, beside each row it is about (above the rows for one no longer shown)."""
        shown = set()
        for change, fields in self.rows:
            for words in problems.get(change.row.pk, []):
                self.add_error(fields["accept"].name if fields else None, words)
                shown.add(change.row.pk)
        for words in (w for pk, ws in problems.items() if pk not in shown for w in ws):
            self.add_error(None, words)
