"""The sound's pages: the Sound page (settings, the bed, plain names' voices), each line's voice and
recording in the side panel, a scene following its lines, a character's voice and voice sample.
Every bad input is answered in words in the page, never a 500."""

import time

import pytest
from django.urls import reverse

from projects.characters import consent
from projects.models import (
    CharacterKind,
    LineRecording,
    Role,
    Scene,
    SoundBed,
    SoundStatus,
    SpeakerVoice,
)
from projects.storyboard.dialogue import services as dialogue
from tests.factories import photo
from tests.sound.helpers import encoded, lying_flac, tone, upload, wav

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def line(scene, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return dialogue.dialogue_line_add(scene=scene, user=owner, speaker=(None, "ANNA"),
                                          text="The ferry is late again.")


@pytest.fixture
def maya(team, make_member):
    person = make_member(team, Role.EDITOR, "maya")
    return consent.character_create(team=team, user=person, name="Maya", kind=CharacterKind.PERSON,
                                    person=person, images=[photo()])


def panel(client, scene):
    return client.get(reverse("projects:scene_panel", args=[scene.project_id, scene.pk])).content.decode()


def test_the_panel_plays_each_line_in_its_voice(client_for, editor, scene, line):
    page = panel(client_for(editor), scene)
    assert reverse("projects:line_audio", args=[scene.pk, line.pk]) in page
    assert 'data-state="spoken"' in page
    audio = client_for(editor).get(reverse("projects:line_audio", args=[scene.pk, line.pk]))
    assert audio.status_code == 200 and audio["Content-Type"] == "audio/wav"
    assert audio["X-Content-Type-Options"] == "nosniff"


def test_a_line_not_spoken_yet_says_so(client_for, editor, scene, owner):
    late = dialogue.dialogue_line_add(scene=scene, user=owner, speaker=(None, "BOB"), text="Wait.")  # not committed
    page = panel(client_for(editor), scene)
    assert 'data-state="speaking"' in page and "Being spoken" in page
    assert client_for(editor).get(reverse("projects:line_audio", args=[scene.pk, late.pk])).status_code == 404


def test_an_upload_replaces_the_line_in_the_panel(client_for, editor, scene, line, django_capture_on_commit_callbacks):
    client = client_for(editor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("projects:line_recording", args=[scene.pk, line.pk]),
                               {"file": upload(encoded(tone(2.0), fmt="mp3", codec="libmp3lame"), "take.txt")}, **HX)
    assert response.status_code == 200
    assert "Recording kept" in response.content.decode()
    recording = LineRecording.objects.get()
    assert recording.kind == "mp3" and recording.status == SoundStatus.READY
    assert 'data-state="recorded"' in panel(client, scene)
    audio = client.get(reverse("projects:line_audio", args=[scene.pk, line.pk]))
    assert audio["Content-Type"] == "audio/wav"  # the prepared copy; the original is kept as it came
    response = client.post(reverse("projects:line_recording_remove", args=[scene.pk, line.pk]), **HX)
    assert not LineRecording.objects.exists() and 'data-state="spoken"' in response.content.decode()


@pytest.mark.parametrize("data, words", [
    (b"GIF89a not sound", "not a sound file"),
    (b"", "The file is empty"),
])
def test_bad_audio_is_answered_in_the_panel(client_for, editor, scene, line, data, words):
    response = client_for(editor).post(reverse("projects:line_recording", args=[scene.pk, line.pk]),
                                       {"file": upload(data, "voice.wav")}, **HX)
    assert response.status_code == 200  # htmx swaps the section, whose message says what to do
    assert words in response.content.decode()
    assert not LineRecording.objects.exists()


def test_without_javascript_a_refused_recording_shows_the_board_with_the_reason(client_for, editor, scene, line):
    response = client_for(editor).post(reverse("projects:line_recording", args=[scene.pk, line.pk]),
                                       {"file": upload(b"nope", "voice.wav")})
    assert response.status_code == 400 and "not a sound file" in response.content.decode()


def test_a_persons_line_without_voice_consent_is_refused_in_words(client_for, editor, scene, maya, owner):
    consent.consent_grant(character=maya, user=maya.person)
    spoken = dialogue.dialogue_line_add(scene=scene, user=owner, speaker=(maya, ""), text="It's me.")
    response = client_for(editor).post(reverse("projects:line_recording", args=[scene.pk, spoken.pk]),
                                       {"file": upload(wav(tone(1.0)))}, **HX)
    assert "Maya has not consented to the use of their recorded voice." in response.content.decode()
    assert not LineRecording.objects.exists()


def test_a_revoked_voice_consent_withholds_the_recording_in_the_panel_and_at_its_address(
        client_for, editor, scene, maya, owner, django_capture_on_commit_callbacks):
    consent.consent_grant(character=maya, user=maya.person, covers_voice=True)
    with django_capture_on_commit_callbacks(execute=True):
        spoken = dialogue.dialogue_line_add(scene=scene, user=owner, speaker=(maya, ""), text="It's me.")
        client_for(editor).post(reverse("projects:line_recording", args=[scene.pk, spoken.pk]),
                                {"file": upload(wav(tone(4.0, freq=90)))}, **HX)
    client = client_for(editor)
    recorded = client.get(reverse("projects:line_audio", args=[scene.pk, spoken.pk]))
    assert b"".join(recorded.streaming_content) == LineRecording.objects.get().audio.open("rb").read()
    consent.consent_revoke(character=maya, user=maya.person)
    page = panel(client, scene)
    assert 'data-state="withheld"' in page and "Maya has revoked consent." in page
    now = client.get(reverse("projects:line_audio", args=[scene.pk, spoken.pk]))
    assert b"".join(now.streaming_content) != LineRecording.objects.get().audio.open("rb").read()


def test_fit_to_dialogue_is_switched_in_the_panel_and_retimes_the_scene(client_for, editor, scene, line,
                                                                       django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(editor).post(reverse("projects:scene_fit", args=[scene.pk]), {"fit": "on"}, **HX)
    assert "The scene follows its lines." in response.content.decode()
    scene.refresh_from_db()
    assert scene.fit_to_dialogue and scene.duration == 3  # 0.5 + ~1.7 s + 0.5
    board = client_for(editor).get(reverse("projects:project_detail", args=[scene.project_id])).content.decode()
    assert 'data-testid="total-runtime">0:03' in board or ">3 s<" in board or "0:03" in board


def test_a_viewer_cannot_record_or_fit(client_for, viewer, scene, line):
    client = client_for(viewer)
    assert client.post(reverse("projects:line_recording", args=[scene.pk, line.pk]),
                       {"file": upload(wav(tone(1.0)))}).status_code == 403
    assert client.post(reverse("projects:scene_fit", args=[scene.pk]), {"fit": "on"}).status_code == 403
    assert "data-record" not in panel(client, scene)


# --- the Sound page --------------------------------------------------------------------------------


def test_the_sound_page_takes_a_bed_and_places_it(client_for, editor, project, django_capture_on_commit_callbacks):
    client = client_for(editor)
    assert client.get(reverse("projects:project_sound", args=[project.pk])).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("projects:sound_bed_upload", args=[project.pk]),
                               {"file": upload(encoded(tone(3.0), fmt="flac", codec="flac"), "harbour.flac")})
    assert response.status_code == 302
    bed = SoundBed.objects.get()
    assert (bed.kind, bed.status, bed.name) == ("flac", SoundStatus.READY, "harbour.flac")
    response = client.post(reverse("projects:sound_bed_place", args=[project.pk]),
                           {"start_at": "4.5", "level_db": "-10", "duck_db": "-15"})
    assert response.status_code == 302
    bed.refresh_from_db()
    assert (bed.start_at, bed.level_db, bed.duck_db) == (4.5, -10, -15)
    page = client.get(reverse("projects:project_sound", args=[project.pk])).content.decode()
    assert reverse("projects:sound_bed_file", args=[project.pk]) in page
    assert client.get(reverse("projects:sound_bed_file", args=[project.pk]))["Content-Type"] == "audio/wav"


def test_a_two_hour_bed_is_refused_from_its_header_without_decoding(client_for, editor, project):
    started = time.process_time()
    response = client_for(editor).post(reverse("projects:sound_bed_upload", args=[project.pk]),
                                       {"file": upload(lying_flac(2 * 3600), "night.flac")})
    assert time.process_time() - started < 1.0  # a header read, not two hours of decoding
    assert response.status_code == 400
    assert "A sound bed lasts at most 30:00; this one lasts 2:00:00." in response.content.decode()
    assert not SoundBed.objects.exists()


@pytest.mark.parametrize("data, words", [
    (b"<html>not music</html>", "not a sound file"),
])
def test_a_bed_that_is_not_sound_is_refused_in_words(client_for, editor, project, data, words):
    response = client_for(editor).post(reverse("projects:sound_bed_upload", args=[project.pk]),
                                       {"file": upload(data, "bed.mp3")})
    assert response.status_code == 400 and words in response.content.decode()


def test_a_browser_recording_is_no_bed(client_for, editor, project):
    response = client_for(editor).post(reverse("projects:sound_bed_upload", args=[project.pk]),
                                       {"file": upload(encoded(tone(1.0), fmt="webm", codec="libopus"), "bed.wav")})
    assert response.status_code == 400 and "is not taken here" in response.content.decode()


@pytest.mark.parametrize("fields, words", [
    ({"start_at": "-1", "level_db": "0", "duck_db": "-12"}, "starts at 0 seconds or later"),
    ({"start_at": "0", "level_db": "20", "duck_db": "-12"}, "At most +6 dB."),
    ({"start_at": "0", "level_db": "0", "duck_db": "5"}, "A dip lowers the bed"),
    ({"start_at": "soon", "level_db": "0", "duck_db": "-12"}, "Give the start in seconds"),
])
def test_a_bed_placed_out_of_range_is_refused_in_words(client_for, editor, project, fields, words):
    SoundBed.objects.create(project=project, kind="wav", original="x.wav")
    response = client_for(editor).post(reverse("projects:sound_bed_place", args=[project.pk]), fields)
    assert response.status_code == 400 and words in response.content.decode()


def test_a_plain_name_gets_a_voice_on_the_sound_page(client_for, editor, project, line):
    client = client_for(editor)
    page = client.get(reverse("projects:project_sound", args=[project.pk])).content.decode()
    assert "ANNA" in page and "(the default for the name)" in page
    response = client.post(reverse("projects:speaker_voice", args=[project.pk]),
                           {"name": "ANNA", "voice": "fr+f2", "rate": "150", "pitch": "40"})
    assert response.status_code == 302
    assert SpeakerVoice.objects.get().voice == "fr+f2"
    bad = client.post(reverse("projects:speaker_voice", args=[project.pk]),
                      {"name": "ANNA", "voice": "en+m3", "rate": "9000", "pitch": "40"})
    assert bad.status_code == 400 and "At most 260 words a minute." in bad.content.decode()


def test_sound_settings_are_checked_in_words(client_for, editor, project):
    response = client_for(editor).post(reverse("projects:project_sound", args=[project.pk]), {
        "voice_language": "fr", "dialogue_pause": "9", "take_audio_level_db": "-6"})
    assert response.status_code == 400 and "A pause is at most 3 seconds." in response.content.decode()
    response = client_for(editor).post(reverse("projects:project_sound", args=[project.pk]), {
        "voice_language": "fr", "dialogue_pause": "1.0", "take_audio_level_db": "-6"})
    assert response.status_code == 302
    project.refresh_from_db()
    assert (project.voice_language, float(project.dialogue_pause), project.take_audio_level_db) == ("fr", 1.0, -6)


def test_a_new_pause_retimes_the_scenes_that_follow_their_lines(client_for, editor, project, scene, line,
                                                               django_capture_on_commit_callbacks):
    Scene.objects.filter(pk=scene.pk).update(fit_to_dialogue=True)
    with django_capture_on_commit_callbacks(execute=True):
        client_for(editor).post(reverse("projects:project_sound", args=[project.pk]), {
            "voice_language": "en-us", "dialogue_pause": "3.0", "take_audio_level_db": "0"})
    assert Scene.objects.get(pk=scene.pk).duration >= 8


# --- a character's voice ---------------------------------------------------------------------------


def test_a_characters_voice_is_chosen_on_their_page(client_for, editor, maya):
    client = client_for(editor)
    response = client.post(reverse("projects:character_voice", args=[maya.pk]),
                           {"voice": "fr+m3", "rate": "140", "pitch": "30"})
    assert response.status_code == 302
    maya.refresh_from_db()
    assert (maya.voice, maya.voice_rate, maya.voice_pitch) == ("fr+m3", 140, 30)
    assert "French — male voice 1" in client.get(reverse("projects:character_detail", args=[maya.pk])).content.decode()
    bad = client.post(reverse("projects:character_voice", args=[maya.pk]), {"voice": "zz", "rate": "140", "pitch": "30"})
    assert bad.status_code == 400 and "Choose a voice from the list." in bad.content.decode()


def test_a_voice_sample_is_refused_until_consent_covers_voice(client_for, editor, maya):
    client = client_for(editor)
    page = client.get(reverse("projects:character_detail", args=[maya.pk])).content.decode()
    assert "No voice sample can be kept: Maya has not granted consent yet." in page
    response = client.post(reverse("projects:character_voice_sample", args=[maya.pk]), {"file": upload(wav(tone(1)))})
    assert response.status_code == 400 and "Maya has not granted consent yet." in response.content.decode()
    consent.consent_grant(character=maya, user=maya.person, covers_voice=True)
    assert client.post(reverse("projects:character_voice_sample", args=[maya.pk]),
                       {"file": upload(wav(tone(1)))}).status_code == 302
    assert client.get(reverse("projects:character_voice_sample_file", args=[maya.pk])).status_code == 200
    consent.consent_revoke(character=maya, user=maya.person)
    assert client.get(reverse("projects:character_voice_sample_file", args=[maya.pk])).status_code == 403
    page = client.get(reverse("projects:character_detail", args=[maya.pk])).content.decode()
    assert "Withheld: Maya has revoked consent." in page
    own = client_for(maya.person).get(reverse("projects:character_voice_sample_file", args=[maya.pk]))
    assert own.status_code == 200  # her own voice, still hers to hear


def test_the_person_grants_their_recorded_voice_on_the_consent_form(client_for, maya):
    client = client_for(maya.person)
    response = client.post(reverse("projects:character_consent", args=[maya.pk]),
                           {"scope": "team", "covers_voice": "on"})
    assert response.status_code == 302
    assert maya.active_grant().covers_voice
    assert "recorded voice too" in client.get(reverse("projects:character_detail", args=[maya.pk])).content.decode()
