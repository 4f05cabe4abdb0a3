"""The trash: a deleted scene waits there with its takes, comments and approvals, comes back where it
was, and is deleted forever (files gone after commit, spend kept) by an owner or after TRASH_DAYS."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from generation.exports.services import export_plan
from generation.models import Render, Status
from generation.renders import batch
from generation.spend import budget
from generation.spend.selectors import month_period, spend_for
from projects.characters import consent
from projects.models import (
    Activity,
    ActivityKind,
    AuditAction,
    AuditEntry,
    CharacterKind,
    Comment,
    ReviewDecision,
    ReviewLink,
    Scene,
)
from projects.review import guest_links
from projects.review import services as review
from projects.selectors import board_for, board_totals, cut_for, trash_for
from projects.storyboard import services, trash
from projects.storyboard.script import storyboard_fountain


def _png():
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (10, 120, 200)).save(buffer, format="PNG")
    return SimpleUploadedFile("maya.png", buffer.getvalue())


def titles(project) -> list[str]:
    return list(project.scenes.order_by("position").values_list("title", flat=True))


def positions(project) -> list[int]:
    return list(project.scenes.order_by("position").values_list("position", flat=True))


@pytest.fixture
def board(make_scene):
    """Scenes A to E, in that order."""
    return {t: make_scene(title=t) for t in "ABCDE"}


# --- Into the trash ------------------------------------------------------------------------------------


def test_deleting_a_scene_moves_it_with_its_takes_comments_and_approvals_to_the_trash(
        project, make_scene, finished_take, editor, reviewer, owner):
    first, kept = make_scene(title="Arrival"), make_scene(title="Bridge")
    take = finished_take(first)
    review.comment_add(take=take, author=reviewer, body="Warmer light.", at=1)
    review.take_approve(take=take, user=owner)

    trashed = trash.scene_trash(scene=first, user=editor)

    assert titles(project) == ["Bridge"] and positions(project) == [0]  # the rest renumbered
    gone = Scene.all_objects.get(pk=first.pk)
    assert gone.in_trash and gone.trashed_by == editor and gone.trash_batch == trashed.batch
    assert gone.approved_take == take  # all of it waits, as it was
    assert take.comments.count() == 1 and ReviewDecision.objects.filter(take=take).exists()
    assert Render.objects.filter(pk=take.pk, video=take.video.name).exists()
    kept.refresh_from_db()
    assert kept.number == 1


def test_deleting_scenes_a_teammate_already_deleted_deletes_nothing(project, board, editor, owner):
    trash.scene_trash(scene=board["B"], user=owner)
    with pytest.raises(ValidationError, match="no longer on the storyboard; nothing was deleted"):
        trash.scene_bulk_trash(project=project, scene_ids=[board["B"].pk, board["C"].pk], user=editor)
    assert titles(project) == ["A", "C", "D", "E"]


def test_a_trashed_scene_is_on_no_board_cut_guest_link_or_batch(project, make_scene, finished_take, owner,
                                                               editor):
    shown, hidden = make_scene(title="Shown"), make_scene(title="Hidden")
    for scene in (shown, hidden):
        review.take_approve(take=finished_take(scene), user=owner)
    link, _token = guest_links.link_create(project=project, user=owner, label="Client",
                                           scope=ReviewLink.Scope.SCENES, scenes=[shown, hidden])

    trash.scene_trash(scene=hidden, user=editor)

    assert [f.title for f in board_for(project=project).frames] == ["Shown"]
    assert [e.scene.title for e in cut_for(project=project).entries] == ["Shown"]  # Play all
    assert [p.scene.title for p in export_plan(project).scenes] == ["Shown"]  # film, PDF, timelines, CSV
    assert [t.scene.title for t in guest_links.takes_in_scope(link)] == ["Shown"]
    assert [s.title for s in batch.scenes_in_scope(project, "all", [])] == ["Shown"]  # Render scenes
    assert "Hidden" not in storyboard_fountain(title=project.name, scenes=project.scenes.all())
    assert board_for(project=project).trash_count == 1


def test_the_boards_totals_say_the_same_on_load_and_live_when_a_trashed_take_may_be_billed(project, board, editor):
    for scene in (board["A"], board["B"]):
        Render.objects.create(scene=scene, provider="fal", model="fal-ai/veo3.1", recipe={}, status=Status.FAILED,
                              number=1, cost=Decimal("3.20"), billing_unconfirmed=True)
    trash.scene_trash(scene=board["B"], user=editor)

    loaded = board_for(project=project).totals  # the page, from its frames
    redrawn = board_totals(project=project)  # a live change, on its own
    assert loaded.unconfirmed == redrawn.unconfirmed == Decimal("3.20")


# --- Back where it was -------------------------------------------------------------------------------


def test_undo_puts_the_deleted_scenes_back_exactly_where_they_were(project, board, editor):
    trashed = trash.scene_bulk_trash(project=project, scene_ids=[board["B"].pk, board["D"].pk], user=editor)
    assert titles(project) == ["A", "C", "E"]

    result = trash.trash_undo(project=project, batch=trashed.batch, user=editor)

    assert titles(project) == ["A", "B", "C", "D", "E"] and positions(project) == [0, 1, 2, 3, 4]
    assert [s.title for s in result.scenes] == ["B", "D"] and not result.at_end
    assert not Scene.all_objects.in_trash().exists()


def test_undo_of_neighbours_deleted_together_puts_them_back_in_their_order(project, board, editor):
    trashed = trash.scene_bulk_trash(project=project, scene_ids=[board[t].pk for t in "BCD"], user=editor)
    trash.trash_undo(project=project, batch=trashed.batch, user=editor)
    assert titles(project) == ["A", "B", "C", "D", "E"]


def test_restoring_puts_a_scene_back_between_its_neighbours_though_scenes_were_added_since(
        project, board, editor, make_scene):
    trash.scene_trash(scene=board["B"], user=editor)
    make_scene(title="F")  # added at the end meanwhile: B's place is still free

    trash.scene_restore(project=project, scene_ids=[board["B"].pk], user=editor)

    assert titles(project) == ["A", "B", "C", "D", "E", "F"]


def test_a_scene_whose_place_was_taken_comes_back_at_the_end(project, board, editor):
    trash.scene_trash(scene=board["B"], user=editor)
    # A teammate moved E between A and C, where B was.
    services.scene_reorder(project=project, user=editor, scene_ids=[board[t].pk for t in "AECD"])

    result = trash.scene_restore(project=project, scene_ids=[board["B"].pk], user=editor)

    assert titles(project) == ["A", "E", "C", "D", "B"] and positions(project) == [0, 1, 2, 3, 4]
    assert result.at_end == result.scenes == [board["B"]]
    assert "Its place was taken, so it is now last: “B”." in trash.restored_words(result)


def test_a_scene_whose_neighbour_was_deleted_forever_comes_back_where_it_was(project, board, editor, owner):
    trash.scene_trash(scene=board["B"], user=editor)
    trash.scene_trash(scene=board["C"], user=editor)  # B's neighbour after it
    trash.scene_delete_forever(project=project, scene_ids=[board["C"].pk], user=owner)

    trash.scene_restore(project=project, scene_ids=[board["B"].pk], user=editor)

    assert titles(project) == ["A", "B", "D", "E"]


@pytest.mark.parametrize("deleted", ["BC", "CB"])
@pytest.mark.parametrize("restored", ["BC", "CB"])
def test_scenes_deleted_one_by_one_come_back_in_their_order_whichever_is_restored_first(
        project, board, editor, deleted, restored):
    for title in deleted:
        trash.scene_trash(scene=board[title], user=editor)
    for title in restored:  # each on its own, as two clicks on the Trash page
        trash.scene_restore(project=project, scene_ids=[board[title].pk], user=editor)
    assert titles(project) == ["A", "B", "C", "D", "E"]


def test_restoring_the_whole_trash_at_once_rebuilds_the_board(project, board, editor):
    for title in "DBEA":
        trash.scene_trash(scene=board[title], user=editor)
    assert titles(project) == ["C"]
    trash.scene_restore(project=project, scene_ids=[s.pk for s in board.values()][::-1], user=editor)
    assert titles(project) == ["A", "B", "C", "D", "E"]


def test_an_undo_after_a_teammate_restored_the_scenes_brings_nothing_back_twice_and_says_who(
        project, board, editor, owner):
    trashed = trash.scene_bulk_trash(project=project, scene_ids=[board["B"].pk, board["C"].pk], user=editor)
    trash.scene_restore(project=project, scene_ids=[board["B"].pk], user=owner)  # from the Trash page

    result = trash.trash_undo(project=project, batch=trashed.batch, user=editor)

    assert titles(project) == ["A", "B", "C", "D", "E"]  # C came back; B once, not twice
    assert result.scenes == [board["C"]] and result.already == [board["B"]]
    words = " ".join(trash.restored_words(result))
    assert "Restored 1 scene." in words
    assert f"{owner.username} had already restored “B”: it is on the board." in words
    # Clicked once more: nothing left to bring back, and it says so.
    again = trash.restored_words(trash.trash_undo(project=project, batch=trashed.batch, user=editor))
    assert f"{editor.username} had already restored “C”: it is on the board." in " ".join(again)
    assert Scene.all_objects.filter(project=project).count() == 5


def test_an_undo_of_scenes_deleted_forever_meanwhile_says_so(project, board, editor, owner):
    trashed = trash.scene_trash(scene=board["B"], user=editor)
    trash.trash_empty(project=project, user=owner)

    result = trash.trash_undo(project=project, batch=trashed.batch, user=editor)

    assert titles(project) == ["A", "C", "D", "E"]
    assert trash.restored_words(result) == ["“B” was deleted forever meanwhile."]


def test_an_undo_with_a_batch_that_cannot_exist_is_refused_in_words(project, editor):
    with pytest.raises(ValidationError, match="This Undo is out of date"):
        trash.trash_undo(project=project, batch="not-a-uuid", user=editor)


def test_restoring_a_scene_of_another_project_is_refused(project, board, editor, team, owner, make_scene):
    other = services.project_create(team=team, user=owner, name="Other")
    theirs = make_scene(title="Theirs", project=other)
    trash.scene_trash(scene=theirs, user=owner)
    with pytest.raises(ValidationError, match="not in this project"):
        trash.scene_restore(project=project, scene_ids=[theirs.pk], user=editor)
    assert Scene.all_objects.get(pk=theirs.pk).in_trash


# --- Money and likeness while in the trash -------------------------------------------------------


def test_a_take_cannot_be_booked_for_a_scene_moved_to_the_trash(project, scene, editor, render_take):
    stale = Scene.objects.get(pk=scene.pk)  # the render form a teammate still has open
    trash.scene_trash(scene=scene, user=editor)
    with pytest.raises(ValidationError, match="moved to the trash meanwhile: nothing was booked"):
        render_take(stale)
    assert not Render.objects.exists() and budget.committed(project) == 0


def test_an_edit_saved_on_a_scene_moved_to_the_trash_meanwhile_is_refused_in_words(project, scene, editor, owner):
    stale = Scene.objects.get(pk=scene.pk)  # the editor's open panel
    trash.scene_trash(scene=scene, user=owner)
    with pytest.raises(ValidationError, match="moved to the trash meanwhile: nothing was saved"):
        services.scene_update(scene=stale, expected_version=stale.version, user=editor, title="Dawn, wide")
    assert Scene.all_objects.get(pk=scene.pk).title == "Dawn"


def test_a_take_that_ends_unbilled_while_its_scene_is_in_the_trash_gives_its_estimate_back(project, scene, editor):
    from projects.models import Project

    take = Render.objects.create(scene=scene, provider="local", model="previz-animatic-1", recipe={},
                                 status=Status.QUEUED, number=1, cost=Decimal("2.00"), created_by=editor)
    Project.objects.filter(pk=project.pk).update(render_spend=Decimal("2.00"))  # as its booking committed it
    trash.scene_trash(scene=scene, user=editor)

    take = Render.objects.get(pk=take.pk)  # as a worker holds it, its scene not loaded
    take.mark_failed("The provider could not be reached.")  # before any provider had it: nobody billed it

    assert budget.committed(project) == Decimal("0.00")
    assert Activity.objects.filter(kind=ActivityKind.RENDER_FAILED, take=take).exists()  # the feed still tells


def test_revoking_consent_withdraws_the_approval_of_a_take_in_the_trash(project, make_scene, finished_take, team,
                                                                      owner, editor, make_member):
    maya = make_member(team, username="maya")
    character = consent.character_create(team=team, user=owner, name="Maya", kind=CharacterKind.PERSON, person=maya,
                                         images=[_png()])
    consent.consent_grant(character=character, user=maya)
    scene = make_scene(title="Pier", prompt="@Maya on the pier.")
    take = finished_take(scene)
    review.take_approve(take=take, user=owner)
    trashed = trash.scene_trash(scene=scene, user=editor)

    consent.consent_revoke(character=character, user=maya)
    trash.trash_undo(project=project, batch=trashed.batch, user=editor)

    scene.refresh_from_db()
    assert scene.approved_take is None  # back on the board, never showing a withheld take approved
    # Play all shows the scene as a card: the withheld take is never played.
    assert [(e.scene, e.take, e.kind) for e in cut_for(project=project).entries] == [(scene, None, "card")]


# --- Deleted forever -----------------------------------------------------------------------------------


def test_deleting_forever_removes_files_after_commit_and_keeps_the_spend(
        project, make_scene, finished_take, owner, editor, reviewer, django_capture_on_commit_callbacks):
    gone, kept = make_scene(title="Gone"), make_scene(title="Kept")
    take, other = finished_take(gone), finished_take(kept)
    Render.objects.filter(pk__in=[take.pk, other.pk]).update(cost=Decimal("1.50"))
    review.comment_add(take=take, author=reviewer, body="Too dark.", at=1)
    review.take_approve(take=take, user=owner)
    files = [take.video.name, take.thumbnail.name]
    assert all(default_storage.exists(name) for name in files)
    spent = spend_for(team=project.team, period=month_period(timezone.localdate()))
    trash.scene_trash(scene=gone, user=editor)

    with django_capture_on_commit_callbacks(execute=False) as pending:
        result = trash.scene_delete_forever(project=project, scene_ids=[gone.pk], user=owner)
        assert all(default_storage.exists(name) for name in files)  # nothing leaves before the commit
    for callback in pending:
        callback()

    assert result.scenes == [gone] and result.takes == 1
    assert not any(default_storage.exists(name) for name in files)
    assert default_storage.exists(other.video.name)  # the other scene's take is untouched
    assert not Comment.objects.filter(take=take).exists()
    row = Scene.all_objects.get(pk=gone.pk)
    assert row.purged_at and not row.in_trash and row.prompt == "" and not row.reference_image
    assert trash_for(project=project) == []
    # What was paid stays paid: the take's row (without files or prompt) still counts everywhere.
    take.refresh_from_db()
    assert take.video.name == "" and take.cost == Decimal("1.50") and "prompt" not in take.recipe
    after = spend_for(team=project.team, period=month_period(timezone.localdate()))
    assert (after.total, after.takes, after.approved_seconds) == (spent.total, spent.takes, spent.approved_seconds)
    assert budget.team_month_spend(project.team_id) == spent.total
    [entry] = AuditEntry.objects.filter(action=AuditAction.SCENES_DELETED_FOREVER)
    assert entry.actor == owner and entry.details["scenes"] == ["1. Gone"] and entry.details["takes"] == 1


def test_a_scene_restored_meanwhile_is_not_deleted_forever(project, board, editor, owner):
    trash.scene_trash(scene=board["B"], user=editor)
    trash.scene_restore(project=project, scene_ids=[board["B"].pk], user=editor)  # a second before

    result = trash.scene_delete_forever(project=project, scene_ids=[board["B"].pk], user=owner)

    assert result.scenes == [] and result.missing == [board["B"]]
    assert titles(project) == ["A", "B", "C", "D", "E"]
    assert "“B” is no longer in the trash (restored meanwhile): it was not deleted." in trash.purged_words(result)
    assert not AuditEntry.objects.filter(action=AuditAction.SCENES_DELETED_FOREVER).exists()


def test_a_scene_with_a_take_still_rendering_waits_in_the_trash(project, board, editor, owner):
    running = Render.objects.create(scene=board["B"], provider="local", model="previz-animatic-1", recipe={},
                                    status=Status.RUNNING, number=1, cost=Decimal("0.50"))
    trash.scene_bulk_trash(project=project, scene_ids=[board["B"].pk, board["C"].pk], user=editor)

    result = trash.trash_empty(project=project, user=owner)

    assert result.scenes == [board["C"]] and result.busy == [board["B"]]
    assert [item.title for item in trash_for(project=project)] == ["B"]
    assert trash_for(project=project)[0].rendering
    running.refresh_from_db()
    assert running.status == Status.RUNNING  # nothing canceled: what is paid for keeps rendering
    assert AuditEntry.objects.get(action=AuditAction.TRASH_EMPTIED).details["scenes"] == ["3. C"]


def test_the_daily_purge_deletes_what_waited_its_days_once(project, board, editor, settings,
                                                           django_capture_on_commit_callbacks):
    settings.TRASH_DAYS = 30
    trash.scene_trash(scene=board["B"], user=editor)
    trash.scene_trash(scene=board["C"], user=editor)
    Scene.all_objects.filter(pk=board["B"].pk).update(trashed_at=timezone.now() - timedelta(days=31))

    with django_capture_on_commit_callbacks(execute=True):
        assert trash.trash_purge_expired() == 1
    assert trash.trash_purge_expired() == 0  # run again: nothing is deleted twice

    assert [item.title for item in trash_for(project=project)] == ["C"]
    entry = AuditEntry.objects.get(action=AuditAction.TRASH_PURGED)
    assert entry.actor is None and entry.details["days_in_trash"] == 30
    assert Activity.objects.filter(kind=ActivityKind.SCENES_PURGED, actor=None).count() == 1


def test_the_purge_beat_runs_as_a_task(project, board, editor):
    from projects.tasks import purge_trash

    trash.scene_trash(scene=board["B"], user=editor)
    Scene.all_objects.filter(pk=board["B"].pk).update(trashed_at=timezone.now() - timedelta(days=400))
    purge_trash.delay()
    assert Scene.all_objects.get(pk=board["B"].pk).purged_at is not None


def test_the_feed_tells_of_deletes_restores_and_deletes_forever(project, board, editor, owner):
    trashed = trash.scene_bulk_trash(project=project, scene_ids=[board["B"].pk, board["C"].pk], user=editor)
    trash.trash_undo(project=project, batch=trashed.batch, user=editor)
    trash.scene_trash(scene=board["E"], user=editor)
    trash.trash_empty(project=project, user=owner)

    feed = list(Activity.objects.filter(project=project).order_by("pk").values_list("kind", "text"))[-4:]
    assert feed == [
        (ActivityKind.SCENE_DELETED, "deleted 2 scenes: B, C"),
        (ActivityKind.SCENE_RESTORED, "restored from the trash: 2. B, 3. C"),
        (ActivityKind.SCENE_DELETED, "deleted scene 5, E"),
        (ActivityKind.SCENES_PURGED, "deleted forever from the trash: 5. E"),
    ]
