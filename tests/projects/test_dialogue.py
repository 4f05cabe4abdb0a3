"""A scene's dialogue in its side panel: lines added, edited, moved and deleted, cast by consent,
sent with the prompt, and every bad input answered in words."""

import pytest
from django.urls import reverse

from generation.renders import services as renders
from projects.characters import consent
from projects.models import Activity, ChangeEvent, ChangeKind, CharacterKind, DialogueLine, Role
from projects.storyboard import services
from projects.storyboard.dialogue import services as dialogue
from tests.factories import consent_bring_to, photo

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def anna(team, owner):
    return consent.character_create(team=team, user=owner, name="Anna", kind=CharacterKind.FICTIONAL,
                                    declares_fictional=True, images=[photo()])


@pytest.fixture
def maya(team, make_member):
    person = make_member(team, Role.EDITOR, "maya")
    return consent.character_create(team=team, user=person, name="Maya", kind=CharacterKind.PERSON,
                                    person=person, images=[photo()])


def add(client, scene, *, htmx=True, **fields):
    data = {"character": "", "speaker": "ANNA", "parenthetical": "", "text": "Morning.", **fields}
    return client.post(reverse("projects:line_add", args=[scene.pk]), data, **(HX if htmx else {}))


def edit(client, line, *, opened=None, htmx=True, **fields):
    """The edit form as the panel posts it: the values it was opened with as its base, and the changes."""
    opened = opened or line
    base = {"character": opened.character_id or "", "speaker": "" if opened.character_id else opened.speaker,
            "parenthetical": opened.parenthetical, "text": opened.text}
    data = {**base, "version": opened.version, **{f"base_{k}": v for k, v in base.items()}, **fields}
    return client.post(reverse("projects:line_edit", args=[line.scene_id, line.pk]), data, **(HX if htmx else {}))


def say(scene, user, text, speaker="ANNA", character=None, parenthetical=""):
    return dialogue.dialogue_line_add(scene=scene, user=user, speaker=(character, speaker), text=text,
                                      parenthetical=parenthetical)


def sent(scene):
    """The prompt a take of the scene would send (the previz's recipe: the same for every provider)."""
    connection = scene.project.team.connections.get(kind="local")
    return renders.recipe_for(scene=scene, connection=connection, model_id="previz-animatic-1")["prompt"]


# --- adding ---------------------------------------------------------------------------------------


def test_a_line_added_in_the_panel_is_shown_and_sent_after_the_prompt(client_for, editor, scene):
    response = add(client_for(editor), scene, speaker="Anna", parenthetical="(sleepy)", text="Morning.")

    assert response.status_code == 200
    body = response.content.decode()
    assert f'id="dialogue-{scene.pk}"' in body and "Line added." in body
    assert f'id="frame-{scene.pk}" class="frame' in body and 'hx-swap-oob="outerHTML"' in body  # the card too
    [line] = scene.lines.all()
    assert (line.speaker, line.parenthetical, line.text, line.character) == ("Anna", "sleepy", "Morning.", None)
    assert sent(scene) == "A harbour at dawn, mist on the water.\nAnna: (sleepy) Morning."


def test_a_line_spoken_by_a_character_casts_them(client_for, editor, scene, anna):
    add(client_for(editor), scene, character=str(anna.pk), speaker="", text="We sail at noon.")

    assert list(scene.cast.all()) == [anna]
    assert scene.lines.get().character == anna
    assert sent(scene).endswith("@Anna: We sail at noon.")


@pytest.mark.parametrize("state, message", [
    ("none", "Maya has not granted consent yet. Maya cannot be cast."),
    ("revoked", "Maya has revoked consent. Maya cannot be cast."),
])
def test_a_character_whose_consent_does_not_allow_it_cannot_speak(client_for, editor, scene, maya, state, message,
                                                                   project, team, owner):
    consent_bring_to(maya, maya.person, state, services.project_create(team=team, user=owner, name="Other"))

    response = add(client_for(editor), scene, character=str(maya.pk), speaker="", text="Over here!")

    assert response.status_code == 200  # htmx swaps the section, whose message says why
    body = response.content.decode()
    assert message in body and "Over here!" in body  # what was typed is kept
    assert not scene.lines.exists() and not scene.cast.exists()


