"""Journey: an editor renders every scene that still needs a take, with one click, after seeing the cost."""

from __future__ import annotations

from playwright.sync_api import expect

from generation.models import Render
from projects.review import services as review
from tests.browser.test_storyboard_journey import finished_take, scene_card


def test_editor_renders_the_scenes_without_approval_in_one_click(logged_in_page, live_server, editor, reviewer,
                                                                  make_scene, render_take, project):
    approved = make_scene(title="Harbour at dawn", duration=1)
    review.take_approve(take=render_take(approved), user=reviewer)
    make_scene(title="Gulls over the masts", duration=1)
    make_scene(title="Bell on the pier", duration=2)

    page = logged_in_page(editor)
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    page.get_by_test_id("render-scenes-link").click()

    plan = page.get_by_test_id("batch-plan")
    expect(plan.get_by_test_id("batch-takes").locator("tbody tr")).to_have_count(2)
    expect(plan).not_to_contain_text("Harbour at dawn")  # approved already: not in the default selection
    page.get_by_label("Every scene").check()
    expect(plan.get_by_test_id("batch-takes").locator("tbody tr")).to_have_count(3)
    expect(plan.get_by_test_id("batch-button")).to_contain_text("Render 3 scenes")
    page.get_by_label("Scenes without an approved take").check()
    expect(plan.get_by_test_id("batch-button")).to_contain_text("Render 2 scenes")
    expect(plan.get_by_test_id("batch-total")).to_have_text("$0.00")  # the previz is free

    plan.get_by_test_id("batch-button").dblclick()

    expect(page.get_by_role("status")).to_contain_text("Booked 2 takes")
    for title in ("Gulls over the masts", "Bell on the pier"):
        finished_take(scene_card(page, title))
    assert Render.objects.filter(scene__project=project).count() == 3  # the double click booked once


def test_editor_pages_through_a_long_plan_and_the_total_stays_the_whole_plan(logged_in_page, live_server, editor,
                                                                             make_scene, project):
    for n in range(1, 56):
        make_scene(title=f"Shot {n}", duration=1)

    page = logged_in_page(editor)
    page.goto(f"{live_server.url}/projects/{project.pk}/render/")
    plan = page.get_by_test_id("batch-plan")
    rows = plan.get_by_test_id("batch-takes").locator("tbody tr")
    expect(rows).to_have_count(50)
    expect(plan.get_by_test_id("takes-pages")).to_contain_text("Scenes 1–50 of 55")
    expect(plan.get_by_test_id("batch-button")).to_contain_text("Render 55 scenes")

    plan.get_by_test_id("takes-next").click()  # htmx swaps the plan: the page does not reload

    expect(rows).to_have_count(5)
    expect(rows.first).to_contain_text("51. Shot 51")
    expect(plan.get_by_test_id("takes-pages")).to_contain_text("Scenes 51–55 of 55")
    expect(plan.get_by_test_id("batch-button")).to_contain_text("Render 55 scenes")
    assert "/render/" in page.url and "takes=" not in page.url
