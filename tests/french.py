"""What a French reader sees, and which of it is still the catalogue's English.

`visible_text(html)`: the words a person sees and a screen reader says. `english_shown(text)`: every English
sentence of locale/fr/LC_MESSAGES/django.po (one whose French differs from it) that the text still shows.
Shared by tests/test_translations.py and tests/test_french_everywhere.py."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from html.parser import HTMLParser

from projects.management.commands import translations

FRENCH_BROWSER = {"HTTP_ACCEPT_LANGUAGE": "fr-FR,fr;q=0.9,en;q=0.5"}
ENGLISH_BROWSER = {"HTTP_ACCEPT_LANGUAGE": "en-GB,en;q=0.9"}

# English words of the catalogue that French writes the same way (or uses as they are): seen on a French page,
# they are French. A word here is never reported, alone; inside a longer English phrase the phrase still is.
SAME_IN_FRENCH = frozenset({
    "Budget", "Export", "Exports", "Notifications", "Version", "Minimum", "Maximum", "Description", "Total",
    "Image", "Images", "Source", "Options", "Option", "Audio", "Pause", "Format", "Action", "Actions", "Note",
    "Notes", "Message", "Mention", "Mentions", "Invitation", "Invitations", "Consentement", "Date", "Type",
    "Menu", "Zoom", "Mixage", "Timecode", "Prompt", "Prompts", "Studio", "Client", "Webhook", "Webhooks",
    "Script", "Scripts", "Workflow", "Workflows", "Cast", "Casting", "Global", "Local", "Standard", "Simple",
    "Original", "Position", "Points", "Question", "Regions", "Service", "Services", "Sessions", "Session",
    "Transport", "Visible", "Wipe", "Dialogue", "Dialogues", "Silence", "Surface", "Volume", "Texte",
    "Passe", "Portrait", "Portraits", "Stop", "Solo", "Live", "Voice", "Voices", "Comment", "second",
    # Names French keeps: a Google Cloud role (Storage Object Viewer), an editing suite (DaVinci Resolve).
    "Viewer", "Resolve",
})
_SAME_LOWER = frozenset(word.lower() for word in SAME_IN_FRENCH)
# A placeholder of a msgid: what the page shows in its place is the reader's words (a title, a number).
_PLACEHOLDER = re.compile(r"%\(\w+\)[sdf]|%[sdf]|\{\w*\}")
_WORD = re.compile(r"\w+(?:[’']\w+)*")
# An address or an API path in a sentence ("GET /models", "https://…"): its words are the machine's, not English.
_PATH = re.compile(r"\S*/\S*")
_GAP = object()  # a placeholder in a phrase: one word or more of the page


class _VisibleText(HTMLParser):
    """The words a person sees, and the names a screen reader says (title, aria-label, placeholder,
    alt); not scripts, styles, attributes meant for machines, or what the page marks `translate="no"` (the
    words a provider is sent, shown as sent)."""

    SPOKEN = ("title", "aria-label", "placeholder", "alt")
    VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
                      "wbr"})

    def __init__(self, spoken=SPOKEN, words_for_scripts=False):
        super().__init__()
        self.parts, self._skip, self.spoken = [], 0, spoken
        self.words_for_scripts = words_for_scripts
        self._untranslated = 0  # open elements since one marked translate="no" (0: none)

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template"):
            self._skip += 1
        if self._untranslated:
            self._untranslated += tag not in self.VOID
            return
        if ("translate", "no") in attrs and tag not in self.VOID:
            self._untranslated = 1
            return
        self.parts += [value for name, value in attrs if value and (
            name in self.spoken or self.words_for_scripts and WORDS_FOR_SCRIPTS.fullmatch(name))]

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template") and self._skip:
            self._skip -= 1
        if self._untranslated and tag not in self.VOID:
            self._untranslated -= 1

    def handle_data(self, data):
        if not self._skip and not self._untranslated and data.strip():
            self.parts.append(data.strip())


# The data attributes that carry words a page's script shows (data-label-play, data-words-take, data-copied…).
WORDS_FOR_SCRIPTS = re.compile(r"data-([a-z-]+-)?(label|words|title|copied|denied|text|message|hint)(-[a-z-]+)?")


def visible_parts(html: str, *, words_for_scripts: bool = False) -> list[str]:
    """The text nodes and spoken attributes, one by one; `words_for_scripts`: also the data attributes whose
    words a script shows the reader."""
    parser = _VisibleText(words_for_scripts=words_for_scripts)
    parser.feed(html)
    return parser.parts


def visible_text(html: str) -> str:
    return " \n".join(visible_parts(html))


@dataclass(frozen=True)
class Phrase:
    english: str
    words: tuple  # its words, _GAP where a placeholder stands
    alone: bool = False  # reported only when it is a whole text node


def _phrase_words(english: str) -> tuple:
    words: list = []
    pieces = _PLACEHOLDER.split(english)
    for index, piece in enumerate(pieces):
        words += _WORD.findall(piece)
        if index < len(pieces) - 1 and (not words or words[-1] is not _GAP):
            words.append(_GAP)
    while words and words[0] is _GAP:
        words.pop(0)
    while words and words[-1] is _GAP:
        words.pop()
    return tuple(words)


def is_real_phrase(words: tuple) -> bool:
    """Two words or more, or one English word of five letters or more: short words ("Take", "Save") and words
    French shares ("Budget") could be French, or a name."""
    plain = [word for word in words if word is not _GAP]
    if len(plain) >= 2:
        return True
    return len(plain) == 1 and len(plain[0]) >= 5 and not same_in_french(plain[0])


def same_in_french(word: str) -> bool:
    return word.lower() in _SAME_LOWER


def catalogue_phrases(entries: list[dict]) -> list[Phrase]:
    """The catalogue's English that French says otherwise: each msgid (and plural) whose French differs. A short
    word ("Save", "Done") is kept only as a whole text node (a button, a chip): inside a sentence it may be a name."""
    phrases = {}
    # A French translation that reads like another entry's English ("Storyboard PDF") is French.
    french_texts = {text for entry in entries for text in entry["msgstr"]}
    for entry in entries:
        french = entry["msgstr"]
        for english in filter(None, (entry["msgid"], entry.get("msgid_plural"))):
            if english in french or english in french_texts:
                continue
            words = _phrase_words(english)
            if is_real_phrase(words):
                phrases[english] = Phrase(english, words)
            elif len(words) == 1 and not same_in_french(words[0]) and english == words[0]:
                phrases[english] = Phrase(english, words, alone=True)
    return list(phrases.values())


@cache
def french_catalogue_phrases() -> tuple[Phrase, ...]:
    return tuple(catalogue_phrases(translations.read_po(translations.catalog_path("fr", "django"))))


class _Index:
    """The phrases by their first word: a page's words are read once, each against the phrases it may start."""

    def __init__(self, phrases):
        self.by_first: dict[str, list[Phrase]] = {}
        for phrase in phrases:
            self.by_first.setdefault(phrase.words[0], []).append(phrase)

    def found(self, words: list[str]) -> set[str]:
        hits = set()
        for start, word in enumerate(words):
            for phrase in self.by_first.get(word, ()):
                if (len(words) == 1 or not phrase.alone) and _matches(phrase.words, words, start):
                    hits.add(phrase.english)
        return hits


def _matches(pattern: tuple, words: list[str], at: int) -> bool:
    if not pattern:
        return True
    head, rest = pattern[0], pattern[1:]
    if head is _GAP:  # a placeholder: one to twelve of the page's words
        return any(_matches(rest, words, at + n) for n in range(1, min(12, len(words) - at) + 1))
    return at < len(words) and words[at] == head and _matches(rest, words, at + 1)


@cache
def _french_index() -> _Index:
    return _Index(french_catalogue_phrases())


def english_shown(parts: list[str] | str, phrases: list[Phrase] | None = None) -> list[str]:
    """The catalogue's English phrases the text shows (each text node read on its own: a phrase never spans
    two), sorted."""
    index = _french_index() if phrases is None else _Index(phrases)
    hits: set[str] = set()
    for part in [parts] if isinstance(parts, str) else parts:
        hits |= index.found(_WORD.findall(_PATH.sub(" ", part)))
    return sorted(hits)
