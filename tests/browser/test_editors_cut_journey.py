"""An editor's cut round trip in the browser: the studio's export, edited as an editor would (reordered,
trimmed, a clip dropped, a marker added), uploaded, its diff accepted; the board is reordered and the
marker is a comment at its time on the take. Then a revision is named, compared and restored.

Celery runs eagerly here (tests/conftest.py): the timeline is read by the task once the upload commits.
"""

from __future__ import annotations

import io
import os
import uuid
import zipfile

import opentimelineio as otio
from playwright.sync_api import expect

from generation.exports import services as exports
from projects.models import Comment, Scene
from projects.review import services as review
from tests.generation.test_cut_import import edited

SHOTS = "/tmp/editorcut-shots"


def _shoot(page, name):
    os.makedirs(SHOTS, exist_ok=True)
    for width in (1440, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=f"{SHOTS}/{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1440, "height": 900})


def test_an_edited_cut_comes_back_and_a_revision_is_restored(logged_in_page, live_server, project, make_scene,
                                                             finished_take, owner, reviewer, tmp_path):
    scenes = [make_scene(title=t, duration=2) for t in ("Dawn", "Boats", "Night")]
    takes = [finished_take(s) for s in scenes]
    for take in takes:
        review.take_approve(take=take, user=reviewer)
    export, _ = exports.export_create(project=project, user=owner, idempotency_key=uuid.uuid4())
    export.refresh_from_db()
    with export.zip.open("rb") as fh, zipfile.ZipFile(io.BytesIO(fh.read())) as archive:
        timeline = otio.adapters.read_from_string(archive.read("timeline.otio").decode(), "otio_json")
    path = tmp_path / "editors-cut.otio"
    path.write_text(otio.adapters.write_to_string(edited(timeline), "otio_json"))

    page = logged_in_page(owner)
    page.goto(f"{live_server.url}/projects/{project.pk}/editors-cut/")
    page.get_by_test_id("cut-file").set_input_files(str(path))
    page.get_by_test_id("cut-upload-button").click()
    expect(page.get_by_test_id("cut-import-status")).to_have_text("Ready to review")
    expect(page.get_by_test_id("cut-change")).to_have_count(4)
    _shoot(page, "cut-diff")
    page.get_by_test_id("cut-accept").click()

    expect(page).to_have_url(f"{live_server.url}/projects/{project.pk}/")
    assert [s.title for s in Scene.objects.filter(project=project).order_by("position")] == ["Night", "Boats", "Dawn"]
    assert not Scene.objects.get(title="Boats", project=project).in_cut
    page.goto(f"{live_server.url}/takes/{takes[0].pk}/review/")
    expect(page.get_by_text("Hold on the mist longer")).to_be_visible()
    assert Comment.objects.get(body="Hold on the mist longer").at_seconds == 0.75

    page.goto(f"{live_server.url}/projects/{project.pk}/revisions/")
    page.get_by_test_id("revision-name").fill("v2 sent to client")
    page.get_by_role("button", name="Name this revision").click()
    expect(page.get_by_test_id("revision-label").first).to_have_text("v2 sent to client")
    _shoot(page, "revisions")
    page.locator('input[name="a"][value="1"]').check()
    page.get_by_test_id("revision-compare").click()
    expect(page.get_by_test_id("compare-summary")).to_contain_text("Moved")
    _shoot(page, "compare")
    page.goto(f"{live_server.url}/projects/{project.pk}/revisions/")
    page.locator('[data-number="1"]').get_by_test_id("revision-restore").click()
    expect(page).to_have_url(f"{live_server.url}/projects/{project.pk}/")
    assert [s.title for s in Scene.objects.filter(project=project).order_by("position")] == ["Dawn", "Boats", "Night"]
