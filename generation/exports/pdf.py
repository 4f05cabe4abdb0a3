"""The storyboard as a PDF: per scene a thumbnail, title, prompt, dialogue, duration and approval state.

Two layouts: three scenes a page with the whole prompt ("scenes"), or a grid of six frames a
page with the scene's number, title, length and notes under each frame ("grid").

fpdf2 draws it. Three measured choices keep it quick (~0.02 s for 20 scenes instead of ~0.7):
- Text is wrapped here, word by word, and drawn with `text()`; fpdf2's own multi_cell
  re-measures the whole line for every character. Words are measured from the font's
  metrics (`text_width`), not through fpdf2's text pipeline.
- PDF core fonts (Helvetica) when every string fits Latin-1; the bundled DejaVu Sans only when
  a title or prompt needs more, and Droid Sans Fallback (Chinese, Japanese) only when DejaVu
  lacks a character, because parsing and subsetting a TrueType font costs ~0.05 s (DejaVu)
  and ~0.2 s (Droid Sans Fallback, 4 MB); then NanumSquare (Korean) and Noto Sans Symbols 2
  (emoji) only for what those lack. All are bundled (generation/fonts/README.md), so "写真"
  and "안녕" print on a worker without system fonts, and only the glyphs used are embedded.
- fpdf2 picks the fallback font per character (`set_fallback_fonts`), but its `text()` draws
  with the current font only: `_text` draws each run of characters in the font fpdf2 picks.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import pairwise
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import CoreFont, TTFFont
from PIL import Image

# generation/fonts/, shared with the animatic and bundled with their licences (fonts/README.md)
FONTS = Path(__file__).resolve().parent.parent / "fonts"
UNICODE_FONTS = {
    "": FONTS / "DejaVuSans.ttf",
    "B": FONTS / "DejaVuSans-Bold.ttf",
}
FALLBACK_FONT = FONTS / "DroidSansFallbackFull.ttf"  # hanzi, kanji, kana: what DejaVu lacks
HANGUL_FONT = FONTS / "NanumSquareR.ttf"  # Korean: what both lack
SYMBOLS_FONT = FONTS / "NotoSansSymbols2-Regular.ttf"  # black-and-white emoji: what all three lack
HANGUL = frozenset(range(0x3130, 0x3190)) | frozenset(range(0xAC00, 0xD7A4))  # compatibility jamo, syllables
log = logging.getLogger(__name__)
PER_PAGE = 3
MAX_PROMPT_LINES = 11
GRID_COLUMNS, GRID_ROWS = 2, 3
GRID_NOTE_LINES = 4
MAX_DIALOGUE_ROWS = 6  # of a scene's dialogue on the rows layout; the grid shows what fits under its frame


@dataclass(frozen=True)
class FrameDrawing:
    """A reviewer's drawing on a frame of the approved take (projects/drawing.py's shapes,
    coordinates 0..1 of the frame), with the frame it was drawn on and its comment."""

    frame: Path
    shapes: tuple
    caption: str  # "00:02.0 rita: Move the boat left"


@dataclass(frozen=True)
class PanelLine:
    """A line of a scene's dialogue, as a script prints it."""

    speaker: str
    parenthetical: str
    text: str


@dataclass(frozen=True)
class BoardPanel:
    number: int
    title: str
    prompt: str
    duration: float  # seconds: the approved take's, else the scene's planned length
    approval: str  # in words: "Approved: take 2 by rita, 21 Nov 2026 14:03" / "Not approved"
    approved: bool
    thumbnail: Path | None = None
    drawings: tuple[FrameDrawing, ...] = ()
    notes: str = ""  # the scene's camera notes
    dialogue: tuple[PanelLine, ...] = ()  # the lines that were sent with the prompt, in order
    fields: str = ""  # the project's own fields the scene fills: "Shot type: Wide · Lens: 35mm"


