"""The spend page: where the money went, what an approved second cost, and the CSV behind it."""

import csv
import io
import re
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from generation.models import Render, Status
from projects.models import Decision, ReviewDecision
from projects.storyboard import services, trash
from tests.realistic import build_project

NOVEMBER = {"month": "2026-11"}


def at(day, hour=10, month=11):
    return datetime(2026, month, day, hour, tzinfo=UTC)


def take(scene, *, when, cost, provider="replicate", model="wan-video/wan-2.7-t2v", status=Status.SUCCEEDED,
         seconds=4.0, by=None, billed=None, job_id=None, approved=False, given_back=False):
    """A take as the pipeline leaves it, booked at `when`; `given_back`: it ended unbilled (the budget gave
    its estimate back when it settled)."""
    row = Render.objects.create(cost_given_back=given_back,
        scene=scene, provider=provider, model=model, recipe={"parameters": {"seconds": int(seconds)}},
        status=status, cost=Decimal(cost), duration_seconds=seconds if status == Status.SUCCEEDED else None,
        billed_cost=None if billed is None else Decimal(billed), cost_source="provider" if billed else "estimated",
        provider_job_id=job_id if job_id is not None else f"p-{uuid.uuid4().hex[:8]}", created_by=by)
    Render.objects.filter(pk=row.pk).update(created_at=when)
    if approved:
        ReviewDecision.objects.create(scene=scene, take=row, decision=Decision.APPROVED, by=by)
    row.refresh_from_db()
    return row


@pytest.fixture
def takes(make_scene, editor, owner):
    """November: $10.90 spent, 12 approved seconds; plus a take given back and one from October."""
    dawn, dusk = make_scene(title="Dawn"), make_scene(title="Dusk")
    return {
        "t1": take(dawn, when=at(3, 10), cost="2.00", by=editor, approved=True),
        "t2": take(dawn, when=at(3, 11), cost="2.00", billed="2.50", by=editor),  # billed more than estimated
        "t3": take(dusk, when=at(10), cost="3.20", provider="veo", model="veo-3.1", seconds=8.0, by=owner,
                   approved=True),
        # Ended before any provider had it: the budget gave it back, so it is no spend.
        "t4": take(dusk, when=at(10), cost="3.20", provider="veo", model="veo-3.1", status=Status.FAILED,
                   job_id="", by=owner, given_back=True),
        # Failed at the provider: may be billed, so it counts, and was never approved.
        "t5": take(dusk, when=at(11), cost="3.20", provider="veo", model="veo-3.1", status=Status.FAILED, by=owner),
        "october": take(dawn, when=at(31, month=10), cost="9.00", by=editor, approved=True),
    }


def spend_page(client, project, **params):
    return client.get(reverse("generation:project_spend", args=[project.pk]), params or NOVEMBER)


def test_it_shows_the_months_spend_cost_per_approved_second_and_never_approved_takes(
        client_for, editor, project, takes):
    response = spend_page(client_for(editor), project)

    assert response.status_code == 200
    spend = response.context["spend"]
    assert spend.total == Decimal("10.90")
    assert spend.estimated == Decimal("8.40")  # t1, t3, t5: the provider reported no cost
    assert spend.takes == 4
    assert spend.approved_seconds == 12.0
    assert spend.cost_per_approved_second == Decimal("0.9083")
    assert spend.never_approved_total == Decimal("5.70") and spend.never_approved_count == 2
    assert {t.pk for t in spend.never_approved} == {takes["t2"].pk, takes["t5"].pk}
    page = response.content.decode()
    assert "$10.90" in page and "$0.91" in page and "November 2026" in page


def test_never_approved_takes_say_their_state_in_the_boards_words(client_for, editor, reviewer, project, takes):
    # The table said "Done" for a finished take its frame called "In review".
    def states():
        page = spend_page(client_for(editor), project).content.decode()
        assert ">Done<" not in page
        return sorted(re.findall(r'data-testid="never-approved-state">([^<]*)<', page))

    assert states() == ["Failed", "Ready for review"]
    ReviewDecision.objects.create(scene=takes["t2"].scene, take=takes["t2"], decision=Decision.CHANGES_REQUESTED,
                                  by=reviewer, note="Warmer.")
    assert states() == ["Changes requested", "Failed"]


