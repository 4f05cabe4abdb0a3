"""Models that retire: every path that picks a model refuses a retired or unknown one, naming the
team's live models that fit the scene, cheapest first; a retired id cannot be registered."""

import datetime
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from generation import catalog
from generation.models import CatalogModel, Render, Status
from generation.providers import connections
from generation.renders import batch, services
from projects.models import Scene

HX = {"HTTP_HX_REQUEST": "true"}
SORA_REFUSAL = "Sora 2 was retired on 2026-09-24."


@pytest.fixture
def replicate(team, owner):
    """Replicate ships Veo 3.1 ($0.40/s, takes an image, 4/6/8 s) and Wan 2.7 ($0.10/s, text only, 2–15 s)."""
    return connections.connection_create(team=team, user=owner, kind="replicate", label="Replicate",
                                         base_url="http://127.0.0.1:9/v1", api_key="r8-test",
                                         webhook_secret="whsec_c2VjcmV0")


@pytest.fixture
def gateway(team, owner):
    return connections.connection_create(team=team, user=owner, kind="openai-videos", label="Gateway",
                                         base_url="http://127.0.0.1:9/v1", api_key="sk-test")


@pytest.fixture
def eight_seconds(make_scene):
    return make_scene(title="Harbour", duration=8, size="1280x720")


def with_reference(scene):
    Scene.objects.filter(pk=scene.pk).update(reference_image="references/1/1/1/look.png")
    scene.refresh_from_db()
    return scene


def test_alternatives_are_the_live_models_that_fit_cheapest_first(team, replicate, gateway, eight_seconds):
    words = [a.words for a in catalog.alternatives_for(team, eight_seconds)]
    assert words == ["Previz animatic (free)", "Wan 2.7 text-to-video (Replicate) $0.80",
                     "Veo 3.1 (Replicate) $3.20"]  # and never a retired Sora, though the gateway is there


def test_a_scene_with_a_reference_image_is_offered_only_models_that_take_an_image(team, replicate,
                                                                                   eight_seconds):
    words = [a.words for a in catalog.alternatives_for(team, with_reference(eight_seconds))]
    assert words == ["Previz animatic (free)", "Veo 3.1 (Replicate) $3.20"]


def test_a_size_or_length_a_model_lacks_leaves_it_out(team, replicate, make_scene):
    square = make_scene(size="1024x1024", duration=8)
    long = make_scene(size="1280x720", duration=12)
    assert [a.name for a in catalog.alternatives_for(team, square)] == ["Previz animatic"]
    assert [a.name for a in catalog.alternatives_for(team, long)] == [
        "Previz animatic", "Wan 2.7 text-to-video (Replicate)"]


def test_booking_a_retired_model_is_refused_naming_what_fits_this_scene(team, replicate, gateway, editor,
                                                                        eight_seconds):
    with pytest.raises(ValidationError) as refused:
        services.render_create(scene=eight_seconds, user=editor, connection=gateway, model_id="sora-2",
                               idempotency_key=uuid.uuid4())
    assert refused.value.messages == [(
        f"{SORA_REFUSAL} Models that fit this scene: Previz animatic (free), "
        "Wan 2.7 text-to-video (Replicate) $0.80, Veo 3.1 (Replicate) $3.20.")]
    assert not Render.objects.exists()


def test_an_unknown_model_is_refused_the_same_way(team, gateway, editor, eight_seconds):
    with pytest.raises(ValidationError) as refused:
        services.render_create(scene=eight_seconds, user=editor, connection=gateway, model_id="veo-9",
                               idempotency_key=uuid.uuid4())
    assert refused.value.messages == [
        "Gateway has no model “veo-9” in the catalog. Models that fit this scene: Previz animatic (free)."]


def test_when_nothing_fits_the_refusal_says_what_to_change(team, gateway, editor, make_scene):
    scene = make_scene(duration=20, size="1080x1920")
    CatalogModel.objects.filter(model_id="previz-animatic-1").update(durations=[4, 8])
    with pytest.raises(ValidationError) as refused:
        services.render_create(scene=scene, user=editor, connection=gateway, model_id="sora-2",
                               idempotency_key=uuid.uuid4())
    assert "No live model of your team fits this scene as it is: change its size or length" in \
        refused.value.messages[0]