def write_storyboard(panels: Sequence[BoardPanel], out_path: Path, *, title: str, subtitle: str,
                     layout: str = "scenes") -> None:
    pdf = _FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_title(title)
    pdf.set_creator("Storyboard Studio")
    family = _font_family(pdf, [title, subtitle] + [t for p in panels
                                                    for t in (p.title, p.prompt, p.approval, p.notes, p.fields)]
                          + [t for p in panels for d in p.drawings for t in _drawing_texts(d)]
                          + [t for p in panels for line in p.dialogue
                             for t in (line.speaker.upper(), line.parenthetical, line.text)])
    if family == "helvetica":  # no Unicode font on this machine: never fail the export over a glyph
        title, subtitle = _latin1_safe(title), _latin1_safe(subtitle)
        panels = [replace(p, title=_latin1_safe(p.title), prompt=_latin1_safe(p.prompt),
                          approval=_latin1_safe(p.approval), notes=_latin1_safe(p.notes),
                          fields=_latin1_safe(p.fields),
                          drawings=tuple(_latin1_drawing(d) for d in p.drawings),
                          dialogue=tuple(PanelLine(*(_latin1_safe(t) for t in (d.speaker, d.parenthetical, d.text)))
                                         for d in p.dialogue)) for p in panels]
    if layout == "grid":
        _grid(pdf, panels, family, title=title, subtitle=subtitle)
    else:
        _rows(pdf, panels, family, title=title, subtitle=subtitle)
    _write_drawings(pdf, panels, family, title=title)
    pdf.output(str(out_path))


def _page_head(pdf: FPDF, family: str, *, title: str, subtitle: str, margin: float) -> None:
    pdf.add_page()
    pdf.set_font(family, "B", 15)
    _text(pdf, margin, 16, _fit(pdf, title, pdf.w - 2 * margin))
    pdf.set_font(family, "", 9)
    pdf.set_text_color(90)
    _text(pdf, margin, 22, _fit(pdf, subtitle, pdf.w - 2 * margin))
    _text(pdf, pdf.w - margin - 12, pdf.h - 8, f"{pdf.page_no()}")
    pdf.set_text_color(0)


def _frame(pdf: FPDF, panel: BoardPanel, family: str, *, x: float, y: float, w: float, h: float) -> float:
    """The panel's thumbnail fitted into w×h at (x, y), or a grey box saying there is none.
    Returns the height drawn."""
    if panel.thumbnail and panel.thumbnail.exists():
        with Image.open(panel.thumbnail) as picture:  # reads the header only
            iw, ih = picture.size
        fw = min(w, h * iw / ih)  # top-aligned with the text, portrait or landscape
        pdf.image(str(panel.thumbnail), x=x, y=y, w=fw, h=fw * ih / iw)
        return fw * ih / iw
    pdf.set_fill_color(235)
    pdf.rect(x, y, w, w * 9 / 16, style="F")
    pdf.set_font(family, "", 9)
    pdf.set_text_color(120)
    _text(pdf, x + 4, y + 8, "No approved take")
    pdf.set_text_color(0)
    return w * 9 / 16


