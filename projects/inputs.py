"""What a user typed, checked before the database sees it.

PostgreSQL refuses NUL in text ("A string literal cannot contain NUL") and numbers past
bigint; SQLite stores the NUL and overflows in Python instead. Refusing such input here,
with a message the user can act on, makes both databases answer alike and never with a 500.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# C0 control characters except tab, newline and carriage return: nobody types them, and NUL breaks PostgreSQL.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
CONTROL_MESSAGE = gettext_lazy("This text contains control characters (such as NUL) that can't be stored; remove them "
                               "and try again.")
MAX_ID = 2**63 - 1  # bigint, PostgreSQL's and SQLite's largest integer
MAX_SEARCH = 200  # characters in a search box


def search_problem(text: str) -> str | None:
    """Why a search box's text cannot be searched for, in words; None when it can. (Control
    characters never get this far: the query string is refused before any view reads it.)"""
    if len(text) > MAX_SEARCH:  # SQLite finds a long LIKE pattern "too complex"
        return _("Search for at most %(most)d characters (that search has %(has)d).") % {
            "most": MAX_SEARCH, "has": len(text)}
    return None


def has_control_characters(value) -> bool:
    return isinstance(value, str) and CONTROL_CHARACTERS.search(value) is not None


def refuse_control_characters(value) -> None:
    """A form field validator (and the services' check) for text a user typed."""
    if has_control_characters(value):
        raise ValidationError(CONTROL_MESSAGE, code="control_characters")


def clean_text(value, *, what: str, max_length: int | None = None) -> str:
    """Stripped text from a raw POST value, or ValidationError naming `what`: the subject of the sentence,
    translated by the caller with its article (gettext("The label"): « Le libellé »)."""
    value = (value or "").strip() if isinstance(value, str) else ""
    if has_control_characters(value):
        raise ValidationError(_("%(what)s contains control characters (such as NUL) that can't be stored; remove "
                                "them and try again.") % {"what": what}, code="control_characters")
    if max_length is not None and len(value) > max_length:
        raise ValidationError(_("%(what)s can be at most %(most)s characters (this one has %(has)s).") % {
            "what": what, "most": max_length, "has": len(value)}, code="max_length")
    return value


def parse_id(value) -> int | None:
    """A row id from a query or form value, or None when it cannot name a row.

    Only ASCII digits count ("²".isdigit() is true, int("²") fails), and only up to
    bigint: a larger number would overflow SQLite and fail on PostgreSQL."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 0 < value <= MAX_ID else None
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value or len(value) > 19 or not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None


def id_or_404(value, *, what: str) -> int:
    """The row id in an address, query string or form value; a 404 ("No such scene.") when it cannot
    name a row: such a value is a mistyped or doctored link, like an id that names nothing."""
    pk = parse_id(value)
    if pk is None:
        raise Http404(f"No such {what}.")
    return pk


def ids_or_404(values, *, what: str) -> list[int]:
    """id_or_404 for each of a repeated parameter's values (?scene=1&scene=2)."""
    return [id_or_404(value, what=what) for value in values]


class IdsChoiceField(forms.ModelMultipleChoiceField):
    """ModelMultipleChoiceField whose ids are checked before the query: past bigint, SQLite overflows."""

    def _check_values(self, value):
        for pk in value:
            if parse_id(pk) is None:
                raise ValidationError(self.error_messages["invalid_pk_value"], code="invalid_pk_value",
                                      params={"pk": str(pk)[:20]})
        return super()._check_values(value)


class RefuseControlCharacters:
    """Form mixin: every text field refuses control characters with a clear message."""

    fields: dict[str, forms.Field]  # the form's, which this mixin comes before

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.CharField) and refuse_control_characters not in field.validators:
                field.validators.append(refuse_control_characters)
