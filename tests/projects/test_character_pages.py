"""Character pages: the library, a character's consent, and a person's own likenesses across teams."""

from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from projects.characters import consent
from projects.models import (
    Character,
    CharacterKind,
    ConsentAction,
    ConsentEvent,
    ConsentGrant,
    ConsentScope,
    Membership,
    Role,
)
from tests.factories import photo

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def member(team, make_member):
    return make_member(team, Role.EDITOR, "maya")


@pytest.fixture
def maya(team, member):
    return consent.character_create(team=team, user=member, name="Maya", kind=CharacterKind.PERSON, person=member,
                                    description="red coat, walks the pier", images=[photo()])


@pytest.fixture
def robo(team, owner):
    return consent.character_create(team=team, user=owner, name="Robo", kind=CharacterKind.FICTIONAL,
                                    description="a brass lighthouse keeper", images=[photo("robo.png")],
                                    declares_fictional=True)


@pytest.fixture
def other_project(team, owner):
    from projects.storyboard import services

    return services.project_create(team=team, user=owner, name="Other film")


def library_url(team):
    return reverse("projects:character_list", args=[team.pk])


def person_data(member, **overrides):
    data = {"name": "Maya", "description": "red coat", "kind": "person", "person": str(member.pk),
            "images": [photo("a.png"), photo("b.png", (200, 10, 10))]}
    data.update(overrides)
    return data


# --- the library ------------------------------------------------------------------

def test_the_library_shows_each_character_with_thumbnail_kind_and_consent_in_words(
        client_for, editor, team, maya, robo):
    html = client_for(editor).get(library_url(team)).content.decode()
    image = maya.images.get()
    assert reverse("projects:character_image", args=[maya.pk, image.pk]) in html
    assert "No consent yet" in html
    assert "Fictional — declared by " + robo.created_by.get_username() in html
    assert html.count('data-testid="character"') == 2


def test_the_library_words_a_grant_a_revocation_and_an_expiry(client_for, editor, team, maya, member, project):
    client = client_for(editor)
    consent.consent_grant(character=maya, user=member, scope=ConsentScope.PROJECTS, projects=[project],
                          providers=["local"], expires_at=timezone.now() + timedelta(days=3))
    until = timezone.localtime(maya.active_grant().expires_at)
    assert (f"Consent: granted (1 project, local, until {until:%-d %b %Y})"
            in client.get(library_url(team)).content.decode())
    maya.grants.update(expires_at=timezone.now() - timedelta(minutes=1))
    assert "Consent expired on " in client.get(library_url(team)).content.decode()
    consent.consent_grant(character=maya, user=member)
    assert "Consent: granted (whole team, all providers)" in client.get(library_url(team)).content.decode()
    consent.consent_revoke(character=maya, user=member)
    assert "Consent revoked" in client.get(library_url(team)).content.decode()


def test_searching_swaps_in_only_the_grid(client_for, editor, team, maya, robo):
    response = client_for(editor).get(library_url(team), {"q": "lighthouse"}, **HX)
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="character-grid">')  # the partial, not the page
    assert "<html" not in html
    assert "Robo" in html and "Maya" not in html
    assert "HX-Request" in response.headers["Vary"]


def test_searching_without_javascript_filters_the_full_page(client_for, editor, team, maya, robo):
    html = client_for(editor).get(library_url(team), {"q": "maya"}).content.decode()
    assert "<html" in html
    assert 'value="maya"' in html
    assert ">Maya<" in html and ">Robo<" not in html


def test_a_search_with_no_match_says_so(client_for, editor, team, maya):
    html = client_for(editor).get(library_url(team), {"q": "zebra"}, **HX).content.decode()
    assert "No character matches “zebra”." in html


# --- creating characters ------------------------------------------------------------

def test_an_editor_adds_a_person_character_with_reference_images(client_for, editor, member, team):
    response = client_for(editor).post(library_url(team), person_data(member))
    maya = Character.objects.get(name="Maya")
    assert response.status_code == 302
    assert response.url == reverse("projects:character_detail", args=[maya.pk])
    assert (maya.team, maya.kind, maya.person, maya.created_by) == (team, "person", member, editor)
    assert maya.images.count() == 2
    assert not maya.grants.exists()  # nobody can render them until they consent


def test_an_editor_declares_a_fictional_character_and_the_declaration_names_them(client_for, editor, team):
    client = client_for(editor)
    client.post(library_url(team), {"name": "Robo", "description": "brass", "kind": "fictional",
                                    "declares_fictional": "on", "images": [photo()]})
    robo = Character.objects.get(name="Robo")
    assert (robo.kind, robo.person) == ("fictional", None)
    event = ConsentEvent.objects.get(character=robo)
    assert (event.action, event.actor) == (ConsentAction.DECLARED_FICTIONAL, editor)
    assert "Fictional — declared by eddie" in client.get(library_url(team)).content.decode()


