"""Local previz provider: draws a real H.264/AAC MP4 animatic of a scene, fast.

Speed comes from doing almost nothing per frame.  Everything static (background,
scene text, HUD bar, timecode digits) is drawn once with Pillow and converted once
to YUV 4:2:0.  A frame is then a numpy crop of that "board" (the camera pan) copied
straight into the encoder's frame planes, plus eight pre-rendered digit tiles.
This skips Pillow per frame and PyAV's RGB->YUV conversion (~7 ms/frame at 720p),
leaving libx264 as the dominant cost.
"""

from __future__ import annotations

import colorsys
import functools
import hashlib
import os
import re
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

SAMPLE_RATE = 48_000
MIN_SIDE, MAX_SIDE = 64, 4096


@dataclass(frozen=True)
class VideoInfo:
    duration: float
    width: int
    height: int
    fps: float
    video_codec: str
    pix_fmt: str
    audio_codec: str | None
    audio_sample_rate: int | None


# ----------------------------------------------------------------------------- colour


def _rgb_to_yuv(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Full-resolution float Y, Cb, Cr: BT.709 limited range, as the stream is tagged."""
    r, g, b = (rgb[..., k].astype(np.float32) / 255 for k in range(3))
    luma = 0.2126 * r + 0.7152 * g + 0.0722 * b
    # Y carries +0.5 so the later astype(uint8) truncation rounds.
    return 16.5 + 219 * luma, 128 + 224 * (b - luma) / 1.8556, 128 + 224 * (r - luma) / 1.5748


def _subsample(chroma: np.ndarray, px: int = 0, py: int = 0) -> np.ndarray:
    """2x2 box average starting at pixel (px, py); four strided adds beat .mean() 3x."""
    c = chroma[py:, px:]
    h, w = c.shape[0] // 2 * 2, c.shape[1] // 2 * 2
    c = c[0:h:2, 0:w:2] + c[1:h:2, 0:w:2] + c[0:h:2, 1:w:2] + c[1:h:2, 1:w:2]
    return np.clip(c * 0.25 + 0.5, 0, 255).astype(np.uint8)


def _yuv420(img: Image.Image) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y, u, v = _rgb_to_yuv(np.asarray(img))
    return np.clip(y, 0, 255).astype(np.uint8), _subsample(u), _subsample(v)


# ---------------------------------------------------------------------------- drawing


# generation/fonts/, shared with the storyboard PDF and bundled with their licences (fonts/README.md)
FONTS = Path(__file__).resolve().parent.parent / "fonts"
# Each character is drawn with the first of these that has its glyph: DejaVu for Latin, Greek,
# Cyrillic and symbols; Droid Sans Fallback for Chinese and Japanese (DejaVu has no CJK);
# NanumSquare for Korean Hangul (neither has it); Noto Sans Symbols 2 for the emoji it has,
# in black and white. A character none has is drawn as REPLACEMENT, not as an empty box.
FALLBACK_FONT = "DroidSansFallbackFull.ttf"
HANGUL_FONT = "NanumSquareR.ttf"
SYMBOLS_FONT = "NotoSansSymbols2-Regular.ttf"
FALLBACK_FONTS = (FALLBACK_FONT, HANGUL_FONT, SYMBOLS_FONT)
REPLACEMENT = "\ufffd"
HANGUL = frozenset(range(0x3130, 0x3190)) | frozenset(range(0xAC00, 0xD7A4))  # compatibility jamo, syllables
# Emoji variation selectors, the zero-width joiner, skin tones and tag characters only modify the
# emoji before them, and no bundled font draws them: left out, rather than drawn as marks.
_MODIFIERS = re.compile("[\ufe00-\ufe0f\u200d\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f\U000e0100-\U000e01ef]")


@functools.lru_cache(maxsize=8)
def _coverage(name: str) -> frozenset[int]:
    """The code points a bundled font has glyphs for, read from its cmap (fontTools comes with fpdf2)."""
    from fontTools.ttLib import TTFont

    with TTFont(str(FONTS / name), lazy=True) as font:
        cmap = frozenset(font.getBestCmap())
    if name == FALLBACK_FONT:  # its Hangul is three syllables (가 …) and the jamo: Korean text stays in one font
        cmap -= HANGUL
    return cmap


class _Face:
    """A font with fallbacks, used like one: `getlength`, `size`, and `_text` to draw. Text is
    cut into runs, each drawn with the first font that has its characters' glyphs (a character
    no font has is drawn as REPLACEMENT, a visible mark rather than an empty box). A fallback is
    opened only when some text needs it: most prompts never load the 4 MB CJK font."""

    def __init__(self, names: Sequence[str], size: int):
        self.names, self.size = list(names), size
        self._fonts: dict[int, ImageFont.FreeTypeFont] = {}
        self.primary = self.font(0)

    def font(self, k: int) -> ImageFont.FreeTypeFont:
        if k not in self._fonts:
            self._fonts[k] = ImageFont.truetype(str(FONTS / self.names[k]), self.size)
        return self._fonts[k]

    def _font_for(self, code: int, current: int) -> int | None:
        if code in _coverage(self.names[current]):
            return current
        return next((k for k, name in enumerate(self.names) if code in _coverage(name)), None)

    def runs(self, text: str) -> list[tuple[ImageFont.FreeTypeFont, str]]:
        primary = _coverage(self.names[0])
        if all(ord(c) in primary for c in text):  # the common case: one run, primary font
            return [(self.primary, text)]
        runs: list[tuple[int, str]] = []
        for char in _MODIFIERS.sub("", text):
            k = self._font_for(ord(char), runs[-1][0] if runs else 0)
            if k is None:  # no bundled font has it
                char, k = REPLACEMENT, self._font_for(ord(REPLACEMENT), 0) or 0
            if runs and runs[-1][0] == k:
                runs[-1] = (k, runs[-1][1] + char)
            else:
                runs.append((k, char))
        return [(self.font(k), run) for k, run in runs] or [(self.primary, "")]

    def getlength(self, text: str) -> float:
        return sum(font.getlength(run) for font, run in self.runs(text))


def _text(draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, face: _Face, *,
          anchor: str = "la", **kwargs) -> None:
    """`draw.text` for a `_Face`: runs in different fonts share one baseline, placed where
    Pillow's `anchor` would put the primary font's text."""
    runs = face.runs(text)
    if len(runs) == 1:
        draw.text(xy, runs[0][1], font=runs[0][0], anchor=anchor, **kwargs)
        return
    horizontal, vertical = anchor[0], anchor[1]
    x, y = xy
    lengths = [font.getlength(run) for font, run in runs]
    x -= {"l": 0, "m": sum(lengths) / 2, "r": sum(lengths)}[horizontal]
    ascent, descent = face.primary.getmetrics()
    if vertical == "t":
        baseline = y - min(font.getbbox(run, anchor="ls")[1] for font, run in runs)
    elif vertical == "b":
        baseline = y - max(font.getbbox(run, anchor="ls")[3] for font, run in runs)
    else:
        baseline = y + {"a": ascent, "m": (ascent - descent) / 2, "s": 0, "d": -descent}[vertical]
    for (font, run), length in zip(runs, lengths):
        draw.text((x, baseline), run, font=font, anchor="ls", **kwargs)
        x += length


@functools.lru_cache(maxsize=64)
def _font(size: float, bold: bool = False) -> _Face:
    # Bundled, not the system's: a worker without fonts still draws "café", "—", "Ωμέγα", "Жук", "写真", "안녕".
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return _Face([name, *FALLBACK_FONTS], max(8, round(size)))


def _even(x: float) -> int:
    return max(2, round(x / 2) * 2)


def _wrap(text: str, font, width: float, max_lines: int, limit: int = 4000) -> list[str]:
    """Greedy word wrap; over-long words are hard-broken; overflow ends in an ellipsis.
    Only the first `limit` characters are laid out (more than any frame can show)."""
    if max_lines <= 0:
        return []
    lines: list[str] = []
    current = ""
    for word in text[:limit].split():
        candidate = f"{current} {word}".strip()
        if font.getlength(candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        while font.getlength(word) > width and len(word) > 1 and len(lines) <= max_lines:
            cut = 1
            while cut < len(word) - 1 and font.getlength(word[:cut + 1]) <= width:
                cut += 1
            lines.append(word[:cut])
            word = word[cut:]
        current = word
        if len(lines) > max_lines:
            break  # enough to know it overflows
    if current:
        lines.append(current)
    if lines and (len(lines) > max_lines or len(text) > limit):
        lines = lines[:max_lines]
        last = lines[-1]
        while last and font.getlength(last + "…") > width:
            last = last[:-1]
        lines[-1] = last.rstrip() + "…"
    return lines


def _draw_board(w: int, h: int, safe: tuple[int, int, int, int], unit: float, *, title: str,
                prompt: str, scene_number: int, camera_notes: str, background: Image.Image | None = None,
                cast: Sequence[tuple[str, Image.Image]] = ()) -> Image.Image:
    """The panning layer: the scene's reference image (else a gradient seeded by the title
    with storyboard guides), the cast's portraits and a text panel inside `safe`, the part
    of the board that stays on screen for the whole pan."""
    if background is not None:
        img = _cover(background, w, h)
        # The picture is the scene: the text shrinks to a caption and leaves it visible.
        _draw_portraits(img, safe, unit, cast)
        _draw_panel(img, safe, unit, title=title, prompt=prompt, scene_number=scene_number,
                    camera_notes=camera_notes, compact=True)
        return img
    digest = hashlib.sha256(title.encode()).digest()
    hue = digest[0] / 255
    c1 = [255 * c for c in colorsys.hsv_to_rgb(hue, 0.55, 0.32)]
    c2 = [255 * c for c in colorsys.hsv_to_rgb((hue + 0.08 + digest[1] / 2000) % 1, 0.65, 0.14)]
    xs = np.linspace(0, 1, w, dtype=np.float32)[None, :]
    ys = np.linspace(0, 1, h, dtype=np.float32)[:, None]
    t = xs * 0.6 + ys * 0.4
    # A soft light gives the pan something to move against (a Gaussian is separable).
    glow_x = 0.2 + digest[2] / 255 * 0.6
    glow = np.exp(-(((xs - glow_x) / 0.35) ** 2)) * np.exp(-(((ys - 0.3) / 0.35) ** 2)) * 45
    rgb = np.empty((h, w, 3), np.uint8)
    for k in range(3):  # one channel at a time: broadcasting over a trailing 3 is ~20x slower
        rgb[..., k] = np.clip(c1[k] + (c2[k] - c1[k]) * t + glow, 0, 255)
    img = Image.fromarray(rgb)
    draw = ImageDraw.Draw(img)
    for k in (1, 2):  # rule-of-thirds guides
        draw.line([(w * k // 3, 0), (w * k // 3, h)], fill=(64, 64, 64))
        draw.line([(0, h * k // 3), (w, h * k // 3)], fill=(64, 64, 64))
    if cast:  # portraits take the top right; the text panel keeps the rest
        x0, y0, x1, y1 = safe
        used = _draw_portraits(img, safe, unit, cast)
        safe = (x0, y0, x1 - used, y1)
    _draw_panel(img, safe, unit, title=title, prompt=prompt, scene_number=scene_number,
                camera_notes=camera_notes)
    return img


def _cover(image: Image.Image, w: int, h: int) -> Image.Image:
    """`image` scaled to cover w×h and centre-cropped (the reference was fitted to the frame's
    shape already; this only adds the few pixels the camera move travels over)."""
    image = image.convert("RGB")
    scale = max(w / image.width, h / image.height)
    size = (max(w, round(image.width * scale)), max(h, round(image.height * scale)))
    image = image.resize(size, Image.Resampling.LANCZOS)
    left, top = (size[0] - w) // 2, (size[1] - h) // 2
    return image.crop((left, top, left + w, top + h))


def _draw_portraits(img: Image.Image, safe, unit: float, cast) -> int:
    """The cast's reference images as small named portraits along the safe area's top right;
    returns the width they took (0 when there are none)."""
    if not cast:
        return 0
    x0, y0, x1, y1 = safe
    side, gap = round(unit * 0.17), round(unit * 0.02)
    label_f = _font(unit * 0.03, bold=True)
    mask = Image.new("L", (side, side))
    ImageDraw.Draw(mask).rounded_rectangle([0, 0, side - 1, side - 1], radius=side // 6, fill=255)
    draw = ImageDraw.Draw(img)
    y = y0
    for name, portrait in cast[:4]:
        if y + side + label_f.size * 1.4 > y1:
            break
        x = x1 - side
        img.paste(_cover(portrait, side, side), (x, y), mask)
        draw.rounded_rectangle([x, y, x + side - 1, y + side - 1], radius=side // 6,
                               outline=(255, 255, 255), width=max(1, round(unit * 0.004)))
        label = _wrap(name, label_f, side + 2 * gap, 1)
        if label:
            _text(draw, (x + side / 2, y + side + gap / 2), label[0], label_f, fill=(255, 255, 255),
                  anchor="mt", stroke_width=max(1, round(unit * 0.003)), stroke_fill=(0, 0, 0))
        y += side + gap + round(label_f.size * 1.4)
    return side + 2 * gap


def _draw_panel(img: Image.Image, safe, unit: float, *, title: str, prompt: str, scene_number: int,
                camera_notes: str, compact: bool = False) -> None:
    """The scene's words on a translucent panel: centred and full when there is no picture,
    a caption at the top left (title, two lines of prompt) over a reference image."""
    draw = ImageDraw.Draw(img)
    x0, y0, x1, y1 = safe
    if compact:
        x1 = x0 + (x1 - x0) * 11 // 20
    pad, gap = round(unit * 0.03), round(unit * 0.025)
    label_f, body_f = _font(unit * 0.032), _font(unit * 0.042)
    title_f = _font(unit * (0.05 if compact else 0.07), bold=True)
    text_w = x1 - x0 - 2 * pad
    line_h = {f: round(f.size * 1.3) for f in (label_f, title_f, body_f)}
    kicker = [f"SCENE {scene_number}"]
    titles = _wrap(title or "Untitled", title_f, text_w, 1 if compact else 2)
    notes = _wrap(f"CAMERA · {camera_notes}", label_f, text_w, 2) if camera_notes.strip() else []
    used = line_h[label_f] * (1 + len(notes)) + line_h[title_f] * len(titles) + 2 * pad + 2 * gap
    room = max(0, (y1 - y0 - used) // line_h[body_f])
    body = _wrap(prompt, body_f, text_w, min(room, 2) if compact else room)
    blocks = [  # (lines, font, colour, gap after)
        (kicker, label_f, (255, 196, 92), 0),
        (titles, title_f, (255, 255, 255), gap),
        (body, body_f, (222, 226, 235), gap if notes else 0),
        (notes, label_f, (150, 210, 255), 0),
    ]
    panel_h = min(y1 - y0, 2 * pad + sum(line_h[f] * len(ls) + g for ls, f, _, g in blocks))
    if not compact:
        y0 += (y1 - y0 - panel_h) // 2  # centre the panel vertically in the safe area
    # Translucent panel: pasting a colour through a mask blends only the panel's pixels.
    mask = Image.new("L", (x1 - x0 + 1, panel_h + 1))
    ImageDraw.Draw(mask).rounded_rectangle([0, 0, x1 - x0, panel_h], radius=pad, fill=150)
    img.paste((8, 8, 12), (x0, y0), mask)
    y = y0 + pad
    for lines, font, colour, gap_after in blocks:
        for line in lines:
            _text(draw, (x0 + pad, y), line, font, fill=colour)
            y += line_h[font]
        y += gap_after


class _Hud:
    """Fixed bottom bar: a PREVIZ badge and an HH:MM:SS:FF timecode whose digits are
    YUV tiles, so a frame costs eight small array copies instead of text rendering."""

    BG = (14, 14, 18)

    def __init__(self, width: int, bar_h: int):
        self.bar_h = bar_h
        font = _font(bar_h * 0.5)
        bar = Image.new("RGB", (width, bar_h), self.BG)
        draw = ImageDraw.Draw(bar)
        margin, mid = _even(bar_h * 0.4), bar_h / 2
        draw.rounded_rectangle([margin, bar_h * 0.2, margin + font.getlength("PREVIZ") + mid * 0.8,
                                bar_h * 0.8], radius=bar_h * 0.12, fill=(200, 40, 48))
        _text(draw, (margin + mid * 0.4, mid), "PREVIZ", font, fill="white", anchor="lm")
        # Even cell widths and positions keep tiles aligned with the 2x2 chroma grid.
        self.cell = _even(max(font.getlength(d) for d in "0123456789") + 1)
        colon = _even(font.getlength(":") + 2)
        x = width - margin - 8 * self.cell - 3 * colon
        self.slots: list[int] = []
        for ch in "00:00:00:00":
            if ch == ":":
                _text(draw, (x + colon / 2, mid), ":", font, fill="white", anchor="mm")
                x += colon
            else:
                self.slots.append(x)
                x += self.cell
        self.bar = _yuv420(bar)
        self.digits = []
        for d in "0123456789":
            tile = Image.new("RGB", (self.cell, bar_h), self.BG)
            _text(ImageDraw.Draw(tile), (self.cell / 2, mid), d, font, fill="white", anchor="mm")
            self.digits.append(_yuv420(tile))

    def draw(self, y: np.ndarray, u: np.ndarray, v: np.ndarray, index: int, fps: int) -> None:
        top, ctop = y.shape[0] - self.bar_h, (y.shape[0] - self.bar_h) // 2
        y[top:], u[ctop:], v[ctop:] = self.bar
        secs, ff = divmod(index, fps)
        mins, ss = divmod(secs, 60)
        hh, mm = divmod(mins, 60)
        for x, d in zip(self.slots, f"{hh:02d}{mm:02d}{ss:02d}{ff:02d}"):
            ty, tu, tv = self.digits[int(d)]
            y[top:, x:x + self.cell] = ty
            u[ctop:, x // 2:(x + self.cell) // 2] = tu
            v[ctop:, x // 2:(x + self.cell) // 2] = tv


# "RITA: Hello." (a screenplay cue: the speaker in capitals) or quoted speech, “…” or "…".
_CUE = re.compile(r"^\s*([^\W\d_][^\W_]*(?:[ .'-]+[^\W_]+){0,3})\s*:\s*(\S.*?)\s*$")
_QUOTE = re.compile(r"“([^”]{1,300})”|\"([^\"]{1,300})\"|«\s*([^»]{1,300}?)\s*»")
_NOT_SPEAKERS = {"CAMERA", "SHOT", "CUT", "INT", "EXT", "SFX", "FX", "MUSIC", "NOTE", "NOTES", "TITLE",
                 "SCENE", "ANGLE", "LENS", "LIGHTING", "MOOD"}


def dialogue_lines(prompt: str, limit: int = 12) -> list[str]:
    """The lines a previz should subtitle, in order: screenplay cues, else quoted speech."""
    lines = []
    for raw in prompt.splitlines():
        cue = _CUE.match(raw)
        if cue and cue.group(1) == cue.group(1).upper() and cue.group(1).upper() not in _NOT_SPEAKERS:
            lines.append(f"{cue.group(1)}: {cue.group(2)}")
            continue
        lines += [next(g for g in m.groups() if g is not None).strip() for m in _QUOTE.finditer(raw)]
    return [line for line in lines if line][:limit]


def subtitle_timings(lines: Sequence[str], seconds: float) -> list[tuple[float, float]]:
    """(start, end) for each line: the clip shared out in proportion to how long each is to read."""
    weights = [len(line) + 12 for line in lines]  # + a beat, so a short line still stays readable
    total, start, timings = sum(weights), 0.0, []
    for weight in weights:
        end = start + seconds * weight / total
        timings.append((start, end))
        start = end
    return timings


def _subtitle_tile(text: str, max_w: int, unit: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The line in white on an opaque dark box, as YUV planes of even width and height."""
    font = _font(unit * 0.045)
    pad = _even(unit * 0.02)
    lines = _wrap(text, font, max_w - 2 * pad, 2)
    line_h = round(font.size * 1.3)
    tile_w = _even(max(font.getlength(line) for line in lines) + 2 * pad)
    tile = Image.new("RGB", (tile_w, _even(line_h * len(lines) + pad)), (12, 12, 16))
    draw = ImageDraw.Draw(tile)
    for k, line in enumerate(lines):
        _text(draw, (tile_w / 2, pad / 2 + k * line_h), line, font, fill=(255, 255, 255), anchor="mt")
    return _yuv420(tile)


