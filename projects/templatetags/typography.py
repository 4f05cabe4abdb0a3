"""Punctuation a template writes between its own words and a value, as the reader's language writes it.

French sets a no-break space before a colon ("Rita : Il pleut."); a literal ": " in a template, between
a label and a name or a line, is English typography on a French page.
"""

from __future__ import annotations

from django import template
from django.utils.translation import pgettext

register = template.Library()


@register.simple_tag
def colon() -> str:
    """The colon after a label or a speaker: ":" in English, "\u00a0:" in French."""
    return pgettext("the colon after a label or a speaker, as in 'Rita: line'", ":")