def test_a_deprecated_model_still_renders_and_is_refused_once_marked_retired(team, replicate, editor,
                                                                              eight_seconds):
    veo = CatalogModel.objects.get(model_id="google/veo-3.1")
    CatalogModel.objects.filter(pk=veo.pk).update(lifecycle="deprecated",
                                                  lifecycle_date=timezone.localdate() - datetime.timedelta(days=3))
    assert "Veo 3.1 (Replicate)" in [a.name for a in catalog.alternatives_for(team, eight_seconds)]
    CatalogModel.objects.filter(pk=veo.pk).update(lifecycle="retired", lifecycle_date="2026-12-01")
    team._available_targets = None  # a new request reads the catalog again
    assert "Veo 3.1 (Replicate)" not in [a.name for a in catalog.alternatives_for(team, eight_seconds)]
    with pytest.raises(ValidationError) as refused:
        services.render_create(scene=eight_seconds, user=editor, connection=replicate,
                               model_id="google/veo-3.1", idempotency_key=uuid.uuid4())
    assert refused.value.messages[0].startswith("Veo 3.1 (Replicate) was retired on 2026-12-01. Models that fit")


def sora_take(scene, gateway, status):
    return Render.objects.create(scene=scene, connection=gateway, provider="openai-videos", model="sora-2",
                                 recipe={"model": "sora-2", "prompt": scene.prompt,
                                         "parameters": {"seconds": 8, "size": "1280x720"}},
                                 status=status)


def test_retrying_a_take_of_a_retired_model_is_refused_with_the_alternatives(team, gateway, editor,
                                                                             eight_seconds):
    failed = sora_take(eight_seconds, gateway, Status.FAILED)
    with pytest.raises(ValidationError) as refused:
        services.render_retry(render=failed, user=editor, idempotency_key=uuid.uuid4())
    assert refused.value.messages[0].startswith(SORA_REFUSAL + " Models that fit this scene: Previz animatic")
    assert Render.objects.count() == 1


def test_remixing_a_take_of_a_retired_model_is_refused_with_the_alternatives(team, gateway, editor,
                                                                             eight_seconds):
    finished = sora_take(eight_seconds, gateway, Status.SUCCEEDED)
    with pytest.raises(ValidationError) as refused:
        services.render_remix(render=finished, user=editor, prompt="Warmer", idempotency_key=uuid.uuid4())
    assert refused.value.messages[0].startswith(SORA_REFUSAL + " Models that fit this scene")


def test_render_scenes_on_a_retired_model_names_what_fits_every_scene_with_its_total(
        team, replicate, gateway, make_scene):
    scenes = [make_scene(duration=8), make_scene(duration=4)]
    plan = batch.batch_plan(scenes=scenes, connection=gateway, model_id="sora-2")
    assert plan.problems == [(f"{SORA_REFUSAL} Models that fit these scenes: Previz animatic (free), "
                              "Wan 2.7 text-to-video (Replicate) $1.20, Veo 3.1 (Replicate) $4.80.")]
    assert not plan.takes


