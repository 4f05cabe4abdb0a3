"""The trash in the pages: Delete on the board answers with an Undo; the Trash page lists, restores
and (for owners) deletes forever; viewers and reviewers do none of it."""

import re

import pytest
from django.urls import reverse

from projects.models import AuditAction, AuditEntry, Scene
from projects.storyboard import trash

HX = {"HTTP_HX_REQUEST": "true"}


def frame_titles(html: str) -> list[str]:
    return re.findall(r'data-testid="frame-title">([^<]*)<', html)


def batch_in(html: str) -> str:
    found = re.search(r'name="batch" value="([^"]+)"', html)
    assert found, "no Undo form on the page"
    return found.group(1)


@pytest.fixture
def abc(make_scene):
    return [make_scene(title=t) for t in ("Arrival", "Bridge", "Cliffs")]


def test_deleting_from_the_panel_moves_the_scene_to_the_trash_and_offers_an_undo(client_for, editor, project, abc):
    response = client_for(editor).post(reverse("projects:scene_delete", args=[abc[1].pk]), **HX)

    html = response.content.decode()
    assert response.status_code == 200
    assert frame_titles(html) == ["Arrival", "Cliffs"]
    assert "“Bridge” moved to the trash." in html and 'data-testid="trash-undo"' in html
    assert 'id="trash-toast" class="toast-slot" aria-live="polite" hx-swap-oob="outerHTML"' in html
    assert re.search(r'<a id="trash-link" [^>]*hx-swap-oob="outerHTML">Trash \(1\)</a>', html)  # the menu counts it
    batch = batch_in(html)
    assert response.headers["HX-Push-Url"] == reverse("projects:project_detail", args=[project.pk]) + f"?undo={batch}"
    assert Scene.all_objects.get(pk=abc[1].pk).in_trash


def test_the_toasts_undo_brings_the_scenes_back_on_the_board(client_for, editor, project, abc):
    client = client_for(editor)
    deleted = client.post(reverse("projects:scene_bulk", args=[project.pk]),
                          {"action": "delete", "scene": [abc[0].pk, abc[2].pk]}, follow=True)
    assert frame_titles(deleted.content.decode()) == ["Bridge"]
    assert "2 scenes moved to the trash." in deleted.content.decode()

    undone = client.post(reverse("projects:trash_undo", args=[project.pk]),
                         {"batch": batch_in(deleted.content.decode())}, **HX)

    html = undone.content.decode()
    assert frame_titles(html) == ["Arrival", "Bridge", "Cliffs"]
    assert "Restored 2 scenes." in html and 'data-testid="trash-undo"' not in html
    assert undone.headers["HX-Push-Url"] == reverse("projects:project_detail", args=[project.pk])
    assert list(project.scenes.values_list("title", flat=True)) == ["Arrival", "Bridge", "Cliffs"]


def test_without_javascript_delete_and_undo_are_plain_forms_that_land_on_the_board(client_for, editor, project, abc):
    client = client_for(editor)
    board = client.post(reverse("projects:scene_delete", args=[abc[0].pk]), follow=True)
    html = board.content.decode()
    assert board.redirect_chain[-1][0].startswith(reverse("projects:project_detail", args=[project.pk]) + "?undo=")
    assert "“Arrival” moved to the trash." in html

    back = client.post(reverse("projects:trash_undo", args=[project.pk]), {"batch": batch_in(html)}, follow=True)

    assert "Restored 1 scene." in back.content.decode()
    assert frame_titles(back.content.decode()) == ["Arrival", "Bridge", "Cliffs"]


def test_an_undo_link_whose_scenes_are_back_offers_nothing(client_for, editor, project, abc):
    client = client_for(editor)
    trashed = trash.scene_trash(scene=abc[0], user=editor)
    trash.scene_restore(project=project, scene_ids=[abc[0].pk], user=editor)
    for undo in (trashed.batch, "not-a-batch"):
        page = client.get(reverse("projects:project_detail", args=[project.pk]), {"undo": undo})
        assert page.status_code == 200 and 'data-testid="trash-toast"' not in page.content.decode()


