"""Check for model changes: what a connection's provider publishes becomes changes its owners accept, or not.

The check runs in the worker (inline here) against the strict fakes; nothing in the catalog changes until an
owner accepts a row, each accepted change is in the audit log, and a model gone from the provider goes the
way of every retiring model: deprecated with a date, warned about, chipped on the board.
"""

from __future__ import annotations

import dataclasses
import datetime
import uuid
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone, translation

from generation import tasks
from generation.catalog import available_targets
from generation.models import (
    CatalogModel,
    CatalogProposal,
    ProposalStatus,
    ProposedChange,
    Render,
    RetirementNotice,
    Status,
)
from generation.providers import (
    ListedModel,
    ModelListing,
    catalog_diff,
    catalog_sync,
    comfy_workflows,
    connections,
)
from generation.providers.runway import RunwayProvider
from generation.renders import services, shot_groups
from generation.renders.retirement import label_for, lifecycle_labels
from projects.live.fragments import render_change
from projects.models import AuditAction, AuditEntry, ChangeEvent, ChangeKind, Role, Scene
from tests.fakes.comfyui_server import FIXTURES as COMFY_FIXTURES
from tests.fakes.fal_server import STRING, VEO_PUBLISHED

TODAY = timezone.localdate()
LITE, FAST = "fal-ai/veo3.1/lite", "fal-ai/veo3.1/fast"
SEEDANCE, KLING = "bytedance/seedance-2.0/text-to-video", "fal-ai/kling-video/v3/pro/text-to-video"
KLING_STANDARD = "fal-ai/kling-video/v3/turbo/standard/text-to-video"  # a Kling the adapter does not map by hand


@pytest.fixture
def fal(team, owner, fal_server, settings):
    settings.FAL_API_URL = fal_server.api_url
    return connections.connection_create(team=team, user=owner, kind="fal", label="fal", base_url=fal_server.url,
                                         api_key=fal_server.api_key)


@pytest.fixture
def check(django_capture_on_commit_callbacks, owner):
    """An owner's "Check for model changes", run by the (inline) worker; the connection's proposal after it."""
    def run(connection, user=owner):
        with django_capture_on_commit_callbacks(execute=True):
            catalog_sync.catalog_check_request(connection=connection, user=user)
        return CatalogProposal.objects.get(connection=connection)
    return run


def rows(proposal) -> dict:
    return {(r.change, r.model_id): r for r in proposal.changes.all()}


def publish_lite(fal_server):
    fal_server.published[LITE] = ("Veo 3.1 Lite", "text-to-video", "Veo31Lite", VEO_PUBLISHED)
    fal_server.prices[LITE] = (0.05, "second")


def churn(fal_server):
    """fal adds Veo 3.1 Lite, lets Veo 3.1 Fast render 10 s too, and withdraws Seedance 2.0."""
    publish_lite(fal_server)
    name, category, schema, properties = fal_server.published[FAST]
    fal_server.published[FAST] = (name, category, schema, {**properties, "duration": (
        {"type": "string", "enum": ["4s", "6s", "8s", "10s"], "default": "8s"}, False)})
    del fal_server.published[SEEDANCE]


def test_a_catalog_that_matches_its_provider_is_told_so_and_nothing_is_proposed(fal, check):
    proposal = check(fal)
    assert proposal.status == ProposalStatus.READY and proposal.checked_at is not None
    assert list(proposal.changes.all()) == []


def test_a_check_proposes_the_new_the_changed_and_the_gone_and_changes_nothing(fal, fal_server, check):
    churn(fal_server)
    catalog = list(CatalogModel.objects.values())

    proposal = check(fal)

    found = rows(proposal)
    assert set(found) == {("new", LITE), ("changed", FAST), ("gone", SEEDANCE)}
    new = found["new", LITE]
    assert new.display_name == "Veo 3.1 Lite" and new.needs == []  # sizes, lengths and price all listed
    assert (new.proposed["sizes"], new.proposed["durations"], new.proposed["price_per_second"]) == (
        ["1280x720", "720x1280", "1920x1080", "1080x1920"], [4, 6, 8], "0.05")
    assert found["changed", FAST].proposed == {"durations": [4, 6, 8, 10]}
    assert found["changed", FAST].current == {"durations": [4, 6, 8]}
    assert found["gone", SEEDANCE].proposed == {"lifecycle": "deprecated"}
    assert list(CatalogModel.objects.values()) == catalog  # nothing changes by itself


