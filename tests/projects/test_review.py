"""Reviewing takes: time-coded comments, approvals and requests for changes, scene
statuses, the project progress bar, the activity feed and email notifications."""

import json
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from generation.models import Render, Status
from projects import selectors
from projects.models import (
    Activity,
    Comment,
    Decision,
    NotificationPreference,
    ReviewDecision,
    SceneStatus,
)
from projects.review import services as review
from projects.storyboard import services, trash

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def take(scene, finished_take):
    return finished_take(scene)


@pytest.fixture
def sent(django_capture_on_commit_callbacks):
    """Run what was queued for after the commit: the notification emails."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


# --- Comments ------------------------------------------------------------------------------------


def test_a_comment_is_anchored_at_its_timecode_and_listed_in_time_order(take, reviewer, editor):
    late = review.comment_add(take=take, author=reviewer, body="Cut earlier here", at="1.5")
    early = review.comment_add(take=take, author=editor, body="Mist too thick", at=0.3, until=1.0)
    general = review.comment_add(take=take, author=editor, body="Lovely overall")
    assert list(take.comments.all()) == [early, late, general]
    assert early.timecode == "00:00.3–00:01.0"
    assert late.timecode == "00:01.5"
    assert general.timecode == ""


@pytest.mark.parametrize("at, until, message", [
    ("", "", "Write something"),
    ("-1", "", "number of seconds"),
    ("abc", "", "number of seconds"),
    ("nan", "", "number of seconds"),
    ("9", "", "past its end"),
    ("1.5", "1.0", "must come after its start"),
    ("", "1.0", "A range needs a start"),
])
def test_bad_comments_are_refused_with_a_reason(take, reviewer, at, until, message):
    body = "" if message == "Write something" else "Note"
    with pytest.raises(ValidationError, match=message):
        review.comment_add(take=take, author=reviewer, body=body, at=at, until=until)
    assert not take.comments.exists()


def test_an_unfinished_or_withheld_take_takes_no_comments(scene, reviewer, take):
    running = Render.objects.create(scene=scene, provider="local", model="m", recipe={}, status=Status.RUNNING)
    with pytest.raises(ValidationError, match="Only a finished take"):
        review.comment_add(take=running, author=reviewer, body="Hm")
    Render.objects.filter(pk=take.pk).update(quarantined_at="2026-11-01T00:00Z", quarantine_reason="consent revoked")
    take.refresh_from_db()
    with pytest.raises(ValidationError, match="withheld"):
        review.comment_add(take=take, author=reviewer, body="Hm")


def test_editing_a_comment_keeps_its_earlier_wording(take, reviewer, editor):
    comment = review.comment_add(take=take, author=reviewer, body="Too dark", at=1)
    review.comment_edit(comment=comment, user=reviewer, body="Too dark on the left")
    comment.refresh_from_db()
    assert comment.body == "Too dark on the left" and comment.edited_at
    assert [r.body for r in comment.revisions.all()] == ["Too dark"]
    with pytest.raises(ValidationError, match="Only the person who wrote"):
        review.comment_edit(comment=comment, user=editor, body="Fine")


def test_comments_can_be_resolved_and_reopened(take, reviewer, editor):
    comment = review.comment_add(take=take, author=reviewer, body="Fix the horizon", at=1)
    review.comment_resolve(comment=comment, user=editor, resolved=True)
    assert comment.is_resolved and comment.resolved_by == editor
    review.comment_resolve(comment=comment, user=reviewer, resolved=False)
    comment.refresh_from_db()
    assert not comment.is_resolved and comment.resolved_by is None


def test_an_at_mention_emails_the_teammate_unless_they_opted_out(take, reviewer, editor, owner, mailoutbox, sent):
    mailoutbox.clear()
    with sent():
        review.comment_add(take=take, author=reviewer, body=f"@{editor.username} can you look at this?", at=1)
    assert [m.to for m in mailoutbox] == [[editor.email]]
    assert "mentioned you" in mailoutbox[0].subject and "00:01.0" in mailoutbox[0].body

    NotificationPreference.objects.create(user=editor, mentions=False)
    mailoutbox.clear()
    with sent():
        review.comment_add(take=take, author=reviewer, body=f"@{editor.username} and @{owner.username}?")
    assert [m.to for m in mailoutbox] == [[owner.email]]


def test_a_mention_at_the_end_of_a_sentence_still_reaches_the_teammate(take, reviewer, editor, mailoutbox, sent):
    mailoutbox.clear()
    with sent():
        review.comment_add(take=take, author=reviewer, body=f"Over to you, @{editor.username}.", at=1)
    assert [m.to for m in mailoutbox] == [[editor.email]]


def test_mentioning_someone_outside_the_team_notifies_nobody(take, reviewer, outsider, mailoutbox, sent):
    mailoutbox.clear()
    with sent():
        review.comment_add(take=take, author=reviewer, body=f"@{outsider.username} look")
    assert mailoutbox == []


# --- Decisions and statuses -------------------------------------------------------------------


def test_replies_thread_under_the_comment_they_answer(take, reviewer, editor, owner):
    question = review.comment_add(take=take, author=reviewer, body="Is the gull CG?", at=1)
    answer = review.comment_reply(parent=question, author=editor, body="Yes, from the previz.")
    again = review.comment_reply(parent=answer, author=owner, body="Keep it.")  # a reply to a reply joins the thread
    assert answer.parent == question and again.parent == question
    assert (answer.at_seconds, answer.take) == (None, take)
    assert list(selectors.threads(take.comments.all())) == [question]
    assert list(question.replies.order_by("created_at")) == [answer, again]
    assert Activity.objects.filter(kind="comment", text__startswith=f"replied to {reviewer.username}").count() == 2
    with pytest.raises(ValidationError, match="first comment"):
        review.comment_resolve(comment=answer, user=reviewer, resolved=True)
    with pytest.raises(ValidationError):
        review.comment_reply(parent=question, author=editor, body="   ")


def test_everyone_who_wrote_in_a_thread_hears_of_a_reply_once(take, reviewer, editor, owner, mailoutbox, sent):
    question = review.comment_add(take=take, author=reviewer, body="Is the gull CG?", at=1)
    review.comment_reply(parent=question, author=editor, body="Yes.")
    mailoutbox.clear()
    with sent():
        review.comment_reply(parent=question, author=owner, body=f"Keep it, @{editor.username}.")
    by_subject = {m.to[0]: m.subject for m in mailoutbox}
    assert set(by_subject) == {reviewer.email, editor.email}  # not the owner, who wrote it
    assert f"{owner.username} replied on" in by_subject[reviewer.email]
    assert "mentioned you" in by_subject[editor.email]  # one email each: the mention, not also the reply


def test_a_thread_member_who_mutes_mentions_still_hears_of_a_reply_that_mentions_them(
        take, reviewer, editor, owner, mailoutbox, sent):
    question = review.comment_add(take=take, author=editor, body="Is the gull CG?", at=1)
    NotificationPreference.objects.create(user=editor, mentions=False)
    mailoutbox.clear()
    with sent():
        review.comment_reply(parent=question, author=owner, body=f"Keep it, @{editor.username}.")
    assert [(m.to, "replied on" in m.subject) for m in mailoutbox] == [([editor.email], True)]


def test_someone_who_left_the_team_hears_no_more_of_its_threads(take, reviewer, editor, owner, mailoutbox, sent):
    from projects.models import Membership

    question = review.comment_add(take=take, author=editor, body="Is the gull CG?", at=1)
    Membership.objects.filter(user=editor, team=take.scene.project.team).delete()
    mailoutbox.clear()
    with sent():
        review.comment_reply(parent=question, author=owner, body="Yes.")
    assert mailoutbox == []


def test_a_teammate_replies_from_the_review_page_and_viewers_cannot(client_for, take, reviewer, editor, viewer):
    question = review.comment_add(take=take, author=reviewer, body="Is the gull CG?", at=1)
    url = reverse("projects:comment_reply", args=[question.pk])
    page = client_for(editor).post(url, {"body": "Yes, from the previz."}, HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="reply"' in page and "Yes, from the previz." in page
    assert client_for(viewer).post(url, {"body": "me too"}).status_code == 403
    assert question.replies.count() == 1
    too_long = "x" * 5001
    kept = client_for(editor).post(url, {"body": too_long}, HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="reply-error"' in kept and too_long in kept  # the typed text stays in its form
    assert question.replies.count() == 1
    page = client_for(editor).get(reverse("projects:take_review", args=[take.pk])).content.decode()
    assert "Comments (2)" in page  # replies counted, as on the take's card


def _status(scene):
    from projects.models import Scene

    return selectors.with_review_status(Scene.objects.filter(pk=scene.pk))[0].review_status


def test_scene_status_follows_takes_and_decisions(scene, reviewer, editor, finished_take):
    assert _status(scene) == SceneStatus.NO_TAKE
    first = finished_take(scene)
    assert _status(scene) == SceneStatus.IN_REVIEW
    review.take_request_changes(take=first, user=reviewer, note="Slower push-in", at=1)
    assert _status(scene) == SceneStatus.CHANGES_REQUESTED
    second = finished_take(scene)
    assert _status(scene) == SceneStatus.IN_REVIEW
    review.take_approve(take=second, user=reviewer)
    assert _status(scene) == SceneStatus.APPROVED


def test_every_decision_is_recorded_with_who_when_which_take_and_comment(scene, take, reviewer, owner):
    comment = review.take_request_changes(take=take, user=reviewer, note="Less fog", at=0.5)
    review.take_approve(take=take, user=owner, note="Fine after all")
    history = selectors.history(scene)
    assert [(d.decision, d.by, d.take) for d in history] == [
        (Decision.APPROVED, owner, take), (Decision.CHANGES_REQUESTED, reviewer, take)]
    assert history[1].comment == comment and comment.requests_changes
    assert history[0].note == "Fine after all"
    with pytest.raises(ValueError):
        history[0].delete()
    with pytest.raises(ValueError):
        history[0].save()


def test_requesting_changes_on_the_approved_take_withdraws_the_approval(scene, take, reviewer):
    review.take_approve(take=take, user=reviewer)
    review.take_request_changes(take=take, user=reviewer, note="Actually, no")
    scene.refresh_from_db()
    assert scene.approved_take is None and _status(scene) == SceneStatus.CHANGES_REQUESTED


def test_approval_and_changes_email_the_takes_author_and_commenters(take, reviewer, editor, owner, mailoutbox,
                                                                    sent):
    review.comment_add(take=take, author=owner, body="Nice")
    mailoutbox.clear()
    with sent():
        review.take_request_changes(take=take, user=reviewer, note="More light")
    assert sorted(m.to[0] for m in mailoutbox) == sorted([editor.email, owner.email])
    assert all("changes requested" in m.subject for m in mailoutbox)
    NotificationPreference.objects.create(user=owner, approvals=False)
    mailoutbox.clear()
    with sent():
        review.take_approve(take=take, user=reviewer)
    assert [m.to for m in mailoutbox] == [[editor.email]]
    assert "approved" in mailoutbox[0].subject


@pytest.mark.usefixtures("previz_without_encode")
def test_a_request_for_changes_rerenders_with_the_edited_prompt_linked_to_the_comment(
        scene, take, owner, django_capture_on_commit_callbacks):
    comment = review.take_request_changes(take=take, user=owner, note="Make it dusk", at=1)
    key = uuid.uuid4()
    with django_capture_on_commit_callbacks(execute=True):
        new_take, created = review.rerender_for(comment=comment, user=owner, prompt="A harbour at dusk.",
                                                idempotency_key=key)
    again, created_again = review.rerender_for(comment=comment, user=owner, prompt="A harbour at dusk.",
                                               idempotency_key=key)
    assert created and not created_again and again == new_take  # one click, one take
    new_take.refresh_from_db()
    comment.refresh_from_db()
    scene.refresh_from_db()
    assert comment.retake == new_take and new_take.parent == take and new_take.scene == scene
    assert scene.prompt == "A harbour at dusk."
    assert "dusk" in new_take.recipe["prompt"] and new_take.status == Status.SUCCEEDED


# --- Activity ------------------------------------------------------------------------------------


def test_the_activity_feed_records_renders_comments_decisions_and_edits(scene, take, reviewer, owner):
    review.comment_add(take=take, author=reviewer, body="Good", at=1)
    review.take_approve(take=take, user=reviewer)
    services.scene_update(scene=scene, expected_version=scene.version, user=owner, title="Dawn, wide")
    kinds = list(Activity.objects.filter(project=scene.project).values_list("kind", flat=True))
    assert kinds == ["scene_edited", "approved", "comment", "render_finished", "render_started",
                     "scene_created", "project_created"]
    edited = Activity.objects.filter(kind="scene_edited").get()
    assert edited.actor == owner and "title" in edited.text


def test_a_failed_render_is_in_the_feed_and_emails_its_author(scene, editor, mailoutbox, sent):
    take = Render.objects.create(scene=scene, provider="local", model="m", recipe={}, status=Status.RUNNING,
                                 created_by=editor)
    mailoutbox.clear()
    with sent():
        take.mark_failed("The provider refused the prompt (moderation).")
    entry = Activity.objects.get(kind="render_failed")
    assert "moderation" in entry.text and entry.take == take
    assert [m.to for m in mailoutbox] == [[editor.email]] and "failed" in mailoutbox[0].subject


def test_a_take_that_may_have_been_billed_is_not_called_failed_in_the_digest(scene, editor, mailoutbox, sent):
    """A worker crashed while sending it: the provider may have made and billed it (pipeline.render_recover_submission)."""
    take = Render.objects.create(scene=scene, provider="local", model="m", recipe={}, status=Status.SUBMITTING,
                                 created_by=editor)
    mailoutbox.clear()
    with sent():
        take.advance(Status.FAILED, billing_unconfirmed=True, error_message="The studio stopped while sending it.")
    (mail,) = mailoutbox
    assert mail.subject.endswith(f"{scene.title}: take {take.number} (Unconfirmed — may be billed)")
    assert "failed" not in mail.subject

    others = [Render.objects.create(scene=scene, provider="local", model="m", recipe={}, status=Status.RUNNING,
                                    created_by=editor) for _ in range(2)]
    with sent():
        others[0].advance(Status.FAILED, billing_unconfirmed=True, error_message="The studio stopped.")
        others[1].mark_failed("Moderation refused the prompt.")
    assert mailoutbox[1].subject.endswith("1 failed, 1 unconfirmed — may be billed")


def test_takes_that_settle_together_reach_their_author_as_one_email(scene, editor, mailoutbox, sent):
    """A storyboard rendered in one go is one email, not one per take; later takes make the next one."""
    takes = [Render.objects.create(scene=scene, provider="local", model="m", recipe={}, status=Status.DOWNLOADING,
                                   created_by=editor, number=n) for n in (1, 2, 3)]
    mailoutbox.clear()
    with sent():
        takes[0].advance(Status.SUCCEEDED)
        takes[1].mark_failed("Moderation refused the prompt.")
        takes[2].advance(Status.SUCCEEDED)
    assert len(mailoutbox) == 1
    (mail,) = mailoutbox
    assert mail.to == [editor.email] and "2 takes finished, 1 failed" in mail.subject
    for take in takes:
        assert f"take {take.number} of {scene.title}" in mail.body
        assert reverse("projects:take_review", args=[take.pk]) in mail.body
    assert "Moderation refused the prompt." in mail.body

    later = Render.objects.create(scene=scene, provider="local", model="m", recipe={}, status=Status.DOWNLOADING,
                                  created_by=editor, number=4)
    with sent():
        later.advance(Status.SUCCEEDED)
    assert len(mailoutbox) == 2
    assert mailoutbox[1].subject.endswith(f"{scene.title}: take {later.number} finished")
    assert f"take {takes[0].number} of" not in mailoutbox[1].body


def test_a_digest_lost_with_its_worker_does_not_silence_the_author(scene, editor, mailoutbox, sent,
                                                                  django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    from projects.models import RenderDigest

    first, second = [Render.objects.create(scene=scene, provider="local", model="m", recipe={},
                                           status=Status.DOWNLOADING, created_by=editor) for _ in range(2)]
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=False):  # its digest task never runs
        first.advance(Status.SUCCEEDED)
    RenderDigest.objects.filter(user=editor).update(due_at=timezone.now() - timedelta(hours=1))
    with sent():
        second.advance(Status.SUCCEEDED)
    (mail,) = mailoutbox
    assert "2 takes finished" in mail.subject


def test_an_author_who_opted_out_gets_no_render_digest(scene, editor, mailoutbox, sent):
    from projects.models import NotificationPreference

    NotificationPreference.objects.create(user=editor, renders_finished=False)
    take = Render.objects.create(scene=scene, provider="local", model="m", recipe={}, status=Status.DOWNLOADING,
                                 created_by=editor)
    mailoutbox.clear()
    with sent():
        take.advance(Status.SUCCEEDED)
    assert mailoutbox == []
    assert Activity.objects.filter(kind="render_finished", take=take).exists()


# --- Pages ------------------------------------------------------------------------------------------


def test_the_review_page_plays_the_take_and_lists_comments_that_seek(client_for, reviewer, take):
    review.comment_add(take=take, author=reviewer, body="Gull enters", at=1.2)
    page = client_for(reviewer).get(reverse("projects:take_review", args=[take.pk])).content.decode()
    assert reverse("generation:render_file", args=[take.pk, "video"]) in page
    assert 'data-seek="1.20"' in page and "00:00:01:04" in page and "Gull enters" in page  # 1.2 s at 24 fps


def test_commenting_through_htmx_returns_the_updated_list(client_for, reviewer, take):
    url = reverse("projects:comment_create", args=[take.pk])
    response = client_for(reviewer).post(url, {"body": "Horizon tilts", "at": "0.8"}, **HX)
    assert response.status_code == 200 and "commentSaved" in response["HX-Trigger"]
    assert "Horizon tilts" in response.content.decode() and "00:00:00:19" in response.content.decode()


def test_a_bad_comment_shows_the_error_and_is_not_saved(client_for, reviewer, take):
    url = reverse("projects:comment_create", args=[take.pk])
    page = client_for(reviewer).post(url, {"body": "Late", "at": "99"}, **HX).content.decode()
    assert "past its end" in page and not take.comments.exists()
    response = client_for(reviewer).post(url, {"body": "Typed text kept", "at": "99"})
    assert response.status_code == 422 and "Typed text kept" in response.content.decode()


def test_viewers_watch_but_cannot_comment_or_decide(client_for, viewer, take):
    client = client_for(viewer)
    page = client.get(reverse("projects:take_review", args=[take.pk])).content.decode()
    assert "comment-submit" not in page and "approve-button" not in page
    assert client.post(reverse("projects:comment_create", args=[take.pk]), {"body": "x"}).status_code == 403
    assert client.post(reverse("projects:take_decide", args=[take.pk]), {"decision": "approve"}).status_code == 403


def test_editors_comment_but_only_reviewers_and_owners_decide(client_for, editor, take, scene):
    client = client_for(editor)
    assert client.post(reverse("projects:comment_create", args=[take.pk]), {"body": "ok"}).status_code == 302
    assert client.post(reverse("projects:take_decide", args=[take.pk]), {"decision": "approve"}).status_code == 403
    scene.refresh_from_db()
    assert scene.approved_take is None


def test_approving_on_the_review_page(client_for, reviewer, take, scene):
    response = client_for(reviewer).post(reverse("projects:take_decide", args=[take.pk]),
                                         {"decision": "approve", "note": "Ship it"}, follow=True)
    scene.refresh_from_db()
    assert scene.approved_take == take and scene.approved_by == reviewer
    assert "Ship it" in response.content.decode()  # shown in the decision history


@pytest.mark.usefixtures("previz_without_encode")
def test_a_reviewer_requests_changes_and_an_editor_rerenders_from_the_comment(
        client_for, reviewer, editor, take, scene, django_capture_on_commit_callbacks):
    client_for(reviewer).post(reverse("projects:take_decide", args=[take.pk]),
                              {"decision": "changes", "note": "Seagulls, please", "at": "1", "rerender": "1",
                               "prompt": "ignored for reviewers", "idempotency_key": str(uuid.uuid4())})
    comment = Comment.objects.get(requests_changes=True)
    assert take.scene.renders.count() == 1  # a reviewer cannot spend: no take yet
    assert ReviewDecision.objects.filter(decision=Decision.CHANGES_REQUESTED).count() == 1
    page = client_for(editor).get(reverse("projects:take_review", args=[take.pk])).content.decode()
    assert "Re-render for this request" in page
    with django_capture_on_commit_callbacks(execute=True):
        client_for(editor).post(reverse("projects:comment_rerender", args=[comment.pk]),
                                {"prompt": "A harbour at dawn with seagulls.", "idempotency_key": str(uuid.uuid4())})
    comment.refresh_from_db()
    assert comment.retake and comment.retake.parent == take


def test_an_empty_request_for_changes_keeps_the_form_and_says_why(client_for, owner, take):
    response = client_for(owner).post(reverse("projects:take_decide", args=[take.pk]),
                                      {"decision": "changes", "note": " ", "prompt": "My edited prompt",
                                       "rerender": "1", "idempotency_key": str(uuid.uuid4())})
    page = response.content.decode()
    assert response.status_code == 422 and "Write something" in page and "My edited prompt" in page
    assert take.scene.renders.count() == 1


def test_a_rerender_that_cannot_be_booked_records_nothing_and_keeps_the_form(client_for, owner, take, scene):
    from generation.models import CatalogModel

    CatalogModel.objects.filter(model_id=take.model).update(lifecycle="retired", lifecycle_date="2026-10-01")
    response = client_for(owner).post(reverse("projects:take_decide", args=[take.pk]), {
        "decision": "changes", "note": "Warmer light", "rerender": "1", "prompt": "Dawn, warmer light.",
        "idempotency_key": str(uuid.uuid4())})
    page = response.content.decode()
    assert response.status_code == 422 and "retired" in page.lower()
    assert "Warmer light" in page and "Dawn, warmer light." in page
    assert not Comment.objects.exists() and not ReviewDecision.objects.exists()
    scene.refresh_from_db()
    assert scene.prompt != "Dawn, warmer light." and scene.renders.count() == 1


def test_the_storyboard_shows_scene_statuses_and_the_progress_bar(client_for, owner, scene, make_scene, take,
                                                                 reviewer):
    make_scene(title="Night")
    review.take_approve(take=take, user=reviewer)
    page = client_for(owner).get(reverse("projects:project_detail", args=[scene.project_id])).content.decode()
    assert "1 of 2</strong> approved" in page
    assert page.count('data-testid="frame-status"') == 2
    assert 'data-status="no_take">No take<' in page and 'data-status="approved">Approved<' in page


def test_the_take_stack_is_newest_first_with_comment_counts(client_for, reviewer, scene, finished_take):
    first, second = finished_take(scene), finished_take(scene)
    review.comment_add(take=first, author=reviewer, body="One")
    client = client_for(reviewer)
    panel = reverse("projects:scene_panel", args=[scene.project_id, scene.pk])
    for html in (client.get(panel).content.decode(), client.get(panel, **HX).content.decode()):
        assert html.index(f'id="take-{second.pk}"') < html.index(f'id="take-{first.pk}"')
        assert "Review · 1 comment<" in html
        assert f"?a={first.pk}&amp;b={second.pk}" in html  # compare: older left, newer right


def test_approving_in_the_panel_updates_the_frame_and_totals_out_of_band(client_for, reviewer, scene, take):
    html = client_for(reviewer).post(reverse("projects:scene_approve", args=[scene.pk, take.pk]), **HX).content.decode()
    assert html.lstrip().startswith('<aside id="scene-panel"')
    assert '<div id="board-totals" class="board-totals" data-testid="board-totals" hx-swap-oob="outerHTML">' in html
    assert "1 of 1</strong> approved" in html
    frame = html[html.index(f'<li id="frame-{scene.pk}"'):]
    assert 'hx-swap-oob="outerHTML"' in frame[:frame.index(">")] and 'data-status="approved"' in frame


def test_compare_shows_two_takes_and_refuses_withheld_ones(client_for, reviewer, scene, finished_take):
    a, b = finished_take(scene), finished_take(scene)
    client = client_for(reviewer)
    page = client.get(reverse("projects:scene_compare", args=[scene.pk]), {"a": a.pk, "b": b.pk}).content.decode()
    assert reverse("generation:render_file", args=[a.pk, "video"]) in page
    assert reverse("generation:render_file", args=[b.pk, "video"]) in page
    Render.objects.filter(pk=a.pk).update(quarantined_at="2026-11-01T00:00Z", quarantine_reason="consent revoked")
    assert client.get(reverse("projects:scene_compare", args=[scene.pk]), {"a": a.pk, "b": b.pk}).status_code == 404
    page = client.get(reverse("projects:scene_compare", args=[scene.pk])).content.decode()
    assert "needs two finished takes" in page


def test_the_cut_plays_approved_takes_in_scene_order_and_names_scenes_not_approved(
        client_for, viewer, reviewer, scene, make_scene, finished_take):
    second = make_scene(title="Night")
    third = make_scene(title="Storm")
    t2, t1 = finished_take(second), finished_take(scene)
    review.take_approve(take=t2, user=reviewer)
    review.take_approve(take=t1, user=reviewer)
    page = client_for(viewer).get(reverse("projects:project_cut", args=[scene.project_id])).content.decode()
    first_src = reverse("generation:render_file", args=[t1.pk, "video"])
    second_src = reverse("generation:render_file", args=[t2.pk, "video"])
    stops = json.loads(page.split('<script id="cut-stops" type="application/json">')[1].split("</script>")[0])["stops"]
    # Last, as the card of a scene not filmed.
    assert [(s["start"], s.get("src"), s["title"]) for s in stops] == [
        (0.0, first_src, scene.title), (float(scene.duration), second_src, "Night"),
        (float(scene.duration + second.duration), None, third.title)]
    assert "Storm" in page.split('data-testid="cut-missing"')[1]


def test_the_activity_page_filters_by_kind(client_for, viewer, reviewer, take):
    review.comment_add(take=take, author=reviewer, body="A comment", at=1)
    review.take_approve(take=take, user=reviewer)
    url = reverse("projects:project_activity", args=[take.scene.project_id])
    client = client_for(viewer)
    everything = client.get(url).content.decode()
    assert "A comment" in everything and "approved" in everything and "finished" in everything
    approvals = client.get(url, {"kind": "approvals"}, **HX).content.decode()
    assert "approved Dawn take 1" in approvals and "A comment" not in approvals
    assert client.get(url, {"kind": "nonsense"}).status_code == 404


def test_notification_settings_are_per_user(client_for, editor):
    client = client_for(editor)
    client.post(reverse("projects:notification_settings"), {"mentions": "on", "approvals": "on"})
    prefs = NotificationPreference.objects.get(user=editor)
    assert prefs.mentions and prefs.approvals and not prefs.changes_requested and not prefs.renders_finished


def test_email_goes_through_smtp_when_email_host_is_set(monkeypatch):
    from importlib import reload

    import studio_site.settings as site

    monkeypatch.setenv("EMAIL_HOST", "smtp.example.com")
    try:
        reload(site)
        assert site.EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend"
        assert site.EMAIL_HOST == "smtp.example.com" and site.EMAIL_USE_TLS
    finally:
        monkeypatch.delenv("EMAIL_HOST")
        reload(site)
    assert site.EMAIL_BACKEND == "django.core.mail.backends.console.EmailBackend"


def test_the_feed_tells_the_storyboards_story(client_for, editor, team, owner):
    project = services.project_create(team=team, user=owner, name="Ad spot")
    a = services.scene_create(project=project, user=editor, title="Arrival", prompt="A car arrives.", duration=3,
                              size="1280x720")
    b = services.scene_create(project=project, user=editor, title="Bridge", prompt="It crosses.", duration=3,
                              size="1280x720")
    services.scene_move(scene=b, offset=-1, user=editor)
    services.scene_reorder(project=project, user=editor, scene_ids=[a.pk, b.pk])
    trash.scene_trash(scene=project.scenes.get(pk=a.pk), user=owner)

    page = client_for(editor).get(reverse("projects:project_activity", args=[project.pk]), {"kind": "edits"})
    html = page.content.decode()
    for line in ("created the project Ad spot", "added scene 1, Arrival", "added scene 2, Bridge",
                 "moved Bridge from scene 2 to 1", "reordered the scenes: 1. Arrival, 2. Bridge",
                 "deleted scene 1, Arrival"):
        assert line in html, line
