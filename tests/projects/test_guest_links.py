"""Guest review links: outside reviewers watch and comment on what a link shares, and nothing else."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from generation.models import Render
from projects.models import ActivityKind, Comment, ReviewLink
from projects.review import guest_links
from projects.review import services as review


@pytest.fixture
def shared(project, owner, scene, make_scene, finished_take):
    """Two scenes with takes; a link shares only the first."""
    other = make_scene(title="Secret ending", prompt="The twist nobody outside may see.")
    take, hidden = finished_take(scene), finished_take(other)
    link, token = guest_links.link_create(project=project, user=owner, label="Client", scope="scenes",
                                          scenes=[scene], days=3)
    return {"link": link, "token": token, "take": take, "hidden": hidden}


def _enter(client, token, name="Grace", password=None):
    url = reverse("projects:guest_review", args=[token])
    if password is not None:
        client.post(url, {"action": "password", "password": password})
    client.post(url, {"action": "name", "name": name})
    return client.get(url)


def test_only_a_hash_of_the_token_is_stored(shared):
    link = shared["link"]
    assert shared["token"] not in link.token_hash and len(shared["token"]) >= 32


def test_a_guest_sees_the_shared_scene_and_nothing_else(client, shared):
    page = _enter(client, shared["token"]).content.decode()
    take, hidden = shared["take"], shared["hidden"]
    assert "Dawn" in page and reverse("projects:guest_file", args=[shared["token"], take.pk, "video"]) in page
    assert "Secret ending" not in page and "twist" not in page
    assert "$" not in page and take.model not in page  # no costs, no provider details
    for forbidden in ("Characters", "Providers", "Team</a>"):
        assert forbidden not in page
    assert client.get(reverse("projects:guest_file", args=[shared["token"], hidden.pk, "video"])).status_code == 404
    video = client.get(reverse("projects:guest_file", args=[shared["token"], take.pk, "video"]))
    assert video.status_code == 200 and video["Content-Type"] == "video/mp4"


def test_a_guest_is_not_logged_in_to_the_studio(client, shared, project):
    _enter(client, shared["token"])
    response = client.get(reverse("projects:project_detail", args=[project.pk]))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_a_guest_must_give_a_name_before_watching_or_commenting(client, shared):
    url = reverse("projects:guest_review", args=[shared["token"]])
    page = client.get(url).content.decode()
    assert "Your name" in page and "guest_file" not in page
    take = shared["take"]
    assert client.post(reverse("projects:guest_comment", args=[shared["token"], take.pk]),
                       {"body": "hi"}).status_code == 404
    response = client.post(url, {"action": "name", "name": "  "})
    assert response.status_code == 403 and "Tell us your name" in response.content.decode()


def test_a_guest_comments_at_a_timecode_under_their_name(client, shared):
    _enter(client, shared["token"], name="Grace from Acme")
    take = shared["take"]
    response = client.post(reverse("projects:guest_comment", args=[shared["token"], take.pk]),
                           {"body": "Logo too small here", "at": "1.0"})
    assert response.status_code == 302
    comment = Comment.objects.get()
    assert comment.author is None and comment.guest_name == "Grace from Acme" and comment.via_link == shared["link"]
    assert comment.at_seconds == 1.0 and comment.who == "Grace from Acme (guest)"
    assert take.scene.project.activity.filter(kind=ActivityKind.COMMENT, actor_name__contains="Grace").exists()
    page = client.get(reverse("projects:guest_review", args=[shared["token"]])).content.decode()
    assert "Logo too small here" in page and "00:00:01:00" in page


def test_a_guest_replies_in_a_thread_and_only_on_takes_the_link_shows(client, shared, owner):
    from projects.review import services as review

    question = review.comment_add(take=shared["take"], author=owner, body="Does the logo read?", at=1, shared=True)
    secret = review.comment_add(take=shared["hidden"], author=owner, body="Ending notes", at=1, shared=True)
    _enter(client, shared["token"], name="Grace from Acme")
    response = client.post(reverse("projects:guest_reply", args=[shared["token"], question.pk]),
                           {"body": "It does now."})
    assert response.status_code == 302
    reply = question.replies.get()
    assert reply.guest_name == "Grace from Acme" and reply.via_link == shared["link"] and reply.author is None
    page = client.get(reverse("projects:guest_review", args=[shared["token"]])).content.decode()
    assert "It does now." in page and 'data-testid="reply"' in page
    assert client.post(reverse("projects:guest_reply", args=[shared["token"], secret.pk]),
                       {"body": "peek"}).status_code == 404
    assert not secret.replies.exists()
    refused = client.post(reverse("projects:guest_reply", args=[shared["token"], question.pk]), {"body": "y" * 5001})
    assert refused.status_code == 422
    assert 'data-testid="reply-error"' in refused.content.decode() and "y" * 5001 in refused.content.decode()


def test_a_bad_guest_comment_keeps_the_text_and_says_why(client, shared):
    _enter(client, shared["token"])
    take = shared["take"]
    response = client.post(reverse("projects:guest_comment", args=[shared["token"], take.pk]),
                           {"body": "Way past the end", "at": "500"})
    assert response.status_code == 422
    assert "past its end" in response.content.decode() and "Way past the end" in response.content.decode()
    assert not Comment.objects.exists()


def test_guests_cannot_comment_on_takes_outside_the_link(client, shared):
    _enter(client, shared["token"])
    response = client.post(reverse("projects:guest_comment", args=[shared["token"], shared["hidden"].pk]),
                           {"body": "peek"})
    assert response.status_code == 404 and not Comment.objects.exists()


def test_a_password_protected_link_opens_only_with_the_password(client, project, owner, scene, finished_take):
    finished_take(scene)
    link, token = guest_links.link_create(project=project, user=owner, label="Agency", scope="scenes",
                                          scenes=[scene], password="harbour-42")
    url = reverse("projects:guest_review", args=[token])
    page = client.get(url).content.decode()
    assert "Password" in page and "Dawn" not in page
    wrong = client.post(url, {"action": "password", "password": "guess"})
    assert wrong.status_code == 403 and "not right" in wrong.content.decode()
    assert "Dawn" in _enter(client, token, password="harbour-42").content.decode()
    assert link.password != "harbour-42"  # stored hashed


def test_an_expired_or_revoked_link_opens_nothing(client, shared):
    token, link = shared["token"], shared["link"]
    _enter(client, token)
    ReviewLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert client.get(reverse("projects:guest_review", args=[token])).status_code == 404
    assert client.get(reverse("projects:guest_file", args=[token, shared["take"].pk, "video"])).status_code == 404
    ReviewLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() + timedelta(days=1))
    guest_links.link_revoke(link=link, user=link.created_by)
    assert client.get(reverse("projects:guest_review", args=[token])).status_code == 404
    gone = client.get(reverse("projects:guest_review", args=["made-up-token"]))
    assert gone.status_code == 404 and "no longer works" in gone.content.decode()


def test_a_cut_link_shows_only_approved_takes_and_never_withheld_ones(client, project, owner, reviewer, scene,
                                                                     make_scene, finished_take):
    other = make_scene(title="Night")
    approved, unapproved = finished_take(scene), finished_take(other)
    review.take_approve(take=approved, user=reviewer)
    _link, token = guest_links.link_create(project=project, user=owner, label="Cut", scope="cut")
    page = _enter(client, token).content.decode()
    assert reverse("projects:guest_file", args=[token, approved.pk, "video"]) in page
    assert reverse("projects:guest_file", args=[token, unapproved.pk, "video"]) not in page
    Render.objects.filter(pk=approved.pk).update(quarantined_at=timezone.now(), quarantine_reason="consent revoked")
    page = client.get(reverse("projects:guest_review", args=[token])).content.decode()
    assert reverse("projects:guest_file", args=[token, approved.pk, "video"]) not in page
    assert client.get(reverse("projects:guest_file", args=[token, approved.pk, "video"])).status_code == 404


@pytest.mark.parametrize("fields, message", [
    ({"label": "", "scope": "cut"}, "Give the link a name"),
    ({"label": "X", "scope": "scenes"}, "at least one scene"),
    ({"label": "X", "scope": "cut", "days": 0}, "between 1 and 90 days"),
    ({"label": "X", "scope": "cut", "days": 91}, "between 1 and 90 days"),
    ({"label": "X", "scope": "everything"}, "Choose what the link shows"),
])
def test_bad_links_are_refused(project, owner, fields, message):
    with pytest.raises(ValidationError, match=message):
        guest_links.link_create(project=project, user=owner, **fields)


def test_owners_make_and_revoke_links_on_the_page_and_see_the_link_once(client_for, owner, project, scene):
    client = client_for(owner)
    url = reverse("projects:review_links", args=[project.pk])
    response = client.post(url, {"label": "Client round 1", "scope": "scenes", "scenes": [scene.pk], "days": "5",
                                 "password": ""})
    page = response.content.decode()
    assert response.status_code == 201 and "shown only once" in page
    link = ReviewLink.objects.get()
    assert "/review/" in page and link.is_live
    assert "/review/" not in client.get(url).content.decode().split('data-testid="links"')[1]
    client.post(reverse("projects:review_link_revoke", args=[project.pk, link.pk]))
    link.refresh_from_db()
    assert not link.is_live and "Revoked" in client.get(url).content.decode()


def test_a_bad_link_form_keeps_what_was_typed(client_for, owner, project):
    response = client_for(owner).post(reverse("projects:review_links", args=[project.pk]),
                                      {"label": "Agency review", "scope": "scenes", "days": "5"})
    page = response.content.decode()
    assert response.status_code == 422 and "at least one scene" in page and "Agency review" in page


def test_only_owners_manage_links(client_for, editor, reviewer, project):
    for user in (editor, reviewer):
        assert client_for(user).get(reverse("projects:review_links", args=[project.pk])).status_code == 403