def test_an_owner_accepts_some_rows_and_only_those_change_each_in_the_audit_log(fal, fal_server, check, owner,
                                                                             make_team, make_user):
    churn(fal_server)
    found = rows(check(fal))
    retire_on = TODAY + datetime.timedelta(days=14)

    accepted = catalog_sync.proposed_changes_accept(connection=fal, user=owner, decisions={
        found["new", LITE].pk: catalog_sync.Decision(found["new", LITE].fingerprint, price=Decimal("0.06")),
        found["gone", SEEDANCE].pk: catalog_sync.Decision(found["gone", SEEDANCE].fingerprint, retire_on=retire_on)})

    assert {(r.change, r.model_id) for r in accepted} == {("new", LITE), ("gone", SEEDANCE)}
    lite = CatalogModel.objects.get(connection=fal, model_id=LITE)
    assert (lite.price_per_second, lite.durations, lite.has_audio) == ({"*": 0.06}, [4, 6, 8], True)  # the owner's price
    assert lite.input_schema["wire"]["duration"] == {"field": "duration", "format": "seconds"}
    gone = CatalogModel.objects.get(connection=fal, model_id=SEEDANCE)  # the team's own copy, deprecated
    assert (gone.lifecycle, gone.lifecycle_date) == ("deprecated", retire_on)
    shipped = CatalogModel.objects.get(connection=None, kind="fal", model_id=SEEDANCE)
    assert shipped.lifecycle == "available"  # every other team keeps its own view
    assert CatalogModel.objects.get(connection=None, model_id=FAST).durations == [4, 6, 8]  # not accepted
    assert ProposedChange.objects.get(model_id=FAST).state == "pending"
    entries = AuditEntry.objects.filter(team=fal.team).order_by("pk")
    added, deprecated = entries.get(action=AuditAction.MODEL_ADDED_FROM_PROVIDER), entries.get(
        action=AuditAction.PROVIDER_CHANGE_ACCEPTED)
    assert (added.actor, added.target_label) == (owner, "Veo 3.1 Lite (fal-ai/veo3.1/lite) · fal")
    assert added.details["price_per_second"] == {"*": 0.06} and added.details["source"].startswith("fal's model search")
    assert deprecated.details["changes"]["lifecycle"] == ["available", "deprecated"]
    assert deprecated.details["changes"]["lifecycle_date"] == [None, f"{retire_on:%Y-%m-%d}"]
    # Another team on fal still sees Seedance as it was.
    rival = make_team("Rival", owner=make_user("rival"))
    theirs = connections.connection_create(team=rival, user=rival.memberships.get().user, kind="fal", label="fal",
                                           api_key="k")
    assert SEEDANCE in {t.model.model_id for t in available_targets(rival) if t.connection == theirs}


def test_the_accepted_model_is_booked_and_rendered_on_the_provider_as_its_schema_says(
        fal, fal_server, check, owner, editor, make_scene, django_capture_on_commit_callbacks):
    publish_lite(fal_server)
    new = rows(check(fal))["new", LITE]
    catalog_sync.proposed_changes_accept(connection=fal, user=owner, decisions={
        new.pk: catalog_sync.Decision(new.fingerprint, price=Decimal("0.05"))})

    with django_capture_on_commit_callbacks(execute=True):
        take, _ = services.render_create(scene=make_scene(duration=4, size="720x1280"), user=editor, connection=fal,
                                         model_id=LITE, idempotency_key=uuid.uuid4())
    take.refresh_from_db()

    assert take.status == Status.SUCCEEDED, take.error_message
    assert fal_server.seen("POST", "/" + LITE)[0].json == {
        "prompt": take.recipe["prompt"], "duration": "4s", "aspect_ratio": "9:16", "resolution": "720p",
        "generate_audio": True}
    assert take.cost == Decimal("0.20")  # the confirmed price, 4 s


