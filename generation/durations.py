"""How a model's lengths are said in a refusal: shared by the catalog's models and the adapters' own checks, which
may not import the models (the adapters speak the wire only)."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import formats
from django.utils.translation import gettext


def lengths_problem(model: str, durations: Iterable[int], seconds: int) -> str:
    """Why `seconds` is refused: "renders 3–15 seconds" for a run of lengths, else each length ("renders 4 seconds",
    "renders 4, 6 or 8 seconds"): a model with one length read "renders 4–4 seconds"."""
    allowed = sorted(set(durations))
    if len(allowed) > 2 and allowed == list(range(allowed[0], allowed[-1] + 1)):
        return gettext("%(model)s renders %(shortest)s–%(longest)s seconds, not %(seconds)s.") % {
            "model": model, "shortest": allowed[0], "longest": allowed[-1], "seconds": seconds}
    return gettext("%(model)s renders %(lengths)s seconds, not %(seconds)s.") % {
        "model": model, "lengths": either_words(allowed), "seconds": seconds}


def either_words(values: list[int]) -> str:
    """4 → "4"; [4, 8] → "4 or 8", [4, 6, 8] → "4, 6 or 8", in the active language."""
    words = [str(v) for v in values]
    if len(words) < 2:
        return "".join(words)
    return gettext("%(some)s or %(last)s") % {"some": ", ".join(words[:-1]), "last": words[-1]}


def grouped(number: int) -> str:
    """1,000 in English, 1 000 in French: a count of characters in a refusal."""
    return formats.number_format(number, force_grouping=True)
