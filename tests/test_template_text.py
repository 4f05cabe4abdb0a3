"""No sentence a person reads is written into a template in English only: every text node and
every attribute a person reads (title, aria-label, placeholder, alt, a submit input's value,
a confirmation) goes through {% translate %} or {% blocktranslate %}, so the French catalog can
cover it."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings

TEMPLATES = Path(settings.BASE_DIR) / "templates"

# Names that read the same in every language: brands, formats, units and standards.
ALLOWED = {
    "Storyboard Studio", "C2PA", "OTIO", "fal", "Runway", "Google", "Vertex", "Veo", "Kling",
    "Luma", "ComfyUI", "FCPXML", "EDL", "CSV", "JSON", "MP4", "PNG", "URL", "API", "SSE", "ID",
    "×", "OK", "HMAC", "Fountain", "Final Draft",
}
READ_ATTRIBUTES = {"title", "aria-label", "placeholder", "alt", "hx-confirm", "data-confirm",
                   "aria-description", "aria-roledescription", "label"}
# A letter run that means something: two letters or more (a lone "x" or "s" is a unit or a glue).
WORD = re.compile(r"[^\W\d_]{2,}")


def _without_template_language(source: str) -> str:
    source = re.sub(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", " ", source, flags=re.S)
    source = re.sub(r"{#.*?#}", " ", source, flags=re.S)
    # These two blocks fill attributes of base.html's <html> and <meta> tags: markup, not text.
    source = re.sub(r"{%\s*block (?:theme|color_scheme)\s*%}.*?{%\s*endblock\s*%}", " ", source, flags=re.S)
    source = re.sub(r"{%\s*blocktrans(?:late)?\b.*?{%\s*endblocktrans(?:late)?\s*%}", " ", source, flags=re.S)
    source = re.sub(r"{%.*?%}", " ", source, flags=re.S)
    return re.sub(r"{{.*?}}", " ", source, flags=re.S)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.literals: list[tuple[int, str]] = []
        self._skip = 0

    def _found(self, text: str) -> None:
        remainder = text
        for name in sorted(ALLOWED, key=len, reverse=True):
            remainder = remainder.replace(name, " ")
        if WORD.search(remainder):
            self.literals.append((self.getpos()[0], " ".join(text.split())))

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        values = dict(attrs)
        for name, value in attrs:
            readable = name in READ_ATTRIBUTES or (
                name == "value" and tag == "input" and values.get("type") in ("submit", "button", "reset"))
            if readable and value:
                self._found(value)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)

    def handle_data(self, data):
        if not self._skip:
            self._found(data)


def literal_text(source: str) -> list[tuple[int, str]]:
    reader = _Reader()
    reader.feed(_without_template_language(source))
    reader.close()
    return reader.literals


def test_it_finds_a_literal_sentence_and_a_literal_title():
    found = literal_text('<p>Render scenes</p><a title="Open the take" href="#">{% translate "Open" %}</a>')
    assert [text for _, text in found] == ["Render scenes", "Open the take"]


def test_it_lets_marked_text_variables_punctuation_and_brand_names_through():
    source = ('{% load i18n %}<h1>{% translate "Scenes" %} · {{ project.name }} (3)</h1>'
              '{% blocktranslate count n=n %}{{ n }} take{% plural %}{{ n }} takes{% endblocktranslate %}'
              '<span title="{% translate "Signed" %}">C2PA</span>{# A note for developers #}'
              '<input type="text" value="{{ form.name.value }}"><script>const a = "Not for people";</script>')
    assert literal_text(source) == []


@pytest.mark.parametrize("template", sorted(str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*.html")))
def test_every_template_marks_what_a_person_reads_for_translation(template):
    assert literal_text((TEMPLATES / template).read_text(encoding="utf-8")) == []


# A colon a template writes itself, right after a tag or a value ("{{ name }}: {{ line }}"): English typography,
# where French sets a no-break space before it. `{% colon %}` (projects/templatetags/typography.py) writes it
# as the reader's language does; a colon inside translated text is the catalogue's to place.
LITERAL_COLON = re.compile(r"(?:}}|%}|\x00|</(?:strong|b|em|span|code|a|label|time)>)[ \t]*:(?=\s)")


def literal_colons(source: str) -> list[str]:
    source = re.sub(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", " ", source, flags=re.S)
    source = re.sub(r"{#.*?#}", " ", source, flags=re.S)
    source = re.sub(r"<(script|style)\b.*?</\1>", " ", source, flags=re.S)
    # A translated block is the catalogue's: it stands as a marker, so a colon written just after it is found.
    source = re.sub(r"{%\s*blocktrans(?:late)?\b.*?{%\s*endblocktrans(?:late)?\s*%}", "\x00", source, flags=re.S)
    return [source[max(0, m.start() - 40):m.end()].replace("\x00", "{% endblocktranslate %}")
            for m in LITERAL_COLON.finditer(source)]


def test_it_finds_a_colon_written_after_a_value_or_a_translated_word():
    source = ('{{ line.speaker }}: {{ line.text }} <b>{% translate "Theirs" %}</b>'
              '{% blocktranslate with n=n %}Clip {{ n }}{% endblocktranslate %}: x {% translate "Sizes" %}: y')
    assert len(literal_colons(source)) == 3
    assert literal_colons('{{ who }}{% colon %} {{ line }} {% blocktranslate %}{{ a }}: {{ b }}{% endblocktranslate %}'
                          ' <a href="{% url "x" %}">') == []


@pytest.mark.parametrize("template", sorted(str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*.html")))
def test_no_template_writes_a_colon_the_french_would_set_apart(template):
    assert literal_colons((TEMPLATES / template).read_text(encoding="utf-8")) == []


# A filter's own words ("{{ who|default:"someone" }}") bypass {% translate %}: they are written `_("someone")`.
FILTER_WORDS = re.compile(r"""\|(?:default|default_if_none|yesno):(["'])(?P<words>[^"']*[^\W\d_]{2,}[^"']*)\1""")


def test_it_finds_a_filters_own_english_words():
    found = [m["words"] for m in FILTER_WORDS.finditer('{{ a|default:"someone" }} {{ b|default:_("someone") }} '
                                                        '{{ c|default:"—" }} {{ d|yesno:"yes,no" }}')]
    assert found == ["someone", "yes,no"]


# Defaults that are values for the page's code, not words for a person: a state key, a language code, a layout.
MACHINE_VALUES = {"none", "en", "grid"}


@pytest.mark.parametrize("template", sorted(str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*.html")))
def test_no_filter_writes_english_words_of_its_own(template):
    source = (TEMPLATES / template).read_text(encoding="utf-8")
    assert [m["words"] for m in FILTER_WORDS.finditer(source) if m["words"] not in MACHINE_VALUES] == []