def test_a_new_model_whose_schema_lists_shots_is_added_able_to_render_several_scenes_as_one_take(
        fal, fal_server, check, owner, editor, project, make_scene, django_capture_on_commit_callbacks):
    _name, category, _schema, properties = fal_server.published[KLING]
    fal_server.published[KLING_STANDARD] = ("Kling Video v3 Standard", category, "KlingV3Standard", dict(properties))
    new = rows(check(fal))["new", KLING_STANDARD]
    assert {k: new.proposed[k] for k in ("shot_timing", "shots_max", "shots_seconds_min", "shots_seconds_max",
                                         "shot_min_seconds")} == {"shot_timing": "exact", "shots_max": 6,
                                                                  "shots_seconds_min": 3, "shots_seconds_max": 15,
                                                                  "shot_min_seconds": 1}
    catalog_sync.proposed_changes_accept(connection=fal, user=owner, decisions={
        new.pk: catalog_sync.Decision(new.fingerprint, price=Decimal("0.08"), sizes=["1920x1080"])})
    added = CatalogModel.objects.get(connection=fal, model_id=KLING_STANDARD)
    assert (added.shot_timing, added.input_map["shots"]["field"]) == ("exact", "multi_prompt")

    scenes = [make_scene(title=t, duration=d, size="1920x1080") for t, d in (("Dawn", 2), ("Boats", 1), ("Gulls", 1))]
    with django_capture_on_commit_callbacks(execute=True):
        group = shot_groups.shot_group_create(project=project, user=editor, connection=fal, model_id=KLING_STANDARD,
                                              scene_ids=[s.pk for s in scenes], idempotency_key=uuid.uuid4())

    sent = fal_server.seen("POST", "/" + KLING_STANDARD)[0].json
    assert sent["multi_prompt"] == [{"prompt": s.prompt, "duration": str(s.duration)} for s in scenes]
    assert (sent["shot_type"], sent["duration"]) == ("customize", "4") and "prompt" not in sent
    parts = list(group.parts.order_by("shot_index"))
    assert [p.status for p in parts] == [Status.SUCCEEDED] * 3, [p.error_message for p in parts]
    assert [p.scene_id for p in parts] == [s.pk for s in scenes]


def test_what_the_studio_cannot_map_is_shown_as_such_and_cannot_be_accepted(
        fal, fal_server, check, owner, client_for):
    fal_server.published["fal-ai/ltx-2/audio-to-video"] = ("LTX-2 audio to video", "text-to-video", "Ltx2Audio", {
        "prompt": (STRING, True), "audio_url": (STRING, True), "duration": ({"type": "integer"}, False)})
    publish_lite(fal_server)
    del fal_server.prices[LITE]  # not on fal's price list
    found = rows(check(fal))

    page = client_for(owner).get(reverse("generation:connection_catalog", args=[fal.team_id, fal.pk])).content.decode()
    assert "unknown input: audio_url (required, and the studio cannot fill it)" in page
    assert "needs lengths" in page and "needs a price" in page and "needs sizes" in page
    assert "also offers 1:1, which the studio does not map to a size" in page

    ltx, lite = found["new", "fal-ai/ltx-2/audio-to-video"], found["new", LITE]
    with pytest.raises(catalog_sync.AcceptRefused) as refused:
        catalog_sync.proposed_changes_accept(connection=fal, user=owner, decisions={
            ltx.pk: catalog_sync.Decision(ltx.fingerprint, price=Decimal("0.1"), sizes=["1280x720"], durations=[5]),
            lite.pk: catalog_sync.Decision(lite.fingerprint)})
    assert refused.value.problems == {
        ltx.pk: ["LTX-2 audio to video cannot be added: unknown input: audio_url (required, and the studio cannot "
                 "fill it)."],
        lite.pk: ["Give Veo 3.1 Lite a price per second (US$)."]}
    assert not CatalogModel.objects.filter(connection=fal).exists()  # neither was added


def test_a_change_accepted_from_a_page_the_listing_moved_under_is_refused(fal, fal_server, check, owner):
    publish_lite(fal_server)
    seen = rows(check(fal))["new", LITE]
    fal_server.prices[LITE] = (0.5, "second")  # fal's price moved; the daily check saw it
    check(fal)
    again = rows(CatalogProposal.objects.get(connection=fal))["new", LITE]
    assert again.pk == seen.pk  # the row stays (an open page still points at it), rewritten

    with pytest.raises(catalog_sync.AcceptRefused) as refused:
        catalog_sync.proposed_changes_accept(connection=fal, user=owner, decisions={
            seen.pk: catalog_sync.Decision(seen.fingerprint, price=Decimal("0.05"))})
    assert "changed since this page was opened" in refused.value.problems[seen.pk][0]
    assert not CatalogModel.objects.filter(model_id=LITE).exists()


