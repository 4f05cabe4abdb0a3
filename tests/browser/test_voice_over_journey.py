"""The scratch voice-over in real browsers: a line typed in the panel is spoken and plays, the scene
follows its lines and a teammate's board shows the new length live, a line is recorded with the
browser's microphone (MediaRecorder) and replaces the voice, and a file that is not sound is refused."""

from __future__ import annotations

import shutil

import pytest
from playwright.sync_api import Browser, Playwright, expect

from projects.models import LineRecording, Role, Scene
from tests.browser.conftest import CHROMIUM_ARGS, log_in
from tests.browser.test_storyboard_journey import frame, scene_card

LIVE = 5_000


@pytest.fixture
def two_people(browser: Browser, live_server, team, owner, make_member, project, make_scene):
    make_scene(title="Pier", duration=2)
    rita = make_member(team, Role.EDITOR, "rita")
    pages = []
    for user in (owner, rita):
        page = browser.new_context().new_page()
        log_in(page, live_server.url, user)
        page.goto(f"{live_server.url}/projects/{project.pk}/")
        page.evaluate("window.__noReload = true")
        pages.append(page)
    yield pages
    for page in pages:
        page.context.close()


@pytest.fixture
def microphone_browser(playwright: Playwright):
    """A Chromium whose microphone is Chromium's own test tone, allowed without asking."""
    browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), headless=True, args=[
        *CHROMIUM_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"])
    yield browser
    browser.close()


def test_a_line_is_spoken_fits_the_scene_for_a_teammate_and_is_recorded_in_the_browser(
        two_people, microphone_browser, live_server, owner, project):
    me, rita = two_people
    panel = scene_card(me, "Pier")
    add = panel.get_by_test_id("line-add")  # open: the scene has no lines yet
    add.get_by_test_id("line-speaker-name").fill("ANNA")
    add.get_by_test_id("line-text-input").fill("Morning, Ben. The tide is turning early today, so we leave now.")
    add.get_by_test_id("line-add-button").click()
    expect(panel.get_by_test_id("dialogue-saved")).to_have_text("Line added.")

    # The line was spoken by the offline engine: the panel plays it.
    sound = panel.get_by_test_id("line-sound").first
    expect(sound).to_have_attribute("data-state", "spoken")
    audio = sound.get_by_test_id("line-audio")
    seconds = audio.evaluate("""a => new Promise(done => { a.addEventListener('loadedmetadata', () => done(a.duration));
                                                           a.preload = 'metadata'; a.load(); })""")
    assert 3 < seconds < 8

    # The scene follows its lines: longer on this board and, live, on Rita's.
    panel.get_by_test_id("fit-to-dialogue").check()
    expect(panel.get_by_test_id("dialogue-saved")).to_have_text("The scene follows its lines.")
    fitted = Scene.objects.get(title="Pier").duration
    assert fitted > 2
    expect(frame(me, "Pier").locator(".frame-duration")).to_have_text(f"{fitted} s", timeout=LIVE)
    expect(frame(rita, "Pier").locator(".frame-duration")).to_have_text(f"{fitted} s", timeout=LIVE)
    expect(rita.get_by_test_id("total-runtime")).to_have_text(f"0:{fitted:02d}", timeout=LIVE)

    # A file that is not sound is refused in words, in the panel.
    sound.get_by_test_id("line-record").locator("summary").click()
    sound.get_by_test_id("recording-file").set_input_files(
        files=[{"name": "line.wav", "mimeType": "audio/wav", "buffer": b"<html>no</html>"}])
    sound.get_by_test_id("recording-upload").click()
    expect(panel.get_by_test_id("dialogue-error")).to_contain_text("not a sound file")
    assert not LineRecording.objects.exists()

    # Recorded with the microphone: the recording replaces the engine's voice.
    # Tall enough for the whole panel: clicking below the fold scrolled the page under the sticky panel between
    # Playwright's aim and its click, which then landed on the board.
    context = microphone_browser.new_context(permissions=["microphone"], viewport={"width": 1280, "height": 1400})
    try:
        page = context.new_page()
        log_in(page, live_server.url, owner)
        page.goto(f"{live_server.url}/projects/{project.pk}/")
        mine = scene_card(page, "Pier")
        line = mine.get_by_test_id("line-sound").first
        line.get_by_test_id("line-record").locator("summary").click()
        record = line.get_by_role("button", name="Record in the browser")
        record.click()
        stop = line.get_by_role("button", name="Stop and keep")
        expect(stop).to_be_visible()
        page.wait_for_timeout(1500)
        stop.click()
        expect(mine.get_by_test_id("dialogue-saved")).to_have_text("Recording kept: it is being prepared.")
        expect(mine.get_by_test_id("line-sound").first).to_have_attribute("data-state", "recorded")
    finally:
        context.close()
    recording = LineRecording.objects.get()
    assert recording.kind in {"webm", "ogg", "m4a"}  # what this browser's MediaRecorder made, found in its bytes
    assert 1.0 < recording.seconds < 3.0
    # A recording this short re-times the scene: Rita sees it without a reload.
    shorter = Scene.objects.get(title="Pier").duration
    assert shorter < fitted
    expect(frame(rita, "Pier").locator(".frame-duration")).to_have_text(f"{shorter} s", timeout=LIVE)
