"""Exact frames of a stored video (generation/storage/frames.py): the last decoded, not the last keyframe."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest
from PIL import Image

from generation.storage import frames

FPS, COUNT, GOP = 24, 30, 12  # keyframes at 0, 12 and 24: the last frame (29) is no keyframe


def shade(number: int) -> int:
    return 20 + number * 7  # a grey level per frame, far enough apart to survive H.264


@pytest.fixture(scope="module")
def numbered_video(tmp_path_factory):
    """A 30-frame H.264 clip whose frame n is a flat grey of shade(n), keyframes every 12 frames."""
    path = tmp_path_factory.mktemp("frames") / "numbered.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = 320, 180, "yuv420p"
        stream.options = {"g": str(GOP), "keyint_min": str(GOP), "sc_threshold": "0", "bf": "0", "crf": "10"}
        for n in range(COUNT):
            pixels = np.full((180, 320, 3), shade(n), dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def grey(png: bytes) -> int:
    with Image.open(io.BytesIO(png)) as image:
        return round(float(np.asarray(image.convert("L")).mean()))


def test_it_takes_the_last_decoded_frame_not_the_last_keyframe(numbered_video):
    frame = frames.extract(str(numbered_video))

    assert frame.index == COUNT - 1
    assert abs(grey(frame.png) - shade(COUNT - 1)) <= 3
    assert abs(grey(frame.png) - shade(24)) > 20  # the last keyframe is another picture


def test_it_takes_exactly_the_frame_asked_for_between_keyframes(numbered_video):
    frame = frames.extract(str(numbered_video), index=17)

    assert frame.index == 17
    assert abs(grey(frame.png) - shade(17)) <= 3


def test_the_first_frame_is_frame_zero(numbered_video):
    frame = frames.extract(str(numbered_video), index=0)

    assert (frame.index, frame.width, frame.height) == (0, 320, 180)
    assert abs(grey(frame.png) - shade(0)) <= 3


def test_the_png_says_which_frame_it_is(numbered_video):
    assert frames.index_of(frames.extract(str(numbered_video), index=5).png) == 5


def test_it_reads_from_an_open_file_as_from_a_path(numbered_video):
    with numbered_video.open("rb") as fh:
        assert frames.extract(fh).index == COUNT - 1


def test_it_refuses_a_frame_past_the_end(numbered_video):
    with pytest.raises(ValueError, match="no frame 30"):
        frames.extract(str(numbered_video), index=COUNT)


def test_it_refuses_what_is_not_a_video(tmp_path):
    path = tmp_path / "not.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42 not really a video")
    with pytest.raises(ValueError):
        frames.extract(str(path))
