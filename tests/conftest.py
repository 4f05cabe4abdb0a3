"""Shared fixtures: small factories, team members by role, eager Celery."""

from __future__ import annotations

import itertools
import uuid
from contextlib import contextmanager

import pytest
from django.contrib.auth import get_user_model
from django.utils import translation

from projects.models import Membership, Role
from projects.storyboard import services
from projects.teams import services as team_services
from studio_site.celery import app as celery_app

# Fixtures shared across test packages: the strict fake providers and the real Celery worker;
# what keeps parallel test workers apart (tests/parallel.py) and hands them the longest files first
# (tests/ordering.py).
pytest_plugins = [
    "tests.fakes.provider_server", "tests.fakes.fal_server", "tests.fakes.runway_server",
    "tests.fakes.veo_server", "tests.fakes.interactions_server", "tests.fakes.vertex_server", "tests.fakes.comfyui_server", "tests.fakes.countdowns", "tests.fakes.lax_gateway",
    "tests.worker", "tests.parallel", "tests.ordering",
]

# What the tests allow OUTBOUND_ALLOWED_PRIVATE_ADDRESSES: this machine, where the fakes listen.
LOOPBACK = ["127.0.0.0/8", "::1"]


_test_folders = itertools.count()


def studio_test_settings(tmp_path_factory) -> dict:
    """The settings every test runs with (a test changes more with the `settings` fixture); also
    what a module-scoped fixture builds its data under (tests/test_hostile_input.py)."""
    from django.conf import settings

    # Numbered here: tmp_path_factory.mktemp() lists every folder made so far to number the next,
    # which cost ~20 s of CPU over a run's ~8,500 of them.
    test = next(_test_folders)
    media, scratch = (tmp_path_factory.getbasetemp() / kind / str(test) for kind in ("media", "scratch"))
    media.mkdir(parents=True)
    scratch.mkdir(parents=True)
    return {
        "STORAGES": {**settings.STORAGES,
                     "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}},
        "MEDIA_ROOT": str(media),
        "STUDIO_TMP_DIR": scratch,
        "C2PA_DIR": tmp_path_factory.getbasetemp() / "c2pa",  # one local CA per run (per xdist worker)
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
        # A fresh cache per test: throttle counts (guest passwords, reset emails)
        # never carry from one test to the next, even when CI points CACHES at Redis.
        "CACHES": {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                               "LOCATION": f"test-{uuid.uuid4().hex}"}},
        # The strict fake providers listen on loopback: the tests allow it, as an operator would allow a
        # ComfyUI box on the LAN. Production allows nothing private (tests/test_outbound_default.py).
        "OUTBOUND_ALLOWED_PRIVATE_ADDRESSES": LOOPBACK,
    }


@contextmanager
def tasks_inline():
    """Unit tests run tasks inline; integration tests start a real worker."""
    celery_app.conf.task_always_eager = True
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = False


@pytest.fixture(autouse=True)
def _each_test_ends_in_the_default_language():
    """A request from a French browser leaves French active in the test's thread (the test client runs the view
    there): the next test in the same worker must not read its refusals in French."""
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _studio_settings(settings, tmp_path_factory):
    for name, value in studio_test_settings(tmp_path_factory).items():
        setattr(settings, name, value)
    with tasks_inline():
        yield


@pytest.fixture(autouse=True)
def _session_use_minute_held(monkeypatch):
    """A signed-in session is saved again when a request falls in a new minute (the idle timeout
    slides). Counted queries must not depend on whether a slow run crossed a minute: each test's
    minute stands still (a test of the idle timeout marks its session with another minute)."""
    from studio_site import accounts

    minute = accounts.idle_minute()
    monkeypatch.setattr(accounts, "idle_minute", lambda: minute)


@pytest.fixture(scope="session", autouse=True)
def _live_reader_stops_before_the_test_database_goes(django_db_setup, django_db_blocker):
    """The live channel's reader thread (started by any test that opens a stream) holds a database
    connection: it is closed before pytest-django drops the test database."""
    yield
    from projects.live.hub import hub

    hub().stop()


PASSWORD = "correct horse battery staple"


@pytest.fixture
def make_user(db):
    def make(username=None, **extra):
        username = username or f"user-{uuid.uuid4().hex[:8]}"
        return get_user_model().objects.create_user(
            username=username, email=f"{username}@example.com", password=PASSWORD, **extra
        )

    return make