def test_a_model_gone_from_the_provider_goes_into_the_retirement_warnings(
        fal, fal_server, check, owner, editor, project, make_scene, client_for, django_capture_on_commit_callbacks):
    scene = make_scene(title="Pier", duration=4)
    Scene.objects.filter(pk=scene.pk).update(target_connection=fal, target_model=SEEDANCE)
    del fal_server.published[SEEDANCE]
    gone = rows(check(fal))["gone", SEEDANCE]
    retire_on = TODAY + datetime.timedelta(days=catalog_sync.GONE_GRACE_DAYS)
    catalog_sync.proposed_changes_accept(connection=fal, user=owner, decisions={
        gone.pk: catalog_sync.Decision(gone.fingerprint, retire_on=retire_on)})

    with django_capture_on_commit_callbacks(execute=True):
        tasks.warn_of_retiring_models.delay()

    assert RetirementNotice.objects.get().model.connection == fal
    assert [m.to for m in mail.outbox] == [[owner.email]]
    assert mail.outbox[0].subject.endswith(f"Seedance 2.0 (fal) retires on {retire_on:%Y-%m-%d}")
    labels = lifecycle_labels(fal.team_id)
    assert label_for(labels, connection_id=fal.pk, kind="fal", model_id=SEEDANCE) == (
        f"Seedance 2.0 (fal) retires {retire_on:%Y-%m-%d}")
    board = client_for(editor).get(reverse("projects:project_detail", args=[project.pk])).content.decode()
    assert 'data-testid="frame-retiring"' in board


def test_a_retirement_day_that_has_come_is_refused(fal, fal_server, check, owner):
    del fal_server.published[SEEDANCE]
    gone = rows(check(fal))["gone", SEEDANCE]
    with pytest.raises(catalog_sync.AcceptRefused) as refused:
        catalog_sync.proposed_changes_accept(connection=fal, user=owner, decisions={
            gone.pk: catalog_sync.Decision(gone.fingerprint, retire_on=TODAY)})
    assert "a day still to come" in refused.value.problems[gone.pk][0]


def test_a_model_the_provider_marks_deprecated_is_proposed_as_gone_saying_so(fal, fal_server, check, owner,
                                                                           client_for):
    fal_server.deprecated.add(FAST)
    assert ("gone", FAST) in rows(check(fal))
    page = client_for(owner).get(reverse("generation:connection_catalog", args=[fal.team_id, fal.pk])).content.decode()
    assert "fal marks it deprecated" in page


# --- the check itself: queued once, read in the worker, idempotent, one proposal per connection -----------


def test_a_second_click_while_a_check_is_queued_queues_nothing_more(fal, owner, monkeypatch):
    queued = []
    monkeypatch.setattr(tasks.check_models, "delay_on_commit", queued.append)
    catalog_sync.catalog_check_request(connection=fal, user=owner)
    catalog_sync.catalog_check_request(connection=fal, user=owner)
    assert queued == [fal.pk]
    proposal = CatalogProposal.objects.get(connection=fal)
    assert (proposal.status, proposal.requested_by) == (ProposalStatus.CHECKING, owner)


def test_the_daily_check_reads_every_listing_connection_once_and_never_duplicates_a_pending_change(
        team, owner, fal, fal_server, django_capture_on_commit_callbacks):
    runway = connections.connection_create(team=team, user=owner, kind="runway", label="Runway", api_key="key")
    churn(fal_server)

    for _day in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            tasks.check_all_models.delay()
        CatalogProposal.objects.update(requested_at=timezone.now() - catalog_sync.CHECK_AGAIN_AFTER)
    first = {(r.proposal.connection_id, r.change, r.model_id): r.pk for r in ProposedChange.objects.all()}
    with django_capture_on_commit_callbacks(execute=True):
        tasks.check_all_models.delay()

    # One proposal per connection that publishes its models (the built-in previz publishes none).
    assert set(CatalogProposal.objects.values_list("connection__kind", flat=True)) == {"fal", "runway"}
    again = {(r.proposal.connection_id, r.change, r.model_id): r.pk for r in ProposedChange.objects.all()}
    assert again == first  # the same rows, the same ids: nothing proposed twice
    assert (runway.pk, "new", "veo3.1_fast") in again
    assert CatalogProposal.objects.get(connection=fal).requested_by is None  # the beat, not a person


