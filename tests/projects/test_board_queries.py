"""The board, the side panel and "Render scenes" cost the same queries at 10 and at 40 scenes.

Built with what a real project holds (tests/realistic.py): retakes with lineage, comment
threads, cast with consent, dialogue lines, approvals, a take still rendering.
"""

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.realistic import build_project

HX = {"HTTP_HX_REQUEST": "true"}
# The side panel's dialogue plays each line: the plain names' voices and the cached speech of every line
# are one query each, whatever the number of lines (25 before); the project's own fields are one more (27 before).
# The board draws its first page of frames: the totals of every scene (and the trash's count) are one query of
# their own, no longer summed from the frames (28 on each branch before they merged).
MAX_QUERIES = 29


def queries(client, url, **headers) -> tuple[int, str]:
    client.get(url, **headers)  # warm: sessions, the catalog's first read
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **headers)
    assert response.status_code == 200, url
    assert len(captured) > 3, "no queries captured: the count would prove nothing"
    return len(captured), response.content.decode()


@pytest.fixture
def two_sizes(db, client):
    small, large = build_project(scenes=10), build_project(scenes=40)

    def measure(url_for, **headers):
        counts = []
        for built in (small, large):
            client.force_login(built.editor)
            counts.append(queries(client, url_for(built), **headers))
        return counts

    return measure


def test_the_board_costs_the_same_queries_at_10_and_40_scenes(two_sizes):
    (small, html_small), (large, html_large) = two_sizes(
        lambda b: reverse("projects:project_detail", args=[b.project.pk]))
    assert small == large <= MAX_QUERIES
    page = settings.BOARD_PAGE_SIZE  # the first page; the rest load as the list scrolls
    assert html_large.count('data-testid="frame"') == page and 'data-testid="frames-more"' in html_large
    assert html_large.count('data-testid="frame-line"') == 2 * page  # two lines a frame, "+1 more line"
    assert "Mind the ropes!" in html_large and "+1 more line" in html_large
    assert "<video" not in html_large
    assert 'data-status="rendering"' in html_small and "Rendering 40%" in html_small  # its last scene
    # The project's own fields: every third scene is a Wide shot on a 35mm lens.
    assert html_large.count('<small class="frame-fields">Wide · 35mm</small>') == len(range(0, page, 3))
    assert html_large.count("<b>Camera</b> slow push-in") == page and "<p>@Maya and @Captain Ahab on the pier" in html_large


def test_a_frame_stays_within_the_boards_byte_budget(two_sizes):
    # bench/board.py's target is 300 KB for 200 such frames: 307,200 ÷ 200 = 1,536 bytes a frame, whose two values
    # of the project's own fields take ~45. The board is paged (24 frames a response), so the budget keeps a frame
    # light, not the page.
    (_, html_small), (_, html_large) = two_sizes(lambda b: reverse("projects:project_detail", args=[b.project.pk]))
    per_frame = (len(html_large.encode()) - len(html_small.encode())) / (settings.BOARD_PAGE_SIZE - 10)
    assert per_frame <= 1536, per_frame


def test_the_side_panel_costs_the_same_queries_whatever_the_project_size(two_sizes):
    (small, html_small), (large, html_large) = two_sizes(
        lambda b: reverse("projects:scene_panel", args=[b.project.pk, b.scenes[1].pk]), **HX)
    assert small == large <= MAX_QUERIES
    assert html_large.count('data-testid="take"') == 5
    assert "Re-render of take 4" in html_large  # lineage, read without a query per take
    assert html_large.count('data-testid="dialogue-line"') == 3  # with their speakers, read in one query
    assert "We sail at noon" in html_large and ">Captain Ahab</a>" in html_large


def test_the_panel_page_loaded_directly_costs_the_same_queries(two_sizes):
    (small, _), (large, _) = two_sizes(
        lambda b: reverse("projects:scene_panel", args=[b.project.pk, b.scenes[1].pk]))
    assert small == large <= MAX_QUERIES


def test_render_scenes_and_its_plan_cost_the_same_queries(two_sizes):
    (page_small, _), (page_large, html) = two_sizes(
        lambda b: reverse("generation:batch_render", args=[b.project.pk]) + "?scope=all")
    assert page_small == page_large <= MAX_QUERIES
    assert "Render 39 scenes" in html  # all but the one still rendering
    (plan_small, _), (plan_large, _) = two_sizes(
        lambda b: reverse("generation:batch_render", args=[b.project.pk]) + "?scope=all", **HX)
    assert plan_small == plan_large <= MAX_QUERIES


@pytest.fixture
def half_in_the_trash(db, client):
    """The two sizes again, each with half its scenes (and their takes, threads, approvals) in the trash."""
    from projects.storyboard import trash

    built = [build_project(scenes=10), build_project(scenes=40)]
    for b in built:
        for scene in b.scenes[1::2]:  # one delete each, as the board's Delete makes them
            trash.scene_trash(scene=scene, user=b.editor)

    def measure(url_for, **headers):
        counts = []
        for b in built:
            client.force_login(b.editor)
            counts.append(queries(client, url_for(b), **headers))
        return counts

    return measure


def test_the_trash_page_costs_the_same_queries_however_full_it_is(half_in_the_trash):
    (small, html_small), (large, html_large) = half_in_the_trash(
        lambda b: reverse("projects:project_trash", args=[b.project.pk]))
    assert small == large <= MAX_QUERIES
    assert html_small.count('data-testid="trash-row"') == 5 and html_large.count('data-testid="trash-row"') == 20
    assert '<span data-testid="trash-takes">5 takes</span>' in html_large


def test_a_board_with_a_full_trash_costs_what_it_did_and_shows_only_its_own_frames(half_in_the_trash):
    (small, _), (large, html_large) = half_in_the_trash(
        lambda b: reverse("projects:project_detail", args=[b.project.pk]))
    assert small == large <= MAX_QUERIES
    assert html_large.count('data-testid="frame"') == 20
    assert 'data-testid="trash-link">Trash (20)</a>' in html_large


def test_a_board_of_1000_scenes_answers_with_one_page_under_300_kb_and_the_same_queries(db, client):
    """The board's first answer does not grow with the board: 1,000 scenes cost what 30 do (bytes and queries)."""
    from projects.models import Scene

    built = build_project(scenes=30)
    client.force_login(built.editor)
    url = reverse("projects:project_detail", args=[built.project.pk])
    at_30, html_30 = queries(client, url)
    Scene.objects.bulk_create([Scene(project=built.project, position=n, title=f"Scene {n + 1}", prompt="The pier at dusk.",
                                     duration=4) for n in range(30, 1000)])
    at_1000, html = queries(client, url)
    assert at_1000 == at_30 <= MAX_QUERIES
    assert len(html.encode()) <= 300 * 1024
    assert html.count('data-testid="frame"') == settings.BOARD_PAGE_SIZE
    assert 'data-testid="total-scenes">1000<' in html and "Select all 1000 scenes" in html
    # Only the totals' digits differ from the 30-scene board's answer.
    assert abs(len(html.encode()) - len(html_30.encode())) < 200
