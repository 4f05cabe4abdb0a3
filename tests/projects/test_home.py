"""The projects home: a card per project with its first frames, its scene and approved counts, and its
last change with who made it; the same queries for a team of two small projects and of six large ones."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from projects.models import Activity
from projects.review import services as review
from projects.storyboard import services
from tests.realistic import build_project

HOME = reverse("projects:project_list")


def cards(html: str) -> list[str]:
    return re.findall(r'<li class="project-card".*?</li>', html, re.S)


def test_a_card_shows_the_first_frames_the_counts_and_who_changed_what_last(
        client_for, owner, reviewer, project, make_scene, finished_take):
    dawn, storm = make_scene(title="Dawn"), make_scene(title="Storm")
    make_scene(title="Nets"), make_scene(title="Pier"), make_scene(title="Night")  # past the strip's four
    first = finished_take(dawn)
    review.take_approve(take=first, user=owner)
    finished_take(storm)
    review.comment_add(take=first, author=reviewer, body="The mist lifts too early.", at=0.5)

    [card] = cards(client_for(owner).get(HOME).content.decode())

    assert f'href="{reverse("projects:project_detail", args=[project.pk])}">Harbour Story</a>' in card
    # The strip: the first four scenes in board order, each with the picture its frame shows.
    strip = card[card.index('data-testid="project-strip"'):card.index("</div>")]
    assert strip.count("<img") == 2 and strip.count("<span></span>") == 2
    assert reverse("generation:render_file", args=[first.pk, "thumbnail"]) in strip
    assert "<strong>5</strong> scenes" in card and "<strong>1</strong> approved" in card
    assert re.search(r"<strong>rita</strong> commented on Dawn take 1 at [0-9:.]+: The mist lifts too early\. · "
                     r'<time datetime="[^"]+" title="[^"]+">just now</time>', card)


def test_the_most_recently_changed_project_comes_first(client_for, team, owner, editor, project, make_scene):
    quiet = services.project_create(team=team, user=owner, name="Quiet Harbour")
    Activity.objects.filter(project=quiet).update(at=timezone.now() - timedelta(days=3))
    Activity.objects.filter(project=project).update(at=timezone.now() - timedelta(days=5))
    make_scene(title="Fresh", project=quiet)  # a change today, by the owner

    html = client_for(editor).get(HOME).content.decode()

    assert [re.search(r'">([^<]+)</a></h2>', c).group(1) for c in cards(html)] == ["Quiet Harbour", "Harbour Story"]
    assert "added scene 1, Fresh" in cards(html)[0] and "5\xa0days ago" in cards(html)[1]


def test_a_project_without_scenes_says_so_and_a_team_without_projects_says_what_to_do(
        client_for, team, owner, viewer, project):
    [card] = cards(client_for(owner).get(HOME).content.decode())
    assert "No scenes yet" in card and "<strong>0</strong> scenes" in card

    project.delete()
    empty = client_for(owner).get(HOME).content.decode()
    assert 'data-testid="projects-empty"' in empty and "Name the first one below" in empty
    assert 'id="new-project"' in empty
    watcher = client_for(viewer).get(HOME).content.decode()
    assert "Projects the team's editors start show here." in watcher and 'id="new-project"' not in watcher


def test_another_teams_projects_and_pictures_are_not_on_the_home(client_for, outsider, project, scene, finished_take):
    take = finished_take(scene)
    html = client_for(outsider).get(HOME).content.decode()
    assert "Harbour Story" not in html and reverse("generation:render_file", args=[take.pk, "thumbnail"]) not in html
    assert cards(html) == [] and 'data-testid="projects-empty"' in html


def _home_queries(client) -> tuple[int, str]:
    client.get(HOME)  # warm: the session, the team
    with CaptureQueriesContext(connection) as captured:
        response = client.get(HOME)
    assert response.status_code == 200
    return len(captured), response.content.decode()


@pytest.fixture
def team_of(db):
    def build(projects: int, scenes: int):
        first = build_project(scenes=scenes, takes_per_scene=3, name="Project 1")
        for n in range(2, projects + 1):
            build_project(scenes=scenes, takes_per_scene=3, name=f"Project {n}", team=first.project.team)
        return first

    return build


def test_the_home_costs_the_same_queries_for_two_small_projects_and_six_large_ones(client, team_of):
    small, large = team_of(projects=2, scenes=3), team_of(projects=6, scenes=12)
    client.force_login(small.owner)
    small_count, small_html = _home_queries(client)
    client.force_login(large.owner)
    large_count, large_html = _home_queries(client)

    assert small_count == large_count <= 12
    assert len(cards(small_html)) == 2 and len(cards(large_html)) == 6
    # Every card of the large team shows its first four frames' pictures (approved or newest takes).
    assert large_html.count('data-testid="project-strip-picture"') == 6 * 4
    assert large_html.count("<strong>12</strong> scenes") == 6 and large_html.count("<strong>6</strong> approved") == 6
