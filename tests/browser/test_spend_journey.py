"""Journey: an owner opens a project's spend, picks a month, reads the chart and downloads the CSV behind it."""

from __future__ import annotations

import csv
import io

from playwright.sync_api import expect

from tests.generation.test_spend import takes  # noqa: F401


def test_owner_reads_the_spend_chart_and_downloads_its_takes(logged_in_page, live_server, owner, project, takes):  # noqa: F811
    page = logged_in_page(owner)
    violations = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    page.get_by_test_id("spend-link").click()

    page.get_by_label("Month").fill("2026-11")
    page.get_by_role("button", name="Show month").click()

    expect(page.get_by_test_id("spend-period")).to_have_text("November 2026")
    expect(page.get_by_test_id("spend-total")).to_have_text("$10.90")
    expect(page.get_by_test_id("cost-per-approved-second")).to_have_text("$0.91")
    chart = page.get_by_test_id("spend-chart")
    expect(chart).to_be_visible()
    expect(chart.locator("rect.spend-bar")).to_have_count(3)
    expect(page.get_by_test_id("spend-legend").locator("li")).to_have_count(2)  # replicate wan, veo

    with page.expect_download() as download_info:
        page.get_by_test_id("spend-csv").click()
    download = download_info.value
    assert download.suggested_filename == f"spend-project-{project.pk}-2026-11-01-2026-11-30.csv"
    rows = list(csv.DictReader(io.StringIO(open(download.path(), encoding="utf-8").read())))
    assert len(rows) == 4 and {r["model"] for r in rows} == {"veo-3.1", "wan-video/wan-2.7-t2v"}
    assert violations == []
