"""Bookings and re-renders lock the project row before any scene row, so they never deadlock.

A re-render from review edits the scene's prompt and books a take; a click on the same
scene's Render button books one too. If one took the scene first and the other the project
first, PostgreSQL would end one of them with "deadlock detected". Row locks are PostgreSQL's:
on SQLite a write transaction takes the whole database, so this is checked on PostgreSQL.
"""

import threading
import time
import uuid

import pytest
from django.db import DatabaseError, connection, transaction

from projects.models import Project, Scene
from projects.review import services as review

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_re_render_from_review_waits_for_the_project_before_touching_the_scene(
        migrated_data, project, scene, finished_take, reviewer, editor):
    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL only (CI runs the suite on PostgreSQL)")
    take = finished_take(scene)
    request = review.take_request_changes(take=take, user=reviewer, note="Darker sky, please.")
    held, outcome = threading.Event(), {}

    def booking_elsewhere():
        """Holds the project row as a booking does, then needs the scene row."""
        try:
            with transaction.atomic():
                Project.objects.select_for_update().filter(pk=project.pk).first()
                held.set()
                time.sleep(0.5)  # the re-render is under way meanwhile
                try:
                    Scene.objects.select_for_update(nowait=True).filter(pk=scene.pk).first()
                    outcome["scene"] = "free"
                except DatabaseError:
                    outcome["scene"] = "taken by the re-render"
        finally:
            connection.close()

    def re_render():
        held.wait(5)
        try:
            outcome["take"] = review.rerender_for(comment=request, user=editor, prompt="A darker sky over the harbour.",
                                                  idempotency_key=uuid.uuid4())[0]
        finally:
            connection.close()

    threads = [threading.Thread(target=booking_elsewhere), threading.Thread(target=re_render)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert outcome.get("scene") == "free"  # the re-render waited for the project first
    assert outcome["take"].scene_id == scene.pk
    scene.refresh_from_db()
    assert scene.prompt == "A darker sky over the harbour."


def test_ten_simultaneous_batches_for_the_same_two_scenes_book_two_takes(
        migrated_data, project, make_scene, editor, team):
    """Each click has its own form key, so only the check under the project lock can stop the doubles."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL only (CI runs the suite on PostgreSQL)")
    from django.core.exceptions import ValidationError

    from generation.models import Render
    from generation.renders import batch

    scenes = [make_scene(title="Dawn", duration=1), make_scene(title="Gulls", duration=1)]
    local = team.connections.get(kind="local")
    start, outcomes = threading.Barrier(10), []

    def click():
        try:
            start.wait(10)
            batch.render_batch(project=project, user=editor, connection=local, model_id="previz-animatic-1",
                               scene_ids=[s.pk for s in scenes], idempotency_key=uuid.uuid4())
            outcomes.append("booked")
        except ValidationError as exc:
            outcomes.append(" ".join(exc.messages))
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert outcomes.count("booked") == 1, outcomes
    assert all("still rendering" in o for o in outcomes if o != "booked")
    assert Render.objects.filter(scene__in=scenes).count() == 2
