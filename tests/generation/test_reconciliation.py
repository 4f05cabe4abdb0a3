"""An owner compares a provider's usage export with the takes the studio recorded."""

from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from generation.models import ReconciliationRun
from projects.storyboard import services
from tests.generation.test_spend import at, take

USAGE = Path(__file__).resolve().parent.parent / "fixtures" / "usage"
NOVEMBER = {"provider": "replicate", "start": "2026-11-01", "end": "2026-11-30"}


@pytest.fixture
def recorded(make_scene, editor, outsider):
    scene = make_scene()
    rival = services.project_create(team=outsider.memberships.get().team, user=outsider, name="Rival")
    rival_scene = services.scene_create(project=rival, user=outsider, title="X", prompt="x", duration=4,
                                        size="1280x720", camera_notes="")
    return {
        "match": take(scene, when=at(3, 10), cost="2.00", job_id="p-match", by=editor),
        "more": take(scene, when=at(3, 11), cost="2.00", job_id="p-more", by=editor),
        "near": take(scene, when=at(12, 15), cost="0.80", job_id="p-near", by=editor),
        "unbilled": take(scene, when=at(20), cost="1.00", job_id="p-unbilled", by=editor),
        "veo": take(scene, when=at(21), cost="3.20", provider="veo", model="veo-3.1", job_id="op-1", by=editor),
        # Another team's take with the id of a row the export bills: never ours to match.
        "rival": take(rival_scene, when=at(4, 9), cost="1.40", job_id="p-stranger", by=outsider),
    }


def compare(client, team, *, upload=None, pasted="", **fields):
    data = {**NOVEMBER, "pasted": pasted, **fields}
    if upload:
        data["usage_file"] = SimpleUploadedFile("../../etc/usage.csv", upload, content_type="text/csv")
    return client.post(reverse("generation:reconciliation_list", args=[team.pk]), data)


def test_it_matches_the_export_to_takes_and_shows_what_differs(client_for, owner, team, recorded):
    response = compare(client_for(owner), team, upload=(USAGE / "generic_usage.csv").read_bytes())

    run = ReconciliationRun.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/reconciliations/{run.pk}/")
    result = run.result
    assert {m["job_id"]: m["by"] for m in result["matched"]} == {
        "p-match": "job id", "p-more": "job id", "p-near": "model and time"}
    assert [(d["job_id"], d["difference_usd"]) for d in result["differences"]] == [("p-more", "0.7500")]
    assert [r["job_id"] for r in result["billed_not_recorded"]] == ["p-stranger"]  # not the rival's, not September's
    assert [t["take_id"] for t in result["recorded_not_billed"]] == [recorded["unbilled"].pk]
    assert (Decimal(result["billed_total"]), Decimal(result["recorded_total"])) == (Decimal("6.95"), Decimal("5.80"))
    assert run.csv_shape == "generic" and len(run.rows) == 5

    page = client_for(owner).get(response["Location"]).content.decode()
    assert "p-stranger" in page and "$0.75" in page and "$1.15" in page
    assert page.count('data-testid="recorded-not-billed-row"') == 1


def test_pasted_rows_with_a_usage_exports_own_column_names_are_understood(client_for, owner, team, recorded):
    compare(client_for(owner), team, pasted=(USAGE / "replicate_style_usage.csv").read_text())

    run = ReconciliationRun.objects.get()
    assert run.csv_shape == "aliased"
    assert [m["job_id"] for m in run.result["matched"]] == ["p-match"]


@pytest.mark.parametrize("pasted, message", [
    ("job_id,model,billed_usd,created_at\np-1,m,abc,2026-11-01\n", "Line 2: billed_usd “abc” is not an amount"),
    ("job_id,model,billed_usd,created_at\np-1,m,1.00,2026-11-01\np-2,m,1.00,last tuesday\n",
     "Line 3: created_at “last tuesday” is not a date"),
    ("job_id,model,billed_usd,created_at\np-1,m,-4,2026-11-01\n", "Line 2: billed_usd “-4”"),
    ("job_id,model,billed_usd,created_at\n,m,1.00,\n", "Line 2: no job_id, and no model and created_at"),
    ("job_id,model,billed_usd\np-1,m\n", "Line 2: 2 columns where the header has 3"),
    ("job,model,created_at\np-1,m,2026-11-01\n", "Line 1: the header has no billed_usd column"),
    ("job_id,model,billed_usd,created_at\n", "has a header but no rows"),
    ("", "usage export (CSV) or paste its rows"),
])
def test_a_usage_file_it_cannot_read_is_explained_naming_the_line(client_for, owner, team, pasted, message):
    response = compare(client_for(owner), team, pasted=pasted)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ReconciliationRun.objects.exists()


def test_a_file_that_is_not_utf8_text_is_refused_in_words(client_for, owner, team):
    response = compare(client_for(owner), team, upload=b"\xff\xfe\x00j\x00o\x00b")

    assert response.status_code == 400
    assert "not UTF-8 text" in response.content.decode()


def test_an_uploaded_file_with_a_nul_is_refused_naming_the_line(client_for, owner, team):
    response = compare(client_for(owner), team, upload=b"job_id,model,billed_usd,created_at\np-1,m\x00,1.00,2026-11-01\n")

    assert response.status_code == 400
    assert "Line 2: a NUL character" in response.content.decode()
    assert not ReconciliationRun.objects.exists()


def test_a_period_that_ends_before_it_starts_is_refused(client_for, owner, team):
    response = compare(client_for(owner), team, pasted="job_id,billed_usd\np,1\n", start="2026-11-30", end="2026-11-01")

    assert response.status_code == 400
    assert "The range ends before it starts" in response.content.decode()


def test_a_run_can_be_reopened_from_the_list(client_for, owner, team, recorded):
    client = client_for(owner)
    compare(client, team, upload=(USAGE / "generic_usage.csv").read_bytes())
    run = ReconciliationRun.objects.get()

    listing = client.get(reverse("generation:reconciliation_list", args=[team.pk])).content.decode()
    reopened = client.get(reverse("generation:reconciliation_detail", args=[team.pk, run.pk]))

    assert reverse("generation:reconciliation_detail", args=[team.pk, run.pk]) in listing
    assert reopened.status_code == 200 and "p-stranger" in reopened.content.decode()


def test_editors_are_refused_and_another_team_gets_404(client_for, owner, editor, outsider, team, recorded):
    compare(client_for(owner), team, pasted="job_id,billed_usd\np-match,2\n")
    run = ReconciliationRun.objects.get()
    rival_team = outsider.memberships.get().team

    assert client_for(editor).get(reverse("generation:reconciliation_list", args=[team.pk])).status_code == 403
    outsider_client = client_for(outsider)
    assert outsider_client.get(reverse("generation:reconciliation_list", args=[team.pk])).status_code == 404
    assert outsider_client.get(reverse("generation:reconciliation_detail", args=[team.pk, run.pk])).status_code == 404
    # Their own team's address with our run's id: still nothing.
    assert outsider_client.get(
        reverse("generation:reconciliation_detail", args=[rival_team.pk, run.pk])).status_code == 404
