"""Consent: a person's likeness is rendered only with their valid consent, and revoking withholds every take."""

import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from generation.models import Render, Status
from generation.providers import connections
from generation.renders import pipeline, services
from projects.characters import consent
from projects.models import CharacterKind, ConsentAction, ConsentEvent, ConsentScope, Role, Scene
from projects.review import services as review
from tests.factories import consent_bring_to, photo


@pytest.fixture
def member(team, make_member):
    return make_member(team, Role.EDITOR, "maya")


@pytest.fixture
def maya(team, member):
    return consent.character_create(team=team, user=member, name="Maya", kind=CharacterKind.PERSON,
                                    person=member, description="red coat, short dark hair", images=[photo()])


@pytest.fixture
def other_project(team, owner):
    from projects.storyboard import services as project_services

    return project_services.project_create(team=team, user=owner, name="Other film")


def cast_regardless(make_scene, character, prompt="@Maya on the pier."):
    """A scene casting `character` whatever their consent now, as one cast before their consent
    changed (or before saving checked it) does: the render gate must refuse it all the same."""
    scene = make_scene(prompt=prompt.replace(f"@{character.name}", character.name))
    Scene.objects.filter(pk=scene.pk).update(prompt=prompt)
    scene.refresh_from_db()
    scene.cast.add(character)
    return scene


def book(scene, user, connection=None):
    connection = connection or scene.project.team.connections.get(kind="local")
    return services.render_create(scene=scene, user=user, connection=connection, model_id="previz-animatic-1",
                                  idempotency_key=uuid.uuid4())


# --- the consent matrix --------------------------------------------------------

def test_a_fictional_character_needs_no_grant_but_records_the_declaration(team, owner, project):
    robot = consent.character_create(team=team, user=owner, name="Robo", kind=CharacterKind.FICTIONAL,
                                     images=[photo()], declares_fictional=True)
    assert consent.consent_problem(robot, project=project, provider_kind="local") is None
    event = ConsentEvent.objects.get(character=robot)
    assert (event.action, event.actor) == (ConsentAction.DECLARED_FICTIONAL, owner)


def test_a_fictional_character_must_be_declared_so(team, owner):
    with pytest.raises(ValidationError, match="depicts no real person"):
        consent.character_create(team=team, user=owner, name="Robo", kind=CharacterKind.FICTIONAL, images=[photo()])


@pytest.mark.parametrize("grant, provider, expected", [
    (None, "local", "has not granted consent yet"),
    ({}, "local", None),
    ({"scope": ConsentScope.PROJECTS, "in_project": True}, "local", None),
    ({"scope": ConsentScope.PROJECTS, "in_project": False}, "local", "has not consented to appear in “Harbour Story”"),
    ({"providers": ["local"]}, "local", None),
    ({"providers": ["local"]}, "replicate", "has not consented to renders with this provider (replicate)"),
    ({"expired": True}, "local", "consent expired"),
    ({"revoked": True}, "local", "has revoked consent"),
])
def test_the_consent_matrix(maya, member, project, other_project, grant, provider, expected):
    if grant is not None:
        scope = grant.get("scope", ConsentScope.TEAM)
        projects = [project if grant.get("in_project") else other_project] if scope == ConsentScope.PROJECTS else []
        consent.consent_grant(character=maya, user=member, scope=scope, projects=projects,
                              providers=grant.get("providers", []), expires_at=timezone.now() + timedelta(days=1))
        if grant.get("expired"):
            maya.grants.update(expires_at=timezone.now() - timedelta(minutes=1))
        if grant.get("revoked"):
            consent.consent_revoke(character=maya, user=member)
    problem = consent.consent_problem(maya, project=project, provider_kind=provider)
    if expected is None:
        assert problem is None
    else:
        assert expected in problem and "Maya" in problem


