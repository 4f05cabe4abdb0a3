"""Play all's sound recipe read as rows: the mix's key is the one the board's models give (a page that keyed
the board differently from the worker would ask for a mix nobody makes), at many scenes with voices chosen,
speakers renamed, lines edited and recordings heard or withheld; and its cost does not follow the recordings."""

import inspect
import unicodedata
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from generation.models import Render
from generation.sound import speech
from projects.models import (
    Character,
    CharacterKind,
    ConsentGrant,
    DialogueLine,
    LineRecording,
    PlayAllMix,
    Scene,
    SoundBed,
    SoundStatus,
    SpeakerVoice,
)
from projects.review import playall
from projects.selectors import cut_sequence_for, cut_timings_for
from projects.storyboard import trash
from projects.storyboard.dialogue import services as dialogue
from projects.storyboard.sound import voices
from projects.storyboard.sound.recordings import recording_withheld
from tests.realistic import build_project
from tests.shared_world import built_once

pytestmark = pytest.mark.django_db


def recipe_from_models(project, entries):
    """The recipe as it was built before the rows: from each line's models, `voices.line_speech` and
    `recording_withheld` (the specification the rows must meet, key for key)."""
    lines_by_scene = {}
    for line in (DialogueLine.objects.filter(scene__in=[e.scene for e in playall.timings(entries)])
                 .select_related("character", "recording__character").order_by("scene_id", "position", "pk")):
        lines_by_scene.setdefault(line.scene_id, []).append(line)
    speaker_voices = voices.speaker_voices(project)
    stops = []
    for entry in playall.timings(entries):
        said = []
        for line in lines_by_scene.get(entry.scene, []):
            request = voices.line_speech(line, project=project, voices=speaker_voices)
            item = {"line": line.pk, "speaker": line.speaker_name, "text": line.text, "voice": request.voice,
                    "rate": request.rate, "pitch": request.pitch, "speech": request.key}
            recording = getattr(line, "recording", None)
            if (recording is not None and recording.status == SoundStatus.READY and recording.audio
                    and not recording_withheld(recording, project=project)):
                item["recording"] = recording.audio.name
                item["seconds"] = recording.seconds
                item["character"] = recording.character_id
            said.append(item)
        stops.append({"scene": entry.scene, "take": entry.take,
                      "start": round(entry.start, 3), "duration": round(entry.duration, 3), "lines": said})
    recipe = {"stops": stops, "pause": float(project.dialogue_pause)}
    bed = SoundBed.objects.filter(project=project, status=SoundStatus.READY).first()
    if bed is not None and bed.audio:
        recipe["bed"] = {"audio": bed.audio.name, "start_at": bed.start_at, "level_db": bed.level_db,
                         "duck_db": bed.duck_db}
    return recipe


def person(built, name, **grant):
    character = Character.objects.create(team=built.project.team, name=name, kind=CharacterKind.PERSON,
                                         person=built.reviewer, created_by=built.editor)
    ConsentGrant.objects.create(character=character, granted_by=built.reviewer, **grant)
    return character


def recorded(line, *, character=None, status=SoundStatus.READY, audio="sound/line.wav", seconds=1.5):
    return LineRecording.objects.create(line=line, original="sound/original.webm", kind="webm", audio=audio,
                                        seconds=seconds, status=status, character=character)


@pytest.fixture(scope="module")
def varied(django_db_blocker, tmp_path_factory):
    """A 60-scene board whose lines sound every way a line can: characters with a voice of their own and
    without, plain names with a project voice (written in another case) and without, words the engine
    cleans (tabs, line breaks, invisible and non-breaking spaces, accents), and recordings heard (a plain
    name's, a fictional character's, a person's whose consent covers voice) or not (revoked, voice not
    covered, not ready, no audio yet)."""
    with built_once(django_db_blocker, tmp_path_factory):
        built = build_project(scenes=60, takes_per_scene=2)
        project = built.project
        maya = Character.objects.get(team=project.team, name="Maya")
        ahab = Character.objects.get(team=project.team, name="Captain Ahab")
        Character.objects.filter(pk=ahab.pk).update(voice="en+m7", voice_rate=190, voice_pitch=30)
        voices.speaker_voice_set(project=project, name="harbourmaster", voice="fr+f4", rate=120, pitch=80)
        rosa = person(built, "Rosa", covers_voice=True)
        ines = person(built, "Ines", covers_voice=True, revoked_at=timezone.now())
        lines = list(DialogueLine.objects.filter(scene__project=project).order_by("scene__position", "position"))
        for line, text in zip(lines[::7], ("Tab\there, line\nbreak.", "Zero\u200bwidth and\xa0nbsp.",
                                           "Déjà vu, à l’aube ?", "  spaced   out  ", "\x07bell\x1f", "É" * 990)):
            dialogue.dialogue_line_update(line=line, user=built.editor, expected_version=line.version, text=text)
        dialogue.dialogue_line_update(line=lines[4], user=built.editor, expected_version=lines[4].version,
                                      speaker=(None, "Lighthouse Keeper"))
        plain = [line for line in lines if line.character_id is None]
        recorded(plain[0])
        recorded(lines[2], character=ahab)
        recorded(lines[8], character=rosa)
        recorded(lines[11], character=ines)
        recorded(lines[0], character=maya)  # her grant does not cover her voice
        recorded(plain[3], status=SoundStatus.PROCESSING)
        recorded(plain[5], audio="")
        DialogueLine.objects.filter(pk=lines[20].pk).update(character=rosa, speaker="Rosa")
        yield built


