"""Screenplays in and out: Fountain and Final Draft (.fdx) to scenes, the storyboard back to Fountain.

Pure functions over text: no database. `parse_script` turns an uploaded file's bytes into
`ScriptScene`s (or raises ScriptError naming the line); `storyboard_fountain` writes scenes out.
The format is detected from the content, never from the file's name.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

from django.utils.translation import gettext, gettext_lazy

from projects.models.storyboard import (
    MAX_LINE,
    MAX_PARENTHETICAL,
    MAX_SCENE_SECONDS,
    MAX_SPEAKER,
    MIN_SCENE_SECONDS,
)
from projects.storyboard.dialogue.text import Spoken, interleave, line_text, split_parenthetical

MAX_SCRIPT_BYTES = 1024 * 1024  # a feature film in Fountain is ~200 KB
MAX_SCRIPT_SCENES = 500
MAX_TITLE = 200
MAX_PROMPT = 32000
WORDS_PER_SECOND = 2.5
SPLITS = {"heading": gettext_lazy("One scene per scene heading"),
          "shot": gettext_lazy("One scene per shot (also at each transition or !! shot)")}

# A Fountain character cue's extensions and marks: "ANNA (V.O.)", "BOB (CONT'D)", "@McCLANE", "BEN ^".
_EXTENSION = re.compile(r"\s*\([^)]*\)")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# "ANNA: Morning." or "@Anna: (sleepy) Morning." — a line of dialogue in a composed prompt.
DIALOGUE_LINE = re.compile(r"^(?P<cast>@?)(?P<name>[^\W\d_][\w .'\-]{0,79}?): (?P<text>.+)$")
TOGETHER = "at the same time"  # the parenthetical of dual dialogue's second speaker


class ScriptError(ValueError):
    """A file that is not a screenplay we can read; the message names the line where it can."""


@dataclass
class ScriptScene:
    title: str
    action: list[str] = field(default_factory=list)  # the action's lines, in order: the scene's prompt
    dialogue: list[Spoken] = field(default_factory=list)  # each placed after so many action lines
    speakers: list[str] = field(default_factory=list)  # speaking characters as written (cleaned), first line first
    # Final Draft's scene properties (Title, Color, Summary …), name → value: they fill the project's own
    # fields of the same name on import.
    properties: dict[str, str] = field(default_factory=dict)

    @property
    def lines(self) -> list[str]:
        """Action and dialogue in the script's order, as a take's prompt carries them ("ANNA: Morning.")."""
        return [row if isinstance(row, str) else line_text(row.label, row.parenthetical, row.text)
                for row in interleave("\n".join(self.action), self.dialogue)]

    @property
    def prompt(self) -> str:
        return "\n".join(self.lines)

    def estimated_duration(self) -> int:
        words = len(self.prompt.split())
        return max(MIN_SCENE_SECONDS, min(MAX_SCENE_SECONDS, round(words / WORDS_PER_SECOND)))

    def as_dict(self) -> dict:
        # A heading with nothing under it still needs something to render: its own words.
        action = "\n".join(self.action) or ("" if self.dialogue else self.title)
        return {"title": self.title, "speakers": self.speakers, "action": action[:MAX_PROMPT],
                "dialogue": [line.as_dict() for line in self.dialogue],
                "prompt": (self.prompt or self.title)[:MAX_PROMPT], "duration": self.estimated_duration(),
                **({"properties": self.properties} if self.properties else {})}


def speaker_name(cue: str) -> str:
    """ "ANNA (V.O.)" → "ANNA": the name as a library would hold it, without extensions or marks."""
    name = _EXTENSION.sub("", cue).replace("^", "").strip().lstrip("@").strip()
    return re.sub(r"\s+", " ", name)


def _plain(text) -> str:
    # Script text never casts anyone on its own: an "@" (in an email, say) would read as an
    # @mention in a prompt. Casting is only what the user ticks; a full-width ＠ still reads as "at".
    return re.sub(r"\s+", " ", str(text).replace("@", "\uff20")).strip()


def decode_script(data: bytes) -> str:
    """UTF-8 (with or without BOM) or UTF-16 with a BOM; anything else is refused, naming the line."""
    if len(data) > MAX_SCRIPT_BYTES:
        raise ScriptError(gettext("The script is %(size)d KB; the limit is %(most)d KB.")
                          % {"size": len(data) // 1024, "most": MAX_SCRIPT_BYTES // 1024})
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise ScriptError(gettext("This file starts like UTF-16 text but is not valid UTF-16."))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ScriptError(gettext("Line %(line)d: this is not UTF-8 text. Save the script as UTF-8 and upload it "
                                  "again.") % {"line": line})


def parse_script(data: bytes, *, split: str = "heading") -> tuple[str, list[ScriptScene]]:
    """("Fountain" or "Final Draft", scenes) from an uploaded file's bytes."""
    if split not in SPLITS:
        raise ScriptError(gettext("Choose how to split the script into scenes."))
    if not data.strip():
        raise ScriptError(gettext("The file is empty."))
    text = decode_script(data).replace("\r\n", "\n").replace("\r", "\n")
    for number, line in enumerate(text.split("\n"), start=1):
        if _CONTROL.search(line):
            raise ScriptError(gettext("Line %(line)d: contains a control character; is this a text file?")
                              % {"line": number})
    if text.lstrip().startswith("<"):
        kind, scenes = "Final Draft", parse_fdx(text, split=split)
    else:
        kind, scenes = "Fountain", parse_fountain(text, split=split)
    scenes = [s for s in scenes if s.lines or s.title]
    if not scenes:
        raise ScriptError(gettext("Line 1: no scenes found. A scene starts with a heading such as "
                                  "“INT. KITCHEN - DAY”."))
    if len(scenes) > MAX_SCRIPT_SCENES:
        raise ScriptError(gettext("The script has %(count)d scenes; import at most %(most)d at a time.")
                          % {"count": len(scenes), "most": MAX_SCRIPT_SCENES})
    return kind, scenes


