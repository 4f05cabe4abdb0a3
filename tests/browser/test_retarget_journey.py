"""Journey: Sora 2 retired under two scenes; an editor sees it on the board, moves both to Veo 3.1
after seeing what changes and what it costs, and nothing is booked."""

from __future__ import annotations

from playwright.sync_api import expect

from generation.models import Render, Status
from generation.providers import connections
from projects.models import Scene


def test_editor_moves_the_scenes_of_a_retired_model_to_a_live_one(logged_in_page, live_server, editor, owner,
                                                                   team, project, make_scene):
    gateway = connections.connection_create(team=team, user=owner, kind="openai-videos", label="Gateway",
                                            base_url="http://127.0.0.1:9/v1", api_key="sk-test")
    replicate = connections.connection_create(team=team, user=owner, kind="replicate", label="Replicate",
                                              base_url="http://127.0.0.1:9/v1", api_key="r8-test",
                                              webhook_secret="whsec_c2VjcmV0")
    scenes = [make_scene(title="Harbour at dawn", duration=5), make_scene(title="Gulls over the masts", duration=8)]
    make_scene(title="Bell on the pier", duration=2)  # never rendered: stays as it is
    for scene in scenes:
        Render.objects.create(scene=scene, connection=gateway, provider="openai-videos", model="sora-2",
                              recipe={"parameters": {"seconds": scene.duration, "size": scene.size}},
                              status=Status.FAILED, number=1)

    page = logged_in_page(editor)
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    expect(page.get_by_test_id("frame-retiring")).to_have_count(2)
    expect(page.get_by_test_id("frame-retiring").first).to_have_text("Sora 2 retired")
    page.get_by_test_id("retarget-link").click()

    page.get_by_test_id("retarget-from").select_option(label="Scenes using Sora 2 (retired)")
    plan = page.get_by_test_id("retarget-plan")
    expect(plan.get_by_test_id("retarget-move")).to_have_count(2)
    page.get_by_test_id("retarget-target").select_option(label="Replicate — Veo 3.1 (Replicate)")
    expect(plan.get_by_test_id("retarget-move").first).to_contain_text("5 s → 6 s")
    # Sora 2 at $0.10/s: $1.30 for 13 s; Veo 3.1 at $0.40/s for 6 + 8 s: $5.60.
    expect(plan.get_by_test_id("retarget-total")).to_have_text("$5.60")
    expect(plan.get_by_test_id("retarget-difference")).to_have_text("+$4.30")

    plan.get_by_test_id("retarget-apply").click()

    expect(page.get_by_role("status")).to_contain_text("Moved 2 scenes to Veo 3.1 (Replicate). Nothing was booked.")
    expect(page.get_by_test_id("frame-retiring")).to_have_count(0)
    assert Render.objects.count() == 2  # only the two old Sora takes
    assert sorted(Scene.objects.filter(target_connection=replicate).values_list("duration", flat=True)) == [6, 8]
