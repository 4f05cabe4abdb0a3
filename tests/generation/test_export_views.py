"""The exports page: who may start an export, following it, downloading its files, isolation."""

import re
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from generation.models import Export, ExportStatus, Render
from projects.review.services import take_approve


@pytest.fixture
def approved_scene(make_scene, finished_take, reviewer):
    scene = make_scene(title="Dawn", duration=1)
    take_approve(take=finished_take(scene), user=reviewer)
    scene.refresh_from_db()
    return scene


@pytest.fixture
def finished_export(project, owner, approved_scene, django_capture_on_commit_callbacks):
    from generation.exports.services import export_create

    with django_capture_on_commit_callbacks(execute=True):
        export, _ = export_create(project=project, user=owner, idempotency_key=uuid.uuid4())
    export.refresh_from_db()
    assert export.status == ExportStatus.SUCCEEDED, export.error_message
    return export


def start(client, project, *, htmx=True, key=None):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(reverse("generation:export_create", args=[project.pk]),
                       {"idempotency_key": str(key or uuid.uuid4())}, **headers)


def test_the_page_lists_scenes_left_out_and_offers_the_button(client_for, editor, project, approved_scene,
                                                              make_scene):
    make_scene(title="Gulls")
    page = client_for(editor).get(reverse("generation:export_list", args=[project.pk])).content.decode()
    assert "1 of 2 scenes" in page
    assert "Gulls — No approved take." in page
    assert 'data-testid="export-button"' in page
    assert "No exports yet." in page


def test_viewers_may_not_start_an_export(client_for, viewer, project, approved_scene):
    client = client_for(viewer)
    page = client.get(reverse("generation:export_list", args=[project.pk])).content.decode()
    assert 'data-testid="export-button"' not in page
    assert start(client, project).status_code == 403
    assert not Export.objects.exists()


@pytest.mark.parametrize("role", ["owner", "editor", "reviewer"])
def test_reviewers_editors_and_owners_start_an_export_that_runs_to_the_end(
        role, request, client_for, project, approved_scene, django_capture_on_commit_callbacks):
    user = request.getfixturevalue(role)
    with django_capture_on_commit_callbacks(execute=True):
        response = start(client_for(user), project)
    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith('<div id="exports"')  # the region, not the page
    export = Export.objects.get()
    assert (export.status, export.created_by) == (ExportStatus.SUCCEEDED, user)
    # The region was drawn at the click, before the worker ran: it shows the export queued
    # and polling; the next poll returns the finished row.
    assert f'id="export-{export.pk}"' in response.content.decode()
    row = client_for(user).get(reverse("generation:export_status", args=[export.pk])).content.decode()
    assert "hx-trigger" not in row
    assert 'data-testid="export-downloads"' in row


