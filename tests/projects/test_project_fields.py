"""Fields of the team's own: owners define them, editors fill them in the panel and on selected frames, frames
show a few, the board filters by them; bad input gets a message and saves nothing."""

import re
from html import unescape

import pytest
from django.urls import reverse

from projects.models import FieldKind, ProjectField, Scene
from projects.storyboard import fields
from projects.storyboard.services import SceneConflict

HX = {"HTTP_HX_REQUEST": "true"}


def frame_titles(html: str) -> list[str]:
    return re.findall(r'data-testid="frame-title">([^<]*)<', html)


@pytest.fixture
def shot_type(project, owner):
    return fields.field_create(project=project, user=owner, name="Shot type", kind=FieldKind.CHOICE,
                               choices="Wide\nMedium\nClose-up")


@pytest.fixture
def lens(project, owner):
    return fields.field_create(project=project, user=owner, name="Lens", kind=FieldKind.TEXT)


@pytest.fixture
def focal(project, owner):
    return fields.field_create(project=project, user=owner, name="Focal length", kind=FieldKind.NUMBER)


@pytest.fixture
def moods(project, owner):
    return fields.field_create(project=project, user=owner, name="Mood", kind=FieldKind.TAGS, choices="Calm")


def set_values(scene, user, **values):
    scene.refresh_from_db()
    return fields.scene_fields_set(scene=scene, user=user, expected_version=scene.version, values=values)


# --- Defining fields -----------------------------------------------------------------------------


def test_an_owner_adds_a_choice_field_from_the_fields_page(client_for, owner, project):
    response = client_for(owner).post(reverse("projects:project_fields", args=[project.pk]),
                                      {"name": " Shot  type ", "kind": "choice", "choices": "Wide\nMedium\nwide\n"},
                                      follow=True)

    assert "Field “Shot type” added." in response.content.decode()
    field = project.fields.get()
    assert (field.name, field.kind, field.choices) == ("Shot type", "choice", ["Wide", "Medium"])


def test_it_refuses_a_field_with_ten_thousand_choices_and_saves_nothing(client_for, owner, project):
    choices = "\n".join(f"Choice {n}" for n in range(10_000))
    response = client_for(owner).post(reverse("projects:project_fields", args=[project.pk]),
                                      {"name": "Location", "kind": "choice", "choices": choices})

    assert response.status_code == 400
    assert "A field offers at most 100 choices" in response.content.decode()
    assert 'value="Location"' in response.content.decode()  # what was typed stays in the form
    assert not project.fields.exists()


def test_it_refuses_a_hundred_and_one_short_choices(project, owner):
    with pytest.raises(Exception, match="at most 100 choices"):
        fields.field_create(project=project, user=owner, name="Take", kind=FieldKind.CHOICE,
                            choices=",".join(str(n) for n in range(101)))
    assert not project.fields.exists()


def test_it_refuses_a_choice_field_without_choices_and_a_name_taken_or_reserved(project, owner, shot_type):
    for name, kind, choices, words in [("Time of day", "choice", "", "List the choices"),
                                       ("shot-type", "text", "", "already has a field named"),
                                       ("View", "text", "", "the board's filter needs the name"),
                                       ("x" * 61, "text", "", "at most 60 characters"),
                                       ("Lens\x00", "text", "", "control characters"),
                                       ("Lens", "colour", "", "text, a number, a choice or tags")]:
        with pytest.raises(Exception, match=words):
            fields.field_create(project=project, user=owner, name=name, kind=kind, choices=choices)
    assert list(project.fields.values_list("name", flat=True)) == ["Shot type"]