def test_the_recipe_read_as_rows_is_the_one_the_models_give(varied):
    entries, _dropped = playall.play_all_sequence(varied.project)
    recipe = playall.sound_recipe(varied.project, entries)
    assert recipe == recipe_from_models(varied.project, entries)
    said = [item for stop in recipe["stops"] for item in stop["lines"]]
    # The board sounds every way the fixture meant it to: the recordings heard are the three allowed.
    assert len([item for item in said if item.get("recording")]) == 3
    assert {"fr+f4", "en+m7"} <= {item["voice"] for item in said}
    assert playall.recipe_key(recipe) == playall.recipe_key(recipe_from_models(varied.project, entries))


def test_the_pages_mix_is_the_one_the_worker_makes_at_many_scenes(varied, django_capture_on_commit_callbacks):
    client = Client()
    client.force_login(varied.editor)
    with django_capture_on_commit_callbacks(execute=False):
        assert client.get(reverse("projects:project_cut_sound_state", args=[varied.project.pk]),
                          HTTP_HX_REQUEST="true").status_code == 200
    asked = PlayAllMix.objects.get(project=varied.project)
    worker_entries, _dropped = playall.play_all_sequence(varied.project)
    assert playall.recipe_key(playall.sound_recipe(varied.project, worker_entries)) == asked.key
    assert playall.recipe_key(recipe_from_models(varied.project, worker_entries)) == asked.key
    page_entries = cut_sequence_for(project=varied.project).timings
    assert cut_timings_for(project=varied.project) == page_entries == playall.timings(worker_entries)
    assert playall.recipe_key(recipe_from_models(varied.project, page_entries)) == asked.key
    PlayAllMix.objects.filter(pk=asked.pk).delete()


def test_a_lines_speech_is_the_same_from_its_models_or_its_values(varied):
    language = varied.project.voice_language
    speaker_voices = voices.speaker_voices(varied.project)
    for line in DialogueLine.objects.filter(scene__project=varied.project).select_related("character"):
        c = line.character
        from_values = (voices.character_speech(text=line.text, name=c.name, voice=c.voice, rate=c.voice_rate,
                                               pitch=c.voice_pitch, language=language) if c is not None else
                       voices.speaker_speech(text=line.text, speaker=line.speaker, language=language,
                                             voices=speaker_voices))
        assert from_values == voices.line_speech(line, project=varied.project)


def test_the_recipe_costs_the_same_queries_for_one_persons_recording_or_many(varied):
    project = varied.project
    entries, _dropped = playall.play_all_sequence(project)
    with CaptureQueriesContext(connection) as before:
        playall.sound_recipe(project, entries)
    lines = list(DialogueLine.objects.filter(scene__project=project, recording__isnull=True,
                                             character__isnull=False).order_by("pk")[:6])
    extra = [recorded(line, character=person(varied, f"Voice {i}", covers_voice=True))
             for i, line in enumerate(lines)]
    try:
        with CaptureQueriesContext(connection) as after:
            recipe = playall.sound_recipe(project, entries)
        assert len([i for stop in recipe["stops"] for i in stop["lines"] if i.get("recording")]) == 3 + len(extra)
        assert len(after.captured_queries) == len(before.captured_queries)
    finally:
        for recording in extra:
            character = recording.character
            recording.delete()
            character.delete()