def test_only_the_person_themselves_can_grant_or_revoke(maya, owner):
    with pytest.raises(PermissionDenied):
        consent.consent_grant(character=maya, user=owner)
    with pytest.raises(PermissionDenied):
        consent.consent_revoke(character=maya, user=owner)


def test_every_grant_change_and_revocation_is_logged(maya, member, project):
    consent.consent_grant(character=maya, user=member)
    consent.consent_grant(character=maya, user=member, scope=ConsentScope.PROJECTS, projects=[project])
    consent.consent_revoke(character=maya, user=member)
    assert list(ConsentEvent.objects.filter(character=maya).order_by("pk").values_list("action", flat=True)) == [
        ConsentAction.GRANTED, ConsentAction.CHANGED, ConsentAction.REVOKED]
    event = ConsentEvent.objects.filter(character=maya).first()
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    with pytest.raises(ValueError, match="append-only"):
        event.delete()


# --- enforcement ---------------------------------------------------------------

def test_mentioning_a_character_casts_them(make_scene, maya, member):
    consent.consent_grant(character=maya, user=member)
    scene = make_scene(prompt="@Maya walks along the pier at dawn.")
    assert list(scene.cast.all()) == [maya]


def test_a_take_casting_someone_without_consent_is_refused_naming_them(make_scene, maya, editor):
    scene = cast_regardless(make_scene, maya, "@Maya walks along the pier.")
    with pytest.raises(ValidationError, match="Maya has not granted consent yet"):
        book(scene, editor)
    assert not Render.objects.exists()


def test_with_consent_the_take_is_booked_with_the_character_described(make_scene, maya, member, editor):
    consent.consent_grant(character=maya, user=member)
    scene = make_scene(prompt="@Maya walks along the pier.")
    take, _ = book(scene, editor)
    assert list(take.characters.all()) == [maya]
    assert "Maya: red coat, short dark hair" in take.recipe["prompt"]
    assert take.recipe["cast"] == [{"id": maya.pk, "name": "Maya", "kind": "person"}]


def test_a_take_queued_before_a_revocation_never_reaches_the_provider(
        team, owner, make_scene, maya, member, editor, provider_server):
    gateway = connections.connection_create(team=team, user=owner, kind="openai-videos", label="GW",
                                            base_url=provider_server.openai_base, api_key=provider_server.api_key)
    connections.catalog_register_model(connection=gateway, model_id="veo-3.1", display_name="Veo",
                                       sizes=["1280x720"], durations=[4], price_per_second=0.4)
    consent.consent_grant(character=maya, user=member)
    scene = make_scene(prompt="@Maya on the pier.", duration=4)
    take, _ = services.render_create(scene=scene, user=editor, connection=gateway, model_id="veo-3.1",
                                     idempotency_key=uuid.uuid4())  # queued; its task has not run
    consent.consent_revoke(character=maya, user=member)
    pipeline.render_submit(take.pk)  # the worker picks it up after the revocation
    take.refresh_from_db()
    assert take.status == Status.CANCELED
    assert take.error_message.startswith("Consent revoked")
    assert provider_server.seen("POST", r"/openai/v1/videos") == []  # the provider received nothing


def test_revoking_withholds_and_unapproves_every_take_and_tells_the_team(
        make_scene, maya, member, editor, owner, reviewer, finished_take, client_for, django_capture_on_commit_callbacks):
    consent.consent_grant(character=maya, user=member)
    scene = make_scene(prompt="@Maya on the pier.")
    take = finished_take(scene)

    review.take_approve(take=take, user=reviewer)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert consent.consent_revoke(character=maya, user=member) == 1
    take.refresh_from_db()
    scene.refresh_from_db()
    assert take.quarantined_at and scene.approved_take is None
    assert mail.outbox and "Maya revoked consent" in mail.outbox[0].subject
    video = f"/takes/{take.pk}/video/"
    assert client_for(editor).get(video).status_code == 404
    assert client_for(reviewer).get(video).status_code == 404
    assert client_for(owner).get(video).status_code == 200
    assert client_for(member).get(video).status_code == 200  # the person themselves
    page = client_for(editor).get(f"/projects/{scene.project_id}/scenes/{scene.pk}/").content.decode()
    assert "Withheld: Consent revoked by Maya" in page and video not in page
    assert f"/takes/{take.pk}/thumbnail/" not in page  # nor its poster on the board
    with pytest.raises(ValidationError, match="withheld"):
        review.take_approve(take=take, user=reviewer)


