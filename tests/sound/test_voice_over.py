"""The scratch voice-over: each line spoken once in its speaker's voice, a scene fitting its lines,
lines replaced by recordings, and a real person's recorded voice used only under their consent."""

import numpy as np
import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from generation.sound.audio import SAMPLE_RATE
from projects.characters import consent
from projects.characters.voice import character_voice_sample_upload
from projects.models import (
    ChangeEvent,
    ChangeKind,
    CharacterKind,
    LineRecording,
    Role,
    Scene,
    SoundStatus,
    SpeechClip,
)
from projects.storyboard import services
from projects.storyboard.dialogue import services as dialogue
from projects.storyboard.sound import mix, recordings, timing, voices
from tests.factories import photo
from tests.sound.helpers import encoded, tone, upload, wav


@pytest.fixture
def maya(team, make_member):
    person = make_member(team, Role.EDITOR, "maya")
    return consent.character_create(team=team, user=person, name="Maya", kind=CharacterKind.PERSON,
                                    person=person, images=[photo()])


@pytest.fixture
def say(django_capture_on_commit_callbacks, owner):
    def add(scene, text, speaker="ANNA", character=None):
        with django_capture_on_commit_callbacks(execute=True):
            return dialogue.dialogue_line_add(scene=scene, user=owner, speaker=(character, speaker), text=text)
    return add


def fit(scene):
    Scene.objects.filter(pk=scene.pk).update(fit_to_dialogue=True)
    scene.refresh_from_db()
    return scene


def test_each_line_is_spoken_once_whatever_asks_for_it(say, scene):
    say(scene, "The ferry is late again.")
    say(scene, "The ferry is late again.", speaker="BOB")
    assert SpeechClip.objects.count() == 2  # two voices
    say(fit(scene), "The ferry is late again.")  # ANNA again: already spoken
    assert SpeechClip.objects.count() == 2


def test_a_scene_that_fits_its_dialogue_lasts_as_long_as_its_lines_and_teammates_see_it(
        say, scene, owner, django_capture_on_commit_callbacks):
    fit(scene)
    say(scene, "We should leave before the tide turns against us tonight, all of us.")
    say(scene, "Then pack now, and say nothing to the harbour master about it.", speaker="BOB")
    scene.refresh_from_db()
    spoken = timing.scene_spoken(scene)
    assert spoken.exact
    assert scene.duration == spoken.fitted >= 6
    assert ChangeEvent.objects.filter(kind=ChangeKind.SCENE_EDITED, scene_id=scene.pk,
                                      data__fields=["duration"]).exists()
    before = scene.duration
    line = scene.lines.last()
    with django_capture_on_commit_callbacks(execute=True):
        dialogue.dialogue_line_update(line=line, user=owner, expected_version=line.version, text="No.")
    assert Scene.objects.get(pk=scene.pk).duration < before


def test_the_pause_counts_before_between_and_after_lines(say, scene, project):
    say(fit(scene), "Go.")
    short = Scene.objects.get(pk=scene.pk).duration
    project.dialogue_pause = 3
    project.save()
    timing.scene_refit(scene=scene)
    assert Scene.objects.get(pk=scene.pk).duration >= short + 5


def test_a_scene_not_fitting_its_dialogue_keeps_its_length(say, scene):
    say(scene, "We should leave before the tide turns against us tonight, all of us, now.")
    assert Scene.objects.get(pk=scene.pk).duration == 2


def test_a_length_typed_by_hand_stops_the_scene_following_its_lines(say, scene, owner):
    say(fit(scene), "Go.")
    current = Scene.objects.get(pk=scene.pk)
    services.scene_update(scene=current, expected_version=current.version, user=owner, duration=9)
    assert not Scene.objects.get(pk=scene.pk).fit_to_dialogue
    say(scene, "And again.")
    assert Scene.objects.get(pk=scene.pk).duration == 9


