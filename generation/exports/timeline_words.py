"""What timeline_reader.py found wrong, worded. The reader runs as a program without Django, so it
answers with a code and what the code names (a line, a column, a clip count); the worker words it
here, in the language of the person who uploaded the timeline (cut_import.cut_import_read)."""

from __future__ import annotations

from typing import Any

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import ngettext

from generation.words import WORDS, Said, said

# One whole sentence per code, in generation.words (as "timeline.<code>"): a failed import keeps the code and
# is worded again for each reader.
REFUSALS: dict[str, Promise] = {key.removeprefix("timeline."): words for key, words in WORDS.items()
                                if key.startswith("timeline.")}


def refusal_said(error: Any) -> Said:
    """The reader's {"code", "params"} as a stored sentence; a code this studio does not know (a reader newer
    than the worker) or params that do not fit still say the file was not read."""
    if isinstance(error, dict) and error.get("code") in REFUSALS and isinstance(error.get("params"), dict):
        params = {name: value for name, value in error["params"].items() if isinstance(value, (str, int, float))}
        try:
            with translation.override("en"):
                str(REFUSALS[error["code"]] % params)
        except (KeyError, TypeError, ValueError):
            pass
        else:
            return said(f"timeline.{error['code']}", **params)
    return said("timeline.unreadable")


def refusal_words(error: Any) -> str:
    """The same, in the active language."""
    return str(refusal_said(error))


def warning_words(warning: Any) -> str:
    if isinstance(warning, dict) and warning.get("code") == "more_tracks":
        count = int((warning.get("params") or {}).get("count") or 1)
        return ngettext("Only the first video track with clips was read (%(count)s more has clips: put the cut "
                        "on one track).",
                        "Only the first video track with clips was read (%(count)s more have clips: put the cut "
                        "on one track).", count) % {"count": count}
    return str(warning)
