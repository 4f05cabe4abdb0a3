"""Comments are team-only or shared with guests: who decides, and what each reply inherits."""

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError

from projects import guest_links, review
from projects.models import Comment


@pytest.fixture
def take(scene, render_take):
    return render_take(scene)


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