def caption_tile(text: str, *, width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A caption as the previz draws its subtitles (white on a dark box, at most 80% of the width), as
    YUV 4:2:0 planes of even size: what an export burns into a cut of this size."""
    return _subtitle_tile(text, round(width * 0.8), min(width, height))


class _Subtitles:
    """Dialogue from the prompt, drawn once as tiles; a frame copies the one that is due."""

    def __init__(self, prompt: str, width: int, board_h: int, n_frames: int, fps: int,
                 timed: Sequence[tuple[float, float, str]] | None = None):
        unit = min(width, board_h)
        if timed is None:  # no voice-over: the prompt's dialogue shared out across the clip
            lines = dialogue_lines(prompt)
            timings = subtitle_timings(lines, n_frames / fps)
        else:  # each line on screen while it is spoken
            lines, timings = [text for _s, _e, text in timed], [(s, e) for s, e, _t in timed]
        self.tiles = [_subtitle_tile(line, round(width * 0.8), unit) for line in lines]
        self.bottom = board_h - _even(unit * 0.04)
        self.due: list[int | None] = [None] * n_frames
        for index, (start, end) in enumerate(timings):
            for i in range(round(start * fps), min(n_frames, round(end * fps))):
                self.due[i] = index

    def draw(self, y: np.ndarray, u: np.ndarray, v: np.ndarray, i: int) -> None:
        due = self.due[i]
        if due is None:
            return
        ty, tu, tv = self.tiles[due]
        h, w = ty.shape
        top, left = self.bottom - h, (y.shape[1] - w) // 4 * 2  # even: on the chroma grid
        y[top:top + h, left:left + w] = ty
        u[top // 2:(top + h) // 2, left // 2:(left + w) // 2] = tu
        v[top // 2:(top + h) // 2, left // 2:(left + w) // 2] = tv


class _Layers:
    """Everything static, prepared once as YUV 4:2:0; frame(i) only crops and blits."""

    def __init__(self, width: int, height: int, n_frames: int, fps: int = 24, subtitles=None, **text):
        unit = min(width, height)
        self.hud = _Hud(width, _even(unit * 0.09))
        self.w, self.h = width, height - self.hud.bar_h  # visible board above the HUD
        self.subtitles = _Subtitles(text["prompt"], width, self.h, n_frames, fps, timed=subtitles)
        # Pan at most ~1 px/frame on average, so integer-pixel steps never judder.
        pan_x, pan_y = min(round(width * 0.06), n_frames), min(round(self.h * 0.04), n_frames)
        m = round(unit * 0.06)
        board = _draw_board(width + pan_x + 2, self.h + pan_y + 2,
                            (pan_x + m, pan_y + m, width - m, self.h - m), unit, **text)
        by, bu, bv = _rgb_to_yuv(np.asarray(board))
        self.y = np.clip(by, 0, 255).astype(np.uint8)
        # One chroma plane per (x, y) parity so odd pan offsets stay aligned with luma.
        self.uv = {(px, py): (_subsample(bu, px, py), _subsample(bv, px, py))
                   for px in (0, 1) for py in (0, 1)}
        ease = [s * s * (3 - 2 * s) for s in np.linspace(0, 1, n_frames)]  # smoothstep
        self.offsets = [(round(pan_x * e), round(pan_y * e)) for e in ease]

    def frame(self, i: int, fps: int) -> av.VideoFrame:
        w, h, (ox, oy) = self.w, self.h, self.offsets[i]
        frame = av.VideoFrame(w, h + self.hud.bar_h, "yuv420p")
        # Writable views of the frame's own planes (rows may be padded to line_size).
        y, u, v = (np.frombuffer(memoryview(p), np.uint8).reshape(p.height, p.line_size)[:, :p.width]
                   for p in frame.planes)
        y[:h] = self.y[oy:oy + h, ox:ox + w]
        cu, cv = self.uv[(ox % 2, oy % 2)]
        u[:h // 2] = cu[oy // 2:oy // 2 + h // 2, ox // 2:ox // 2 + w // 2]
        v[:h // 2] = cv[oy // 2:oy // 2 + h // 2, ox // 2:ox // 2 + w // 2]
        self.subtitles.draw(y, u, v, i)
        self.hud.draw(y, u, v, i, fps)
        frame.pts = i
        return frame


# ------------------------------------------------------------------------------ audio


def _audio_bed(seconds: int, title: str) -> np.ndarray:
    """A quiet, deterministic pad: root + fifth + octave, slow swell, fade in and out."""
    t = np.arange(seconds * SAMPLE_RATE) / SAMPLE_RATE
    root = 110 * 2 ** ((0, 2, 3, 5, 7)[hashlib.sha256(title.encode()).digest()[3] % 5] / 12)
    tone = sum(a * np.sin(2 * np.pi * root * m * t) for m, a in ((1, 0.5), (1.5, 0.3), (2, 0.2)))
    swell = 0.8 + 0.2 * np.sin(2 * np.pi * 0.2 * t)
    fade = np.clip(np.minimum(t, seconds - t) / min(1.0, seconds / 4), 0, 1)
    return (0.08 * tone * swell * fade).astype(np.float32)


def _soundtrack(seconds: int, title: str, audio: np.ndarray | None) -> np.ndarray:
    """The clip's sound: the samples given (cut or padded with silence to the clip), else the pad."""
    if audio is None:
        return _audio_bed(seconds, title)
    pcm = np.zeros(seconds * SAMPLE_RATE, np.float32)
    given = np.asarray(audio, np.float32)[:len(pcm)]
    pcm[:len(given)] = given
    return pcm


def _encode_audio(stream, beds: Sequence[tuple[int, str, np.ndarray | None]], out: list, errors: list) -> None:
    """Encode the whole soundtrack into `out`: one (seconds, title, audio) clip's sound after another, a
    shot's sound cut with its picture.  Runs on a worker thread: PyAV drops the GIL while encoding, and
    list.extend is atomic."""
    try:
        pcm = np.concatenate([_soundtrack(seconds, title, audio) for seconds, title, audio in beds])
        chunk = stream.codec_context.frame_size or 1024  # 1024 for AAC-LC
        for start in range(0, len(pcm), chunk):  # the short last frame is allowed by AAC
            frame = av.AudioFrame.from_ndarray(pcm[None, start:start + chunk], format="fltp",
                                               layout="mono")
            frame.sample_rate, frame.pts = SAMPLE_RATE, start
            out.extend(stream.encode(frame))
        out.extend(stream.encode(None))
    except BaseException as exc:  # re-raised on the rendering thread
        errors.append(exc)


# ------------------------------------------------------------------------- public API


def _atomic_target(out_path: Path, suffix: str) -> str:
    """A temp file beside out_path: os.replace() onto it is atomic (same filesystem)."""
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{out_path.stem}.", suffix=suffix, dir=out_path.parent)
    os.close(fd)
    os.chmod(name, 0o644)  # mkstemp makes 0600; the web server must be able to read it
    return name


def render_animatic(*, out_path: Path, width: int, height: int, seconds: int, title: str,
                    prompt: str, scene_number: int, camera_notes: str = "", fps: int = 24,
                    on_progress: Callable[[int], None] | None = None,
                    background: Image.Image | None = None,
                    cast: Sequence[tuple[str, Image.Image]] = (),
                    audio: np.ndarray | None = None,
                    subtitles: Sequence[tuple[float, float, str]] | None = None) -> None:
    """An H.264/AAC animatic of the scene: its reference image (`background`, else a
    gradient) under a slow camera move, the cast's portraits, its words, and the prompt's
    dialogue as subtitles timed across the clip.

    `audio`: the soundtrack (mono float32 at SAMPLE_RATE: a voice-over, a bed) in place of the
    synthetic pad; `subtitles`: (start, end, text) shown at those seconds instead of the prompt's
    dialogue shared out across the clip."""
    _check(width=width, height=height, fps=fps)
    if not isinstance(seconds, int) or not 1 <= seconds <= 60:
        raise ValueError(f"seconds must be a whole number from 1 to 60, got {seconds!r}")
    _encode(Path(out_path), width, height, fps, on_progress, [dict(
        seconds=seconds, title=title, prompt=prompt, scene_number=scene_number, camera_notes=camera_notes,
        background=background, cast=tuple(cast), audio=audio, subtitles=subtitles)])


def render_shots(*, out_path: Path, width: int, height: int, shots: Sequence[dict], fps: int = 24,
                 on_progress: Callable[[int], None] | None = None) -> None:
    """One animatic of several shots (a multi-shot take), each drawn as render_animatic draws a scene, with a
    hard cut between them: every shot starts on a keyframe, exactly at the sum of the durations before it.
    `shots`: dicts of render_animatic's arguments (seconds, title, prompt, scene_number, camera_notes,
    background, cast, audio, subtitles)."""
    _check(width=width, height=height, fps=fps)
    if not 1 <= len(shots) <= 12 or not all(isinstance(s.get("seconds"), int) and 1 <= s["seconds"] <= 60
                                            for s in shots):
        raise ValueError("a multi-shot animatic has 1 to 12 shots of 1 to 60 whole seconds each")
    if sum(s["seconds"] for s in shots) > 120:
        raise ValueError("a multi-shot animatic lasts at most 120 seconds")
    _encode(Path(out_path), width, height, fps, on_progress, [
        dict(seconds=s["seconds"], title=s.get("title", ""), prompt=s.get("prompt", ""),
             scene_number=int(s.get("scene_number", 1)), camera_notes=s.get("camera_notes", ""),
             background=s.get("background"), cast=tuple(s.get("cast", ())), audio=s.get("audio"),
             subtitles=s.get("subtitles")) for s in shots])


def _check(*, width: int, height: int, fps: int) -> None:
    for name, value in (("width", width), ("height", height)):
        if not isinstance(value, int) or value % 2 or not MIN_SIDE <= value <= MAX_SIDE:
            raise ValueError(f"{name} must be an even number of pixels from {MIN_SIDE} "
                             f"to {MAX_SIDE}, got {value!r}")
    if not isinstance(fps, int) or not 1 <= fps <= 120:
        raise ValueError(f"fps must be a whole number from 1 to 120, got {fps!r}")


def _encode(out_path: Path, width: int, height: int, fps: int, on_progress, segments: list[dict]) -> None:
    report = on_progress or (lambda _percent: None)
    report(0)
    n_total = sum(seg["seconds"] for seg in segments) * fps
    tmp = _atomic_target(out_path, ".part.mp4")
    try:
        # max_interleave_delta=0: always interleave by timestamp, however late the audio
        # thread's packets arrive, so the bytes never depend on thread timing.
        options = {"movflags": "+faststart", "max_interleave_delta": "0"}
        with av.open(tmp, "w", format="mp4", options=options) as container:
            # Constant QP rather than CRF: on this mostly static picture CRF kept re-spending
            # bits on clean P-frames; qp 23 measured ~30% faster, half the size, >49 dB PSNR.
            video = container.add_stream("libx264", rate=fps,
                                         options={"preset": "ultrafast", "qp": "23"})
            video.width, video.height, video.pix_fmt = width, height, "yuv420p"
            video.thread_type = "AUTO"  # x264 frame threads: ~30% faster than slice threads
            cc = video.codec_context
            cc.gop_size = fps * 4  # I-frames cost ~10 P-frames; seeking still stays cheap
            cc.colorspace = cc.color_primaries = cc.color_trc = 1  # BT.709, as _rgb_to_yuv
            cc.color_range = 1  # limited ("tv") range
            # The "fast" AAC coder halves encode CPU and, on this tonal drone, measured a
            # better SNR (62 vs 49 dB) than the default "twoloop".
            audio_stream = container.add_stream("aac", rate=SAMPLE_RATE, layout="mono",
                                                options={"aac_coder": "fast"})
            audio_stream.codec_context.bit_rate = 96_000
            container.start_encoding()  # open codecs now so the audio thread can't race it

            packets: list[av.Packet] = []
            errors: list[BaseException] = []
            beds = [(seg["seconds"], seg["title"], seg.get("audio")) for seg in segments]
            worker = threading.Thread(target=_encode_audio, daemon=True,
                                      args=(audio_stream, beds, packets, errors))
            worker.start()  # overlaps the board drawing and the x264 encode
            try:
                muxed = reported = done = 0
                for seg in segments:
                    n_frames = seg["seconds"] * fps
                    layers = _Layers(width, height, n_frames, fps, title=seg["title"], prompt=seg["prompt"],
                                     scene_number=seg["scene_number"], camera_notes=seg["camera_notes"],
                                     background=seg["background"], cast=seg["cast"],
                                     subtitles=seg.get("subtitles"))
                    for i in range(n_frames):
                        frame = layers.frame(i, fps)
                        frame.pts = done
                        if i == 0 and done:  # a cut: the next shot starts on a keyframe of its own
                            frame.pict_type = av.video.frame.PictureType.I
                        container.mux(video.encode(frame))
                        done += 1
                        while muxed < len(packets):  # interleave whatever audio is ready
                            container.mux(packets[muxed])
                            muxed += 1
                        percent = done * 95 // n_total  # the last 5% is flush + faststart
                        if percent >= reported + 5:  # at most ~20 calls: each is a DB write
                            reported = percent - percent % 5
                            report(reported)
                container.mux(video.encode(None))
            finally:
                worker.join()
            if errors:
                raise errors[0]
            container.mux(packets[muxed:])
        os.replace(tmp, out_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    report(100)


def extract_thumbnail(video_path: Path, out_path: Path, *, at_seconds: float | None = None,
                      max_width: int = 640, exact: bool = True) -> None:
    """A JPEG of the frame at `at_seconds` (default: the middle).

    exact=False takes the keyframe at or before that moment instead of decoding
    forward to it: a fraction of the cost, and just as good for a poster.
    """
    picked = None
    try:
        # Headers only: letting FFmpeg decode frames to probe the stream would decode the
        # picture twice (10 of ~30 ms for a 720p keyframe).
        with av.open(str(video_path), options=HEADERS_ONLY) as container:
            stream = container.streams.video[0]
            duration = _duration(container, stream)
            target = duration / 2 if at_seconds is None else at_seconds
            target = min(max(0.0, target), max(0.0, duration - 1e-3))
            # Seeking lands on the keyframe at or before target; decode forward from there.
            assert stream.time_base is not None  # every stream FFmpeg opened has one
            container.seek(int(target / stream.time_base), stream=stream, backward=True)
            for frame in container.decode(stream):
                picked = frame
                if not exact or (frame.time is not None and frame.time >= target - 1e-6):
                    break
    except (av.FFmpegError, OSError, IndexError) as exc:
        raise ValueError(f"not a playable video: {video_path} ({exc})") from exc
    if picked is None:
        raise ValueError(f"not a playable video: no frame decodes from {video_path}")
    if picked.width > max_width:
        # swscale resizes during the colour conversion: far cheaper than Pillow after it.
        height = max(2, round(picked.height * max_width / picked.width))
        image = picked.reformat(width=max_width, height=height, format="rgb24",
                                interpolation="AREA").to_image()
    else:
        image = picked.to_image()  # honours the stream's BT.709 tag
    out_path = Path(out_path)
    tmp = _atomic_target(out_path, ".part.jpg")
    try:
        image.save(tmp, format="JPEG", quality=85)
        os.replace(tmp, out_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _duration(container, stream) -> float:
    """Stream duration, else the container's, else frames / fps."""
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    if stream.frames and stream.average_rate:
        return stream.frames / float(stream.average_rate)
    return 0.0


# An MP4's moov box already says what the streams are: skip FFmpeg's long
# stream analysis (57 → 17 ms per take, the same answers).
PROBE_OPTIONS = {"analyzeduration": "0", "probesize": "32768"}


# Only the headers: whether there is video, and how long it lasts. Letting FFmpeg
# also decode the first frames (to learn the pixel format) costs 17 of 20 ms.
HEADERS_ONLY = {**PROBE_OPTIONS, "skip_frame": "all"}


def _open_video(path: Path, options: dict):
    """An open container with a video stream; ValueError when PyAV finds none."""
    try:
        container = av.open(str(path), options=options)
    except (av.FFmpegError, OSError) as exc:
        raise ValueError(f"not a playable video: {path} ({exc})") from exc
    if not container.streams.video or container.streams.video[0].codec_context is None:
        # An SVG opens as FFmpeg's svg_pipe with a stream it has no decoder for.
        container.close()
        raise ValueError(f"not a playable video: {path} has no decodable video stream")
    return container


def video_container(path: Path) -> str:
    """"mp4" or "mov", from what the file is (its container and ftyp brand), never its name.

    ValueError for anything else, including other containers FFmpeg could play.
    """
    with _open_video(path, HEADERS_ONLY) as container:
        kind = _isobmff_kind(container, path)
    if kind is None:
        raise ValueError(f"not an MP4 or MOV video: {path}")
    return kind


def _isobmff_kind(container, path: Path) -> str | None:
    """"mp4" or "mov" for an open ISO BMFF container, None for any other."""
    if "mp4" not in container.format.name.split(","):  # FFmpeg's "mov,mp4,m4a,3gp,3g2,mj2"
        return None
    with Path(path).open("rb") as f:
        head = f.read(12)
    # QuickTime files carry the "qt  " brand, or (older ones) no ftyp box at all.
    return "mov" if head[4:8] != b"ftyp" or head[8:12] == b"qt  " else "mp4"


def video_duration(path: Path) -> float:
    """The video's duration in seconds, from its headers alone."""
    with _open_video(path, HEADERS_ONLY) as container:
        return _duration(container, container.streams.video[0])


def probe_video(path: Path) -> VideoInfo:
    with _open_video(path, PROBE_OPTIONS) as container:
        return _info(container)


def probe_headers(path: Path) -> tuple[VideoInfo, str | None]:
    """What probe_video says, from the headers alone, and the container ("mp4", "mov", or None
    for any other) from the same open.

    No frame is decoded (~0.5 ms instead of ~10 for a 720p take), so the pixel format, which
    only a decoded frame tells, is left "". Every other field is the same.
    """
    with _open_video(path, HEADERS_ONLY) as container:
        return _info(container), _isobmff_kind(container, path)


def _info(container) -> VideoInfo:
    video = container.streams.video[0]
    audio = container.streams.audio[0] if container.streams.audio else None
    rate = video.average_rate or video.guessed_rate or video.base_rate
    return VideoInfo(
        duration=_duration(container, video),
        width=video.codec_context.width,
        height=video.codec_context.height,
        fps=float(rate) if rate else 0.0,
        video_codec=video.codec_context.name,
        pix_fmt=video.codec_context.pix_fmt or "",
        audio_codec=audio.codec_context.name if audio else None,
        audio_sample_rate=audio.codec_context.sample_rate if audio else None,
    )
