"""An @mention casts: saving a scene checks consent where the user acts, not only at render time."""


import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from projects.characters import consent
from projects.models import CharacterKind, Role, Scene, ScriptImport
from projects.storyboard import services
from tests.factories import consent_bring_to, photo


@pytest.fixture
def member(team, make_member):
    return make_member(team, Role.EDITOR, "maya")


@pytest.fixture
def maya(team, member):
    return consent.character_create(team=team, user=member, name="Maya", kind=CharacterKind.PERSON,
                                    person=member, images=[photo()])


@pytest.fixture
def other_project(team, owner):
    return services.project_create(team=team, user=owner, name="Other film")


REFUSALS = [
    ("none", "Maya has not granted consent yet. Maya cannot be cast."),
    ("expired", "Maya&#x27;s consent expired on"),
    ("other_project", "Maya has not consented to appear in “Harbour Story”. Maya cannot be cast."),
    ("revoked", "Maya has revoked consent. Maya cannot be cast."),
]
TYPED = "The gulls scatter as @Maya runs along the pier, coat flying."


def edit(client, scene, *, htmx=True, **changes):
    data = {"title": scene.title, "prompt": scene.prompt, "duration": scene.duration, "size": scene.size,
            "camera_notes": scene.camera_notes, "version": scene.version, **changes}
    extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(reverse("projects:scene_edit", args=[scene.pk]), data, **extra)


def add(client, project, prompt, *, htmx=True):
    data = {"title": "Chase", "prompt": prompt, "duration": 4, "size": "1280x720", "camera_notes": ""}
    extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(reverse("projects:scene_create", args=[project.pk]), data, **extra)


# --- editing a scene (the panel's editor, with and without JavaScript) ------------------

@pytest.mark.parametrize("state, message", REFUSALS)
def test_editing_in_an_unconsented_mention_is_refused_naming_who_and_why(
        client_for, editor, make_scene, maya, member, other_project, state, message):
    consent_bring_to(maya, member, state, other_project)
    scene = make_scene(prompt="A quiet pier.")

    response = edit(client_for(editor), scene, prompt=TYPED, title="The chase")

    html = response.content.decode()
    assert response.status_code == 200  # htmx swaps the panel in with the message
    assert message in html and 'role="alert"' in html
    assert "The gulls scatter as @Maya runs along the pier, coat flying.</textarea>" in html
    assert 'value="The chase"' in html  # what else they typed is kept too
    version = scene.version
    scene.refresh_from_db()
    assert scene.prompt == "A quiet pier." and scene.title == "Dawn" and scene.version == version
    assert not scene.cast.exists()


@pytest.mark.parametrize("state", ["granted", "other_provider"])
def test_editing_in_a_consented_mention_casts(client_for, editor, make_scene, maya, member, other_project, state):
    consent_bring_to(maya, member, state, other_project)  # no provider is chosen yet: one she allows will do
    scene = make_scene(prompt="A quiet pier.")

    response = edit(client_for(editor), scene, prompt=TYPED)

    assert response.status_code == 200 and "cannot be cast" not in response.content.decode()
    scene.refresh_from_db()
    assert scene.prompt == TYPED and list(scene.cast.all()) == [maya]


def test_without_javascript_the_refusal_is_the_board_with_the_form_as_typed(client_for, editor, make_scene, maya):
    scene = make_scene(prompt="A quiet pier.")

    response = edit(client_for(editor), scene, htmx=False, prompt=TYPED)

    html = response.content.decode()
    assert response.status_code == 400
    assert "Maya has not granted consent yet. Maya cannot be cast." in html
    assert "@Maya runs along the pier, coat flying.</textarea>" in html
    scene.refresh_from_db()
    assert scene.prompt == "A quiet pier." and not scene.cast.exists()


def test_everyone_refused_is_named(client_for, editor, make_scene, maya, team, make_member):
    person = make_member(team, username="ben")
    ben = consent.character_create(team=team, user=person, name="Ben", kind=CharacterKind.PERSON,
                                   person=person, images=[photo()])
    consent.consent_grant(character=ben, user=person)
    consent.consent_revoke(character=ben, user=person)
    scene = make_scene(prompt="A quiet pier.")

    html = edit(client_for(editor), scene, prompt="@Maya and @Ben on the pier.").content.decode()

    assert "Maya has not granted consent yet. Maya cannot be cast." in html
    assert "Ben has revoked consent. Ben cannot be cast." in html
    assert not scene.cast.exists()


def test_someone_cast_before_revoking_does_not_block_other_edits(client_for, editor, make_scene, maya, member):
    consent.consent_grant(character=maya, user=member)
    scene = make_scene(prompt="@Maya on the pier.")
    consent.consent_revoke(character=maya, user=member)  # her takes are withheld; the render gate refuses new ones

    response = edit(client_for(editor), scene, title="Pier, revised", prompt="@Maya on the pier at dusk.")

    assert response.status_code == 200 and "cannot be cast" not in response.content.decode()
    scene.refresh_from_db()
    assert scene.title == "Pier, revised" and scene.prompt == "@Maya on the pier at dusk."


