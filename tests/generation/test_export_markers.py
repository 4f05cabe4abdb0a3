"""Review comments out to the editor: markers in the OTIO timeline, the EDL and the FCP XML,
and a CSV of the comments for producers."""

import csv
import io
import json
import uuid
import zipfile
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio
import pytest

from generation.exports import markers as export_markers
from generation.exports import package as export_package
from generation.exports import services as exports
from generation.exports.markers import ReviewNote
from generation.models import ExportStatus
from projects.models import Comment
from projects.review import services as review

RED, GREEN = otio.schema.MarkerColor.RED, otio.schema.MarkerColor.GREEN
DRAWING = {"version": 1, "shapes": [{"tool": "arrow", "points": [[0.1, 0.2], [0.4, 0.5]], "colour": "#e53935"}]}


@pytest.fixture
def reviewed_cut(project, owner, reviewer, editor, make_scene, finished_take, django_capture_on_commit_callbacks):
    """Two approved scenes (1 s and 2 s at 24 fps) with comments, and comments that must stay home."""
    dawn = make_scene(title="Dawn", duration=1)
    dawn_take = finished_take(dawn)
    review.comment_add(take=dawn_take, author=reviewer, body="Mist is lovely", at=0.5)
    boats = make_scene(title="Boats — l’arrivée", duration=2)
    first = finished_take(boats)
    review.comment_add(take=first, author=reviewer, body="Not in the cut: an earlier take", at=0.25)
    take = finished_take(boats)
    darker = review.comment_add(take=take, author=reviewer, body="Too bright here,\nmake it dusk", at=0.5, until=1.25)
    review.comment_reply(parent=darker, author=editor, body="Will do")
    fixed = review.comment_add(take=take, author=owner, body="=HYPERLINK(\"http://evil\")", at=1.5, shared=True)
    review.comment_resolve(comment=fixed, user=owner, resolved=True)
    review.comment_add(take=take, guest_name="Ann", body="+1 from the client", at=2.0)  # on its very end
    review.comment_add(take=take, author=editor, body="General: check the grade")  # no timecode
    for t in (dawn_take, take):
        with django_capture_on_commit_callbacks(execute=True):
            review.take_approve(take=t, user=reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        export, _ = exports.export_create(project=project, user=owner, idempotency_key=uuid.uuid4())
    export.refresh_from_db()
    assert export.status == ExportStatus.SUCCEEDED, export.error_message
    return export


def plain(value):
    """OTIO metadata (AnyDictionary, AnyVector) as Python dicts and lists."""
    if hasattr(value, "items"):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) or type(value).__name__ == "AnyVector":
        return [plain(v) for v in value]
    return value


def _members(export):
    with zipfile.ZipFile(export.zip.path) as archive:
        return {name: archive.read(name).decode("utf-8") for name in archive.namelist()
                if not name.endswith(".mp4")}


def _markers(timeline):
    return {clip.name: [(m.marked_range.start_time.value, m.marked_range.duration.value, m.color, m.name)
                        for m in clip.markers] for clip in timeline.find_clips()}


def test_the_otio_timeline_carries_every_comment_on_the_exported_takes_as_a_marker(reviewed_cut, reviewer, owner,
                                                                                   editor):
    timeline = otio.adapters.read_from_string(_members(reviewed_cut)["timeline.otio"], "otio_json")

    assert _markers(timeline) == {
        "Dawn": [(12, 0, RED, f"{reviewer.username}: Mist is lovely")],
        "Boats — l’arrivée": [
            (0, 0, RED, f"{editor.username}: General: check the grade"),  # a note on the whole take
            (12, 18, RED, f"{reviewer.username}: Too bright here, make it dusk"),  # 0.5 s to 1.25 s
            (36, 0, GREEN, f"{owner.username}: =HYPERLINK(\"http://evil\")"),  # resolved
            (47, 0, RED, "Ann (guest): +1 from the client"),  # at 2 s of a 2 s take: its last frame
        ],
    }
    boats = next(c for c in timeline.find_clips() if c.name.startswith("Boats"))
    darker = plain(boats.markers[1].metadata["storyboard"])
    assert darker["text"] == "Too bright here,\nmake it dusk" and darker["status"] == "open"
    assert darker["replies"] == [{"author": editor.username, "text": "Will do"}]
    assert darker["shared_with_guests"] is False and "drawing" not in darker
    assert boats.markers[2].metadata["storyboard"]["shared_with_guests"] is True


