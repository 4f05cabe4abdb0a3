"""The previz animatic speaks its scene's lines (no pad tone), with each line subtitled while it is
spoken, and plays the project's bed under them."""

import numpy as np
import pytest
from django.core.files.base import ContentFile

from generation.sound.audio import SAMPLE_RATE, wav_bytes
from projects.models import SoundBed, SoundStatus
from projects.storyboard.dialogue import services as dialogue
from tests.sound.helpers import band_energy, soundtrack, tone, window


@pytest.fixture
def spoken_scene(make_scene, owner, django_capture_on_commit_callbacks):
    scene = make_scene(duration=6)
    with django_capture_on_commit_callbacks(execute=True):
        dialogue.dialogue_line_add(scene=scene, user=owner, speaker=(None, "ANNA"), text="Morning. Is the boat ready?")
        dialogue.dialogue_line_add(scene=scene, user=owner, speaker=(None, "BOB"), text="Nearly.")
    return scene


def test_the_previz_speaks_where_the_lines_are_and_is_silent_elsewhere(spoken_scene, render_take):
    take = render_take(spoken_scene)
    sound = soundtrack(take)
    assert len(sound) == pytest.approx(6 * SAMPLE_RATE, abs=SAMPLE_RATE // 10)
    # The lines' times, from the same layout the previz used: 0.5 s pause, line, 0.5 s, line.
    from projects.storyboard.sound import mix

    (first, second) = mix.scene_cues(spoken_scene)
    for cue in (first, second):
        speech = window(sound, cue.start + 0.05, cue.end - 0.05)
        assert band_energy(speech) > 1e-4, cue.text
    quiet = [window(sound, 0.0, first.start - 0.05), window(sound, first.end + 0.1, second.start - 0.05),
             window(sound, second.end + 0.15, 6.0)]
    for stretch in quiet:
        assert len(stretch) > SAMPLE_RATE // 20
        assert np.sqrt(np.mean(np.square(stretch))) < 0.003  # silence: no pad tone under the lines
    loud = np.sqrt(np.mean(np.square(window(sound, first.start, first.end))))
    assert loud > 0.03


def test_subtitles_follow_the_speech(spoken_scene, render_take):
    from generation.previz import animatic, jobs

    seen = {}
    real = animatic.render_animatic

    def spy(**kwargs):
        seen.update(kwargs)
        return real(**kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jobs.animatic, "render_animatic", spy)
        render_take(spoken_scene)
    (a_start, a_end, a_text), (b_start, b_end, b_text) = seen["subtitles"]
    assert (a_text, b_text) == ("ANNA: Morning. Is the boat ready?", "BOB: Nearly.")
    assert a_start == pytest.approx(0.5) and b_start == pytest.approx(a_end + 0.5, abs=0.01)
    assert a_end - a_start > 1.0 and b_end - b_start < a_end - a_start


def test_a_scene_without_lines_keeps_its_pad_tone(make_scene, render_take):
    sound = soundtrack(render_take(make_scene(duration=2)))
    assert np.sqrt(np.mean(np.square(window(sound, 0.8, 1.2)))) > 0.02


def test_the_bed_plays_under_the_lines_ducked(spoken_scene, render_take, project):
    bed = SoundBed(project=project, kind="wav", status=SoundStatus.READY, level_db=0, duck_db=-20, start_at=0)
    bed.original.save("bed.wav", ContentFile(wav_bytes(tone(30, freq=60, amplitude=0.2))), save=False)
    bed.audio.save("bed.wav", ContentFile(wav_bytes(tone(30, freq=60, amplitude=0.2))), save=False)
    bed.save()
    sound = soundtrack(render_take(spoken_scene))
    from projects.storyboard.sound import mix

    first, _second = mix.scene_cues(spoken_scene)
    before = np.sqrt(np.mean(np.square(window(sound, 0.0, first.start - 0.1))))
    assert before == pytest.approx(0.2 / np.sqrt(2), rel=0.15)
    # The bed's 60 Hz hum (under any voice's pitch), in equal windows before and during the first line.
    under = band_energy(window(sound, first.start + 0.3, first.start + 0.7), low=55, high=65)
    alone = band_energy(window(sound, 0.0, 0.4), low=55, high=65)
    assert under < alone / 30  # ducked by 20 dB: a hundredth of the power
