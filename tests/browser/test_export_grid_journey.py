"""A producer's export: choose the grid layout for the storyboard, export, and the downloaded PDF
is the grid (six frames a page); the comments come as a CSV beside it.

Celery runs eagerly here (tests/conftest.py): the export finishes within the click's request.
"""

from __future__ import annotations

import csv
import io

import pypdf
from playwright.sync_api import expect

from projects.review import services as review


def test_choosing_the_grid_layout_downloads_a_grid_storyboard(logged_in_page, live_server, project, make_scene,
                                                             render_take, editor, reviewer):
    dawn = make_scene(title="Dawn", duration=1)
    take = render_take(dawn, user=editor)
    review.comment_add(take=take, author=reviewer, body="Hold on the boats", at=0.5)
    review.take_approve(take=take, user=reviewer)
    for n in range(1, 7):
        make_scene(title=f"Harbour beat {n}", duration=2)

    page = logged_in_page(reviewer)
    page.goto(f"{live_server.url}/projects/{project.pk}/exports/")
    page.get_by_label("Grid of 6 frames a page, with notes").check()
    page.get_by_test_id("export-button").click()
    export = page.get_by_test_id("export").first
    expect(export.get_by_test_id("export-status")).to_have_text("Ready", timeout=60_000)

    with page.expect_download() as download_info:
        export.get_by_role("link", name="PDF storyboard (grid)").click()
    pdf = pypdf.PdfReader(download_info.value.path())
    assert len(pdf.pages) == 2  # seven scenes, six a page
    text = "\n".join(p.extract_text() for p in pdf.pages)
    assert "1. Dawn" in text and "7. Harbour beat 6" in text

    with page.expect_download() as download_info:
        export.get_by_role("link", name="Comments (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(download_info.value.path().read_text(encoding="utf-8-sig"))))
    assert [(r["scene"], r["timecode"], r["author"], r["text"]) for r in rows] == [
        ("1", "00:00:00:12", reviewer.username, "Hold on the boats")]
