"""{% missing_scenes missing %}: Play all's scenes not approved yet, as one run of text ("2. Night, 3. Storm"),
each failed one with its chip. Written in Python: a template loop over 500 scenes was a third of the page."""

from collections.abc import Iterable, Mapping
from typing import Any

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext

register = template.Library()


@register.simple_tag
def missing_scenes(missing: Iterable[Mapping[str, Any]]) -> SafeString:
    failed = format_html(' <span class="chip chip--failed" data-testid="cut-missing-failed">{}</span>',
                         gettext("Failed"))
    return format_html_join(", ", "{}. {}{}", ((stop["number"], stop["title"], failed if stop["status"] == "failed"
                                                else "") for stop in missing))