def not_an_image():
    return SimpleUploadedFile("notes.png", b"just some text", content_type="image/png")


@pytest.mark.parametrize("overrides, message", [
    ({"name": ""}, "Give the character a name."),
    ({"name": "Maya <script>"}, "A name uses letters, digits, spaces"),
    ({"person": ""}, "Choose the team member this character depicts."),
    ({"kind": "fictional", "person": ""}, "Confirm that this character depicts no real person."),
    ({"kind": ""}, "Choose a real person or a fictional character."),
    ({"images": []}, "Add 1 to 4 reference images"),
    ({"images": [photo(f"{i}.png") for i in range(5)]}, "Add at most 4 reference images; you chose 5."),
    ({"images": [not_an_image]}, "notes.png: That file is not a readable JPEG, PNG or WebP image."),
])
def test_bad_character_input_is_refused_with_the_typed_values_kept(
        client_for, editor, member, team, overrides, message):
    data = person_data(member, description="Keep my description", **overrides)
    if data.get("images") and callable(data["images"][0]):
        data["images"] = [make() for make in data["images"]]
    response = client_for(editor).post(library_url(team), data)
    html = response.content.decode()
    assert response.status_code == 400
    assert message in html
    assert "Keep my description</textarea>" in html
    assert "Choose the image files again" in html
    if overrides.get("name", "Maya") == "Maya":
        assert 'value="Maya"' in html
    if overrides.get("kind", "person") == "person" and overrides.get("person", "x"):
        assert f'<option value="{member.pk}" selected>' in html
    assert not Character.objects.exists()


def test_a_second_character_with_the_same_name_is_refused(client_for, editor, member, team, maya):
    response = client_for(editor).post(library_url(team), person_data(member))
    assert response.status_code == 400
    assert "Your team already has a character called “Maya”." in response.content.decode()
    assert Character.objects.count() == 1


def test_the_person_must_be_a_member_of_the_team(client_for, editor, team, outsider):
    response = client_for(editor).post(library_url(team), person_data(outsider))
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not Character.objects.exists()


@pytest.mark.parametrize("role", ["viewer", "reviewer"])
def test_members_who_cannot_edit_cannot_add_characters(client_for, request, member, team, role):
    client = client_for(request.getfixturevalue(role))
    assert 'data-testid="new-character-form"' not in client.get(library_url(team)).content.decode()
    response = client.post(library_url(team), person_data(member))
    assert response.status_code == 403
    assert not Character.objects.exists()


# --- the character page -------------------------------------------------------------

def test_the_character_page_shows_references_state_log_and_where_it_is_used(
        client_for, editor, member, maya, make_scene, finished_take, project):
    consent.consent_grant(character=maya, user=member, scope=ConsentScope.PROJECTS, projects=[project],
                          providers=["local"])
    scene = make_scene(title="Pier walk", prompt="@Maya walks along the pier.")
    finished_take(scene)
    html = client_for(editor).get(reverse("projects:character_detail", args=[maya.pk])).content.decode()
    assert html.count('data-testid="reference-image"') == 1
    assert "Consent: granted (1 project, local)" in html
    assert 'data-action="granted"' in html and 'data-action="declared_fictional"' not in html
    assert "Harbour Story" in html and "maya" in html  # the log names the project and who granted
    assert f'href="{reverse("projects:project_detail", args=[project.pk])}#scene-{scene.pk}"' in html
    assert "Takes (1)" in html
    assert 'data-testid="consent-form"' not in html  # only Maya herself


def test_the_person_still_sees_takes_of_them_whose_scene_is_in_the_trash_or_deleted_forever(
        client_for, editor, owner, member, maya, make_scene, finished_take, project):
    from projects.storyboard import trash

    consent.consent_grant(character=maya, user=member)
    trashed, purged = (make_scene(title=t, prompt=f"@Maya on the {t}.") for t in ("pier", "dock"))
    for scene in (trashed, purged):
        finished_take(scene)
        trash.scene_trash(scene=scene, user=editor)
    trash.scene_delete_forever(project=project, scene_ids=[purged.pk], user=owner)

    html = client_for(member).get(reverse("projects:character_detail", args=[maya.pk])).content.decode()

    assert "Takes (2)" in html and "Not cast in any scene." in html
    assert "a scene in the project's trash" in html and "a scene deleted forever" in html
    assert "#take-" not in html  # no link to a board that no longer shows them


