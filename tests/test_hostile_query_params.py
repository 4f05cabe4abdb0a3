"""Hostile query strings: every query parameter every page reads, sent values nobody types.

Each page is asked with each of its query parameters set to a superscript or full-width digit,
Arabic-Indic digits, numbers past bigint, negative numbers, zero, NUL and other control characters,
100 000 characters, the parameter twice, unicode, a broken percent-escape, and another team's ids.
The studio answers each with a page or a clear 4xx, never a 500, and never with another team's data.

Ids in an address or a query string are read by one helper (projects.inputs.parse_id / id_or_404):
ASCII digits only, within bigint. `"²".isdigit()` is true and `int("²")` fails; `int("１２")` is 12.

The world is built once for the module (tests/shared_world.py): several hundred requests read it.
tests/test_hostile_input.py sweeps form fields (POST) and path segments.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from generation.models import Render, Status
from generation.providers import connections
from projects.characters import consent
from projects.models import CharacterKind, Role
from projects.storyboard import services
from projects.teams import services as team_services
from tests.conftest import PASSWORD
from tests.factories import photo
from tests.shared_world import built_once

ROOT = Path(__file__).resolve().parent.parent
BAD_ESCAPE = object()  # a raw `%FF` in the query string: not UTF-8

HOSTILE = {
    "superscript": "²",
    "full-width": "１２",
    "arabic-indic": "١٧",
    "huge": str(10**30),
    "past-bigint": str(2**63),
    "negative": "-1",
    "zero": "0",
    "float": "1.5",
    "exponent": "1e309",
    "nul": "1\x00",
    "control": "a\x1bb",
    "long": "9" * 100_000,
    "list": ["1", "2"],
    "unicode": "e\u0301 🎬 \u202edlrow",
    "empty": "",
    "bad-utf8": BAD_ESCAPE,
}


@pytest.fixture(scope="module")
def world(django_db_blocker, tmp_path_factory):
    """Our team (an owner and an editor, a project with two scenes and a finished take each, a
    character, a priced gateway) and a rival team with the same, under names that must never show."""
    with built_once(django_db_blocker, tmp_path_factory) as media:
        users = get_user_model().objects
        owner = users.create_user("olive", "olive@example.com", PASSWORD)
        editor = users.create_user("eddie", "eddie@example.com", PASSWORD)
        rival = users.create_user("mallory", "mallory@example.com", PASSWORD)
        ours, rivals = _team(owner, "Harbour Films", "Harbour Story", "Dawn"), \
            _team(rival, "Rival Pictures", "Kraken Conspiracy", "Kraken Night")
        ours["team"].memberships.create(user=editor, role=Role.EDITOR)
        yield {"media": media, "owner": owner, "editor": editor, "ours": ours, "rival": rivals,
               # What only the rival team's pages hold: none of it may appear on ours.
               "secrets": ["Kraken Conspiracy", "Kraken Night", "Rival Gateway", "Zorblax",
                           f"/projects/{rivals['project'].pk}/", f"/characters/{rivals['character'].pk}/",
                           f"/takes/{rivals['take'].pk}/", f"/takes/{rivals['retake'].pk}/"]}


@pytest.fixture(autouse=True)
def _world_files(settings, world):
    settings.MEDIA_ROOT = world["media"]


def _team(owner, team_name, project_name, title):
    team = team_services.team_create(name=team_name, owner=owner)
    project = services.project_create(team=team, user=owner, name=project_name)
    scene = services.scene_create(project=project, user=owner, title=title, prompt="Mist on the water.", duration=2,
                                  size="1280x720")
    services.scene_create(project=project, user=owner, title=f"{title} II", prompt="Gulls.", duration=2,
                          size="1280x720")
    services.scene_set_reference(scene=scene, user=owner, upload=photo("harbour.png"), fit="crop")
    local = team.connections.get(kind="local")
    take, retake = (Render.objects.create(scene=scene, connection=local, provider="local", model="previz-animatic-1",
                                          recipe={}, status=Status.SUCCEEDED, number=n, created_by=owner,
                                          duration_seconds=2.0) for n in (1, 2))
    gateway = connections.connection_create(team=team, user=owner, kind="openai-videos",
                                            label="Rival Gateway" if "Rival" in team_name else "Our Gateway",
                                            base_url="http://127.0.0.1:9/v1", api_key="sk-test")
    connections.catalog_register_model(connection=gateway, model_id="wan-2.7", display_name="Wan 2.7",
                                       sizes=["1280x720"], durations=[2], price_per_second=0.5)
    name = "Zorblax" if "Rival" in team_name else "Ada"
    character = consent.character_create(team=team, user=owner, name=name, kind=CharacterKind.FICTIONAL,
                                         images=[photo()], declares_fictional=True)
    return {"team": team, "project": project, "scene": scene, "take": take, "retake": retake, "local": local,
            "gateway": gateway, "character": character}


def _ids(team: dict) -> dict:
    return {"team": team["team"].pk, "project": team["project"].pk, "scene": team["scene"].pk,
            "take": team["take"].pk, "retake": team["retake"].pk, "character": team["character"].pk,
            "target": f"{team['local'].pk}:previz-animatic-1", "gateway": f"{team['gateway'].pk}:wan-2.7"}


# Every page that reads a query parameter: its address, who asks, the parameters it reads, the valid
# values the other parameters keep, and which of them name a row (sent the rival team's row too).
PAGES = {
    # The board's filter: words, a status, a cast member (the rival's character finds nothing of ours).
    "project_detail": ("/projects/{project}/", "editor", ("view", "undo", "q", "status", "cast"), {},
                       {"cast": "{character}"}),
    "board_page": ("/projects/{project}/frames/", "editor", ("after", "q", "status", "cast"), {},
                   {"cast": "{character}"}),
    "scene_compare": ("/scenes/{scene}/compare/", "editor", ("a", "b"), {"a": "{retake}", "b": "{take}"},
                      {"a": "{take}", "b": "{retake}"}),
    "project_activity": ("/projects/{project}/activity/", "editor", ("kind", "scene", "scene_q", "before"), {},
                         {"scene": "{scene}"}),
    "character_list": ("/teams/{team}/characters/", "editor", ("q",), {}, {}),
    "scene_reference_image": ("/scenes/{scene}/reference/crop/", "editor", ("size",), {}, {}),
    "project_changes": ("/projects/{project}/changes/", "editor", ("after",), {}, {}),
    "project_events": ("/projects/{project}/events/", "editor", ("after", "client"), {}, {}),
    "team_events": ("/teams/{team}/events/", "editor", ("after", "client"), {}, {}),
    "team_spend": ("/teams/{team}/spend/", "owner", ("month", "start", "end", "by", "scene_page"), {}, {}),
    "team_spend_csv": ("/teams/{team}/spend.csv", "owner", ("month", "start", "end", "by"), {}, {}),
    "project_spend": ("/projects/{project}/spend/", "editor", ("month", "start", "end", "by", "scene_page"), {}, {}),
    "project_spend_csv": ("/projects/{project}/spend.csv", "editor", ("month", "start", "end", "by"), {}, {}),
    "batch_render": ("/projects/{project}/render/", "editor", ("target", "scope", "scene", "takes", "left_out"),
                     {"target": "{target}", "scope": "selected", "scene": "{scene}"},
                     {"target": "{target}", "scene": "{scene}"}),
    "scene_retarget": ("/projects/{project}/retarget/", "editor", ("scene", "from", "target"),
                       {"scene": "{scene}", "target": "{gateway}"},
                       {"scene": "{scene}", "from": "{target}", "target": "{gateway}"}),
    "render_preview": ("/scenes/{scene}/renders/preview/", "editor", ("target",), {"target": "{target}"},
                       {"target": "{target}"}),
    # "Extend by N s": what the chosen length would send and cost (the form asks as the choice changes).
    "render_extend_preview": ("/takes/{take}/extend/preview/", "editor", ("choice",), {}, {}),
    "login": ("/login/", None, ("next",), {}, {}),
    "export_list": ("/projects/{project}/exports/", "editor", ("page", "included", "left_out"), {}, {}),
}
# Where a page reads its query parameters other than by name at the call (spend.period_from reads
# month, start, end and by from the query it is given; the batch and re-target pages read theirs
# from `choices`, the query or the form posted).
READ_ELSEWHERE = {"month", "start", "end", "by", "next"}
# The load balancer's probe: ?format=json picks JSON over text, and it answers 503 whenever a dependency
# is down (as here, without a broker), so "never a 5xx" cannot apply to it (tests/operations cover it).
PROBES = {"format"}


def _query(params: dict, hostile_name: str, value) -> str:
    kept = urlencode({k: v for k, v in params.items() if k != hostile_name})
    raw = f"{hostile_name}=%FF" if value is BAD_ESCAPE else urlencode({hostile_name: value}, doseq=True)
    return "&".join(part for part in (kept, raw) if part)


def _ask(client, world, page_name: str, query: str):
    url, who, *_ = PAGES[page_name]
    if who:
        client.force_login(world[who])
    response = client.get(url.format(**_ids(world["ours"])) + "?" + query)
    if response.streaming:
        # A live stream reads its query before its first byte; its body runs until the browser leaves
        # (left unread here). The spend CSV streams what it has read: all of it.
        body = b"" if page_name.endswith("_events") else b"".join(response.streaming_content)
    else:
        body = response.content
    return response.status_code, body.decode("utf-8", "replace")


def _leaks(world, body: str) -> list[str]:
    return [secret for secret in world["secrets"] if secret in body]


CASES = [pytest.param(page_name, name, id=f"{page_name}-{name}") for page_name, spec in PAGES.items() for name in spec[2]]


@pytest.mark.parametrize(("page_name", "name"), CASES)
def test_no_hostile_query_value_causes_a_500_or_shows_another_teams_data(client, db, world, page_name, name):
    client.raise_request_exception = False  # a crash is a 500 response, reported with its case
    base = {k: v.format(**_ids(world["ours"])) for k, v in PAGES[page_name][3].items()}
    problems = []
    for value_id, value in HOSTILE.items():
        status, body = _ask(client, world, page_name, _query(base, name, value))
        if status >= 500:
            problems.append(f"{value_id}: {status}")
        elif leaked := _leaks(world, body):
            problems.append(f"{value_id}: shows {leaked}")
    assert problems == [], f"GET {PAGES[page_name][0]}?{name}=…"


ROW_CASES = [pytest.param(page_name, name, id=f"{page_name}-{name}") for page_name, spec in PAGES.items() for name in spec[4]]


@pytest.mark.parametrize(("page_name", "name"), ROW_CASES)
def test_another_teams_row_in_a_query_parameter_shows_nothing_of_it(client, db, world, page_name, name):
    """The same parameter names our row (the control: the page shows it) and the rival's (nothing of it)."""
    client.raise_request_exception = False
    ours, theirs = _ids(world["ours"]), _ids(world["rival"])
    base = {k: v.format(**ours) for k, v in PAGES[page_name][3].items()}
    template = PAGES[page_name][4][name]
    status, _body = _ask(client, world, page_name, _query(base, name, template.format(**ours)))
    assert status == 200
    status, body = _ask(client, world, page_name, _query(base, name, template.format(**theirs)))
    assert status in {200, 400, 404}
    assert _leaks(world, body) == []


