"""The previz shows the scene: its reference image, its cast, any Unicode, its dialogue as subtitles."""

import io
from pathlib import Path

import av
import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw, ImageFont

from generation.models import PrevizJob, Status
from generation.previz import animatic
from generation.previz.animatic import FONTS, dialogue_lines, render_animatic, subtitle_timings
from projects.characters import consent
from projects.models import CharacterKind
from projects.storyboard.services import scene_set_reference

RED, BLUE = (220, 40, 40), (30, 60, 220)


def halves(width=640, height=360) -> Image.Image:
    """Left half red, right half blue: easy to find again after fitting and a small camera move."""
    image = Image.new("RGB", (width, height), BLUE)
    image.paste(RED, (0, 0, width // 2, height))
    return image


def frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def mean(frame: np.ndarray, x0: float, x1: float, y0: float, y1: float) -> np.ndarray:
    h, w, _ = frame.shape
    return frame[int(h * y0):int(h * y1), int(w * x0):int(w * x1)].reshape(-1, 3).mean(axis=0)


def render(tmp_path, name="clip.mp4", *, prompt="A quiet harbour.", seconds=2, title="Harbour",
           **extra) -> Path:
    out = tmp_path / name
    render_animatic(out_path=out, width=320, height=180, seconds=seconds, title=title, prompt=prompt,
                    scene_number=1, **extra)
    return out


def test_a_frame_shows_the_reference_image_below_the_caption(tmp_path):
    first, last = (frames(render(tmp_path, background=halves()))[k] for k in (0, -1))
    for frame in (first, last):  # the whole camera move stays on the picture
        # Below the caption, left: the red half; right: the blue half.
        assert np.abs(mean(frame, 0.05, 0.3, 0.62, 0.78) - RED).max() < 12
        assert np.abs(mean(frame, 0.7, 0.95, 0.62, 0.78) - BLUE).max() < 12
    plain = frames(render(tmp_path, "plain.mp4"))[0]
    assert np.abs(mean(plain, 0.05, 0.3, 0.62, 0.78) - RED).max() > 60  # without it: the gradient


def test_cast_portraits_are_drawn_on_the_board(tmp_path):
    green = Image.new("RGB", (90, 120), (40, 200, 60))
    frame = frames(render(tmp_path, cast=[("Rita", green)]))[0].astype(int)
    h, w, _ = frame.shape
    is_green = (np.abs(frame - (40, 200, 60)).max(axis=2) < 20)
    # The portrait sits at the safe area's top right, and nowhere else.
    assert is_green[:h // 2, w * 3 // 4:].sum() > 200
    assert is_green[:, :w // 2].sum() == 0


def glyph(text: str, width: int | None = None) -> bytes:
    """`text` drawn as the previz draws it (each character in the first font that has it), as pixels
    on a canvas 64 px a character wide (or `width` characters, to compare texts of other lengths)."""
    from PIL import ImageDraw

    image = Image.new("L", (64 * (width or max(1, len(text))), 80))
    animatic._text(ImageDraw.Draw(image), (4, 8), text, animatic._font(48), fill=255)
    return image.tobytes()


MISSING = "\ue000"  # a private-use code point no bundled font maps: drawn as the replacement mark


def notdef_box() -> bytes:
    """The empty box a font draws for a character it has no glyph for (here DejaVu's), as pixels."""
    from PIL import ImageDraw

    image = Image.new("L", (64, 80))
    ImageDraw.Draw(image).text((4, 8), MISSING, font=animatic._font(48).primary, fill=255)
    return image.tobytes()


def test_the_bundled_font_draws_accents_and_dashes_not_empty_boxes():
    assert (FONTS / "DejaVuSans.ttf").is_file() and (FONTS / "LICENSE").is_file()
    missing = glyph(MISSING)
    for text in ("é", "—", "Ω", "Ж", "“"):
        drawn = glyph(text)
        assert drawn != missing and any(drawn), f"{text!r} renders as the missing-glyph box"
    assert glyph("café") != glyph("caf" + MISSING)


def test_chinese_and_japanese_are_drawn_with_the_bundled_fallback_not_as_boxes():
    assert (FONTS / animatic.FALLBACK_FONT).is_file() and (FONTS / "LICENSE-Apache-2.0").is_file()
    missing = glyph(MISSING)
    drawn = {char: glyph(char) for char in "写真カフェ"}
    for char, pixels in drawn.items():
        assert pixels != missing and any(pixels), f"{char!r} renders as the missing-glyph box"
    assert len(set(drawn.values())) == 5  # five different glyphs, not one box five times
    # Mixed with Latin on one line, each part keeps its own glyphs.
    assert glyph("Café 写真") != glyph("Café " + MISSING * 2)


def test_korean_hangul_is_drawn_with_the_bundled_hangul_font_not_as_boxes():
    assert (FONTS / animatic.HANGUL_FONT).is_file() and (FONTS / "LICENSE-Nanum-OFL-1.1").is_file()
    box, mark = notdef_box(), glyph("\ufffd")
    drawn = {char: glyph(char) for char in "안녕한국"}
    for char, pixels in drawn.items():
        assert pixels not in (box, mark) and any(pixels), f"{char!r} renders as a box or a mark"
    assert len(set(drawn.values())) == 4  # four different syllables, not one box four times
    assert glyph("Café 안녕") != glyph("Café " + MISSING * 2)
    # 가 is one of the few syllables Droid Sans Fallback has: it is still drawn in the Hangul font.
    nanum = Image.new("L", (64, 80))
    ImageDraw.Draw(nanum).text((4, 8), "가", font=ImageFont.truetype(str(FONTS / animatic.HANGUL_FONT), 48), fill=255)
    assert glyph("가") == nanum.tobytes()


def test_an_emoji_is_drawn_as_its_glyph_or_as_the_replacement_mark_never_as_an_empty_box():
    assert (FONTS / animatic.SYMBOLS_FONT).is_file() and (FONTS / "LICENSE-Noto-OFL-1.1").is_file()
    box, mark = notdef_box(), glyph("\ufffd")
    assert mark != box and any(mark)
    drawn = {emoji: glyph(emoji) for emoji in "😀🎬👍❤"}  # in DejaVu or Noto Sans Symbols 2
    for emoji, pixels in drawn.items():
        assert pixels not in (box, mark) and any(pixels), f"{emoji!r} renders as a box or a mark"
    assert len(set(drawn.values())) == 4
    # 🦄 is in no bundled font (nor is a private-use character): the visible mark, not a box.
    assert glyph("🦄") == glyph(MISSING) == mark
    assert glyph("Scene 🦄") == glyph("Scene \ufffd")
    # Modifiers no font draws (skin tone, emoji presentation, joiner) add no marks of their own.
    for modified, plain in (("👍🏽", "👍"), ("❤\ufe0f", "❤"), ("🎬\u200d🎬", "🎬🎬")):
        assert glyph(modified, width=3) == glyph(plain, width=3), f"{modified!r} draws more than {plain!r}"
    assert not any(glyph("\U0001f3fd"))  # a lone skin tone draws nothing, and does not fail


def test_a_frame_shows_a_cjk_title_and_prompt_where_boxes_would_be(tmp_path):
    def first_frame(name, title, prompt):
        return frames(render(tmp_path, name, title=title, prompt=prompt, background=halves()))[0].astype(int)

    written = first_frame("cjk.mp4", "写真", "カフェ")
    boxes = first_frame("boxes.mp4", MISSING * 2, MISSING * 3)
    # The caption sits at the top left: it differs there (DejaVu alone draws both as boxes:
    # the two frames would be identical), and only there.
    h, w, _ = written.shape
    caption = np.abs(written - boxes)[: h // 2, : w * 3 // 5]
    assert caption.max() > 100 and (caption > 60).sum() > 40
    assert np.abs(written - boxes)[h // 2:].max() < 40  # below it: the same picture


def test_dialogue_lines_are_found_and_directions_are_not():
    prompt = ("Wide shot: rain on the café window.\nCAMERA: slow push-in\nRITA: We’re closed — sorry.\n"
              "Tom shrugs and says “Then I’ll wait.”")
    assert dialogue_lines(prompt) == ["RITA: We’re closed — sorry.", "Then I’ll wait."]
    assert dialogue_lines("A harbour at dawn.") == []


def test_subtitles_share_the_clip_in_reading_order():
    assert subtitle_timings(["RITA: Hi.", "TOMS: Hi."], 4) == [(0.0, pytest.approx(2.0)), (pytest.approx(2.0), 4.0)]


def test_each_line_appears_as_a_subtitle_while_it_is_due(tmp_path):
    spoken = frames(render(tmp_path, prompt="A harbour.\nRITA: Good morning.\nTOM: Is it, now?"))
    silent = frames(render(tmp_path, "silent.mp4", prompt="A harbour."))
    box = (0.15, 0.85, 0.80, 0.87)  # the subtitle strip, just above the HUD

    def strip(frame):
        h, w, _ = frame.shape
        return frame[int(h * box[2]):int(h * box[3]), int(w * box[0]):int(w * box[1])].astype(int)

    first, second = spoken[12], spoken[36]  # 0.5 s and 1.5 s into a 2 s clip with two equal lines
    assert np.abs(strip(first) - strip(silent[12])).mean() > 10  # a subtitle is drawn…
    assert np.abs(strip(first) - strip(second)).mean() > 5  # …and a different one later
    assert np.abs(strip(spoken[11]) - strip(first)).mean() < 3  # the same line across its time


def test_a_previz_take_draws_the_scenes_reference_image_and_cast(make_scene, render_take, editor, team, owner):
    from tests.projects.test_consent import photo

    robo = consent.character_create(team=team, user=owner, name="Robo", kind=CharacterKind.FICTIONAL,
                                    images=[photo()], declares_fictional=True)
    scene = make_scene(prompt="@Robo waits.\nROBO: Beep — café?")
    buffer = io.BytesIO()
    halves(1280, 720).save(buffer, format="PNG")
    scene_set_reference(scene=scene, user=editor, upload=SimpleUploadedFile("ref.png", buffer.getvalue()),
                        fit="crop")
    scene.refresh_from_db()
    take = render_take(scene)
    assert take.status == Status.SUCCEEDED, take.error_message
    assert take.recipe["previz_cast"] == [{"name": "Robo", "image": robo.images.get().image.name}]
    assert PrevizJob.objects.get(pk=take.provider_job_id).spec["recipe"]["reference_image"]
    with take.video.open("rb") as fh:
        first = next(iter(av.open(fh).decode(video=0))).to_ndarray(format="rgb24")
    assert np.abs(mean(first, 0.05, 0.3, 0.62, 0.72) - RED).max() < 12
    assert np.abs(mean(first, 0.62, 0.8, 0.62, 0.72) - BLUE).max() < 12