def test_only_the_person_sees_the_consent_form(client_for, member, owner, maya):
    url = reverse("projects:character_detail", args=[maya.pk])
    assert 'data-testid="consent-form"' in client_for(member).get(url).content.decode()
    html = client_for(owner).get(url).content.decode()
    assert 'data-testid="consent-form"' not in html
    assert 'data-testid="revoke-form"' not in html
    assert "Only maya, logged in as themselves, can grant or revoke consent." in html


def test_the_person_grants_consent_to_selected_projects_and_providers(
        client_for, member, maya, project, other_project):
    expiry = timezone.localdate() + timedelta(days=30)
    response = client_for(member).post(reverse("projects:character_consent", args=[maya.pk]), {
        "scope": "projects", "projects": [str(project.pk)], "providers": ["local", "replicate"],
        "expires_on": expiry.isoformat()}, **HX)
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="character-body">')
    assert f"Consent: granted (1 project, local, replicate, until {expiry:%-d %b %Y})" in html
    assert 'data-testid="revoke-form"' in html
    grant = ConsentGrant.objects.get(character=maya)
    assert (grant.scope, grant.providers, grant.granted_by) == ("projects", ["local", "replicate"], member)
    assert list(grant.projects.all()) == [project]
    assert timezone.localdate(grant.expires_at) == expiry
    assert consent.consent_problem(maya, project=other_project, provider_kind="local") is not None


def test_granting_without_javascript_redirects_back_to_the_page(client_for, member, maya):
    response = client_for(member).post(reverse("projects:character_consent", args=[maya.pk]), {"scope": "team"})
    assert response.url == reverse("projects:character_detail", args=[maya.pk])
    assert maya.active_grant().scope == "team"


@pytest.mark.parametrize("data, message", [
    ({"scope": "projects"}, "Choose at least one project, or allow the whole team."),
    ({"scope": "team", "expires_on": (date.today() - timedelta(days=2)).isoformat()},
     "The expiry date must be in the future."),
    ({"scope": "team", "providers": ["midjourney"]}, "Select a valid choice"),
])
def test_bad_consent_input_is_refused(client_for, member, maya, data, message):
    response = client_for(member).post(reverse("projects:character_consent", args=[maya.pk]), data, **HX)
    assert message in response.content.decode()
    assert not ConsentGrant.objects.exists()


@pytest.mark.parametrize("role", ["owner", "editor"])
def test_nobody_else_can_grant_or_revoke_through_the_pages(client_for, request, member, maya, role):
    consent.consent_grant(character=maya, user=member)
    client = client_for(request.getfixturevalue(role))
    assert client.post(reverse("projects:character_consent", args=[maya.pk]), {"scope": "team"}).status_code == 403
    assert client.post(reverse("projects:character_revoke", args=[maya.pk])).status_code == 403
    assert maya.grants.get().revoked_at is None
    assert maya.grants.count() == 1


def test_consent_cannot_be_granted_for_a_fictional_character(client_for, owner, robo):
    response = client_for(owner).post(reverse("projects:character_consent", args=[robo.pk]), {"scope": "team"})
    assert response.status_code == 403


def test_revoking_on_the_character_page_withholds_takes_and_can_delete_their_files(
        client_for, member, maya, make_scene, finished_take):
    consent.consent_grant(character=maya, user=member)
    take = finished_take(make_scene(prompt="@Maya on the pier."))
    assert take.video
    response = client_for(member).post(reverse("projects:character_revoke", args=[maya.pk]),
                                       {"delete_files": "on"}, **HX)
    html = response.content.decode()
    assert "Consent revoked. 1 take withheld." in html
    assert "Takes (1, 1 withheld)" in html
    assert 'data-testid="used-take-withheld"' in html
    take.refresh_from_db()
    assert take.quarantined_at is not None
    assert not take.video
    assert list(maya.consent_events.order_by("pk").values_list("action", flat=True))[-2:] == [
        ConsentAction.REVOKED, ConsentAction.FILES_DELETED]


# --- my likeness --------------------------------------------------------------------

def test_my_likeness_lists_only_characters_that_depict_me_in_every_team(
        client_for, member, maya, robo, make_team):
    elsewhere = make_team("Lighthouse Co")
    Membership.objects.create(team=elsewhere, user=member, role=Role.VIEWER)
    there = consent.character_create(team=elsewhere, user=elsewhere.memberships.get(role="owner").user,
                                     name="Maya L", kind=CharacterKind.PERSON, person=member, images=[photo()])
    html = client_for(member).get(reverse("projects:my_likeness")).content.decode()
    assert html.count('data-testid="likeness"') == 2
    assert f'id="likeness-{maya.pk}"' in html and f'id="likeness-{there.pk}"' in html
    assert "Robo" not in html