def test_a_teammates_undo_after_a_restore_from_the_trash_page_says_who_and_duplicates_nothing(
        client_for, client, editor, owner, project, abc):
    deleted = client_for(editor).post(reverse("projects:scene_delete", args=[abc[1].pk]), **HX)
    batch = batch_in(deleted.content.decode())
    # The owner restores it from the Trash page while the editor's toast is still up.
    client.force_login(owner)
    restored = client.post(reverse("projects:trash_restore", args=[project.pk]), {"only": abc[1].pk}, **HX)
    assert "Restored 1 scene." in restored.content.decode()

    client.force_login(editor)
    undone = client.post(reverse("projects:trash_undo", args=[project.pk]), {"batch": batch}, **HX)

    html = undone.content.decode()
    assert undone.status_code == 200
    assert f"{owner.username} had already restored “Bridge”: it is on the board." in html
    assert frame_titles(html) == ["Arrival", "Bridge", "Cliffs"]  # once, where it was
    assert Scene.all_objects.filter(project=project).count() == 3


def test_restoring_from_the_trash_page_after_a_teammates_undo_says_so(client_for, client, editor, owner, project,
                                                                      abc):
    trashed = trash.scene_trash(scene=abc[1], user=editor)
    client.force_login(owner)
    page = client.get(reverse("projects:project_trash", args=[project.pk]))  # open before the undo
    assert "Bridge" in page.content.decode()
    trash.trash_undo(project=project, batch=trashed.batch, user=editor)

    answer = client.post(reverse("projects:trash_restore", args=[project.pk]), {"only": abc[1].pk}, follow=True)

    html = answer.content.decode()
    assert f"{editor.username} had already restored “Bridge”: it is on the board." in html
    assert 'data-testid="trash-empty-note"' in html
    assert list(project.scenes.values_list("title", flat=True)) == ["Arrival", "Bridge", "Cliffs"]


def test_the_trash_page_lists_who_deleted_what_when_and_its_takes(client_for, editor, owner, project, make_scene,
                                                                  finished_take):
    from projects.review import services as review

    scene = make_scene(title="Harbour at dusk")
    finished_take(scene)
    review.comment_add(take=finished_take(scene), author=owner, body="Warmer.", at=1)
    trash.scene_trash(scene=scene, user=editor)

    page = client_for(owner).get(reverse("projects:project_trash", args=[project.pk]))

    html = page.content.decode()
    [row] = re.findall(r'<li class="trash-item".*?</li>', html, re.S)
    assert "<strong>Harbour at dusk</strong>" in row and "Was scene 1" in row and f"Deleted by {editor.username}" in row
    assert '<span data-testid="trash-takes">2 takes</span>' in row and "1 comment" in row
    assert "deleted forever on" in row
    assert 'data-testid="trash-link">Trash (1)</a>' in html


def test_restoring_ticked_scenes_from_the_trash_page_answers_with_its_region(client_for, editor, project, abc):
    trash.scene_bulk_trash(project=project, scene_ids=[abc[0].pk, abc[1].pk], user=editor)

    response = client_for(editor).post(reverse("projects:trash_restore", args=[project.pk]),
                                       {"scene": [abc[0].pk, abc[1].pk]}, **HX)

    html = response.content.decode()
    assert html.lstrip().startswith('<section id="trash"') and "Restored 2 scenes." in html
    assert list(project.scenes.values_list("title", flat=True)) == ["Arrival", "Bridge", "Cliffs"]


def test_restoring_nothing_ticked_says_to_select_a_scene(client_for, editor, project, abc):
    trash.scene_trash(scene=abc[0], user=editor)
    response = client_for(editor).post(reverse("projects:trash_restore", args=[project.pk]), {}, follow=True)
    assert "Select at least one scene to restore." in response.content.decode()
    assert Scene.all_objects.get(pk=abc[0].pk).in_trash


