"""In a real browser: an uploaded file cannot run script, and neither can a script injected into a page."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image
from PIL.PngImagePlugin import PngInfo
from playwright.sync_api import Page

from projects.storyboard import services
from tests.browser.conftest import log_in

INJECT = """() => new Promise(resolve => {
  const violations = [];
  document.addEventListener("securitypolicyviolation", e => violations.push(e.violatedDirective));
  const s = document.createElement("script");
  s.textContent = "window.__pwned = 1";
  document.body.append(s);
  setTimeout(() => resolve({pwned: window.__pwned === 1, violations}), 300);
})"""


def png_named_html():
    info = PngInfo()
    info.add_text("Comment", "<html><body><script>window.__pwned = 1; document.title = 'pwned'</script></body></html>")
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 30, 30)).save(buffer, format="PNG", pnginfo=info)
    return SimpleUploadedFile("ref.html", buffer.getvalue())


def test_an_uploaded_png_named_html_opens_as_an_image_and_runs_nothing(page: Page, live_server, owner, scene):
    services.scene_set_reference(scene=scene, user=owner, upload=png_named_html())
    log_in(page, live_server.url, owner)
    response = page.goto(live_server.url + reverse("projects:scene_reference_image", args=[scene.pk, "original"]))
    assert response is not None
    assert response.headers["content-type"] == "image/png"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert page.evaluate("() => window.__pwned") is None
    assert page.title() != "pwned"
    assert page.locator("img").count() == 1  # the browser shows it as the image it is


def test_a_script_injected_into_a_page_does_not_run(page: Page, live_server, owner, project):
    log_in(page, live_server.url, owner)
    page.goto(live_server.url + reverse("projects:project_detail", args=[project.pk]))
    result = page.evaluate(INJECT)
    assert result["pwned"] is False
    assert "script-src-elem" in result["violations"] or "script-src" in result["violations"]