def test_only_owners_define_rename_and_delete_fields(client_for, editor, project, shot_type):
    client = client_for(editor)
    page = client.get(reverse("projects:project_fields", args=[project.pk]))
    assert page.status_code == 200 and "Shot type" in page.content.decode()
    assert 'data-testid="field-add"' not in page.content.decode()

    assert client.post(reverse("projects:project_fields", args=[project.pk]),
                       {"name": "Lens", "kind": "text"}).status_code == 403
    assert client.post(reverse("projects:field_update", args=[project.pk, shot_type.pk]),
                       {"name": "Framing"}).status_code == 403
    assert client.post(reverse("projects:field_delete", args=[project.pk, shot_type.pk])).status_code == 403
    assert list(project.fields.values_list("name", flat=True)) == ["Shot type"]


def test_renaming_a_field_keeps_every_scenes_value(client_for, owner, project, shot_type, scene):
    set_values(scene, owner, **{shot_type.key: "Wide"})

    client_for(owner).post(reverse("projects:field_update", args=[project.pk, shot_type.pk]),
                           {"name": "Framing", "choices": "Wide\nTight"})

    board = client_for(owner).get(reverse("projects:project_detail", args=[project.pk])).content.decode()
    assert '<small class="frame-fields">Wide</small>' in board and "Framing" in board  # the filter names it
    assert ProjectField.objects.get(pk=shot_type.pk).choices == ["Wide", "Tight"]


def test_it_refuses_to_take_off_a_choice_scenes_hold_and_keeps_what_the_owner_typed(client_for, owner, project,
                                                                                  shot_type, make_scene):
    one, two = make_scene(title="One"), make_scene(title="Two")
    set_values(one, owner, **{shot_type.key: "Wide"})
    set_values(two, owner, **{shot_type.key: "Wide"})

    response = client_for(owner).post(reverse("projects:field_update", args=[project.pk, shot_type.pk]),
                                      {"name": "Framing", "choices": "Medium\nClose-up\nInsert"})

    html = unescape(response.content.decode())
    assert response.status_code == 400
    assert "Scenes still hold “Wide” (2 scenes): nothing was saved." in html
    assert 'value="Framing"' in html and "Medium\nClose-up\nInsert</textarea>" in html  # nothing typed is lost
    shot_type.refresh_from_db()
    assert (shot_type.name, shot_type.choices) == ("Shot type", ["Wide", "Medium", "Close-up"])


def test_a_choice_no_scene_holds_can_be_taken_off_the_list(client_for, owner, project, shot_type, scene):
    set_values(scene, owner, **{shot_type.key: "Wide"})

    client_for(owner).post(reverse("projects:field_update", args=[project.pk, shot_type.pk]),
                           {"name": "Shot type", "choices": "wide\nMedium"})

    shot_type.refresh_from_db()
    assert shot_type.choices == ["wide", "Medium"]  # the held one, only written otherwise, stays


def test_a_hundred_kilobyte_name_is_refused_and_nothing_is_renamed(client_for, owner, project, shot_type):
    response = client_for(owner).post(reverse("projects:field_update", args=[project.pk, shot_type.pk]),
                                      {"name": "N" * 100_000, "choices": "Wide\nMedium\nClose-up"})
    assert response.status_code == 400
    assert "A field's name is at most 60 characters (this one has 100000)." in unescape(response.content.decode())
    shot_type.refresh_from_db()
    assert shot_type.name == "Shot type"


def test_deleting_a_field_asks_first_saying_how_many_scenes_hold_a_value(client_for, owner, project, shot_type,
                                                                         make_scene):
    one, two, _three = (make_scene(title=t) for t in ("One", "Two", "Three"))
    set_values(one, owner, **{shot_type.key: "Wide"})
    set_values(two, owner, **{shot_type.key: "Medium"})
    client = client_for(owner)

    asked = client.get(reverse("projects:field_delete", args=[project.pk, shot_type.pk])).content.decode()
    assert "2 scenes hold a value of it" in asked
    assert project.fields.exists()  # asking deletes nothing

    done = client.post(reverse("projects:field_delete", args=[project.pk, shot_type.pk]), follow=True)
    assert "Field “Shot type” deleted, with its values on 2 scenes." in done.content.decode()
    assert not project.fields.exists()
    assert all(s.field_values == {} for s in Scene.objects.filter(project=project))