def test_another_teams_character_is_refused_in_words(client_for, editor, scene, outsider):
    theirs = consent.character_create(team=outsider.memberships.get().team, user=outsider, name="Mallory",
                                      kind=CharacterKind.FICTIONAL, declares_fictional=True, images=[photo()])

    response = add(client_for(editor), scene, character=str(theirs.pk), speaker="", text="Hello.")

    assert "That character is not in your team&#x27;s library" in response.content.decode()
    assert "Mallory" not in response.content.decode()
    assert not scene.lines.exists()


@pytest.mark.parametrize("fields, message", [
    ({"text": "   "}, "Write the line."),
    ({"text": "la " * 3334}, "A line is at most 1000 characters (this one has 10001): split a long speech"),
    ({"text": "Mor\x00ning."}, "control characters"),
    ({"speaker": "AN\x07NA"}, "control characters"),
    ({"speaker": ""}, "Say who speaks the line: choose a character or type a name."),
    ({"speaker": "R2-D2 <script>"}, "A speaker&#x27;s name is letters, spaces"),
    ({"speaker": "A" * 81}, "A speaker&#x27;s name is at most 80 characters."),
    ({"parenthetical": "(wry (very))"}, "Write the parenthetical without brackets"),
    ({"character": "99999999999999999999999"}, "That character is not in your team&#x27;s library"),
])
def test_a_bad_line_gets_a_message_and_saves_nothing(client_for, editor, scene, fields, message):
    client = client_for(editor)

    answer = add(client, scene, **fields)
    page = add(client, scene, htmx=False, **fields)

    assert answer.status_code == 200 and message in answer.content.decode()
    assert page.status_code == 400 and message in page.content.decode()  # without JavaScript: the page, typed
    assert not scene.lines.exists()


def test_a_line_that_would_make_the_scene_too_long_for_a_provider_is_refused(client_for, editor, make_scene):
    scene = make_scene(prompt="x" * 31990)

    response = add(client_for(editor), scene, text="This line does not fit.")

    assert "a provider takes at most 32,000" in response.content.decode()
    assert not scene.lines.exists()


def test_without_javascript_a_saved_line_goes_back_to_the_panel(client_for, editor, scene):
    response = add(client_for(editor), scene, htmx=False)

    assert response.status_code == 302
    assert response["Location"] == reverse("projects:scene_panel", args=[scene.project_id, scene.pk])
    assert scene.lines.count() == 1


def test_reviewers_and_viewers_read_lines_but_cannot_change_them(client_for, reviewer, viewer, editor, scene):
    line = say(scene, editor, "Morning.")
    for user in (reviewer, viewer):
        client = client_for(user)
        panel = client.get(reverse("projects:scene_panel", args=[scene.project_id, scene.pk]), **HX).content.decode()
        assert "Morning." in panel and 'data-testid="line-add"' not in panel
        assert add(client, scene).status_code == 403
        assert edit(client, line, text="Evening.").status_code == 403
        assert client.post(reverse("projects:line_delete", args=[line.scene_id, line.pk])).status_code == 403
    assert scene.lines.get().text == "Morning."


# --- editing, conflicts ------------------------------------------------------------------------------


def test_an_edit_is_saved_shown_live_and_marks_the_scene_edited(client_for, editor, scene):
    line = say(scene, editor, "Morning.")
    version = scene.lines.get().version
    before = ChangeEvent.objects.count()

    response = edit(client_for(editor), line, parenthetical="sleepy", text="Morning, Ben.")

    assert response.status_code == 200 and "Line saved." in response.content.decode()
    line.refresh_from_db()
    assert (line.parenthetical, line.text, line.version) == ("sleepy", "Morning, Ben.", version + 1)
    [event] = ChangeEvent.objects.all()[before:]
    assert event.kind == ChangeKind.SCENE_EDITED and event.data["fields"] == ["dialogue"]
    assert Activity.objects.filter(text=f"edited {scene.title}: dialogue").count() == 2


def test_teammates_editing_different_parts_of_a_line_both_keep_their_change(client_for, editor, owner, scene):
    line = say(scene, editor, "Morning.")
    opened = DialogueLine.objects.get(pk=line.pk)
    edit(client_for(owner), line, opened=opened, parenthetical="sleepy")

    response = edit(client_for(editor), line, opened=opened, text="Morning, Ben.")

    assert response.status_code == 200
    line.refresh_from_db()
    assert (line.parenthetical, line.text) == ("sleepy", "Morning, Ben.")


