"""Comments are team-only or shared with guests: who decides, and what each reply inherits."""

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError

from projects.models import Comment
from projects.review import guest_links
from projects.review import services as review


@pytest.fixture
def take(scene, finished_take):
    return finished_take(scene)


@pytest.fixture
def link(project, owner, scene):
    link, _token = guest_links.link_create(project=project, user=owner, label="Client", scope="scenes",
                                           scenes=[scene], days=3)
    return link


def test_a_teammates_comment_is_team_only_unless_they_share_it(take, editor):
    quiet = review.comment_add(take=take, author=editor, body="Sky looks cheap", at=1)
    loud = review.comment_add(take=take, author=editor, body="Is the logo big enough?", at=1, shared=True)
    quiet.refresh_from_db(), loud.refresh_from_db()
    assert quiet.shared is False and loud.shared is True


def test_a_guests_comment_and_reply_are_always_shared(take, link, editor):
    question = review.comment_add(take=take, guest_name="Grace", via_link=link, body="Too dark?", shared=False)
    team_thread = review.comment_add(take=take, author=editor, body="Shared note", shared=True)
    reply = review.comment_reply(parent=team_thread, guest_name="Grace", via_link=link, body="Agreed")
    question.refresh_from_db(), reply.refresh_from_db()
    assert question.shared and reply.shared


def test_a_request_for_changes_stays_with_the_team(take, reviewer):
    note = review.take_request_changes(take=take, user=reviewer, note="Internal: the client will hate the sky")
    note.refresh_from_db()
    assert note.shared is False
    with pytest.raises(ValidationError, match="internal decision note"):
        review.comment_share(comment=note, user=reviewer, shared=True)
    assert Comment.objects.get(pk=note.pk).shared is False


def test_a_teammates_answer_to_a_guest_is_shared_by_default_and_can_be_kept_in_the_team(take, link, editor):
    question = review.comment_add(take=take, guest_name="Grace", via_link=link, body="Can the boat be red?")
    answer = review.comment_reply(parent=question, author=editor, body="Yes, next take.")
    aside = review.comment_reply(parent=question, author=editor, body="Red costs a retake", shared=False)
    answer.refresh_from_db(), aside.refresh_from_db()
    assert answer.shared is True and aside.shared is False


def test_a_reply_in_a_team_only_thread_stays_team_only(take, editor, owner):
    thread = review.comment_add(take=take, author=editor, body="Between us: too slow")
    reply = review.comment_reply(parent=thread, author=owner, body="Agreed", shared=True)
    reply.refresh_from_db()
    assert reply.shared is False
    with pytest.raises(ValidationError, match="share its first comment"):
        review.comment_share(comment=reply, user=owner, shared=True)


def test_the_author_or_an_owner_chooses_who_reads_a_comment(take, editor, reviewer, owner):
    comment = review.comment_add(take=take, author=editor, body="Logo placement", at=1)
    with pytest.raises(ValidationError, match="Only the person who wrote a comment, or an owner"):
        review.comment_share(comment=comment, user=reviewer, shared=True)
    comment.refresh_from_db()
    assert comment.shared is False
    review.comment_share(comment=comment, user=editor, shared=True)
    comment.refresh_from_db()
    assert comment.shared is True
    review.comment_share(comment=comment, user=owner, shared=False)
    comment.refresh_from_db()
    assert comment.shared is False


def test_a_guests_comment_cannot_be_hidden_from_guests(take, link, owner):
    question = review.comment_add(take=take, guest_name="Grace", via_link=link, body="Too dark?")
    with pytest.raises(ValidationError, match="always shared"):
        review.comment_share(comment=question, user=owner, shared=False)
    question.refresh_from_db()
    assert question.shared is True


def test_existing_comments_become_team_only_except_what_guests_wrote_or_were_answered(take, link, editor, reviewer):
    """The data migration (0012): before it, a review link showed every comment on its takes."""
    from importlib import import_module

    guest_question = review.comment_add(take=take, guest_name="Grace", via_link=link, body="Why blue?")
    answer = review.comment_reply(parent=guest_question, author=editor, body="Mood.")
    internal = review.comment_add(take=take, author=editor, body="Budget is tight", shared=True)
    internal_reply = review.comment_reply(parent=internal, author=reviewer, body="Very")
    request = review.take_request_changes(take=take, user=reviewer, note="Redo the sky")
    orphan = review.comment_add(take=take, author=editor, body="Written by someone who left")
    Comment.objects.filter(pk=orphan.pk).update(author=None)  # a deleted account: not a guest
    Comment.objects.update(shared=False)  # as the field's default left every row

    migration = import_module("projects.migrations.0012_comment_shared_with_guests")
    migration.share_what_guests_wrote_and_were_answered(apps, None)

    shared = set(Comment.objects.filter(shared=True).values_list("pk", flat=True))
    assert shared == {guest_question.pk, answer.pk}
    assert not {internal.pk, internal_reply.pk, request.pk, orphan.pk} & shared


# --- What a guest page shows ------------------------------------------------------------------


from django.urls import reverse  # noqa: E402


def _enter(client, token, name="Grace"):
    url = reverse("projects:guest_review", args=[token])
    client.post(url, {"action": "name", "name": name})
    return client.get(url)


@pytest.fixture
def guest_link(project, owner, scene, take):
    link, token = guest_links.link_create(project=project, user=owner, label="Client", scope="scenes",
                                          scenes=[scene], days=3)
    return link, token


