"""Sound files are what their bytes say, decoded with a length limit, evened out in loudness; the
mix lays lines out, plays a bed from its start time and ducks it under speech."""

import numpy as np
import pytest

from generation.sound import mixing
from generation.sound.audio import (
    BED_KINDS,
    SAMPLE_RATE,
    AudioError,
    decode_audio,
    loudness_db,
    normalise_loudness,
    probe_audio,
)
from tests.sound.helpers import encoded, lying_flac, tone, wav


@pytest.mark.parametrize("fmt, codec, kind", [
    ("wav", "pcm_s16le", "wav"), ("mp3", "libmp3lame", "mp3"), ("adts", "aac", "aac"), ("flac", "flac", "flac"),
    ("ipod", "aac", "m4a"), ("ogg", "libopus", "ogg"), ("webm", "libopus", "webm"),
])
def test_the_kind_comes_from_the_bytes_whatever_the_name(tmp_path, fmt, codec, kind):
    path = tmp_path / "called-it.txt"
    path.write_bytes(encoded(tone(1.0), fmt=fmt, codec=codec))
    info = probe_audio(path)
    assert info.kind == kind
    assert info.seconds is None or 0.9 < info.seconds < 1.2


def test_it_refuses_what_is_not_sound(tmp_path):
    for name, data in (("page.mp3", b"<html><script>alert(1)</script></html>"), ("empty.wav", b""),
                       ("cut.wav", wav(tone(1.0))[:30])):
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(AudioError, match="not a sound file"):
            probe_audio(path)


def test_a_bed_refuses_a_kind_only_recordings_take(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(encoded(tone(1.0), fmt="ogg", codec="libopus"))
    with pytest.raises(AudioError, match="not taken here"):
        probe_audio(path, kinds=BED_KINDS)


def test_decoding_stops_at_the_limit_even_when_the_header_lies_short(tmp_path):
    path = tmp_path / "long"
    path.write_bytes(wav(tone(5.0)))
    with pytest.raises(AudioError, match="more than 2 seconds"):
        decode_audio(path, max_seconds=2)
    assert len(decode_audio(path, max_seconds=10)) == pytest.approx(5 * SAMPLE_RATE, abs=SAMPLE_RATE // 100)


def test_a_header_claiming_two_hours_is_read_as_two_hours_without_decoding(tmp_path):
    path = tmp_path / "claims"
    path.write_bytes(lying_flac(2 * 3600))
    assert probe_audio(path).seconds == pytest.approx(7200, abs=1)


def test_loudness_is_evened_out_and_never_clips():
    quiet, _ = normalise_loudness(tone(2.0, amplitude=0.01))
    loud, _ = normalise_loudness(tone(2.0, amplitude=0.9))
    assert loudness_db(quiet) == pytest.approx(-20, abs=0.5)
    assert loudness_db(loud) == pytest.approx(-20, abs=0.5)
    spiky = np.concatenate([tone(2.0, amplitude=0.001), np.array([0.9], np.float32)])
    assert np.max(np.abs(normalise_loudness(spiky)[0])) <= 10 ** (-1 / 20) + 1e-4
    silence = np.zeros(SAMPLE_RATE, np.float32)
    assert not np.any(normalise_loudness(silence)[0])


def test_lines_follow_each_other_with_the_pause_around_them():
    assert mixing.line_starts([1.0, 2.0, 0.5], pause=0.5) == [0.5, 2.0, 4.5]
    assert mixing.spoken_length([1.0, 2.0, 0.5], pause=0.5) == pytest.approx(5.5)
    assert mixing.spoken_length([], pause=0.5) == 0


def test_the_bed_plays_from_its_start_at_its_level():
    bed = np.ones(SAMPLE_RATE * 10, np.float32)
    segment = mixing.bed_segment(bed, bed_start=2.0, level_db=-6, t0=0.0, t1=4.0)
    assert not np.any(segment[:2 * SAMPLE_RATE - 1])
    assert segment[3 * SAMPLE_RATE] == pytest.approx(10 ** (-6 / 20), rel=1e-3)
    after = mixing.bed_segment(bed, bed_start=2.0, level_db=0, t0=11.0, t1=13.0)
    assert after[0] == 1 and not np.any(after[SAMPLE_RATE + 10:])  # the bed ends 12 s into the board


def test_the_bed_dips_under_speech_and_comes_back_after():
    bed = np.full(SAMPLE_RATE * 6, 0.5, np.float32)
    dialogue = np.zeros_like(bed)
    dialogue[2 * SAMPLE_RATE:3 * SAMPLE_RATE] = tone(1.0)
    ducked = mixing.duck(bed, dialogue, depth_db=-12)
    at = lambda s: ducked[int(s * SAMPLE_RATE)]  # noqa: E731
    assert at(0.5) == pytest.approx(0.5)
    assert at(2.5) == pytest.approx(0.5 * 10 ** (-12 / 20), rel=0.02)
    assert at(1.99) < 0.45  # already dipping as the line starts
    assert at(5.5) == pytest.approx(0.5)


def test_a_sum_that_would_clip_is_bent_not_clipped():
    out = mixing.mix(np.full(100, 0.8, np.float32), np.full(100, 0.8, np.float32))
    assert np.max(out) < 1.0
