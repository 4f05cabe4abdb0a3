"""The walking skeleton, end to end in a real browser.

An owner logs in, creates a project, storyboards two scenes, renders a take of
each with the local previz provider, watches each take's progress until it
finishes and plays, reads its content credentials and approves one.

The journey renders through a real Celery worker process (`real_worker`, see
tests/worker.py): "Render take" answers with a take still in progress, and
htmx polling alone (no page reload) brings it to "Done". The other tests here
run Celery eagerly (see tests/conftest.py), so a take finishes within the
"Render take" request.
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import APIResponse, Browser, Locator, Page, Route, expect

from generation.models import Render
from projects.models import Role
from tests.browser.conftest import log_in
from tests.worker import RENDER_TIMEOUT

RENDER_TIMEOUT_MS = 30_000
# Through a real worker on a busy 2-core box (INTEGRATION_RENDER_TIMEOUT, 90 s).
WORKER_RENDER_TIMEOUT_MS = int(RENDER_TIMEOUT * 1000)

# A take the worker has not finished: the page shows a progress bar and polls.
ACTIVE_STATUSES = ("queued", "submitting", "running", "downloading")
ACTIVE_STATUS = re.compile(rf"^({'|'.join(ACTIVE_STATUSES)})$")

# Record every state each take is drawn in, however briefly: a MutationObserver
# sees each htmx swap, so a state shown between two of Playwright's checks is
# not lost. The page must not reload afterwards (the record would be lost too).
WATCH_TAKES_JS = """
() => {
  const history = window.__takeHistory = {};
  const record = () => {
    for (const take of document.querySelectorAll('[data-testid="take"]')) {
      const bar = take.querySelector('[data-testid="take-progress"]');
      const entry = {
        status: take.dataset.status,
        progress: bar ? Number(bar.value) : null,
        progressVisible: !!bar && bar.getClientRects().length > 0,
      };
      const seen = (history[take.id] ||= []);
      const last = seen[seen.length - 1];
      if (!last || last.status !== entry.status || last.progress !== entry.progress
          || last.progressVisible !== entry.progressVisible) {
        seen.push(entry);
      }
    }
  };
  new MutationObserver(record).observe(document.body, {
    subtree: true, childList: true, attributes: true, attributeFilter: ["data-status", "value"],
  });
  record();
}
"""

# Play a take's video and report what the browser made of it.
PLAY_VIDEO_JS = """
async (video) => {
  video.muted = true;  // headless autoplay policy: muted playback needs no gesture
  await video.play();
  await new Promise((resolve, reject) => {
    const giveUp = setTimeout(() => reject(new Error("video did not advance")), 10000);
    const check = () => {
      if (video.currentTime > 0) { clearTimeout(giveUp); resolve(); }
      else { requestAnimationFrame(check); }
    };
    check();
  });
  video.pause();
  return {
    currentTime: video.currentTime,
    duration: video.duration,
    readyState: video.readyState,
    videoWidth: video.videoWidth,
    videoHeight: video.videoHeight,
  };
}
"""


# --- Steps, named the way a user would say them ------------------------------

def create_project(page: Page, name: str, description: str = "") -> None:
    form = page.locator("section.card", has=page.get_by_role("heading", name="New project"))
    form.get_by_label("Name", exact=True).fill(name)
    form.get_by_label("Description").fill(description)
    form.get_by_label("Default size").select_option("1280x720")
    form.get_by_label("Default duration (seconds)").fill("2")
    form.get_by_role("button", name="Create project").click()
    expect(page.get_by_role("heading", level=1, name=name)).to_be_visible()


def add_scene(page: Page, *, title: str, prompt: str, duration: int = 2,
              size: str = "1280x720", camera_notes: str = "", refused: bool = False) -> None:
    form = page.get_by_test_id("add-scene-form")
    frames = page.get_by_test_id("frame").count()
    form.get_by_label("Title").fill(title)
    form.get_by_label("Prompt").fill(prompt)
    form.get_by_label("Duration (seconds)").fill(str(duration))
    form.get_by_label("Size").select_option(size)
    form.get_by_label("Camera / shot notes").fill(camera_notes)
    form.get_by_role("button", name="Add scene").click()
    if not refused:
        # The form is cleared as it is sent (typing the next scene at once is safe: see
        # test_typing_the_next_scene_at_once_keeps_every_key); the scene is in when its frame shows.
        expect(form.get_by_label("Title")).to_have_value("")
        expect(page.get_by_test_id("frame")).to_have_count(frames + 1)


def frame(page: Page, title: str) -> Locator:
    return page.get_by_test_id("frame").filter(
        has=page.get_by_test_id("frame-title").get_by_text(title, exact=True))


def scene_card(page: Page, title: str) -> Locator:
    """Open the scene from its frame on the board; returns its side panel."""
    panel = page.get_by_test_id("scene-panel")
    heading = panel.get_by_test_id("panel-title")
    for _attempt in range(3):
        if heading.count() and heading.inner_text() == title:
            return panel
        # A teammate's change can swap the frame just as it is clicked: then click the new one.
        frame(page, title).locator(".frame-open").click()
        try:
            expect(heading).to_have_text(title, timeout=3_000)
            return panel
        except AssertionError:
            continue
    expect(heading).to_have_text(title)
    return panel


def refresh_until_settled(take: Locator, timeout_ms: int, healthy=lambda: None) -> Locator:
    """Wait for the take's card to settle. It changes by itself (the live channel swaps it at
    each new status); this never polls, and checks a worker is still alive while it waits."""
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        healthy()
        status = take.get_attribute("data-status")
        if status in ("succeeded", "failed", "canceled"):
            return take
        if time.monotonic() > deadline:
            raise AssertionError(f"the take is still {status}")
        time.sleep(0.3)


def finished_take(card: Locator) -> Locator:
    take = card.get_by_test_id("take")
    # With Celery eager, the booking's answer carries the take once the previz has rendered in the request
    # itself: allow a render's time, not a swap's (a loaded box took over 10 s).
    expect(take).to_have_count(1, timeout=RENDER_TIMEOUT_MS)
    refresh_until_settled(take, RENDER_TIMEOUT_MS)
    expect(take).to_have_attribute("data-status", "succeeded")
    return take


def finished_through_worker(card: Locator, worker, timeout_ms: int = WORKER_RENDER_TIMEOUT_MS
                            ) -> Locator:
    """Wait for the take to finish, failing at once if the worker dies or a task raises."""
    take = card.get_by_test_id("take")
    expect(take).to_have_count(1)
    try:
        refresh_until_settled(take, timeout_ms, lambda: worker.assert_healthy(" while the page waited for the take"))
    except AssertionError as exc:
        raise AssertionError(f"{exc}{worker.tail()}") from None
    expect(take).to_have_attribute("data-status", "succeeded")
    return take


def assert_plays_for(take: Locator, seconds: float) -> None:
    video = take.get_by_test_id("take-video")
    expect(video).to_be_visible()
    expect(video).to_have_attribute("src", re.compile(r"/takes/\d+/video/$"))
    playback = video.evaluate(PLAY_VIDEO_JS)
    assert playback["currentTime"] > 0, playback
    assert playback["readyState"] >= 2, playback  # HAVE_CURRENT_DATA or better
    assert playback["duration"] == pytest.approx(seconds, abs=0.25), playback
    assert (playback["videoWidth"], playback["videoHeight"]) == (1280, 720), playback


def assert_no_full_reload_since_marked(page: Page) -> None:
    assert page.evaluate("window.__noReload") is True, "the page reloaded instead of swapping"


def render_take(card: Locator) -> Locator:
    """Click "Render take" and see the new take in progress; returns the take."""
    takes = card.get_by_test_id("takes")
    expect(takes.get_by_label("Render with").locator("option:checked")).to_have_text(
        re.compile(r"^Local previz — Previz animatic\b")
    )
    takes.get_by_test_id("render-button").click()
    take = card.get_by_test_id("take")
    expect(take).to_have_count(1)
    return take


def assert_watched_progress_to_done(page: Page, take_id: str, worker) -> None:
    """The take was drawn in progress (with a bar) first, then finished, swapped in place."""
    seen = page.evaluate("id => window.__takeHistory[id]", take_id)
    print(f"{take_id} was drawn as {seen}")  # shown when the test fails (or with -rP)
    where = f"{take_id} went {seen}{worker.tail()}"
    assert seen, where
    assert seen[0]["status"] in ACTIVE_STATUSES, where
    assert seen[0]["progressVisible"], where
    assert seen[-1] == {"status": "succeeded", "progress": None, "progressVisible": False}, where
    active = [entry for entry in seen if entry["status"] in ACTIVE_STATUSES]
    assert all(entry["progressVisible"] for entry in active), where
    progress = [entry["progress"] for entry in active]
    assert progress == sorted(progress), f"progress went backwards: {where}"
    assert [entry["status"] for entry in seen].count("succeeded") == 1, where


# --- The journey ----------------------------------------------------------------

def test_owner_storyboards_renders_and_approves_a_take(real_worker, logged_in_page, owner):
    page = logged_in_page(owner)

    # A new project, made through the project list.
    expect(page.get_by_role("heading", level=1, name="Projects")).to_be_visible()
    create_project(page, "Harbour Story", "A short about a fishing harbour.")

    # Two scenes, added in place by htmx: no full page load.
    page.evaluate("window.__noReload = true")
    # Clips of 4-5 s at 1280x720 keep the worker busy for a moment: long enough
    # to see a take in progress, short enough for a quick test.
    add_scene(page, title="Dawn", prompt="A harbour at dawn, mist on the water.",
              duration=4, camera_notes="slow push-in")
    expect(page.get_by_test_id("frame")).to_have_count(1)
    add_scene(page, title="Nets", prompt="Fishermen haul nets onto the quay.",
              duration=5, camera_notes="handheld, low angle")
    expect(page.get_by_test_id("frame")).to_have_count(2)
    assert_no_full_reload_since_marked(page)
    expect(frame(page, "Dawn").locator(".frame-number")).to_have_text("1")
    expect(frame(page, "Nets").locator(".frame-number")).to_have_text("2")
    # The add form is fresh again for the next scene.
    expect(page.get_by_test_id("add-scene-form").get_by_label("Title")).to_have_value("")

    # Render a take of each scene with the local previz provider. The worker has
    # not finished when the answer arrives: each take first shows a progress bar.
    page.evaluate(WATCH_TAKES_JS)
    status_polls = []
    page.on("request", lambda request: status_polls.append(request.url)
            if re.search(r"/takes/\d+/$", request.url) else None)
    take_ids = []
    for title in ("Dawn", "Nets"):
        take = render_take(scene_card(page, title))
        expect(take).to_have_attribute("data-status", ACTIVE_STATUS)
        expect(take.get_by_test_id("take-progress")).to_be_visible()
        expect(take.get_by_test_id("take-video")).to_have_count(0)
        take_ids.append(take.get_attribute("id"))

    # Swapped in place by the live channel (no reload, no poller), each take finishes, plays for the
    # scene's length and carries trusted credentials.
    for title, seconds, take_id in (("Dawn", 4, take_ids[0]), ("Nets", 5, take_ids[1])):
        take = finished_through_worker(scene_card(page, title), real_worker)
        expect(take).to_have_attribute("id", take_id)  # the same take, swapped in place
        assert_watched_progress_to_done(page, take_id, real_worker)
        expect(take.get_by_test_id("take-status")).to_have_text("Ready for review")
        expect(take.get_by_test_id("take-progress")).to_have_count(0)
        assert_plays_for(take, seconds)
        provenance = take.get_by_test_id("provenance")
        provenance.locator("summary").click()
        expect(provenance).to_have_attribute("open", "")
        expect(provenance.get_by_test_id("provenance-state")).to_have_text("Signed by this studio")
    assert_no_full_reload_since_marked(page)
    # Nothing polled: every status arrived over the page's one live stream.
    page.wait_for_timeout(2_000)
    assert status_polls == []

    # The owner approves scene 1's take; only that scene shows the badge.
    dawn = scene_card(page, "Dawn")
    take_id = finished_take(dawn).get_attribute("id").removeprefix("take-")
    dawn.get_by_test_id("approve-button").click()
    expect(dawn.get_by_test_id("approved-badge")).to_have_text("Approved: take 1")  # the scene's first take
    expect(dawn.get_by_test_id("approve-button")).to_have_count(0)
    expect(frame(page, "Dawn").get_by_test_id("frame-status")).to_have_text("Approved")  # swapped out of band
    nets = scene_card(page, "Nets")
    expect(nets.get_by_test_id("approved-badge")).to_have_count(0)
    expect(nets.get_by_test_id("approve-button")).to_be_visible()
    assert_no_full_reload_since_marked(page)

    # The approval is stored, not just drawn: it survives a reload.
    page.reload()
    expect(scene_card(page, "Dawn").get_by_test_id("approved-badge")).to_be_visible()


def test_bad_scene_input_keeps_what_was_typed(logged_in_page, owner, project, live_server):
    page = logged_in_page(owner)
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    page.evaluate("window.__noReload = true")

    add_scene(page, title="Night watch", prompt="", duration=2, camera_notes="locked-off wide", refused=True)

    form = page.get_by_test_id("add-scene-form")
    expect(form.get_by_role("alert")).to_have_text("Describe what happens in the scene.")
    expect(form.get_by_label("Title")).to_have_value("Night watch")
    expect(form.get_by_label("Camera / shot notes")).to_have_value("locked-off wide")
    expect(page.get_by_test_id("frame")).to_have_count(0)
    assert_no_full_reload_since_marked(page)


def test_double_click_renders_once(logged_in_page, owner, scene, live_server):
    page = logged_in_page(owner)
    page.goto(f"{live_server.url}/projects/{scene.project_id}/")
    card = scene_card(page, scene.title)

    card.get_by_test_id("render-button").dblclick()

    finished_take(card)
    # Settled: the fresh render form is back and nothing is still in flight.
    expect(card.get_by_test_id("render-button")).to_be_enabled()
    page.wait_for_load_state("networkidle")
    expect(card.get_by_test_id("take")).to_have_count(1)
    assert Render.objects.filter(scene=scene).count() == 1


class HeldAnswers:
    """Holds the answers to "Add a scene" until the test lets them through: the server has saved the
    scene (and the live channel told every board) but this page has not heard back yet."""

    ADD = re.compile(r"/projects/\d+/scenes/$")

    def __init__(self, page: Page):
        self.page, self.held = page, list[tuple[Route, APIResponse]]()
        page.route(self.ADD, self._hold)

    def _hold(self, route: Route) -> None:
        self.held.append((route, route.fetch()))

    def wait(self) -> None:
        deadline = time.monotonic() + 10
        while not self.held and time.monotonic() < deadline:
            self.page.wait_for_timeout(50)
        assert self.held, "the scene was never sent"

    def stop(self) -> None:
        self.release()
        self.page.unroute(self.ADD)

    def release(self) -> None:
        while self.held:
            route, response = self.held.pop(0)
            route.fulfill(response=response)


@pytest.fixture
def two_boards(browser: Browser, live_server, team, owner, make_member, project):
    """The owner and an editor, each with the board open in their own browser."""
    pages = []
    for user in (owner, make_member(team, Role.EDITOR, "rita")):
        page = browser.new_context().new_page()
        log_in(page, live_server.url, user)
        page.goto(f"{live_server.url}/projects/{project.pk}/")
        page.evaluate("window.__noReload = true")
        pages.append(page)
    for page in pages:  # both streams are open: each page shows the other person (never its own)
        expect(page.get_by_test_id("present")).to_have_count(1, timeout=5_000)
    yield pages
    for page in pages:
        page.context.close()


def test_typing_the_next_scene_at_once_keeps_every_key(two_boards, project):
    mine, theirs = two_boards
    answers = HeldAnswers(mine)
    form = mine.get_by_test_id("add-scene-form")
    form.get_by_label("Title").fill("Dawn")
    form.get_by_label("Prompt").fill("A harbour at dawn, mist on the water.")
    form.get_by_label("Duration (seconds)").fill("6")
    form.get_by_role("button", name="Add scene").click()

    # Saved, and pushed to both boards before this page has its answer.
    answers.wait()
    expect(frame(theirs, "Dawn")).to_have_count(1)
    expect(frame(mine, "Dawn")).to_have_count(1)
    # The form was cleared as it was sent (back to the project's defaults), and the next scene is
    # being typed into it while the answer is on its way.
    expect(form.get_by_label("Prompt")).to_have_value("")
    expect(form.get_by_label("Duration (seconds)")).to_have_value(str(project.default_duration))
    form.get_by_label("Title").press_sequentially("Nets")
    mine.locator("#board-frames").evaluate("list => list.dataset.beforeTheAnswer = 'yes'")
    answers.release()

    expect(mine.locator("#board-frames[data-before-the-answer]")).to_have_count(0)  # the answer is in...
    expect(form.get_by_label("Title")).to_have_value("Nets")  # ...and what was typed stays
    for page in (mine, theirs):
        expect(page.get_by_test_id("frame")).to_have_count(1)  # once: the answer and the push are one frame

    # The next one goes straight through (the answer usually lands before the push this time).
    answers.stop()
    form.get_by_label("Prompt").fill("Fishermen haul nets onto the quay.")
    form.get_by_role("button", name="Add scene").click()
    form.get_by_label("Title").press_sequentially("Gulls")
    expect(form.get_by_label("Prompt")).to_have_value("")
    expect(form.get_by_label("Title")).to_have_value("Gulls")
    for page in (mine, theirs):
        expect(frame(page, "Nets")).to_have_count(1)
        expect(page.get_by_test_id("total-scenes")).to_have_text("2")
    mine.wait_for_timeout(1_000)  # any late push has landed: still one frame each
    for page in (mine, theirs):
        expect(page.get_by_test_id("frame-title")).to_have_text(["Dawn", "Nets"])
        assert page.evaluate("window.__noReload") is True
    assert list(project.scenes.values_list("title", "duration")) == [("Dawn", 6), ("Nets", project.default_duration)]


def test_a_refused_scene_keeps_what_was_typed_before_and_after_sending(logged_in_page, owner, project,
                                                                     live_server):
    page = logged_in_page(owner)
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    answers = HeldAnswers(page)
    form = page.get_by_test_id("add-scene-form")
    form.get_by_label("Title").fill("Night watch")
    form.get_by_label("Camera / shot notes").fill("locked-off wide")
    form.get_by_role("button", name="Add scene").click()
    answers.wait()
    form.get_by_label("Prompt").press_sequentially("A lamp swings in the wind.")
    answers.release()

    expect(form.get_by_role("alert")).to_have_text("Describe what happens in the scene.")
    expect(form.get_by_label("Title")).to_have_value("Night watch")
    expect(form.get_by_label("Camera / shot notes")).to_have_value("locked-off wide")
    expect(form.get_by_label("Prompt")).to_have_value("A lamp swings in the wind.")
    expect(page.get_by_test_id("frame")).to_have_count(0)

    answers.stop()
    form.get_by_role("button", name="Add scene").click()  # now it is complete
    expect(frame(page, "Night watch")).to_have_count(1)
    assert project.scenes.get().prompt == "A lamp swings in the wind."
