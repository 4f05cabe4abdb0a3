"""The Django admin shows the model catalog and the provider connections; keys stay write-only."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from generation.models import CatalogModel, ProviderConnection
from generation.providers import connections


@pytest.fixture
def admin_client(client, db):
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "a long admin password")
    client.force_login(admin)
    return client


@pytest.fixture
def gateway(team, owner):
    return connections.connection_create(team=team, user=owner, kind="openai-videos", label="Gateway",
                                         base_url="http://127.0.0.1:9/v1", api_key="sk-secret-key-1234")


def test_the_catalog_is_listed_and_an_entry_can_be_retired(admin_client):
    page = admin_client.get(reverse("admin:generation_catalogmodel_changelist")).content.decode()
    shipped = CatalogModel.objects.filter(connection__isnull=True).first()
    assert shipped.model_id in page
    form = admin_client.get(reverse("admin:generation_catalogmodel_change", args=[shipped.pk]))
    assert form.status_code == 200


def test_a_connections_key_is_never_shown_and_an_empty_field_keeps_it(admin_client, gateway):
    url = reverse("admin:generation_providerconnection_change", args=[gateway.pk])
    page = admin_client.get(url).content.decode()
    assert "sk-secret-key-1234" not in page and gateway.api_key_encrypted not in page
    data = {"team": gateway.team_id, "kind": gateway.kind, "label": "Gateway EU", "base_url": gateway.base_url,
            "auth_style": gateway.auth_style, "api_key": "", "webhook_secret": "",
            "models-TOTAL_FORMS": "0", "models-INITIAL_FORMS": "0"}
    assert admin_client.post(url, data).status_code == 302
    gateway.refresh_from_db()
    assert (gateway.label, gateway.api_key) == ("Gateway EU", "sk-secret-key-1234")


def test_a_new_key_typed_in_the_admin_is_stored_encrypted(admin_client, gateway):
    url = reverse("admin:generation_providerconnection_change", args=[gateway.pk])
    data = {"team": gateway.team_id, "kind": gateway.kind, "label": gateway.label, "base_url": gateway.base_url,
            "auth_style": gateway.auth_style, "api_key": "sk-rotated-5678", "webhook_secret": "",
            "models-TOTAL_FORMS": "0", "models-INITIAL_FORMS": "0"}
    assert admin_client.post(url, data).status_code == 302
    gateway = ProviderConnection.objects.get(pk=gateway.pk)
    assert gateway.api_key == "sk-rotated-5678" and "sk-rotated" not in gateway.api_key_encrypted


def test_a_team_member_who_is_not_staff_gets_no_admin(client_for, owner):
    response = client_for(owner).get(reverse("admin:generation_providerconnection_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response.url