def _grid(pdf: FPDF, panels: Sequence[BoardPanel], family: str, *, title: str, subtitle: str) -> None:
    margin, gutter, body_top = 14, 6, 30
    per_page = GRID_COLUMNS * GRID_ROWS
    cell_w = (pdf.w - 2 * margin - gutter * (GRID_COLUMNS - 1)) / GRID_COLUMNS
    cell_h = (pdf.h - body_top - 12) / GRID_ROWS
    frame_h = cell_w * 9 / 16
    for index, panel in enumerate(panels):
        if index % per_page == 0:
            _page_head(pdf, family, title=title, subtitle=subtitle, margin=margin)
        column, row = index % GRID_COLUMNS, (index % per_page) // GRID_COLUMNS
        x, top = margin + column * (cell_w + gutter), body_top + row * cell_h
        _frame(pdf, panel, family, x=x, y=top, w=cell_w, h=frame_h)
        y = top + frame_h + 5
        pdf.set_font(family, "B", 10)
        length = f"{panel.duration:g} s"
        _text(pdf, x, y, _fit(pdf, f"{panel.number}. {panel.title}", cell_w - text_width(pdf, length) - 3))
        pdf.set_font(family, "", 9)
        pdf.set_text_color(90)
        _text(pdf, x + cell_w - text_width(pdf, length), y, length)
        y += 4.5
        pdf.set_font(family, "", 8)
        pdf.set_text_color(0, 110, 60) if panel.approved else pdf.set_text_color(170, 60, 0)
        _text(pdf, x, y, _fit(pdf, panel.approval, cell_w))
        pdf.set_text_color(0)
        y += 4.2
        # The project's own fields first: a short line the prompt's rows would otherwise push out.
        notes = (f"{panel.fields}\n" if panel.fields else "") + panel.prompt \
            + (f"\nCamera: {panel.notes}" if panel.notes.strip() else "")
        # Beside dialogue the notes keep two rows: the lines take the rest, one more than the notes alone.
        for line in _wrap(pdf, notes, cell_w, 2 if panel.dialogue else GRID_NOTE_LINES) if notes.strip() else ():
            _text(pdf, x, y, line)
            y += 3.6
        if panel.dialogue:
            _dialogue(pdf, panel, family, x=x, y=y, w=cell_w, max_rows=GRID_NOTE_LINES - 1, size=8, step=3.6)


def _rows(pdf: FPDF, panels: Sequence[BoardPanel], family: str, *, title: str, subtitle: str) -> None:
    margin, page_w = 14, pdf.w
    body_top, panel_h = 30, (pdf.h - 30 - 12) / PER_PAGE
    thumb_w, thumb_h = 82, panel_h - 10
    text_x = margin + thumb_w + 6
    text_w = page_w - text_x - margin

    for index, panel in enumerate(panels):
        if index % PER_PAGE == 0:
            _page_head(pdf, family, title=title, subtitle=subtitle, margin=margin)
        top = body_top + (index % PER_PAGE) * panel_h
        pdf.set_draw_color(200)
        pdf.line(margin, top - 3, page_w - margin, top - 3)
        _frame(pdf, panel, family, x=margin, y=top, w=thumb_w, h=thumb_h)
        y = top + 5
        pdf.set_font(family, "B", 12)
        _text(pdf, text_x, y, _fit(pdf, f"{panel.number}. {panel.title}", text_w))
        y += 6
        pdf.set_font(family, "", 9)
        pdf.set_text_color(0, 110, 60) if panel.approved else pdf.set_text_color(170, 60, 0)
        _text(pdf, text_x, y, _fit(pdf, panel.approval, text_w))
        pdf.set_text_color(90)
        y += 5
        _text(pdf, text_x, y, _fit(pdf, f"{panel.duration:g} s" + (f" · {panel.fields}" if panel.fields else ""),
                                   text_w))
        pdf.set_text_color(0)
        y += 6
        dialogue_rows = min(MAX_DIALOGUE_ROWS, len(panel.dialogue) * 2)  # two rows a line, as far as it goes
        prompt_rows = max(3, MAX_PROMPT_LINES + 2 - dialogue_rows) if panel.dialogue else MAX_PROMPT_LINES
        for line in _wrap(pdf, panel.prompt, text_w, prompt_rows) if panel.prompt.strip() else ():
            _text(pdf, text_x, y, line)
            y += 4.3
        if panel.dialogue:
            _dialogue(pdf, panel, family, x=text_x, y=y + 1, w=text_w, max_rows=MAX_PROMPT_LINES + 2 - prompt_rows
                      if panel.prompt.strip() else MAX_PROMPT_LINES, size=9, step=4.3)