def test_the_edl_reads_back_with_every_marker_at_its_frame(reviewed_cut, reviewer):
    text = _members(reviewed_cut)["timeline.edl"]
    text.encode("ascii")  # CMX 3600 is ASCII: the accented title and the dash are transliterated
    timeline = otio.adapters.read_from_string(text, adapter_name="cmx_3600", rate=24)

    clips = list(timeline.find_clips())
    assert [c.name for c in clips] == ["Dawn", "Boats - l'arrivee"]
    assert [(m.marked_range.start_time.value, m.color) for m in clips[0].markers] == [(12, RED)]
    assert [(m.marked_range.start_time.value, m.color) for m in clips[1].markers] == [
        (0, RED), (12, RED), (36, GREEN), (47, RED)]
    assert clips[0].markers[0].name == f"{reviewer.username.upper()}: MIST IS LOVELY"
    assert clips[1].markers[1].name.startswith(f"{reviewer.username.upper()}: TOO BRIGHT HERE, MAKE IT DUSK")
    # Reels are valid CMX 3600 reel names: at most 8 letters and digits, one per take.
    reels = [c.metadata["cmx_3600"]["reel"] for c in clips]
    assert all(len(r) <= 8 and r.isalnum() for r in reels) and len(set(reels)) == 2


def test_the_fcp_xml_reads_back_with_every_marker_at_its_frame_and_the_whole_thread(reviewed_cut, reviewer, editor):
    timeline = otio.adapters.read_from_string(_members(reviewed_cut)["timeline.xml"], adapter_name="fcp_xml")

    clips = list(timeline.find_clips())
    assert [c.name for c in clips] == ["Dawn", "Boats — l’arrivée"]
    assert [(m.marked_range.start_time.value, m.marked_range.duration.value) for m in clips[1].markers] == [
        (0, 0), (12, 18), (36, 0), (47, 0)]
    comment = clips[1].markers[1].metadata["fcp_xml"]["comment"]
    assert "Too bright here,\nmake it dusk" in comment and f"{editor.username}: Will do" in comment
    assert f"({reviewer.username}, open)" in comment
    assert timeline.duration().to_seconds() == pytest.approx(3.0)


def test_the_csv_lists_every_comment_and_reply_and_never_runs_a_formula(reviewed_cut, client_for, viewer, reviewer,
                                                                      owner, editor):
    in_zip = _members(reviewed_cut)["comments.csv"]
    response = client_for(viewer).get(f"/exports/{reviewed_cut.pk}/csv/")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="harbour-story-comments')
    downloaded = b"".join(response.streaming_content).decode("utf-8")
    assert downloaded == in_zip

    rows = list(csv.DictReader(io.StringIO(downloaded.lstrip("\ufeff"))))
    table = [(r["scene"], r["take"], r["timecode"], r["cut timecode"], r["author"], r["status"], r["text"],
              r["shared with guests"]) for r in rows]
    assert table == [
        ("1", "1", "00:00:00:12", "00:00:00:12", reviewer.username, "open", "Mist is lovely", "no"),
        ("2", "2", "", "", editor.username, "open", "General: check the grade", "no"),
        ("2", "2", "00:00:00:12", "00:00:01:12", reviewer.username, "open", "Too bright here,\nmake it dusk", "no"),
        ("2", "2", "00:00:00:12", "00:00:01:12", editor.username, "reply (open)", "Will do", "no"),
        ("2", "2", "00:00:01:12", "00:00:02:12", owner.username, "resolved", "'=HYPERLINK(\"http://evil\")", "yes"),
        ("2", "2", "00:00:02:00", "00:00:03:00", "Ann (guest)", "open", "'+1 from the client", "yes"),
    ]
    page = client_for(viewer).get(f"/projects/{reviewed_cut.project_id}/exports/").content.decode()
    assert 'data-testid="export-csv"' in page


