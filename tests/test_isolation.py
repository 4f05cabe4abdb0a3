"""Every page and endpoint: another team's user gets a 404, an anonymous visitor the login page."""

import pytest
from django.urls import reverse

from generation.models import Export
from projects import guest_links, review
from projects.models import Invitation, Membership


@pytest.fixture
def urls(team, project, scene, finished_take, owner):
    take = finished_take(scene)
    membership = Membership.objects.get(user=owner)
    comment = review.comment_add(take=take, author=owner, body="Mine", at=1, requests_changes=True)
    link, _token = guest_links.link_create(project=project, user=owner, label="Client", scope="cut")
    export = Export.objects.create(project=project, created_by=owner, status="succeeded")
    return [
        ("get", reverse("generation:export_list", args=[project.pk])),
        ("get", reverse("generation:batch_render", args=[project.pk])),
        ("post", reverse("generation:batch_render", args=[project.pk])),
        ("post", reverse("generation:export_create", args=[project.pk])),
        ("get", reverse("generation:export_status", args=[export.pk])),
        *[("get", reverse("generation:export_file", args=[export.pk, kind])) for kind in ("mp4", "zip", "pdf")],
        ("get", reverse("projects:take_review", args=[take.pk])),
        ("post", reverse("projects:comment_create", args=[take.pk])),
        ("post", reverse("projects:take_decide", args=[take.pk])),
        ("post", reverse("projects:comment_update", args=[comment.pk])),
        ("post", reverse("projects:comment_rerender", args=[comment.pk])),
        ("post", reverse("projects:comment_reply", args=[comment.pk])),
        ("get", reverse("projects:scene_compare", args=[scene.pk])),
        ("get", reverse("projects:project_cut", args=[project.pk])),
        ("get", reverse("projects:project_activity", args=[project.pk])),
        ("get", reverse("projects:review_links", args=[project.pk])),
        ("post", reverse("projects:review_links", args=[project.pk])),
        ("post", reverse("projects:review_link_revoke", args=[project.pk, link.pk])),
        ("get", reverse("projects:project_detail", args=[project.pk])),
        ("post", reverse("projects:scene_create", args=[project.pk])),
        ("post", reverse("projects:project_budget", args=[project.pk])),
        ("get", reverse("projects:scene_card", args=[scene.pk])),
        ("get", reverse("projects:scene_panel", args=[project.pk, scene.pk])),
        ("post", reverse("projects:scene_order", args=[project.pk])),
        ("post", reverse("projects:scene_bulk", args=[project.pk])),
        ("post", reverse("projects:board_view", args=[project.pk])),
        ("get", reverse("projects:scene_edit", args=[scene.pk])),
        ("post", reverse("projects:scene_edit", args=[scene.pk])),
        ("get", reverse("projects:scene_delete", args=[scene.pk])),
        ("post", reverse("projects:scene_delete", args=[scene.pk])),
        ("post", reverse("projects:scene_move", args=[scene.pk, "up"])),
        ("post", reverse("projects:scene_approve", args=[scene.pk, take.pk])),
        ("post", reverse("projects:team_switch", args=[team.pk])),
        ("get", reverse("projects:team_members", args=[team.pk])),
        ("post", reverse("projects:team_members", args=[team.pk])),
        ("post", reverse("projects:member_update", args=[team.pk, membership.pk])),
        ("post", reverse("generation:render_create", args=[scene.pk])),
        ("get", reverse("generation:render_status", args=[take.pk])),
        ("post", reverse("generation:render_retry", args=[take.pk])),
        ("post", reverse("generation:render_cancel", args=[take.pk])),
        ("post", reverse("generation:render_remix", args=[take.pk])),
        ("post", reverse("projects:scene_reference", args=[scene.pk])),
        ("get", reverse("projects:scene_reference_image", args=[scene.pk, "original"])),
        ("get", reverse("projects:scene_reference_image", args=[scene.pk, "crop"])),
        ("get", reverse("generation:connection_list", args=[team.pk])),
        ("get", reverse("generation:connection_edit", args=[team.pk, team.connections.get().pk])),
        ("post", reverse("generation:connection_test", args=[team.pk, team.connections.get().pk])),
        ("get", reverse("generation:render_file", args=[take.pk, "video"])),
        ("get", reverse("generation:render_file", args=[take.pk, "thumbnail"])),
        # The live channel: a stream, its fallback poll and presence, per project; the team's stream.
        ("get", reverse("projects:project_events", args=[project.pk])),
        ("get", reverse("projects:project_changes", args=[project.pk])),
        ("post", reverse("projects:project_presence", args=[project.pk])),
        ("get", reverse("projects:team_events", args=[team.pk])),
    ]


def test_another_teams_user_gets_404_everywhere(client_for, outsider, urls, project):
    client = client_for(outsider)
    for method, url in urls:
        response = getattr(client, method)(url)
        assert response.status_code == 404, f"{method.upper()} {url} gave {response.status_code}"
    assert project.scenes.count() == 1  # nothing changed


def test_anonymous_visitors_are_sent_to_login(client, urls):
    for method, url in urls:
        response = getattr(client, method)(url)
        assert response.status_code == 302, f"{method.upper()} {url} gave {response.status_code}"
        assert response.url.startswith(reverse("login"))


def test_project_list_shows_only_my_teams_projects(client_for, outsider, project):
    page = client_for(outsider).get(reverse("projects:project_list")).content.decode()
    assert project.name not in page


def test_unknown_ids_are_404(client_for, owner):
    client = client_for(owner)
    assert client.get(reverse("projects:project_detail", args=[999999])).status_code == 404
    assert client.get(reverse("generation:render_status", args=[999999])).status_code == 404
    assert client.get(reverse("invitation_accept", args=["no-such-token"])).status_code == 404


def test_the_login_page_is_public(client):
    assert client.get(reverse("login")).status_code == 200


def test_an_invitation_link_needs_no_login(client, team, owner):
    invitation = Invitation.objects.create(team=team, email="x@example.com", role="editor", invited_by=owner)
    assert client.get(reverse("invitation_accept", args=[invitation.token])).status_code == 200