def test_revoking_with_file_deletion_leaves_a_receipt(make_scene, maya, member, reviewer, finished_take,
                                                      django_capture_on_commit_callbacks):
    consent.consent_grant(character=maya, user=member)
    take = finished_take(make_scene(prompt="@Maya on the pier."))
    with django_capture_on_commit_callbacks(execute=True):  # approved: its C2PA ingredient is kept too
        review.take_approve(take=take, user=reviewer)
    take.refresh_from_db()
    path, ingredient = take.video.path, take.c2pa_ingredient.path
    consent.consent_revoke(character=maya, user=member, delete_files=True)
    take.refresh_from_db()
    import os

    assert not take.video and not os.path.exists(path)
    assert not take.c2pa_ingredient and not os.path.exists(ingredient), "it holds the take's manifest and prompt"
    receipt = ConsentEvent.objects.get(character=maya, action=ConsentAction.FILES_DELETED)
    assert receipt.details["receipt"] == "1 take(s) deleted"


def test_veo_on_replicate_gets_the_cast_as_reference_images(
        team, owner, make_scene, maya, member, editor, provider_server, django_capture_on_commit_callbacks):
    replicate = connections.connection_create(team=team, user=owner, kind="replicate", label="Replicate",
                                              base_url=provider_server.replicate_base, api_key=provider_server.api_key)
    consent.consent_grant(character=maya, user=member)
    # Veo keeps a likeness only in 8-second 16:9 takes (other lengths are refused at booking).
    scene = make_scene(prompt="@Maya on the pier.", duration=8)
    with django_capture_on_commit_callbacks(execute=True):
        take, _ = services.render_create(scene=scene, user=editor, connection=replicate, model_id="google/veo-3.1",
                                         idempotency_key=uuid.uuid4())
    take.refresh_from_db()
    assert take.status == Status.SUCCEEDED, take.error_message
    import json

    sent = json.loads(provider_server.seen("POST", r"/replicate/v1/models/google/veo-3\.1/predictions")[0].body)
    assert len(sent["input"]["reference_images"]) == 1
    assert sent["input"]["reference_images"][0].startswith("data:image/png;base64,")
    assert "Maya: red coat" in sent["input"]["prompt"]
    assert take.recipe["character_images"] == [maya.images.first().image.name]


def test_veo_on_replicate_refuses_the_casts_likeness_in_a_short_take_before_sending(
        team, owner, make_scene, maya, member, editor, provider_server):
    replicate = connections.connection_create(team=team, user=owner, kind="replicate", label="Replicate",
                                              base_url=provider_server.replicate_base, api_key=provider_server.api_key)
    consent.consent_grant(character=maya, user=member)
    scene = make_scene(prompt="@Maya on the pier.", duration=4)
    with pytest.raises(ValidationError, match="keeps the cast's likeness only in 8-second takes, not 4"):
        services.render_create(scene=scene, user=editor, connection=replicate, model_id="google/veo-3.1",
                               idempotency_key=uuid.uuid4())
    assert provider_server.seen("POST", r".*/predictions") == []


def test_deleting_a_mention_uncasts_the_character(make_scene, maya, member, owner):
    from projects.storyboard import services as project_services

    consent.consent_grant(character=maya, user=member)
    scene = make_scene(prompt="@Maya on the pier.")
    project_services.scene_update(scene=scene, expected_version=scene.version, user=owner,
                                  prompt="An empty pier.")
    assert not scene.cast.exists()