# --- adding a scene ------------------------------------------------------------------

@pytest.mark.parametrize("state, message", REFUSALS)
def test_adding_a_scene_with_an_unconsented_mention_is_refused(
        client_for, editor, project, maya, member, other_project, state, message):
    consent_bring_to(maya, member, state, other_project)

    response = add(client_for(editor), project, TYPED)

    html = response.content.decode()
    assert message in html and 'role="alert"' in html
    assert response["HX-Retarget"] == "#add-scene"  # the add form comes back, not the board
    assert f"{TYPED}</textarea>" in html
    assert not Scene.objects.filter(project=project).exists() and not maya.scenes.exists()


def test_adding_a_scene_without_javascript_shows_the_refusal_in_the_page(client_for, editor, project, maya):
    response = add(client_for(editor), project, TYPED, htmx=False)

    assert response.status_code == 400
    html = response.content.decode()
    assert "Maya has not granted consent yet. Maya cannot be cast." in html and f"{TYPED}</textarea>" in html
    assert not Scene.objects.filter(project=project).exists()


def test_adding_a_scene_with_a_consented_mention_casts(client_for, editor, project, maya, member):
    consent.consent_grant(character=maya, user=member)

    add(client_for(editor), project, TYPED)

    scene = Scene.objects.get(project=project)
    assert scene.prompt == TYPED and list(scene.cast.all()) == [maya]


# --- another team's characters are unknown here -----------------------------------------

@pytest.fixture
def rivals_maya(make_team, make_user):
    """Another team's character with the same name, consent revoked."""
    rival = make_user("rhea")
    other_team = make_team("Rival Pictures", owner=rival)
    theirs = consent.character_create(team=other_team, user=rival, name="Maya", kind=CharacterKind.PERSON,
                                      person=rival, images=[photo()])
    consent.consent_grant(character=theirs, user=rival)
    consent.consent_revoke(character=theirs, user=rival)
    return theirs


def test_another_teams_character_is_never_cast_nor_revealed(client_for, editor, make_scene, rivals_maya):
    scene = make_scene(prompt="A quiet pier.")

    response = edit(client_for(editor), scene, prompt=TYPED)

    html = response.content.decode()
    assert response.status_code == 200
    assert "cannot be cast" not in html and "revoked" not in html  # nothing about their Maya
    scene.refresh_from_db()
    assert scene.prompt == TYPED and not scene.cast.exists()  # plain text here
    assert not rivals_maya.scenes.exists()


def test_our_maya_is_judged_by_her_own_consent_not_a_namesakes(client_for, editor, project, maya, member,
                                                               rivals_maya):
    consent.consent_grant(character=maya, user=member)

    add(client_for(editor), project, TYPED)

    assert list(Scene.objects.get(project=project).cast.all()) == [maya]


# --- other paths that save a prompt -------------------------------------------------------

def test_a_script_whose_text_has_an_at_sign_casts_nobody(client_for, editor, project, maya):
    # Script text never casts (its "@" is stored as a full-width "＠"); ticking a speaker does,
    # and a ticked speaker without consent is refused (test_script_import).
    script = b"INT. HARBOUR - DAY\n\nThe gulls scatter as @Maya runs along the pier.\n"
    client = client_for(editor)
    client.post(reverse("projects:script_upload", args=[project.pk]),
                {"script": SimpleUploadedFile("chase.fountain", script), "split": "heading"})
    pending = ScriptImport.objects.get(project=project)
    url = reverse("projects:script_preview", args=[project.pk, pending.token])

    response = client.post(url, {"mode": "append", "duration": ["4"]})

    assert response.status_code == 302
    scene = project.scenes.get()
    assert "Maya runs along the pier" in scene.prompt and not scene.cast.exists()


def test_a_re_render_prompt_goes_through_the_same_refusal(make_scene, maya, owner):
    scene = make_scene(prompt="A quiet pier.")  # the review page's retake saves its prompt with scene_update
    with pytest.raises(ValidationError, match="Maya has not granted consent yet. Maya cannot be cast."):
        services.scene_update(scene=scene, expected_version=scene.version, user=owner, prompt=TYPED)
    scene.refresh_from_db()
    assert scene.prompt == "A quiet pier." and not scene.cast.exists()


def test_a_re_render_from_review_with_an_unconsented_mention_says_why_and_keeps_the_form(
        client_for, owner, scene, finished_take, maya):
    take = finished_take(scene)
    response = client_for(owner).post(reverse("projects:take_decide", args=[take.pk]), {
        "decision": "changes", "note": "Put Maya in it", "rerender": "1", "prompt": TYPED,
        "idempotency_key": "5b0f8f3e-2c1d-4a0e-9a51-6f1f2b7c9d10"})

    html = response.content.decode()
    assert response.status_code == 422
    assert "Maya has not granted consent yet. Maya cannot be cast." in html
    assert "Put Maya in it" in html and "@Maya runs along the pier, coat flying." in html
    scene.refresh_from_db()
    assert scene.prompt != TYPED and not scene.cast.exists() and scene.renders.count() == 1
