"""The project's own fields travel with the export: under each frame of the PDF, as columns of the comments CSV,
in each clip's OTIO metadata, and as a note under each heading of the Fountain screenplay."""

import csv
import io
from fractions import Fraction

import opentimelineio as otio
import pypdf
import pytest
from django.urls import reverse

from generation.exports import package as export_package
from generation.exports import pdf as export_pdf
from generation.exports import services as exports
from generation.exports.markers import ReviewNote
from projects.models import FieldKind, Scene
from projects.storyboard import fields

FILLED = (("Shot type", "Close-up"), ("Lens", "85mm"), ("Mood", "Calm, Night"))


def _clip(tmp_path, *, number=3, fields=FILLED, notes=()):
    return export_package.ExportClip(scene_number=number, title="Pier", take_id=9, take_number=2,
                                     approved_by="rita", approved_at="", path=tmp_path / "x.mp4", duration=2.0,
                                     fps=Fraction(24), notes=tuple(notes), fields=fields)


def test_each_clip_carries_its_scenes_fields_in_the_otio_metadata(tmp_path):
    cut = export_package.timeline([_clip(tmp_path), _clip(tmp_path, number=4, fields=())], name="Cut")

    again = otio.adapters.read_from_string(otio.adapters.write_to_string(cut, "otio_json"), "otio_json")
    first, second = again.find_clips()
    assert dict(first.metadata["storyboard"]["fields"]) == {"Shot type": "Close-up", "Lens": "85mm",
                                                            "Mood": "Calm, Night"}
    assert "fields" not in second.metadata["storyboard"]  # a scene that fills none carries none


def test_the_comments_csv_has_a_column_per_field_after_the_comments_own(tmp_path):
    note = ReviewNote(comment_id=5, author="rita", text="Tighter", at_seconds=1.0)
    clips = [_clip(tmp_path, notes=[note], fields=(("Shot type", "Wide"), ("Lens", "=SUM(A1)"))),
             _clip(tmp_path, number=4, notes=[note], fields=(("Location", "Pier"),))]

    rows = list(csv.reader(io.StringIO(export_package.comments_csv(clips).lstrip("\ufeff"))))

    assert rows[0][-3:] == ["Shot type", "Lens", "Location"]
    assert rows[1][-3:] == ["Wide", "'=SUM(A1)", ""]  # a value a spreadsheet would run is made plain text
    assert rows[2][-3:] == ["", "", "Pier"]


@pytest.mark.parametrize("layout", ["grid", "scenes"])
def test_the_pdf_prints_the_fields_under_each_frame(tmp_path, layout):
    panel = export_pdf.BoardPanel(number=1, title="Pier", prompt="Gulls over the quay.", duration=4,
                                  approval="Not in the cut: No approved take.", approved=False,
                                  fields="Shot type: Close-up · Lens: 85mm")
    out = tmp_path / f"{layout}.pdf"

    export_pdf.write_storyboard([panel], out, title="Harbour", subtitle="1 scene", layout=layout)

    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(out).pages)
    assert "Shot type: Close-up · Lens: 85mm" in text and "Gulls over the quay." in text


def test_the_export_plan_reads_each_scenes_fields_in_the_projects_order(project, owner, make_scene):
    lens = fields.field_create(project=project, user=owner, name="Lens", kind=FieldKind.TEXT)
    shot = fields.field_create(project=project, user=owner, name="Shot type", kind=FieldKind.CHOICE,
                               choices="Wide\nClose-up")
    one, _two = make_scene(title="One"), make_scene(title="Two")
    fields.scene_fields_set(scene=one, user=owner, expected_version=one.version,
                            values={shot.key: "Wide", lens.key: "35mm"})

    plan = exports.export_plan(project)

    assert [p.fields for p in plan.scenes] == [(("Lens", "35mm"), ("Shot type", "Wide")), ()]


def test_the_fountain_screenplay_writes_the_fields_as_a_note_under_each_heading(client_for, owner, project,
                                                                                 make_scene):
    shot = fields.field_create(project=project, user=owner, name="Shot type", kind=FieldKind.CHOICE,
                               choices="Wide")
    lens = fields.field_create(project=project, user=owner, name="Lens", kind=FieldKind.TEXT)
    one, _two = make_scene(title="Pier"), make_scene(title="Quay")
    fields.scene_fields_set(scene=one, user=owner, expected_version=one.version,
                            values={shot.key: "Wide", lens.key: "35mm ]] [[ anamorphic"})

    text = client_for(owner).get(reverse("projects:script_export", args=[project.pk])).content.decode()

    assert ".PIER\n\n[[Shot type: Wide; Lens: 35mm ] ] [ [ anamorphic]]\n\n" in text
    assert ".QUAY\n\nA harbour" in text  # a scene without values gets no note
    assert Scene.objects.filter(project=project).count() == 2


def test_a_real_export_carries_the_fields_into_its_otio_csv_and_pdf(project, owner, reviewer, make_scene,
                                                                      finished_take,
                                                                      django_capture_on_commit_callbacks):
    import uuid
    import zipfile

    from generation.models import ExportStatus
    from projects.review import services as review

    shot = fields.field_create(project=project, user=owner, name="Shot type", kind=FieldKind.CHOICE,
                               choices="Wide\nClose-up")
    lens = fields.field_create(project=project, user=owner, name="Lens", kind=FieldKind.TEXT)
    pier = make_scene(title="Pier", duration=1)
    pier.refresh_from_db()
    fields.scene_fields_set(scene=pier, user=owner, expected_version=pier.version,
                            values={shot.key: "Close-up", lens.key: "85mm"})
    take = finished_take(pier)
    review.comment_add(take=take, author=reviewer, body="Hold the gulls longer", at=0.5)
    with django_capture_on_commit_callbacks(execute=True):
        review.take_approve(take=take, user=reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        export, _ = exports.export_create(project=project, user=owner, idempotency_key=uuid.uuid4())
    export.refresh_from_db()
    assert export.status == ExportStatus.SUCCEEDED, export.error_message

    with zipfile.ZipFile(export.zip.path) as archive:
        timeline = otio.adapters.read_from_string(archive.read("timeline.otio").decode(), "otio_json")
        rows = list(csv.reader(io.StringIO(archive.read("comments.csv").decode("utf-8").lstrip("\ufeff"))))
    [clip] = timeline.find_clips()
    assert dict(clip.metadata["storyboard"]["fields"]) == {"Shot type": "Close-up", "Lens": "85mm"}
    assert rows[0][-2:] == ["Shot type", "Lens"] and rows[1][-2:] == ["Close-up", "85mm"]
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(export.pdf.path).pages)
    assert "Shot type: Close-up · Lens: 85mm" in text
