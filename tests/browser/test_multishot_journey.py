"""Journey: an editor selects three scenes on the board and renders them as one multi-shot take on
the local previz; a teammate watching the board sees the three frames fill without reloading,
approves scene 2's part only, and exports a cut holding that part alone, signed with the part's
own manifest (whose parent ingredient is the group's file).

Celery runs eagerly here (tests/conftest.py): the take renders and is cut within the click's request.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from generation.models import ShotGroup, Status
from generation.previz.animatic import probe_video
from generation.provenance.credentials import read_with_settings
from tests.browser.conftest import log_in
from tests.browser.test_storyboard_journey import frame

LIVE = 30_000  # the three frames fill once the animatic is rendered and cut, on a busy box


def test_three_scenes_render_as_one_take_and_only_scene_2s_part_is_approved_and_exported(
        logged_in_page, new_context, live_server, project, make_scene, editor, reviewer):
    titles = ("Dawn", "Boats", "Gulls")
    for title, seconds in zip(titles, (1, 2, 1)):
        make_scene(title=title, duration=seconds)
    rita = new_context().new_page()
    log_in(rita, live_server.url, reviewer)
    rita.goto(f"{live_server.url}/projects/{project.pk}/")
    rita.evaluate("window.__noReload = true")  # gone if the board ever reloads

    page = logged_in_page(editor)
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    for title in titles:
        frame(page, title).get_by_test_id("frame-select").check()
    page.get_by_test_id("bulk-multishot").click()

    plan = page.get_by_test_id("shot-plan")
    expect(plan.get_by_test_id("shot-range")).to_have_text(["0–1 s", "1–3 s", "3–4 s"])
    expect(plan.get_by_test_id("shot-cost")).to_contain_text("once for the whole take")
    plan.get_by_test_id("shot-button").dblclick()
    expect(page.get_by_role("status")).to_contain_text("Booked one multi-shot take of scenes 1–3")

    for title in titles:  # the teammate's board: every frame follows the one take, live
        expect(frame(rita, title).get_by_test_id("frame-status")).to_have_text("Ready for review", timeout=LIVE)
    assert rita.evaluate("window.__noReload") is True
    group = ShotGroup.objects.get()  # the double click booked once
    parts = list(group.parts.order_by("shot_index"))
    assert [p.status for p in parts] == [Status.SUCCEEDED] * 3

    # Scene 2's part: its own review page, whence the whole take plays; approved alone.
    rita.goto(f"{live_server.url}{reverse('projects:take_review', args=[parts[1].pk])}")
    expect(rita.get_by_test_id("play-whole-take")).to_be_visible()
    rita.get_by_test_id("approve-button").click()
    expect(rita.get_by_test_id("scene-status")).to_have_text("Approved")
    assert [s.approved_take_id for s in project.scenes.order_by("position")] == [None, parts[1].pk, None]

    rita.goto(f"{live_server.url}/projects/{project.pk}/exports/")
    rita.get_by_test_id("export-button").click()
    export = rita.get_by_test_id("export").first
    expect(export.get_by_test_id("export-status")).to_have_text("Ready", timeout=60_000)
    with rita.expect_download() as download_info:
        export.get_by_role("link", name="MP4 (signed)").click()
    path = download_info.value.path()
    assert probe_video(path).duration == pytest.approx(2, abs=0.1)  # scene 2's part, and nothing else
    report = read_with_settings(path)
    active = report.manifest["manifests"][report.manifest["active_manifest"]]
    assert [i["title"] for i in active["ingredients"]] == ["Scene 2: Boats (take 1)"]
