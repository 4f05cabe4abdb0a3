"""The offline speech engine: English and French spoken from the wheel's own voices, in its own
process (its GPL licence stays out of the studio's), fast enough to speak a line in well under 0.5 s."""

import hashlib
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from generation.sound import speech
from generation.sound.audio import SAMPLE_RATE
from tests.sound.helpers import band_energy


def cpu_seconds() -> float:
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def test_it_speaks_english_and_french_lines_as_speech():
    english, french = speech.synthesize([
        speech.SpeechRequest("Morning, Anna. Did you sleep at all last night?", "en-us+m3"),
        speech.SpeechRequest("Bonjour Anna, as-tu dormi cette nuit ? Moi, pas du tout.", "fr+f2"),
    ])
    for spoken in (english, french):
        assert 1.0 < len(spoken) / SAMPLE_RATE < 6.0
        # Speech lives in the voice band: far more energy there than under it.
        assert band_energy(spoken) > 20 * band_energy(spoken, low=20, high=80)
        assert np.max(np.abs(spoken)) > 0.05


def test_french_words_are_spoken_with_french_rules_not_english_ones():
    text = "Les enfants sont partis au marché avec leurs parents."
    as_french, as_english = speech.synthesize([speech.SpeechRequest(text, "fr+m3"), speech.SpeechRequest(text, "en-us+m3")])
    # The same letters read by two languages' rules come out as different sounds of different lengths
    # (French drops the written endings English would pronounce).
    assert abs(len(as_french) - len(as_english)) > 0.1 * SAMPLE_RATE


def test_rate_and_pitch_change_the_voice():
    text = "The boat leaves at six, with or without you."
    slow, fast = speech.synthesize([speech.SpeechRequest(text, "en+m3", rate=100),
                                    speech.SpeechRequest(text, "en+m3", rate=240)])
    assert len(slow) > 1.8 * len(fast)
    assert speech.SpeechRequest(text, "en+m3", pitch=20).key != speech.SpeechRequest(text, "en+m3", pitch=70).key


def test_the_cache_key_names_words_voice_rate_and_pitch():
    base = speech.SpeechRequest("Hello.", "en-us+f2", rate=165, pitch=50)
    assert base.key == speech.SpeechRequest("Hello.", "en-us+f2", rate=165, pitch=50).key
    assert len({base.key, speech.SpeechRequest("Hello!", "en-us+f2").key,
                speech.SpeechRequest("Hello.", "en-us+f4").key,
                speech.SpeechRequest("Hello.", "en-us+f2", rate=166).key}) == 4


def test_it_refuses_a_voice_it_does_not_have():
    with pytest.raises(speech.SpeechError):
        speech.synthesize([speech.SpeechRequest("Hello.", "klingon+m3")])


def test_control_characters_are_not_spoken_and_do_not_break_the_engine():
    (spoken,) = speech.synthesize([speech.SpeechRequest("Run!\x00\x1b[31m Now.\u202e", "en+m3")])
    assert 0.3 < len(spoken) / SAMPLE_RATE < 3


def test_the_engine_runs_in_its_own_process_never_in_the_studios():
    speech.synthesize([speech.SpeechRequest("Nothing of the engine stays here.", "en+m3")])
    assert "espeakng_loader" not in sys.modules
    maps = Path("/proc/self/maps").read_text()
    assert "libespeak-ng" not in maps


def test_a_ten_word_line_takes_under_half_a_second_of_cpu():
    line = speech.SpeechRequest("We should leave before the tide turns against us tonight.", "en-us+m3")
    speech.synthesize([line])  # the page cache warm, as on a worker that has spoken before
    before, wall = cpu_seconds(), time.perf_counter()
    speech.synthesize([line])
    assert cpu_seconds() - before <= 0.5
    assert time.perf_counter() - wall < 5


def test_default_voices_are_steady_for_a_name_and_in_the_projects_language():
    assert speech.default_voice("ANNA", "fr") == speech.default_voice("anna ", "fr")
    assert speech.default_voice("ANNA", "fr").startswith("fr+")
    assert speech.default_voice("ANNA", "xx").startswith("en-us+")
    assert len({speech.default_voice(n) for n in ("ANNA", "BOB", "CLAIRE", "DAVID", "EVA", "FRANK")}) >= 3


@pytest.mark.parametrize("text, voice, rate, pitch", [
    ("Hello.", "en-us+f2", 165, 50), ('Say "hi" \\ back', "fr+m3", 80, 0), ("Déjà vu, à l’aube ?", "fr+f4", 260, 99),
    ("Tab\there\nand 🌊 \u200b", "de+m1", 120, 7), ("", "en+m7", 165, 50),
])
def test_the_cache_key_is_the_json_of_engine_words_voice_rate_and_pitch(text, voice, rate, pitch):
    # Speech already made is found by this key: written out by hand for speed, it must stay the same bytes.
    payload = json.dumps([speech.ENGINE, speech.clean_text(text), voice, rate, pitch])
    assert speech.SpeechRequest(text, voice, rate=rate, pitch=pitch).key == hashlib.sha256(payload.encode()).hexdigest()
