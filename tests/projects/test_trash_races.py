"""The trash under simultaneous clicks: an Undo and a teammate's Restore, an Undo and an owner's Delete
forever, a delete and a drag, a delete and a booking. Each takes the project row, then the project's scene
rows, so the second waits for the first and sees what it did, and none waits on another in a circle.
Row locks are PostgreSQL's: on SQLite a write takes the whole database, so these run on PostgreSQL (CI)
and skip on SQLite."""

import threading
import uuid

import pytest
from django.db import connection

from generation.models import Render
from projects.models import Scene
from projects.storyboard import services, trash

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL only (CI runs the suite on PostgreSQL)")


def at_once(*clicks) -> list:
    """Run each click in its own thread and connection, all released together; their results in order."""
    start, results = threading.Barrier(len(clicks)), [None] * len(clicks)

    def run(index, click):
        try:
            start.wait(10)
            results[index] = click()
        except Exception as exc:  # a click that fails is an outcome too: the test says which are allowed
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(clicks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


@pytest.mark.parametrize("attempt", range(3))
def test_an_undo_and_a_teammates_restore_at_once_bring_the_scenes_back_once(project, make_scene, editor, owner,
                                                                           attempt):
    scenes = [make_scene(title=t) for t in "ABCDE"]
    trashed = trash.scene_bulk_trash(project=project, scene_ids=[scenes[1].pk, scenes[3].pk], user=editor)

    undo, restore = at_once(
        lambda: trash.trash_undo(project=project, batch=trashed.batch, user=editor),
        lambda: trash.scene_restore(project=project, scene_ids=[scenes[1].pk, scenes[3].pk], user=owner))

    assert not isinstance(undo, Exception) and not isinstance(restore, Exception), (undo, restore)
    # One of them brought both back; the other found them back and says who did.
    assert sorted([len(undo.scenes), len(restore.scenes)]) == [0, 2]
    loser = undo if not undo.scenes else restore
    assert len(loser.already) == 2 and "had already restored" in " ".join(trash.restored_words(loser))
    rows = list(project.scenes.order_by("position").values_list("title", "position"))
    assert rows == [("A", 0), ("B", 1), ("C", 2), ("D", 3), ("E", 4)]
    assert not Scene.all_objects.in_trash().exists()


@pytest.mark.parametrize("attempt", range(3))
def test_an_undo_and_a_delete_forever_at_once_never_both_happen(project, make_scene, editor, owner, attempt):
    scenes = [make_scene(title=t) for t in "ABC"]
    trashed = trash.scene_trash(scene=scenes[1], user=editor)

    undo, purge = at_once(
        lambda: trash.trash_undo(project=project, batch=trashed.batch, user=editor),
        lambda: trash.scene_delete_forever(project=project, scene_ids=[scenes[1].pk], user=owner))

    row = Scene.all_objects.get(pk=scenes[1].pk)
    if undo.scenes:  # the undo came first: the delete forever found it back on the board and left it
        assert purge.scenes == [] and purge.missing == [scenes[1]]
        assert row.trashed_at is None and row.purged_at is None and row.prompt
        assert list(project.scenes.values_list("title", flat=True)) == ["A", "B", "C"]
    else:  # the delete forever came first: the undo says so and brings back nothing
        assert purge.scenes == [scenes[1]] and undo.gone == [scenes[1]]
        assert row.purged_at is not None
        assert list(project.scenes.values_list("title", "position")) == [("A", 0), ("C", 1)]


@pytest.mark.parametrize("attempt", range(3))
def test_a_delete_and_a_drag_at_once_never_deadlock(project, make_scene, editor, owner, attempt):
    scenes = [make_scene(title=t) for t in "ABCD"]

    delete, drag = at_once(
        lambda: trash.scene_trash(scene=scenes[1], user=editor),
        lambda: services.scene_reorder(project=project, user=owner, scene_ids=[s.pk for s in scenes[::-1]]))

    assert not isinstance(delete, Exception), delete  # the delete always goes through
    if isinstance(drag, Exception):  # the drag came second: its list still had B, and it says so
        assert isinstance(drag, services.StaleOrder), drag
        assert list(project.scenes.values_list("title", "position")) == [("A", 0), ("C", 1), ("D", 2)]
    else:
        assert list(project.scenes.values_list("title", "position")) == [("D", 0), ("C", 1), ("A", 2)]


@pytest.mark.parametrize("attempt", range(3))
def test_a_delete_and_a_booking_at_once_never_deadlock_nor_book_on_the_trash(
        migrated_data, project, make_scene, editor, owner, monkeypatch, attempt):
    from generation.renders import services as renders
    from generation.tasks import submit_render

    monkeypatch.setattr(submit_render, "delay_on_commit", lambda *args: None)  # booked, never sent
    scene = make_scene(title="A")
    local = project.team.connections.get(kind="local")

    delete, booking = at_once(
        lambda: trash.scene_trash(scene=scene, user=editor),
        lambda: renders.render_create(scene=scene, user=owner, connection=local, model_id="previz-animatic-1",
                                      idempotency_key=uuid.uuid4()))

    assert not isinstance(delete, Exception), delete
    row = Scene.all_objects.get(pk=scene.pk)
    if isinstance(booking, Exception):  # the delete came first: nothing booked, in words
        assert "moved to the trash meanwhile: nothing was booked" in " ".join(booking.messages)
        assert not Render.objects.exists()
    else:  # booked first: the take went to the trash with its scene
        take, _created = booking
        assert take.created_at <= row.trashed_at and Render.objects.get().scene_id == scene.pk