def _dialogue(pdf: FPDF, panel: BoardPanel, family: str, *, x: float, y: float, w: float, max_rows: int,
              size: float, step: float) -> None:
    """The scene's lines as a script prints them: the speaker in capitals, in bold, then how and what
    they say, wrapped under the words. The rest of a long exchange goes on as "…"."""
    rows: list[tuple[str, float, str]] = []  # (cue or "", its width, words)
    for line in panel.dialogue:
        pdf.set_font(family, "B", size)
        cue = _fit(pdf, line.speaker.upper(), w / 3)
        indent = text_width(pdf, cue) + text_width(pdf, "  ")
        pdf.set_font(family, "", size)
        words = f"({line.parenthetical}) {line.text}" if line.parenthetical else line.text
        wrapped = _wrap(pdf, words, w - indent, max_rows)
        rows += [(cue if i == 0 else "", indent, row) for i, row in enumerate(wrapped)]
    if len(rows) > max_rows:
        cue, indent, last = rows[max_rows - 1]
        rows = rows[:max_rows - 1] + [(cue, indent, _fit(pdf, f"{last} {_dots(pdf)}", w - indent))]
    for cue, indent, words in rows:
        if cue:
            pdf.set_font(family, "B", size)
            _text(pdf, x, y, cue)
            pdf.set_font(family, "", size)
        _text(pdf, x + indent, y, words)
        y += step


# --- Reviewers' drawings, each over the frame it was drawn on ---

DRAWINGS_PER_PAGE = 2


def _drawing_texts(drawing: FrameDrawing) -> list[str]:
    return [drawing.caption] + [s.get("text", "") for s in drawing.shapes]


def _latin1_drawing(drawing: FrameDrawing) -> FrameDrawing:
    shapes = tuple({**s, "text": _latin1_safe(s["text"])} if "text" in s else s for s in drawing.shapes)
    return replace(drawing, caption=_latin1_safe(drawing.caption), shapes=shapes)


def _rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def draw_shapes(pdf: FPDF, shapes, *, x: float, y: float, w: float, h: float) -> None:
    """The shapes over a frame placed at (x, y), w × h mm, as vector operations."""
    unit = max(0.35, 0.006 * h)
    def at(p):
        return x + p[0] * w, y + p[1] * h

    for shape in shapes:
        pdf.set_draw_color(*_rgb(shape["color"]))
        pdf.set_line_width(unit)
        points = [at(p) for p in shape["points"]]
        kind = shape["kind"]
        if kind == "pen":
            for (a, b), (pa, pb) in zip(pairwise(points), pairwise(shape["points"])):
                pdf.set_line_width(unit * (0.4 + 1.6 * (pa[2] + pb[2]) / 2))
                pdf.line(a[0], a[1], b[0], b[1])
        elif kind == "arrow":
            (x0, y0), (x1, y1) = points
            pdf.line(x0, y0, x1, y1)
            angle, head = math.atan2(y1 - y0, x1 - x0), unit * 5
            for turn in (-0.45, 0.45):
                pdf.line(x1, y1, x1 - head * math.cos(angle + turn), y1 - head * math.sin(angle + turn))
        elif kind in ("rect", "ellipse"):
            (x0, y0), (x1, y1) = points
            box = (min(x0, x1), min(y0, y1), abs(x1 - x0), abs(y1 - y0))
            (pdf.rect if kind == "rect" else pdf.ellipse)(*box, style="D")
        elif kind == "text":
            size = max(6.0, 0.05 * h * pdf.k)  # points: 5 % of the frame's height, as in the player
            pdf.set_font_size(size)
            pdf.set_text_color(*_rgb(shape["color"]))
            tx, ty = points[0]
            _text(pdf, tx, ty + size / pdf.k * 0.8, shape["text"])
            pdf.set_text_color(0)