def test_the_daily_check_is_in_the_beat_schedule():
    entry = django_settings.CELERY_BEAT_SCHEDULE["check-for-model-changes"]
    assert entry["task"] == "generation.tasks.check_all_models" and entry["schedule"] == 86400.0


def test_a_listing_the_provider_refuses_says_why_and_keeps_the_changes_found_before(fal, fal_server, check):
    publish_lite(fal_server)
    check(fal)
    fal_server.api_key = "key-id:rotated"  # the connection's key no longer works
    proposal = check(fal)
    assert proposal.status == ProposalStatus.FAILED
    assert proposal.message == "Authentication failed: check the API key for fal."
    assert ("new", LITE) in rows(proposal)


def test_the_owners_page_hears_the_check_end_over_the_live_channel(fal, fal_server, check):
    publish_lite(fal_server)
    check(fal)
    event = ChangeEvent.objects.filter(kind=ChangeKind.CATALOG_CHECKED).get()
    (message,) = render_change(event, Role.OWNER)
    assert f'id="check-status-{fal.pk}"' in message.data and "1 change to review" in message.data
    assert 'data-testid="show-changes"' in message.data  # the rows come when asked: nothing typed is swapped away
    assert render_change(event, Role.EDITOR) == []  # the changes are for owners to decide


# --- other providers --------------------------------------------------------------------------------


def test_runways_new_models_ask_the_owner_for_what_runway_does_not_say(team, owner, check):
    runway = connections.connection_create(team=team, user=owner, kind="runway", label="Runway", api_key="key")
    found = rows(check(runway))
    kling = found["new", "kling3.0_pro"]
    assert kling.needs == ["durations", "price"]
    assert found["new", "hailuo3"].blockers == [["ratio_format", "adaptive, 21:9, 16:9, 4:3, 1:1, 3:4, 9:16"]]
    assert found["changed", "seedance2"].proposed["sizes"][:3] == ["992x432", "864x496", "752x560"]

    catalog_sync.proposed_changes_accept(connection=runway, user=owner, decisions={
        kling.pk: catalog_sync.Decision(kling.fingerprint, price=Decimal("0.20"), durations=[3, 5, 10, 15])})
    added = CatalogModel.objects.get(connection=runway, model_id="kling3.0_pro")
    assert (added.durations, added.sizes, added.end_frame) == ([3, 5, 10, 15], ["1920x1080", "1080x1920", "1440x1440"],
                                                               True)
    assert added.input_schema == {}  # Runway's adapter writes every model's request itself
    # Its multi-shot recipe is no model of the request types, yet still served: never proposed as gone.
    assert not [key for key in found if key[1] == "multi_shot_video"]


def test_a_provider_that_cannot_extend_a_take_is_proposed_no_extension_lengths(team, owner, check, monkeypatch):
    """Runway's adapter declares no extension (ProviderFacts.extends): lengths its listing gave would make a
    take card offer an extension that fails, and an accepted new model would be refused for declaring them."""
    runway = connections.connection_create(team=team, user=owner, kind="runway", label="Runway", api_key="key")
    before = {key: (row.proposed, row.current) for key, row in rows(check(runway)).items()}
    listed = RunwayProvider.list_models

    def with_extension_lengths(self, *, known=()):
        listing = listed(self, known=known)
        return dataclasses.replace(listing, models=tuple(
            dataclasses.replace(model, extend_seconds=(5,)) for model in listing.models))

    monkeypatch.setattr(RunwayProvider, "list_models", with_extension_lengths)
    CatalogProposal.objects.update(requested_at=timezone.now() - catalog_sync.CHECK_AGAIN_AFTER)
    found = rows(check(runway))

    assert {key: (row.proposed, row.current) for key, row in found.items()} == before  # gen4.5 is not "changed"
    kling = found["new", "kling3.0_pro"]
    assert kling.proposed["extend_seconds"] == []
    catalog_sync.proposed_changes_accept(connection=runway, user=owner, decisions={
        kling.pk: catalog_sync.Decision(kling.fingerprint, price=Decimal("0.20"), durations=[5, 10])})
    assert CatalogModel.objects.get(connection=runway, model_id="kling3.0_pro").extend_seconds == []


