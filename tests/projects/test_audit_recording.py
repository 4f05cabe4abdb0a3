"""Every change owners answer for lands in the team's audit log, written by the service that makes it:
who (the actor), what (the action), on what (the target) and what it was before, and never a secret."""

import json
import uuid
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from generation.models import CatalogModel, ComfyWorkflow, ProviderConnection
from generation.providers import connections
from projects.characters import consent
from projects.models import (
    AuditAction,
    CharacterKind,
    Invitation,
    Membership,
    ReviewLink,
    Role,
)
from projects.review import guest_links
from projects.review import services as review
from tests.audit_helpers import KEY, keeps_no_secret, logged, only
from tests.factories import photo
from tests.fakes.comfyui_server import FIXTURES as COMFY_FIXTURES
from tests.provenance_helpers import tamper

# --- Budgets and caps ---------------------------------------------------------------------------


def test_the_team_budget_is_logged_with_who_set_it_and_what_it_was_before(client_for, team, owner):
    url = reverse("projects:team_budget", args=[team.pk])
    client_for(owner).post(url, {"monthly_budget": "50"})
    client_for(owner).post(url, {"monthly_budget": "75.5"})
    client_for(owner).post(url, {"monthly_budget": ""})

    first, second, third = logged(team, AuditAction.TEAM_BUDGET_SET)
    assert (first.actor, first.actor_name, first.target_type, first.target_id) == (owner, owner.username, "team", team.pk)
    assert first.details["changes"] == {"monthly_budget": [None, "50.00"]}
    assert second.details["changes"] == {"monthly_budget": ["50.00", "75.50"]}
    assert third.details["changes"] == {"monthly_budget": ["75.50", None]}


def test_a_budget_saved_as_it_was_or_refused_logs_nothing(client_for, team, owner):
    url = reverse("projects:team_budget", args=[team.pk])
    client_for(owner).post(url, {"monthly_budget": "50"})
    client_for(owner).post(url, {"monthly_budget": "50.00"})
    client_for(owner).post(url, {"monthly_budget": "-5"})
    assert len(logged(team)) == 1


def test_a_members_monthly_cap_is_logged_on_that_member(client_for, team, owner, editor):
    member = Membership.objects.get(team=team, user=editor)
    client_for(owner).post(reverse("projects:member_budget", args=[team.pk, member.pk]), {"monthly_budget": "20"})
    entry = only(team, AuditAction.MEMBER_CAP_SET)
    assert (entry.actor, entry.target_type, entry.target_id, entry.target_label) == (owner, "membership", member.pk,
                                                                                     "eddie")
    assert entry.details["changes"] == {"monthly_cap": [None, "20.00"]}


def test_the_project_budget_is_saved_by_a_service_that_logs_it(client_for, team, owner, project):
    client_for(owner).post(reverse("projects:project_budget", args=[project.pk]), {"budget": "120"})
    project.refresh_from_db()
    assert project.budget == Decimal("120")
    entry = only(team, AuditAction.PROJECT_BUDGET_SET)
    assert (entry.actor, entry.target_type, entry.target_id, entry.target_label) == (owner, "project", project.pk,
                                                                                     "Harbour Story")
    assert entry.details["changes"] == {"budget": [None, "120.00"]}


def test_a_model_policy_change_is_logged_with_both_rules(client_for, team, owner, project, priced_gateway):
    client_for(owner).post(reverse("projects:project_policy", args=[project.pk]),
                           {"allowed_models": ["wan-2.7"], "max_price_per_second": "0.50"})
    entry = only(team, AuditAction.MODEL_POLICY_SET)
    assert (entry.actor, entry.target_id) == (owner, project.pk)
    assert entry.details["changes"] == {"allowed_models": [[], ["wan-2.7"]],
                                        "max_price_per_second": [None, "0.5000"]}


# --- Members, roles, invitations ----------------------------------------------------------------


def test_role_changes_and_removals_are_logged_and_a_refused_one_is_not(client_for, team, owner, editor):
    member = Membership.objects.get(team=team, user=editor)
    url = reverse("projects:member_update", args=[team.pk, member.pk])
    client_for(owner).post(url, {"role": Role.REVIEWER})
    client_for(owner).post(url, {"action": "remove"})
    mine = Membership.objects.get(team=team, user=owner)
    client_for(owner).post(reverse("projects:member_update", args=[team.pk, mine.pk]), {"action": "remove"})

    role = only(team, AuditAction.ROLE_CHANGED)
    assert (role.actor, role.target_label, role.details["changes"]) == (owner, "eddie", {"role": ["editor", "reviewer"]})
    removed = only(team, AuditAction.MEMBER_REMOVED)  # the last owner's own removal was refused
    assert (removed.actor, removed.target_label, removed.details) == (owner, "eddie", {"role": "reviewer"})


