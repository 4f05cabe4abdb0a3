"""The activity page at any length of history: pages of entries from a (time, id) cursor, and a
scene filter that finds scenes by number or title instead of listing every scene."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from projects.models import Activity, ActivityKind
from projects.selectors import review as review_selectors
from tests.realistic import add_history, build_project

HX = {"HTTP_HX_REQUEST": "true"}


def url_of(project) -> str:
    return reverse("projects:project_activity", args=[project.pk])


def texts(response) -> list[str]:
    """Each entry's words, newest first, as the page (or the htmx fragment) shows them."""
    return re.findall(r'data-testid="activity-entry".*?</strong> ([^<\n]*)', response.content.decode(), re.S)


def older_href(response) -> str:
    found = re.search(r'href="(\?[^"]*)"[^>]*data-testid="activity-older"', response.content.decode())
    assert found, "the page offers no older activity"
    return found[1].replace("&amp;", "&")


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(review_selectors, "ACTIVITY_PAGE", 3)


def feed(project, count, *, at=None, kind=ActivityKind.COMMENT, scene=None, prefix="entry"):
    """`count` entries, the first the oldest; all at the same instant when `at` is given."""
    start = timezone.now() - timedelta(hours=1)
    return Activity.objects.bulk_create([
        Activity(project=project, kind=kind, scene=scene, text=f"{prefix} {i + 1}",
                 at=at or start + timedelta(seconds=i)) for i in range(count)])


def test_older_activity_continues_where_the_page_ended(client_for, viewer, project, small_pages):
    project.activity.all().delete()
    feed(project, 7)
    client = client_for(viewer)
    first = client.get(url_of(project))
    assert texts(first) == ["entry 7", "entry 6", "entry 5"]

    second = client.get(url_of(project) + older_href(first), **HX)  # "Older activity", as htmx asks
    assert second.status_code == 200
    assert texts(second) == ["entry 4", "entry 3", "entry 2"]
    assert 'id="feed"' not in second.content.decode()  # entries to append, not a new feed
    third = client.get(url_of(project) + older_href(second))  # without JavaScript: a page of its own
    assert texts(third) == ["entry 1"]
    assert 'data-testid="activity-older"' not in third.content.decode()
    assert 'data-testid="activity-newest"' in third.content.decode()


def test_entries_of_the_same_instant_are_neither_repeated_nor_skipped_between_pages(
        client_for, viewer, project, small_pages):
    project.activity.all().delete()
    feed(project, 8, at=timezone.now())
    client, seen, response = client_for(viewer), [], client_for(viewer).get(url_of(project))
    while True:
        seen += texts(response)
        if 'data-testid="activity-older"' not in response.content.decode():
            break
        response = client.get(url_of(project) + older_href(response), **HX)
    assert sorted(seen) == sorted(f"entry {i}" for i in range(1, 9)) and len(seen) == 8


def test_an_entry_added_while_someone_reads_does_not_shift_the_next_page(client_for, viewer, project, small_pages):
    project.activity.all().delete()
    feed(project, 6)
    client = client_for(viewer)
    first = client.get(url_of(project))
    feed(project, 1, at=timezone.now(), prefix="newer")
    assert texts(client.get(url_of(project) + older_href(first), **HX)) == ["entry 3", "entry 2", "entry 1"]


def test_older_activity_keeps_the_kind_and_the_scene_search(client_for, viewer, project, make_scene, small_pages):
    pier, dawn = make_scene(title="Pier"), make_scene(title="Dawn chorus")
    project.activity.all().delete()
    feed(project, 4, scene=pier, prefix="pier")
    feed(project, 4, scene=dawn, prefix="dawn")
    feed(project, 4, scene=pier, kind=ActivityKind.APPROVED, prefix="approved pier")
    client = client_for(viewer)
    first = client.get(url_of(project), {"kind": "comments", "scene_q": "pier"})
    assert texts(first) == ["pier 4", "pier 3", "pier 2"]
    assert texts(client.get(url_of(project) + older_href(first), **HX)) == ["pier 1"]


def test_a_scene_is_found_by_its_number_or_words_of_its_title(client_for, viewer, project, make_scene):
    scenes = [make_scene(title=title) for title in ("Harbour at dawn", "Storm", "Night harbour")]
    project.activity.all().delete()
    for scene in scenes:
        feed(project, 1, scene=scene, prefix=scene.title)
    client = client_for(viewer)
    assert texts(client.get(url_of(project), {"scene_q": "HARBOUR"})) == ["Night harbour 1", "Harbour at dawn 1"]
    assert texts(client.get(url_of(project), {"scene_q": str(scenes[1].number)})) == ["Storm 1"]
    nothing = client.get(url_of(project), {"scene_q": "lighthouse"})
    assert texts(nothing) == [] and "No activity for a scene matching “lighthouse”." in nothing.content.decode()


def test_the_scene_filter_lists_no_scenes_however_many_there_are(client_for, viewer, project, make_scene):
    def filters_html():
        page = client_for(viewer).get(url_of(project)).content.decode()
        return re.search(r'<form[^>]*data-testid="activity-filters".*?</form>', page, re.S)[0]

    make_scene(title="Opening")
    with_one = filters_html()
    for i in range(30):
        make_scene(title=f"Scene title {i}")
    assert filters_html() == with_one
    assert "Opening" not in with_one and 'name="scene_q"' in with_one


def test_a_doctored_link_to_older_activity_is_a_404(client_for, viewer, project):
    client = client_for(viewer)
    for token in ("yesterday", "1.2.3", "0.5", f"{2**63}.1", f"{2**62}.1", "١٧.١", "1e309", "12"):
        assert client.get(url_of(project), {"before": token}).status_code == 404, token


def test_a_search_too_long_to_run_says_so_in_the_page(client_for, viewer, project):
    for headers in ({}, HX):
        response = client_for(viewer).get(url_of(project), {"scene_q": "x" * 201}, **headers)
        assert response.status_code == 400
        assert "Search for at most 200 characters (that search has 201)." in response.content.decode()
        assert 'data-testid="activity-feed"' in response.content.decode()


def test_a_scene_of_another_project_is_never_searched(client_for, viewer, project, make_team, owner, make_scene):
    from projects.storyboard import services

    other = services.project_create(team=project.team, user=owner, name="Other")
    elsewhere = make_scene(title="Pier", project=other)
    feed(other, 1, scene=elsewhere, prefix="other pier")
    assert texts(client_for(viewer).get(url_of(project), {"scene_q": "pier"})) == []


@pytest.mark.django_db
def test_the_activity_page_makes_the_same_queries_however_long_the_history(client):
    """Realistic projects (tests/realistic.py) with a short and a long history, few and many scenes."""
    counts = {}
    for scenes, history in ((10, 100), (60, 3000)):
        built = build_project(scenes=scenes, name=f"History {history}")
        add_history(built, entries=history)
        client.force_login(built.editor)
        url = url_of(built.project)
        middle = review_selectors.ActivityCursor(
            *built.project.activity.order_by("-at", "-pk").values_list("at", "pk")[history // 2]).token
        asked = {"page": ({}, {}), "comments": ({"kind": "comments"}, {}), "search": ({"scene_q": "Scene 1"}, {}),
                 "one scene": ({"scene": built.scenes[3].pk}, {}), "older": ({"before": middle}, HX)}
        for name, (query, headers) in asked.items():
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url, query, **headers).status_code == 200
            counts.setdefault(name, []).append(len(queries))
    assert all(len(set(seen)) == 1 and seen[0] <= 25 for seen in counts.values()), counts
