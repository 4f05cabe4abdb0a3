import uuid

from django import template

register = template.Library()


@register.simple_tag
def idempotency_key() -> str:
    """A fresh key for a one-click form: resending that form finds the same take."""
    return str(uuid.uuid4())