def test_an_invitation_sent_and_accepted_is_logged(client_for, client, team, owner):
    client_for(owner).post(reverse("projects:team_members", args=[team.pk]),
                           {"email": "Nora@Example.com", "role": Role.REVIEWER})
    sent = only(team, AuditAction.INVITATION_SENT)
    assert (sent.actor, sent.target_label, sent.details) == (owner, "nora@example.com", {"role": "reviewer"})

    client.logout()
    invitation = Invitation.objects.get()
    client.post(reverse("invitation_accept", args=[invitation.token]),
                {"username": "nora", "password1": "a long pass phrase 42", "password2": "a long pass phrase 42"})
    accepted = only(team, AuditAction.INVITATION_ACCEPTED)
    assert accepted.actor == get_user_model().objects.get(username="nora")
    assert accepted.details == {"role": "reviewer", "invited_by": owner.username}


def test_the_ai_training_choice_is_logged(client_for, team, owner):
    client_for(owner).post(reverse("projects:team_training", args=[team.pk]), {"do_not_train": "off"})
    entry = only(team, AuditAction.TRAINING_SET)
    assert (entry.actor, entry.details["changes"]) == (owner, {"do_not_train": [True, False]})


# --- Connections and keys -----------------------------------------------------------------------


def test_adding_a_connection_is_logged_without_its_key(client_for, team, owner):
    client_for(owner).post(reverse("generation:connection_list", args=[team.pk]), {
        "kind": "openai-videos", "label": "Gateway", "base_url": "http://127.0.0.1:9/v1", "auth_style": "bearer",
        "api_key": KEY, "webhook_secret": ""})
    connection = ProviderConnection.objects.get(team=team, label="Gateway")
    entry = only(team, AuditAction.CONNECTION_ADDED)
    assert (entry.actor, entry.target_type, entry.target_id) == (owner, "providerconnection", connection.pk)
    assert entry.details == {"kind": "openai-videos", "label": "Gateway", "base_url": "http://127.0.0.1:9/v1",
                             "auth_style": "bearer", "api_key": "set"}
    assert keeps_no_secret(entry, KEY)


def test_editing_a_connection_logs_what_changed_and_only_that_the_key_was_replaced(client_for, team, owner,
                                                                                    priced_gateway):
    client_for(owner).post(reverse("generation:connection_edit", args=[team.pk, priced_gateway.pk]), {
        "kind": "openai-videos", "label": "Gateway EU", "base_url": "http://proxy:hunter2@127.0.0.1:9/v2",
        "auth_style": "bearer", "api_key": KEY, "webhook_secret": ""})
    priced_gateway.refresh_from_db()
    assert priced_gateway.api_key == KEY
    entry = only(team, AuditAction.CONNECTION_CHANGED)
    assert entry.actor == owner and entry.target_label == "Gateway EU"
    assert entry.details["changes"] == {"label": ["Gateway", "Gateway EU"],
                                        "base_url": ["http://127.0.0.1:9/v1", "http://proxy:***@127.0.0.1:9/v2"],
                                        "api_key": "replaced"}
    assert keeps_no_secret(entry, KEY) and "hunter2" not in json.dumps(entry.details)


def test_a_webhook_secret_the_worker_fetches_is_logged_as_the_studios_doing(provider_server, team, owner):
    connection = connections.connection_create(team=team, user=owner, kind="replicate", label="Replicate",
                                               base_url=provider_server.replicate_base,
                                               api_key=provider_server.api_key)
    connections.connection_test(connection.pk)  # the Celery task's body
    connections.connection_test(connection.pk)  # a later test keeps the secret: nothing more to log

    entry = only(team, AuditAction.CONNECTION_CHANGED)
    assert (entry.actor, entry.actor_name) == (None, "")
    assert entry.details == {"changes": {"webhook_secret": "fetched"}}
    assert keeps_no_secret(entry, provider_server.replicate_webhook_secret)
    assert keeps_no_secret(only(team, AuditAction.CONNECTION_ADDED), provider_server.api_key)


# --- The catalog and its prices -----------------------------------------------------------------


def test_registering_a_model_on_a_gateway_is_logged_with_its_price(client_for, team, owner, priced_gateway):
    client_for(owner).post(reverse("generation:model_register", args=[team.pk, priced_gateway.pk]), {
        "model_id": "seedance-2", "display_name": "Seedance 2", "sizes": "1280x720", "durations": "5",
        "price_per_second": "0.30", "extra_fields": "quality=high"})
    wan, entry = logged(team, AuditAction.MODEL_REGISTERED)  # the fixture registered Wan 2.7
    assert (entry.actor, entry.target_label) == (owner, "Seedance 2 (seedance-2)")
    assert entry.details["price_per_second"] == {"*": 0.3}
    assert entry.details["extra_fields"] == {"quality": "high"} and entry.details["connection"] == "Gateway"