@pytest.mark.parametrize("text", ["=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\r=1"])
def test_every_formula_start_is_defused(text):
    note = ReviewNote(comment_id=1, author="@rita", text=text, at_seconds=0)
    clip = export_markers.NotedClip(scene_number=1, take_number=1, fps=Fraction(24), cut_start=0, notes=[note])
    row = list(csv.reader(io.StringIO(export_markers.comments_csv([clip]).lstrip("\ufeff"))))[1]
    assert row[6] == "'" + text and row[4] == "'@rita"


def _clip(tmp_path, notes, *, duration=2.0):
    return export_package.ExportClip(scene_number=3, title="Pier", take_id=9, take_number=2, approved_by="rita",
                                     approved_at="", path=tmp_path / "x.mp4", duration=duration, fps=Fraction(24),
                                     notes=tuple(notes))


@pytest.mark.parametrize("drawing", [DRAWING, json.dumps(DRAWING)], ids=["json", "json-text"])
def test_a_drawing_travels_as_the_markers_metadata_in_every_format(tmp_path, drawing):
    note = ReviewNote(comment_id=5, author="rita", text="Move him left", at_seconds=1.0, drawing=drawing)
    cut = export_package.timeline([_clip(tmp_path, [note])], name="Cut")

    metadata = plain(cut.find_clips()[0].markers[0].metadata["storyboard"])
    assert metadata["drawing"] == DRAWING
    again = otio.adapters.read_from_string(otio.adapters.write_to_string(cut, "otio_json"), "otio_json")
    assert plain(again.find_clips()[0].markers[0].metadata["storyboard"]["drawing"]) == DRAWING
    # The EDL and the FCP XML are still written (they carry the marker, not the drawing).
    edl = otio.adapters.read_from_string(export_markers.edl(cut, rate=Fraction(24)), "cmx_3600", rate=24)
    assert [m.marked_range.start_time.value for m in edl.find_clips()[0].markers] == [24]
    xml = otio.adapters.read_from_string(export_markers.fcp_xml(cut), "fcp_xml")
    assert [m.marked_range.start_time.value for m in xml.find_clips()[0].markers] == [24]


def test_a_comments_drawing_is_read_from_the_comment(scene, finished_take, reviewer, monkeypatch):
    take = finished_take(scene)
    comment = review.comment_add(take=take, author=reviewer, body="Here", at=0.5)
    if any(f.name == "drawing" for f in Comment._meta.get_fields()):
        Comment.objects.filter(pk=comment.pk).update(drawing=DRAWING)
    else:  # before comments could hold drawings: the export asks for one all the same
        monkeypatch.setattr(Comment, "drawing", DRAWING, raising=False)

    (note,) = exports.review_notes([take])[take.pk]
    assert note.drawing == DRAWING and note.text == "Here"


def test_a_cut_without_comments_still_has_its_edl_xml_and_an_empty_csv(project, owner, make_scene, finished_take,
                                                                       reviewer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        review.take_approve(take=finished_take(make_scene(title="Dawn", duration=1)), user=reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        export, _ = exports.export_create(project=project, user=owner, idempotency_key=uuid.uuid4())
    export.refresh_from_db()
    members = _members(export)
    assert [c.name for c in otio.adapters.read_from_string(members["timeline.edl"], "cmx_3600",
                                                           rate=24).find_clips()] == ["Dawn"]
    assert [c.name for c in otio.adapters.read_from_string(members["timeline.xml"], "fcp_xml").find_clips()] == ["Dawn"]
    assert members["comments.csv"].lstrip("\ufeff").splitlines() == [",".join(export_markers.CSV_COLUMNS)]
    assert Path(export.csv.path).exists()
