"""What timeline_reader.py found wrong, worded. The reader runs as a program without Django, so it
answers with a code and what the code names (a line, a column, a clip count); the worker words it
here, in the language of the person who uploaded the timeline (cut_import.cut_import_read)."""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_lazy, ngettext

# One whole sentence per code. What OpenTimelineIO, expat or the JSON decoder said (`reason`) stays in
# their own words: it names the fault exactly, and nobody translates those libraries.
REFUSALS: dict[str, Promise] = {
    "zip": gettext_lazy("This is a ZIP archive (an .otioz bundle or the studio's export ZIP): upload the "
                        "timeline file inside it (timeline.otio, timeline.edl or timeline.xml)."),
    "xml_unknown": gettext_lazy("This XML file is neither Final Cut Pro 7 XML (xmeml) nor FCPXML."),
    "binary": gettext_lazy("This is not a timeline: it is a binary file. The studio reads OpenTimelineIO (.otio), "
                           "CMX 3600 EDL, Final Cut Pro 7 XML and FCPXML."),
    "unknown": gettext_lazy("This is not a timeline the studio reads: OpenTimelineIO (.otio), CMX 3600 EDL, "
                            "Final Cut Pro 7 XML or FCPXML."),
    "xml_entities": gettext_lazy("The XML declares entities or refers to outside files: the studio never reads "
                                 "those (a few lines of entities can expand without end). Export the timeline "
                                 "again from the editing program."),
    "xml_malformed": gettext_lazy("Line %(line)s, column %(column)s: the XML is not well formed (%(reason)s). "
                                  "The file may be cut short."),
    "edl_event": gettext_lazy("Line %(line)s: this event is not a whole CMX 3600 event (number, reel, track, "
                              "transition, source in and out, record in and out): “%(event)s”. The file may be "
                              "cut short."),
    "edl_out_before_in": gettext_lazy("Line %(line)s: an out point (%(out_point)s) comes before its in point "
                                      "(%(in_point)s)."),
    "otio_json": gettext_lazy("Line %(line)s, column %(column)s: the OpenTimelineIO file is not valid JSON "
                              "(%(reason)s). The file may be cut short."),
    "otio_schema": gettext_lazy("This OpenTimelineIO file holds a %(schema)s, not a timeline."),
    "otio_value": gettext_lazy("This OpenTimelineIO file holds a JSON value, not a timeline."),
    "edl_adapter": gettext_lazy("Line %(line)s: the EDL could not be read (%(reason)s)."),
    "adapter": gettext_lazy("The %(format)s file could not be read: %(reason)s."),
    "no_timeline": gettext_lazy("The %(format)s file holds no timeline (no sequence or project)."),
    "no_clips": gettext_lazy("The timeline has no video clips."),
    "too_many_clips": gettext_lazy("The timeline has more than %(limit)s clips on its track; the studio reads at "
                                   "most %(limit)s."),
    "too_many_markers": gettext_lazy("The timeline has %(count)s markers; the studio reads at most %(limit)s."),
}


def refusal_words(error: Any) -> str:
    """The reader's {"code", "params"} as a sentence in the active language; a code this studio does not
    know (a reader newer than the worker) or params that do not fit still say the file was not read."""
    if isinstance(error, dict) and error.get("code") in REFUSALS and isinstance(error.get("params"), dict):
        try:
            return str(REFUSALS[error["code"]] % error["params"])
        except (KeyError, TypeError, ValueError):
            pass
    return gettext("The timeline could not be read.")


def warning_words(warning: Any) -> str:
    if isinstance(warning, dict) and warning.get("code") == "more_tracks":
        count = int((warning.get("params") or {}).get("count") or 1)
        return ngettext("Only the first video track with clips was read (%(count)s more has clips: put the cut "
                        "on one track).",
                        "Only the first video track with clips was read (%(count)s more have clips: put the cut "
                        "on one track).", count) % {"count": count}
    return str(warning)
