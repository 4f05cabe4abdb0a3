"""The team's audit log page: owners see, filter and download who changed what and when; nobody else
reads it; a long history pages fast, from an index."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from generation.providers import connections
from projects.audit import audit_entry, audit_record
from projects.audit.selectors import PAGE_SIZE, audit_entries
from projects.models import AuditAction, AuditEntry, Membership, Role
from projects.teams import services as team_services

HX = {"HTTP_HX_REQUEST": "true"}


def page_url(team, **query):
    url = reverse("projects:team_audit", args=[team.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def csv_url(team, **query):
    url = reverse("projects:team_audit_csv", args=[team.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def shown(response) -> list[str]:
    """The actions of the entries a page shows, newest first."""
    html = response.content.decode()
    return [chunk.split('"', 1)[0] for chunk in html.split('data-testid="audit-entry" data-action="')[1:]]


def rows(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(body)))


@pytest.fixture
def history(team, owner, editor, make_member, project):
    """Changes by the team's two owners: budgets, a role, a connection."""
    other_owner = make_member(team, Role.OWNER, "olga")
    team_services.team_budget_set(team=team, user=owner, amount=Decimal("500"))
    team_services.project_budget_set(project=project, user=other_owner, amount=Decimal("80"))
    member = Membership.objects.get(team=team, user=editor)
    team_services.membership_set_role(membership=member, user=owner, role=Role.REVIEWER)
    gateway = connections.connection_create(team=team, user=other_owner, kind="openai-videos", label="Gateway",
                                            base_url="http://127.0.0.1:9/v1", api_key="sk-never-shown-4242")
    return {"other_owner": other_owner, "gateway": gateway}


# --- Reading it ---------------------------------------------------------------------------------


def test_an_owner_sees_who_changed_what_and_when_newest_first(client_for, team, owner, history):
    response = client_for(owner).get(page_url(team))
    assert response.status_code == 200
    assert shown(response) == ["connection_added", "role_changed", "project_budget_set", "team_budget_set"]
    html = response.content.decode()
    assert "Team monthly budget: no limit → $500.00" in html and "Render budget: no limit → $80.00" in html
    assert "Role: editor → reviewer" in html and "API key: set (never shown)" in html
    assert "olga" in html and owner.username in html
    assert "sk-never-shown" not in html and "4242" not in html
    assert f'datetime="{timezone.localdate():%Y-%m-%d}T' in html and "Times are in UTC." in html


def test_the_team_page_links_owners_to_the_log_and_no_one_else(client_for, team, owner, editor):
    members = reverse("projects:team_members", args=[team.pk])
    assert page_url(team) in client_for(owner).get(members).content.decode()
    assert page_url(team) not in client_for(editor).get(members).content.decode()


def test_owners_filter_by_area_action_and_person(client_for, team, owner, history):
    client = client_for(owner)
    assert shown(client.get(page_url(team, action="budgets"))) == ["project_budget_set", "team_budget_set"]
    assert shown(client.get(page_url(team, action="role_changed"))) == ["role_changed"]
    olga = history["other_owner"]
    assert shown(client.get(page_url(team, person=olga.pk))) == ["connection_added", "project_budget_set"]
    assert shown(client.get(page_url(team, action="budgets", person=olga.pk))) == ["project_budget_set"]


def test_owners_filter_by_a_range_of_days_both_ends_included(client_for, team, owner):
    entries = []
    for days_ago, action in ((10, AuditAction.TEAM_BUDGET_SET), (5, AuditAction.PROJECT_BUDGET_SET),
                             (2, AuditAction.ROLE_CHANGED), (0, AuditAction.CONNECTION_ADDED)):
        entry = audit_entry(team=team, actor=owner, action=action, target=team)
        entry.at = timezone.now() - timedelta(days=days_ago)
        entries.append(entry)
    AuditEntry.objects.bulk_create(entries)  # as if written on those days
    client, today = client_for(owner), timezone.localdate()
    assert shown(client.get(page_url(team, since=today - timedelta(days=5), until=today - timedelta(days=2)))) == [
        "role_changed", "project_budget_set"]
    assert shown(client.get(page_url(team, until=today - timedelta(days=6)))) == ["team_budget_set"]
    assert shown(client.get(page_url(team, since=today))) == ["connection_added"]


