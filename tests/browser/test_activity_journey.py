"""The activity page in a real browser: a scene found by typing its number or title, and older
activity appended below the page as one asks for it."""

from __future__ import annotations

import re
from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import Page, expect

from projects.models import Activity, ActivityKind
from projects.selectors import review as review_selectors
from tests.browser.conftest import log_in


def test_typing_a_scene_filters_the_feed_and_older_activity_is_appended(page: Page, live_server, owner, project,
                                                                          make_scene, monkeypatch):
    monkeypatch.setattr(review_selectors, "ACTIVITY_PAGE", 5)
    pier, storm = make_scene(title="Pier at dusk"), make_scene(title="Storm")
    start = timezone.now() - timedelta(hours=2)
    project.activity.all().delete()
    Activity.objects.bulk_create([
        Activity(project=project, kind=ActivityKind.COMMENT, scene=scene, text=f"note {i} on {scene.title}",
                 at=start + timedelta(minutes=i))
        for i, scene in enumerate([pier, storm] * 6)])
    log_in(page, live_server.url, owner)
    page.goto(f"{live_server.url}/projects/{project.pk}/activity/")
    entries = page.get_by_test_id("activity-entry")
    expect(entries).to_have_count(5)

    page.get_by_test_id("activity-older").click()
    expect(entries).to_have_count(10)  # appended below, the first five still there
    expect(entries.first).to_contain_text("note 11 on Storm")

    page.get_by_test_id("activity-scene-search").fill("dusk")
    expect(page).to_have_url(re.compile(r"scene_q=dusk"))
    expect(entries).to_have_count(5)
    for text in entries.all_inner_texts():
        assert "Pier at dusk" in text
    page.get_by_test_id("activity-older").click()  # the search box loses focus: no second request
    expect(entries).to_have_count(6)  # the sixth and last of the pier's notes
    expect(page.get_by_test_id("activity-older")).to_have_count(0)

    page.get_by_test_id("activity-scene-search").fill(str(storm.number))
    expect(entries).to_have_count(5)
    expect(entries.first).to_contain_text("note 11 on Storm")
