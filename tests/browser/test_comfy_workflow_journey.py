"""A team's own GPU, end to end in a real browser: upload a ComfyUI workflow, confirm its inputs, render with it.

The connection points at the local fake ComfyUI (tests/fakes/comfyui_server.py). Celery runs
eagerly, so the take finishes within the click and the page's polling only has to notice.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from generation.models import Render
from generation.providers import connections
from tests.browser.test_provider_journey import (
    choose_target,
    connection_card,
    open_providers,
    render_select,
)
from tests.browser.test_storyboard_journey import refresh_until_settled, scene_card
from tests.fakes.comfyui_server import FIXTURES, fresh_server

RENDER_TIMEOUT_MS = 30_000


def upload_workflow(page: Page, card, *, name: str, path) -> None:
    card.get_by_test_id("upload-workflow").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Upload a ComfyUI workflow")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Workflow (API format JSON)").set_input_files(str(path))
    page.get_by_role("button", name="Upload workflow").click()


def test_owner_uploads_a_comfyui_workflow_and_renders_with_it(
    logged_in_page, owner, team, make_scene, live_server,
):
    comfy = fresh_server()
    connections.connection_create(team=team, user=owner, kind="comfyui", label="Studio GPU", base_url=comfy.url)
    scene = make_scene(title="Dawn", duration=4, size="1280x720")
    page = logged_in_page(owner)
    open_providers(page, team)
    card = connection_card(page, "Studio GPU")
    expect(card).to_contain_text("None yet")

    # The editor's own save (UI format) is refused, saying how to export the right one.
    upload_workflow(page, card, name="LTX-Video", path=FIXTURES / "ltxv_ui_export.json")
    expect(page.get_by_role("alert")).to_contain_text("Export (API)")

    page.get_by_label("Workflow (API format JSON)").set_input_files(str(FIXTURES / "ltxv_t2v_api.json"))
    page.get_by_role("button", name="Upload workflow").click()

    # The guess: the positive prompt, the latent's size and length, the sampler's seed.
    mapping = page.get_by_test_id("workflow-mapping")
    expect(mapping.get_by_label(re.compile(r"^Prompt")).locator("option:checked")).to_have_text(
        re.compile(r"^node 3 · CLIPTextEncode · text = "))
    expect(mapping.get_by_label("Negative prompt").locator("option:checked")).to_have_text(
        re.compile(r"^node 4 · CLIPTextEncode · text = low quality"))
    expect(mapping.get_by_label("Length (frames)").locator("option:checked")).to_have_text(
        "node 5 · EmptyLTXVLatentVideo · length = 97")
    expect(mapping.get_by_label("Frames rule").locator("option:checked")).to_have_text("8n+1 frames (LTX-Video)")

    # Without a prompt every take would be the same picture: refused in place.
    mapping.get_by_label(re.compile(r"^Prompt")).select_option("")
    mapping.get_by_role("button", name="Save and list as a model").click()
    expect(mapping.get_by_role("alert")).to_contain_text("Choose the input that takes the prompt")

    mapping = page.get_by_test_id("workflow-mapping")
    mapping.get_by_label(re.compile(r"^Prompt")).select_option("3|text")
    mapping.get_by_label("Frames per second").fill("24")
    mapping.get_by_label("Sizes").fill("1280x720")
    mapping.get_by_label("Durations").fill("2, 4")
    mapping.get_by_role("button", name="Save and list as a model").click()
    expect(page.get_by_role("status")).to_contain_text("LTX-Video is ready to render on Studio GPU.")
    expect(connection_card(page, "Studio GPU").get_by_test_id("workflow")).to_contain_text("LTX-Video")

    # On the storyboard, the render form offers it, free on the team's own GPU.
    page.goto(f"{live_server.url}/projects/{scene.project_id}/")
    card = scene_card(page, "Dawn")
    choose_target(render_select(card), re.compile(r"^Studio GPU — LTX-Video"))
    card.get_by_test_id("render-button").click()

    take = card.get_by_test_id("take")
    expect(take).to_have_count(1)
    refresh_until_settled(take, RENDER_TIMEOUT_MS)
    expect(take).to_have_attribute("data-status", "succeeded")
    expect(take.get_by_test_id("take-video")).to_be_visible()
    [graph] = comfy.created()
    assert graph["5"]["inputs"]["length"] == 97 and graph["3"]["inputs"]["text"] == scene.prompt
    assert Render.objects.get(scene=scene).model == "ltx-video"