def test_it_totals_by_model_scene_and_member(client_for, editor, owner, project, takes):
    spend = spend_page(client_for(editor), project).context["spend"]

    assert [(m["provider"], m["model"], m["takes"], m["total"]) for m in spend.by_model] == [
        ("veo", "veo-3.1", 2, Decimal("6.40")), ("replicate", "wan-video/wan-2.7-t2v", 2, Decimal("4.50"))]
    assert [(s["title"], s["takes"], s["approved_seconds"], s["total"]) for s in spend.by_scene] == [
        ("Dusk", 2, 8.0, Decimal("6.40")), ("Dawn", 2, 4.0, Decimal("4.50"))]
    assert [(m["created_by__username"], m["total"]) for m in spend.by_member] == [
        (owner.username, Decimal("6.40")), ("eddie", Decimal("4.50"))]


def test_it_follows_cost_per_approved_second_week_by_week(client_for, editor, project, takes):
    weeks = spend_page(client_for(editor), project).context["spend"].weeks

    assert [(str(w.start), w.spend, w.approved_seconds, w.cost_per_second) for w in weeks] == [
        ("2026-11-02", Decimal("4.50"), 4.0, Decimal("1.1250")),
        ("2026-11-09", Decimal("6.40"), 8.0, Decimal("0.8000")),
    ]


def test_it_draws_one_bar_per_day_and_model_as_svg_without_inline_styles(client_for, editor, project, takes):
    page = spend_page(client_for(editor), project).content.decode()

    bars = re.findall(r'<rect class="spend-bar spend-bar--\d" data-testid="spend-bar"[^>]*>', page)
    assert len(bars) == 3  # 3 Nov replicate, 10 Nov veo, 11 Nov veo
    assert 'height="160.00"' in bars[0]  # the busiest day fills the chart
    assert " style=" not in page


def test_a_date_range_narrows_the_numbers(client_for, editor, project, takes):
    spend = spend_page(client_for(editor), project, start="2026-11-10", end="2026-11-30").context["spend"]

    assert spend.total == Decimal("6.40")
    assert spend.cost_per_approved_second == Decimal("0.8000")


def test_show_month_ignores_a_range_left_in_the_form(client_for, editor, project, takes):
    spend = spend_page(client_for(editor), project, by="month", month="2026-11", start="2026-11-10",
                       end="2026-11-30").context["spend"]

    assert spend.total == Decimal("10.90")


def test_a_period_before_anything_was_spent_says_nothing_was_approved(client_for, editor, project, takes):
    response = spend_page(client_for(editor), project, month="2026-09")

    assert response.context["spend"].total == 0
    assert "nothing approved yet" in response.content.decode()
    assert 'data-testid="spend-empty"' in response.content.decode()


@pytest.mark.parametrize("params, message", [
    ({"month": "2026-13"}, "A month looks like 2026-11"),
    ({"month": "=cmd"}, "A month looks like 2026-11"),
    ({"start": "yesterday"}, "Dates look like 2026-11-01"),
    ({"start": "2026-11-20", "end": "2026-11-01"}, "The range ends before it starts"),
    ({"start": "2020-01-01", "end": "2026-11-01"}, "at most 366 days"),
])
def test_a_period_it_cannot_read_is_explained_on_the_page(client_for, editor, project, params, message):
    response = spend_page(client_for(editor), project, **params)

    assert response.status_code == 400
    assert message in response.content.decode()