def _write_drawings(pdf: FPDF, panels: Sequence[BoardPanel], family: str, *, title: str) -> None:
    drawings = [(p, d) for p in panels for d in p.drawings if d.frame.exists()]
    margin = 14
    slot_h = (pdf.h - 30 - 12) / DRAWINGS_PER_PAGE
    for index, (panel, drawing) in enumerate(drawings):
        if index % DRAWINGS_PER_PAGE == 0:
            pdf.add_page()
            pdf.set_font(family, "B", 15)
            _text(pdf, margin, 16, _fit(pdf, f"{title}: review drawings", pdf.w - 2 * margin))
            pdf.set_font(family, "", 9)
            pdf.set_text_color(90)
            _text(pdf, pdf.w - margin - 12, pdf.h - 8, f"{pdf.page_no()}")
            pdf.set_text_color(0)
        top = 30 + (index % DRAWINGS_PER_PAGE) * slot_h
        pdf.set_font(family, "B", 11)
        _text(pdf, margin, top + 4, _fit(pdf, f"{panel.number}. {panel.title}", pdf.w - 2 * margin))
        pdf.set_font(family, "", 9)
        _text(pdf, margin, top + 9, _fit(pdf, drawing.caption, pdf.w - 2 * margin))
        with Image.open(drawing.frame) as picture:
            iw, ih = picture.size
        box_w, box_h = pdf.w - 2 * margin, slot_h - 18
        w = min(box_w, box_h * iw / ih)
        h = w * ih / iw
        pdf.image(str(drawing.frame), x=margin, y=top + 12, w=w, h=h)
        pdf.set_font(family, "B", 9)
        draw_shapes(pdf, drawing.shapes, x=margin, y=top + 12, w=w, h=h)
    pdf.set_draw_color(0)


class _FPDF(FPDF):
    def get_fallback_font(self, char: str, style: str = "") -> str | None:
        # Droid Sans Fallback comes first but has three Hangul syllables (가 …) and the jamo:
        # Korean text prints in NanumSquare throughout, not in two fonts.
        if "hangul" in self.fonts and ord(char) in HANGUL and ord(char) in _ttf(self, "hangul").cmap:
            return "hangul"
        return super().get_fallback_font(char, style)


def _ttf(pdf: FPDF, key: str) -> TTFFont:
    """A font this module added from a file (add_font): TrueType, so it has a cmap."""
    font = pdf.fonts[key]
    assert isinstance(font, TTFFont), f"{key} is a core font"
    return font


def _current(pdf: FPDF) -> CoreFont | TTFFont:
    assert pdf.current_font is not None, "set_font() comes first"
    return pdf.current_font


def _font_family(pdf: FPDF, texts: Sequence[str]) -> str:
    if all(_latin1(t) for t in texts):
        return "helvetica"
    if all(path.exists() for path in UNICODE_FONTS.values()):
        for style, path in UNICODE_FONTS.items():
            pdf.add_font("dejavu", style, str(path))
        missing = {ord(c) for t in texts for c in t if not c.isspace()} - set(_ttf(pdf, "dejavu").cmap)
        fallbacks = []
        for key, path in (("fallback", FALLBACK_FONT), ("hangul", HANGUL_FONT), ("symbols", SYMBOLS_FONT)):
            if missing and path.exists():  # each loaded only while some character still lacks a glyph
                pdf.add_font(key, "", str(path))
                fallbacks.append(key)
                missing -= set(_ttf(pdf, key).cmap) - (HANGUL if key == "fallback" else set())
        if fallbacks:
            # One weight only: a bold title's CJK prints in the regular face rather than not at all.
            pdf.set_fallback_fonts(fallbacks, exact_match=False)
        return "dejavu"
    log.warning("No Unicode font (generation/fonts) for the storyboard PDF: "
                "characters outside Latin-1 are printed as '?'.")
    return "helvetica"


def _runs(pdf: FPDF, text: str) -> list[tuple[str | None, str]]:
    """The text cut into runs of one font each: (None, run) in the current font, (font key, run)
    in the fallback font fpdf2 chooses for a character the current font lacks, as its cell() would."""
    font = pdf.current_font
    if not isinstance(font, TTFFont):  # no font yet, or a core font: fpdf2 has no fallback for it
        return [(None, text)]
    glyphs = font.cmap
    if all(ord(c) in glyphs for c in text):
        return [(None, text)]
    runs: list[tuple[str | None, str]] = []
    for char in text:
        key = None if ord(char) in glyphs else pdf.get_fallback_font(char, pdf.font_style)
        if runs and runs[-1][0] == key:
            runs[-1] = (key, runs[-1][1] + char)
        else:
            runs.append((key, char))
    return runs


