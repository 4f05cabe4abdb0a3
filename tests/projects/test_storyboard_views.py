"""Writing the storyboard: scenes are added, edited, reordered and deleted in place."""

import json
import re

import pytest
from django.urls import reverse

from projects.models import Project, Scene

HX = {"HTTP_HX_REQUEST": "true"}


def scene_data(**overrides):
    data = {"title": "Storm", "prompt": "Clouds race over the pier.", "duration": "3",
            "size": "1280x720", "camera_notes": "handheld"}
    data.update(overrides)
    return data


def test_an_editor_creates_a_project_and_lands_on_its_storyboard(client_for, editor, team):
    response = client_for(editor).post(reverse("projects:project_list"), {
        "name": "Ad spot", "description": "", "default_size": "720x1280", "default_duration": "4"})
    project = Project.objects.get(name="Ad spot")
    assert project.team == team
    assert response.url == reverse("projects:project_detail", args=[project.pk])


def test_adding_a_scene_swaps_in_the_storyboard_partial(client_for, editor, project):
    response = client_for(editor).post(
        reverse("projects:scene_create", args=[project.pk]), scene_data(), **HX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="board"')  # the partial, not the page
    assert "<html" not in html
    assert "Storm" in html
    scene = Scene.objects.get()
    assert (scene.position, scene.duration, scene.updated_by) == (0, 3, editor)


@pytest.mark.parametrize("field, value, message", [
    ("prompt", "", "Describe what happens in the scene."),
    ("prompt", "    ", "Describe what happens in the scene."),
    ("duration", "45", "at most 20 seconds"),
    ("duration", "0", "at least 1 second"),
    ("size", "999x999", "Unknown frame size “999x999”"),
])
def test_bad_scene_input_is_refused_with_the_typed_values_kept(client_for, editor, project, field, value, message):
    response = client_for(editor).post(
        reverse("projects:scene_create", args=[project.pk]),
        scene_data(title="Keep my title", **{field: value}), **HX)
    html = response.content.decode()
    assert message in html
    assert html.count(message) == 1
    assert 'value="Keep my title"' in html
    assert response.headers["HX-Retarget"] == "#add-scene"
    assert not Scene.objects.exists()


def test_the_panel_holds_the_editor_and_saving_updates_its_frame(client_for, editor, scene):
    client = client_for(editor)
    panel = client.get(reverse("projects:scene_panel", args=[scene.project_id, scene.pk]), **HX)
    assert panel.content.decode().lstrip().startswith('<aside id="scene-panel"')
    assert f'name="version" value="{scene.version}"' in panel.content.decode()
    saved = client.post(reverse("projects:scene_edit", args=[scene.pk]),
                        scene_data(title="Dawn, revised", version=scene.version), **HX)
    assert saved.status_code == 200
    html = saved.content.decode()
    assert html.lstrip().startswith('<aside id="scene-panel"') and 'data-testid="saved"' in html
    # The frame on the board is swapped out of band with the new title.
    assert f'<li id="frame-{scene.pk}" class="frame' in html and 'hx-swap-oob="outerHTML"' in html
    assert html.count("Dawn, revised") >= 2
    scene.refresh_from_db()
    assert (scene.title, scene.version, scene.updated_by) == ("Dawn, revised", 2, editor)


def test_a_stale_save_is_refused_and_shows_both_versions(client_for, editor, owner, scene):
    stale_version = scene.version
    client_for(owner).post(reverse("projects:scene_edit", args=[scene.pk]),
                           scene_data(title="Owner's take", version=stale_version), **HX)
    client = client_for(editor)
    response = client.post(reverse("projects:scene_edit", args=[scene.pk]),
                           scene_data(title="Editor's take", version=stale_version), **HX)
    html = response.content.decode()
    assert 'data-testid="conflict"' in html
    assert "Owner&#x27;s take" in html and "Editor&#x27;s take" in html
    scene.refresh_from_db()
    assert scene.title == "Owner's take"  # nothing silently overwritten
    # Saving again from the conflict form is a deliberate overwrite.
    client.post(reverse("projects:scene_edit", args=[scene.pk]),
                scene_data(title="Editor's take", version=scene.version), **HX)
    scene.refresh_from_db()
    assert scene.title == "Editor's take"


def test_moving_a_scene_down_reorders_the_storyboard(client_for, editor, make_scene):
    first, _second, _third = make_scene(title="A"), make_scene(title="B"), make_scene(title="C")
    response = client_for(editor).post(reverse("projects:scene_move", args=[first.pk, "down"]), **HX)
    assert response.content.decode().lstrip().startswith('<div id="board"')
    assert list(Scene.objects.values_list("title", flat=True)) == ["B", "A", "C"]


def test_moving_the_first_scene_up_changes_nothing(client_for, editor, make_scene):
    first, _second = make_scene(title="A"), make_scene(title="B")
    client_for(editor).post(reverse("projects:scene_move", args=[first.pk, "up"]), **HX)
    assert list(Scene.objects.values_list("title", flat=True)) == ["A", "B"]


def test_deleting_a_scene_renumbers_the_rest(client_for, editor, make_scene):
    _a, b, _c = make_scene(title="A"), make_scene(title="B"), make_scene(title="C")
    client = client_for(editor)
    confirm = client.get(reverse("projects:scene_delete", args=[b.pk]))
    assert "Delete scene 2" in confirm.content.decode()
    assert Scene.objects.count() == 3  # GET only asks
    client.post(reverse("projects:scene_delete", args=[b.pk]), **HX)
    assert list(Scene.objects.values_list("title", "position")) == [("A", 0), ("C", 1)]


@pytest.mark.parametrize("role", ["viewer", "reviewer"])
def test_viewers_and_reviewers_cannot_change_the_storyboard(request, client_for, role, project, scene):
    client = client_for(request.getfixturevalue(role))
    assert client.post(reverse("projects:scene_create", args=[project.pk]), scene_data()).status_code == 403
    assert client.post(reverse("projects:scene_edit", args=[scene.pk]),
                       scene_data(version=scene.version)).status_code == 403
    assert client.post(reverse("projects:scene_delete", args=[scene.pk])).status_code == 403
    assert client.post(reverse("projects:scene_move", args=[scene.pk, "down"])).status_code == 403
    assert Scene.objects.count() == 1
    page = client.get(reverse("projects:project_detail", args=[project.pk])).content.decode()
    assert "Add a scene" not in page and "Render take" not in page


def test_a_viewer_reads_the_board_and_a_scene_in_its_panel(client_for, viewer, project, scene):
    client = client_for(viewer)
    board = client.get(reverse("projects:project_detail", args=[project.pk])).content.decode()
    assert 'data-testid="frame-title">Dawn<' in board
    assert 'data-testid="frame-select"' not in board  # nothing to act on
    panel = client.get(reverse("projects:scene_panel", args=[project.pk, scene.pk])).content.decode()
    assert scene.prompt in panel and 'data-testid="scene-editor"' not in panel


def frame_order(html: str) -> list[str]:
    return re.findall(r'data-testid="frame-title">([^<]*)<', html)


def test_the_board_shows_the_stored_order_after_reordering(client_for, editor, project, make_scene, finished_take):
    from projects.review import services as review

    a, b, c = make_scene(title="A"), make_scene(title="B"), make_scene(title="C")
    for scene in (a, b, c):  # takes and decisions make the review-status query GROUP BY, which drops ordering
        review.take_approve(take=finished_take(scene), user=editor)
    client = client_for(editor)
    client.post(reverse("projects:scene_move", args=[a.pk, "down"]))
    client.post(reverse("projects:scene_move", args=[a.pk, "down"]))
    stored = list(Scene.objects.order_by("position").values_list("title", flat=True))
    assert stored == ["B", "C", "A"]
    page = client.get(reverse("projects:project_detail", args=[project.pk])).content.decode()
    assert frame_order(page) == stored
    cut = client.get(reverse("projects:project_cut", args=[project.pk])).content.decode()
    stops = json.loads(re.search(r'<script id="cut-stops" type="application/json">(.*?)</script>', cut, re.S)[1])
    assert [stop["title"] for stop in stops["stops"]] == stored  # Play all plays that order too


def test_a_drop_saves_the_whole_new_order_in_one_request(client_for, editor, project, make_scene):
    a, b, c = make_scene(title="A"), make_scene(title="B"), make_scene(title="C")
    response = client_for(editor).post(reverse("projects:scene_order", args=[project.pk]),
                                       {"order": f"{c.pk},{a.pk},{b.pk}"}, **HX)
    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith('<ol id="board-frames"')
    assert frame_order(response.content.decode()) == ["C", "A", "B"]
    assert list(Scene.objects.values_list("title", "position")) == [("C", 0), ("A", 1), ("B", 2)]


def test_a_drop_based_on_a_stale_list_is_refused_with_the_current_board(client_for, editor, owner, project,
                                                                        make_scene):
    a, b = make_scene(title="A"), make_scene(title="B")
    make_scene(title="Added meanwhile")
    response = client_for(editor).post(reverse("projects:scene_order", args=[project.pk]),
                                       {"order": f"{b.pk},{a.pk}"}, **HX)
    assert response.status_code == 409
    html = response.content.decode()
    assert "The storyboard changed while you were dragging" in html
    assert frame_order(html) == ["A", "B", "Added meanwhile"]
    assert list(Scene.objects.values_list("title", flat=True)) == ["A", "B", "Added meanwhile"]


@pytest.mark.parametrize("order", ["", "1,2,x", "{a},{a}", "{a},{other}"])
def test_a_drop_with_a_malformed_or_foreign_list_changes_nothing(client_for, editor, project, make_scene, make_team,
                                                                 owner, order):
    from projects.storyboard import services

    a = make_scene(title="A")
    other = make_scene(title="Elsewhere", project=services.project_create(team=make_team("Rival"), user=owner,
                                                                          name="Theirs"))
    make_scene(title="B")
    response = client_for(editor).post(reverse("projects:scene_order", args=[project.pk]),
                                       {"order": order.format(a=a.pk, other=other.pk)}, **HX)
    assert response.status_code in (400, 409)
    assert 'class="error"' in response.content.decode()
    assert list(project.scenes.values_list("title", flat=True)) == ["A", "B"]


def test_selected_scenes_move_together_to_the_top(client_for, editor, project, make_scene):
    a, b, c, d = (make_scene(title=t) for t in "ABCD")
    response = client_for(editor).post(reverse("projects:scene_bulk", args=[project.pk]),
                                       {"action": "move", "to": "top", "scene": [c.pk, d.pk]}, follow=True)
    assert "Moved 2 scenes to 1–2." in response.content.decode()
    assert list(project.scenes.values_list("title", flat=True)) == ["C", "D", "A", "B"]


def test_selected_scenes_move_to_a_position(client_for, editor, project, make_scene):
    a, b, c, d = (make_scene(title=t) for t in "ABCD")
    client_for(editor).post(reverse("projects:scene_bulk", args=[project.pk]),
                            {"action": "move", "to": "top", "position": "2", "scene": [d.pk]})
    assert list(project.scenes.values_list("title", flat=True)) == ["A", "D", "B", "C"]
    page = client_for(editor).post(reverse("projects:scene_bulk", args=[project.pk]),
                                   {"action": "move", "position": "9", "scene": [a.pk]}, follow=True)
    assert "Choose a position from 1 to 4." in page.content.decode()


def test_deleting_selected_scenes_moves_them_to_the_trash_at_once_with_an_undo(client_for, editor, project,
                                                                               make_scene):
    a, b, c = (make_scene(title=t) for t in "ABC")
    client = client_for(editor)
    done = client.post(reverse("projects:scene_bulk", args=[project.pk]),
                       {"action": "delete", "scene": [a.pk, c.pk]}, follow=True)
    html = done.content.decode()
    assert "2 scenes moved to the trash." in html and 'data-testid="trash-undo"' in html
    assert list(project.scenes.values_list("title", "position")) == [("B", 0)]
    assert set(Scene.all_objects.in_trash().values_list("title", flat=True)) == {"A", "C"}


def test_bulk_actions_without_a_selection_say_so(client_for, editor, project, make_scene):
    make_scene()
    client = client_for(editor)
    for action in ("delete", "move"):
        page = client.post(reverse("projects:scene_bulk", args=[project.pk]), {"action": action, "to": "top"},
                           follow=True).content.decode()
        assert f"Select at least one scene to {action}." in page
    assert project.scenes.count() == 1


def test_rendering_selected_scenes_opens_the_plan_with_just_them(client_for, editor, project, make_scene):
    a, b, c = (make_scene(title=t) for t in "ABC")
    client = client_for(editor)
    response = client.post(reverse("projects:scene_bulk", args=[project.pk]), {"action": "render",
                                                                              "scene": [a.pk, c.pk]})
    assert response.status_code == 302 and "scope=selected" in response.url
    plan = client.get(response.url).content.decode()
    assert "1. A" in plan and "3. C" in plan and "2. B" not in plan
    assert "Render 2 scenes" in plan


def test_the_board_view_is_remembered_per_user(client_for, editor, reviewer, project, make_scene):
    make_scene()
    client = client_for(editor)
    url = reverse("projects:project_detail", args=[project.pk])
    assert "board-layout--grid" in client.get(url).content.decode()
    client.post(reverse("projects:board_view", args=[project.pk]), {"view": "list"})
    assert "board-layout--list" in client.get(url).content.decode()
    assert "board-layout--grid" in client_for(reviewer).get(url).content.decode()  # someone else's choice
    client_for(editor)
    assert "board-layout--grid" in client.get(url + "?view=grid").content.decode()
    assert "board-layout--grid" in client.get(url).content.decode()


def test_a_frame_shows_status_thumbnail_cast_and_comments(client_for, editor, owner, project, make_scene,
                                                          finished_take):
    from projects.review import services as review

    plain, rendered = make_scene(title="Plain"), make_scene(title="Rendered")
    take = finished_take(rendered)
    review.comment_add(take=take, author=owner, body="Nice", at=0.5)
    page = client_for(editor).get(reverse("projects:project_detail", args=[project.pk])).content.decode()
    frame = page[page.index(f'id="frame-{rendered.pk}"'):]
    frame = frame[:frame.index("</li>")]
    assert 'data-status="in_review"' in frame and "1 comment" in frame
    assert f'src="{reverse("generation:render_file", args=[take.pk, "thumbnail"])}" loading="lazy"' in frame
    empty = page[page.index(f'id="frame-{plain.pk}"'):]
    assert 'data-status="no_take"' in empty[:empty.index("</li>")]
    assert 'class="frame-placeholder' in empty[:empty.index("</li>")]
    assert "<video" not in page and "every 1s" not in page
    totals = page[page.index('id="board-totals"'):]
    assert 'data-testid="total-scenes">2<' in totals and 'data-testid="total-runtime">0:04<' in totals


def test_the_panel_loaded_directly_is_the_board_with_the_panel_open(client_for, editor, project, scene):
    page = client_for(editor).get(reverse("projects:scene_panel", args=[project.pk, scene.pk])).content.decode()
    assert "<html" in page and 'id="board-frames"' in page
    assert f'<aside id="scene-panel" class="scene-panel" data-testid="scene-panel" data-scene="{scene.pk}"' in page


def test_a_scene_under_another_project_url_is_404(client_for, owner, project, scene):
    from projects.storyboard import services

    other = services.project_create(team=project.team, user=owner, name="Other")
    assert client_for(owner).get(reverse("projects:scene_panel", args=[other.pk, scene.pk])).status_code == 404


def _opened(client, scene) -> dict:
    """The panel's edit form as the browser would send it back unchanged: values, version and base."""
    import re as _re

    html = client.get(reverse("projects:scene_panel", args=[scene.project_id, scene.pk]), **HX).content.decode()
    form = html[html.index('data-testid="scene-editor"'):]
    form = form[:form.index("</form>")]
    data = dict(_re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', form))
    data.update({"title": scene.title, "prompt": scene.prompt, "duration": scene.duration, "size": scene.size,
                 "camera_notes": scene.camera_notes})
    return {k: (v.replace("&#x27;", "'") if isinstance(v, str) else v) for k, v in data.items()
            if k != "csrfmiddlewaretoken"}


def test_two_people_editing_different_fields_both_keep_their_change(client_for, editor, owner, scene):
    mine, theirs = client_for(editor), client_for(owner)
    mine_form = _opened(mine, scene)
    theirs_form = _opened(theirs, scene)
    theirs.post(reverse("projects:scene_edit", args=[scene.pk]), {**theirs_form, "title": "Dawn, wide"}, **HX)

    response = mine.post(reverse("projects:scene_edit", args=[scene.pk]),
                         {**mine_form, "camera_notes": "handheld, low"}, **HX)

    assert response.status_code == 200 and 'data-testid="saved"' in response.content.decode()
    scene.refresh_from_db()
    assert (scene.title, scene.camera_notes) == ("Dawn, wide", "handheld, low")  # nobody's change undone


def test_the_same_field_changed_by_both_is_shown_with_both_values(client_for, editor, owner, scene):
    mine, theirs = client_for(editor), client_for(owner)
    mine_form, theirs_form = _opened(mine, scene), _opened(theirs, scene)
    theirs.post(reverse("projects:scene_edit", args=[scene.pk]),
                {**theirs_form, "title": "Owner's dawn", "duration": 3}, **HX)

    response = mine.post(reverse("projects:scene_edit", args=[scene.pk]),
                         {**mine_form, "title": "Editor's dawn", "camera_notes": "handheld"}, **HX)
    html = response.content.decode()
    assert 'data-testid="conflict-field"' in html and html.count('data-testid="conflict-field"') == 1
    assert "Owner&#x27;s dawn" in html and "Editor&#x27;s dawn" in html
    assert 'name="duration" value="3"' in html  # their untouched-by-me change is in my form
    assert 'value="handheld"' in html  # my other change is kept for the next save
    scene.refresh_from_db()
    assert (scene.title, scene.duration, scene.camera_notes) == ("Owner's dawn", 3, "slow push-in")

    # I decide the title and save: my camera note lands, their duration stays.
    rearmed = _opened_from(html)
    mine.post(reverse("projects:scene_edit", args=[scene.pk]), {**rearmed, "title": "Dawn, agreed"}, **HX)
    scene.refresh_from_db()
    assert (scene.title, scene.duration, scene.camera_notes) == ("Dawn, agreed", 3, "handheld")


def _opened_from(html: str) -> dict:
    import html as _html
    import re as _re

    form = html[html.index('data-testid="scene-editor"'):]
    form = form[:form.index("</form>")]
    data = {k: _html.unescape(v) for k, v in _re.findall(r'<input type="[a-z]+" name="([a-z_]+)" value="([^"]*)"', form)}
    prompt = _re.search(r'<textarea name="prompt"[^>]*>\n?(.*?)</textarea>', form, _re.S)
    size = _re.search(r'<option value="([^"]+)" selected', form)
    assert prompt and size, form
    data["prompt"] = _html.unescape(prompt.group(1))
    data["size"] = size.group(1)
    data.pop("csrfmiddlewaretoken", None)
    return data


def test_a_french_editor_is_told_in_french_that_the_board_changed_under_her_drag(client_for, editor, project,
                                                                                 make_scene):
    a, b = make_scene(title="A"), make_scene(title="B")
    make_scene(title="Added meanwhile")
    response = client_for(editor).post(reverse("projects:scene_order", args=[project.pk]),
                                       {"order": f"{b.pk},{a.pk}"}, HTTP_ACCEPT_LANGUAGE="fr", **HX)
    assert response.status_code == 409
    assert "Le storyboard a changé pendant que vous faisiez glisser" in response.content.decode()