def test_the_render_form_refuses_a_retired_model_in_the_page(client_for, editor, gateway, eight_seconds):
    response = client_for(editor).post(
        reverse("generation:render_create", args=[eight_seconds.pk]),
        {"target": f"{gateway.pk}:sora-2", "idempotency_key": str(uuid.uuid4())}, **HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert SORA_REFUSAL in html and "Models that fit this scene: Previz animatic (free)." in html
    assert not Render.objects.exists()


def test_render_scenes_refuses_a_retired_model_posted_from_a_stale_page(client_for, editor, project, gateway,
                                                                        eight_seconds):
    response = client_for(editor).post(reverse("generation:batch_render", args=[project.pk]), {
        "target": f"{gateway.pk}:sora-2", "plan_target": f"{gateway.pk}:sora-2", "plan_total": "0.80",
        "plan_digest": "0" * 32, "scenes": str(eight_seconds.pk), "idempotency_key": str(uuid.uuid4())})
    assert SORA_REFUSAL + " Models that fit this scene: Previz animatic (free)." in response.content.decode()
    assert not Render.objects.exists()


def test_another_teams_connections_are_never_named_as_alternatives(team, make_team, make_user, eight_seconds):
    other = make_team("Rival", owner=make_user())
    connections.connection_create(team=other, user=None, kind="replicate", label="Theirs", api_key="k",
                                  webhook_secret="whsec_c2VjcmV0")
    assert [a.name for a in catalog.alternatives_for(team, eight_seconds)] == ["Previz animatic"]


@pytest.mark.parametrize("model_id", ["sora-2", "SORA-2-pro ", "sora-2-2025-12-08"])
def test_registering_a_model_id_the_catalog_knows_as_retired_is_refused_with_its_date(gateway, model_id):
    with pytest.raises(ValidationError) as refused:
        connections.catalog_register_model(connection=gateway, model_id=model_id, display_name="",
                                           sizes=["1280x720"], durations=[4], price_per_second=0.1)
    assert "which was retired on 2026-09-24" in refused.value.messages[0]
    assert not CatalogModel.objects.filter(connection=gateway).exists()


def test_the_register_form_shows_the_retirement_and_registers_nothing(client_for, owner, team, gateway):
    response = client_for(owner).post(reverse("generation:model_register", args=[team.pk, gateway.pk]), {
        "model_id": "sora-2-pro", "sizes": "1280x720", "durations": "4", "price_per_second": "0.3"}, follow=True)
    html = response.content.decode()
    assert "“sora-2-pro” is Sora 2 Pro, which was retired on 2026-09-24" in html
    assert not CatalogModel.objects.filter(connection=gateway).exists()


def test_a_start_frame_only_model_fits_only_scenes_with_a_reference_image(team, owner, make_scene):
    connections.connection_create(team=team, user=owner, kind="runway", label="Runway",
                                  base_url="http://127.0.0.1:9/v1", api_key="rw-test")
    words, looks = make_scene(title="Words", duration=4), with_reference(make_scene(title="Look", duration=4))
    assert "Gen-4 Turbo (Runway, start frame only)" not in [a.name for a in catalog.alternatives_for(team, words)]
    assert "Gen-4 Turbo (Runway, start frame only) $0.20" in [a.words for a in catalog.alternatives_for(team, looks)]


# --- A retired model under another name: a gateway's "owner/" prefix, a ":tag", another case ----------------


def registered(gateway, model_id, **fields):
    """A row as registering it made it before such names were refused (still there on upgraded studios)."""
    return CatalogModel.objects.create(kind="openai-videos", connection=gateway, model_id=model_id,
                                       display_name=fields.pop("display_name", model_id), sizes=["1280x720"],
                                       durations=[4, 8], input_kinds=["text"], price_per_second={"*": 0.01},
                                       **fields)


@pytest.mark.parametrize(("model_id", "retired"), [
    ("openai/sora-2", "Sora 2"), ("sora-2:latest", "Sora 2"), ("OpenAI/Sora-2:Latest", "Sora 2"),
    ("azure/sora-2-pro", "Sora 2 Pro"), ("litellm/openai/sora-2-2025-12-08:v1", "Sora 2 (2025-12-08)"),
])
def test_registering_a_retired_model_under_another_name_is_refused_with_its_retirement(gateway, model_id,
                                                                                      retired):
    with pytest.raises(ValidationError) as refused:
        connections.catalog_register_model(connection=gateway, model_id=model_id, display_name="Cheap clips",
                                           sizes=["1280x720"], durations=[4], price_per_second=0.01)
    assert refused.value.messages == [f"“{model_id}” is {retired}, which was retired on 2026-09-24: a gateway "
                                      "cannot render it any more. Register a live model instead."]
    assert not CatalogModel.objects.filter(connection=gateway).exists()


@pytest.mark.parametrize("model_id", ["sora-2-turbo", "acme/sora-20", "wan-video/wan-2.7-t2v:fast", "seedance-2"])
def test_a_live_model_whose_name_only_looks_like_a_retired_one_registers_and_is_offered(team, gateway, model_id):
    connections.catalog_register_model(connection=gateway, model_id=model_id, display_name="",
                                       sizes=["1280x720"], durations=[4], price_per_second=0.01)
    assert f"{gateway.pk}:{model_id}" in {t.value for t in catalog.available_targets(team)}


def test_the_register_form_shows_the_retirement_of_a_prefixed_id_in_the_page(client_for, owner, team, gateway):
    response = client_for(owner).post(reverse("generation:model_register", args=[team.pk, gateway.pk]), {
        "model_id": "sora-2:latest", "sizes": "1280x720", "durations": "4", "price_per_second": "0.01"},
        follow=True)
    assert response.status_code == 200
    assert "“sora-2:latest” is Sora 2, which was retired on 2026-09-24" in response.content.decode()
    assert not CatalogModel.objects.filter(connection=gateway).exists()


def test_a_retired_model_registered_under_another_name_is_never_offered(team, gateway, editor, eight_seconds):
    registered(gateway, "openai/sora-2", display_name="Sora 2 via gateway")
    registered(gateway, "sora-2:latest")

    assert [a.name for a in catalog.alternatives_for(team, eight_seconds)] == ["Previz animatic"]
    assert {t.model.model_id for t in catalog.available_targets(team)} == {"previz-animatic-1"}
    with pytest.raises(ValidationError) as refused:
        services.render_create(scene=eight_seconds, user=editor, connection=gateway, model_id="openai/sora-2",
                               idempotency_key=uuid.uuid4())
    assert refused.value.messages == ["“openai/sora-2” is Sora 2, which was retired on 2026-09-24. "
                                      "Models that fit this scene: Previz animatic (free)."]
    assert not Render.objects.exists()


def test_the_render_form_does_not_list_a_retired_model_under_another_name(client_for, editor, gateway,
                                                                         eight_seconds):
    registered(gateway, "openai/sora-2", display_name="Sora 2 via gateway")
    page = client_for(editor).get(reverse("projects:scene_panel", args=[eight_seconds.project_id,
                                                                     eight_seconds.pk])).content.decode()
    assert f'value="{gateway.pk}:openai/sora-2"' not in page and "Sora 2 via gateway" not in page


def test_render_scenes_and_a_retry_refuse_a_retired_model_under_another_name(team, gateway, editor, make_scene):
    registered(gateway, "sora-2:latest")
    scenes = [make_scene(duration=8), make_scene(duration=4)]
    plan = batch.batch_plan(scenes=scenes, connection=gateway, model_id="sora-2:latest")
    assert plan.problems == ["“sora-2:latest” is Sora 2, which was retired on 2026-09-24. "
                             "Models that fit these scenes: Previz animatic (free)."]
    failed = Render.objects.create(scene=scenes[0], connection=gateway, provider="openai-videos",
                                   model="sora-2:latest", status=Status.FAILED,
                                   recipe={"model": "sora-2:latest", "prompt": scenes[0].prompt,
                                           "parameters": {"seconds": 8, "size": "1280x720"}})
    with pytest.raises(ValidationError) as refused:
        services.render_retry(render=failed, user=editor, idempotency_key=uuid.uuid4())
    assert refused.value.messages[0].startswith("“sora-2:latest” is Sora 2, which was retired on 2026-09-24.")
    assert Render.objects.count() == 1


def test_the_models_page_and_the_board_say_a_registered_alias_is_retired(client_for, owner, team, gateway,
                                                                        project, make_scene):
    registered(gateway, "openai/sora-2", display_name="Sora 2 via gateway")
    scene = make_scene(title="Pier")
    Scene.objects.filter(pk=scene.pk).update(target_connection=gateway, target_model="openai/sora-2")

    models_page = client_for(owner).get(reverse("generation:connection_catalog", args=[team.pk, gateway.pk]))
    board = client_for(owner).get(reverse("projects:project_detail", args=[project.pk])).content.decode()

    assert "Retired: this is Sora 2 under another name (retired 2026-09-24)" in models_page.content.decode()
    assert 'data-testid="frame-retiring"' in board and "Sora 2 retired<" in board