def test_a_provider_that_extends_takes_is_still_proposed_its_listings_extension_lengths(fal):
    (change,) = [f for f in catalog_diff.diff(fal, ModelListing(models=(ListedModel(FAST, extend_seconds=()),)))
                 if f.model_id == FAST]
    assert (change.change, change.proposed, change.current) == ("changed", {"extend_seconds": []},
                                                                {"extend_seconds": [7]})


def test_a_provider_whose_adapter_sends_no_shot_list_is_proposed_no_multi_shot_limits(fal, monkeypatch):
    """As with extension lengths: a row may declare several shots only where its adapter sends them."""
    from generation.providers.fal import FalProvider

    monkeypatch.setattr(FalProvider, "facts", dataclasses.replace(FalProvider.facts, sends_shots=False))
    listed = ListedModel(KLING_STANDARD, durations=(5,), shot_timing="exact", shots_max=6, shot_min_seconds=1,
                         input_map={"prompt": "prompt", "shots": {"field": "multi_prompt", "duration": "string"}})
    found = {f.model_id: f for f in catalog_diff.diff(fal, ModelListing(models=(
        listed, ListedModel(KLING, shot_timing="exact", shots_max=2))))}

    new = found[KLING_STANDARD]
    assert (new.proposed["shot_timing"], new.proposed["shots_max"], new.proposed["shot_min_seconds"]) == ("", None, None)
    assert new.proposed["input_map"] == {"prompt": "prompt"}
    assert KLING not in found  # its shipped limits are not "changed" by a listing its adapter cannot act on


def test_a_gateway_model_no_longer_served_is_gone_and_the_names_it_adds_are_listed_for_the_owner(
        gateway, provider_server, check, owner, client_for):
    provider_server.openai_listed = ["sora-2", "gpt-4o"]  # veo-3.1 is no longer served; sora-2 is retired
    proposal = check(gateway)
    assert set(rows(proposal)) == {("gone", "veo-3.1")}
    assert proposal.unlisted == ["gpt-4o"]  # a name only: the owner registers it if it renders video
    page = client_for(owner).get(reverse("generation:connection_catalog", args=[gateway.team_id, gateway.pk]))
    assert "The gateway also lists, without saying what they are: gpt-4o." in page.content.decode()


def test_a_comfyui_workflow_whose_node_was_uninstalled_is_proposed_as_gone_naming_the_node(
        team, owner, comfy_server, check):
    comfy = connections.connection_create(team=team, user=owner, kind="comfyui", label="GPU", base_url=comfy_server.url)
    workflow = comfy_workflows.workflow_upload(connection=comfy, user=owner, name="LTX",
                                               data=(COMFY_FIXTURES / "ltxv_t2v_api.json").read_bytes())
    comfy_workflows.workflow_map(workflow=workflow, user=owner, inputs={"prompt": ["3", "text"]}, frames_rule="8n+1",
                                 fps=24, sizes=["768x512"], durations=[4], price_per_second=0)
    assert list(check(comfy).changes.all()) == []
    comfy_server.installed.discard("VHS_VideoCombine")
    CatalogProposal.objects.update(requested_at=timezone.now() - catalog_sync.CHECK_AGAIN_AFTER)
    (gone,) = check(comfy).changes.all()
    assert (gone.change, gone.notes) == ("gone", {"reason": "node 9 (VHS_VideoCombine) is not installed on GPU"})


def test_a_provider_without_a_listing_offers_no_check(team, owner, client_for):
    veo = connections.connection_create(team=team, user=owner, kind="veo", label="Veo", api_key="AIza-test")
    with pytest.raises(Exception, match="publishes no list of its models"):
        catalog_sync.catalog_check_request(connection=veo, user=owner)
    page = client_for(owner).get(reverse("generation:connection_catalog", args=[team.pk, veo.pk])).content.decode()
    assert 'data-testid="no-listing"' in page and 'data-testid="check-models"' not in page


# --- the page: owners check and accept; others cannot; other teams find nothing --------------------------


