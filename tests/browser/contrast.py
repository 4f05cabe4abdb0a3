"""WCAG contrast of the text on a page, measured in the browser: every visible run of text against the
colour actually behind it (the nearest ancestor background, layers blended), 4.5:1 for body text and 3:1
for large text (24 px, or 18.66 px bold), as WCAG 2.2 AA asks.

Text over a picture (a frame's poster, a video) is left out: its background is not a colour. So is text
inside a faded subtree (opacity below 1, e.g. a disabled control), which WCAG does not count."""

from __future__ import annotations

from playwright.sync_api import Page

LOW_CONTRAST = r"""() => {
  const parse = (c) => {
    const m = c.match(/rgba?\(([^)]+)\)/) || c.match(/color\(srgb ([^)]+)\)/);
    if (!m) return null;
    const parts = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    const scale = c.startsWith("color(") ? 255 : 1;
    return {r: parts[0] * scale, g: parts[1] * scale, b: parts[2] * scale, a: parts.length > 3 ? parts[3] : 1};
  };
  const over = (top, under) => ({
    r: top.r * top.a + under.r * (1 - top.a), g: top.g * top.a + under.g * (1 - top.a),
    b: top.b * top.a + under.b * (1 - top.a), a: 1});
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  function background(el) {
    const layers = [];
    for (let node = el; node; node = node.parentElement) {
      const style = getComputedStyle(node);
      if (style.backgroundImage !== "none" || ["VIDEO", "IMG", "CANVAS"].includes(node.tagName)) return null;
      const bg = parse(style.backgroundColor);
      if (bg && bg.a > 0) { layers.push(bg); if (bg.a >= 1) break; }
    }
    let colour = parse(getComputedStyle(document.documentElement).backgroundColor) || {r: 255, g: 255, b: 255, a: 1};
    if (colour.a < 1) colour = {r: 255, g: 255, b: 255, a: 1};
    for (const layer of layers.reverse()) colour = over(layer, colour);
    return colour;
  }
  const faded = (el) => { for (let n = el; n; n = n.parentElement) if (Number(getComputedStyle(n).opacity) < 1) return true; return false; };
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  for (let text = walker.nextNode(); text; text = walker.nextNode()) {
    const el = text.parentElement;
    if (!el || seen.has(el) || !text.textContent.trim()) continue;
    seen.add(el);
    if (el.closest("[hidden], script, style, template, option, .frame-thumb img, .cut-screen, .player-stage, .compare-frame")) continue;
    const box = el.getBoundingClientRect();
    if (!box.width || !box.height || el.closest(":disabled") || faded(el)) continue;
    const style = getComputedStyle(el);
    if (style.visibility !== "visible") continue;
    const bg = background(el);
    const fg = parse(style.color);
    if (!bg || !fg) continue;
    const size = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
    const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    const got = ratio(over(fg, bg), bg);
    if (got < need) found.push(`${got.toFixed(2)} < ${need}: ${el.tagName.toLowerCase()}.${[...el.classList].join(".")} "${text.textContent.trim().slice(0, 40)}"`);
  }
  return found;
}"""


def low_contrast(page: Page) -> list[str]:
    """Each run of text on the page that is harder to read than WCAG AA allows, with its ratio."""
    return page.evaluate(LOW_CONTRAST)
