"""An owner connects Google Vertex AI: a service account's JSON key pasted once (encrypted, never shown
again), a project and a region, an optional output bucket; what the form refuses, in words; the audit
log; and what another team sees of it (nothing)."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from generation.models import ProviderConnection
from generation.providers import connections, provider_for
from projects.models import AuditAction, AuditEntry

PRIVATE = "PRIVATE KEY"


def add(client, team, vertex_server, **overrides):
    data = {"kind": "vertex", "label": "Vertex", "base_url": "", "auth_style": "bearer", "api_key": "",
            "webhook_secret": "", "service_account_key": vertex_server.key_json(), "project": "", "region": "",
            "output_uri": ""}
    data.update(overrides)
    return client.post(reverse("generation:connection_list", args=[team.pk]), data)


@pytest.fixture
def vertex_connection(team, owner, vertex_server):
    return connections.connection_create(team=team, user=owner, kind="vertex", label="Vertex",
                                         service_account_key=vertex_server.key_json(),
                                         project=vertex_server.project, region="us-central1")


def test_an_owner_connects_vertex_with_a_key_file_and_the_key_is_never_shown_again(
        client_for, owner, team, vertex_server):
    client = client_for(owner)

    answer = add(client, team, vertex_server)

    assert answer.status_code == 302
    connection = ProviderConnection.objects.get(team=team, label="Vertex")
    assert json.loads(connection.api_key)["client_email"] == vertex_server.client_email
    assert PRIVATE not in connection.api_key_encrypted
    # A blank project is the key's own, a blank region us-central1; the account is named, not its key.
    assert connection.options == {"project": "harbour-films-1", "region": "us-central1",
                                  "service_account": vertex_server.client_email}
    page = client.get(reverse("generation:connection_list", args=[team.pk])).content.decode()
    assert PRIVATE not in page and vertex_server.private_key_id not in page
    assert "https://us-central1-aiplatform.googleapis.com" in page
    assert "Project harbour-films-1 · region us-central1" in page and vertex_server.client_email in page
    edit = client.get(reverse("generation:connection_edit", args=[team.pk, connection.pk])).content.decode()
    assert PRIVATE not in edit and "Leave blank to keep the stored key." in edit


@pytest.mark.parametrize("overrides, field, words", [
    ({"service_account_key": ""}, "service_account_key", "Paste the service account&#x27;s JSON key"),
    ({"service_account_key": "AIzaSyA-0123456789abcdefghijklmnopqrstu"}, "service_account_key",
     "That is an API key (AIza…)"),
    ({"service_account_key": '{"type": "authorized_user", "refresh_token": "1//0g"}'}, "service_account_key",
     "a person&#x27;s sign-in"),
    ({"service_account_key": '{"type": "service_account", "client_email": "x@y.iam.gserviceaccount.com"}'},
     "service_account_key", "The key lacks private_key, token_uri"),
    ({"project": "My Studio"}, "project", "is not a Google Cloud project id"),
    ({"region": "moon-base"}, "region", "is not a Google Cloud location"),
    ({"output_uri": "s3://renders"}, "output_uri", "is not a Cloud Storage location"),
    ({"api_key": "AIzaSy-stray"}, "api_key", "takes a service account&#x27;s JSON key, not an API key"),
])
def test_a_bad_vertex_connection_is_refused_in_words_and_the_pasted_key_is_not_echoed(
        client_for, owner, team, vertex_server, overrides, field, words):
    answer = add(client_for(owner), team, vertex_server, label="Keep me", **overrides)

    html = answer.content.decode()
    assert answer.status_code == 200 and words in html and 'value="Keep me"' in html
    assert PRIVATE not in html  # a key pasted with the mistake is not rendered back
    assert not ProviderConnection.objects.filter(label="Keep me").exists()


def test_another_provider_refuses_a_service_account_key_and_google_cloud_settings(client_for, owner, team,
                                                                                  vertex_server):
    html = add(client_for(owner), team, vertex_server, kind="replicate", api_key="r8_key", project="harbour-films-1",
               label="Replicate").content.decode()

    assert "Replicate takes an API key, not a service account key" in html
    assert "Replicate needs no Google Cloud setting: leave this empty." in html
    assert PRIVATE not in html


def test_editing_keeps_the_stored_key_when_blank_and_logs_the_new_region(client_for, owner, team, vertex_server,
                                                                         vertex_connection):
    stored = vertex_connection.api_key_encrypted

    client_for(owner).post(reverse("generation:connection_edit", args=[team.pk, vertex_connection.pk]), {
        "label": "Vertex", "base_url": "", "auth_style": "bearer", "service_account_key": "",
        "project": "harbour-films-1", "region": "europe-west4", "output_uri": "gs://harbour-renders/takes/"})

    vertex_connection.refresh_from_db()
    assert vertex_connection.api_key_encrypted == stored
    assert vertex_connection.options["region"] == "europe-west4"
    assert vertex_connection.options["output_uri"] == "gs://harbour-renders/takes"
    entry = AuditEntry.objects.get(team=team, action=AuditAction.CONNECTION_CHANGED)
    assert entry.details["changes"] == {"region": ["us-central1", "europe-west4"],
                                        "output_uri": ["", "gs://harbour-renders/takes"]}


def test_adding_and_replacing_the_key_is_logged_as_set_and_replaced_never_the_key(
        owner, team, vertex_server, vertex_connection):
    connections.connection_update(connection=vertex_connection, user=owner, label="Vertex", base_url="",
                                  auth_style="bearer", service_account_key=vertex_server.key_json(),
                                  project="harbour-films-1", region="us-central1")

    added = AuditEntry.objects.get(team=team, action=AuditAction.CONNECTION_ADDED)
    assert added.details == {"kind": "vertex", "label": "Vertex", "base_url": "", "auth_style": "bearer",
                             "project": "harbour-films-1", "region": "us-central1", "output_uri": "",
                             "service_account": vertex_server.client_email, "service_account_key": "set"}
    changed = AuditEntry.objects.get(team=team, action=AuditAction.CONNECTION_CHANGED)
    assert changed.details == {"changes": {"service_account_key": "replaced"}}
    assert PRIVATE not in json.dumps([added.details, changed.details])


def test_the_service_refuses_a_vertex_connection_without_a_key_file(team, owner):
    with pytest.raises(ValidationError):
        connections.connection_create(team=team, user=owner, kind="vertex", label="Vertex", api_key="AIza-key",
                                      project="harbour-films-1", region="us-central1")


def test_testing_a_vertex_connection_mints_a_token_and_names_the_account(
        team, owner, vertex_server, settings, django_capture_on_commit_callbacks):
    settings.GOOGLE_STORAGE_URL = vertex_server.storage_url
    connection = connections.connection_create(team=team, user=owner, kind="vertex", label="Vertex",
                                               base_url=vertex_server.url, service_account_key=vertex_server.key_json(),
                                               project=vertex_server.project, region="us-central1")

    with django_capture_on_commit_callbacks(execute=True):
        connections.connection_request_test(connection=connection)

    connection.refresh_from_db()
    assert connection.last_test_ok is True, connection.last_test_message
    assert vertex_server.client_email in connection.last_test_message
    assert len(vertex_server.token_requests) == 1


def test_the_adapter_is_built_from_the_connections_region_and_project(team, owner, vertex_connection):
    provider = provider_for(vertex_connection)

    assert str(provider._client.base_url).rstrip("/") == "https://us-central1-aiplatform.googleapis.com"
    assert (provider.project, provider.region) == ("harbour-films-1", "us-central1")


def test_another_team_sees_nothing_of_a_vertex_connection(client_for, outsider, team, vertex_connection,
                                                          vertex_server):
    client = client_for(outsider)

    assert client.get(reverse("generation:connection_edit", args=[team.pk, vertex_connection.pk])).status_code == 404
    assert client.get(reverse("generation:connection_list", args=[team.pk])).status_code == 404
    own = client.get(reverse("generation:connection_list",
                             args=[outsider.memberships.get().team_id])).content.decode()
    assert vertex_server.client_email not in own and "harbour-films-1" not in own
