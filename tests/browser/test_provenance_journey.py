"""A tampered take, end to end in a real browser.

One byte of a finished take's video changes after it was signed. The owner sees
"Tampered or broken" on the board frame and the take's card, finds no way to approve it
from the panel, opens its review page, is refused when approving without a reason,
approves it anyway with a written reason, and the decision history shows that reason.
"""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in
from tests.browser.test_storyboard_journey import frame, scene_card
from tests.provenance_helpers import tamper

REASON = "Colour-graded copy of the vendor master; checked frame by frame."


def test_an_owner_sees_a_tampered_take_and_overrides_it_with_a_reason(
        page: Page, live_server, project, make_scene, render_take, owner):
    scene = make_scene(title="Dawn", duration=1)
    take = tamper(render_take(scene))
    log_in(page, live_server.url, owner)
    page.goto(f"{live_server.url}/projects/{project.pk}/")

    expect(frame(page, "Dawn").get_by_test_id("provenance-chip")).to_have_text("Tampered or broken")
    panel = scene_card(page, "Dawn")
    card = panel.get_by_test_id("take")
    expect(card.get_by_test_id("provenance-chip")).to_have_text("Tampered or broken")
    expect(card.get_by_test_id("approve-button")).to_have_count(0)
    expect(card.get_by_test_id("approve-blocked")).to_contain_text("cannot be approved")

    card.get_by_role("link", name="approve it anyway with a written reason").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Dawn · Take {take.number}")
    expect(page.get_by_test_id("provenance-chip")).to_have_text("Tampered or broken")
    expect(page.get_by_test_id("approve-blocked")).to_contain_text("the video's bytes changed after it was signed")
    page.get_by_test_id("approve-button").click()  # no reason given
    expect(page.get_by_test_id("decision-error")).to_contain_text("an owner writes the reason")
    page.get_by_test_id("override-reason").fill("trust me")
    page.get_by_test_id("approve-button").click()
    expect(page.get_by_test_id("decision-error")).to_contain_text("in a sentence")

    page.get_by_test_id("override-reason").fill(REASON)
    page.get_by_test_id("approve-button").click()
    history = page.get_by_test_id("decision-history")
    expect(history).to_contain_text(f"Approved despite failed checks: take {take.number} by {owner.get_username()}")
    expect(history).to_contain_text(REASON)
    expect(page.get_by_test_id("scene-status")).to_have_text("Approved")
    scene.refresh_from_db()
    assert scene.approved_take_id == take.pk
