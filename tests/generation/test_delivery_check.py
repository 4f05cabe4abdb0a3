"""What a provider delivered is checked against what the take booked."""

import uuid
from dataclasses import asdict
from decimal import Decimal
from fractions import Fraction

import av
import numpy as np
import pytest
from django.core.exceptions import ValidationError

from generation.models import Status
from generation.previz.animatic import probe_video, render_animatic, video_container
from generation.renders import services
from generation.renders.delivery import delivered_facts, delivery_blocks_approval
from projects.models import ReviewDecision
from projects.review import services as review
from tests.fakes.provider_server import FIXTURE


def make_clip(path, *, width, height, seconds, audio=True, codec="libx264", container="mp4",
              audio_codec="aac"):
    """A tiny real clip: a few frames per second keep it fast to encode."""
    fps = 4
    with av.open(str(path), "w", format=container) as out:
        video = out.add_stream(codec, rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        sound = out.add_stream(audio_codec, rate=48000) if audio else None
        for i in range(int(seconds * fps)):
            frame = av.VideoFrame.from_ndarray(np.full((height, width, 3), i * 9 % 255, np.uint8), format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            out.mux(video.encode(frame))
        out.mux(video.encode())
        if sound:
            samples = 1024
            for i in range(int(seconds * 48000 / samples)):
                frame = av.AudioFrame.from_ndarray(np.zeros((1, samples), np.float32), format="fltp", layout="mono")
                frame.sample_rate, frame.pts = 48000, i * samples
                out.mux(sound.encode(frame))
            out.mux(sound.encode())
    return path


def render_on(connection, scene, user, capture):
    with capture(execute=True):
        take, _ = services.render_create(scene=scene, user=user, connection=connection, model_id="veo-3.1",
                                         idempotency_key=uuid.uuid4())
    take.refresh_from_db()
    return take


@pytest.fixture
def landscape_four_seconds(make_scene):
    return make_scene(duration=4)


def test_a_2s_portrait_clip_for_a_4s_landscape_booking_is_kept_with_its_mismatch_in_words(
        gateway, landscape_four_seconds, editor, provider_server, django_capture_on_commit_callbacks):
    # The fake's own clip is 720×1280 and 2 s long.
    take = render_on(gateway, landscape_four_seconds, editor, django_capture_on_commit_callbacks)
    assert take.status == Status.SUCCEEDED, take.error_message
    assert take.recipe["parameters"]["size"] == "1280x720"
    assert take.delivery_problems == ["720×1280 instead of the booked 1280×720", "2 s instead of the booked 4 s"]
    assert (take.delivered["width"], take.delivered["height"], take.delivered["duration"]) == (720, 1280, 2.0)
    # The provider billed the booking: the recorded cost and the project's spend stay what was booked.
    assert take.cost == Decimal("1.6")
    landscape_four_seconds.project.refresh_from_db()
    assert landscape_four_seconds.project.render_spend == Decimal("1.6")


def test_a_clip_delivered_as_booked_has_no_problems(
        gateway, landscape_four_seconds, editor, provider_server, django_capture_on_commit_callbacks, tmp_path):
    provider_server.content_path = make_clip(tmp_path / "ok.mp4", width=1280, height=720, seconds=4)
    take = render_on(gateway, landscape_four_seconds, editor, django_capture_on_commit_callbacks)
    assert take.status == Status.SUCCEEDED, take.error_message
    assert take.delivery_problems == []
    assert delivery_blocks_approval(take) is None


def test_a_silent_clip_from_a_model_that_promises_audio_is_flagged(
        gateway, landscape_four_seconds, editor, provider_server, django_capture_on_commit_callbacks, tmp_path):
    gateway.models.filter(model_id="veo-3.1").update(has_audio=True)
    provider_server.content_path = make_clip(tmp_path / "mute.mp4", width=1280, height=720, seconds=4, audio=False)
    take = render_on(gateway, landscape_four_seconds, editor, django_capture_on_commit_callbacks)
    assert take.delivery_problems == ["no sound, though the model promises audio"]


def test_an_hevc_clip_is_flagged_as_not_playable_everywhere(
        gateway, landscape_four_seconds, editor, provider_server, django_capture_on_commit_callbacks, tmp_path):
    provider_server.content_path = make_clip(tmp_path / "hevc.mp4", width=1280, height=720, seconds=4,
                                             codec="libx265")
    take = render_on(gateway, landscape_four_seconds, editor, django_capture_on_commit_callbacks)
    assert len(take.delivery_problems) == 1 and "hevc" in take.delivery_problems[0]


@pytest.fixture
def mismatched_take(gateway, landscape_four_seconds, editor, provider_server, django_capture_on_commit_callbacks):
    return render_on(gateway, landscape_four_seconds, editor, django_capture_on_commit_callbacks)


def test_a_mismatched_take_cannot_be_approved_by_a_reviewer(mismatched_take, reviewer):
    with pytest.raises(ValidationError, match="other than what was booked"):
        review.take_approve(take=mismatched_take, user=reviewer)
    with pytest.raises(ValidationError, match="Only an owner"):
        review.take_approve(take=mismatched_take, user=reviewer, override_reason="Looks fine to me")
    mismatched_take.scene.refresh_from_db()
    assert mismatched_take.scene.approved_take is None


def test_an_owner_overrides_with_a_written_reason_recorded_in_the_history(mismatched_take, owner):
    with pytest.raises(ValidationError, match="writes the reason"):
        review.take_approve(take=mismatched_take, user=owner, override_reason="   ")
    review.take_approve(take=mismatched_take, user=owner, override_reason="Portrait suits the phone cut")
    mismatched_take.scene.refresh_from_db()
    assert mismatched_take.scene.approved_take == mismatched_take
    decision = ReviewDecision.objects.get(take=mismatched_take)
    assert "720×1280 instead of the booked 1280×720" in decision.note
    assert "Reason: Portrait suits the phone cut" in decision.note


def test_the_take_card_and_review_page_show_delivered_against_booked(mismatched_take, client, reviewer):
    client.force_login(reviewer)
    page = client.get(f"/takes/{mismatched_take.pk}/review/")
    assert page.status_code == 200
    assert "Delivered 720×1280, 2.0 s; booked 1280×720, 4 s" in page.content.decode()
    response = client.post(f"/takes/{mismatched_take.pk}/decide/", {"decision": "approve"})
    assert response.status_code == 422  # the review page again, with the reason shown
    assert "other than what was booked" in response.content.decode()
    mismatched_take.scene.refresh_from_db()
    assert mismatched_take.scene.approved_take is None


def facts_by_decoding(path) -> dict:
    """What the check used to learn by letting FFmpeg decode the first frames: the reference."""
    facts = asdict(probe_video(path))
    del facts["pix_fmt"]  # the one fact only a decoded frame gives; the check never read it
    facts["duration"] = round(float(facts["duration"] or 0), 3)
    try:
        facts["container"] = video_container(path)
    except ValueError:
        facts["container"] = "other"
    return facts


DELIVERIES = {
    "the provider's signed mp4": lambda tmp: FIXTURE,
    "h264 and aac, landscape": lambda tmp: make_clip(tmp / "a.mp4", width=320, height=180, seconds=4),
    "h264, portrait, silent": lambda tmp: make_clip(tmp / "b.mp4", width=180, height=320, seconds=2, audio=False),
    "hevc": lambda tmp: make_clip(tmp / "c.mp4", width=320, height=180, seconds=2, codec="libx265"),
    "vp9 and opus in webm": lambda tmp: make_clip(tmp / "d.mp4", width=320, height=180, seconds=2, codec="libvpx-vp9",
                                                  container="webm", audio_codec="libopus"),
    "h264 in mov": lambda tmp: make_clip(tmp / "e.mp4", width=320, height=180, seconds=2, container="mov"),
    "a previz animatic": lambda tmp: previz(tmp / "f.mp4"),
}


def previz(path):
    render_animatic(out_path=path, width=320, height=180, seconds=1, title="Dawn", prompt="A harbour at dawn.",
                    scene_number=1)
    return path


@pytest.mark.parametrize("delivery", DELIVERIES)
def test_the_header_probe_finds_what_decoding_finds(delivery, tmp_path):
    path = DELIVERIES[delivery](tmp_path)
    assert delivered_facts(path) == facts_by_decoding(path)