def test_the_same_words_changed_twice_ask_which_wins_and_save_nothing(client_for, editor, owner, scene):
    line = say(scene, editor, "Morning.")
    opened = DialogueLine.objects.get(pk=line.pk)
    edit(client_for(owner), line, opened=opened, text="Evening.")

    response = edit(client_for(editor), line, opened=opened, text="Good morning.")

    body = response.content.decode()
    assert response.status_code == 200 and 'data-testid="line-conflict"' in body
    assert "changed this line while you were editing it" in body and "ANNA: Evening." in body
    assert "Good morning." in body  # what this person typed is still in the form, open
    line.refresh_from_db()
    assert line.text == "Evening."

    theirs = DialogueLine.objects.get(pk=line.pk)  # the re-armed form is based on their version
    assert edit(client_for(editor), line, opened=theirs, text="Good morning.").status_code == 200
    line.refresh_from_db()
    assert line.text == "Good morning."


def test_editing_a_line_a_teammate_deleted_offers_what_was_typed_to_add_again(client_for, editor, owner, scene):
    line = say(scene, editor, "Morning.")
    opened = DialogueLine.objects.get(pk=line.pk)
    dialogue.dialogue_line_delete(line=line, user=owner, expected_version=line.version)

    response = edit(client_for(editor), line, opened=opened, text="Good morning.")

    body = response.content.decode()
    assert response.status_code == 200 and "A teammate deleted this line while you were editing it" in body
    assert "Good morning.</textarea>" in body
    assert not scene.lines.exists()


# --- moving and deleting -----------------------------------------------------------------------------


def test_moving_a_line_swaps_it_with_its_neighbour_and_their_places_in_the_action(client_for, editor, make_scene):
    scene = make_scene(prompt="Anna pours coffee.\nThe radio mumbles.")
    first, second = say(scene, editor, "Morning."), say(scene, editor, "Coffee?", speaker="BEN")
    DialogueLine.objects.filter(pk=first.pk).update(after_prompt_lines=1)

    response = client_for(editor).post(reverse("projects:line_move", args=[scene.pk, second.pk, "up"]), **HX)

    assert response.status_code == 200
    assert sent(scene) == "Anna pours coffee.\nBEN: Coffee?\nThe radio mumbles.\nANNA: Morning."
    assert client_for(editor).post(reverse("projects:line_move", args=[scene.pk, second.pk, "sideways"])).status_code == 404


def test_deleting_a_line_a_teammate_just_changed_asks_first(client_for, editor, owner, scene):
    line = say(scene, editor, "Morning.")
    seen = line.version
    edit(client_for(owner), line, text="Evening.")

    response = client_for(editor).post(reverse("projects:line_delete", args=[line.scene_id, line.pk]), {"version": seen}, **HX)

    assert "changed this line since you opened it" in response.content.decode()
    assert scene.lines.get().text == "Evening."
    fresh = scene.lines.get().version
    client_for(editor).post(reverse("projects:line_delete", args=[line.scene_id, line.pk]), {"version": fresh}, **HX)
    assert not scene.lines.exists()


def test_the_last_line_of_a_scene_without_action_cannot_be_deleted(client_for, editor, scene):
    line = say(scene, editor, "Morning.")
    scene.refresh_from_db()
    services.scene_update(scene=scene, expected_version=scene.version, user=editor, prompt="")

    response = client_for(editor).post(reverse("projects:line_delete", args=[line.scene_id, line.pk]), {"version": line.version},
                                       **HX)

    assert "write what happens in its prompt before deleting its last line" in response.content.decode()
    assert scene.lines.exists()


# --- the scene around its lines ----------------------------------------------------------------------


def test_a_scene_with_lines_may_leave_its_prompt_empty_one_without_may_not(client_for, editor, make_scene):
    talking, silent = make_scene(title="Talk"), make_scene(title="Silent")
    say(talking, editor, "Morning.")
    talking.refresh_from_db()
    client = client_for(editor)

    def clear(scene):
        return client.post(reverse("projects:scene_edit", args=[scene.pk]), {
            "title": scene.title, "prompt": "", "duration": scene.duration, "size": scene.size,
            "camera_notes": "", "version": scene.version}, **HX)

    assert clear(talking).status_code == 200
    talking.refresh_from_db()
    assert talking.prompt == "" and sent(talking) == "ANNA: Morning."
    assert "Describe what happens in the scene." in clear(silent).content.decode()
    silent.refresh_from_db()
    assert silent.prompt