@pytest.fixture
def make_team(make_user):
    def make(name="Team", owner=None):
        return team_services.team_create(name=name, owner=owner or make_user())

    return make


@pytest.fixture
def make_member(make_user):
    def make(team, role=Role.EDITOR, username=None):
        user = make_user(username)
        Membership.objects.create(team=team, user=user, role=role)
        return user

    return make


@pytest.fixture
def team(make_team):
    return make_team("Harbour Films")


@pytest.fixture
def owner(team):
    return team.memberships.get(role=Role.OWNER).user


@pytest.fixture
def editor(team, make_member):
    return make_member(team, Role.EDITOR, "eddie")


@pytest.fixture
def reviewer(team, make_member):
    return make_member(team, Role.REVIEWER, "rita")


@pytest.fixture
def viewer(team, make_member):
    return make_member(team, Role.VIEWER, "vic")


@pytest.fixture
def outsider(make_team, make_user):
    """A user of another team: every object of `team` must be a 404 to them."""
    user = make_user("mallory")
    make_team("Rival Pictures", owner=user)
    return user


@pytest.fixture
def project(team, owner):
    return services.project_create(team=team, user=owner, name="Harbour Story")


@pytest.fixture
def make_scene(project, owner):
    def make(title="Dawn", prompt="A harbour at dawn, mist on the water.", duration=2,
             size="1280x720", camera_notes="slow push-in", project=project):
        return services.scene_create(
            project=project, user=owner, title=title, prompt=prompt, duration=duration,
            size=size, camera_notes=camera_notes,
        )

    return make


@pytest.fixture
def scene(make_scene):
    return make_scene()


@pytest.fixture
def client_for(client):
    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def render_take(django_capture_on_commit_callbacks, editor):
    """Render a scene to completion with the previz provider, inline."""
    from generation.renders import services as generation

    def render(scene, *, user=None, key=None):
        with django_capture_on_commit_callbacks(execute=True):
            take, _ = generation.render_create(
                scene=scene, user=user or editor, connection=scene.project.team.connections.get(kind="local"),
                model_id="previz-animatic-1", idempotency_key=key or uuid.uuid4(),
            )
        take.refresh_from_db()
        return take

    return render


@pytest.fixture(scope="session")
def _encoded_animatics(tmp_path_factory):
    from tests.factories import EncodedAnimatics

    return EncodedAnimatics(tmp_path_factory.mktemp("encoded-animatics"))


@pytest.fixture
def finished_take(render_take, _encoded_animatics):
    """`render_take` without the encode: a real finished, signed take whose video bytes are copied
    from one encoded earlier in the session (tests/factories.py). For tests where a finished take
    must exist but its pictures do not matter: permissions, comments, approvals, pages, totals."""

    def finish(scene, **options):
        with _encoded_animatics.in_use():
            return render_take(scene, **options)

    return finish


@pytest.fixture
def previz_without_encode(_encoded_animatics):
    """Every previz take of the test is finished as `finished_take` does: for tests that book takes
    through a page, a batch or a re-render, where the pictures do not matter."""
    with _encoded_animatics.in_use():
        yield


@pytest.fixture
def remixable_previz(db):
    """The previz as a model that remixes: it draws whatever prompt the remix's recipe holds, so
    remix rules (who may remix what) can be exercised offline. The shipped previz does not remix."""
    from generation.models import CatalogModel

    CatalogModel.objects.filter(kind="local", model_id="previz-animatic-1").update(supports_remix=True)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    # A file (not :memory:) so a real worker process can share the SQLite test
    # database, and one per run (and per xdist worker) so runs never collide.
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        database.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.getbasetemp() / "test-studio.sqlite3")


def priced_gateway_create(*, team, owner):
    """An OpenAI-format gateway whose one model, Wan 2.7, renders 4 s at 1280x720 for $0.50 a second.

    Its base URL answers nothing: for tests that book takes without sending them."""
    from generation.providers import connections

    connection = connections.connection_create(team=team, user=owner, kind="openai-videos", label="Gateway",
                                               base_url="http://127.0.0.1:9/v1", api_key="sk-test")
    connections.catalog_register_model(connection=connection, model_id="wan-2.7", display_name="Wan 2.7",
                                       sizes=["1280x720"], durations=[4], price_per_second=0.5)
    return connection


@pytest.fixture
def priced_gateway(team, owner):
    return priced_gateway_create(team=team, owner=owner)
