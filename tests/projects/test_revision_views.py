"""The revisions page: name the board, compare two revisions side by side, restore one."""

from projects.models import BoardRevision, Scene
from projects.storyboard import services


def test_naming_comparing_and_restoring_through_the_pages(project, owner, make_scene, client_for):
    dawn, boats = make_scene(title="Dawn"), make_scene(title="Boats")
    client = client_for(owner)
    client.post(f"/projects/{project.pk}/revisions/", {"name": "v1 sent to client"})
    services.scene_reorder(project=project, user=owner, scene_ids=[boats.pk, dawn.pk])
    services.scene_update(scene=boats, expected_version=Scene.objects.get(pk=boats.pk).version, user=owner,
                          title="Boats arrive")
    client.post(f"/projects/{project.pk}/revisions/", {"name": "v2"})
    assert list(BoardRevision.objects.filter(project=project).order_by("number").values_list("name", flat=True)) == [
        "v1 sent to client", "", "v2"]

    page = client.get(f"/projects/{project.pk}/revisions/compare/?a=1&b=3").content.decode()
    assert "Boats" in page and "Boats arrive" in page and 'data-status="edited"' in page
    assert "Moved: 1" in page

    assert client.post(f"/projects/{project.pk}/revisions/1/restore/").status_code == 302
    assert list(Scene.objects.filter(project=project).order_by("position").values_list("title", flat=True)) == [
        "Dawn", "Boats"]
    assert BoardRevision.objects.filter(project=project).count() == 4  # history kept, a restore added


def test_a_blank_or_too_long_name_gets_a_message_and_saves_nothing(project, owner, scene, client_for):
    client = client_for(owner)
    for name in ("   ", "x" * 121):
        response = client.post(f"/projects/{project.pk}/revisions/", {"name": name})
        assert response.status_code == 400 and 'data-testid="revision-error"' in response.content.decode()
    assert not BoardRevision.objects.filter(project=project).exists()


def test_a_viewer_cannot_restore_and_a_missing_revision_is_404(project, owner, viewer, scene, client_for):
    client_for(owner).post(f"/projects/{project.pk}/revisions/", {"name": "v1"})
    viewer_client = client_for(viewer)
    assert viewer_client.post(f"/projects/{project.pk}/revisions/1/restore/").status_code == 403
    assert viewer_client.get(f"/projects/{project.pk}/revisions/compare/?a=1&b=9").status_code == 404
    assert viewer_client.get(f"/projects/{project.pk}/revisions/compare/?a=x&b=1").status_code == 404


def test_what_made_a_revision_is_read_in_the_readers_language(project, owner, editor, make_scene, client_for):
    from tests.test_translations import ENGLISH_BROWSER, FRENCH_BROWSER, visible_text

    dawn, boats = make_scene(title="Dawn"), make_scene(title="Boats")
    services.scene_reorder(project=project, user=editor, scene_ids=[boats.pk, dawn.pk])  # made in English
    BoardRevision.objects.create(project=project, number=99, kind="edits", scenes=[],
                                 summary="Kept as it was written")  # a revision from before the codes

    french = visible_text(client_for(owner).get(f"/projects/{project.pk}/revisions/", **FRENCH_BROWSER).content.decode())
    english = visible_text(client_for(owner).get(f"/projects/{project.pk}/revisions/",
                                                 **ENGLISH_BROWSER).content.decode())
    assert "a réordonné les scènes\u00a0: 1. Boats, 2. Dawn" in french
    assert "reordered the scenes: 1. Boats, 2. Dawn" in english and "réordonné" not in english
    assert "Kept as it was written" in french
