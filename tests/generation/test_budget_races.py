"""Monthly caps under simultaneous clicks: the team's and a member's month never overshoot.

Each booking sums the month's takes while it holds the team row (and the member's row), so a second
click waits for the first to commit and then sees its take. Row locks are PostgreSQL's: on SQLite a
write transaction takes the whole database, so these run on PostgreSQL (CI) and skip on SQLite.
"""

import threading
import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from generation.models import Render
from generation.renders import services
from generation.spend import budget
from projects.models import Membership, Role
from projects.storyboard import services as projects

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL only (CI runs the suite on PostgreSQL)")


@pytest.fixture
def unsent(monkeypatch):
    """Booked takes stay booked: nothing sends them (a failed send would give their money back)."""
    from generation.tasks import submit_render

    monkeypatch.setattr(submit_render, "delay_on_commit", lambda *args: None)


def click_all(bookings: list) -> list[str]:
    """Run each booking in its own thread and connection, all released at once."""
    start, outcomes = threading.Barrier(len(bookings)), []

    def click(book):
        try:
            start.wait(10)
            book()
            outcomes.append("booked")
        except ValidationError as exc:
            outcomes.append(" ".join(exc.messages))
        finally:
            connection.close()

    threads = [threading.Thread(target=click, args=(b,)) for b in bookings]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return outcomes


def test_twenty_simultaneous_bookings_across_projects_fill_the_team_month_exactly(
        migrated_data, unsent, team, owner, project, make_scene, make_member, priced_gateway):
    team.monthly_budget = Decimal("10.00")
    team.save()
    other = projects.project_create(team=team, user=owner, name="Lighthouse")
    scenes = [make_scene(title=f"Shot {i}", duration=4, project=(project, other)[i % 2]) for i in range(20)]
    editors = [make_member(team, Role.EDITOR) for _ in range(4)]

    def booking(i):
        return lambda: services.render_create(scene=scenes[i], user=editors[i % 4], connection=priced_gateway,
                                              model_id="wan-2.7", idempotency_key=uuid.uuid4())

    outcomes = click_all([booking(i) for i in range(20)])  # $2.00 each against $10.00
    assert outcomes.count("booked") == 5, outcomes
    assert all("Over the team's" in o and "$0.00 of $10.00 left" in o for o in outcomes if o != "booked")
    assert Render.objects.count() == 5
    assert budget.team_month_spend(team.pk) == Decimal("10.00")


def test_ten_simultaneous_bookings_by_one_member_stop_at_their_cap(
        migrated_data, unsent, team, project, make_scene, editor, priced_gateway):
    Membership.objects.filter(team=team, user=editor).update(monthly_budget=Decimal("4.00"))
    scenes = [make_scene(title=f"Shot {i}", duration=4) for i in range(10)]

    def booking(scene):
        return lambda: services.render_create(scene=scene, user=editor, connection=priced_gateway,
                                              model_id="wan-2.7", idempotency_key=uuid.uuid4())

    outcomes = click_all([booking(s) for s in scenes])
    assert outcomes.count("booked") == 2, outcomes
    assert all("Over eddie's" in o for o in outcomes if o != "booked")
    assert budget.member_month_spend(team.pk, editor.pk) == Decimal("4.00")


def test_batches_and_single_takes_at_once_share_the_team_month(
        migrated_data, unsent, team, project, make_scene, editor, owner, priced_gateway):
    from generation.renders import batch

    team.monthly_budget = Decimal("6.00")
    team.save()
    pairs = [[make_scene(title=f"Pair {i}a", duration=4), make_scene(title=f"Pair {i}b", duration=4)]
             for i in range(4)]
    singles = [make_scene(title=f"Single {i}", duration=4) for i in range(4)]

    def a_batch(pair):
        return lambda: batch.render_batch(project=project, user=editor, connection=priced_gateway,
                                          model_id="wan-2.7", scene_ids=[s.pk for s in pair],
                                          idempotency_key=uuid.uuid4())

    def a_single(scene):
        return lambda: services.render_create(scene=scene, user=owner, connection=priced_gateway,
                                              model_id="wan-2.7", idempotency_key=uuid.uuid4())

    outcomes = click_all([a_batch(p) for p in pairs] + [a_single(s) for s in singles])
    assert "deadlock" not in " ".join(outcomes)
    # In any order the month fills exactly: a $2.00 single always fits until $6.00 is committed.
    assert budget.team_month_spend(team.pk) == Decimal("6.00")
    assert Render.objects.count() == 3
