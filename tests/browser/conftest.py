"""Browser tests: headless Debian Chromium driven by Playwright against a live server.

Every test in this folder is marked `browser` (select with `-m browser`, skip
with `-m "not browser"`). Celery runs eagerly unless a test asks for
`real_worker` (tests/worker.py): then a separate worker process renders takes
while the page polls. Playwright cannot download its own browsers here, so
the tests launch the system `chromium`, and are skipped when it is missing.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse
from playwright.sync_api import FloatRect, Locator, Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.conftest import PASSWORD, studio_test_settings, tasks_inline

# Playwright's sync API runs an event loop in the test thread; Django would
# otherwise refuse the test's own ORM calls (factories, assertions) there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

HERE = Path(__file__).resolve().parent

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# Long enough for a previz render on a slow machine; short enough to fail fast.
expect.set_options(timeout=10_000)


def pytest_collection_modifyitems(config, items):
    def in_browser_folder(item) -> bool:
        return HERE in Path(str(item.fspath)).resolve().parents

    for item in items:
        if in_browser_folder(item):
            item.add_marker(pytest.mark.browser)
    # Browser tests run last: Playwright's sync API keeps an event loop running in the test
    # thread until the session ends, and async_to_sync (an async view through the test
    # client, e.g. /healthz) refuses to run in a thread that has one.
    items.sort(key=in_browser_folder)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Browser tests need Debian's chromium on PATH (apt-get install chromium).")
    return {
        **browser_type_launch_args,
        "executable_path": chromium,
        "args": CHROMIUM_ARGS,
        "headless": True,
    }


@pytest.fixture(autouse=True)
def _migrated_data(request):
    """live_server tests are transactional: each one starts with the shipped catalog. A test that only
    reads what a module's sweep found (`committed_world`) touches no database and is not flushed."""
    if "live_server" in request.fixturenames:
        request.getfixturevalue("migrated_data")


@pytest.fixture(autouse=True)
def _live_streams_end_before_the_database_is_flushed(request):
    """A page's live stream ends when the server next writes to it after the browser left (a
    keep-alive): make that soon, and wait for every stream to end after the test's pages have
    closed. A stream still writing presence while the test database is flushed deadlocks
    PostgreSQL's TRUNCATE, and would touch the next test's data.

    A test opens a second person's browser with the `new_context` fixture, which closes it when the
    test ends. A context opened with `browser.new_context()` and left open would keep its pages
    streaming from the live server into every later test (and hold this wait to its deadline)."""
    if "live_server" not in request.fixturenames:
        yield  # a reader of a sweep's findings: no server, no page of its own
        return
    request.getfixturevalue("transactional_db")
    request.getfixturevalue("settings").LIVE_KEEPALIVE_SECONDS = 0.3
    browser = request.getfixturevalue("browser")
    yield
    left_open = list(browser.contexts)
    for context in left_open:
        context.close()
    streams_end()
    assert not left_open, "the test left browser contexts open: open them with the `new_context` fixture"


def streams_end() -> None:
    """Every page is closed: their streams end now rather than at their next keep-alive (up to two
    keep-alives when the first write after the browser left still succeeds), ~0.4 s per test."""
    from projects.live.hub import hub

    hub().end_all()
    deadline = time.monotonic() + 15
    while hub().watching() and time.monotonic() < deadline:
        time.sleep(0.05)
    # Each stream's goodbye (presence) committed before it stopped watching; a keep-alive begun just
    # before could still be writing a departed page's presence: wait for it, not a fixed 0.2 s.
    hub().settle()


@contextmanager
def committed_world(request, django_db_blocker, tmp_path_factory) -> Iterator[LiveServer]:
    """For a module-scoped fixture that builds its world once and sweeps its pages, each page then
    reported by a test of its own that only reads what the sweep found: the live server, with the
    database open to the fixture and the tests' settings. The world is committed rows, flushed when the
    sweep is done (the fixture closes its browser contexts first), as a transactional test's teardown
    would; the shipped rows come back with the flush (tests/worker.py)."""
    request.getfixturevalue("django_db_setup")
    # Asked for here, not by the tests: a test whose fixtures name `live_server` is made transactional
    # (flushed after it) by pytest-django, and these tests only read what the sweep found.
    live_server = request.getfixturevalue("live_server")
    with django_db_blocker.unblock(), override_settings(**studio_test_settings(tmp_path_factory),
                                                       LIVE_KEEPALIVE_SECONDS=0.3), tasks_inline():
        live_server._live_server_modified_settings.enable()
        try:
            yield live_server
        finally:
            streams_end()
            live_server._live_server_modified_settings.disable()
            call_command("flush", interactive=False, verbosity=0)


def box_of(locator: Locator) -> FloatRect:
    """Where the element is drawn; it must be (Playwright says None for an element that is not)."""
    box = locator.bounding_box()
    assert box is not None, f"{locator} is not drawn"
    return box


def log_in_through_the_form(page: Page, base_url: str, user, password: str = PASSWORD) -> Page:
    """Log a user in through the real login form; returns the page on the project list.

    One journey per role signs in this way (tests/browser/test_audit_journey.py: an owner, an editor,
    a viewer; tests/browser/test_delivery_journey.py: a reviewer); the others use `log_in`."""
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(user.get_username())
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".topbar .user")).to_have_text(user.get_username())
    return page


def log_in(page: Page, base_url: str, user) -> Page:
    """Sign a user in with a session the server made, as the login form would (the same `login()`,
    its signals: the account's language, the access log); returns the page on the project list.

    The form's round trip (its page, the typing, the post and the redirect) cost ~0.5 s of every
    browser test that signs someone in; the form itself stays covered by `log_in_through_the_form`."""
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base_url,
                               "httpOnly": True, "sameSite": "Lax"}])
    page.goto(base_url + reverse(settings.LOGIN_REDIRECT_URL))
    expect(page.locator(".topbar .user")).to_have_text(user.get_username())
    return page


@pytest.fixture
def logged_in_page(page: Page, live_server):
    """log_in on the test's own page."""
    return lambda user: log_in(page, live_server.url, user)