def test_the_team_page_adds_up_every_project_of_the_team_and_no_other(
        client_for, owner, team, project, takes, make_scene, outsider):
    other = services.project_create(team=team, user=owner, name="Second Story")
    take(make_scene(title="Pier", project=other), when=at(5), cost="1.10", by=owner)
    rival = outsider.memberships.get().team
    rival_project = services.project_create(team=rival, user=outsider, name="Rival")
    take(services.scene_create(project=rival_project, user=outsider, title="X", prompt="x", duration=4,
                               size="1280x720", camera_notes=""), when=at(5), cost="50.00", by=outsider)

    response = client_for(owner).get(reverse("generation:team_spend", args=[team.pk]), NOVEMBER)
    project_page = spend_page(client_for(owner), project)

    assert response.status_code == 200
    assert response.context["spend"].total == Decimal("12.00")
    assert {row["scene__project__name"] for row in response.context["spend"].by_scene} == {
        "Harbour Story", "Second Story"}
    assert project_page.context["spend"].total == Decimal("10.90")


def test_the_csv_lists_the_takes_behind_the_numbers_with_formulas_neutralised(
        client_for, editor, project, make_scene, takes):
    evil = make_scene(title='=HYPERLINK("http://evil.example","x")')
    take(evil, when=at(20), cost="0.40", by=editor)

    response = client_for(editor).get(reverse("generation:project_spend_csv", args=[project.pk]), NOVEMBER)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 5  # t1, t2, t3, t5 and the evil scene's take; not t4, not October
    assert sum(Decimal(r["recorded_usd"]) for r in rows) == Decimal("11.30")
    billed = next(r for r in rows if r["take_id"] == str(takes["t2"].pk))
    assert (billed["estimated_usd"], billed["billed_usd"], billed["cost_source"], billed["approved"]) == (
        "2.0000", "2.5000", "provider", "no")
    assert next(r for r in rows if r["scene"] == "3")["scene_title"] == "'=HYPERLINK(\"http://evil.example\",\"x\")"


def test_scenes_deleted_to_the_trash_or_forever_still_count_as_one_row_of_deleted_scenes(
        client_for, editor, owner, project, make_scene, takes):
    gone, forever = make_scene(title="Gone"), make_scene(title="Forever")
    take(gone, when=at(12), cost="1.00", by=editor, approved=True)
    take(forever, when=at(13), cost="0.50", by=editor)
    trash.scene_trash(scene=gone, user=editor)
    trash.scene_trash(scene=forever, user=editor)
    trash.scene_delete_forever(project=project, scene_ids=[forever.pk], user=owner)

    response = spend_page(client_for(editor), project)

    spend = response.context["spend"]
    assert spend.total == Decimal("12.40") and spend.takes == 6  # $10.90 and the two deleted scenes' takes
    assert spend.approved_seconds == 16.0
    assert [(s["title"] or "deleted", s["scene_number"], s["takes"], s["total"]) for s in spend.by_scene] == [
        ("Dusk", 2, 2, Decimal("6.40")), ("Dawn", 1, 2, Decimal("4.50")), ("deleted", None, 2, Decimal("1.50"))]
    page = response.content.decode()
    assert "Deleted scenes (in the trash or deleted forever)" in page
    # Never approved, and without a link to a review page it no longer has.
    assert re.search(r"<td>Deleted scene “Forever”, take \d+</td>", page)
    rows = list(csv.DictReader(io.StringIO(b"".join(
        client_for(editor).get(reverse("generation:project_spend_csv", args=[project.pk]), NOVEMBER)
        .streaming_content).decode())))
    assert {(r["scene"], r["scene_title"]) for r in rows if r["scene_title"] in {"Gone", "Forever"}} == {
        ("", "Gone"), ("", "Forever")}
    assert sum(Decimal(r["recorded_usd"]) for r in rows) == Decimal("12.40")


def test_a_csv_for_a_period_it_cannot_read_says_why(client_for, editor, project):
    response = client_for(editor).get(reverse("generation:project_spend_csv", args=[project.pk]), {"month": "nov"})

    assert response.status_code == 400
    assert "A month looks like 2026-11" in response.content.decode()


