import uuid

from django import template

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
            "selected": value == render_form["target"].value(),
        })
    return options


@register.filter
def finished_takes(takes) -> list:
    """Takes that can be watched side by side: finished and not withheld, newest first."""
    return [t for t in takes if t.status == "succeeded" and not t.quarantined_at]


@register.simple_tag
def delivery_summary(take) -> str:
    """ "Delivered 720×1280, 2.0 s; booked 1280×720, 4 s" for a take that differs from its booking."""
    from generation.delivery import delivery_summary as summary

    return summary(take)