def test_a_price_edit_is_logged_and_so_is_going_back_to_the_shipped_entry(client_for, team, owner):
    from tests.generation.test_catalog_edits import edit_url, form_data, shipped

    replicate = connections.connection_create(team=team, user=owner, kind="replicate", label="Replicate",
                                              base_url="http://127.0.0.1:9/v1", api_key="r8-test",
                                              webhook_secret="whsec_c2VjcmV0")
    client = client_for(owner)
    client.post(edit_url(replicate, shipped()), form_data(shipped(), price_per_second="0.25"))
    edited = only(team, AuditAction.CATALOG_EDITED)
    assert edited.actor == owner and "wan-video/wan-2.7-t2v" in edited.target_label
    assert edited.details == {"changes": {"price_per_second": [{"*": 0.1}, {"*": 0.25}]}, "copied_from_shipped": True}

    client.post(edit_url(replicate, shipped()), {"reset": "1"})
    reset = only(team, AuditAction.CATALOG_RESET)
    assert reset.actor == owner
    assert reset.details == {"changes": {"price_per_second": [{"*": 0.25}, {"*": 0.1}]}}


def test_a_comfyui_workflow_upload_and_its_mapping_are_logged(client_for, team, owner):
    from tests.generation.test_comfy_workflows import map_url, mapping_data

    comfy = connections.connection_create(team=team, user=owner, kind="comfyui", label="Studio GPU",
                                          base_url="http://192.168.1.20:8188")
    client = client_for(owner)
    client.post(reverse("generation:workflow_upload", args=[team.pk, comfy.pk]), {
        "name": "LTX-Video 2B", "file": SimpleUploadedFile(
            "workflow_api.json", (COMFY_FIXTURES / "ltxv_t2v_api.json").read_bytes(), "application/json")})
    workflow = ComfyWorkflow.objects.get()
    client.post(map_url(team, comfy, workflow), mapping_data())
    client.post(map_url(team, comfy, workflow), mapping_data(price_per_second="0.02"))

    uploaded = only(team, AuditAction.WORKFLOW_UPLOADED)
    assert (uploaded.actor, uploaded.target_id) == (owner, workflow.pk)
    registered = only(team, AuditAction.MODEL_REGISTERED)
    assert registered.actor == owner and registered.details["changes"]["price_per_second"] == [None, {"*": 0.0}]
    edited = only(team, AuditAction.CATALOG_EDITED)
    assert edited.details["changes"] == {"price_per_second": [{"*": 0.0}, {"*": 0.02}]}
    assert edited.target_id == CatalogModel.objects.get(connection=comfy).pk


# --- Consent ------------------------------------------------------------------------------------


def test_consent_granted_changed_and_revoked_are_logged_as_the_persons_doing(client_for, team, editor, project,
                                                                             owner):
    maya = consent.character_create(team=team, user=owner, name="Maya", kind=CharacterKind.PERSON, person=editor,
                                    images=[photo()])
    client = client_for(editor)
    client.post(reverse("projects:character_consent", args=[maya.pk]), {"scope": "team"})
    client.post(reverse("projects:character_consent", args=[maya.pk]),
                {"scope": "projects", "projects": [project.pk], "providers": ["local"]})
    client.post(reverse("projects:character_revoke", args=[maya.pk]))

    granted, changed, revoked = (only(team, a) for a in (AuditAction.CONSENT_GRANTED, AuditAction.CONSENT_CHANGED,
                                                         AuditAction.CONSENT_REVOKED))
    assert {e.actor for e in (granted, changed, revoked)} == {editor}
    assert {e.target_label for e in (granted, changed, revoked)} == {"Maya"}
    assert granted.details["scope"] == "team"
    assert (changed.details["projects"], changed.details["providers"]) == (["Harbour Story"], ["local"])
    assert revoked.details == {"takes_withheld": 0, "files_deleted": 0}


def test_declaring_a_character_fictional_is_logged(team, owner):
    consent.character_create(team=team, user=owner, name="Robo", kind=CharacterKind.FICTIONAL, images=[photo()],
                             declares_fictional=True)
    entry = only(team, AuditAction.DECLARED_FICTIONAL)
    assert (entry.actor, entry.target_label) == (owner, "Robo")


# --- Overrides of failed checks -----------------------------------------------------------------


