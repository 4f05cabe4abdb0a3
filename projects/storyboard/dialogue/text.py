"""A scene's dialogue as text: how its lines are woven into the prompt a take sends.

Pure functions, no database. A line is any object with `label` ("@Anna" or "ANNA"),
`parenthetical`, `text` and `after_prompt_lines` (how many of the prompt's lines come before
it; None: after all of them). The form is the one the script import wrote into prompts before
lines were data, "ANNA: (sleepy) Morning." on a line of its own where the script spoke it, so a
scene migrated from that text sends exactly the bytes it sent before.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

# "(sleepy) Morning.": a leading parenthetical and the words after it.
_LEADING_PARENTHETICAL = re.compile(r"^\(([^()\r\n]*)\) (\S.*)$", re.S)


def line_text(label: str, parenthetical: str, text: str) -> str:
    """ "ANNA: (sleepy) Morning." — one line as a prompt carries it."""
    return f"{label}: ({parenthetical}) {text}" if parenthetical else f"{label}: {text}"


def split_parenthetical(words: str) -> tuple[str, str]:
    """ "(sleepy) Morning." → ("sleepy", "Morning."); words without a leading one → ("", words).

    Only what `line_text` gives back byte for byte is split off: "(sleepy)" alone stays the words."""
    match = _LEADING_PARENTHETICAL.match(words)
    return (match[1], match[2]) if match and match[1].strip() == match[1] and match[1] else ("", words)


def separator(prompt: str) -> str:
    """The prompt's own line break: a browser sends "\\r\\n" from a textarea, the script import "\\n"."""
    return "\r\n" if "\r\n" in prompt else "\n"


def prompt_rows(prompt: str) -> list[str]:
    return prompt.split(separator(prompt)) if prompt else []


def interleave(prompt: str, lines: Sequence) -> list:
    """The prompt's rows (str) with the lines (objects) placed among them, in the order sent.

    A line's place is clamped to the prompt's end and never before the line ahead of it, so an
    edit that shortened the prompt, or a reorder, still gives every line once, in order."""
    rows, out, at = prompt_rows(prompt), [], 0
    for line in lines:
        after = len(rows) if line.after_prompt_lines is None else min(line.after_prompt_lines, len(rows))
        after = max(after, at)
        out += rows[at:after]
        out.append(line)
        at = after
    return out + rows[at:]


def compose(prompt: str, lines: Sequence) -> str:
    """What a take sends for the scene: the prompt with its dialogue lines where they are spoken."""
    if not lines:
        return prompt
    return separator(prompt).join(
        row if isinstance(row, str) else line_text(row.label, row.parenthetical, row.text)
        for row in interleave(prompt, lines))


def remap_after(old_prompt: str, new_prompt: str, afters: Sequence[int | None]) -> list[int | None]:
    """Each line's place in an edited prompt: it stays before the same words of the action.

    An edit is a diff of rows: a line spoken before a row that is still there is spoken before it
    where it now stands; before a row that was reworded, before its new words; before rows that
    were deleted, where they were."""
    old, new = prompt_rows(old_prompt), prompt_rows(new_prompt)
    before_row = {len(old): len(new)}  # a line placed before old row k → its place in the new prompt
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        for k in range(i1, i2):
            before_row[k] = j1 + (k - i1) if tag == "equal" else min(j1 + (k - i1), j2)
    return [None if after is None else before_row[min(after, len(old))] for after in afters]


class Spoken:
    """A line that is not (yet) a row: a script's, before it is imported, or a test's."""

    __slots__ = ("speaker", "parenthetical", "text", "after_prompt_lines", "cast")

    def __init__(self, speaker: str, text: str, parenthetical: str = "", after_prompt_lines: int | None = None,
                 cast: bool = False):
        self.speaker, self.text, self.parenthetical = speaker, text, parenthetical
        self.after_prompt_lines, self.cast = after_prompt_lines, cast

    @property
    def label(self) -> str:
        return f"@{self.speaker}" if self.cast else self.speaker

    @property
    def speaker_name(self) -> str:
        return self.speaker

    def as_dict(self) -> dict:
        return {"speaker": self.speaker, "parenthetical": self.parenthetical, "text": self.text,
                "after_prompt_lines": self.after_prompt_lines}

    def __repr__(self) -> str:
        return f"Spoken({line_text(self.label, self.parenthetical, self.text)!r}, after={self.after_prompt_lines})"
