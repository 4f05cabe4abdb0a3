"""An editor's timeline (OTIO, CMX 3600 EDL, FCP 7 XML, FCPXML) read into plain data, in a process of its own.

A timeline is a file someone uploaded: it may be 50 MB, malformed or an XML bomb. The worker runs this
file as a separate program (`python -I timeline_reader.py FILE MEMORY_MB`, generation/exports/cut_import.py)
under a time limit; the program first caps its own address space (RLIMIT_AS), so no timeline can take the
worker's memory. XML is parsed with defusedxml first (entity declarations and external references refused:
a bare DOCTYPE, which Final Cut and Premiere write, is fine), then by OpenTimelineIO's adapter. An EDL's
event lines are checked one by one first, so a bad one is named by its line.

It prints one JSON object: {"ok": true, "kind", "name", "clips": [...], "warnings": [...]} with the clips of
the first video track that has any, in record order — each with its name, file, reel, what the studio's
own export wrote in its metadata, its place and length in the cut, its length in its media, and its
markers at their time in the clip's media — or {"ok": false, "error": {"code": …, "params": {…}}}: a code
naming what is wrong and the line or clip it is on. Warnings are codes too. The program has no Django, so it
speaks no language: the worker words each code in the uploader's language (cut_import.reader_words).

Standard library, opentimelineio and defusedxml only: no Django, so the program starts quickly.
"""

from __future__ import annotations

import json
import re
import sys

MAX_CLIPS = 2000
MAX_MARKERS = 5000
MAX_TEXT = 5000
MAX_NAME = 500
KINDS = {"otio": "otio_json", "edl": "cmx_3600", "fcp_xml": "fcp_xml", "fcpxml": "fcpx_xml"}
KIND_WORDS = {"otio": "OpenTimelineIO", "edl": "CMX 3600 EDL", "fcp_xml": "Final Cut Pro 7 XML",
              "fcpxml": "FCPXML"}
TIMECODE = re.compile(r"^\d{1,2}[:;]\d{2}[:;]\d{2}[:;.]\d{2,3}$")
EVENT = re.compile(r"^\s*\d{1,6}\s")


class TimelineError(Exception):
    """Why the file cannot be read: a code and what it names (line, column, clip), worded by the worker."""

    def __init__(self, code: str, **params: str | int) -> None:
        super().__init__(code, params)
        self.code, self.params = code, params

    def __str__(self) -> str:  # in a log or a traceback
        return f"{self.code} {self.params}"


# --- What the file is ---------------------------------------------------------------------------


def detect(data: bytes) -> str:
    """otio, edl, fcp_xml or fcpxml, from the content (never the file's name)."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"PK"):
        raise TimelineError("zip")
    if head.startswith(b"{"):
        return "otio"
    if head.startswith(b"<"):
        if b"<xmeml" in data[:65536]:
            return "fcp_xml"
        if b"<fcpxml" in data[:65536]:
            return "fcpxml"
        raise TimelineError("xml_unknown")
    if b"\x00" in head:
        raise TimelineError("binary")
    text = _text(data)
    if any(EVENT.match(line) for line in text.splitlines()[:200]) or text.lstrip().upper().startswith("TITLE:"):
        return "edl"
    raise TimelineError("unknown")


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # EDLs from older systems


# --- Checks before the adapters -------------------------------------------------------------------


def check_xml(data: bytes) -> None:
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError, fromstring

    try:
        fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise TimelineError("xml_entities") from None
    except ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        # expat's own reason (in English) rides along as it says it.
        raise TimelineError("xml_malformed", line=line, column=column + 1, reason=str(exc).split(":")[0]) from None


def check_edl(text: str) -> None:
    """Every event line: a number, a reel, a track, a transition and four timecodes, the outs after the ins."""
    for number, line in enumerate(text.splitlines(), start=1):
        if not EVENT.match(line):
            continue
        fields = line.split()
        codes = fields[-4:]
        if len(fields) < 8 or not all(TIMECODE.match(c) for c in codes):
            raise TimelineError("edl_event", line=number, event=line.strip()[:80])
        for start, end in ((codes[0], codes[1]), (codes[2], codes[3])):
            if _frames(end) < _frames(start):
                raise TimelineError("edl_out_before_in", line=number, out_point=end, in_point=start)


def _frames(code: str) -> int:
    hours, minutes, seconds, frames = (int(p) for p in re.split(r"[:;.]", code))
    return ((hours * 60 + minutes) * 60 + seconds) * 1000 + frames


def check_json(text: str) -> None:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TimelineError("otio_json", line=exc.lineno, column=exc.colno, reason=exc.msg) from None
    schema = document.get("OTIO_SCHEMA", "") if isinstance(document, dict) else ""
    if not str(schema).startswith("Timeline."):
        if schema:
            raise TimelineError("otio_schema", schema=str(schema)[:80])
        raise TimelineError("otio_value")


# --- Reading -------------------------------------------------------------------------------------


def parse_timeline(data: bytes) -> dict:
    import opentimelineio as otio

    kind = detect(data)
    if kind in ("fcp_xml", "fcpxml"):
        check_xml(data)
        text = data.decode("utf-8-sig", errors="replace")
    else:
        text = _text(data)
        (check_edl if kind == "edl" else check_json)(text)
    try:
        timeline = otio.adapters.read_from_string(text, KINDS[kind])
    except Exception as exc:  # the adapter's own words, with the line they name when we can find it
        if isinstance(exc, MemoryError) or "bad_alloc" in str(exc):  # OTIO's C++ ran out of the capped memory
            raise MemoryError from None
        raise _adapter_refusal(kind, exc, text) from None
    if not isinstance(timeline, otio.schema.Timeline):
        raise TimelineError("no_timeline", format=KIND_WORDS[kind])
    return {"ok": True, "kind": kind, **_plain(timeline, otio)}


def _adapter_refusal(kind: str, exc: Exception, text: str) -> TimelineError:
    """The adapter's own words (English, as OpenTimelineIO says them), with the line they name when we can find it."""
    words = " ".join(str(exc).split())[:300] or type(exc).__name__
    if kind == "edl" and ":" in words:
        statement = words.rsplit(":", 1)[1].strip()
        for number, line in enumerate(text.splitlines(), start=1):
            if statement and statement in line:
                return TimelineError("edl_adapter", line=number, reason=words)
    return TimelineError("adapter", format=KIND_WORDS[kind], reason=words)