def test_every_query_parameter_a_page_reads_is_swept():
    """Reading a new query parameter (`request.GET.get("x")`, a `choices.get("x")` of a page built from
    the query) means adding it to PAGES above."""
    read = set()
    pattern = re.compile(r"""(?:request\.GET|choices)(?:\.get|\.getlist|\.__getitem__)?[\[(]\s*["'](\w+)["']""")
    for path in [*ROOT.glob("projects/**/*.py"), *ROOT.glob("generation/**/*.py"), *ROOT.glob("studio_site/*.py")]:
        read |= set(pattern.findall(path.read_text()))
    swept = {name for spec in PAGES.values() for name in spec[2]}
    assert read, "the pattern found no query parameter at all"
    assert read - PROBES <= swept, f"Add these query parameters to PAGES: {sorted(read - PROBES - swept)}"
    assert READ_ELSEWHERE <= swept


# --- what the person sees -----------------------------------------------------------------------

@pytest.mark.parametrize("scene_id", ["²", "１", "١", str(10**30), "-1", "0", "1.0", ""])
def test_render_scenes_for_a_scene_id_that_cannot_exist_is_a_404_not_a_500(client, db, world, scene_id):
    client.force_login(world["editor"])
    response = client.get(reverse("generation:batch_render", args=[world["ours"]["project"].pk]),
                          {"scope": "selected", "scene": scene_id})
    assert response.status_code == 404
    assert "This page isn't here" in response.content.decode()


