"""Extend a take: a finished take continued by N seconds, booked as a new take in its stack,
through the one booking path (consent, budgets, policy, retirement, the one-click key), kept whole with its
join recorded, and signed naming the take it continues."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from decimal import Decimal

import av
import c2pa
import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from generation.models import CatalogModel, Lifecycle, Render, Status
from generation.previz import animatic
from generation.provenance.credentials import TAKE_LABEL, studio_ca_from_settings
from generation.providers import connections
from generation.renders import extension, pipeline, services
from generation.spend import budget
from generation.storage import joins
from projects import selectors
from projects.audit import AuditEntry
from projects.characters import consent
from projects.models import (
    Activity,
    ActivityKind,
    AuditAction,
    CharacterKind,
    Decision,
    ReviewDecision,
    Role,
)
from projects.storyboard.services import scene_cast_add
from tests.conftest import priced_gateway_create
from tests.factories import photo
from tests.provenance_helpers import tamper

PREVIZ = "previz-animatic-1"


@pytest.fixture
def extend(django_capture_on_commit_callbacks, editor):
    """Book an extension and run it to its end (tasks inline), as one click on the take card does."""

    def run(take, choice=f"{PREVIZ}@3", *, user=None, prompt="", key=None, override_reason=None):
        with django_capture_on_commit_callbacks(execute=True):
            child, _created = extension.render_extend(render=take, user=user or editor, choice=choice, prompt=prompt,
                                                      idempotency_key=key or uuid.uuid4(),
                                                      override_reason=override_reason)
        child.refresh_from_db()
        return child

    return run


def refused(take, choice=f"{PREVIZ}@3", *, user, override_reason=None) -> str:
    before = Render.objects.count()
    with pytest.raises(ValidationError) as caught:
        extension.render_extend(render=take, user=user, choice=choice, prompt="", idempotency_key=uuid.uuid4(),
                                override_reason=override_reason)
    assert Render.objects.count() == before  # nothing booked
    return " ".join(caught.value.messages)


def read_store(take) -> dict:
    ca = studio_ca_from_settings()
    assert ca is not None, "the tests run with a studio CA"
    anchors = ca.decode()
    with take.video.open("rb") as fh, c2pa.Context.from_dict({"trust": {"user_anchors": anchors}}) as context:
        with c2pa.Reader.try_create("video/mp4", fh, None, context) as reader:
            return json.loads(reader.json())


def mean_colour(take, at: float) -> np.ndarray:
    with take.video.open("rb") as fh, av.open(fh) as clip:
        stream = clip.streams.video[0]
        for frame in clip.decode(stream):
            if frame.time >= at:
                return frame.to_ndarray(format="rgb24").reshape(-1, 3).mean(axis=0)
    raise AssertionError(f"no frame at {at} s")


# --- The whole flow, offline ------------------------------------------------------------------


def test_a_previz_take_extended_by_three_seconds_is_kept_whole_with_its_join_marked(scene, render_take, extend):
    take = render_take(scene)
    child = extend(take, prompt="The mist lifts over the quay.")

    assert child.status == Status.SUCCEEDED, child.error_message
    assert (child.scene_id, child.parent_id, child.number) == (scene.pk, take.pk, 2)
    assert child.lineage == "Extension of take 1"
    assert child.join_seconds == pytest.approx(take.duration_seconds, abs=0.01)
    assert child.duration_seconds == pytest.approx(take.duration_seconds + 3, abs=0.05)
    assert child.delivery_problems == []  # booked: the take's 2 s and the 3 new ones
    assert child.recipe["prompt"] == "The mist lifts over the quay."
    assert child.recipe["extend_of"]["take"] == {"id": take.pk, "number": 1}
    # The first part is the extended take's own picture, frame for frame at its start.
    assert np.abs(mean_colour(child, 0.0) - mean_colour(take, 0.0)).max() < 3


def test_the_continuation_is_drawn_from_the_takes_last_frame(scene, render_take, extend):
    take = render_take(scene)
    child = extend(take)
    assert child.recipe["extend_of"]["last_frame"]["frame"] == round(take.duration_seconds * 24) - 1
    assert child.recipe["extend_of"]["returns"] == "new"  # the previz draws only the new part: the studio joins it


def test_the_extension_costs_the_new_seconds_at_the_catalog_price(scene, finished_take, extend, previz_without_encode):
    take = finished_take(scene)
    CatalogModel.objects.filter(kind="local", model_id=PREVIZ).update(price_per_second={"*": 0.25})

    child = extend(take, f"{PREVIZ}@4")

    assert child.cost == Decimal("1.00")  # 4 s × $0.25, not the 6 s of the whole clip
    assert child.recipe["parameters"]["seconds"] == 4


def test_one_click_books_one_extension(scene, finished_take, extend, previz_without_encode):
    take = finished_take(scene)
    key = uuid.uuid4()
    first = extend(take, key=key)
    again = extend(take, key=key)
    assert first.pk == again.pk and Render.objects.filter(parent=take).count() == 1


def test_an_extension_can_be_extended_again(scene, finished_take, extend, previz_without_encode):
    take = finished_take(scene)
    once = extend(take, f"{PREVIZ}@2")
    twice = extend(once, f"{PREVIZ}@2")
    assert twice.lineage == "Extension of take 2"
    assert twice.join_seconds == pytest.approx(once.duration_seconds, abs=0.01)
    assert twice.duration_seconds == pytest.approx(take.duration_seconds + 4, abs=0.1)


# --- Every rule of booking, with a message ----------------------------------------------------


def test_it_refuses_a_length_the_model_does_not_extend_by(scene, finished_take, editor):
    take = finished_take(scene)
    assert refused(take, f"{PREVIZ}@25", user=editor) == \
        "Previz animatic extends a take by 1–20 seconds, not 25."


def test_it_refuses_a_model_that_does_not_extend_and_names_the_ones_that_do(scene, finished_take, editor, team, owner):
    gateway = priced_gateway_create(team=team, owner=owner)
    take = finished_take(scene)
    Render.objects.filter(pk=take.pk).update(connection=gateway, provider="openai-videos", model="wan-2.7")
    take.refresh_from_db()

    assert refused(take, "wan-2.7@4", user=editor) == \
        "Wan 2.7 does not extend takes. No model on Gateway extends takes: render a new take instead."

    CatalogModel.objects.filter(connection=gateway).update(extend_seconds=[4, 8], extend_returns="whole")
    connections.catalog_register_model(connection=gateway, model_id="plain", display_name="Plain", sizes=["1280x720"],
                                       durations=[4], price_per_second=0.1)
    take = Render.objects.get(pk=take.pk)  # a new request: the team's models read afresh
    assert refused(take, "plain@4", user=editor) == ("Plain does not extend takes. Models on Gateway that extend "
                                                    "takes: Wan 2.7: +4 or 8 s, from $2.00.")


def test_it_refuses_a_take_that_has_not_finished(scene, finished_take, editor):
    take = finished_take(scene)
    Render.objects.filter(pk=take.pk).update(status=Status.FAILED)
    take.refresh_from_db()
    assert refused(take, user=editor) == "Only a finished take can be extended; take 1 has not finished."


def test_it_never_extends_a_withheld_take_not_even_for_an_owner_with_a_reason(scene, finished_take, owner):
    take = finished_take(scene)
    Render.objects.filter(pk=take.pk).update(quarantined_at=timezone.now(), quarantine_reason="Anna withdrew consent")
    take.refresh_from_db()
    assert refused(take, user=owner, override_reason="I really need this shot, trust me.") == \
        "Take 1 is withheld (Anna withdrew consent): it cannot be extended."


def test_a_tampered_take_is_extended_only_by_an_owner_with_a_reason(scene, render_take, editor, owner, extend):
    take = tamper(render_take(scene))

    assert "Take 1 cannot be extended. Its content credentials failed" in refused(take, user=editor)
    assert "Only an owner can extend it anyway" in refused(take, user=editor,
                                                             override_reason="I checked it with the vendor.")
    assert "in a sentence" in refused(take, user=owner, override_reason="ok")

    reason = "The vendor re-muxed it; the picture is what we booked."
    child = extend(take, user=owner, override_reason=reason)

    assert child.status == Status.SUCCEEDED, child.error_message
    kept = child.recipe["extend_override"]
    assert kept["by"] == owner.get_username() and kept["reason"].startswith(f"Reason: {reason} (extended despite:")
    (decision,) = selectors.history(scene)
    assert (decision.decision, decision.take_id, decision.note) == (Decision.EXTEND_OVERRIDE, take.pk, kept["reason"])
    assert Activity.objects.get(kind=ActivityKind.EXTEND_OVERRIDE).take_id == child.pk
    assert AuditEntry.objects.get(action=AuditAction.EXTENDED_DESPITE_CHECKS).details["extension"] == child.number


def test_a_take_delivered_other_than_booked_needs_an_owners_reason(scene, finished_take, owner):
    take = finished_take(scene)
    Render.objects.filter(pk=take.pk).update(delivery_problems=["2 s instead of the booked 4 s"])
    take.refresh_from_db()
    assert "delivered something other than what was booked: 2 s instead" in refused(take, user=owner)
    assert not ReviewDecision.objects.exists()


def test_it_refuses_an_extension_past_the_projects_budget_with_what_is_left(scene, finished_take, editor, project):
    take = finished_take(scene)
    CatalogModel.objects.filter(kind="local", model_id=PREVIZ).update(price_per_second={"*": 1.0})
    project.budget = Decimal("2.00")
    project.save()

    words = refused(take, f"{PREVIZ}@3", user=editor)

    assert words.startswith("Over budget: this costs $3.00") and "$2.00 left" in words
    assert budget.committed(project) == Decimal("0")


def test_the_projects_model_policy_holds_for_extensions(scene, finished_take, editor, project):
    take = finished_take(scene)
    project.allowed_models = ["veo-3.1-generate-preview"]
    project.save()
    assert "model policy doesn't allow Previz animatic" in refused(take, user=editor)


def test_a_retired_model_extends_nothing(scene, finished_take, editor):
    take = finished_take(scene)
    CatalogModel.objects.filter(kind="local", model_id=PREVIZ).update(lifecycle=Lifecycle.RETIRED)
    assert "Previz animatic was retired." in refused(take, user=editor)


def test_an_unreadable_choice_is_refused_in_words(scene, finished_take, editor):
    take = finished_take(scene)
    for choice in ("", "previz-animatic-1", "previz-animatic-1@", "previz-animatic-1@seven", "@3", "x@²"):
        assert refused(take, choice, user=editor) == "Choose how much to extend the take by."


# --- Consent: whoever the take shows is in its extension --------------------------------------


@pytest.fixture
def anna(team, make_member):
    person = make_member(team, Role.EDITOR, "anna")
    character = consent.character_create(team=team, user=person, name="Anna", kind=CharacterKind.PERSON,
                                         person=person, description="green scarf", images=[photo()])
    consent.consent_grant(character=character, user=person)
    return character


def test_the_extension_casts_whoever_the_take_shows_and_checks_their_consent(
        scene, finished_take, anna, editor, extend, previz_without_encode):
    scene_cast_add(scene=scene, character=anna, user=editor)
    take = finished_take(scene)
    child = extend(take)
    assert list(child.characters.all()) == [anna]

    anna.grants.update(expires_at=timezone.now() - timedelta(days=1))
    words = refused(take, user=editor)
    assert words.startswith("The extended take (scene 1, take 1) shows Anna: ")


def test_revoking_consent_withholds_the_extension_and_a_queued_one_is_never_sent(
        scene, finished_take, anna, editor, django_capture_on_commit_callbacks):
    scene_cast_add(scene=scene, character=anna, user=editor)
    take = finished_take(scene)
    with django_capture_on_commit_callbacks(execute=False):  # booked, not yet sent
        queued, _ = extension.render_extend(render=take, user=editor, choice=f"{PREVIZ}@3", prompt="",
                                            idempotency_key=uuid.uuid4())

    consent.consent_revoke(character=anna, user=anna.person)
    pipeline.render_submit(queued.pk)

    queued.refresh_from_db()
    assert queued.quarantined_at is not None
    assert queued.status == Status.CANCELED and queued.error_message.startswith("Consent revoked")


# --- Provenance -------------------------------------------------------------------------------


def test_the_extensions_manifest_names_the_extended_take_as_parent_and_records_the_join(
        scene, finished_take, extend, previz_without_encode):
    take = finished_take(scene)
    child = extend(take)

    store = read_store(child)
    manifest = store["manifests"][store["active_manifest"]]
    relations = {i["relationship"]: i["title"] for i in manifest["ingredients"]}
    assert relations["parentOf"] == "Scene 1: Dawn (take 1)"
    assert relations["componentOf"] == f"local {PREVIZ} continuation"
    said = next(a["data"] for a in manifest["assertions"] if a["label"] == TAKE_LABEL)["extension"]
    assert said["take"] == take.pk and said["take_number"] == 1 and said["seconds"] == 3
    assert said["join_seconds"] == child.join_seconds and said["joined"] == "stream copy"
    actions = next(a["data"]["actions"] for a in manifest["assertions"] if a["label"].startswith("c2pa.actions"))
    assert [a["action"] for a in actions] == ["c2pa.opened", "c2pa.placed"]
    assert f"at {child.join_seconds:.2f} s" in actions[1]["description"]
    assert store["validation_state"] in ("Valid", "Trusted")


# --- A provider that returns the whole clip ---------------------------------------------------


@pytest.fixture
def fal(team, owner, fal_server):
    return connections.connection_create(team=team, user=owner, kind="fal", label="fal", base_url=fal_server.url,
                                         api_key=fal_server.api_key)


def test_a_whole_clip_from_the_provider_is_kept_as_it_came_with_the_join_where_the_take_ended(
        scene, finished_take, fal, fal_server, extend, monkeypatch, tmp_path):
    take = finished_take(scene)  # 2 s at 1280x720, moved onto fal as if fal had made it
    Render.objects.filter(pk=take.pk).update(connection=fal, provider="fal", model="fal-ai/veo3.1")
    take.refresh_from_db()
    continuation = tmp_path / "new.mp4"
    animatic.render_animatic(out_path=continuation, width=1280, height=720, seconds=7, title="On", prompt="on",
                             scene_number=1)
    whole = tmp_path / "whole.mp4"
    with take.video.open("rb") as stored, (tmp_path / "take.mp4").open("wb") as out:
        out.write(stored.read())
    joins.join_clips(tmp_path / "take.mp4", continuation, whole)
    monkeypatch.setattr(fal_server, "video", whole.read_bytes())  # fal answers with the take and its 7 s

    child = extend(take, "fal-ai/veo3.1@7", prompt="The gull flies off.")

    assert child.status == Status.SUCCEEDED, child.error_message
    (sent,) = fal_server.seen("POST", r"/fal-ai/veo3\.1/extend-video")
    assert sent.json["prompt"] == "The gull flies off." and sent.json["duration"] == "7s"
    assert child.join_seconds == pytest.approx(take.duration_seconds, abs=0.01)
    assert child.duration_seconds == pytest.approx(take.duration_seconds + 7, abs=0.1)
    assert child.delivery_problems == [] and child.cost == Decimal("2.80")  # 7 s at $0.40
    said = next(a["data"] for a in manifest_of(child)["assertions"] if a["label"] == TAKE_LABEL)["extension"]
    assert said["joined"] == "provider" and said["returns"] == "whole"


def test_a_continuation_that_cannot_be_joined_fails_the_take_saying_why(
        scene, finished_take, extend, previz_without_encode, monkeypatch):
    take = finished_take(scene)

    def broken(*args, **kwargs):
        raise ValueError("the clips could not be joined (Invalid data found when processing input)")

    monkeypatch.setattr(joins, "join_clips", broken)
    child = extend(take)

    assert child.status == Status.FAILED
    assert child.error_message == ("The provider's continuation could not be joined to take 1: the clips could not "
                                   "be joined (Invalid data found when processing input).")


def manifest_of(take) -> dict:
    store = read_store(take)
    return store["manifests"][store["active_manifest"]]


def test_a_failed_extension_is_retried_as_the_same_extension(
        scene, finished_take, extend, editor, previz_without_encode, django_capture_on_commit_callbacks):
    take = finished_take(scene)
    failed = extend(take)
    Render.objects.filter(pk=failed.pk).update(status=Status.FAILED, error_message="The provider timed out.")
    failed.refresh_from_db()

    with django_capture_on_commit_callbacks(execute=True):
        retry, _ = services.render_retry(render=failed, user=editor, idempotency_key=uuid.uuid4())
    retry.refresh_from_db()

    assert retry.status == Status.SUCCEEDED and retry.lineage == "Retry of take 2"
    assert retry.recipe["extend_of"]["take"]["id"] == take.pk
    assert retry.join_seconds == pytest.approx(take.duration_seconds, abs=0.01)


def test_a_new_part_delivered_at_another_size_is_joined_at_the_takes_size_and_said_so(
        scene, render_take, extend, monkeypatch):
    take = render_take(scene)
    real = animatic.render_animatic

    def smaller(*, width, height, seconds, **rest):  # the provider's continuation comes back at half size
        if seconds == 3:
            width, height = width // 2, height // 2
        real(width=width, height=height, seconds=seconds, **rest)

    monkeypatch.setattr(animatic, "render_animatic", smaller)
    child = extend(take)

    assert child.status == Status.SUCCEEDED
    assert (child.delivered["width"], child.delivered["height"]) == (1280, 720)  # the clip kept: the take's size
    assert child.delivery_problems == ["640×360 instead of the booked 1280×720"]  # what was delivered: said
    said = next(a["data"] for a in manifest_of(child)["assertions"] if a["label"] == TAKE_LABEL)["extension"]
    assert said["joined"] == "re-encoded"
