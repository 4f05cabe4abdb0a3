"""The local previz draws the scene: its reference image fills the frame a teammate sees on the board."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from playwright.sync_api import Page, expect

from projects.storyboard import services
from tests.browser.conftest import log_in
from tests.browser.test_storyboard_journey import finished_take, frame, scene_card

CENTRE_COLOUR_JS = """img => {
  const canvas = document.createElement('canvas');
  canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
  const ctx = canvas.getContext('2d');
  ctx.drawImage(img, 0, 0);
  const d = ctx.getImageData(Math.floor(img.naturalWidth / 2) - 5, Math.floor(img.naturalHeight * 0.6), 10, 10).data;
  let r = 0, g = 0, b = 0;
  for (let i = 0; i < d.length; i += 4) { r += d[i]; g += d[i + 1]; b += d[i + 2]; }
  const n = d.length / 4;
  return [r / n, g / n, b / n];
}"""


def test_a_previz_of_a_scene_with_a_reference_image_shows_that_image(page: Page, live_server, owner, project, scene):
    red = io.BytesIO()
    Image.new("RGB", (640, 360), (200, 30, 30)).save(red, format="PNG")
    services.scene_set_reference(scene=scene, user=owner, upload=SimpleUploadedFile("red.png", red.getvalue()),
                                 fit="crop")
    log_in(page, live_server.url, owner)
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    panel = scene_card(page, scene.title)
    panel.get_by_test_id("render-button").click()
    finished_take(panel)

    page.goto(f"{live_server.url}/projects/{project.pk}/")  # the board shows the take's poster
    thumbnail = frame(page, scene.title).get_by_test_id("frame-thumbnail")
    expect(thumbnail).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle())
    r, g, b = thumbnail.evaluate(CENTRE_COLOUR_JS)
    assert r > 120 and g < 90 and b < 90, (r, g, b)  # the red reference, not a text card