def test_an_owner_checks_and_accepts_in_the_page(fal, fal_server, owner, client_for, django_capture_on_commit_callbacks):
    churn(fal_server)
    client = client_for(owner)
    base = [fal.team_id, fal.pk]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("generation:catalog_check", args=base), HTTP_HX_REQUEST="true")
    # The region answers at once; the worker reads fal (the task runs once the click's transaction commits).
    assert response.status_code == 200 and "Checking… the worker is reading" in response.content.decode()
    page = client.get(reverse("generation:connection_catalog", args=base), HTTP_HX_REQUEST="true").content.decode()
    assert "3 changes to review" in page and 'data-testid="changes-form"' in page
    found = rows(CatalogProposal.objects.get(connection=fal))
    new, gone = found["new", LITE], found["gone", SEEDANCE]
    # A price with a comma: refused in words beside its row, nothing accepted, what was typed stays.
    response = client.post(reverse("generation:catalog_changes_accept", args=base), {
        f"accept-{new.pk}": "on", f"seen-{new.pk}": new.fingerprint, f"price-{new.pk}": "0,06",
        f"accept-{gone.pk}": "on", f"seen-{gone.pk}": gone.fingerprint,
        f"retire_on-{gone.pk}": f"{TODAY + datetime.timedelta(days=10):%Y-%m-%d}"})
    assert response.status_code == 200
    assert "is not a price" in response.content.decode() and 'value="0,06"' in response.content.decode()
    assert not CatalogModel.objects.filter(connection=fal).exists()

    response = client.post(reverse("generation:catalog_changes_accept", args=base), {
        f"accept-{new.pk}": "on", f"seen-{new.pk}": new.fingerprint, f"price-{new.pk}": "0.06",
        f"accept-{gone.pk}": "on", f"seen-{gone.pk}": gone.fingerprint,
        f"retire_on-{gone.pk}": f"{TODAY + datetime.timedelta(days=10):%Y-%m-%d}"})
    assert response.status_code == 302
    assert set(CatalogModel.objects.filter(connection=fal).values_list("model_id", flat=True)) == {LITE, SEEDANCE}
    page = client.get(reverse("generation:connection_catalog", args=base)).content.decode()
    assert "Accepted 2 changes on fal." in page and "Accepted by" in page


def test_accepting_nothing_says_what_to_do(fal, fal_server, check, owner, client_for):
    publish_lite(fal_server)
    check(fal)
    response = client_for(owner).post(reverse("generation:catalog_changes_accept", args=[fal.team_id, fal.pk]), {})
    assert response.status_code == 200 and "Tick the changes to accept, or press Accept all." in response.content.decode()


def test_only_owners_check_and_accept(fal, fal_server, check, editor, client_for):
    publish_lite(fal_server)
    row = rows(check(fal))["new", LITE]
    client = client_for(editor)
    base = [fal.team_id, fal.pk]
    assert client.post(reverse("generation:catalog_check", args=base)).status_code == 403
    assert client.post(reverse("generation:catalog_changes_accept", args=base), {
        f"accept-{row.pk}": "on", f"seen-{row.pk}": row.fingerprint, f"price-{row.pk}": "0.05"}).status_code == 403
    page = client.get(reverse("generation:connection_catalog", args=base)).content.decode()
    assert 'data-testid="catalog-changes"' not in page  # the changes are the owners' to decide
    assert not CatalogModel.objects.filter(model_id=LITE).exists()


def test_another_teams_owner_gets_nothing(fal, fal_server, check, outsider, client_for):
    publish_lite(fal_server)
    row = rows(check(fal))["new", LITE]
    client = client_for(outsider)
    base = [fal.team_id, fal.pk]
    assert client.post(reverse("generation:catalog_check", args=base)).status_code == 404
    assert client.post(reverse("generation:catalog_changes_accept", args=base), {
        f"accept-{row.pk}": "on", f"seen-{row.pk}": row.fingerprint, f"price-{row.pk}": "0.05"}).status_code == 404
    assert not CatalogModel.objects.filter(model_id=LITE).exists()
    assert not Render.objects.exists()


