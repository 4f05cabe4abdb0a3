"""The plan the Render scenes page shows says of every scene what booking's full compile says: whether it
renders, why not, and its price. Only scenes that start or end on a frame are compiled for the page."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from generation.providers import connections
from generation.renders import batch, batch_overview, services
from projects.characters import consent
from projects.models import CharacterKind, ConsentScope, EndOn, Role, StartFrom

pytestmark = pytest.mark.usefixtures("previz_without_encode")


def as_booking_sees_it(plan):
    return {"problems": plan.problems, "digest": plan.digest, "total": plan.total,
            "takes": [(t.scene.pk, t.cost) for t in plan.takes],
            "skipped": [(t.scene.pk, t.compiled.problems) for t in plan.skipped]}


def as_the_page_shows_it(plan):
    return {"problems": plan.problems, "digest": plan.digest, "total": plan.total,
            "takes": [(r.pk, r.cost) for r in plan.takes], "skipped": [(r.pk, r.problems) for r in plan.skipped]}


@pytest.fixture
def board(project, make_scene, team, make_member, owner, editor):
    """Every reason a scene is left out, and scenes that render, among the consent states a cast can be in."""
    from projects.storyboard import services as storyboard
    from tests.projects.test_consent import photo

    other = storyboard.project_create(team=team, user=owner, name="Elsewhere")

    def person(name, **grant):
        user = make_member(team, Role.EDITOR, name.lower())
        character = consent.character_create(team=team, user=user, name=name, kind=CharacterKind.PERSON,
                                             person=user, description=f"{name}'s coat", images=[photo()])
        if grant is not None:
            consent.consent_grant(character=character, user=user, **grant)
        return user, character

    person("Maya")
    revoked_user, revoked = person("Leo")
    person("Ines", expires_at=timezone.now() + timedelta(days=1))
    person("Omar")
    person("Zoe", providers=["runway"])
    consent.character_create(team=team, user=owner, name="Robot", kind=CharacterKind.FICTIONAL,
                             declares_fictional=True, description="tin", images=[photo()])
    scenes = [
        make_scene(title="Plain", duration=4),
        make_scene(title="Short", duration=2),
        make_scene(title="Portrait", duration=4, size="720x1280"),
        make_scene(title="Maya", prompt="@Maya on the pier.", duration=4),
        make_scene(title="Leo", prompt="@Leo and @Maya at the market.", duration=4),
        make_scene(title="Ines", prompt="@Ines waves.", duration=4),
        make_scene(title="Omar", prompt="@Omar waves.", duration=4),
        make_scene(title="Zoe", prompt="@Zoe waves.", duration=2),
        make_scene(title="Robot", prompt="@Robot beeps.", duration=4),
        make_scene(title="Follows", duration=4),
        make_scene(title="Ends", duration=4),
        make_scene(title="Busy", duration=4),
    ]
    by = {s.title: s for s in scenes}
    # Consent that changed after the scenes were cast.
    consent.consent_revoke(character=revoked, user=revoked_user)
    consent.ConsentGrant.objects.filter(character__name="Ines").update(expires_at=timezone.now() - timedelta(days=1))
    omar = consent.ConsentGrant.objects.get(character__name="Omar")
    omar.scope = ConsentScope.PROJECTS
    omar.save(update_fields=["scope"])
    omar.projects.set([other])
    type(by["Follows"]).objects.filter(pk=by["Follows"].pk).update(start_from=StartFrom.PREVIOUS)
    type(by["Ends"]).objects.filter(pk=by["Ends"].pk).update(end_on=EndOn.IMAGE)
    local = team.connections.get(kind="local")
    services.render_create(scene=by["Busy"], user=editor, connection=local, model_id="previz-animatic-1",
                           idempotency_key=uuid.uuid4())  # queued, not run: still rendering
    return by


@pytest.fixture
def gateway(priced_gateway):
    connections.catalog_register_model(connection=priced_gateway, model_id="likeness-1", display_name="Likeness",
                                       sizes=["1280x720", "720x1280"], durations=[4, 8], price_per_second=0.25)
    priced_gateway.models.filter(model_id="likeness-1").update(
        reference_images=2, input_schema={"reference_images_need": {"seconds": [8]}})
    return priced_gateway


@pytest.mark.parametrize("model_id", ["previz-animatic-1", "wan-2.7", "likeness-1"])
def test_the_page_s_plan_is_the_plan_booking_compiles(project, board, team, gateway, model_id):
    connection = team.connections.get(kind="local") if model_id.startswith("previz") else gateway
    scenes = batch.scenes_in_scope(project, "all")
    shown = batch_overview.batch_overview(project=project, scenes=scenes, connection=connection, model_id=model_id)
    exact = batch.batch_plan(scenes=scenes, connection=connection, model_id=model_id)
    assert as_the_page_shows_it(shown) == as_booking_sees_it(exact)
    assert shown.skipped and shown.takes  # both kinds, or this compares little


def test_a_price_ceiling_and_a_model_policy_refuse_on_the_page_as_at_booking(project, board, gateway):
    scenes = batch.scenes_in_scope(project, "all")
    project.max_price_per_second = Decimal("0.30")
    project.save(update_fields=["max_price_per_second"])
    for model_id in ("wan-2.7", "likeness-1"):
        shown = batch_overview.batch_overview(project=project, scenes=scenes, connection=gateway, model_id=model_id)
        assert as_the_page_shows_it(shown) == as_booking_sees_it(
            batch.batch_plan(scenes=scenes, connection=gateway, model_id=model_id))
    project.allowed_models = ["likeness-1"]
    project.save(update_fields=["allowed_models"])
    shown = batch_overview.batch_overview(project=project, scenes=scenes, connection=gateway, model_id="wan-2.7")
    assert "model policy doesn't allow Wan 2.7" in shown.problems[0]
    assert shown.problems == batch.batch_plan(scenes=scenes, connection=gateway, model_id="wan-2.7").problems


def test_where_the_provider_limits_prompts_each_is_composed_and_asked_as_at_booking(project, board, team, owner,
                                                                                     make_scene, monkeypatch):
    # Runway's Gen-4.5 takes 1,000 characters: the prompt, its dialogue woven in and its cast described count.
    from projects.models import DialogueLine

    runway = connections.connection_create(team=team, user=owner, kind="runway", label="Runway",
                                           base_url="http://127.0.0.1:9", api_key="key_test")
    near = "Waves. " * 138  # 966 characters: the scene alone fits
    spoken = make_scene(title="Spoken", prompt=near, duration=4)
    make_scene(title="Fits", prompt=near, duration=4)
    make_scene(title="Long", prompt=near * 2, duration=4)
    described = make_scene(title="Described", prompt="@Maya " + near, duration=4)
    maya = described.cast.get()
    DialogueLine.objects.bulk_create([
        DialogueLine(scene=spoken, position=0, speaker="HARBOURMASTER", parenthetical="shouting",
                     text="Mind the ropes!", after_prompt_lines=0),
        DialogueLine(scene=spoken, position=1, character=maya, speaker="Maya", text="I see them.")])
    compiled = []
    real = batch.render_compile
    monkeypatch.setattr(batch, "render_compile", lambda **kw: compiled.append(kw["scene"].title) or real(**kw))
    scenes = batch.scenes_in_scope(project, "all")
    shown = batch_overview.batch_overview(project=project, scenes=scenes, connection=runway, model_id="gen4.5")
    assert sorted(compiled) == ["Ends", "Follows"]
    assert as_the_page_shows_it(shown) == as_booking_sees_it(
        batch.batch_plan(scenes=scenes, connection=runway, model_id="gen4.5"))
    refused = {r.title for r in shown.skipped if "takes a prompt of at most 1,000" in " ".join(r.problems)}
    assert refused == {"Spoken", "Long", "Described"}


def test_only_the_scenes_that_start_or_end_on_a_frame_are_compiled_for_the_page(project, board, team, monkeypatch):
    compiled = []
    real = batch.render_compile

    def counting(**kwargs):
        compiled.append(kwargs["scene"].title)
        return real(**kwargs)

    monkeypatch.setattr(batch, "render_compile", counting)
    shown = batch_overview.batch_overview(project=project, scenes=batch.scenes_in_scope(project, "all"),
                                          connection=team.connections.get(kind="local"),
                                          model_id="previz-animatic-1")
    assert sorted(compiled) == ["Ends", "Follows"]
    assert {r.title for r in shown.skipped} >= {"Leo", "Ines", "Omar", "Ends", "Busy"}
