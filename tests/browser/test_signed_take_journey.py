"""Every kept take carries the studio's own credentials, and an owner decides whether they refuse AI
training; the take's credentials panel says so, and the file itself carries it."""

from __future__ import annotations

import json

import c2pa
from django.core.files.storage import default_storage
from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in
from tests.browser.test_storyboard_journey import finished_take, scene_card


def _assertion_labels(take) -> set[str]:
    with default_storage.open(take.video.name, "rb") as fh:
        manifests = json.loads(c2pa.Reader("video/mp4", fh).json())
    active = manifests["manifests"][manifests["active_manifest"]]
    return {assertion["label"] for assertion in active.get("assertions", [])}


def test_an_owner_sets_the_training_refusal_and_the_next_take_carries_it(page: Page, live_server, team, owner,
                                                                         project, scene):
    log_in(page, live_server.url, owner)
    page.goto(f"{live_server.url}/teams/{team.pk}/members/")
    setting = page.get_by_test_id("training-setting")
    expect(setting).to_contain_text("refuses AI training")  # on by default: likenesses are at stake
    setting.get_by_role("button", name="Allow AI training of new takes").click()
    expect(page.get_by_test_id("training-setting")).to_contain_text("say nothing about AI training")

    page.goto(f"{live_server.url}/projects/{project.pk}/")
    panel = scene_card(page, scene.title)
    panel.get_by_test_id("render-button").click()
    take = finished_take(panel)
    credentials = take.get_by_test_id("provenance")
    credentials.locator("summary").click()
    expect(credentials.get_by_test_id("studio-signed")).to_contain_text("signed with its own credentials")

    kept = scene.renders.get()
    labels = _assertion_labels(kept)
    assert "studio.storyboard.take" in labels
    assert not any("training-mining" in label for label in labels)  # the owner allowed it

    page.goto(f"{live_server.url}/teams/{team.pk}/members/")
    page.get_by_test_id("training-setting").get_by_role("button", name="Refuse AI training of new takes").click()
    expect(page.get_by_test_id("training-setting")).to_contain_text("refuses AI training")
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    panel = scene_card(page, scene.title)
    panel.get_by_test_id("render-button").click()
    expect(panel.get_by_test_id("take")).to_have_count(2)
    newest = scene.renders.order_by("-number").first()
    finished_take_by_id(panel, newest.pk)
    newest.refresh_from_db()
    assert any("training-mining" in label for label in _assertion_labels(newest))


def finished_take_by_id(panel, pk):
    take = panel.locator(f"#take-{pk}")
    expect(take).to_have_attribute("data-status", "succeeded", timeout=30_000)
    return take