@pytest.mark.parametrize("name", ["project_spend", "project_spend_csv"])
def test_reviewers_and_viewers_are_refused_a_projects_spend(client_for, reviewer, viewer, project, name):
    for user in (reviewer, viewer):
        assert client_for(user).get(reverse(f"generation:{name}", args=[project.pk])).status_code == 403


@pytest.mark.parametrize("name", ["team_spend", "team_spend_csv"])
def test_only_owners_see_the_teams_spend(client_for, editor, team, name):
    assert client_for(editor).get(reverse(f"generation:{name}", args=[team.pk])).status_code == 403


@pytest.mark.parametrize("name, arg", [("project_spend", "project"), ("project_spend_csv", "project"),
                                       ("team_spend", "team"), ("team_spend_csv", "team")])
def test_another_teams_owner_gets_404(client_for, outsider, project, team, name, arg):
    target = project if arg == "project" else team
    assert client_for(outsider).get(reverse(f"generation:{name}", args=[target.pk])).status_code == 404


def test_the_spend_links_show_only_to_those_who_may_open_them(client_for, owner, editor, reviewer, project):
    board = reverse("projects:project_detail", args=[project.pk])
    assert 'data-testid="team-spend-link"' in client_for(owner).get(board).content.decode()
    editor_page = client_for(editor).get(board).content.decode()
    assert 'data-testid="spend-link"' in editor_page and 'data-testid="team-spend-link"' not in editor_page
    assert 'data-testid="spend-link"' not in client_for(reviewer).get(board).content.decode()


def _queries(client, url) -> int:
    with CaptureQueriesContext(db) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_page_costs_the_same_queries_for_a_small_and_a_large_project(db, client):
    small, large = build_project(scenes=3, takes_per_scene=2), build_project(scenes=30, takes_per_scene=5)
    counts = []
    for built in (small, large):
        client.force_login(built.owner)
        counts.append(_queries(client, reverse("generation:project_spend", args=[built.project.pk])))
        counts.append(_queries(client, reverse("generation:team_spend", args=[built.project.team_id])))
    assert counts[0] == counts[2] and counts[1] == counts[3], counts
    assert counts[0] <= 20, counts


def test_the_realistic_projects_numbers_add_up(db, client):
    built = build_project(scenes=4, takes_per_scene=3)
    client.force_login(built.editor)
    spend = client.get(reverse("generation:project_spend", args=[built.project.pk])).context["spend"]

    assert spend.total == Decimal("0.40") * 12
    assert spend.approved_seconds == 8.0  # scenes 1 and 3 approved their newest 4-second take
    assert spend.cost_per_approved_second == Decimal("0.6000")
    assert spend.never_approved_count == 10


def test_the_by_scene_table_comes_a_page_at_a_time_and_every_total_stays_over_all_scenes(
        client_for, editor, project, make_scene, monkeypatch):
    from generation.spend import views

    monkeypatch.setattr(views, "SCENES_PER_PAGE", 3, raising=False)
    for n in range(1, 8):  # scene n cost n dollars: the table lists them from 7 down to 1
        take(make_scene(title=f"Shot {n}"), when=at(5), cost=f"{n}.00", by=editor)
    client, seen = client_for(editor), []
    for number in (1, 2, 3):
        page = spend_page(client, project, month="2026-11", scene_page=number).content.decode()
        table = page.split('data-testid="spend-by-scene"')[1].split("</table>")[0]
        seen += re.findall(r"\d+\. (Shot \d)", table)
        assert '<strong data-testid="spend-total">$28.00</strong>' in page  # every scene's, on every page
        assert "of 7, highest spend first" in page
    assert seen == [f"Shot {n}" for n in range(7, 0, -1)]  # each once
    first = spend_page(client, project, month="2026-11").content.decode()
    assert "month=2026-11&amp;scene_page=2" in first  # the next page keeps the period
    for hostile in ("99", "abc", "-1"):
        assert spend_page(client, project, month="2026-11", scene_page=hostile).status_code == 200