@pytest.mark.parametrize("text", [
    "Plain words.", "  two   spaces ", "Tab\there", "line\nbreak", "Zero\u200bwidth", "no\xa0break",
    "Déjà vu, à l’aube ?", "\x07bell\x1f", "ideographic\u3000space", "para\u2029graph", "emoji 🌊 sea",
    "soft\u00adhyphen", "É" * 2100, "",
])
def test_the_engines_words_are_the_same_through_the_fast_path(text):
    # The engine's words as they were cleaned before: every control or separator character a space.
    slow = " ".join("".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in text[:speech.MAX_TEXT])
                    .split())
    assert speech.clean_text(text) == slow


# --- the mix found by what its recipe is read from ----------------------------------------------------------------
# A page finds its mix by the hash of the recipe's inputs (`playall.inputs_digest`) and builds the recipe only for
# inputs it has not seen. That is sound only if the recipe is a function of those inputs alone, and if every change
# that gives another recipe gives other inputs: the tests below hold both.


def fresh(built):
    return type(built.project).objects.get(pk=built.project.pk)  # as a request loads it: its pause, its language


def asked(built):
    project = fresh(built)
    mix, _inputs = playall.play_all_mix_request(project=project, entries=cut_timings_for(project=project))
    return mix


def workers_key(built):
    project = fresh(built)
    entries, _dropped = playall.play_all_sequence(project)
    return playall.recipe_key(playall.sound_recipe(project, entries))


def test_the_recipe_is_built_from_its_inputs_alone(varied, django_assert_num_queries):
    project = fresh(varied)
    entries = cut_timings_for(project=project)
    inputs = playall.recipe_inputs(project, entries)
    # No query and no project: whatever the recipe says, it says from the inputs the digest hashes (a new field
    # read by the recipe has to become an input, hence part of the hash).
    assert list(inspect.signature(playall.recipe_from).parameters) == ["inputs"]
    with django_assert_num_queries(0):
        recipe = playall.recipe_from(inputs)
    assert recipe == recipe_from_models(project, entries)


def _other(value):
    if value is None:
        return ("sound/other.wav", 0.0, -14.0, -12.0)
    if isinstance(value, tuple):
        return value + ((0,),)
    if isinstance(value, str):
        return value + "x"
    return value + 1


def test_every_input_is_in_the_hash(varied):
    inputs = playall.recipe_inputs(fresh(varied), cut_timings_for(project=varied.project))
    digests = {playall.inputs_digest(inputs)}
    for name in playall.RecipeInputs._fields:
        digests.add(playall.inputs_digest(inputs._replace(**{name: _other(getattr(inputs, name))})))
    assert len(digests) == 1 + len(playall.RecipeInputs._fields)
    # And the same inputs give the same hash however their values were made (marshal without back-references).
    again = playall.recipe_inputs(fresh(varied), cut_timings_for(project=varied.project))
    assert playall.inputs_digest(again) == playall.inputs_digest(inputs) and again == inputs


def test_an_unchanged_board_finds_its_mix_without_building_the_recipe(varied, monkeypatch):
    first = asked(varied)
    keyed = []
    real_key = speech.SpeechRequest.key

    def counted(request):
        keyed.append(request)
        return real_key.fget(request)

    monkeypatch.setattr(speech.SpeechRequest, "key", property(counted))
    client = Client()
    client.force_login(varied.editor)
    state = client.get(reverse("projects:project_cut_sound_state", args=[varied.project.pk]), HTTP_HX_REQUEST="true")
    assert state.status_code == 200 and 'data-testid="cut-sound-preparing"' in state.content.decode()
    assert keyed == []  # not a speech key written: 60 scenes' lines were keyed at every request
    assert asked(varied) == first and PlayAllMix.objects.filter(project=varied.project).count() == 1


def _line(built, n):
    return DialogueLine.objects.filter(scene__project=built.project).order_by("scene__position", "position")[n]


def _played(built):
    return next(t for t in cut_timings_for(project=built.project) if t.take is not None)


def _expire_rosas_grant(built, monkeypatch):
    # Nothing is written: her grant ends while the board stays as it was, and her recording is withheld from then.
    ConsentGrant.objects.filter(character__name="Rosa", character__team=built.project.team).update(
        expires_at=timezone.now() + timedelta(hours=1))
    first = asked(built)
    later = timezone.now() + timedelta(hours=2)
    monkeypatch.setattr(timezone, "now", lambda: later)
    return first


