"""Money as the reader's language writes it. Every price and spend in the studio is in US dollars
(the providers bill in dollars); the number follows the active locale ("0.40" / "0,40") and the
sign sits where the language puts it ("$0.40" in English, "0,40 $" in French)."""

from decimal import Decimal, InvalidOperation

from django.template.defaultfilters import floatformat
from django.utils.translation import gettext


def usd(amount, places: int | None = 2) -> str:
    """`places=None` keeps every decimal of a finer price ($0.0125) and at least two."""
    if amount is None or amount == "":
        return ""
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return str(amount)
    if places is None:
        exponent = value.normalize().as_tuple().exponent
        places = max(2, -exponent if isinstance(exponent, int) else 0)  # 'n', 'N', 'F': not a finite amount
    # Translators: a price in US dollars; put the sign where French writes it (e.g. "%(amount)s $").
    return gettext("$%(amount)s") % {"amount": floatformat(value, places)}