def _text(pdf: FPDF, x: float, y: float, text: str) -> None:
    """`pdf.text()`, with each character in a font that has its glyph."""
    runs = _runs(pdf, text)
    if len(runs) == 1 and runs[0][0] is None:
        pdf.text(x, y, text)
        return
    family, style, size = pdf.font_family, pdf.font_style, pdf.font_size_pt
    for key, run in runs:
        if key is not None:  # fpdf2's font keys: the lower-case family, then "B"/"I"
            pdf.set_font(key.replace("B", "").replace("I", ""), "".join(c for c in key if c in "BI"), size)
        pdf.text(x, y, run)
        x += _width(pdf, run)
        if key is not None:
            pdf.set_font(family, style, size)


def _latin1_safe(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def _latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def text_width(pdf: FPDF, text: str) -> float:
    """`pdf.get_string_width(text)` for plain text (no stretching, spacing or shaping),
    straight from the font's metrics: fpdf2's own goes through bidi and markdown parsing
    and a graphics-state copy per call, and was most of the PDF's time. Characters the
    font lacks are measured in the fallback font that draws them."""
    runs = _runs(pdf, text)
    if len(runs) == 1 and runs[0][0] is None:
        return _width(pdf, text)
    total = 0.0
    for key, run in runs:
        font = _current(pdf) if key is None else pdf.fonts[key]
        total += font.get_text_width(run, pdf.font_size_pt, None)[1] / pdf.k
    return total


def _width(pdf: FPDF, text: str) -> float:
    try:
        return _current(pdf).get_text_width(text, pdf.font_size_pt, None)[1] / pdf.k
    except KeyError:  # a core font lacks the glyph: fpdf2 normalises the text, or says why not
        return pdf.get_string_width(text)


def _fit(pdf: FPDF, text: str, width: float) -> str:
    """One line, cut with an ellipsis when it is too wide."""
    text = " ".join(text.split())
    if text_width(pdf, text) <= width:
        return text
    dots = _dots(pdf)
    return _longest_prefix(pdf, text, width - text_width(pdf, dots)).rstrip() + dots


def _wrap(pdf: FPDF, text: str, width: float, max_lines: int) -> list[str]:
    space = text_width(pdf, " ")
    lines: list[str] = []
    words: list[str] = []
    used = 0.0
    for paragraph in text.splitlines() or [""]:
        if len(lines) > max_lines:
            break
        for word in paragraph.split():
            w = text_width(pdf, word)
            if words and used + space + w > width:
                lines.append(" ".join(words))
                words, used = [], 0.0
            # Longer than the line (Chinese and Japanese use no spaces): break it, as far as the board shows.
            while not words and w > width and len(lines) <= max_lines:
                head = _longest_prefix(pdf, word, width) or word[0]
                lines.append(head)
                word = word[len(head):]
                w = text_width(pdf, word)
            words.append(word)
            used = used + space + w if len(words) > 1 else w
        if words:
            lines.append(" ".join(words))
            words, used = [], 0.0
    if len(lines) > max_lines:  # the PDF is a board, not a script: say the rest goes on
        lines = lines[:max_lines - 1] + [_fit(pdf, f"{lines[max_lines - 1]} {_dots(pdf)}", width)]
    return lines


def _longest_prefix(pdf: FPDF, word: str, width: float) -> str:
    """The most characters of the word that fit the width (a binary search: the width only grows)."""
    low, high = 0, len(word)
    while low < high:
        middle = (low + high + 1) // 2
        if text_width(pdf, word[:middle]) <= width:
            low = middle
        else:
            high = middle - 1
    return word[:low]


def _dots(pdf: FPDF) -> str:
    return "..." if pdf.font_family == "helvetica" else "…"