CHANGES = {
    "a line's words (QuerySet.update)": lambda b: DialogueLine.objects.filter(pk=_line(b, 3).pk).update(text="Other."),
    "a line's words (the editor's service)": lambda b: dialogue.dialogue_line_update(
        line=_line(b, 3), user=b.editor, expected_version=_line(b, 3).version, text="Other words."),
    "a line deleted": lambda b: _line(b, 5).delete(),
    "a line moved after the next": lambda b: DialogueLine.objects.filter(pk=_line(b, 0).pk).update(position=50),
    "a line said by another": lambda b: DialogueLine.objects.filter(pk=_line(b, 6).pk).update(
        character=None, speaker="Somebody Else"),
    "a character renamed": lambda b: Character.objects.filter(team=b.project.team, name="Maya").update(name="May"),
    "a character's voice": lambda b: Character.objects.filter(team=b.project.team, name="Captain Ahab").update(
        voice_pitch=10),
    "a plain name's voice chosen": lambda b: voices.speaker_voice_set(project=b.project, name="Lighthouse Keeper",
                                                                      voice="en-us+m3"),
    "a plain name's voice removed": lambda b: SpeakerVoice.objects.filter(project=b.project).delete(),
    "a person's consent revoked": lambda b: ConsentGrant.objects.filter(
        character__name="Rosa", character__team=b.project.team).update(revoked_at=timezone.now()),
    "a recording's length": lambda b: LineRecording.objects.filter(line__scene__project=b.project).exclude(
        audio="").update(seconds=9.0),
    "a recording ready": lambda b: LineRecording.objects.filter(line__scene__project=b.project,
                                                                status=SoundStatus.PROCESSING).update(
        status=SoundStatus.READY),
    "a recording deleted": lambda b: LineRecording.objects.filter(line__scene__project=b.project).delete(),
    "the pause": lambda b: type(b.project).objects.filter(pk=b.project.pk).update(dialogue_pause="1.5"),
    "the voices' language": lambda b: type(b.project).objects.filter(pk=b.project.pk).update(voice_language="fr"),
    "a bed": lambda b: SoundBed.objects.create(project=b.project, original="sound/bed.wav", kind="wav",
                                               audio="sound/bed.wav", seconds=30, status=SoundStatus.READY),
    "a take's length": lambda b: Render.objects.filter(pk=_played(b).take).update(duration_seconds=11.5),
    "another take approved": lambda b: Scene.objects.filter(pk=_played(b).scene).update(
        approved_take=Render.objects.filter(scene=_played(b).scene).exclude(pk=_played(b).take).first()),
    "a scene dropped from the cut": lambda b: Scene.objects.filter(pk=_played(b).scene).update(in_cut=False),
    "a scene's length, its take's unknown": lambda b: (
        Render.objects.filter(pk=_played(b).take).update(duration_seconds=None),
        Scene.objects.filter(pk=_played(b).scene).update(duration=9)),
    "a scene moved": lambda b: Scene.objects.filter(pk=_played(b).scene).update(position=10_000),
    "a scene in the trash": lambda b: trash.scene_trash(scene=Scene.objects.get(pk=_played(b).scene), user=b.editor),
}


@pytest.mark.parametrize("change", list(CHANGES), ids=list(CHANGES))
def test_a_change_to_what_the_mix_is_made_of_asks_for_the_mix_the_worker_would_make(varied, change):
    first = asked(varied)
    assert asked(varied) == first  # found again by its inputs
    CHANGES[change](varied)
    again = asked(varied)
    assert again.pk != first.pk and again.key != first.key and again.key == workers_key(varied)


def test_a_grant_that_ends_with_time_withholds_the_recording_from_the_mix(varied, monkeypatch):
    first = _expire_rosas_grant(varied, monkeypatch)
    again = asked(varied)
    assert again.pk != first.pk and again.key == workers_key(varied)
    recipe = playall.sound_recipe(fresh(varied), cut_timings_for(project=varied.project))
    assert len([i for stop in recipe["stops"] for i in stop["lines"] if i.get("recording")]) == 2


def test_a_scene_restored_from_the_trash_finds_the_mix_made_before(varied):
    first = asked(varied)
    scene = Scene.objects.get(pk=_played(varied).scene)
    trash.scene_trash(scene=scene, user=varied.editor)
    assert asked(varied).key != first.key
    trash.scene_restore(project=varied.project, scene_ids=[scene.pk], user=varied.editor)
    assert asked(varied) == first  # the same board again: the mix made for it, not another
