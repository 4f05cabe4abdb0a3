"""Writing the storyboard: scenes are added, edited, reordered and deleted in place."""

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
    assert html.lstrip().startswith('<div id="storyboard"')  # the partial, not the page
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


def test_the_edit_form_replaces_the_card_and_saving_shows_the_card_again(client_for, editor, scene):
    client = client_for(editor)
    form = client.get(reverse("projects:scene_edit", args=[scene.pk]), **HX)
    assert f'name="version" value="{scene.version}"' in form.content.decode()
    saved = client.post(reverse("projects:scene_edit", args=[scene.pk]),
                        scene_data(title="Dawn, revised", version=scene.version), **HX)
    assert saved.status_code == 200
    assert "Dawn, revised" in saved.content.decode()
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
    first, second, third = make_scene(title="A"), make_scene(title="B"), make_scene(title="C")
    response = client_for(editor).post(reverse("projects:scene_move", args=[first.pk, "down"]), **HX)
    assert response.content.decode().lstrip().startswith('<ol id="scene-list"')
    assert list(Scene.objects.values_list("title", flat=True)) == ["B", "A", "C"]


def test_moving_the_first_scene_up_changes_nothing(client_for, editor, make_scene):
    first, second = make_scene(title="A"), make_scene(title="B")
    client_for(editor).post(reverse("projects:scene_move", args=[first.pk, "up"]), **HX)
    assert list(Scene.objects.values_list("title", flat=True)) == ["A", "B"]


def test_deleting_a_scene_renumbers_the_rest(client_for, editor, make_scene):
    a, b, c = make_scene(title="A"), make_scene(title="B"), make_scene(title="C")
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


def test_a_viewer_reads_the_storyboard(client_for, viewer, project, scene):
    response = client_for(viewer).get(reverse("projects:project_detail", args=[project.pk]))
    assert response.status_code == 200
    assert scene.prompt in response.content.decode()


def test_the_storyboard_query_count_does_not_grow_with_takes(client_for, editor, project, make_scene, render_take,
                                                              django_assert_max_num_queries):
    client = client_for(editor)
    for index in range(2):
        render_take(make_scene(title=f"S{index}"))
    url = reverse("projects:project_detail", args=[project.pk])
    client.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for index in range(2, 6):
        render_take(make_scene(title=f"S{index}"))
    with django_assert_max_num_queries(len(few)):  # the same queries, however many scenes and takes
        client.get(url)