def test_a_person_who_left_the_team_can_revoke_but_not_grant(maya, member, team):
    from projects.models import Membership

    consent.consent_grant(character=maya, user=member)
    Membership.objects.filter(team=team, user=member).delete()
    with pytest.raises(PermissionDenied, match="left this team"):
        consent.consent_grant(character=maya, user=member)
    consent.consent_revoke(character=maya, user=member)
    assert maya.active_grant() is None


def test_the_compiled_prompt_and_refusals_are_shown_before_submit(client_for, editor, make_scene, maya, member):
    scene = cast_regardless(make_scene, maya)
    local = scene.project.team.connections.get(kind="local")
    url = f"/scenes/{scene.pk}/renders/preview/?target={local.pk}:previz-animatic-1"
    client = client_for(editor)
    html = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "Maya has not granted consent yet." in html
    consent.consent_grant(character=maya, user=member)
    html = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "Maya: red coat, short dark hair" in html and "not granted" not in html
    assert not Render.objects.exists()  # a preview books nothing


def test_the_preview_is_404_for_another_team(client_for, outsider, scene):
    assert client_for(outsider).get(f"/scenes/{scene.pk}/renders/preview/").status_code == 404


def short_mp4(seconds=1):
    import tempfile
    from pathlib import Path

    from generation.previz.animatic import render_animatic

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "me.mp4"
        render_animatic(out_path=path, width=320, height=180, seconds=seconds, title="Me", prompt="me",
                        scene_number=1)
        return SimpleUploadedFile("me.mp4", path.read_bytes(), content_type="video/mp4")


def test_a_reference_video_longer_than_20_seconds_is_refused(team, member):
    with pytest.raises(ValidationError, match="the limit is 20 s"):
        consent.character_create(team=team, user=member, name="Long", kind=CharacterKind.PERSON, person=member,
                                 images=[photo()], reference_video=short_mp4(seconds=21))


def test_a_gateway_with_native_characters_gets_one_character_per_connection(
        team, owner, member, editor, make_scene, provider_server, django_capture_on_commit_callbacks):
    maya = consent.character_create(team=team, user=member, name="Maya", kind=CharacterKind.PERSON, person=member,
                                    images=[photo()], reference_video=short_mp4())
    consent.consent_grant(character=maya, user=member)
    gateway = connections.connection_create(team=team, user=owner, kind="openai-videos", label="GW",
                                            base_url=provider_server.openai_base, api_key=provider_server.api_key)
    connections.catalog_register_model(connection=gateway, model_id="veo-3.1", display_name="Veo",
                                       sizes=["1280x720"], durations=[4], price_per_second=0.4,
                                       native_characters=True)
    provider_server.gateway_fields = {"characters[][id]"}  # a gateway that takes the Videos API's characters
    scene = make_scene(prompt="@Maya on the pier.", duration=4)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            take, _ = services.render_create(scene=scene, user=editor, connection=gateway, model_id="veo-3.1",
                                             idempotency_key=uuid.uuid4())
        take.refresh_from_db()
        assert take.status == Status.SUCCEEDED, take.error_message
    made = provider_server.seen("POST", r"/openai/v1/videos/characters")
    assert len(made) == 1 and made[0].fields["name"] == "Maya"  # created once, then reused
    creates = provider_server.seen("POST", r"/openai/v1/videos")
    from generation.models import ProviderCharacter

    provider_id = ProviderCharacter.objects.get(connection=gateway, character=maya).provider_character_id
    assert [c.fields["characters[][id]"] for c in creates] == [[provider_id], [provider_id]]
    assert take.recipe["native_characters"] == [{"id": maya.pk, "name": "Maya"}]