@pytest.fixture
def tampered(scene, render_take, remixable_previz):
    return tamper(render_take(scene))


def test_an_approval_despite_failed_checks_is_logged_and_a_plain_one_is_not(client_for, team, owner, scene,
                                                                          tampered, finished_take):
    client_for(owner).post(reverse("projects:take_decide", args=[tampered.pk]),
                           {"decision": "approve", "override_reason": "Checked against the master by hand."})
    entry = only(team, AuditAction.APPROVED_DESPITE_CHECKS)
    assert (entry.actor, entry.target_type, entry.target_id) == (owner, "render", tampered.pk)
    assert entry.target_label == f"Harbour Story / Dawn #{tampered.number}"
    assert entry.details["note"].startswith("Reason: Checked against the master by hand. (approved despite: ")

    review.take_approve(take=finished_take(scene), user=owner)
    assert len(logged(team)) == 1


def test_a_remix_despite_failed_checks_is_logged(client_for, team, owner, tampered):
    client_for(owner).post(reverse("generation:render_remix", args=[tampered.pk]), {
        "prompt": "Warmer light", "idempotency_key": str(uuid.uuid4()),
        "override_reason": "Checked the picture against the master."}, HTTP_HX_REQUEST="true")
    entry = only(team, AuditAction.REMIXED_DESPITE_CHECKS)
    assert (entry.actor, entry.target_id, entry.details["remix"]) == (owner, tampered.pk, 2)
    assert "Checked the picture against the master." in entry.details["note"]


def test_the_worker_logs_an_export_carrying_a_take_approved_despite_failed_checks(
        team, owner, editor, project, tampered, django_capture_on_commit_callbacks):
    from generation.exports import services as exports
    from generation.models import ExportStatus

    review.take_approve(take=tampered, user=owner, override_reason="Checked against the master by hand.")
    with django_capture_on_commit_callbacks(execute=True):  # the export task runs on commit
        export, _ = exports.export_create(project=project, user=editor, idempotency_key=uuid.uuid4())
    export.refresh_from_db()
    assert export.status == ExportStatus.SUCCEEDED, export.error_message

    entry = only(team, AuditAction.EXPORTED_DESPITE_CHECKS)
    assert (entry.actor, entry.target_id) == (editor, tampered.pk)
    assert entry.details["export"] == export.pk and entry.details["approved_by"] == owner.username
    assert entry.details["note"].startswith("Reason: Checked against the master by hand.")


# --- Guest links and what guests take away ------------------------------------------------------


def test_guest_links_made_and_revoked_are_logged_never_with_their_token(client_for, team, owner, project, scene):
    client = client_for(owner)
    page = client.post(reverse("projects:review_links", args=[project.pk]), {
        "label": "Client", "scope": "scenes", "scenes": [scene.pk], "days": "3", "password": "harbour-42"})
    token = page.context["new_link_url"].rstrip("/").rsplit("/", 1)[-1]
    link = ReviewLink.objects.get()
    client.post(reverse("projects:review_link_revoke", args=[project.pk, link.pk]))
    client.post(reverse("projects:review_link_revoke", args=[project.pk, link.pk]))  # already revoked

    made = only(team, AuditAction.GUEST_LINK_CREATED)
    assert (made.actor, made.target_id, made.target_label) == (owner, link.pk, "Client · Harbour Story")
    assert (made.details["scope"], made.details["scenes"], made.details["password"]) == ("scenes", ["Dawn"], True)
    assert keeps_no_secret(made, token) and "harbour-42" not in json.dumps(made.details)
    revoked = only(team, AuditAction.GUEST_LINK_REVOKED)
    assert (revoked.actor, revoked.target_id) == (owner, link.pk)


def test_a_guests_download_is_logged_once_per_take_under_the_name_they_gave(client, team, owner, project, scene,
                                                                           finished_take):
    take = finished_take(scene)
    _link, token = guest_links.link_create(project=project, user=owner, label="Client", scope="cut")
    review.take_approve(take=take, user=owner)
    client.post(reverse("projects:guest_review", args=[token]), {"action": "name", "name": "Grace from Acme"})
    url = reverse("projects:guest_file", args=[token, take.pk, "video"])
    assert client.get(url).status_code == 200
    assert client.get(url, HTTP_RANGE="bytes=100-").status_code == 206  # the player seeking: the same download
    client.get(reverse("projects:guest_file", args=[token, take.pk, "thumbnail"]))

    entry = only(team, AuditAction.GUEST_DOWNLOADED)
    assert (entry.actor, entry.actor_name, entry.target_id) == (None, "Grace from Acme", take.pk)
    assert entry.details == {"link": "Client", "take": take.number}