def test_an_owner_deletes_forever_and_empties_the_trash_and_the_log_says_so(client_for, owner, editor, project,
                                                                            abc):
    trash.scene_trash(scene=abc[0], user=editor)
    trash.scene_trash(scene=abc[1], user=editor)
    client = client_for(owner)
    page = client.get(reverse("projects:project_trash", args=[project.pk])).content.decode()
    assert 'data-testid="trash-delete"' in page and "Empty the trash (2 scenes)" in page

    one = client.post(reverse("projects:trash_delete", args=[project.pk]), {"scene": [abc[0].pk]}, **HX)
    assert "Deleted 1 scene forever, with its takes." in one.content.decode()
    rest = client.post(reverse("projects:trash_empty", args=[project.pk]), follow=True)
    assert "Deleted 1 scene forever" in rest.content.decode()
    assert 'data-testid="trash-empty-note"' in rest.content.decode()

    actions = list(AuditEntry.objects.filter(team=project.team).values_list("action", "actor_id"))
    assert (AuditAction.SCENES_DELETED_FOREVER, owner.pk) in actions
    assert (AuditAction.TRASH_EMPTIED, owner.pk) in actions
    log = client.get(reverse("projects:team_audit", args=[project.team_id]), {"action": "trash"}).content.decode()
    assert "Scenes deleted forever" in log and "Trash emptied" in log and "1. Arrival" in log


def test_editors_restore_but_only_owners_delete_forever(client_for, editor, project, abc):
    trash.scene_trash(scene=abc[0], user=editor)
    client = client_for(editor)
    page = client.get(reverse("projects:project_trash", args=[project.pk])).content.decode()
    assert 'data-testid="trash-restore-one"' in page and 'data-testid="trash-delete"' not in page
    assert client.post(reverse("projects:trash_delete", args=[project.pk]), {"scene": [abc[0].pk]}).status_code == 403
    assert client.post(reverse("projects:trash_empty", args=[project.pk])).status_code == 403
    assert Scene.all_objects.get(pk=abc[0].pk).in_trash


@pytest.mark.parametrize("role", ["viewer", "reviewer"])
def test_viewers_and_reviewers_cannot_delete_restore_or_open_the_trash(request, client_for, editor, project, abc,
                                                                      role):
    trashed = trash.scene_trash(scene=abc[0], user=editor)
    client = client_for(request.getfixturevalue(role))
    refused = [
        client.post(reverse("projects:scene_delete", args=[abc[1].pk])),
        client.post(reverse("projects:scene_bulk", args=[project.pk]), {"action": "delete", "scene": [abc[1].pk]}),
        client.get(reverse("projects:project_trash", args=[project.pk])),
        client.post(reverse("projects:trash_restore", args=[project.pk]), {"scene": [abc[0].pk]}),
        client.post(reverse("projects:trash_undo", args=[project.pk]), {"batch": trashed.batch}),
        client.post(reverse("projects:trash_delete", args=[project.pk]), {"scene": [abc[0].pk]}),
        client.post(reverse("projects:trash_empty", args=[project.pk])),
    ]
    assert [r.status_code for r in refused] == [403] * 7
    board = client.get(reverse("projects:project_detail", args=[project.pk]), {"undo": trashed.batch})
    html = board.content.decode()
    assert 'data-testid="trash-link"' not in html and 'data-testid="trash-toast"' not in html
    assert 'data-testid="scene-delete"' not in html
    assert list(project.scenes.values_list("title", flat=True)) == ["Bridge", "Cliffs"]
    assert Scene.all_objects.get(pk=abc[0].pk).in_trash


def test_a_take_of_a_scene_in_the_trash_is_not_found_by_its_review_page(client_for, editor, project, scene,
                                                                        finished_take):
    take = finished_take(scene)
    trash.scene_trash(scene=scene, user=editor)
    client = client_for(editor)
    assert client.get(reverse("projects:take_review", args=[take.pk])).status_code == 404
    assert client.get(reverse("projects:scene_panel", args=[project.pk, scene.pk])).status_code == 404
    assert client.get(reverse("generation:render_file", args=[take.pk, "video"])).status_code == 404