def test_an_htmx_filter_answers_with_the_log_region_only(client_for, team, owner, history):
    response = client_for(owner).get(page_url(team, action="budgets"), **HX)
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="audit-log"') and "<html" not in html
    assert shown(response) == ["project_budget_set", "team_budget_set"]
    assert f'{csv_url(team)}?action=budgets"' in html  # the CSV link follows the filter
    assert "HX-Request" in response["Vary"]


@pytest.mark.parametrize(("query", "words"), [
    ({"since": "2026-13-45"}, "Dates look like 2026-11-01"),
    ({"since": "2026-11-10", "until": "2026-11-01"}, "The range ends before it starts"),
    ({"action": "everything"}, "Choose what to show from the list."),
    ({"person": "999999"}, "Nobody by that id made changes here"),
    ({"person": "²"}, "Nobody by that id made changes here"),
    ({"before": "abc"}, "That page of the log does not exist"),
    ({"until": "9999-12-31"}, "Pick a date between 1970 and 9999."),
])
def test_a_filter_that_cannot_be_used_says_why_and_shows_the_whole_log(client_for, team, owner, history, query,
                                                                        words):
    response = client_for(owner).get(page_url(team, **query))
    assert response.status_code == 400
    html = response.content.decode()
    assert words in html and "The whole log is shown instead." in html
    assert len(shown(response)) == 4
    refused = client_for(owner).get(page_url(team, **query), **HX)  # htmx swaps 2xx only: the words show
    assert refused.status_code == 200 and words in refused.content.decode()
    if "before" not in query:
        download = client_for(owner).get(csv_url(team, **query))
        assert download.status_code == 400 and words in download.content.decode()


def test_another_teams_people_and_entries_never_show(client_for, team, owner, outsider, history):
    rival = Membership.objects.get(user=outsider).team
    team_services.team_budget_set(team=rival, user=outsider, amount=Decimal("1"))
    client = client_for(owner)
    page = client.get(page_url(team))
    assert "mallory" not in page.content.decode() and len(shown(page)) == 4
    refused = client.get(page_url(team, person=outsider.pk))
    assert refused.status_code == 400 and "mallory" not in refused.content.decode()
    assert all(r["who"] != "mallory" for r in rows(client.get(csv_url(team))))


# --- Who may read it ----------------------------------------------------------------------------


def test_only_owners_read_the_log_other_teams_get_404_and_strangers_log_in(client, client_for, team, viewer,
                                                                            editor, reviewer, outsider, history):
    for url in (page_url(team), csv_url(team)):
        for role in (viewer, editor, reviewer):
            assert client_for(role).get(url).status_code == 403, (role, url)
        assert client_for(outsider).get(url).status_code == 404
        client.logout()
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_a_member_removed_from_the_team_reads_its_log_no_more(client_for, team, owner, history):
    olga = history["other_owner"]
    team_services.membership_remove(membership=Membership.objects.get(team=team, user=olga), user=owner)
    assert client_for(olga).get(page_url(team)).status_code == 404
    # …and what she did stays in the log, under her name, and can still be picked.
    page = client_for(owner).get(page_url(team, person=olga.pk))
    assert shown(page) == ["connection_added", "project_budget_set"]


# --- The CSV ------------------------------------------------------------------------------------


def test_the_csv_holds_the_filtered_entries_with_who_when_and_what(client_for, team, owner, history):
    response = client_for(owner).get(csv_url(team, action="budgets"))
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(f'attachment; filename="audit-log-team-{team.pk}-')
    got = rows(response)
    assert [r["action_code"] for r in got] == ["project_budget_set", "team_budget_set"]
    assert got[0]["who"] == "olga" and got[0]["target"] == "Harbour Story" and got[0]["target_type"] == "Project"
    assert got[1]["details"] == "Team monthly budget: no limit → $500.00"
    assert got[1]["at"].startswith(f"{timezone.localdate():%Y-%m-%d}T")


def test_the_csv_holds_every_entry_not_just_a_page_and_never_a_key(client_for, team, owner, history):
    for n in range(PAGE_SIZE + 5):
        audit_record(team=team, actor=owner, action=AuditAction.CONNECTION_CHANGED, target=history["gateway"],
                     details={"changes": {"api_key": "replaced"}})
    body = b"".join(client_for(owner).get(csv_url(team)).streaming_content).decode("utf-8-sig")
    assert len(list(csv.DictReader(io.StringIO(body)))) == PAGE_SIZE + 5 + 4
    assert "sk-never-shown" not in body and "4242" not in body