def test_editing_the_action_keeps_the_lines_where_they_are_spoken(editor, make_scene):
    scene = make_scene(prompt="Anna pours coffee.\nThe radio mumbles.")
    line = say(scene, editor, "Morning.")
    DialogueLine.objects.filter(pk=line.pk).update(after_prompt_lines=1)
    scene.refresh_from_db()

    services.scene_update(scene=scene, expected_version=scene.version, user=editor,
                          prompt="Dawn.\nAnna pours coffee.\nThe radio mumbles the forecast.")

    assert sent(scene) == "Dawn.\nAnna pours coffee.\nANNA: Morning.\nThe radio mumbles the forecast."


def test_changing_the_dialogue_of_an_approved_scene_makes_its_approval_stale(editor, reviewer, scene, finished_take):
    from projects.review import services as review

    review.take_approve(take=finished_take(scene), user=reviewer)
    say(scene, editor, "Morning.")

    scene.refresh_from_db()
    assert scene.approval_stale_fields == ["dialogue"] and scene.approval_stale_words == "dialogue"


def test_uncasting_a_character_who_speaks_gives_their_lines_to_their_plain_name(client_for, editor, scene, anna):
    say(scene, editor, "We sail at noon.", character=anna)

    client_for(editor).post(reverse("projects:scene_cast", args=[scene.pk]),
                            {"character": anna.pk, "action": "remove"}, **HX)

    line = scene.lines.get()
    assert (line.character, line.speaker) == (None, "Anna")
    assert not scene.cast.exists() and sent(scene).endswith("\nAnna: We sail at noon.")


def test_casting_from_the_list_sees_a_character_who_already_speaks(editor, scene, anna):
    say(scene, editor, "We sail at noon.", character=anna)
    version = scene.lines.get().version

    services.scene_cast_add(scene=scene, character=anna, user=editor)

    scene.refresh_from_db()
    assert "@Anna" not in scene.prompt and scene.lines.get().version == version  # nothing to add


def test_what_will_be_sent_shows_the_lines_in_the_prompt(client_for, editor, scene):
    say(scene, editor, "Morning.", parenthetical="sleepy")
    connection = scene.project.team.connections.get(kind="local")

    response = client_for(editor).get(reverse("generation:render_preview", args=[scene.pk]),
                                      {"target": f"{connection.pk}:previz-animatic-1"})

    assert "A harbour at dawn, mist on the water.<br>ANNA: (sleepy) Morning." in response.content.decode()


def test_a_take_keeps_the_lines_it_was_made_with(editor, scene, anna):
    say(scene, editor, "We sail at noon.", character=anna)
    connection = scene.project.team.connections.get(kind="local")

    recipe = renders.recipe_for(scene=scene, connection=connection, model_id="previz-animatic-1")

    assert recipe["action"] == scene.prompt
    assert recipe["dialogue"] == [{"speaker": "Anna", "character": anna.pk, "parenthetical": "",
                                   "text": "We sail at noon.", "after_prompt_lines": None}]


# --- whose lines ------------------------------------------------------------------------------------


def test_another_teams_user_gets_404_for_every_line_endpoint_and_changes_nothing(client_for, outsider, editor, scene):
    line = say(scene, editor, "Morning.")
    client = client_for(outsider)

    for url in (reverse("projects:line_add", args=[scene.pk]),
                reverse("projects:line_edit", args=[scene.pk, line.pk]),
                reverse("projects:line_delete", args=[scene.pk, line.pk]),
                reverse("projects:line_move", args=[scene.pk, line.pk, "down"])):
        assert client.post(url, {"speaker": "X", "text": "Mine now.", "version": line.version}, **HX).status_code == 404
    assert list(scene.lines.values_list("text", flat=True)) == ["Morning."]


def test_a_line_addressed_through_another_scene_is_not_touched(client_for, editor, make_scene):
    here, there = make_scene(title="Here"), make_scene(title="There")
    line = say(there, editor, "Morning.")

    response = client_for(editor).post(reverse("projects:line_edit", args=[here.pk, line.pk]),
                                       {"speaker": "ANNA", "text": "Hijacked.", "version": line.version}, **HX)

    assert "A teammate deleted this line" in response.content.decode()  # not a line of this scene
    assert there.lines.get().text == "Morning." and not here.lines.exists()