# --- Filling values --------------------------------------------------------------------------------


def test_values_are_cleaned_to_what_the_field_holds(project, owner, scene, shot_type, lens, focal, moods):
    set_values(scene, owner, **{shot_type.key: " wide ", lens.key: "  35mm   anamorphic ",
                                focal.key: "2,80", moods.key: "calm, tense,Calm, ,"})

    scene.refresh_from_db()
    assert scene.field_values == {shot_type.key: "Wide", lens.key: "35mm anamorphic", focal.key: "2.8",
                                  moods.key: ["Calm", "tense"]}
    assert scene.version == 2


@pytest.mark.parametrize("which, typed, words", [
    ("focal", "thirty-five", "Focal length is a number: “thirty-five” is not one"),
    ("focal", "NaN", "is not one"),
    ("focal", "1e12", "below a billion"),
    ("shot_type", "Dutch angle", "“Dutch angle” is not one of Shot type's choices"),
    ("lens", "x" * 100_000, "Lens can be at most 200 characters (this one has 100000)"),
    ("lens", "50mm\x00", "control characters"),
    ("moods", ",".join(f"t{n}" for n in range(21)), "at most 20 tags"),
])
def test_it_refuses_a_bad_value_with_a_message_and_saves_nothing(client_for, editor, scene, shot_type, lens, focal,
                                                                 moods, which, typed, words):
    field = {"focal": focal, "shot_type": shot_type, "lens": lens, "moods": moods}[which]
    response = client_for(editor).post(reverse("projects:scene_fields", args=[scene.pk]), {
        "version": scene.version, f"field_{lens.key}": "50mm", f"field_{field.key}": typed}, **HX)

    html = response.content.decode()
    assert response.status_code == 200  # htmx swaps the panel in with the message
    assert words in unescape(html)
    scene.refresh_from_db()
    assert scene.field_values == {} and scene.version == 1
    if len(typed) < 1000 and "\x00" not in typed:
        assert typed in unescape(html)  # what was typed stays in the form


def test_an_editor_fills_fields_in_the_panel_and_the_frame_shows_them(client_for, editor, scene, shot_type, lens):
    response = client_for(editor).post(reverse("projects:scene_fields", args=[scene.pk]), {
        "version": scene.version, f"field_{shot_type.key}": "Close-up", f"field_{lens.key}": "85mm"}, **HX)

    html = response.content.decode()
    assert 'data-testid="fields-saved"' in html
    # The frame is swapped out of band with its values, in the project's order of fields.
    frame = re.search(r'<li id="frame-%d"[^>]*hx-swap-oob.*?</li>' % scene.pk, html, re.S).group(0)
    assert '<small class="frame-fields">Close-up · 85mm</small>' in frame
    scene.refresh_from_db()
    assert scene.field_values == {shot_type.key: "Close-up", lens.key: "85mm"} and scene.updated_by == editor


def test_a_frame_shows_three_short_values_and_counts_the_rest(client_for, owner, project, scene, shot_type, lens,
                                                              focal, moods):
    set_values(scene, owner, **{shot_type.key: "Wide", lens.key: "Cooke S4 32mm with a diffusion filter, 1/8",
                                focal.key: "32", moods.key: "Calm"})

    html = client_for(owner).get(reverse("projects:project_detail", args=[project.pk])).content.decode()

    assert '<small class="frame-fields">Wide · Cooke S4 32mm with a di… · 32 +1</small>' in html
    panel = client_for(owner).get(reverse("projects:scene_panel", args=[project.pk, scene.pk])).content.decode()
    assert 'value="Cooke S4 32mm with a diffusion filter, 1/8"' in panel and 'value="Calm"' in panel  # all of it


