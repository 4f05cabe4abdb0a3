"""The editor's cut comes back: the studio's own export, edited with OTIO as an editor would (reordered,
trimmed, a clip dropped, a marker added), uploaded as OTIO, EDL, FCP 7 XML or FCPXML, read in the worker,
shown as a diff and accepted in part. Bad timelines get a message naming the line or clip and save nothing."""

import io
import uuid
import zipfile

import opentimelineio as otio
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from generation.exports import cut_import as cuts
from generation.exports import services as exports
from generation.models import CutImport, CutImportStatus, ExportStatus
from projects.models import BoardRevision, Comment, RevisionKind, Scene
from projects.review import services as review


@pytest.fixture
def exported(project, owner, reviewer, make_scene, finished_take, django_capture_on_commit_callbacks):
    """Three approved 2 s scenes, one with a review comment, exported by the studio: its ZIP's files."""
    scenes = [make_scene(title=t, duration=2) for t in ("Dawn", "Boats", "Night")]
    takes = [finished_take(s) for s in scenes]
    review.comment_add(take=takes[0], author=reviewer, body="Mist is lovely", at=0.5)
    for take in takes:
        with django_capture_on_commit_callbacks(execute=True):
            review.take_approve(take=take, user=reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        export, _ = exports.export_create(project=project, user=owner, idempotency_key=uuid.uuid4())
    export.refresh_from_db()
    assert export.status == ExportStatus.SUCCEEDED, export.error_message
    with export.zip.open("rb") as fh, zipfile.ZipFile(io.BytesIO(fh.read())) as archive:
        files = {name: archive.read(name).decode("utf-8") for name in archive.namelist() if name.startswith("timeline")}
    return scenes, takes, files


def edited(timeline: otio.schema.Timeline) -> otio.schema.Timeline:
    """What an editor does: Night first, Dawn after it trimmed to 1 s, Boats dropped, a marker on Dawn."""
    track = timeline.tracks[0]
    dawn, boats, night = (track[i].clone() for i in range(3))
    rate = dawn.source_range.duration.rate
    dawn.source_range = otio.opentime.TimeRange(dawn.source_range.start_time, otio.opentime.RationalTime(rate, rate))
    dawn.markers.append(otio.schema.Marker(
        name="Hold on the mist longer", metadata={"storyboard": {"author": "Maya (editor)",
                                                                  "text": "Hold on the mist longer"}},
        marked_range=otio.opentime.TimeRange(otio.opentime.RationalTime(rate * 0.75, rate),
                                             otio.opentime.RationalTime(0, rate))))
    cut = otio.schema.Timeline(name="Harbour, editor's cut")
    new = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    new.extend([night, dawn])
    cut.tracks.append(new)
    return cut


def as_format(files: dict, kind: str) -> str:
    timeline = edited(otio.adapters.read_from_string(files["timeline.otio"], "otio_json"))
    if kind == "edl":
        return otio.adapters.write_to_string(timeline, "cmx_3600", rate=24.0)
    return otio.adapters.write_to_string(timeline, {"otio": "otio_json", "fcp_xml": "fcp_xml",
                                                    "fcpxml": "fcpx_xml"}[kind])


def upload(project, user, data: bytes | str, name="cut.otio"):
    data = data.encode() if isinstance(data, str) else data
    made = cuts.cut_import_create(project=project, user=user, upload=SimpleUploadedFile(name, data))
    cuts.cut_import_read(made.pk)  # what the worker's task runs once the upload has committed
    made.refresh_from_db()
    return made


def kinds(made) -> dict:
    return {c["id"].split(":")[0]: c for c in made.diff["changes"]}


@pytest.mark.parametrize("kind", ["otio", "edl", "fcp_xml", "fcpxml"])
def test_an_edited_cut_comes_back_as_a_diff_in_every_format(kind, project, owner, exported):
    (dawn, boats, night), takes, files = exported

    made = upload(project, owner, as_format(files, kind), name=f"cut.{kind}")

    assert made.status == CutImportStatus.READY, made.error_message
    assert made.kind == kind
    changes = made.diff["changes"]
    order = next(c for c in changes if c["kind"] == "order")
    assert order["order"] == [night.pk, dawn.pk]
    assert [c for c in changes if c["kind"] == "duration"] == [
        {"id": f"duration:{dawn.pk}", "kind": "duration", "scene": dawn.pk, "title": "1. Dawn", "before": 2,
         "after": 1, "cut": 1.0}]
    assert [c["scene"] for c in changes if c["kind"] == "drop"] == [boats.pk]
    # The reviewer's comment went out as a marker and came back: only the editor's new one is new.
    markers = [c for c in changes if c["kind"] == "marker"]
    # (a CMX 3600 EDL writes its locators in capitals)
    assert [(m["take"], m["at"], m["text"].casefold()) for m in markers] == [(takes[0].pk, 0.75,
                                                                              "hold on the mist longer")]
    assert made.diff["unmatched"] == []
    assert Scene.objects.get(pk=boats.pk).in_cut  # nothing changes before someone accepts


def test_accepting_some_changes_makes_one_revision_and_deletes_nothing(project, owner, exported):
    (dawn, boats, night), takes, files = exported
    made = upload(project, owner, as_format(files, "otio"))
    revisions_before = BoardRevision.objects.filter(project=project).count()
    chosen = [c["id"] for c in made.diff["changes"] if c["kind"] in ("order", "drop", "marker")]

    cuts.cut_import_accept(cut_import=made, user=owner, change_ids=chosen)

    board = list(Scene.objects.filter(project=project).order_by("position"))
    assert [s.title for s in board] == ["Night", "Boats", "Dawn"]  # Boats keeps its place, out of the cut
    assert [s.in_cut for s in board] == [True, False, True]
    assert Scene.objects.get(pk=dawn.pk).duration == 2  # the trim was not ticked
    comment = Comment.objects.get(take=takes[0], at_seconds=0.75)
    assert (comment.body, comment.who, comment.imported_by) == ("Hold on the mist longer",
                                                                 "Maya (editor) (editor's cut)", owner)
    newest = BoardRevision.objects.filter(project=project).order_by("-number").first()
    assert newest.kind == RevisionKind.CUT_IMPORT
    assert BoardRevision.objects.filter(project=project).count() > revisions_before
    made.refresh_from_db()
    assert (made.status, made.revision) == (CutImportStatus.ACCEPTED, newest)
    # Play all and the export leave the dropped scene out; it stays on the board.
    assert [p.scene.title for p in exports.export_plan(project).included] == ["Night", "Dawn"]


def test_a_second_accept_of_the_same_cut_is_refused(project, owner, exported):
    _scenes, _takes, files = exported
    made = upload(project, owner, as_format(files, "edl"))
    ids = [c["id"] for c in made.diff["changes"]]
    cuts.cut_import_accept(cut_import=made, user=owner, change_ids=ids)

    with pytest.raises(ValidationError, match="already accepted"):
        cuts.cut_import_accept(cut_import=made, user=owner, change_ids=ids)
    assert Comment.objects.filter(body__iexact="Hold on the mist longer").count() == 1


def test_a_clip_it_cannot_match_is_listed_by_name(project, owner, exported):
    _scenes, _takes, files = exported
    timeline = otio.adapters.read_from_string(files["timeline.otio"], "otio_json")
    stranger = otio.schema.Clip(name="Stock seagulls", media_reference=otio.schema.ExternalReference(
        target_url="file:///media/gulls.mov"), source_range=timeline.tracks[0][0].source_range)
    timeline.tracks[0].append(stranger)

    made = upload(project, owner, otio.adapters.write_to_string(timeline, "otio_json"))

    assert [(u["clip"], u["name"]) for u in made.diff["unmatched"]] == [(4, "Stock seagulls")]


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE xmeml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>
<xmeml version="4"><sequence><name>&d;</name></sequence></xmeml>"""


@pytest.mark.parametrize(("data", "words"), [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary file"),
    (b'{"OTIO_SCHEMA": "Timeline.1", "tracks": ', "Line 1, column"),
    (b"TITLE: CUT\nFCM: NON-DROP FRAME\n\n001  S001T001 V     C        00:00:00:00 00:00:02:00 00:00:00:00\n",
     "Line 4"),
    (BOMB, "declares entities"),
    (b'<?xml version="1.0"?>\n<xmeml version="4">\n<sequence>\n<name>Cut', "Line 4"),
], ids=["unreadable", "truncated-otio", "truncated-edl", "xml-bomb", "truncated-xml"])
def test_a_bad_timeline_gets_a_message_naming_the_line_and_changes_nothing(data, words, project, owner, scene):
    revisions = BoardRevision.objects.filter(project=project).count()

    made = upload(project, owner, data)

    assert made.status == CutImportStatus.FAILED
    assert words in made.error_message
    assert made.diff == {}
    assert BoardRevision.objects.filter(project=project).count() == revisions


def test_a_50_mb_timeline_is_read_in_the_worker_within_its_limits(project, owner, settings):
    settings.CUT_IMPORT_MEMORY_MB = 300
    clip = ('{"OTIO_SCHEMA": "Clip.2", "name": "' + "x" * 1000 + '", "source_range": null, "markers": [], '
            '"metadata": {}, "effects": [], "enabled": true, "media_references": {}, '
            '"active_media_reference_key": "DEFAULT_MEDIA"}')
    body = ",".join([clip] * 50_000)
    data = ('{"OTIO_SCHEMA": "Timeline.1", "name": "huge", "metadata": {}, "global_start_time": null, '
            '"tracks": {"OTIO_SCHEMA": "Stack.1", "name": "", "metadata": {}, "effects": [], "markers": [], '
            '"enabled": true, "source_range": null, "children": [{"OTIO_SCHEMA": "Track.1", "kind": "Video", '
            '"name": "", "metadata": {}, "effects": [], "markers": [], "enabled": true, "source_range": null, '
            '"children": [' + body + "]}]}}")
    assert len(data) > 50 * 1024 * 1024

    made = upload(project, owner, data)

    assert made.status == CutImportStatus.FAILED
    assert "within the studio's limits (300 MB of memory" in made.error_message
    assert Scene.objects.filter(project=project).count() == 0


def test_it_refuses_a_file_over_the_size_limit_before_storing_it(project, owner, settings):
    settings.CUT_IMPORT_MAX_MB = 1
    with pytest.raises(ValidationError, match="larger than 1 MB"):
        cuts.cut_import_create(project=project, user=owner,
                               upload=SimpleUploadedFile("cut.otio", b"{" + b" " * (1024 * 1024 + 1)))
    assert not CutImport.objects.exists()


def test_the_pages_upload_show_the_diff_and_accept_the_ticked_changes(project, owner, exported, client_for):
    (dawn, boats, night), _takes, files = exported
    client = client_for(owner)
    response = client.post(f"/projects/{project.pk}/editors-cut/", {
        "timeline": SimpleUploadedFile("cut.xml", as_format(files, "fcp_xml").encode()),
        "idempotency_key": str(uuid.uuid4())})
    made = CutImport.objects.get(project=project)
    assert response.status_code == 302 and made.status == CutImportStatus.QUEUED  # read by a worker, not here
    cuts.cut_import_read(made.pk)

    page = client.get(response["Location"]).content.decode()
    assert page.count('data-testid="cut-change"') == 4 and "was dropped from the cut" in page

    accepted = client.post(response["Location"], {"change": ["order"]})

    assert accepted.status_code == 302
    assert [s.title for s in Scene.objects.filter(project=project).order_by("position")] == ["Night", "Boats", "Dawn"]
    assert Scene.objects.get(pk=boats.pk).in_cut  # its drop was not ticked


def test_accepting_nothing_says_so_in_the_page_and_changes_nothing(project, owner, client_for, scene):
    made = CutImport.objects.create(project=project, created_by=owner, filename="cut.otio",
                                    status=CutImportStatus.READY, diff={"changes": [
                                        {"id": f"drop:{scene.pk}", "kind": "drop", "scene": scene.pk,
                                         "title": "1. Dawn"}], "unmatched": []})

    response = client_for(owner).post(f"/projects/{project.pk}/editors-cut/{made.pk}/", {"change": ["forged"]})

    assert response.status_code == 400 and "Tick at least one change" in response.content.decode()
    made.refresh_from_db()
    assert made.status == CutImportStatus.READY and Scene.objects.get(pk=scene.pk).in_cut
