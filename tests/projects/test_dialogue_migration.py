"""Scenes imported before dialogue was data: the `NAME: line` rows the import wrote become lines, what a
take sends stays byte for byte the same, and the migration reversed gives every prompt back."""

import importlib
import json
import uuid

import pytest
from django.apps import apps

from generation.models import Status
from generation.providers import connections
from generation.renders import services as renders
from projects.characters import consent
from projects.models import CharacterKind, DialogueLine, Scene
from projects.storyboard.casting import scene_text
from tests.factories import photo

migration = importlib.import_module("projects.migrations.0027_dialogue_from_prompts")

# What the script import wrote into a prompt, a ticked character ("@Anna") included, with rows a person typed.
IMPORTED = ("Anna pours coffee. The radio mumbles.\n"
            "@Anna: (sleepy) Morning.\n"
            "BEN: Coffee? Write to ben\uff20example.com.\n"
            "CAMERA: slow push-in\n"
            "Later: rain.\n"
            "BEN: (at the same time) Always.")


@pytest.fixture
def anna(team, owner):
    return consent.character_create(team=team, user=owner, name="Anna", kind=CharacterKind.FICTIONAL,
                                    declares_fictional=True, description="red coat, grey braid", images=[photo()])


def migrate():
    migration.lines_from_prompts(apps, None)


def lines_of(scene):
    return list(scene.lines.values_list("character__name", "speaker", "parenthetical", "text", "after_prompt_lines"))


def test_the_rows_the_import_wrote_become_lines_and_the_rest_stays_in_the_prompt(make_scene, anna):
    scene = make_scene(prompt=IMPORTED)

    migrate()

    scene.refresh_from_db()
    assert scene.prompt == "Anna pours coffee. The radio mumbles.\nCAMERA: slow push-in\nLater: rain."
    assert lines_of(scene) == [("Anna", "Anna", "sleepy", "Morning.", 1),
                               (None, "BEN", "", "Coffee? Write to ben\uff20example.com.", 1),
                               (None, "BEN", "at the same time", "Always.", 3)]
    assert scene_text(scene) == IMPORTED
    assert list(scene.cast.all()) == [anna]


@pytest.mark.parametrize("prompt", [
    "A pier.\n@anna: Morning.",  # not the library's spelling of the name: left as typed
    "A pier.\n@Zed: Morning.",  # nobody in the library
    "A pier.\nANNA:  two spaces.",  # not as the import wrote it
    "A pier.\nANNA: " + "la " * 400 + "la",  # longer than a line may be
    "\nANNA: Morning.",  # the rest would be an empty first row: it would not read back the same
])
def test_a_scene_whose_rows_would_not_read_back_the_same_is_left_as_it_was(make_scene, anna, prompt):
    scene = make_scene(prompt=prompt)

    migrate()

    scene.refresh_from_db()
    assert scene.prompt == prompt and not scene.lines.exists()


def test_a_prompt_saved_from_a_browser_keeps_its_line_breaks(make_scene, anna):
    typed = "Anna pours coffee.\r\nANNA: Morning.\r\nThe radio mumbles."
    only_dialogue = "ANNA: Morning.\r\nBEN: Coffee?"
    scene, alone = make_scene(prompt=typed), make_scene(prompt=only_dialogue)

    migrate()

    scene.refresh_from_db()
    alone.refresh_from_db()
    assert scene.prompt == "Anna pours coffee.\r\nThe radio mumbles." and scene_text(scene) == typed
    # Its lines alone would be joined by "\n": it keeps its dialogue in its prompt rather than send other bytes.
    assert alone.prompt == only_dialogue and not alone.lines.exists()


def test_a_scene_of_dialogue_alone_keeps_an_empty_prompt_and_sends_the_same(make_scene):
    scene = make_scene(prompt="ANNA: We sail at noon.\nBEN: Aye.")

    migrate()

    scene.refresh_from_db()
    assert scene.prompt == "" and scene_text(scene) == "ANNA: We sail at noon.\nBEN: Aye."


def test_reversed_it_gives_every_prompt_back_and_drops_the_lines(make_scene, anna, editor):
    from projects.storyboard.dialogue import services as dialogue

    imported, plain = make_scene(prompt=IMPORTED), make_scene(prompt="Gulls circle.")
    migrate()
    dialogue.dialogue_line_add(scene=plain, user=editor, speaker=(anna, ""), text="Ahoy.")  # added since

    migration.prompts_from_lines(apps, None)

    assert Scene.objects.get(pk=imported.pk).prompt == IMPORTED
    assert Scene.objects.get(pk=plain.pk).prompt == "Gulls circle.\n@Anna: Ahoy."  # a mention: still cast
    assert not DialogueLine.objects.exists()


def test_a_take_sends_the_same_create_request_after_the_migration(
        team, owner, editor, make_scene, anna, provider_server, django_capture_on_commit_callbacks):
    gateway = connections.connection_create(team=team, user=owner, kind="openai-videos", label="Gateway",
                                            base_url=provider_server.openai_base, api_key=provider_server.api_key)
    connections.catalog_register_model(connection=gateway, model_id="veo-3.1", display_name="Veo via gateway",
                                       sizes=["1280x720"], durations=[4], price_per_second=0.4)
    scene = make_scene(prompt=IMPORTED, duration=4)

    def create_request():
        with django_capture_on_commit_callbacks(execute=True):
            take, _ = renders.render_create(scene=Scene.objects.get(pk=scene.pk), user=editor, connection=gateway,
                                            model_id="veo-3.1", idempotency_key=uuid.uuid4())
        take.refresh_from_db()
        assert take.status == Status.SUCCEEDED, take.error_message
        return provider_server.seen("POST", r"/openai/v1/videos")[-1].fields

    before = create_request()
    migrate()
    assert DialogueLine.objects.filter(scene=scene).count() == 3
    after = create_request()

    assert after == before
    assert before["prompt"] == IMPORTED + "\n\nCharacters — Anna: red coat, grey braid"


def test_a_replicate_take_sends_the_same_input_after_the_migration(
        team, owner, editor, make_scene, provider_server, django_capture_on_commit_callbacks):
    replicate = connections.connection_create(team=team, user=owner, kind="replicate", label="Replicate",
                                              base_url=provider_server.replicate_base, api_key=provider_server.api_key)
    scene = make_scene(prompt="Gulls circle.\nANNA: (shouting) Mind the ropes!\nThe boat leaves.", duration=4)

    def create_input():
        with django_capture_on_commit_callbacks(execute=True):
            renders.render_create(scene=Scene.objects.get(pk=scene.pk), user=editor, connection=replicate,
                                  model_id="google/veo-3.1", idempotency_key=uuid.uuid4())
        [create] = provider_server.seen("POST", r"/replicate/v1/models/google/veo-3\.1/predictions")[-1:]
        return json.loads(create.body)["input"]

    before = create_input()
    migrate()
    assert scene.lines.get().text == "Mind the ropes!"

    assert create_input() == before
