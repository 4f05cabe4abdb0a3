"""Journey: an owner changes the team's budget and a provider connection's address and key; a second owner
opens the team's audit log, sees both with who made them and when, filters them and downloads the CSV;
an editor and a viewer of the team cannot open it."""

from __future__ import annotations

import csv
import io
import re

from django.utils import timezone
from playwright.sync_api import expect

from projects.models import Role
from tests.browser.conftest import log_in, log_in_through_the_form

NEW_KEY = "sk-rotated-7c6b5a49382716"


def test_a_teammate_owner_reads_filters_and_downloads_the_audit_log(
        page, browser, live_server, owner, team, priced_gateway, make_member, editor, viewer):
    olga = make_member(team, Role.OWNER, "olga")

    # This journey signs its owner, its editor and its viewer in through the real login form.
    log_in_through_the_form(page, live_server.url, owner)
    page.get_by_role("link", name="Team", exact=True).click()
    page.get_by_label("Team monthly budget (US$)").fill("250")
    page.get_by_role("button", name="Save team budget").click()
    expect(page.get_by_role("status")).to_contain_text("Team monthly budget set to $250.00.")

    page.locator(".topbar").get_by_role("link", name="Providers").click()
    page.get_by_test_id("connection").filter(has_text="Gateway").get_by_role("link", name="Edit").click()
    page.get_by_label("Base URL").fill("http://127.0.0.1:9/v2")  # the tests allow loopback only
    page.get_by_label("API key").fill(NEW_KEY)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Saved Gateway.")

    context = browser.new_context(accept_downloads=True)
    try:
        teammate = log_in(context.new_page(), live_server.url, olga)
        teammate.get_by_role("link", name="Team", exact=True).click()
        teammate.get_by_test_id("audit-link").click()
        expect(teammate.get_by_role("heading", level=1)).to_have_text(f"{team.name}: audit log")
        entries = teammate.get_by_test_id("audit-entry")
        # Newest first; the fixture's own setup (adding the gateway, its model) is older still.
        changed, budget = entries.nth(0), entries.nth(1)
        expect(changed.get_by_test_id("audit-action")).to_have_text("Connection changed")
        expect(changed.get_by_test_id("audit-who")).to_have_text(owner.get_username())
        expect(changed).to_contain_text("Base URL: http://127.0.0.1:9/v1 → http://127.0.0.1:9/v2")
        expect(changed).to_contain_text("API key: replaced (never shown)")
        expect(budget.get_by_test_id("audit-action")).to_have_text("Team monthly budget set")
        expect(budget).to_contain_text("Team monthly budget: no limit → $250.00")
        expect(budget.get_by_test_id("audit-who")).to_have_text(owner.get_username())
        expect(budget.locator("time")).to_contain_text(f"{timezone.now():%Y-%m-%d}")
        expect(teammate.locator("main")).not_to_contain_text("7c6b5a49")

        teammate.get_by_label("What").select_option("budgets")  # htmx swaps the log on change
        expect(entries).to_have_count(1)
        expect(entries.first.get_by_test_id("audit-action")).to_have_text("Team monthly budget set")
        expect(teammate).to_have_url(re.compile(r"action=budgets"))
        teammate.get_by_label("What").select_option("")
        teammate.get_by_label("Who").select_option(label=owner.get_username())
        expect(teammate).to_have_url(re.compile(rf"person={owner.pk}"))
        # The owner's three: the connection changed, the budget, the connection added by the fixture
        # (the fixture's model was registered with no one signed in: "the studio").
        expect(entries).to_have_count(3)
        expect(entries.filter(has_text="the studio")).to_have_count(0)
        expect(teammate.get_by_test_id("audit-csv")).to_have_attribute("href", re.compile(rf"person={owner.pk}"))

        with teammate.expect_download() as download:
            teammate.get_by_test_id("audit-csv").click()
        body = open(download.value.path(), encoding="utf-8-sig").read()
        got = list(csv.DictReader(io.StringIO(body)))
        assert [r["action_code"] for r in got[:2]] == ["connection_changed", "team_budget_set"]
        assert {r["who"] for r in got} == {owner.get_username()}
        assert "7c6b5a49" not in body and NEW_KEY not in body
    finally:
        context.close()

    for member in (editor, viewer):
        context = browser.new_context()
        try:
            other = log_in_through_the_form(context.new_page(), live_server.url, member)
            other.get_by_role("link", name="Team", exact=True).click()
            expect(other.get_by_test_id("audit-link")).to_have_count(0)
            response = other.goto(f"{live_server.url}/teams/{team.pk}/audit/")
            assert response.status == 403
            expect(other.get_by_test_id("error-page")).to_contain_text("Your role can't do that")
            expect(other.locator("main")).not_to_contain_text("Team monthly budget set")
        finally:
            context.close()