def test_render_scenes_for_the_scenes_chosen_on_the_board_plans_them(client, db, world):
    client.force_login(world["editor"])
    response = client.get(reverse("generation:batch_render", args=[world["ours"]["project"].pk]),
                          {"scope": "selected", "scene": world["ours"]["scene"].pk})
    assert response.status_code == 200
    assert "The 1 scene selected on the storyboard" in response.content.decode()


@pytest.mark.parametrize("scene_id", ["²", "１", str(10**30)])
def test_change_model_for_a_scene_id_that_cannot_exist_is_a_404(client, db, world, scene_id):
    client.force_login(world["editor"])
    response = client.get(reverse("generation:scene_retarget", args=[world["ours"]["project"].pk]),
                          {"scene": scene_id})
    assert response.status_code == 404


def test_compare_reads_only_ascii_digits_as_a_take(client, db, world):
    """`int("１")` is 1: a take id written in full-width digits is not an id."""
    client.force_login(world["editor"])
    take, retake = world["ours"]["take"].pk, world["ours"]["retake"].pk
    url = reverse("projects:scene_compare", args=[world["ours"]["scene"].pk])
    assert client.get(url, {"a": str(take), "b": str(retake)}).status_code == 200
    full_width = str(take).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert client.get(url, {"a": full_width, "b": str(retake)}).status_code == 404
    assert client.get(url, {"a": "²", "b": str(retake)}).status_code == 404
