import uuid

from django import template
from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from generation.catalog import ALTERNATIVES_MARKS, available_targets, refusal_for_value
from generation.models import Render, Status, kinds_words
from generation.providers import CancelRefund, facts_for
from generation.renders.continuity import end_source, start_source
from generation.renders.delivery import delivery_summary as summary
from generation.renders.extension import extend_options as options_for_extending
from projects import money
from projects.form_errors import error_text

register = template.Library()


@register.simple_tag
def idempotency_key() -> str:
    """A fresh key for a one-click form: resending that form finds the same take."""
    return str(uuid.uuid4())


@register.simple_tag
def render_options(render_form, scene) -> list[dict]:
    """The render form's choices for one scene, with its cost and whether it fits."""
    options = []
    for value, target in render_form.targets.items():
        problems = target.model.problems_for(size=scene.size, seconds=scene.duration)
        options.append({
            "value": value,
            "label": target.label,
            "estimate": target.estimate(size=scene.size, seconds=scene.duration),
            "problem": " ".join(problems),
            # The form starts on the scene's chosen model, when it has one.
            "selected": value == (render_form["target"].value() or scene.target_value),
        })
    return options


@register.simple_tag
def previz_target(render_form, scene) -> str:
    """The render form's value for the free local previz of this scene (its size and length fit), or "".
    The previz is the connection whose adapter is built in (its facts say so), not a kind compared here."""
    for value, target in getattr(render_form, "targets", {}).items():
        if ((facts := facts_for(target.connection.kind)) is not None and facts.built_in
                and not target.model.problems_for(size=scene.size, seconds=scene.duration)
                and not target.estimate(size=scene.size, seconds=scene.duration)):
            return value
    return ""


@register.filter
def finished_takes(takes) -> list:
    """Takes that can be watched side by side: finished and not withheld, newest first."""
    return [t for t in takes if t.is_watchable]


@register.simple_tag
def delivery_summary(take) -> str:
    """ "Delivered 720×1280, 2.0 s; booked 1280×720, 4 s" for a take that differs from its booking."""
    return summary(take)


@register.filter
def signed_money(amount) -> str:
    """A cost difference as "+$0.80", "−$1.20" or "$0.00"."""
    sign = "+" if amount > 0 else "−" if amount < 0 else ""
    return f"{sign}{money.usd(abs(amount))}"


@register.simple_tag
def chosen_model_refusal(render_form, scene) -> str:
    """Why the model chosen for the scene can no longer render it (retired, or gone), with what fits; or ""."""
    value = scene.target_value
    if not value or value in render_form.targets:
        return ""
    return refusal_for_value(render_form.team, value, scenes=[scene])


@register.filter
def refuses_model(error) -> bool:
    """True for a refusal of a retired or unknown model (it names the alternatives): offer to move the scene."""
    return any(mark in str(error or "") for mark in ALTERNATIVES_MARKS)


@register.simple_tag
def shot_of(take) -> dict | None:
    """For a part of a multi-shot take: which shot it is, of how many scenes, and what the take cost (recorded
    once, on its lead) with this scene's share by length; None for any other take."""
    if take.shot_group_id is None:
        return None
    shot = take.recipe.get("shot") or {}
    lead = take if take.leads_group else (Render.objects.filter(pk=take.shot_group.lead_id)
                                          .only("cost", "billed_cost", "cost_given_back").first())
    whole = lead.recorded_cost if lead is not None else take.recorded_cost
    return {"number": (take.shot_index or 0) + 1, "of": shot.get("of") or len(shot.get("scenes", [])) or 1,
            "scenes": shot.get("scenes", []), "whole": whole, "share": whole * (take.cost_share or 0),
            "given_back": bool(lead and lead.cost_given_back), "estimated": bool(lead and lead.billed_cost is None)}


@register.simple_tag
def alone_targets(take) -> list[dict]:
    """The models one scene of a multi-shot take can render on alone: those that render single scenes of its
    size and length, the take's own model first when it can."""
    scene = take.scene
    options = [{"value": t.value, "label": t.label, "estimate": t.estimate(size=scene.size, seconds=scene.duration),
                "selected": t.connection.pk == take.connection_id and t.model.model_id == take.model}
               for t in available_targets(scene.project.team)
               if not t.model.problems_for(size=scene.size, seconds=scene.duration)]
    return sorted(options, key=lambda o: not o["selected"])


@register.simple_tag
def cancel_offer(take) -> dict:
    """The take card's cancel button and its confirmation, in what canceling does at the take's
    provider (ProviderFacts): stopped and maybe billed for the work done, stopped but not refunded,
    or not stoppable at all, so the studio only stops watching it. A part of a multi-shot take cancels the
    whole take (its one job)."""
    offer = _cancel_offer(take)
    if take.shot_group_id is not None:
        scenes = (take.recipe.get("shot") or {}).get("scenes") or [take.scene.number]
        offer["confirm"] = gettext("This cancels the whole multi-shot take (scenes %(first)d–%(last)d).") % {
            "first": scenes[0], "last": scenes[-1]} + " " + offer["confirm"]
        offer["button"] = gettext("Cancel the whole take") if offer["button"] == gettext("Cancel") else offer["button"]
    return offer


def _cancel_offer(take) -> dict:
    facts = facts_for(take.provider)
    if take.status == Status.QUEUED:  # not at a provider yet: nothing runs, nothing is billed
        return {"button": gettext("Cancel"),
                "confirm": gettext("Cancel this take? It has not reached the provider: nothing is billed.")}
    if facts is not None and not facts.cancels:
        confirm = gettext("{provider} cannot cancel a job: the studio stops watching this take, but the provider "
                          "renders it to its end and may bill it in full. Its cost stays counted.")
        if facts.deletes_finished:
            confirm += " " + gettext("The studio deletes the provider's copy once it ends.")
        return {"button": gettext("Stop watching"), "confirm": confirm.format(provider=facts.title)}
    if facts is not None and facts.cancel_refund == CancelRefund.FREE:
        confirm = gettext("Cancel this take?")
    elif facts is not None and facts.cancel_refund == CancelRefund.NONE:
        confirm = gettext("Cancel this take? {provider} does not refund a job canceled while it runs: its cost "
                          "stays counted.").format(provider=facts.title)
    else:
        confirm = gettext("Cancel this take? The provider may still charge for work already done.")
    return {"button": gettext("Cancel"), "confirm": confirm}


@register.simple_tag
def scene_frames(scene) -> dict:
    """What a take of the scene would start from and end on now (a continuity.Source each), or why not."""
    frames: dict[str, object] = {}
    for role, resolve in (("start", start_source), ("end", end_source)):
        try:
            frames[role] = resolve(scene)
        except ValidationError as exc:
            frames[f"{role}_problem"] = error_text(exc)
    return frames


@register.simple_tag
def extend_options(take, scene) -> list:
    """What the take can be extended by on its connection (each model and length, with its cost); [] when nothing
    of its connection extends takes."""
    return options_for_extending(take, scene.project.team)


@register.filter
def input_kinds_words(kinds: list[str] | None) -> str:
    """A proposed model's input kinds in the reader's language ("texte + image")."""
    return kinds_words(kinds or [])