class _Builder:
    """Collects paragraphs into scenes as either parser reads them."""

    def __init__(self, split: str):
        self.split, self.heading, self.shots = split, "", 0
        self.scenes: list[ScriptScene] = []
        self.pending: str | None = None  # the title of a scene a shot or transition opened

    @property
    def current(self) -> ScriptScene:
        if self.pending is not None:  # a shot or transition opened a scene: it starts with its first line
            self.scenes.append(ScriptScene(title=self.pending))
            self.pending = None
        if not self.scenes:
            self.scenes.append(ScriptScene(title="Opening"))
        return self.scenes[-1]

    def heading_(self, text: str) -> None:
        self.heading, self.shots, self.pending = _plain(text)[:MAX_TITLE], 1, None
        self.scenes.append(ScriptScene(title=self.heading or "Untitled scene"))

    def cut(self, shot: str = "") -> None:
        """A transition or a shot: a new scene when splitting per shot."""
        if self.split != "shot":
            if shot:
                self.action(shot)
            return
        if self.scenes and not self.scenes[-1].lines and self.pending is None:
            if shot:  # a shot right under its heading names that scene's first shot
                self.scenes[-1].title = f"{self.scenes[-1].title} – {shot}"[:MAX_TITLE]
            return
        self.shots += 1
        base = self.heading or "Opening"
        self.pending = (f"{base} – {shot}" if shot else f"{base} ({self.shots})")[:MAX_TITLE]

    def action(self, text: str) -> None:
        if text := _plain(text):
            self.current.action.append(text)

    def dialogue(self, cue: str, blocks: list[tuple[bool, str]], *, together: bool = False) -> None:
        name = _plain(speaker_name(cue))[:MAX_SPEAKER]
        if not name:
            return
        words = " ".join(_plain(t) for _, t in blocks if _plain(t))
        # A leading direction is the line's parenthetical; one further in stays among its words.
        parenthetical, words = split_parenthetical(words)
        if together or len(parenthetical) > MAX_PARENTHETICAL:
            # A direction that is not the line's own (dual dialogue's second speaker has "at the same time";
            # a paragraph of direction is not a parenthetical) stays in the words: nothing is cut.
            words = f"({parenthetical}) {words}" if parenthetical else words
            parenthetical = TOGETHER if together else ""
        scene = self.current
        for part in _speeches(words):
            scene.dialogue.append(Spoken(name, part, parenthetical, after_prompt_lines=len(scene.action)))
            parenthetical = "" if parenthetical != TOGETHER else parenthetical
        if name.casefold() not in {s.casefold() for s in self.current.speakers}:
            self.current.speakers.append(name)


def _speeches(words: str) -> list[str]:
    """A speech as lines of at most MAX_LINE characters, cut after a sentence where one ends in time,
    else after a word: a monologue is several lines of one speaker, never cut short."""
    parts = []
    while len(words) > MAX_LINE:
        head = words[:MAX_LINE + 1]
        cut = max(head.rfind(". "), head.rfind("! "), head.rfind("? "), head.rfind("… "))
        cut = cut + 1 if cut > MAX_LINE // 3 else head.rfind(" ")
        cut = cut if cut > 0 else MAX_LINE
        parts.append(words[:cut].strip())
        words = words[cut:].strip()
    return [*parts, words] if words else parts