def test_accept_all_takes_every_change_it_can_and_a_second_accept_of_a_row_changes_nothing(
        fal, fal_server, check, owner, client_for):
    churn(fal_server)
    fal_server.published["fal-ai/ltx-2/audio-to-video"] = ("LTX-2 audio to video", "text-to-video", "Ltx2Audio", {
        "prompt": (STRING, True), "audio_url": (STRING, True)})
    found = rows(check(fal))
    new, changed, gone = found["new", LITE], found["changed", FAST], found["gone", SEEDANCE]
    blocked = found["new", "fal-ai/ltx-2/audio-to-video"]
    # What the page's form sends with Accept all: each row's fingerprint and the values it shows.
    form = {"all": "1", f"seen-{new.pk}": new.fingerprint, f"price-{new.pk}": "0.05",
            f"seen-{changed.pk}": changed.fingerprint, f"seen-{gone.pk}": gone.fingerprint,
            f"retire_on-{gone.pk}": f"{TODAY + datetime.timedelta(days=14):%Y-%m-%d}"}
    url = reverse("generation:catalog_changes_accept", args=[fal.team_id, fal.pk])

    assert client_for(owner).post(url, form).status_code == 302
    assert CatalogModel.objects.get(connection=fal, model_id=FAST).durations == [4, 6, 8, 10]  # the team's copy
    assert set(ProposedChange.objects.filter(state="accepted").values_list("pk", flat=True)) == {
        new.pk, changed.pk, gone.pk}
    blocked.refresh_from_db()
    assert blocked.state == "pending"  # what the studio cannot send is never accepted
    entries = AuditEntry.objects.filter(action__in=[AuditAction.MODEL_ADDED_FROM_PROVIDER,
                                                    AuditAction.PROVIDER_CHANGE_ACCEPTED]).count()

    # The same rows again (a second owner's older page, a double click): refused, nothing applied twice.
    response = client_for(owner).post(url, {f"accept-{new.pk}": "on", **form})
    assert response.status_code == 200
    assert AuditEntry.objects.filter(action__in=[AuditAction.MODEL_ADDED_FROM_PROVIDER,
                                                 AuditAction.PROVIDER_CHANGE_ACCEPTED]).count() == entries
    with pytest.raises(catalog_sync.AcceptRefused) as refused:
        catalog_sync.proposed_changes_accept(connection=fal, user=owner, decisions={
            new.pk: catalog_sync.Decision(new.fingerprint, price=Decimal("0.05"))})
    assert refused.value.problems == {new.pk: ["Veo 3.1 Lite was already accepted."]}


def test_a_check_whose_worker_died_can_be_asked_for_again(fal, owner, client_for, monkeypatch):
    queued = []
    monkeypatch.setattr(tasks.check_models, "delay_on_commit", queued.append)
    catalog_sync.catalog_check_request(connection=fal, user=owner)  # queued; the worker never ran it
    url = reverse("generation:connection_catalog", args=[fal.team_id, fal.pk])
    page = client_for(owner).get(url).content.decode()
    assert "Checking… the worker is reading" in page and 'data-testid="check-models" disabled' in page

    CatalogProposal.objects.update(requested_at=timezone.now() - catalog_sync.CHECK_AGAIN_AFTER)
    page = client_for(owner).get(url).content.decode()
    assert "The last check did not finish" in page and 'data-testid="check-models" disabled' not in page
    catalog_sync.catalog_check_request(connection=fal, user=owner)
    assert queued == [fal.pk, fal.pk]


def test_a_long_listing_is_compared_in_a_few_queries(team, owner, django_assert_max_num_queries):
    """Runway's list holds some twenty-five models: comparing it reads the catalog once, not once a model."""
    runway = connections.connection_create(team=team, user=owner, kind="runway", label="Runway", api_key="key")
    catalog_sync.catalog_check_request(connection=runway, user=owner)
    with django_assert_max_num_queries(40):
        catalog_sync.catalog_check_run(runway.pk)
    assert CatalogProposal.objects.get(connection=runway).changes.count() > 20


def test_a_french_owner_reads_what_a_proposed_model_takes_in_french(fal, fal_server, check, owner, client_for):
    publish_lite(fal_server)
    new = rows(check(fal))["new", LITE]
    assert new.proposed["input_kinds"] == ["text"]

    page = client_for(owner).get(reverse("generation:connection_catalog", args=[fal.team_id, fal.pk]),
                                 HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    # "Takes" is what a model takes as its input here, not a count of takes ("Prises").
    assert "Formats\u00a0: 1280x720, 720x1280, 1920x1080, 1080x1920 · Secondes\u00a0: 4, 6, 8 ·" in page
    assert "Entrées\u00a0: texte · Audio\u00a0: oui" in page
    assert "Prises" not in page and ": text ·" not in page


def test_a_changed_input_reads_in_the_readers_language():
    assert catalog_diff.shown(["text", "image"], "input_kinds") == "text + image"
    with translation.override("fr"):
        assert catalog_diff.shown(["text", "image"], "input_kinds") == "texte + image"
