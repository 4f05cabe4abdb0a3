"""The project's own fields in the team's audit log: adding, renaming, changing the choices of and deleting
a field is written with who did it and what changed, and the log page shows it in words."""

from html import unescape

from django.urls import reverse

from projects.models import AuditAction, FieldKind
from projects.storyboard import fields
from tests.audit_helpers import logged, only


def add_shot_type(client, project):
    return client.post(reverse("projects:project_fields", args=[project.pk]),
                       {"name": "Shot type", "kind": "choice", "choices": "Wide\nMedium"})


def test_adding_a_field_is_logged_with_who_added_it_and_what_it_holds(client_for, team, owner, project):
    add_shot_type(client_for(owner), project)

    entry = only(team, AuditAction.FIELD_ADDED)
    field = project.fields.get()
    assert (entry.actor, entry.target_type, entry.target_id) == (owner, "projectfield", field.pk)
    assert entry.target_label == f"{project.name} / Shot type"
    assert entry.details == {"in_project": project.name, "field_kind": "choice", "choices": ["Wide", "Medium"]}


def test_renaming_a_field_and_changing_its_choices_is_logged_before_and_after(client_for, team, owner, project):
    client = client_for(owner)
    add_shot_type(client, project)
    field = project.fields.get()

    client.post(reverse("projects:field_update", args=[project.pk, field.pk]),
                {"name": "Framing", "choices": "Wide\nMedium\nClose-up"})

    entry = only(team, AuditAction.FIELD_CHANGED)
    assert (entry.actor, entry.target_id, entry.target_label) == (owner, field.pk, f"{project.name} / Framing")
    assert entry.details["changes"] == {"name": ["Shot type", "Framing"],
                                        "choices": [["Wide", "Medium"], ["Wide", "Medium", "Close-up"]]}


def test_a_field_saved_as_it_was_or_refused_logs_no_change(client_for, team, owner, project):
    client = client_for(owner)
    add_shot_type(client, project)
    field = project.fields.get()
    url = reverse("projects:field_update", args=[project.pk, field.pk])

    client.post(url, {"name": "Shot type", "choices": "Wide\nMedium"})
    client.post(url, {"name": "", "choices": "Wide"})

    assert logged(team, AuditAction.FIELD_CHANGED) == []


def test_deleting_a_field_is_logged_with_how_many_scenes_lost_their_value(client_for, team, owner, project, scene):
    field = fields.field_create(project=project, user=owner, name="Lens", kind=FieldKind.TEXT)
    scene.refresh_from_db()
    fields.scene_fields_set(scene=scene, user=owner, expected_version=scene.version, values={field.key: "35mm"})

    client_for(owner).post(reverse("projects:field_delete", args=[project.pk, field.pk]))

    entry = only(team, AuditAction.FIELD_DELETED)
    assert (entry.actor, entry.target_id, entry.target_label) == (owner, field.pk, f"{project.name} / Lens")
    assert entry.details == {"in_project": project.name, "field_kind": "text", "choices": [], "scenes_holding": 1}


def test_the_audit_page_shows_field_changes_in_words_and_filters_by_them(client_for, team, owner, project):
    client = client_for(owner)
    add_shot_type(client, project)
    field = project.fields.get()
    client.post(reverse("projects:field_update", args=[project.pk, field.pk]), {"name": "Framing", "choices": "Wide"})
    client.post(reverse("projects:field_delete", args=[project.pk, field.pk]))
    client.post(reverse("projects:team_budget", args=[team.pk]), {"monthly_budget": "50"})

    html = unescape(client.get(reverse("projects:team_audit", args=[team.pk]), {"action": "fields"}).content.decode())

    assert "Field added" in html and "Field renamed or its choices changed" in html and "Field deleted" in html
    assert "Holds: Choice" in html and "Name: Shot type → Framing" in html
    assert "Choices: Wide, Medium → Wide" in html and f"{project.name} / Framing" in html
    assert "Team monthly budget: no limit" not in html  # the filter keeps the fields' area only
