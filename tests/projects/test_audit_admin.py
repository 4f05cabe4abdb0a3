"""The Django admin's changes land in the teams' audit logs too, and nothing, there or anywhere, can change
or delete an entry: the log is append-only."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse

from generation.models import CatalogModel, ProviderConnection
from projects.audit import audit_record
from projects.models import AppendOnly, AuditAction, AuditEntry, Invitation, Membership
from tests.audit_helpers import KEY, keeps_no_secret, logged, only

# --- Changes made in the admin ------------------------------------------------------------------


@pytest.fixture
def admin_client(client, db):
    root = get_user_model().objects.create_superuser("root", "root@example.com", "a long admin password")
    client.force_login(root)
    client.root = root
    return client


def _inline(prefix: str, rows: list[dict], initial: int) -> dict:
    data = {f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": str(initial)}
    for n, row in enumerate(rows):
        data.update({f"{prefix}-{n}-{k}": v for k, v in row.items()})
    return data


def test_the_admins_changes_to_a_budget_a_role_and_a_cap_are_logged(admin_client, team, owner, editor):
    member = Membership.objects.get(team=team, user=editor)
    mine = Membership.objects.get(team=team, user=owner)
    rows = [{"id": mine.pk, "team": team.pk, "user": owner.pk, "role": "owner", "monthly_budget": ""},
            {"id": member.pk, "team": team.pk, "user": editor.pk, "role": "reviewer", "monthly_budget": "30"}]
    response = admin_client.post(reverse("admin:projects_team_change", args=[team.pk]), {
        "name": team.name, "do_not_train": "on", "monthly_budget": "900", **_inline("memberships", rows, 2)})
    assert response.status_code == 302

    budget = only(team, AuditAction.TEAM_BUDGET_SET)
    assert budget.actor == admin_client.root
    assert budget.details == {"changes": {"monthly_budget": [None, "900"]}, "via": "admin"}
    role, cap = only(team, AuditAction.ROLE_CHANGED), only(team, AuditAction.MEMBER_CAP_SET)
    assert (role.target_label, role.details["changes"]) == ("eddie", {"role": ["editor", "reviewer"]})
    assert cap.details["changes"] == {"monthly_cap": [None, "30"]}  # as the team page's cap logs it
    assert len(logged(team)) == 3


def test_members_added_and_removed_in_the_admin_are_logged(admin_client, team, owner, editor, make_user):
    newcomer = make_user("nina")
    member, mine = Membership.objects.get(team=team, user=editor), Membership.objects.get(team=team, user=owner)
    rows = [{"id": mine.pk, "team": team.pk, "user": owner.pk, "role": "owner"},
            {"id": member.pk, "team": team.pk, "user": editor.pk, "role": "editor", "DELETE": "on"},
            {"team": team.pk, "user": newcomer.pk, "role": "viewer"}]
    response = admin_client.post(reverse("admin:projects_team_change", args=[team.pk]), {
        "name": team.name, "do_not_train": "on", **_inline("memberships", rows, 2)})
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=member.pk).exists()

    added, removed = only(team, AuditAction.MEMBER_ADDED), only(team, AuditAction.MEMBER_REMOVED)
    assert (added.actor, added.target_label, added.details) == (admin_client.root, "nina",
                                                                {"role": "viewer", "via": "admin"})
    assert (removed.actor, removed.target_label, removed.target_id) == (admin_client.root, "eddie", member.pk)
    assert len(logged(team)) == 2


def test_an_invitation_made_and_withdrawn_in_the_admin_is_logged(admin_client, team, owner):
    response = admin_client.post(reverse("admin:projects_invitation_add"), {
        "team": team.pk, "email": "nora@example.com", "role": "reviewer", "invited_by": owner.pk,
        "expires_at_0": "2030-01-01", "expires_at_1": "12:00:00"})
    assert response.status_code == 302, response.content.decode()[:3000]
    invitation = Invitation.objects.get()
    admin_client.post(reverse("admin:projects_invitation_delete", args=[invitation.pk]), {"post": "yes"})
    assert not Invitation.objects.exists()

    sent, withdrawn = only(team, AuditAction.INVITATION_SENT), only(team, AuditAction.INVITATION_REMOVED)
    assert (sent.actor, sent.target_label, sent.details) == (admin_client.root, "nora@example.com",
                                                             {"role": "reviewer", "via": "admin"})
    assert (withdrawn.actor, withdrawn.target_id) == (admin_client.root, invitation.pk)


def test_a_teams_model_deleted_in_the_admin_is_logged_with_its_price(admin_client, team, priced_gateway):
    wan = priced_gateway.models.get()
    admin_client.post(reverse("admin:generation_catalogmodel_delete", args=[wan.pk]), {"post": "yes"})
    assert not CatalogModel.objects.filter(pk=wan.pk).exists()
    entry = only(team, AuditAction.CATALOG_REMOVED)
    assert (entry.actor, entry.target_label) == (admin_client.root, "Wan 2.7 (wan-2.7) · Gateway")
    assert entry.details["price_per_second"] == {"*": 0.5} and entry.details["via"] == "admin"


def test_a_key_typed_in_the_admin_is_logged_as_replaced_and_a_removed_connection_too(admin_client, team,
                                                                                      priced_gateway):
    url = reverse("admin:generation_providerconnection_change", args=[priced_gateway.pk])
    models = _inline("models", [], 0)
    admin_client.post(url, {"team": team.pk, "kind": "openai-videos", "label": "Gateway", "base_url":
                            priced_gateway.base_url, "auth_style": "bearer", "api_key": KEY, "webhook_secret": "",
                            **models})
    changed = only(team, AuditAction.CONNECTION_CHANGED)
    assert changed.details == {"changes": {"api_key": "replaced"}, "via": "admin"}
    assert keeps_no_secret(changed, KEY)

    admin_client.post(reverse("admin:generation_providerconnection_delete", args=[priced_gateway.pk]), {"post": "yes"})
    assert not ProviderConnection.objects.filter(pk=priced_gateway.pk).exists()
    removed = only(team, AuditAction.CONNECTION_REMOVED)
    assert (removed.actor, removed.target_label, removed.details["kind"]) == (admin_client.root, "Gateway",
                                                                             "openai-videos")


def test_a_shipped_price_changed_in_the_admin_is_logged_for_every_team_that_can_book_it(admin_client, team,
                                                                                        outsider, make_team):
    from django.forms.models import model_to_dict

    previz = CatalogModel.objects.get(connection=None, model_id="previz-animatic-1")
    data = {k: json.dumps(v) if isinstance(v, (list, dict)) else ("" if v is None else v)
            for k, v in model_to_dict(previz).items() if k != "id"}
    data = {k: v for k, v in data.items() if v is not False}
    data["price_per_second"] = json.dumps({"*": 0.01})
    response = admin_client.post(reverse("admin:generation_catalogmodel_change", args=[previz.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]

    rival = Membership.objects.get(user=outsider).team
    for each in (team, rival):  # every team has the local previz connection
        entry = only(each, AuditAction.CATALOG_EDITED)
        assert entry.details == {"changes": {"price_per_second": [{"*": 0.0}, {"*": 0.01}]}, "via": "admin"}


# --- Append-only --------------------------------------------------------------------------------


def test_an_entry_can_be_neither_changed_nor_deleted(team, owner):
    entry = audit_record(team=team, actor=owner, action=AuditAction.TEAM_BUDGET_SET, target=team,
                         details={"changes": {"monthly_budget": [None, "5.00"]}})
    entry.details = {"changes": {"monthly_budget": [None, "500.00"]}}
    for attempt in (entry.save, entry.delete, lambda: AuditEntry.objects.filter(pk=entry.pk).update(details={}),
                    lambda: AuditEntry.objects.filter(pk=entry.pk).delete(),
                    lambda: AuditEntry.objects.bulk_update([entry], ["details"])):
        with pytest.raises(AppendOnly), transaction.atomic():
            attempt()
    entry = AuditEntry.objects.get(pk=entry.pk)
    assert entry.details == {"changes": {"monthly_budget": [None, "5.00"]}}


def test_the_admin_shows_the_log_but_offers_no_way_to_change_or_delete_it(admin_client, team, owner):
    entry = audit_record(team=team, actor=owner, action=AuditAction.TEAM_BUDGET_SET, target=team)
    assert admin_client.get(reverse("admin:projects_auditentry_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:projects_auditentry_change", args=[entry.pk])).status_code == 200
    assert admin_client.post(reverse("admin:projects_auditentry_change", args=[entry.pk]), {}).status_code == 403
    assert admin_client.post(reverse("admin:projects_auditentry_delete", args=[entry.pk]),
                             {"post": "yes"}).status_code == 403
    assert admin_client.get(reverse("admin:projects_auditentry_add")).status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_a_secrets_value_is_refused_on_its_way_into_the_log(team, owner):
    with pytest.raises(ValueError, match="never keeps a secret"):
        audit_record(team=team, actor=owner, action=AuditAction.CONNECTION_CHANGED, target=team,
                     details={"changes": {"api_key": [None, KEY]}})
    assert not AuditEntry.objects.exists()


def test_the_admin_will_not_delete_a_team_and_its_log_with_it(admin_client, team, owner):
    audit_record(team=team, actor=owner, action=AuditAction.TEAM_BUDGET_SET, target=team)
    url = reverse("admin:projects_team_delete", args=[team.pk])
    assert "audit entry" in admin_client.get(url).content.decode()  # named as what stops it
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.filter(team=team).count() == 1


def test_an_account_that_goes_leaves_its_entries_under_its_name(team, owner, editor):
    audit_record(team=team, actor=editor, action=AuditAction.ROLE_CHANGED, target=team)
    editor.delete()
    (entry,) = logged(team)
    assert entry.actor_name == "eddie"
