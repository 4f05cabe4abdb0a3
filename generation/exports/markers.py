"""Review comments, out to the editor: markers on the cut's clips, an EDL, an FCP XML and a CSV.

Pure functions over plain data (ReviewNote on ExportClip), like export_package: the notes are
read from the database by generation.exports.services and handed over here. The EDL (CMX 3600) and the
FCP 7 XML are written through OpenTimelineIO's own adapters, from the same timeline as
timeline.otio, so Avid, Premiere and Resolve find the notes where the OTIO file has them.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

import opentimelineio as otio

from projects.timecode import frame_at, timecode

OPEN, RESOLVED = "open", "resolved"
COLOURS = {OPEN: otio.schema.MarkerColor.RED, RESOLVED: otio.schema.MarkerColor.GREEN}
CSV_COLUMNS = ("scene", "take", "timecode", "cut timecode", "author", "status", "text", "shared with guests")
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
EDL_NAME_LENGTH = 60  # a locator is one line; Avid shows about this much


@dataclass(frozen=True)
class ReviewNote:
    """One comment on an exported take, as the editor receives it."""

    comment_id: int
    author: str  # "rita", or "Ann (guest)"
    text: str
    at_seconds: float | None  # None: a note on the whole take (placed at its first frame)
    until_seconds: float | None = None
    resolved: bool = False
    shared: bool = False  # shared with guests of review links
    drawing: object = None  # the reviewer's drawing (JSON), when the comment has one
    replies: tuple[ReviewNote, ...] = ()

    @property
    def status(self) -> str:
        return RESOLVED if self.resolved else OPEN


# --- Markers ------------------------------------------------------------------------------------


def marker_range(note: ReviewNote, *, fps: Fraction, frames: int) -> tuple[int, int]:
    """(first frame, length in frames) of a note on a clip `frames` long, kept inside the clip."""
    last = max(frames - 1, 0)
    start = min(frame_at(note.at_seconds, fps), last)
    if note.until_seconds is None or note.at_seconds is None:
        return start, 0
    end = min(frame_at(note.until_seconds, fps), frames)
    return start, max(end - start, 0)


def marker(note: ReviewNote, *, fps: Fraction, frames: int) -> otio.schema.Marker:
    rate = float(fps)
    start, length = marker_range(note, fps=fps, frames=frames)
    words = " ".join(note.text.split())
    detail = "\n".join([note.text, *(f"{r.author}: {r.text}" for r in note.replies),
                        f"({note.author}, {note.status})"])
    return otio.schema.Marker(
        name=f"{note.author}: {words}",
        marked_range=otio.opentime.TimeRange(otio.opentime.RationalTime(start, rate),
                                             otio.opentime.RationalTime(length, rate)),
        color=COLOURS[note.status],
        metadata={
            "storyboard": _plain({
                "comment_id": note.comment_id, "author": note.author, "text": note.text,
                "status": note.status, "shared_with_guests": note.shared,
                "at_seconds": note.at_seconds, "until_seconds": note.until_seconds,
                "replies": [{"author": r.author, "text": r.text} for r in note.replies],
                **({"drawing": note.drawing} if note.drawing not in (None, "", {}, []) else {}),
            }),
            # The FCP XML adapter writes this as the marker's <comment>: the whole thread.
            "fcp_xml": {"comment": detail},
        },
    )


def _plain(value):
    """JSON types only (a drawing may arrive as a JSON string or as parsed JSON)."""
    if isinstance(value, dict) and isinstance(value.get("drawing"), str):
        try:
            value = {**value, "drawing": json.loads(value["drawing"])}
        except ValueError:
            pass
    return json.loads(json.dumps(value, default=str))


# --- EDL and FCP XML ----------------------------------------------------------------------------


def edl(timeline: otio.schema.Timeline, *, rate: Fraction) -> str:
    """The cut as a CMX 3600 EDL: ASCII, upper-case locators on one line, reels of 8 characters."""
    safe = copy.deepcopy(timeline)
    safe.name = _ascii(safe.name)[:70]
    for clip in safe.find_clips():
        clip.name = _ascii(clip.name)
        for each in clip.markers:
            each.name = _ascii(each.name)[:EDL_NAME_LENGTH]
    return otio.adapters.write_to_string(safe, adapter_name="cmx_3600", rate=float(rate), reelname_len=8)


def fcp_xml(timeline: otio.schema.Timeline) -> str:
    """The cut as Final Cut Pro 7 XML (xmeml), which Premiere and Resolve import."""
    return otio.adapters.write_to_string(timeline, adapter_name="fcp_xml")


def reel(*, scene_number: int, take_number: int) -> str:
    """A CMX 3600 reel name: at most 8 characters, letters and digits (S001T002)."""
    return f"S{scene_number % 1000:03d}T{take_number % 1000:03d}"[:8]


TYPOGRAPHY = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "…": "..."})


def _ascii(text: str) -> str:
    """One line of printable ASCII: typographic quotes and dashes made plain, accents dropped,
    anything else and line breaks a space."""
    text = unicodedata.normalize("NFKD", text.translate(TYPOGRAPHY)).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"\s+", " ", re.sub(r"[^\x20-\x7e]", " ", text)).strip()


# --- CSV ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NotedClip:
    """What the CSV needs of a clip: which scene and take, its rate, and where it starts in the cut."""

    scene_number: int
    take_number: int
    fps: Fraction
    cut_start: int  # frames before it in the cut, at its rate
    notes: Sequence[ReviewNote]
    fields: Sequence[tuple[str, str]] = ()  # the project's own fields its scene fills: (name, value)


def comments_csv(clips: Iterable[NotedClip]) -> str:
    """One row per comment and per reply (a reply at its thread's time), for producers.

    Cells a spreadsheet would run as a formula start with an apostrophe.
    """
    clips = list(clips)
    # The project's own fields, a column each after the comment's, named as the project names them.
    named = list(dict.fromkeys(name for clip in clips for name, _ in clip.fields))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*CSV_COLUMNS, *(_cell(name) for name in named)])
    for clip in clips:
        values = dict(clip.fields)
        for note in clip.notes:
            for each in (note, *note.replies):
                placed = note.at_seconds is not None
                frame = frame_at(note.at_seconds, clip.fps)
                writer.writerow([_cell(v) for v in (
                    clip.scene_number, clip.take_number,
                    timecode(frame, clip.fps) if placed else "",
                    timecode(clip.cut_start + frame, clip.fps) if placed else "",
                    each.author, note.status if each is note else f"reply ({note.status})",
                    each.text, "yes" if each.shared else "no", *(values.get(name, "") for name in named),
                )])
    return "\ufeff" + out.getvalue()  # a BOM, so Excel reads the UTF-8 as UTF-8


def _cell(value) -> str:
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