def test_a_teammates_save_meanwhile_merges_by_field_and_a_clash_saves_nothing(owner, editor, scene, shot_type,
                                                                              lens):
    opened = scene.version
    base = {shot_type.key: "", lens.key: ""}
    set_values(scene, owner, **{shot_type.key: "Wide"})  # the teammate, first

    fields.scene_fields_set(scene=scene, user=editor, expected_version=opened, base=base,
                            values={shot_type.key: "", lens.key: "50mm"})
    scene.refresh_from_db()
    assert scene.field_values == {shot_type.key: "Wide", lens.key: "50mm"}  # theirs kept, mine added

    with pytest.raises(SceneConflict) as clash:
        fields.scene_fields_set(scene=scene, user=editor, expected_version=opened, base=base,
                                values={shot_type.key: "Medium", lens.key: ""})
    assert clash.value.fields == ["Shot type"]
    scene.refresh_from_db()
    assert scene.field_values[shot_type.key] == "Wide"


def test_a_clash_in_the_panel_says_who_changed_what_and_keeps_what_was_typed(client_for, owner, editor, scene,
                                                                              shot_type):
    opened = scene.version
    set_values(scene, owner, **{shot_type.key: "Wide"})

    response = client_for(editor).post(reverse("projects:scene_fields", args=[scene.pk]), {
        "version": opened, f"field_{shot_type.key}": "Medium", f"base_field_{shot_type.key}": ""}, **HX)

    html = response.content.decode()
    assert "A teammate changed Shot type meanwhile: nothing was saved." in html
    assert "<option selected>Medium</option>" in html
    scene.refresh_from_db()
    assert scene.field_values == {shot_type.key: "Wide"}
    assert f'name="version" value="{scene.version}"' in html  # saving again is a decision on their version


def test_viewers_see_the_values_and_cannot_save_them(client_for, owner, viewer, project, scene, lens):
    set_values(scene, owner, **{lens.key: "50mm"})
    client = client_for(viewer)

    panel = client.get(reverse("projects:scene_panel", args=[project.pk, scene.pk])).content.decode()
    assert "<dt>Lens</dt><dd>50mm</dd>" in panel and 'name="field_' not in panel
    assert client.post(reverse("projects:scene_fields", args=[scene.pk]),
                       {"version": 2, f"field_{lens.key}": "85mm"}).status_code == 403


# --- Bulk ------------------------------------------------------------------------------------------


def test_the_bulk_bar_sets_a_field_on_the_selected_frames(client_for, editor, project, make_scene, shot_type):
    one, two, three = (make_scene(title=t) for t in ("One", "Two", "Three"))

    response = client_for(editor).post(reverse("projects:scene_bulk", args=[project.pk]), {
        "action": "field", "field": shot_type.pk, "value": "close-up", "scene": [one.pk, three.pk]}, follow=True)

    assert "Shot type set to Close-up on 2 scenes." in response.content.decode()
    values = {s.title: s.field_values for s in Scene.objects.filter(project=project)}
    assert values == {"One": {shot_type.key: "Close-up"}, "Two": {}, "Three": {shot_type.key: "Close-up"}}


def test_the_bulk_bar_refuses_a_bad_value_and_changes_no_scene(client_for, editor, project, make_scene, focal):
    one, two = make_scene(title="One"), make_scene(title="Two")

    response = client_for(editor).post(reverse("projects:scene_bulk", args=[project.pk]), {
        "action": "field", "field": focal.pk, "value": "wide", "scene": [one.pk, two.pk]}, follow=True)

    assert "Focal length is a number: “wide” is not one" in response.content.decode()
    assert all(s.field_values == {} and s.version == 1 for s in Scene.objects.filter(project=project))


def test_the_bulk_bar_refuses_another_projects_field(client_for, owner, editor, project, team, make_scene):
    other = fields.field_create(project=type(project).objects.create(team=team, name="Other"), user=owner,
                                name="Lens", kind="text")
    one = make_scene(title="One")

    response = client_for(editor).post(reverse("projects:scene_bulk", args=[project.pk]), {
        "action": "field", "field": other.pk, "value": "50mm", "scene": [one.pk]}, follow=True)

    assert "Choose one of this project's fields." in unescape(response.content.decode())
    one.refresh_from_db()
    assert one.field_values == {}