def test_the_cast_list_and_the_prompt_stay_in_sync(client_for, editor, make_scene, maya, member):
    consent.consent_grant(character=maya, user=member)
    scene = make_scene(prompt="A quiet pier.")
    client = client_for(editor)
    html = client.post(f"/scenes/{scene.pk}/cast/", {"character": maya.pk, "action": "add"},
                       HTTP_HX_REQUEST="true").content.decode()
    scene.refresh_from_db()
    assert scene.prompt == "A quiet pier. @Maya" and list(scene.cast.all()) == [maya]
    assert 'data-testid="cast-member"' in html
    client.post(f"/scenes/{scene.pk}/cast/", {"character": maya.pk, "action": "remove"}, HTTP_HX_REQUEST="true")
    scene.refresh_from_db()
    assert scene.prompt == "A quiet pier. Maya" and not scene.cast.exists()


@pytest.mark.parametrize("state, message", [
    ("none", "Maya has not granted consent yet. Maya cannot be cast."),
    ("expired", "Maya&#x27;s consent expired on"),
    ("other_project", "Maya has not consented to appear in “Harbour Story”. Maya cannot be cast."),
    ("revoked", "Maya has revoked consent. Maya cannot be cast."),
    ("other_provider", None),  # no provider is chosen yet: one she allows will do
    ("granted", None),
])
def test_add_to_cast_refuses_a_person_without_consent_here_saying_why(client_for, editor, make_scene, maya, member,
                                                                       other_project, state, message):
    consent_bring_to(maya, member, state, other_project)
    scene = make_scene(prompt="A quiet pier.")
    response = client_for(editor).post(f"/scenes/{scene.pk}/cast/", {"character": maya.pk, "action": "add"},
                                       HTTP_HX_REQUEST="true")
    html = response.content.decode()
    scene.refresh_from_db()
    assert response.status_code == 200
    if message is None:
        assert scene.prompt == "A quiet pier. @Maya" and list(scene.cast.all()) == [maya]
        assert 'class="error"' not in html
    else:
        assert message in html and 'role="alert"' in html
        assert scene.prompt == "A quiet pier." and not scene.cast.exists()


def test_add_to_cast_without_javascript_shows_the_refusal_after_the_redirect(client_for, editor, make_scene, maya):
    scene = make_scene(prompt="A quiet pier.")
    response = client_for(editor).post(f"/scenes/{scene.pk}/cast/", {"character": maya.pk, "action": "add"},
                                       follow=True)
    assert "Maya has not granted consent yet. Maya cannot be cast." in response.content.decode()
    scene.refresh_from_db()
    assert not scene.cast.exists()


def test_casting_is_for_editors_and_team_characters_only(client_for, viewer, outsider, make_scene, maya, make_team,
                                                        make_user, owner):
    scene = make_scene()
    assert client_for(viewer).post(f"/scenes/{scene.pk}/cast/", {"character": maya.pk}).status_code == 403
    assert client_for(outsider).post(f"/scenes/{scene.pk}/cast/", {"character": maya.pk}).status_code == 404


@pytest.mark.parametrize("state, message", [
    ("none", "Maya has not granted consent yet."),
    ("expired", "Maya&#x27;s consent expired"),
    ("other_project", "Maya has not consented to appear in “Harbour Story”."),
    ("other_provider", "Maya has not consented to renders with this provider (local)."),
    ("revoked", "Maya has revoked consent."),
    ("granted", None),
])
def test_the_consent_matrix_through_the_render_button(client_for, editor, make_scene, maya, member, other_project,
                                                      state, message):
    consent_bring_to(maya, member, state, other_project)
    scene = cast_regardless(make_scene, maya)
    local = scene.project.team.connections.get(kind="local")
    html = client_for(editor).post(f"/scenes/{scene.pk}/renders/", {
        "target": f"{local.pk}:previz-animatic-1", "idempotency_key": str(uuid.uuid4())},
        HTTP_HX_REQUEST="true").content.decode()
    if message is None:
        assert Render.objects.count() == 1 and 'role="alert"' not in html.split('class="take-stack"')[0]
    else:
        assert message in html
        assert not Render.objects.exists()