def test_another_teams_delete_is_neither_shown_nor_undone_from_our_project(client_for, editor, project, abc,
                                                                         outsider):
    from projects.models import Membership
    from projects.storyboard import services

    theirs = services.project_create(team=Membership.objects.get(user=outsider).team, user=outsider, name="Rival")
    secret = services.scene_create(project=theirs, user=outsider, title="Their secret scene", prompt="Shh.",
                                   duration=2, size="1280x720")
    trashed = trash.scene_trash(scene=secret, user=outsider)
    client = client_for(editor)

    board = client.get(reverse("projects:project_detail", args=[project.pk]), {"undo": trashed.batch})
    assert "Their secret scene" not in board.content.decode()
    assert 'data-testid="trash-toast"' not in board.content.decode()
    undone = client.post(reverse("projects:trash_undo", args=[project.pk]), {"batch": trashed.batch}, follow=True)
    assert "Their secret scene" not in undone.content.decode()
    assert Scene.all_objects.get(pk=secret.pk).in_trash  # theirs stays where they put it


def test_the_activity_feed_keeps_a_trashed_scenes_history_but_filters_and_links_only_the_board(
        client_for, editor, project, scene, finished_take):
    take = finished_take(scene)
    trash.scene_trash(scene=scene, user=editor)
    client = client_for(editor)

    feed = client.get(reverse("projects:project_activity", args=[project.pk])).content.decode()

    assert f"deleted scene 1, {scene.title}" in feed and f"take 1 of {scene.title} finished" in feed
    assert reverse("projects:take_review", args=[take.pk]) not in feed  # its page is gone with it
    assert f'<option value="{scene.pk}"' not in feed
    assert client.get(reverse("projects:project_activity", args=[project.pk]),
                      {"scene": scene.pk}).status_code == 404


def test_deleting_a_scene_a_teammate_deleted_a_moment_before_says_so(client_for, editor, owner, project, abc,
                                                                    monkeypatch):
    from projects.storyboard import views

    stale = Scene.objects.select_related("project__team").get(pk=abc[1].pk)  # found just before…
    membership = project.team.memberships.get(user=editor)
    monkeypatch.setattr(views, "get_scene_for", lambda user, pk: (stale, membership))
    trash.scene_trash(scene=abc[1], user=owner)  # …the owner's delete committed

    response = client_for(editor).post(reverse("projects:scene_delete", args=[abc[1].pk]), **HX)

    html = response.content.decode()
    assert response.status_code == 200 and "no longer on the storyboard; nothing was deleted" in html
    assert frame_titles(html) == ["Arrival", "Cliffs"]
    assert Scene.all_objects.get(pk=abc[1].pk).trashed_by == owner


def test_a_link_to_a_take_whose_scene_is_in_the_trash_says_so_and_leads_to_the_trash(
        client_for, editor, project, make_scene, finished_take):
    take = finished_take(make_scene(title="Harbour at dawn"))
    trash.scene_trash(scene=take.scene, user=editor)

    response = client_for(editor).get(reverse("projects:take_review", args=[take.pk]))

    assert response.status_code == 404  # not reviewable while it is in the trash
    page = response.content.decode()
    assert "is in the trash" in page and "Harbour at dawn" in page
    assert reverse("projects:project_trash", args=[project.pk]) in page


def test_another_teams_user_learns_nothing_of_a_trashed_take(client_for, outsider, editor, make_scene, finished_take):
    take = finished_take(make_scene(title="Harbour at dawn"))
    trash.scene_trash(scene=take.scene, user=editor)

    page = client_for(outsider).get(reverse("projects:take_review", args=[take.pk]))

    assert page.status_code == 404
    assert "Harbour at dawn" not in page.content.decode() and "trash" not in page.content.decode()
