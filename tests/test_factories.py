"""The test factories stay honest: a take made without the encode is the take a real render makes."""

from generation.models import Status

SAME = ("status", "progress", "provider", "model", "cost", "duration_seconds", "delivered", "delivery_problems",
        "c2pa_state", "c2pa_codes", "c2pa_summary", "error_message")


def test_a_finished_take_without_the_encode_has_every_field_a_real_take_has(scene, render_take, finished_take):
    real, quick = render_take(scene), finished_take(scene)
    assert real.status == Status.SUCCEEDED
    assert {f: getattr(quick, f) for f in SAME} == {f: getattr(real, f) for f in SAME}
    assert quick.video.size > 0 and quick.thumbnail.size > 0
    assert (quick.recipe, quick.parent_id, quick.number) == (real.recipe, None, real.number + 1)


def test_a_take_booked_without_the_encode_reuses_the_first_encode_of_its_size_and_length(
        scene, make_scene, render_take, previz_without_encode, monkeypatch):
    from generation.previz import animatic

    render_take(scene)  # the first of its size and length in the session may be encoded

    def no_drawing(*args, **kwargs):
        raise AssertionError("the animatic was drawn again")

    monkeypatch.setattr(animatic, "_Layers", no_drawing)
    take = render_take(make_scene(title="Dusk", prompt="Boats come home at dusk."))
    assert take.status == Status.SUCCEEDED, take.error_message
    assert take.delivered["width"] == 1280 and take.delivery_problems == []
