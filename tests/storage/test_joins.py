"""Two clips made one (generation/storage/joins.py): a take and the new part a provider returned for it.

Clips of the same codec parameters are joined by copying their packets; any other pair is decoded and
encoded once more at the first clip's size. Either way the picture plays first clip, then second, and
the join is where the first clip's picture ended.
"""

from __future__ import annotations

import av
import numpy as np
import pytest

from generation.storage import joins

FPS = 24


def clip(path, *, shade: int, frames: int, size=(320, 180), sound: bool = True, crf: str = "18"):
    """An H.264 clip of flat grey `shade`, with a quiet AAC tone when `sound`."""
    width, height = size
    with av.open(str(path), "w", format="mp4") as out:
        video = out.add_stream("libx264", rate=FPS, options={"crf": crf, "bf": "0"})
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        audio = out.add_stream("aac", rate=48000, layout="mono") if sound else None
        for n in range(frames):
            picture = av.VideoFrame.from_ndarray(np.full((height, width, 3), shade, dtype=np.uint8), format="rgb24")
            out.mux(video.encode(picture))
        out.mux(video.encode(None))
        if audio is not None:
            samples = int(48000 * frames / FPS)
            tone = (0.1 * np.sin(np.arange(samples) * 2 * np.pi * 440 / 48000)).astype(np.float32)
            for start in range(0, samples, 1024):
                chunk = tone[start:start + 1024]
                frame = av.AudioFrame.from_ndarray(chunk[None, :], format="fltp", layout="mono")
                frame.sample_rate, frame.pts = 48000, start
                out.mux(audio.encode(frame))
            out.mux(audio.encode(None))
    return path


def shades(path) -> list[int]:
    with av.open(str(path)) as video:
        return [round(float(f.to_ndarray(format="gray").mean())) for f in video.decode(video=0)]


def picture_seconds(path) -> float:
    with av.open(str(path)) as video:
        stream = video.streams.video[0]
        assert stream.duration is not None and stream.time_base is not None
        return float(stream.duration * stream.time_base)


@pytest.fixture
def take(tmp_path):
    return clip(tmp_path / "take.mp4", shade=60, frames=48)  # 2 s


def test_clips_of_the_same_parameters_are_joined_by_copying_their_packets(take, tmp_path):
    new = clip(tmp_path / "new.mp4", shade=180, frames=72)  # 3 s, encoded alike

    joined = joins.join_clips(take, new, tmp_path / "whole.mp4")

    assert joined == joins.Joined(join_seconds=2.0, duration=5.0, method=joins.STREAM_COPY)
    seen = shades(tmp_path / "whole.mp4")
    assert len(seen) == 120 and set(seen[:48]) <= {59, 60, 61} and set(seen[48:]) <= {179, 180, 181}
    with av.open(str(tmp_path / "whole.mp4")) as whole:
        sound = whole.streams.audio[0]
        assert float(sound.duration * sound.time_base) == pytest.approx(5.0, abs=0.05)


def test_a_new_part_of_another_size_is_encoded_again_at_the_takes_size(take, tmp_path):
    new = clip(tmp_path / "new.mp4", shade=180, frames=24, size=(160, 90))

    joined = joins.join_clips(take, new, tmp_path / "whole.mp4")

    assert joined.method == joins.RE_ENCODED and joined.join_seconds == pytest.approx(2.0)
    with av.open(str(tmp_path / "whole.mp4")) as whole:
        stream = whole.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (320, 180)
    seen = shades(tmp_path / "whole.mp4")
    assert len(seen) == 72 and abs(seen[10] - 60) <= 2 and abs(seen[60] - 180) <= 2


def test_a_silent_new_part_is_joined_with_silence_so_the_sound_stays_in_step(take, tmp_path):
    new = clip(tmp_path / "new.mp4", shade=180, frames=48, sound=False)

    joined = joins.join_clips(take, new, tmp_path / "whole.mp4")

    assert joined.method == joins.RE_ENCODED
    with av.open(str(tmp_path / "whole.mp4")) as whole:
        sound = whole.streams.audio[0]
        assert float(sound.duration * sound.time_base) == pytest.approx(4.0, abs=0.1)
    assert picture_seconds(tmp_path / "whole.mp4") == pytest.approx(4.0, abs=0.05)


def test_a_file_that_is_not_a_video_is_refused_and_leaves_nothing_behind(take, tmp_path):
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 200)
    with pytest.raises(ValueError, match="could not be joined"):
        joins.join_clips(take, garbage, tmp_path / "whole.mp4")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["garbage.mp4", "take.mp4"]