def test_a_plain_name_speaks_in_the_voice_the_project_gives_it(say, scene, project):
    line = say(scene, "Bonjour tout le monde.")
    voices.speaker_voice_set(project=project, name="anna", voice="fr+f2", rate=150, pitch=60)
    request = voices.line_speech(line, project=project)
    assert (request.voice, request.rate, request.pitch) == ("fr+f2", 150, 60)
    with pytest.raises(ValidationError):
        voices.speaker_voice_set(project=project, name="anna", voice="xx+y", rate=150, pitch=60)


def test_a_recording_replaces_the_engines_voice_and_keeps_the_original(say, scene, owner,
                                                                       django_capture_on_commit_callbacks):
    line = say(fit(scene), "Go.")
    original = encoded(tone(3.0, amplitude=0.02), fmt="flac", codec="flac")
    with django_capture_on_commit_callbacks(execute=True):
        recording = recordings.line_recording_upload(line=line, user=owner, upload=upload(original, "r.wav"))
    recording.refresh_from_db()
    assert recording.status == SoundStatus.READY and recording.kind == "flac"
    assert recording.original.name.endswith(".flac")
    with recording.original.open("rb") as fh:
        assert fh.read() == original
    assert recording.seconds == pytest.approx(3.0, abs=0.05)
    assert recording.gain_db > 15  # a quiet take brought up to the studio's loudness
    assert Scene.objects.get(pk=scene.pk).duration == 4  # 0.5 + 3 + 0.5
    (cue,) = mix.scene_cues(Scene.objects.get(pk=scene.pk))
    assert cue.seconds == pytest.approx(3.0, abs=0.05)


@pytest.mark.parametrize("data, message", [
    (b"<svg onload=alert(1)>", "not a sound file"),
    (b"", "not a sound file"),
])
def test_bad_audio_is_refused_in_words(say, scene, owner, data, message):
    line = say(scene, "Go.")
    with pytest.raises(ValidationError, match=message):
        recordings.line_recording_upload(line=line, user=owner, upload=upload(data, "fine.wav"))
    assert not LineRecording.objects.exists()


def test_a_recording_of_silence_stays_silence_after_loudness(say, scene, owner,
                                                                                 django_capture_on_commit_callbacks):
    line = say(scene, "Go.")
    good = wav(tone(2.0))
    broken = good[:44] + bytes(len(good) - 44)  # a real header over nothing but zeros
    with django_capture_on_commit_callbacks(execute=True):
        recording = recordings.line_recording_upload(line=line, user=owner, upload=upload(broken))
    recording.refresh_from_db()
    assert recording.status == SoundStatus.READY  # silence is sound; its loudness stays silence
    (cue,) = mix.scene_cues(Scene.objects.get(pk=scene.pk))
    assert not np.any(cue.samples)


def test_a_real_persons_line_is_recorded_only_under_consent_covering_their_voice(say, scene, owner, maya):
    consent.consent_grant(character=maya, user=maya.person)  # images only
    line = say(scene, "It's me.", character=maya)
    with pytest.raises(PermissionDenied, match="recorded voice"):
        recordings.line_recording_upload(line=line, user=owner, upload=upload(wav(tone(1.0))))
    consent.consent_grant(character=maya, user=maya.person, covers_voice=True)
    recordings.line_recording_upload(line=line, user=owner, upload=upload(wav(tone(1.0))))


def test_revoking_consent_withholds_the_persons_recorded_voice(say, scene, owner, maya,
                                                              django_capture_on_commit_callbacks):
    consent.consent_grant(character=maya, user=maya.person, covers_voice=True)
    line = say(fit(scene), "It's me.", character=maya)
    with django_capture_on_commit_callbacks(execute=True):
        recordings.line_recording_upload(line=line, user=owner, upload=upload(wav(tone(6.0, freq=90))))
    assert Scene.objects.get(pk=scene.pk).duration == 7
    (cue,) = mix.scene_cues(Scene.objects.get(pk=scene.pk))
    assert cue.seconds == pytest.approx(6.0, abs=0.05)
    consent.consent_revoke(character=maya, user=maya.person)
    (cue,) = mix.scene_cues(Scene.objects.get(pk=scene.pk), speak=True)
    assert cue.seconds < 2  # the engine speaks it: her recording is withheld
    assert "Maya" in recordings.recording_withheld(LineRecording.objects.get(), project=scene.project)
    assert timing.scene_spoken(Scene.objects.get(pk=scene.pk)).seconds < 3