def test_the_person_revokes_from_my_likeness_after_leaving_the_team(
        client_for, member, maya, team, make_scene, finished_take):
    consent.consent_grant(character=maya, user=member)
    take = finished_take(make_scene(prompt="@Maya on the pier."))
    Membership.objects.filter(team=team, user=member).delete()
    client = client_for(member)

    page = client.get(reverse("projects:my_likeness")).content.decode()
    assert "Maya" in page and "(you have left this team)" in page
    response = client.post(reverse("projects:character_revoke", args=[maya.pk]), {"return_to": "likeness"}, **HX)

    html = response.content.decode()
    assert html.lstrip().startswith(f'<li class="card likeness" id="likeness-{maya.pk}"')
    assert "Consent revoked. 1 take withheld." in html
    assert maya.active_grant() is None
    take.refresh_from_db()
    assert take.quarantined_at is not None


def test_revoking_from_my_likeness_without_javascript_returns_there(client_for, member, maya):
    consent.consent_grant(character=maya, user=member)
    response = client_for(member).post(reverse("projects:character_revoke", args=[maya.pk]),
                                       {"return_to": "likeness"})
    assert response.url == reverse("projects:my_likeness")
    assert maya.active_grant() is None


def test_a_person_who_left_can_still_open_their_character_but_not_grant(client_for, member, maya, team):
    Membership.objects.filter(team=team, user=member).delete()
    client = client_for(member)
    html = client.get(reverse("projects:character_detail", args=[maya.pk])).content.decode()
    assert "a team you are no longer in" in html
    assert 'data-testid="consent-form"' not in html
    assert client.post(reverse("projects:character_consent", args=[maya.pk]), {"scope": "team"}).status_code == 403
    # The rest of the team's library stays closed to them.
    assert client.get(library_url(team)).status_code == 404


# --- isolation ----------------------------------------------------------------------

@pytest.fixture
def character_urls(team, maya):
    image = maya.images.get()
    return [
        ("get", library_url(team)),
        ("post", library_url(team)),
        ("get", reverse("projects:character_detail", args=[maya.pk])),
        ("get", reverse("projects:character_image", args=[maya.pk, image.pk])),
        ("post", reverse("projects:character_consent", args=[maya.pk])),
        ("post", reverse("projects:character_revoke", args=[maya.pk])),
    ]


def test_another_teams_user_gets_404_on_every_character_page(client_for, outsider, character_urls, maya):
    client = client_for(outsider)
    for method, url in character_urls:
        response = getattr(client, method)(url)
        assert response.status_code == 404, f"{method.upper()} {url} gave {response.status_code}"
    assert "Maya" not in client.get(reverse("projects:my_likeness")).content.decode()


def test_anonymous_visitors_are_sent_to_login_from_character_pages(client, character_urls):
    for method, url in character_urls + [("get", reverse("projects:my_likeness"))]:
        response = getattr(client, method)(url)
        assert response.status_code == 302, f"{method.upper()} {url} gave {response.status_code}"
        assert response.url.startswith(reverse("login"))


def test_reference_images_are_served_to_the_team_only_under_their_own_character(
        client_for, editor, maya, robo):
    client = client_for(editor)
    image = maya.images.get()
    response = client.get(reverse("projects:character_image", args=[maya.pk, image.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    # Another character's id in the URL does not unlock the image.
    assert client.get(reverse("projects:character_image", args=[robo.pk, image.pk])).status_code == 404


def test_a_reference_video_can_be_added_from_the_library_form(client_for, editor, member, team, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from generation.previz.animatic import render_animatic

    client = client_for(editor)
    assert 'name="reference_video"' in client.get(library_url(team)).content.decode()
    clip = tmp_path / "me.mp4"
    render_animatic(out_path=clip, width=320, height=180, seconds=1, title="Me", prompt="me", scene_number=1)
    video = SimpleUploadedFile("me.mp4", clip.read_bytes(), content_type="video/mp4")
    client.post(library_url(team), person_data(member, reference_video=video))
    assert Character.objects.get(name="Maya").reference_video


def test_a_reference_video_that_is_not_an_mp4_is_refused_in_the_page(client_for, editor, member, team):
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = SimpleUploadedFile("me.mp4", b"not a video", content_type="video/mp4")
    html = client_for(editor).post(library_url(team), person_data(member, reference_video=bad)).content.decode()
    assert "The reference video is not a playable MP4 or MOV video." in html
    assert not Character.objects.filter(name="Maya").exists()