def test_a_guest_reads_only_the_shared_comments(client, guest_link, take, editor, reviewer, owner):
    link, token = guest_link
    secret = review.comment_add(take=take, author=editor, body="Between us: the sky is cheap", at=0.5)
    review.comment_reply(parent=secret, author=owner, body="Fix before the client notices")
    review.comment_resolve(comment=secret, user=owner, resolved=True)
    public = review.comment_add(take=take, author=editor, body="We kept the logo small on purpose", at=1,
                                shared=True)
    review.comment_reply(parent=public, author=owner, body="Internal aside on the logo", shared=False)
    review.comment_reply(parent=public, author=owner, body="Happy to change it")
    review.take_request_changes(take=take, user=reviewer, note="Decision note: redo the mist")
    review.take_approve(take=take, user=reviewer, note="Approval note: budget reasons")

    page = _enter(client, token).content.decode()
    assert "We kept the logo small on purpose" in page and "Happy to change it" in page
    for hidden in ("Between us", "Fix before the client", "Internal aside", "Decision note", "Approval note",
                   "Changes requested"):
        assert hidden not in page
    assert page.count('data-testid="comment"') == 1 and page.count('data-testid="reply"') == 1
    assert page.count('data-marker-at=') == 1  # the timeline shows no marker of a team-only note


def test_a_guest_never_reads_team_usernames_in_a_comment(client, guest_link, take, editor, reviewer, owner):
    link, token = guest_link
    thread = review.comment_add(take=take, author=editor, body="@rita will check the logo; see logo@2x.png",
                                at=1, shared=True)
    review.comment_resolve(comment=thread, user=reviewer, resolved=True)
    page = _enter(client, token).content.decode()
    assert "@teammate will check the logo; see logo@2x.png" in page
    assert "rita" not in page  # not in the text, the timeline's tooltip, nor "Resolved by"
    assert "Resolved" in page and editor.get_username() in page  # the author's own name stays


def test_a_guest_cannot_reply_to_a_team_only_comment(client, guest_link, take, editor):
    link, token = guest_link
    secret = review.comment_add(take=take, author=editor, body="Team only", at=1)
    _enter(client, token)
    response = client.post(reverse("projects:guest_reply", args=[token, secret.pk]), {"body": "peek"})
    assert response.status_code == 404 and not secret.replies.exists()


def test_a_guest_of_one_link_reads_nothing_of_takes_outside_it(client, project, owner, scene, take, make_scene,
                                                                 finished_take, editor):
    other_scene = make_scene(title="Ending")
    other_take = finished_take(other_scene)
    _link_a, token_a = guest_links.link_create(project=project, user=owner, label="A", scope="scenes",
                                               scenes=[scene], days=3)
    link_b, _token_b = guest_links.link_create(project=project, user=owner, label="B", scope="scenes",
                                               scenes=[other_scene], days=3)
    for_b = review.comment_add(take=other_take, author=editor, body="Shared on the ending", shared=True)
    from_b = review.comment_add(take=other_take, guest_name="Bob", via_link=link_b, body="Bob's note on the end")
    page = _enter(client, token_a).content.decode()
    assert "Shared on the ending" not in page and "Bob's note" not in page and "Ending" not in page
    for comment in (for_b, from_b):
        response = client.post(reverse("projects:guest_reply", args=[token_a, comment.pk]), {"body": "peek"})
        assert response.status_code == 404 and not comment.replies.exists()


# --- What the team sees and switches -----------------------------------------------------------


def test_the_review_page_marks_each_comment_and_its_author_shares_it(client_for, take, editor):
    client = client_for(editor)
    url = reverse("projects:take_review", args=[take.pk])
    client.post(reverse("projects:comment_create", args=[take.pk]), {"body": "Team thought", "at": "1"})
    client.post(reverse("projects:comment_create", args=[take.pk]), {"body": "For the client", "shared": "1"})
    quiet, loud = Comment.objects.get(body="Team thought"), Comment.objects.get(body="For the client")
    assert not quiet.shared and loud.shared
    page = client.get(url).content.decode()
    assert "Team only" in page and "Shared with guests" in page and 'data-testid="comment-shared"' in page

    response = client.post(reverse("projects:comment_update", args=[quiet.pk]), {"action": "share"},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and 'data-testid="unshare"' in response.content.decode()
    quiet.refresh_from_db()
    assert quiet.shared is True


def test_someone_else_cannot_switch_a_comment_and_is_told_why(client_for, take, editor, reviewer):
    comment = review.comment_add(take=take, author=editor, body="Mine", at=1)
    client = client_for(reviewer)
    assert 'data-testid="share"' not in client.get(reverse("projects:take_review", args=[take.pk])).content.decode()
    response = client.post(reverse("projects:comment_update", args=[comment.pk]), {"action": "share"},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "or an owner, can choose who sees it" in response.content.decode()
    comment.refresh_from_db()
    assert comment.shared is False


def test_another_teams_member_cannot_switch_a_comment(client_for, take, editor, outsider):
    comment = review.comment_add(take=take, author=editor, body="Ours", at=1)
    response = client_for(outsider).post(reverse("projects:comment_update", args=[comment.pk]), {"action": "share"})
    assert response.status_code == 404
    comment.refresh_from_db()
    assert comment.shared is False