def test_deleting_her_files_on_revoking_deletes_her_recorded_voice(say, scene, owner, maya):
    consent.consent_grant(character=maya, user=maya.person, covers_voice=True)
    character_voice_sample_upload(character=maya, user=maya.person, upload=upload(wav(tone(2.0))))
    line = say(scene, "It's me.", character=maya)
    recordings.line_recording_upload(line=line, user=owner, upload=upload(wav(tone(1.0))))
    maya.refresh_from_db()
    sample = maya.voice_sample.name
    consent.consent_revoke(character=maya, user=maya.person, delete_files=True)
    maya.refresh_from_db()
    assert not maya.voice_sample and not maya.voice_sample.storage.exists(sample)
    assert not LineRecording.objects.exists()


def test_a_voice_sample_needs_a_grant_that_covers_voice(maya, team, owner):
    with pytest.raises(PermissionDenied, match="not granted consent"):
        character_voice_sample_upload(character=maya, user=owner, upload=upload(wav(tone(1.0))))
    consent.consent_grant(character=maya, user=maya.person)
    with pytest.raises(PermissionDenied, match="recorded voice"):
        character_voice_sample_upload(character=maya, user=owner, upload=upload(wav(tone(1.0))))
    consent.consent_grant(character=maya, user=maya.person, covers_voice=True)
    character_voice_sample_upload(character=maya, user=owner, upload=upload(wav(tone(1.0)), "sample.txt"))
    maya.refresh_from_db()
    assert maya.voice_sample.name.endswith(".wav")


def test_the_mix_speaks_each_scene_where_it_plays_on_the_board(say, make_scene):
    first, second = make_scene(title="One", duration=3), make_scene(title="Two", duration=4)
    say(first, "First words.")
    say(second, "Second words.")
    stems = mix.range_stems(first.project, start=0, end=7, speak=True)
    assert [round(c.start, 2) for c in stems.cues] == [0.5, 3.5]
    assert len(stems.dialogue) == 7 * SAMPLE_RATE
    assert not np.any(stems.bed)  # no bed uploaded
    later = mix.range_stems(first.project, start=3, end=7)
    assert [round(c.start, 2) for c in later.cues] == [0.5]


def test_the_takes_own_sound_plays_at_the_projects_level_under_the_mix(say, make_scene, project, tmp_path):
    from generation.sound.audio import probe_audio
    from generation.sound.mixing import encode_aac
    from tests.sound.helpers import band_energy

    scene = make_scene(duration=2)
    say(scene, "Go.")
    stems = mix.range_stems(project, start=0, end=2, speak=True)
    take = tone(2.0, freq=1000, amplitude=0.2)
    project.take_audio_level_db = -20
    quiet = stems.with_takes(take, project=project)
    project.take_audio_level_db = 0
    loud = stems.with_takes(take, project=project)
    window = slice(int(1.6 * SAMPLE_RATE), int(1.9 * SAMPLE_RATE))  # after the line: the take alone
    ratio = band_energy(loud[window], low=900, high=1100) / band_energy(quiet[window], low=900, high=1100)
    assert ratio == pytest.approx(100, rel=0.1)  # 20 dB apart
    encode_aac(loud, tmp_path / "mix.m4a")
    assert probe_audio(tmp_path / "mix.m4a").kind == "m4a"


def test_deleting_a_recorded_line_deletes_its_files(say, scene, owner):
    line = say(scene, "Go.")
    say(scene, "Stay.")
    recording = recordings.line_recording_upload(line=line, user=owner, upload=upload(wav(tone(1.0))))
    original = recording.original.name
    dialogue.dialogue_line_delete(line=line, user=owner, expected_version=line.version)
    assert not LineRecording.objects.exists()
    assert not recording.original.storage.exists(original)
