"""{% icon "name" %}: an icon of the studio's sprite (projects/icons.py), drawn in the text's colour.

Decorative: the words beside it say what it means, so it is hidden from screen readers."""

from django import template
from django.templatetags.static import static
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag
def icon(name: str, extra: str = "") -> SafeString:
    return format_html('<svg class="icon{}" aria-hidden="true"><use href="{}#{}"></use></svg>',
                       f" {extra}" if extra else "", static("studio/icons.svg"), name)
