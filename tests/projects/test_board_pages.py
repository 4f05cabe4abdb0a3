"""The board at any size: its first answer is one page of frames, the rest load by position as the list
scrolls, and filtering, dragging and "Select all" reach every scene, loaded on the page or not."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from generation.models import Render, Status
from projects.models import Character, FieldKind, Scene
from projects.storyboard import fields
from projects.storyboard.dialogue import services as dialogue

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def board(project, settings):
    """Ten scenes in pages of three: "Scene 1" … "Scene 10"; scenes 4 and 8 are rendering, 2 and 9 cast Maya."""
    settings.BOARD_PAGE_SIZE = 3
    Scene.objects.bulk_create([Scene(project=project, position=n, title=f"Scene {n + 1}", duration=4,
                                     prompt="A pier at dusk." if n != 6 else "A lighthouse in the storm.")
                               for n in range(10)])
    scenes = list(project.scenes.order_by("position"))
    for scene in (scenes[3], scenes[7]):
        Render.objects.create(scene=scene, provider="local", model="m", recipe={}, status=Status.RUNNING,
                              progress=30)
    maya = Character.objects.create(team=project.team, name="Maya")
    for scene in (scenes[1], scenes[8]):
        scene.cast.add(maya)
    return scenes


def titles(html: str) -> list[str]:
    return re.findall(r'data-testid="frame-title">([^<]+)<', html)


def more_url(html: str) -> str:
    found = re.search(r'data-testid="frames-more" hx-get="([^"]+)"', html)
    return found.group(1).replace("&amp;", "&") if found else ""


def test_the_board_draws_its_first_page_and_the_rest_loads_page_by_page(client_for, editor, project, board):
    client = client_for(editor)
    html = client.get(reverse("projects:project_detail", args=[project.pk])).content.decode()
    assert titles(html) == ["Scene 1", "Scene 2", "Scene 3"]
    assert 'data-testid="total-scenes">10<' in html and 'hx-trigger="revealed"' in html
    seen, url = titles(html), more_url(html)
    while url:  # one request a page, as each "more" row comes into view
        page = client.get(url, **HX)
        assert page.status_code == 200
        seen += titles(page.content.decode())
        url = more_url(page.content.decode())
    assert seen == [f"Scene {n}" for n in range(1, 11)]


def test_a_page_loaded_without_javascript_is_the_board_from_there(client_for, editor, project, board):
    response = client_for(editor).get(reverse("projects:board_page", args=[project.pk]) + "?after=5")
    assert "<html" in response.content.decode()
    assert titles(response.content.decode()) == ["Scene 7", "Scene 8", "Scene 9"]


def test_a_frame_changed_before_its_page_loads_comes_fresh_with_it(client_for, editor, project, board):
    client = client_for(editor)
    html = client.get(reverse("projects:project_detail", args=[project.pk])).content.decode()
    Scene.objects.filter(pk=board[4].pk).update(title="Renamed by a teammate")
    assert titles(client.get(more_url(html), **HX).content.decode()) == ["Scene 4", "Renamed by a teammate", "Scene 6"]


@pytest.mark.parametrize("query, expected", [
    ("q=lighthouse", ["Scene 7"]),  # words in the action, not only the title
    ("q=scene+1", ["Scene 1", "Scene 10"]),
    ("status=rendering", ["Scene 4", "Scene 8"]),
    ("q=scene&status=rendering", ["Scene 4", "Scene 8"]),
])
def test_the_filter_searches_every_scene_on_the_server(client_for, editor, project, board, query, expected):
    response = client_for(editor).get(reverse("projects:board_page", args=[project.pk]) + "?" + query, **HX)
    html = response.content.decode()
    assert html.lstrip().startswith('<ol id="board-frames"')  # the list swapped in, not the page
    assert titles(html) == expected


def test_the_filter_by_cast_finds_scenes_beyond_the_loaded_pages(client_for, editor, project, board):
    maya = Character.objects.get(name="Maya")
    html = client_for(editor).get(reverse("projects:board_page", args=[project.pk]) + f"?cast={maya.pk}",
                                  **HX).content.decode()
    assert titles(html) == ["Scene 2", "Scene 9"] and "Select all 2 matching scenes" in html


def test_a_filter_that_finds_nothing_says_so(client_for, editor, project, board):
    html = client_for(editor).get(reverse("projects:board_page", args=[project.pk]) + "?q=zeppelin",
                                  **HX).content.decode()
    assert "No scene matches this filter." in html and titles(html) == []


def test_a_filter_with_many_matches_pages_them_too(client_for, editor, project, board):
    client = client_for(editor)
    first = client.get(reverse("projects:board_page", args=[project.pk]) + "?q=pier", **HX).content.decode()
    assert titles(first) == ["Scene 1", "Scene 2", "Scene 3"] and "q=pier" in more_url(first)
    assert titles(client.get(more_url(first), **HX).content.decode()) == ["Scene 4", "Scene 5", "Scene 6"]


@pytest.mark.parametrize("query", ["status=nonsense", "cast=abc", "cast=99999999999999999999", "after=-1", "after=x"])
def test_nonsense_in_the_filter_is_ignored_not_a_500(client_for, editor, project, board, query):
    response = client_for(editor).get(reverse("projects:board_page", args=[project.pk]) + "?" + query, **HX)
    assert response.status_code == 200 and titles(response.content.decode())


def test_the_board_filtered_without_javascript_keeps_the_filter_in_its_form(client_for, editor, project, board):
    html = client_for(editor).get(reverse("projects:project_detail", args=[project.pk]) + "?q=lighthouse").content.decode()
    assert titles(html) == ["Scene 7"] and 'value="lighthouse"' in html


def test_a_drop_next_to_a_frame_moves_the_scene_whatever_is_loaded(client_for, editor, project, board):
    # Scene 2 dropped after Scene 9: neither page is loaded together on the dragging page.
    response = client_for(editor).post(reverse("projects:scene_order", args=[project.pk]),
                                       {"move": board[1].pk, "after": board[8].pk}, **HX)
    assert response.status_code == 200
    order = list(project.scenes.order_by("position").values_list("title", flat=True))
    assert order == ["Scene 1", "Scene 3", "Scene 4", "Scene 5", "Scene 6", "Scene 7", "Scene 8", "Scene 9",
                     "Scene 2", "Scene 10"]


def test_a_drop_first_in_a_filtered_list_goes_before_the_frame_it_landed_on(client_for, editor, project, board):
    client_for(editor).post(reverse("projects:scene_order", args=[project.pk]),
                            {"move": board[7].pk, "before": board[3].pk, "status": "rendering"}, **HX)
    assert list(project.scenes.order_by("position").values_list("title", flat=True))[2:5] == \
        ["Scene 3", "Scene 8", "Scene 4"]


def test_a_drop_next_to_a_scene_deleted_meanwhile_is_refused_with_the_current_order(
        client_for, editor, project, board):
    gone = board[5].pk
    Scene.objects.filter(pk=gone).delete()
    response = client_for(editor).post(reverse("projects:scene_order", args=[project.pk]),
                                       {"move": board[1].pk, "after": gone}, **HX)
    assert response.status_code == 409 and "drag again" in response.content.decode()
    assert project.scenes.order_by("position").values_list("title", flat=True)[1] == "Scene 2"


def test_the_keyboard_move_to_a_position_not_loaded_works(client_for, editor, project, board):
    response = client_for(editor).post(reverse("projects:scene_bulk", args=[project.pk]),
                                       {"action": "move", "scene": [board[0].pk], "position": "9"})
    assert response.status_code == 302
    assert project.scenes.get(pk=board[0].pk).position == 8


def test_select_all_reaches_every_scene_not_only_the_loaded_ones(client_for, editor, project, board):
    response = client_for(editor).post(reverse("projects:scene_bulk", args=[project.pk]),
                                       {"action": "move", "all": "1", "status": "rendering", "to": "top"})
    assert response.status_code == 302
    assert list(project.scenes.order_by("position").values_list("title", flat=True))[:2] == ["Scene 4", "Scene 8"]


def test_select_all_then_delete_sends_every_scene_to_the_trash(client_for, editor, project, board):
    client = client_for(editor)
    html = client.get(reverse("projects:project_detail", args=[project.pk])).content.decode()
    assert "Select all 10 scenes" in html
    client.post(reverse("projects:scene_bulk", args=[project.pk]), {"action": "delete", "all": "1"})
    assert project.scenes.count() == 0


def test_another_teams_user_gets_no_page_of_frames(client_for, outsider, project, board):
    client = client_for(outsider)
    assert client.get(reverse("projects:board_page", args=[project.pk]) + "?after=2", **HX).status_code == 404
    assert client.get(reverse("projects:board_page", args=[project.pk]) + "?q=pier").status_code == 404


# --- The project's own fields in the same filter -------------------------------------------------------


@pytest.fixture
def fielded(project, owner, board):
    """Scenes 5, 7, 8, 9 and 10 are Wide (all beyond the first page of three); values of every kind of field."""
    shot = fields.field_create(project=project, user=owner, name="Shot type", kind=FieldKind.CHOICE,
                               choices="Wide\nClose-up")
    lens = fields.field_create(project=project, user=owner, name="Lens", kind=FieldKind.TEXT)
    focal = fields.field_create(project=project, user=owner, name="Focal length", kind=FieldKind.NUMBER)
    mood = fields.field_create(project=project, user=owner, name="Mood", kind=FieldKind.TAGS)
    for n in (4, 6, 7, 8, 9):
        Scene.objects.filter(pk=board[n].pk).update(field_values={shot.key: "Wide"})
    Scene.objects.filter(pk=board[1].pk).update(field_values={shot.key: "Close-up", lens.key: "35mm",
                                                              focal.key: "350", mood.key: ["Rainy"]})
    Scene.objects.filter(pk=board[8].pk).update(field_values={shot.key: "Wide", lens.key: "85mm Macro",
                                                              focal.key: "35", mood.key: ["Night", "Rain"]})
    return board


def test_a_field_filter_finds_matching_scenes_beyond_the_first_page_and_pages_them(client_for, editor, project,
                                                                                    fielded):
    client = client_for(editor)
    html = client.get(reverse("projects:project_detail", args=[project.pk]), {"shot_type": "wide"}).content.decode()
    assert titles(html) == ["Scene 5", "Scene 7", "Scene 8"]
    assert "5 of 10 scenes shown" in html and "Select all 5 matching scenes" in html
    assert "shot_type=wide" in more_url(html)
    assert titles(client.get(more_url(html), **HX).content.decode()) == ["Scene 9", "Scene 10"]


@pytest.mark.parametrize(("query", "expected"), [
    ({"lens": "macro"}, ["Scene 9"]),  # text: part of the value, case aside
    ({"focal_length": "35"}, ["Scene 9"]),  # a number: the whole value (not 350)
    ({"mood": "rain"}, ["Scene 9"]),  # tags: any one tag, whole (not "Rainy")
    ({"mood": "rai"}, []),
    ({"shot_type": "Wide", "q": "lighthouse"}, ["Scene 7"]),  # with the words, on the server
    ({"shot_type": "Wide", "status": "rendering"}, ["Scene 8"]),
    ({"shot_type": "Close-up", "cast": "maya"}, ["Scene 2"]),  # a cast that is not an id is left out
])
def test_field_filters_join_the_words_status_and_cast(client_for, editor, project, fielded, query, expected):
    html = client_for(editor).get(reverse("projects:board_page", args=[project.pk]), query, **HX).content.decode()
    assert titles(html) == expected


@pytest.mark.parametrize(("words", "expected"), [
    ("macro", ["Scene 9"]),  # a text field's value
    ("close-up", ["Scene 2"]),  # a choice
    ("rain", ["Scene 2", "Scene 9"]),  # part of a tag ("Rainy", "Rain")
    ("wide night", ["Scene 9"]),  # every word, each in any place
    ("350", []),  # a number is not words (Scene 2 has a focal length of 350)
])
def test_the_board_search_finds_words_in_the_projects_own_fields(client_for, editor, project, fielded, words,
                                                                 expected):
    html = client_for(editor).get(reverse("projects:board_page", args=[project.pk]), {"q": words},
                                  **HX).content.decode()
    assert titles(html) == expected


def test_the_board_search_finds_who_speaks_a_line(client_for, editor, owner, project, board):
    dialogue.dialogue_line_add(scene=board[5], user=owner, speaker=(None, "Captain Ahab"), text="Hold fast.")
    dialogue.dialogue_line_add(scene=board[2], user=owner, speaker=(None, "ISHMAEL"), text="Call me Ahab.")
    html = client_for(editor).get(reverse("projects:board_page", args=[project.pk]), {"q": "captain"},
                                  **HX).content.decode()
    assert titles(html) == ["Scene 6"]
    html = client_for(editor).get(reverse("projects:board_page", args=[project.pk]), {"q": "ahab"},
                                  **HX).content.decode()
    assert titles(html) == ["Scene 3", "Scene 6"]  # spoken by one, said by the other


def test_select_all_with_a_field_filter_reaches_the_scenes_not_loaded(client_for, editor, project, fielded):
    response = client_for(editor).post(reverse("projects:scene_bulk", args=[project.pk]),
                                       {"action": "move", "all": "1", "shot_type": "Wide", "to": "top"})
    assert response.status_code == 302
    assert list(project.scenes.order_by("position").values_list("title", flat=True))[:5] == \
        ["Scene 5", "Scene 7", "Scene 8", "Scene 9", "Scene 10"]


def test_the_filter_form_puts_the_field_filter_in_the_address(client_for, editor, project, fielded):
    response = client_for(editor).get(reverse("projects:board_page", args=[project.pk]), {"shot_type": "Wide"},
                                      HTTP_HX_TRIGGER="board-filter", **HX)
    assert response["HX-Replace-Url"] == reverse("projects:project_detail", args=[project.pk]) + "?shot_type=Wide"


def test_select_all_with_a_nul_in_the_posted_filter_is_no_500(client_for, editor, project, fielded):
    # A query string with NUL is refused before any view; a form's POST is not, and PostgreSQL refuses NUL.
    response = client_for(editor).post(reverse("projects:scene_bulk", args=[project.pk]),
                                       {"action": "move", "all": "1", "q": "pier\x00", "shot_type": "Wide\x00",
                                        "to": "top"})
    assert response.status_code == 302
    assert list(project.scenes.order_by("position").values_list("title", flat=True))[:4] == \
        ["Scene 5", "Scene 8", "Scene 9", "Scene 10"]


@pytest.mark.parametrize("name", ["Status", "Cast", "After", "All"])
def test_a_field_cannot_take_the_name_of_the_boards_own_filter(project, owner, name):
    with pytest.raises(ValidationError, match="the board's filter needs the name"):
        fields.field_create(project=project, user=owner, name=name, kind=FieldKind.TEXT)
    assert not project.fields.exists()
