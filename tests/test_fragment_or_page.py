"""Back, history restore and boosted requests get the whole page; only htmx's own region requests get a region.

htmx sends `HX-Request: true` with all of them. When Back finds nothing in htmx's history cache it asks
again with `HX-History-Restore-Request: true` and puts the answer in place of the page; a boosted link
or form (`HX-Boosted: true`) does the same. A bare region there is a broken page. Every answer that
depends on these headers says so with `Vary`, so no cache hands one kind of answer to the other kind
of request.
"""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from generation.models import Render, Status
from generation.providers import comfy_workflows, connections
from projects.models import Notification, Role
from projects.review import services as review
from projects.storyboard import services
from projects.teams import services as team_services
from tests.conftest import PASSWORD
from tests.fakes.comfyui_server import FIXTURES as COMFY_FIXTURES
from tests.shared_world import built_once

REGION = {"HTTP_HX_REQUEST": "true"}
BOOSTED = {"HTTP_HX_REQUEST": "true", "HTTP_HX_BOOSTED": "true"}
HISTORY_RESTORE = {"HTTP_HX_REQUEST": "true", "HTTP_HX_HISTORY_RESTORE_REQUEST": "true"}
WHOLE_PAGE = {"boosted": BOOSTED, "history-restore": HISTORY_RESTORE, "plain-visit": {}}


@pytest.fixture(scope="module")
def world(django_db_blocker, tmp_path_factory):
    with built_once(django_db_blocker, tmp_path_factory) as media:
        users = get_user_model().objects
        owner = users.create_user("olive", "olive@example.com", PASSWORD)
        editor = users.create_user("eddie", "eddie@example.com", PASSWORD)
        team = team_services.team_create(name="Harbour Films", owner=owner)
        team.memberships.create(user=editor, role=Role.EDITOR)
        project = services.project_create(team=team, user=owner, name="Harbour Story")
        scene = services.scene_create(project=project, user=owner, title="Dawn", prompt="Mist on the water.",
                                      duration=2, size="1280x720")
        comfy = connections.connection_create(team=team, user=owner, kind="comfyui", label="Studio GPU",
                                              base_url="http://192.168.1.20:8188")
        workflow = comfy_workflows.workflow_upload(connection=comfy, user=owner, name="LTX-Video 2B",
                                                   data=(COMFY_FIXTURES / "ltxv_t2v_api.json").read_bytes())
        local = team.connections.get(kind="local")
        take = Render.objects.create(scene=scene, connection=local, provider="local", model="previz-animatic-1",
                                     recipe={}, status=Status.SUCCEEDED, number=1, created_by=editor)
        review.comment_add(take=take, author=owner, body="@eddie the mist", at=1)
        yield {"media": media, "owner": owner, "editor": editor, "team": team.pk, "project": project.pk, "scene": scene.pk,
               "comfy": comfy.pk, "workflow": workflow.pk, "local": local.pk,
               "notification": Notification.objects.get(recipient=editor).pk}


@pytest.fixture(autouse=True)
def _world_files(settings, world):
    settings.MEDIA_ROOT = world["media"]


# Every page with a region htmx asks for by GET: (address, who asks, what only the region holds).
PAGES = {
    "scene_panel": ("/projects/{project}/scenes/{scene}/", "editor", 'id="scene-panel"'),
    "project_activity": ("/projects/{project}/activity/", "editor", 'id="feed"'),
    "export_list": ("/projects/{project}/exports/", "editor", 'id="exports"'),
    "batch_render": ("/projects/{project}/render/", "editor", 'id="batch-plan"'),
    "scene_retarget": ("/projects/{project}/retarget/", "editor", 'id="retarget-plan"'),
    "character_list": ("/teams/{team}/characters/", "editor", 'id="character-grid"'),
    "workflow_map": ("/teams/{team}/connections/{comfy}/workflows/{workflow}/", "owner", 'id="mapping"'),
    # The owners' model changes on a connection's Models page ("Show what it found" when a check ends).
    "connection_catalog": ("/teams/{team}/connections/{comfy}/catalog/", "owner", 'data-testid="catalog-changes"'),
}


def _get(client, world, name, headers):
    url, who, _marker = PAGES[name]
    client.force_login(world[who])
    return client.get(url.format(**world), **headers)


def _varies_on_htmx(response) -> bool:
    vary = {v.strip().lower() for v in response.get("Vary", "").split(",")}
    return {"hx-request", "hx-boosted", "hx-history-restore-request"} <= vary


@pytest.mark.parametrize("name", PAGES)
def test_an_htmx_region_request_gets_the_region_alone(client, db, world, name):
    response = _get(client, world, name, REGION)
    html = response.content.decode()
    assert response.status_code == 200
    assert PAGES[name][2] in html and "<html" not in html
    assert _varies_on_htmx(response)


@pytest.mark.parametrize("headers", WHOLE_PAGE.values(), ids=WHOLE_PAGE)
@pytest.mark.parametrize("name", PAGES)
def test_back_history_restore_boosted_and_plain_visits_get_the_whole_page(client, db, world, name, headers):
    response = _get(client, world, name, headers)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().lower().startswith("<!doctype html>") and "<html" in html and "</html>" in html
    assert PAGES[name][2] in html  # the region, inside its page
    assert _varies_on_htmx(response)


def test_the_scenes_old_address_sends_back_and_boosted_visits_to_the_board_with_the_panel_open(client, db, world):
    client.force_login(world["editor"])
    old = reverse("projects:scene_card", args=[world["scene"]])
    panel = reverse("projects:scene_panel", args=[world["project"], world["scene"]])
    for headers in (HISTORY_RESTORE, BOOSTED):
        response = client.get(old, **headers)
        assert (response.status_code, response.url) == (302, panel)
        assert _varies_on_htmx(response)
    region = client.get(old, **REGION)
    assert region.status_code == 200 and "<html" not in region.content.decode()


# Forms htmx posts for a region answer; boosted, the same form is a page visit: the redirect after it.
POSTS = {
    "scene_move": ("/scenes/{scene}/move/down/", {}, 'id="board"'),
    "export_create": ("/projects/{project}/exports/new/", {"idempotency_key": "{key}"}, 'id="exports"'),
    "render_create": ("/scenes/{scene}/renders/", {"target": "{local}:no-such-model", "idempotency_key": "{key}"},
                      'data-testid="takes"'),
    "notification_read": ("/inbox/{notification}/read/", {}, 'data-testid="notification"'),
}


def _post(client, world, name, headers):
    url, data, _marker = POSTS[name]
    client.force_login(world["editor"])
    values = {**world, "key": uuid.uuid4()}
    return client.post(url.format(**values), {k: v.format(**values) for k, v in data.items()}, **headers)


@pytest.mark.parametrize("name", POSTS)
def test_a_form_htmx_posts_gets_its_region_and_a_boosted_one_the_redirect_to_its_page(client, db, world, name):
    region = _post(client, world, name, REGION)
    assert region.status_code == 200
    assert POSTS[name][2] in region.content.decode() and "<html" not in region.content.decode()
    assert _varies_on_htmx(region)

    boosted = _post(client, world, name, BOOSTED)
    assert boosted.status_code == 302
    assert _varies_on_htmx(boosted)