def test_cells_a_spreadsheet_would_run_as_formulas_are_defused(client_for, team, owner, priced_gateway):
    for label in ('=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)"):
        team_services.team_budget_set(team=team, user=owner, amount=None)  # nothing changes: nothing logged
        audit_record(team=team, actor=owner, action=AuditAction.CONNECTION_CHANGED, target=priced_gateway,
                     target_label=label, details={"changes": {"label": ["Gateway", label]}})
    got = rows(client_for(owner).get(csv_url(team, action="connection_changed")))
    assert [r["target"] for r in got] == ["'@SUM(A1)", "'-2+3", "'+1+1", "'=HYPERLINK(\"http://evil.example\",\"x\")"]
    assert all(r["details"].startswith("Name: Gateway → ") for r in got)


# --- A long history -----------------------------------------------------------------------------


def test_a_long_history_pages_newest_first_keeping_the_filter(client_for, team, owner, history):
    for n in range(PAGE_SIZE + 10):
        audit_record(team=team, actor=owner, action=AuditAction.MEMBER_CAP_SET, target=team,
                     details={"changes": {"monthly_cap": [None, f"{n}.00"]}})
    client = client_for(owner)
    first = client.get(page_url(team, action="budgets"))
    html = first.content.decode()
    assert len(shown(first)) == PAGE_SIZE and "${}.00".format(PAGE_SIZE + 9) in html
    older = html.split('data-testid="audit-older"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    assert "action=budgets" in older
    second = client.get(older)
    assert shown(second) == ["member_cap_set"] * 10 + ["project_budget_set", "team_budget_set"]
    assert 'data-testid="audit-older"' not in second.content.decode()
    assert 'data-testid="audit-newest"' in second.content.decode()
    ids = [int(x.split('"')[0]) for x in html.split("before=")[1:]]
    assert ids == [min(e.pk for e in audit_entries(team=team, filters={"action": "budgets"})[:PAGE_SIZE])]


def _realistic_history(team, people, count):
    """What a busy team's log holds: every kind of change, by several people (one who left), the studio
    and guests, over weeks."""
    actions = list(AuditAction)
    entries = []
    for n in range(count):
        who = people[n % len(people)]
        entry = audit_entry(team=team, actor=who, action=actions[n % len(actions)], target=team,
                            actor_name="Grace (Acme)" if who is None and n % 2 else "",
                            details={"changes": {"monthly_budget": [f"{n}.00", f"{n + 1}.00"]}, "note": "x" * 80})
        entry.at = timezone.now() - timedelta(hours=n * 3)
        entries.append(entry)
    AuditEntry.objects.bulk_create(entries)


def test_the_page_costs_the_same_queries_for_a_short_and_a_long_history(client_for, make_team, make_member,
                                                                         make_user):
    counts = []
    for size in (30, 600):
        team = make_team(f"Team of {size}")
        owner = team.memberships.get().user
        people = [owner, make_member(team, Role.OWNER), make_member(team, Role.EDITOR), make_user(), None]
        _realistic_history(team, people, size)
        client = client_for(owner)
        for query in ({}, {"action": "budgets", "person": owner.pk}):
            client.get(page_url(team, **query))  # warm: the session, the catalog
            with CaptureQueriesContext(connection) as captured:
                response = client.get(page_url(team, **query))
            assert response.status_code == 200
            counts.append(len(captured))
        assert len(shown(client.get(page_url(team)))) == min(size, PAGE_SIZE)
    assert counts[0] == counts[2] and counts[1] == counts[3], counts
    assert max(counts) <= 14, counts


@pytest.mark.parametrize(("filters", "index"), [
    ({}, "audit_team_id_idx"),
    ({"action": "role_changed"}, "audit_team_action_idx"),
    ({"person": "1"}, "audit_team_actor_idx"),
])
def test_a_page_of_the_log_is_read_from_an_index_in_its_order(team, filters, index):
    entries = audit_entries(team=team, filters=filters).filter(id__lt=10**9)[:PAGE_SIZE + 1]
    sql, params = entries.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # a test table is tiny: make the planner show what it would use
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + sql, params)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        plan = " ".join(str(row) for row in cursor.fetchall())
    assert index in plan, plan
    assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan  # the index gives the order: no sort