def _plain(timeline, otio) -> dict:
    tracks = [t for t in timeline.video_tracks() if any(isinstance(i, otio.schema.Clip) for i in t)]
    warnings = []
    if not tracks:
        raise TimelineError("no_clips")
    if len(tracks) > 1:
        warnings.append({"code": "more_tracks", "params": {"count": len(tracks) - 1}})
    track = tracks[0]
    clips: list[dict] = []
    markers = 0
    for index, item in enumerate(track):
        if not isinstance(item, otio.schema.Clip):
            continue
        if len(clips) == MAX_CLIPS:
            raise TimelineError("too_many_clips", limit=MAX_CLIPS)
        clip = _clip(track, index, item, otio)
        markers += len(clip["markers"])
        clips.append(clip)
    # Markers on the track or the whole timeline (where Resolve and Premiere put sequence markers): on the
    # clip under them, at the same moment of its media.
    for marker, offset in [*((m, 0.0) for m in track.markers), *((m, 0.0) for m in timeline.tracks.markers)]:
        at = marker.marked_range.start_time.to_seconds() + offset
        under = next((c for c in clips if c["record_start"] <= at < c["record_start"] + c["duration"]), None)
        if under is not None:
            under["markers"].append(_marker(marker, shift=under["source_start"] - under["record_start"]))
            markers += 1
    if markers > MAX_MARKERS:
        raise TimelineError("too_many_markers", count=markers, limit=MAX_MARKERS)
    return {"name": (timeline.name or "")[:MAX_NAME], "clips": clips, "warnings": warnings}


def _clip(track, index: int, item, otio) -> dict:
    record = track.range_of_child_at_index(index)
    source = item.source_range or item.trimmed_range()
    reference = item.media_reference
    url = getattr(reference, "target_url", "") or ""
    available = getattr(reference, "available_range", None)
    metadata = item.metadata
    ours = _dict(metadata.get("storyboard"))
    cmx = _dict(metadata.get("cmx_3600"))
    return {
        "name": (item.name or "")[:MAX_NAME],
        "file": url.replace("\\", "/").rsplit("/", 1)[-1][:MAX_NAME],
        "reel": str(cmx.get("reel", ""))[:32],
        "take_id": _int(ours.get("take_id")),
        "scene": _int(ours.get("scene")),
        "take": _int(ours.get("take")),
        "record_start": round(record.start_time.to_seconds(), 4),
        "duration": round(source.duration.to_seconds(), 4),
        "source_start": round(source.start_time.to_seconds() - (available.start_time.to_seconds()
                                                                 if available is not None else 0), 4),
        "media_duration": round(available.duration.to_seconds(), 4) if available is not None else None,
        "rate": round(source.duration.rate, 3),
        "markers": [_marker(m) for m in item.markers],
    }


def _marker(marker, *, shift: float = 0.0) -> dict:
    metadata = marker.metadata
    ours = _dict(metadata.get("storyboard"))
    comment = _dict(metadata.get("fcp_xml")).get("comment") or ""
    return {
        "name": (marker.name or "")[:MAX_TEXT],
        "comment": str(comment)[:MAX_TEXT],
        "at": round(max(marker.marked_range.start_time.to_seconds() + shift, 0.0), 3),
        "duration": round(max(marker.marked_range.duration.to_seconds(), 0.0), 3),
        "comment_id": _int(ours.get("comment_id")),
        "author": str(ours.get("author") or "")[:80],
        "text": str(ours.get("text") or "")[:MAX_TEXT],
    }


def _dict(value) -> dict:
    return {k: v for k, v in value.items()} if hasattr(value, "items") else {}


def _int(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None


# --- The program ---------------------------------------------------------------------------------


def main(path: str, memory_mb: str) -> None:
    import resource

    limit = int(memory_mb) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        with open(path, "rb") as fh:
            result = parse_timeline(fh.read())
    except TimelineError as exc:
        result = {"ok": False, "error": {"code": exc.code, "params": exc.params}}
    except MemoryError:
        result = {"ok": False, "error": "memory"}
    sys.stdout.write(json.dumps(result))


if __name__ == "__main__":
    main(*sys.argv[1:3])
