"""Drawings on a paused frame, saved with a comment.

A drawing is a list of shapes, as JSON, with every coordinate a fraction (0..1) of the
frame's width and height so it fits the video at any size, in the player and in the PDF:

    {"kind": "pen", "color": "#e53935", "points": [[x, y, pressure], ...]}   2..MAX_PEN_POINTS
    {"kind": "arrow" | "rect" | "ellipse", "color": ..., "points": [[x, y], [x, y]]}
    {"kind": "text", "color": ..., "points": [[x, y]], "text": "..."}

It arrives from the browser, so it is checked strictly here: the shape of the data, caps
on shapes and points, colours from the palette only, text length and no control characters.
Anything else is refused with a message a reviewer can act on (never stored, never a 500).
"""

from __future__ import annotations

import json
import math

from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from projects.inputs import has_control_characters

# The palette the drawing tools offer; the PDF draws with the same colours.
PALETTE = {
    "#e53935": "red",
    "#fdd835": "yellow",
    "#43a047": "green",
    "#1e88e5": "blue",
    "#ffffff": "white",
    "#000000": "black",
}
KINDS = {"pen", "arrow", "rect", "ellipse", "text"}
MAX_SHAPES = 50
MAX_PEN_POINTS = 1000
MAX_POINTS = 5000  # in the whole drawing
MAX_TEXT = 200
MAX_JSON = 200_000  # characters of the submitted JSON, before parsing it


def _refuse(message: str):
    """`message`: a whole translated clause saying what is wrong."""
    raise ValidationError(gettext("The drawing could not be saved: %(why)s") % {"why": message}, code="drawing")


def _reject_constant(name):
    _refuse(gettext("%(value)s is not a number a drawing can hold.") % {"value": name})


def _point(value, shape: int, *, with_pressure: bool) -> list[float]:
    size = 3 if with_pressure else 2
    if not isinstance(value, list) or len(value) != size:
        _refuse(gettext("a point of shape %(shape)s must be a list of %(size)s numbers.") % {
            "shape": shape, "size": size})
    out = []
    for number in value:
        # bool is an int in Python; JSON's true is not a coordinate.
        if isinstance(number, bool) or not isinstance(number, (int, float)) or not math.isfinite(number):
            _refuse(gettext("a point of shape %(shape)s holds something that is not a number.") % {"shape": shape})
        if not 0 <= number <= 1:
            _refuse(gettext("a point of shape %(shape)s lies outside the frame (coordinates run from 0 to 1).") % {
                "shape": shape})
        out.append(round(float(number), 4))
    return out


def _shape(value, index: int) -> dict:
    number = index + 1
    if not isinstance(value, dict):
        _refuse(gettext("shape %(shape)s is not a shape.") % {"shape": number})
    kind = value.get("kind")
    if kind not in KINDS:
        _refuse(gettext("shape %(shape)s has an unknown kind (pen, arrow, rect, ellipse or text).") % {
            "shape": number})
    allowed = {"kind", "color", "points"} | ({"text"} if kind == "text" else set())
    extra = set(value) - allowed
    if extra:
        # The kind and the field names are the drawing's JSON, as sent.
        _refuse(gettext("shape %(shape)s has fields a %(kind)s does not have: %(fields)s.") % {
            "shape": number, "kind": kind, "fields": ", ".join(sorted(map(str, extra)))[:100]})
    color = value.get("color")
    if not isinstance(color, str) or color.lower() not in PALETTE:
        _refuse(gettext("shape %(shape)s uses a colour outside the palette (%(palette)s).") % {
            "shape": number, "palette": ", ".join(PALETTE.values())})
    points = value.get("points")
    if not isinstance(points, list):
        _refuse(gettext("shape %(shape)s has no points.") % {"shape": number})
    if kind == "pen" and not 2 <= len(points) <= MAX_PEN_POINTS:
        _refuse(gettext("a freehand line needs 2 to %(most)s points (shape %(shape)s has %(has)s).") % {
            "most": MAX_PEN_POINTS, "shape": number, "has": len(points)})
    if kind in {"arrow", "rect", "ellipse"} and len(points) != 2:
        _refuse(gettext("shape %(shape)s (a %(kind)s) needs exactly 2 points.") % {"shape": number, "kind": kind})
    if kind == "text" and len(points) != 1:
        _refuse(gettext("shape %(shape)s (a text) needs exactly 1 point.") % {"shape": number})
    shape = {"kind": kind, "color": color.lower(),
             "points": [_point(p, number, with_pressure=kind == "pen") for p in points]}
    if kind == "text":
        text = value.get("text")
        if not isinstance(text, str) or not text.strip():
            _refuse(gettext("shape %(shape)s is a text with nothing written.") % {"shape": number})
        if has_control_characters(text) or "\n" in text or "\r" in text or "\t" in text:
            _refuse(gettext("the text of shape %(shape)s contains control characters; write it on one line.") % {
                "shape": number})
        if len(text) > MAX_TEXT:
            _refuse(gettext("a text on the frame can be at most %(most)s characters (shape %(shape)s has "
                            "%(has)s).") % {"most": MAX_TEXT, "shape": number, "has": len(text)})
        shape["text"] = text.strip()
    return shape


def drawing_clean(raw) -> list[dict]:
    """The shapes from a submitted drawing (a JSON string, or already parsed); [] for none.

    Raises ValidationError with a message for anything that is not a drawing."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return []
    if isinstance(raw, str):
        if len(raw) > MAX_JSON:
            _refuse(gettext("it is too large (%(has)s characters; at most %(most)s). Draw fewer or shorter lines.")
                    % {"has": len(raw), "most": MAX_JSON})
        if has_control_characters(raw):
            _refuse(gettext("it contains control characters."))
        try:
            raw = json.loads(raw, parse_constant=_reject_constant)
        except ValidationError:
            raise
        except (ValueError, RecursionError):
            _refuse(gettext("it is not valid JSON."))
    if not isinstance(raw, list):
        _refuse(gettext("it must be a list of shapes."))
    if len(raw) > MAX_SHAPES:
        _refuse(gettext("at most %(most)s shapes per comment (this one has %(has)s).") % {
            "most": MAX_SHAPES, "has": len(raw)})
    shapes = [_shape(value, i) for i, value in enumerate(raw)]
    total = sum(len(s["points"]) for s in shapes)
    if total > MAX_POINTS:
        _refuse(gettext("at most %(most)s points in all (this one has %(has)s). Draw fewer or shorter lines.") % {
            "most": MAX_POINTS, "has": total})
    return shapes
