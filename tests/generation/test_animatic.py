"""The local previz provider renders a real, playable H.264/AAC animatic of a scene."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from generation.previz.animatic import (
    VideoInfo,
    extract_thumbnail,
    probe_video,
    render_animatic,
)

SCENE = dict(
    title="The Lighthouse Keeper",
    prompt="A weathered keeper climbs the spiral stairs at dusk as a storm rolls in.",
    scene_number=3,
    camera_notes="Slow push-in, low angle",
)


def render(path: Path, *, width=320, height=180, seconds=2, **overrides) -> Path:
    render_animatic(out_path=path, width=width, height=height, seconds=seconds,
                    **{**SCENE, **overrides})
    return path


def decoded_frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """One short 320x180 clip shared by the read-only specs below."""
    return render(tmp_path_factory.mktemp("animatic") / "scene-3.mp4")


def test_it_renders_exact_duration_size_and_fps(clip):
    info = probe_video(clip)

    assert info == VideoInfo(duration=2.0, width=320, height=180, fps=24.0, video_codec="h264",
                             pix_fmt="yuv420p", audio_codec="aac", audio_sample_rate=48000)
    assert len(decoded_frames(clip)) == 2 * 24


def test_it_renders_a_720p_clip(tmp_path):
    info = probe_video(render(tmp_path / "hd.mp4", width=1280, height=720, seconds=1))

    assert (info.width, info.height, info.duration, info.fps) == (1280, 720, 1.0, 24.0)


def test_it_honours_a_custom_frame_rate(tmp_path):
    path = tmp_path / "30fps.mp4"
    render_animatic(out_path=path, width=160, height=90, seconds=1, fps=30, **SCENE)

    assert probe_video(path).fps == 30.0
    assert len(decoded_frames(path)) == 30


def test_it_has_an_aac_audio_bed_as_long_as_the_video(clip):
    with av.open(str(clip)) as container:
        stream = container.streams.audio[0]
        assert stream.duration * stream.time_base == 2
        samples = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(stream)])

    # Decoders pad the short final AAC frame (the container's duration above is exact).
    assert 2 * 48000 <= len(samples) < 2 * 48000 + 1024
    peak = np.abs(samples).max()
    assert 0.02 < peak < 0.15, "a quiet bed: audible, far from clipping"
    assert np.abs(samples[:100]).max() < 0.01, "it fades in from silence"
    assert np.abs(samples[-100:]).max() < 0.01, "it fades out to silence"


@pytest.mark.parametrize(("width", "height"), [(180, 320), (256, 256), (720, 1280)])
def test_portrait_and_square_sizes_render(tmp_path, width, height):
    info = probe_video(render(tmp_path / "clip.mp4", width=width, height=height, seconds=1))

    assert (info.width, info.height, info.duration) == (width, height, 1.0)


def test_timecode_changes_between_frames(clip):
    first, second = decoded_frames(clip)[:2]
    changed_rows, changed_cols = np.nonzero(np.abs(first.astype(int) - second).max(axis=2) > 40)

    assert changed_rows.size, "consecutive frames must differ (running timecode)"
    # The camera has not moved yet, so the change is the timecode: bottom-right corner.
    assert changed_rows.min() > 180 * 0.85
    assert changed_cols.min() > 320 * 0.5


def test_the_camera_moves_over_the_clip(clip):
    frames = decoded_frames(clip)
    board = slice(0, 150)  # above the HUD bar

    assert np.abs(frames[0][board].astype(int) - frames[-1][board]).mean() > 2


def test_each_scene_gets_its_own_background(tmp_path):
    one = decoded_frames(render(tmp_path / "a.mp4", width=160, height=90, seconds=1))[0]
    two = decoded_frames(render(tmp_path / "b.mp4", width=160, height=90, seconds=1,
                                title="Night Market"))[0]

    assert np.abs(one[:5, :5].astype(int) - two[:5, :5]).mean() > 5


def test_thumbnail_is_a_jpeg_of_the_requested_width(clip, tmp_path):
    thumb = tmp_path / "thumb.jpg"
    extract_thumbnail(clip, thumb, max_width=160)

    with Image.open(thumb) as image:
        assert image.format == "JPEG"
        assert image.size == (160, 90)


def test_thumbnail_can_be_taken_at_a_given_time_and_never_upscales(clip, tmp_path):
    start, end = tmp_path / "start.jpg", tmp_path / "end.jpg"
    extract_thumbnail(clip, start, at_seconds=0.0, max_width=640)
    extract_thumbnail(clip, end, at_seconds=99.0, max_width=640)  # past the end: last frame

    with Image.open(start) as a, Image.open(end) as b:
        assert a.size == b.size == (320, 180)
        assert np.abs(np.asarray(a, dtype=int) - np.asarray(b)).mean() > 2


def test_a_poster_is_the_keyframe_a_full_decode_gives(tmp_path):
    """Posters are taken from the headers without a probing decode: the picture is the same."""
    from tests.fakes.provider_server import FIXTURE

    extract_thumbnail(FIXTURE, tmp_path / "poster.jpg", exact=False, max_width=720)
    with av.open(str(FIXTURE)) as container:
        stream = container.streams.video[0]
        container.seek(int(float(stream.duration * stream.time_base) / 2 / stream.time_base), stream=stream,
                       backward=True)
        frame = next(container.decode(stream)).to_ndarray(format="rgb24")
    with Image.open(tmp_path / "poster.jpg") as poster:
        assert poster.size == (720, 1280)
        assert np.abs(np.asarray(poster, dtype=int) - frame).mean() < 3  # JPEG's loss only


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (dict(width=321), "width"),
        (dict(height=181), "height"),
        (dict(width=0), "width"),
        (dict(width=32), "width"),
        (dict(width=4098), "width"),
        (dict(height=-180), "height"),
        (dict(seconds=0), "seconds"),
        (dict(seconds=61), "seconds"),
    ],
)
def test_it_rejects_odd_sizes_and_bad_durations(tmp_path, overrides, message):
    with pytest.raises(ValueError, match=message):
        render(tmp_path / "bad.mp4", **overrides)
    assert list(tmp_path.iterdir()) == []


def test_progress_is_reported_up_to_100(tmp_path):
    seen: list[int] = []
    render(tmp_path / "clip.mp4", width=160, height=90, on_progress=seen.append)

    assert seen[0] == 0 and seen[-1] == 100
    assert seen == sorted(set(seen)), "strictly increasing"
    assert len(seen) <= 21, "throttled: the caller writes each value to the database"


def test_a_failed_render_leaves_nothing_behind(tmp_path):
    def crash(percent):
        if percent >= 50:
            raise RuntimeError("worker killed")

    with pytest.raises(RuntimeError):
        render(tmp_path / "clip.mp4", width=160, height=90, on_progress=crash)
    assert list(tmp_path.iterdir()) == []


def test_the_same_scene_renders_to_the_same_bytes(tmp_path):
    one = render(tmp_path / "one.mp4", width=160, height=90, seconds=1)
    two = render(tmp_path / "two.mp4", width=160, height=90, seconds=1)

    assert one.read_bytes() == two.read_bytes()


def test_rendering_replaces_an_existing_file(tmp_path):
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"old take")
    render(path, width=160, height=90, seconds=1)

    assert probe_video(path).duration == 1.0


def test_very_long_text_still_renders(tmp_path):
    words = "an endless prompt with a supercalifragilisticexpialidociouslylongword " * 200
    path = render(tmp_path / "clip.mp4", width=160, height=90, seconds=1,
                  title=words, prompt=words, camera_notes=words)

    assert probe_video(path).duration == 1.0


def test_long_text_is_wrapped_to_the_frame_and_cut_with_an_ellipsis():
    from PIL import ImageFont

    from generation.previz.animatic import _wrap

    font = ImageFont.load_default(size=20)
    lines = _wrap("word " * 500, font, width=200, max_lines=3)

    assert len(lines) == 3
    assert all(font.getlength(line) <= 200 for line in lines)
    assert lines[-1].endswith("…")
    assert _wrap("short prompt", font, width=200, max_lines=3) == ["short prompt"]
    assert _wrap(" " * 5000, font, width=200, max_lines=3) == []


def test_probe_rejects_a_file_that_is_not_video(tmp_path):
    junk = tmp_path / "notes.mp4"
    junk.write_text("definitely not an mp4")

    with pytest.raises(ValueError, match="not a playable video"):
        probe_video(junk)


def test_probe_rejects_audio_without_video(tmp_path):
    path = tmp_path / "bed.m4a"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=48000, layout="mono")
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp",
                                           layout="mono")
        frame.sample_rate, frame.pts = 48000, 0
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))

    with pytest.raises(ValueError, match="not a playable video"):
        probe_video(path)


def test_probe_rejects_a_missing_file(tmp_path):
    with pytest.raises(ValueError, match="not a playable video"):
        probe_video(tmp_path / "missing.mp4")


def test_a_quick_thumbnail_takes_the_keyframe_before_the_moment(tmp_path):
    from generation.previz.animatic import extract_thumbnail, render_animatic

    video = tmp_path / "clip.mp4"
    render_animatic(out_path=video, width=320, height=180, seconds=2, title="T", prompt="p", scene_number=1)
    extract_thumbnail(video, tmp_path / "quick.jpg", exact=False)
    extract_thumbnail(video, tmp_path / "exact.jpg")
    from PIL import Image

    with Image.open(tmp_path / "quick.jpg") as quick, Image.open(tmp_path / "exact.jpg") as exact:
        assert quick.size == exact.size == (320, 180)
