from django import template

from projects import money

register = template.Library()


@register.filter
def usd(amount, places=2) -> str:
    """{{ take.cost|usd }}: "$0.40" in English, "0,40 $" in French (projects/money.py);
    {{ price|usd:None }} keeps every decimal of a finer price."""
    return money.usd(amount, None if places is None else int(places))
