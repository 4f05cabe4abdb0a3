"""A refused form's or service's messages, as a page shows them.

A page says everything wrong at once, in the words the form or the service chose: either as one
line (a flash message, an error under a form) or as a list (one message a line).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.forms import BaseForm


def error_messages(refused: BaseForm | ValidationError) -> list[str]:
    """Every message of a bound form's errors (its fields' and its own), or of a ValidationError."""
    if isinstance(refused, ValidationError):
        return [str(message) for message in refused.messages]
    return [str(message) for errors in refused.errors.values() for message in errors]


def error_text(refused: BaseForm | ValidationError) -> str:
    """The messages as one line."""
    return " ".join(error_messages(refused))