# --- The board's filter ----------------------------------------------------------------------------


def test_the_board_filters_by_a_field_named_in_the_address(client_for, owner, project, make_scene, shot_type, lens):
    one, two, three = (make_scene(title=t) for t in ("One", "Two", "Three"))
    set_values(one, owner, **{shot_type.key: "Wide", lens.key: "35mm"})
    set_values(two, owner, **{shot_type.key: "Close-up", lens.key: "85mm"})
    set_values(three, owner, **{shot_type.key: "Wide", lens.key: "85mm macro"})
    client = client_for(owner)
    board = reverse("projects:project_detail", args=[project.pk])

    assert frame_titles(client.get(board, {"shot_type": "wide"}).content.decode()) == ["One", "Three"]
    both = client.get(board, {"shot_type": "Wide", "lens": "85"}).content.decode()
    assert frame_titles(both) == ["Three"]
    # A drop names the frame it lands next to (test_board_pages.py), so a filtered board keeps its drag.
    assert "1 of 3 scenes shown" in both
    assert frame_titles(client.get(board, {"shot_type": "", "nobody": "x"}).content.decode()) == ["One", "Two",
                                                                                                    "Three"]


def test_the_board_filters_tags_by_any_one_tag(client_for, owner, project, make_scene, moods):
    one, two = make_scene(title="One"), make_scene(title="Two")
    set_values(one, owner, **{moods.key: "Calm, Night"})
    set_values(two, owner, **{moods.key: "Tense"})

    html = client_for(owner).get(reverse("projects:project_detail", args=[project.pk]), {"mood": "night"})

    assert frame_titles(html.content.decode()) == ["One"]


# --- Fields in board revisions -------------------------------------------------------------------


def test_setting_a_field_on_selected_scenes_keeps_a_revision_that_compares_and_restores(
        project, editor, make_scene, shot_type):
    from projects.models import BoardRevision, RevisionKind
    from projects.storyboard import restore, revisions

    dawn, boats = make_scene(title="Dawn"), make_scene(title="Boats")
    set_values(dawn, editor, **{shot_type.key: "Medium"})
    fields.scene_bulk_fields_set(project=project, user=editor, scene_ids=[dawn.pk, boats.pk], field=shot_type,
                                 value="Wide")

    before, after = BoardRevision.objects.filter(project=project).order_by("number")
    assert (before.kind, after.kind) == (RevisionKind.EDITS, RevisionKind.BULK_FIELDS)
    contents = revisions.revision_contents([before, after])
    diff = revisions.compare_boards(revisions.revision_board(before, contents),
                                    revisions.revision_board(after, contents))
    changes = {scene.title: [(f.label, f.before_words, f.after_words) for f in scene.fields] for scene in diff.changed}
    assert changes == {"Dawn": [("Fields", "Shot type: Medium", "Shot type: Wide")],
                       "Boats": [("Fields", "none", "Shot type: Wide")]}

    restore.revision_restore(revision=before, user=editor)

    dawn.refresh_from_db(), boats.refresh_from_db()
    assert (dawn.field_values, boats.field_values) == ({shot_type.key: "Medium"}, {})


def test_a_restored_value_whose_field_was_deleted_since_is_named_in_the_restores_notes(
        project, owner, editor, make_scene, shot_type, lens):
    from projects.storyboard import restore

    dawn = make_scene(title="Dawn")
    fields.scene_bulk_fields_set(project=project, user=editor, scene_ids=[dawn.pk], field=lens, value="35mm")
    kept = project.revisions.order_by("-number").first()
    fields.scene_bulk_fields_set(project=project, user=editor, scene_ids=[dawn.pk], field=shot_type, value="Wide")
    fields.field_delete(field=lens, user=owner)

    result = restore.revision_restore(revision=kept, user=editor)

    dawn.refresh_from_db()
    assert dawn.field_values == {}  # Shot type was not set then; Lens is gone
    assert any("Lens could not come back" in note for note in result.notes)
