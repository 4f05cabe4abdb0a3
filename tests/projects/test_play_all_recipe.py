"""Play all's sound recipe read as rows: the mix's key is the one the board's models give (a page that keyed
the board differently from the worker would ask for a mix nobody makes), at many scenes with voices chosen,
speakers renamed, lines edited and recordings heard or withheld; and its cost does not follow the recordings."""

import unicodedata

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from generation.sound import speech
from projects.models import (
    Character,
    CharacterKind,
    ConsentGrant,
    DialogueLine,
    LineRecording,
    PlayAllMix,
    SoundBed,
    SoundStatus,
)
from projects.review import playall
from projects.selectors import cut_sequence_for, cut_timings_for
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
