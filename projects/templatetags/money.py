from django import template

from projects import money

register = template.Library()


@register.filter
def usd(amount, places=2) -> str:
    """{{ take.cost|usd }}: "$0.40" in English, "0,40 $" in French (projects/money.py)."""
    return money.usd(amount, int(places))