def test_without_htmx_the_button_redirects_back_to_the_page(client_for, editor, project, approved_scene,
                                                           django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = start(client_for(editor), project, htmx=False)
    assert response.status_code == 302
    assert response.url == reverse("generation:export_list", args=[project.pk])


def test_nothing_approved_shows_the_reason_and_books_nothing(client_for, editor, project, scene):
    response = start(client_for(editor), project)
    assert "No scene has an approved take to export yet" in response.content.decode()
    assert not Export.objects.exists()


def test_a_double_click_makes_one_export(client_for, editor, project, approved_scene,
                                         django_capture_on_commit_callbacks):
    key = uuid.uuid4()
    client = client_for(editor)
    with django_capture_on_commit_callbacks(execute=True):
        start(client, project, key=key)
        again = start(client, project, key=key)
    assert again.status_code == 200
    assert Export.objects.count() == 1


def test_the_exports_page_holds_one_live_stream_and_no_poll(client_for, viewer, project, owner):
    Export.objects.create(project=project, created_by=owner, status=ExportStatus.RUNNING, progress=40)
    page = client_for(viewer).get(reverse("generation:export_list", args=[project.pk])).content.decode()
    assert 'value="40"' in page
    assert "hx-trigger=\"every" not in page
    assert page.count("sse-connect=") == 1 and f"/projects/{project.pk}/events/" in page


@pytest.mark.parametrize("kind, content_type", [("mp4", "video/mp4"), ("zip", "application/zip"),
                                                ("pdf", "application/pdf"), ("csv", "text/csv; charset=utf-8")])
def test_any_member_downloads_the_files(kind, content_type, client_for, viewer, finished_export):
    response = client_for(viewer).get(reverse("generation:export_file", args=[finished_export.pk, kind]))
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"].startswith('attachment; filename="harbour-story-')
    assert b"".join(response.streaming_content) == open(getattr(finished_export, kind).path, "rb").read()


def test_the_mp4_download_answers_range_requests(client_for, viewer, finished_export):
    response = client_for(viewer).get(reverse("generation:export_file", args=[finished_export.pk, "mp4"]),
                                      HTTP_RANGE="bytes=0-99")
    assert response.status_code == 206
    assert len(b"".join(response.streaming_content)) == 100


def test_an_export_whose_take_was_withheld_later_can_no_longer_be_downloaded(client_for, owner, finished_export,
                                                                           approved_scene):
    Render.objects.filter(pk=approved_scene.approved_take_id).update(
        quarantined_at=timezone.now(), quarantine_reason="consent revoked")
    client = client_for(owner)
    for kind in ("mp4", "zip", "pdf", "csv"):
        assert client.get(reverse("generation:export_file", args=[finished_export.pk, kind])).status_code == 404
    page = client.get(reverse("generation:export_list", args=[finished_export.project_id])).content.decode()
    assert "Withheld: consent was revoked" in page
    assert reverse("generation:export_file", args=[finished_export.pk, "mp4"]) not in page


def test_unfinished_exports_and_unknown_kinds_have_no_files(client_for, owner, project, finished_export):
    client = client_for(owner)
    assert client.get(reverse("generation:export_file", args=[finished_export.pk, "exe"])).status_code == 404
    queued = Export.objects.create(project=project, created_by=owner)
    assert client.get(reverse("generation:export_file", args=[queued.pk, "mp4"])).status_code == 404


@pytest.fixture
def export_urls(project, finished_export):
    return [
        ("get", reverse("generation:export_list", args=[project.pk])),
        ("post", reverse("generation:export_create", args=[project.pk])),
        ("get", reverse("generation:export_status", args=[finished_export.pk])),
        ("get", reverse("generation:export_file", args=[finished_export.pk, "mp4"])),
        ("get", reverse("generation:export_file", args=[finished_export.pk, "zip"])),
        ("get", reverse("generation:export_file", args=[finished_export.pk, "pdf"])),
        ("get", reverse("generation:export_file", args=[finished_export.pk, "csv"])),
    ]


def test_another_teams_user_gets_404_on_every_export_url(client_for, outsider, export_urls):
    client = client_for(outsider)
    for method, url in export_urls:
        response = getattr(client, method)(url, {"idempotency_key": str(uuid.uuid4())} if method == "post" else {})
        assert response.status_code == 404, f"{method.upper()} {url} gave {response.status_code}"
    assert Export.objects.count() == 1  # nothing was started


def test_anonymous_visitors_are_sent_to_login_from_every_export_url(client, export_urls):
    for method, url in export_urls:
        response = getattr(client, method)(url)
        assert response.status_code == 302, f"{method.upper()} {url} gave {response.status_code}"
        assert response.url.startswith(reverse("login"))


def test_past_exports_come_a_page_at_a_time_newest_first_and_every_one_is_reached(client_for, viewer, project,
                                                                                     owner, monkeypatch):
    from generation.exports import views

    monkeypatch.setattr(views, "EXPORTS_PER_PAGE", 3, raising=False)
    made = [Export.objects.create(project=project, created_by=owner, status=ExportStatus.FAILED,
                                  error_message=f"failure {n}") for n in range(7)]
    client, url = client_for(viewer), reverse("generation:export_list", args=[project.pk])
    seen = []
    for number in (1, 2, 3):
        page = client.get(url, {"page": number}).content.decode()
        seen += [int(pk) for pk in re.findall(r'id="export-(\d+)"', page)]
        assert "of 3 (7 exports)" in page
    assert seen == [e.pk for e in reversed(made)]  # each once, the newest first
    first = client.get(url).content.decode()
    assert f'href="{url}?page=2"' in first and "Newer exports" not in first
    for hostile in ("99", "abc", "-1", "0"):  # the nearest page, never an error
        assert client.get(url, {"page": hostile}).status_code == 200


def test_the_exports_page_reads_no_dialogue_it_does_not_show(client_for, viewer, project, approved_scene):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from projects.models import DialogueLine

    with CaptureQueriesContext(connection) as queries:
        page = client_for(viewer).get(reverse("generation:export_list", args=[project.pk])).content.decode()
    assert "1 of 1 scenes" in page
    assert not [q for q in queries if DialogueLine._meta.db_table in q["sql"]]


def test_the_plan_counts_every_scene_and_lists_each_side_a_page_at_a_time(
        client_for, editor, reviewer, project, make_scene, finished_take, monkeypatch):
    from generation.exports import services

    monkeypatch.setattr(services, "PLAN_ROWS_PER_PAGE", 2, raising=False)
    for n in range(1, 4):
        take_approve(take=finished_take(make_scene(title=f"Approved {n}", duration=1)), user=reviewer)
    for n in range(1, 4):
        make_scene(title=f"Open {n}")
    withheld = make_scene(title="Withheld", duration=1)
    take = finished_take(withheld)
    take_approve(take=take, user=reviewer)
    Render.objects.filter(pk=take.pk).update(quarantined_at=timezone.now(), quarantine_reason="consent revoked")
    client, url = client_for(editor), reverse("generation:export_list", args=[project.pk])

    def listed(page, testid):
        return re.findall(rf'data-testid="{testid}">\d+\. ([\w ]+) —', page)

    first = client.get(url).content.decode()
    assert "3 of 7 scenes" in first  # counted over every scene, not the page shown
    assert "Left out of the MP4 and ZIP (4)" in first
    assert listed(first, "export-take") == ["Approved 1", "Approved 2"]
    assert listed(first, "left-out-scene") == ["Open 1", "Open 2"]
    assert "Scenes 1–2 of 3" in first and "Scenes 1–2 of 4" in first
    second = client.get(url, {"included": 2, "left_out": 2}).content.decode()
    assert listed(second, "export-take") == ["Approved 3"]
    # The withheld take's scene is off the first page, yet counted there and told on its own page.
    assert listed(second, "left-out-scene") == ["Open 3", "Withheld"]
    assert "Withheld — Approved take 1 is withheld: consent revoked." in second
    assert 'data-testid="export-button"' in second
    for hostile in ("99", "abc", "-1"):
        assert client.get(url, {"included": hostile, "left_out": hostile}).status_code == 200