# --- Fountain -----------------------------------------------------------------------------------


def _check_fountain(text: str) -> None:
    """Fountain forgives almost anything; what it cannot forgive is a comment or note left open."""
    lines = text.split("\n")
    # One whole sentence per mark: what is left open is named inside it, as French orders it.
    never_closed = {"/*": gettext("Line %(line)d: a comment opened with /* is never closed (add */)."),
                    "[[": gettext("Line %(line)d: a note opened with [[ is never closed (add ]]).")}
    for opener, closer in (("/*", "*/"), ("[[", "]]")):
        open_at = None
        for number, line in enumerate(lines, start=1):
            at = 0
            while True:
                if open_at is None:
                    at = line.find(opener, at)
                    if at < 0:
                        break
                    open_at, at = number, at + len(opener)
                else:
                    at = line.find(closer, at)
                    if at < 0:
                        break
                    open_at, at = None, at + len(closer)
        if open_at is not None:
            raise ScriptError(never_closed[opener] % {"line": open_at})


def parse_fountain(text: str, *, split: str = "heading") -> list[ScriptScene]:
    from screenplain.parsers.fountain import parse
    from screenplain.types import Action, Dialog, DualDialog, Slug, Transition

    _check_fountain(text)
    build = _Builder(split)
    for paragraph in parse(io.StringIO(text)):
        if isinstance(paragraph, Slug):
            build.heading_(paragraph.line)
        elif isinstance(paragraph, Transition):
            build.cut()
        elif isinstance(paragraph, Dialog):
            build.dialogue(str(paragraph.character), [(p, str(t)) for p, t in paragraph.blocks])
        elif isinstance(paragraph, DualDialog):
            build.dialogue(str(paragraph.left.character), [(p, str(t)) for p, t in paragraph.left.blocks])
            build.dialogue(str(paragraph.right.character), [(p, str(t)) for p, t in paragraph.right.blocks],
                           together=True)
        elif isinstance(paragraph, Action):
            lines = [str(line) for line in paragraph.lines]
            # "!!CLOSE ON ANNA" (a forced shot) reaches us as the action "!CLOSE ON ANNA".
            while lines and lines[0].startswith("!"):
                build.cut(_plain(lines.pop(0).lstrip("!")))
            build.action(" ".join(lines))
    return build.scenes


# --- Final Draft ----------------------------------------------------------------------------------


def _fdx_text(paragraph) -> str:
    return "".join("".join(t.itertext()) for t in paragraph.findall("Text"))


