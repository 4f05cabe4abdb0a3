"""Script in: upload → preview (nothing saved) → import as scenes, casting only what was ticked."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from projects.characters import consent
from projects.models import Activity, ActivityKind, CharacterKind, DialogueLine, Scene, ScriptImport
from projects.storyboard.casting import scene_text
from tests.factories import photo

SCRIPTS = Path(__file__).resolve().parent.parent / "fixtures" / "scripts"


def upload(name="harbour.fountain", *, as_name=None, content=None):
    data = content if content is not None else (SCRIPTS / name).read_bytes()
    return SimpleUploadedFile(as_name or name, data, content_type="application/octet-stream")


@pytest.fixture
def anna(team, owner):
    return consent.character_create(team=team, user=owner, name="Anna", kind=CharacterKind.FICTIONAL,
                                    declares_fictional=True, images=[photo()])


@pytest.fixture
def ben_revoked(team, make_member):
    person = make_member(team, username="ben")
    ben = consent.character_create(team=team, user=person, name="Ben", kind=CharacterKind.PERSON,
                                   person=person, images=[photo()])
    consent.consent_grant(character=ben, user=person)
    consent.consent_revoke(character=ben, user=person)
    return ben


def preview(client, project, name="harbour.fountain", **extra):
    response = client.post(reverse("projects:script_upload", args=[project.pk]),
                           {"script": upload(name, **{k: v for k, v in extra.items() if k in ("as_name", "content")}),
                            "split": extra.get("split", "heading")})
    return response


def pending_for(project):
    return ScriptImport.objects.get(project=project)


def confirm_url(project):
    return reverse("projects:script_preview", args=[project.pk, pending_for(project).token])


def test_preview_shows_the_scenes_and_creates_nothing(client_for, editor, project, anna):
    client = client_for(editor)

    response = preview(client, project)
    assert response.status_code == 302
    page = client.get(response["Location"])

    assert page.status_code == 200
    body = page.content.decode()
    assert "INT. KITCHEN - DAY" in body and "ANNA: (sleepy) Morning." in body
    assert "Not in the character library: BEN." in body
    assert f'name="cast" value="{anna.pk}"' in body
    assert project.scenes.count() == 0
    assert not Activity.objects.filter(kind=ActivityKind.SCRIPT_IMPORTED).exists()


def lines_of(scene) -> list[tuple]:
    return list(scene.lines.values_list("speaker", "parenthetical", "text", "character__name"))


def test_import_creates_the_scenes_in_order_with_their_action_and_dialogue(client_for, editor, project, scene):
    client = client_for(editor)
    preview(client, project)

    response = client.post(confirm_url(project), {"mode": "append", "duration": ["6", "4"]})

    assert response.status_code == 302
    scenes = list(project.scenes.order_by("position"))
    assert [s.title for s in scenes] == ["Dawn", "INT. KITCHEN - DAY", "EXT. HARBOUR - DAWN"]
    # The action is the prompt; the dialogue is lines, no longer pasted into it.
    assert scenes[1].prompt == "Anna pours coffee. The radio mumbles the shipping forecast."
    assert lines_of(scenes[1]) == [("ANNA", "sleepy", "Morning.", None),
                                   ("BEN", "", "Coffee? Write to ben\uff20example.com.", None),
                                   ("ANNA", "", "Always.", None), ("BEN", "at the same time", "Always.", None)]
    assert scenes[2].prompt == "WIDE ON THE BOATS\nGulls circle over the trawlers.\nCLOSE ON ANNA"
    assert lines_of(scenes[2]) == [("ANNA", "", "We sail at noon.", None)]
    assert [s.duration for s in scenes[1:]] == [6, 4]
    assert scenes[1].size == project.default_size
    assert not ScriptImport.objects.exists()  # single use
    entry = Activity.objects.get(kind=ActivityKind.SCRIPT_IMPORTED)
    assert entry.actor == editor and entry.text == "imported a Fountain script: 2 scenes"
    feed = client.get(reverse("projects:project_activity", args=[project.pk]), {"kind": "edits"})
    assert "imported a Fountain script: 2 scenes" in feed.content.decode()


def test_a_final_draft_file_named_txt_imports_as_final_draft(client_for, editor, project):
    client = client_for(editor)
    preview(client, project, "harbour.fdx", as_name="notes.txt")

    assert pending_for(project).kind == "Final Draft"


def test_nobody_is_cast_unless_ticked(client_for, editor, project, anna):
    client = client_for(editor)
    preview(client, project)
    client.post(confirm_url(project), {"mode": "append", "duration": ["6", "4"]})

    assert all(not s.cast.exists() for s in project.scenes.all())
    assert "@" not in "".join(project.scenes.values_list("prompt", flat=True))
    assert not DialogueLine.objects.filter(character__isnull=False).exists()


def test_a_ticked_character_is_cast_where_they_speak(client_for, editor, project, anna):
    client = client_for(editor)
    preview(client, project)

    client.post(confirm_url(project), {"mode": "append", "duration": ["6", "4"], "cast": [str(anna.pk)]})

    kitchen, harbour = project.scenes.order_by("position")
    assert list(kitchen.cast.all()) == [anna] and list(harbour.cast.all()) == [anna]
    assert lines_of(kitchen)[:2] == [("Anna", "sleepy", "Morning.", "Anna"),
                                     ("BEN", "", "Coffee? Write to ben\uff20example.com.", None)]
    assert "@Anna: (sleepy) Morning." in scene_text(kitchen)  # as the take sends it
    assert Activity.objects.get(kind=ActivityKind.SCRIPT_IMPORTED).text.endswith("; cast Anna")


def test_a_character_whose_consent_is_revoked_cannot_be_cast(client_for, editor, project, ben_revoked):
    client = client_for(editor)
    preview(client, project)
    page = client.get(confirm_url(project)).content.decode()
    assert "Ben has revoked consent." in page

    response = client.post(confirm_url(project), {"mode": "append", "duration": ["6", "4"],
                                                  "cast": [str(ben_revoked.pk)]})

    assert response.status_code == 400
    assert "Ben has revoked consent. Ben cannot be cast." in response.content.decode()
    assert project.scenes.count() == 0


def test_a_character_who_does_not_speak_cannot_be_cast(client_for, editor, project, team, owner):
    stranger = consent.character_create(team=team, user=owner, name="Zed", kind=CharacterKind.FICTIONAL,
                                        declares_fictional=True, images=[photo()])
    client = client_for(editor)
    preview(client, project)

    response = client.post(confirm_url(project), {"mode": "append", "duration": ["6", "4"],
                                                  "cast": [str(stranger.pk), "not-a-number"]})

    assert response.status_code == 400 and "Cast only characters who speak" in response.content.decode()
    assert project.scenes.count() == 0


def test_a_bad_duration_is_named_and_nothing_is_created(client_for, editor, project):
    client = client_for(editor)
    preview(client, project)

    response = client.post(confirm_url(project), {"mode": "append", "duration": ["6", "99"]})

    assert response.status_code == 400
    body = response.content.decode()
    assert "Scene 2: the duration must be a whole number of seconds from 1 to 20." in body
    assert 'value="99"' in body  # what the user typed is kept
    assert project.scenes.count() == 0 and ScriptImport.objects.exists()


def test_replace_without_takes_swaps_the_storyboard(client_for, editor, project, make_scene):
    make_scene(title="Old one")
    make_scene(title="Old two")
    client = client_for(editor)
    preview(client, project)

    client.post(confirm_url(project), {"mode": "replace", "duration": ["6", "4"]})

    assert list(project.scenes.order_by("position").values_list("title", "position")) == [
        ("INT. KITCHEN - DAY", 0), ("EXT. HARBOUR - DAWN", 1)]
    assert Activity.objects.get(kind=ActivityKind.SCRIPT_IMPORTED).text.endswith(
        "replacing 2 scenes (moved to the trash)")


def test_replace_over_takes_needs_the_confirmation_that_counts_them(client_for, editor, project, scene, finished_take):
    finished_take(scene)
    client = client_for(editor)
    preview(client, project)
    page = client.get(confirm_url(project)).content.decode()
    assert "move that scene and its 1 take to the trash, where it can be restored for 30 days" in page

    refused = client.post(confirm_url(project), {"mode": "replace", "duration": ["6", "4"]})
    assert refused.status_code == 400
    assert "Replacing moves the scene on the storyboard and its takes (1) to the trash" in refused.content.decode()
    assert list(project.scenes.all()) == [scene]

    done = client.post(confirm_url(project), {"mode": "replace", "duration": ["6", "4"], "takes_to_delete": "1"},
                       follow=True)
    assert not Scene.objects.filter(pk=scene.pk).exists()
    assert project.scenes.count() == 2
    # Replaced, not lost: the old scene and its take wait in the trash, and the board offers them back.
    assert list(Scene.all_objects.in_trash()) == [scene] and scene.renders.count() == 1
    assert 'data-testid="trash-undo"' in done.content.decode()


def test_a_malformed_file_shows_the_line_in_the_page(client_for, editor, project):
    response = preview(client_for(editor), project, "unclosed_note.fountain")

    assert response.status_code == 400
    assert "Line 7: a note opened with [[ is never closed" in response.content.decode()
    assert not ScriptImport.objects.exists()


def test_no_file_or_a_binary_file_is_a_message_not_an_error(client_for, editor, project):
    client = client_for(editor)
    empty = client.post(reverse("projects:script_upload", args=[project.pk]), {"split": "heading"})
    binary = preview(client, project, content=b"\x89PNG\r\n\x1a\n\x00\x00")

    assert empty.status_code == 400 and "Choose a Fountain" in empty.content.decode()
    assert binary.status_code == 400 and "Line 1" in binary.content.decode()


def test_a_preview_is_used_once(client_for, editor, project):
    client = client_for(editor)
    preview(client, project)
    url = confirm_url(project)
    client.post(url, {"mode": "append", "duration": ["6", "4"]})

    assert client.post(url, {"mode": "append", "duration": ["6", "4"]}).status_code == 404
    assert project.scenes.count() == 2


def test_reviewers_cannot_import(client_for, reviewer, project):
    client = client_for(reviewer)

    assert client.get(reverse("projects:script_upload", args=[project.pk])).status_code == 403
    assert preview(client, project).status_code == 403


def test_another_teams_user_gets_404_and_cannot_use_a_preview(client_for, editor, outsider, project):
    preview(client_for(editor), project)
    url = confirm_url(project)
    client = client_for(outsider)

    assert client.get(reverse("projects:script_upload", args=[project.pk])).status_code == 404
    assert client.post(url, {"mode": "append", "duration": ["6", "4"]}).status_code == 404
    assert client.get(reverse("projects:script_export", args=[project.pk])).status_code == 404
    assert project.scenes.count() == 0


def test_a_teammates_preview_is_theirs_alone(client_for, editor, owner, project):
    preview(client_for(editor), project)
    url = confirm_url(project)

    assert client_for(owner).post(url, {"mode": "append", "duration": ["6", "4"]}).status_code == 404


def test_export_downloads_the_storyboard_as_fountain(client_for, reviewer, project, make_scene):
    make_scene(title="INT. KITCHEN - DAY", prompt="Anna pours coffee.\nANNA: (sleepy) Morning.")
    make_scene(title="Harbour", prompt="Gulls circle.")

    response = client_for(reviewer).get(reverse("projects:script_export", args=[project.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="harbour-story.fountain"'
    assert response.content.decode() == (
        "Title: Harbour Story\n\nINT. KITCHEN - DAY\n\nAnna pours coffee.\n\nANNA\n(sleepy)\nMorning.\n\n"
        ".HARBOUR\n\nGulls circle.\n")


def test_import_export_import_keeps_scenes_headings_and_dialogue(client_for, editor, project, team, owner):
    from projects.storyboard import services

    client = client_for(editor)
    preview(client, project)
    client.post(confirm_url(project), {"mode": "append", "duration": ["6", "4"]})
    exported = client.get(reverse("projects:script_export", args=[project.pk])).content
    again = services.project_create(team=team, user=owner, name="Again")

    preview(client, again, content=exported)
    client.post(confirm_url(again), {"mode": "append", "duration": ["6", "4"]})

    first = [(s.title, s.prompt, lines_of(s)) for s in project.scenes.order_by("position")]
    second = [(s.title, s.prompt, lines_of(s)) for s in again.scenes.order_by("position")]
    assert second == first and first[0][2]