def parse_fdx(text: str, *, split: str = "heading") -> list[ScriptScene]:
    import xml.etree.ElementTree as ET

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    if declaration := re.search(r"<!(DOCTYPE|ENTITY)", text, re.IGNORECASE):
        line = text[:declaration.start()].count("\n") + 1
        raise ScriptError(gettext("Line %(line)d: DOCTYPE and ENTITY declarations are not allowed in a script.")
                          % {"line": line})
    try:
        root = fromstring(text.encode("utf-8"), forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except ET.ParseError as exc:
        line, column = exc.position
        reason = str(exc).split(":")[0]
        # The XML parser's reason stays as the parser words it.
        raise ScriptError(gettext("Line %(line)d: the XML is malformed (%(reason)s, column %(column)d).")
                          % {"line": line, "reason": reason, "column": column + 1})
    except DefusedXmlException:
        raise ScriptError(gettext("DOCTYPE and ENTITY declarations are not allowed in a script."))
    if root.tag != "FinalDraft":
        raise ScriptError(gettext("This XML file is not a Final Draft script (its root element is <%(root)s>).")
                          % {"root": root.tag[:40]})
    content = root.find("Content")
    if content is None:
        raise ScriptError(gettext("This Final Draft file has no <Content>: is it a script?"))
    build = _Builder(split)
    _fdx_paragraphs(build, content.findall("Paragraph"))
    return build.scenes


def _fdx_paragraphs(build: _Builder, paragraphs, *, together: bool = False) -> None:
    cue, blocks, first_cue = None, [], True

    def flush():
        nonlocal cue, blocks, first_cue
        if cue is not None:
            build.dialogue(cue, blocks, together=together and not first_cue)
            first_cue = False
        cue, blocks = None, []

    for paragraph in paragraphs:
        kind, text = paragraph.get("Type", "Action"), _fdx_text(paragraph)
        dual = paragraph.find("DualDialogue")
        if dual is not None:
            flush()
            _fdx_paragraphs(build, dual.findall("Paragraph"), together=True)
            continue
        if kind == "Character":
            flush()
            cue = text
        elif kind in ("Dialogue", "Parenthetical") and cue is not None:
            blocks.append((kind == "Parenthetical", text))
        else:
            flush()
            if kind == "Scene Heading":
                build.heading_(text)
                build.current.properties = _fdx_properties(paragraph.find("SceneProperties"))
            elif kind == "Transition":
                build.cut()
            elif kind == "Shot":
                build.cut(_plain(text))
            else:
                build.action(text)
    flush()


MAX_PROPERTIES = 40  # of one scene: more is not a scene's properties
MAX_PROPERTY = 200  # characters of one property's value (a text field holds that much)


def _fdx_properties(element) -> dict[str, str]:
    """A scene heading's <SceneProperties>: its attributes (Title="…" Color="…") and its elements' text
    (<Summary>…</Summary>), each as one line, the empty ones left out."""
    if element is None:
        return {}
    found = dict(element.attrib)
    for child in element:
        found.setdefault(child.tag, " ".join("".join(child.itertext()).split()))
    return {_plain(name)[:60]: _plain(value)[:MAX_PROPERTY]
            for name, value in list(found.items())[:MAX_PROPERTIES] if _plain(value) and _plain(name)}


# --- Export ---------------------------------------------------------------------------------------

_HEADING = re.compile(r"^(INT|EXT|EST|INT\./EXT|INT/EXT|I/E)[ .]", re.IGNORECASE)


def _action_line(line: str) -> str:
    """An action line Fountain would otherwise read as something else gets the forced-action mark."""
    stripped = line.strip()
    letters = [c for c in stripped if c.isalpha()]
    if (letters and stripped.upper() == stripped) or _HEADING.match(stripped) or stripped[:1] in "!@#=~.>[/":
        return "!" + stripped
    return stripped


def storyboard_fountain(*, title: str, scenes) -> str:
    """A Fountain screenplay of the scenes, in their order: objects with .title, .prompt and, as
    `dialogue_lines`, their lines (each with speaker_name, parenthetical, text, after_prompt_lines); as
    `field_notes`, the project's own fields the scene fills ((name, value) pairs), written as a note."""
    out = [f"Title: {_plain(title)}", ""]
    for scene in scenes:
        heading = _plain(scene.title).upper()
        out += [heading if _HEADING.match(heading) else "." + heading, ""]
        if notes := getattr(scene, "field_notes", ()):
            out += ["[[" + "; ".join(f"{_note(name)}: {_note(value)}" for name, value in notes) + "]]", ""]
        for row in interleave(scene.prompt, getattr(scene, "dialogue_lines", ())):
            if not isinstance(row, str):
                out += _cue(row.speaker_name, row.parenthetical, row.text)
            elif row.strip():
                out += _prompt_row(row)
    return "\n".join(out).rstrip() + "\n"


def _note(text: str) -> str:
    """Text inside a Fountain note: on one line, and never closing (or opening) one itself."""
    return " ".join(_plain(text).replace("[[", "[ [").replace("]]", "] ]").split())


def _cue(name: str, parenthetical: str, text: str) -> list[str]:
    """A line of dialogue as Fountain writes it: the cue in capitals, its direction, its words."""
    cue = _plain(name).upper()
    if not any(c.isupper() for c in cue):  # a name without capitals (安娜) is a cue only when forced
        cue = "@" + cue
    if parenthetical == TOGETHER:  # the second speaker of dual dialogue
        return [cue + " ^", *_words(text), ""]
    return [cue, *([f"({parenthetical})"] if parenthetical else []), *_words(text), ""]


def _words(text: str) -> list[str]:
    direction = re.match(r"^(\([^)]*\))\s*(.*)$", text)
    return [direction[1], *([direction[2]] if direction[2] else [])] if direction else [text]


def _prompt_row(raw: str) -> list[str]:
    """A row of the prompt: action, or dialogue typed as "ANNA: …" before lines were data."""
    match = DIALOGUE_LINE.match(raw.strip())
    # A speaker is written in capitals ("ANNA: …") or cast ("@Anna: …"); "Later: rain." is action.
    # (A cast name never holds ". ": "@Anna waves. ANNA: hi" is a sentence, not Anna speaking.)
    if match and (match["name"] == match["name"].upper() or (match["cast"] and ". " not in match["name"])):
        parenthetical, text = split_parenthetical(match["text"].strip())
        return _cue(match["name"].strip(), parenthetical, text)
    return [_action_line(raw), ""]
