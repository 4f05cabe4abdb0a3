"""A project's model policy (an allow-list, a price ceiling per second) and pinned dated snapshots."""

import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from generation.models import CatalogModel, Lifecycle, Render, Status
from generation.providers import connections
from generation.renders import batch, services


@pytest.fixture
def gateway(priced_gateway):
    """Wan 2.7 at $0.50 a second, and Veo at $0.40 a second (4 s, 1280x720)."""
    connections.catalog_register_model(connection=priced_gateway, model_id="veo-3.1", display_name="Veo",
                                       sizes=["1280x720"], durations=[4], price_per_second=0.4)
    return priced_gateway


def book(scene, user, connection, model_id="wan-2.7"):
    return services.render_create(scene=scene, user=user, connection=connection, model_id=model_id,
                                  idempotency_key=uuid.uuid4())[0]


def set_policy(project, allowed=(), ceiling=None):
    project.allowed_models = list(allowed)
    project.max_price_per_second = None if ceiling is None else Decimal(ceiling)
    project.save()


def test_a_model_off_the_allow_list_is_refused_for_editors_and_owners_alike(project, make_scene, editor, owner,
                                                                           gateway):
    set_policy(project, allowed=["veo-3.1"])
    scene = make_scene(duration=4)
    for user in (editor, owner):
        with pytest.raises(ValidationError) as refused:
            book(scene, user, gateway, "wan-2.7")
        assert refused.value.messages == [
            "Harbour Story's model policy doesn't allow Wan 2.7 (wan-2.7). Allowed here: veo-3.1. An owner can "
            "change the policy on the storyboard page."]
    assert book(scene, editor, gateway, "veo-3.1").model == "veo-3.1"
    assert Render.objects.count() == 1


def test_a_model_above_the_price_ceiling_is_refused_and_a_cheaper_one_books(project, make_scene, editor, gateway,
                                                                            render_take):
    set_policy(project, ceiling="0.45")
    scene = make_scene(duration=4)
    with pytest.raises(ValidationError, match=r"Harbour Story's model policy allows at most \$0.45 a second; "
                                              r"Wan 2.7 costs \$0.50 a second at 1280x720"):
        book(scene, editor, gateway, "wan-2.7")
    assert book(scene, editor, gateway, "veo-3.1").cost == Decimal("1.60")
    assert render_take(make_scene()).status == Status.SUCCEEDED  # the free previz is under any ceiling


def test_the_batch_plan_and_booking_refuse_a_model_the_policy_excludes(client_for, project, make_scene, editor,
                                                                       gateway):
    set_policy(project, allowed=["veo-3.1"])
    scenes = [make_scene(title=f"Shot {i}", duration=4) for i in range(2)]
    page = client_for(editor).get(reverse("generation:batch_render", args=[project.pk]),
                                  {"target": f"{gateway.pk}:wan-2.7", "scope": "all"}).content.decode()
    assert "model policy doesn&#x27;t allow Wan 2.7" in page
    with pytest.raises(ValidationError, match="model policy doesn't allow Wan 2.7"):
        batch.render_batch(project=project, user=editor, connection=gateway, model_id="wan-2.7",
                           scene_ids=[s.pk for s in scenes], idempotency_key=uuid.uuid4())
    assert not Render.objects.exists()


def test_a_retry_is_held_by_a_policy_set_after_the_first_take(project, make_scene, editor, gateway):
    failed = book(make_scene(duration=4), editor, gateway, "wan-2.7")
    failed.mark_failed("Refused by the provider")
    set_policy(project, ceiling="0.10")
    with pytest.raises(ValidationError, match="allows at most \\$0.10 a second"):
        services.render_retry(render=failed, user=editor, idempotency_key=uuid.uuid4())


@pytest.fixture
def snapshots(gateway):
    """Two dated snapshots of wan-2.7 that still render, and a newer one that is retired."""
    def snapshot(model_id, lifecycle=Lifecycle.AVAILABLE, price=0.5):
        model = connections.catalog_register_model(connection=gateway, model_id=model_id, display_name=model_id,
                                                   sizes=["1280x720"], durations=[4], price_per_second=price)
        CatalogModel.objects.filter(pk=model.pk).update(snapshot_of="wan-2.7", lifecycle=lifecycle)

    snapshot("wan-2.7-2026-01-15")
    snapshot("wan-2.7-2026-06-01", price=0.45)
    snapshot("wan-2.7-2026-09-30", lifecycle=Lifecycle.RETIRED)


def test_booking_an_alias_books_its_newest_live_snapshot_and_the_take_says_so(client_for, project, make_scene,
                                                                              editor, gateway, snapshots):
    scene = make_scene(duration=4)
    take = book(scene, editor, gateway, "wan-2.7")
    take.refresh_from_db()
    assert take.model == "wan-2.7-2026-06-01"
    assert take.recipe["model"] == take.recipe["resolved_model"] == "wan-2.7-2026-06-01"
    assert take.recipe["requested_model"] == "wan-2.7"
    assert take.cost == Decimal("1.80")  # the snapshot's price
    card = client_for(editor).get(reverse("projects:scene_panel", args=[project.pk, scene.pk])).content.decode()
    assert "wan-2.7-2026-06-01 (pinned snapshot of wan-2.7)" in card


def test_booking_a_snapshot_or_a_model_without_snapshots_records_no_resolution(project, make_scene, editor,
                                                                                gateway, snapshots):
    scene = make_scene(duration=4)
    pinned = book(scene, editor, gateway, "wan-2.7-2026-01-15")
    plain = book(scene, editor, gateway, "veo-3.1")
    assert (pinned.model, plain.model) == ("wan-2.7-2026-01-15", "veo-3.1")
    assert "resolved_model" not in pinned.recipe and "resolved_model" not in plain.recipe


def test_an_allowed_alias_allows_its_snapshot(project, make_scene, editor, gateway, snapshots):
    set_policy(project, allowed=["wan-2.7"])
    assert book(make_scene(duration=4), editor, gateway, "wan-2.7").model == "wan-2.7-2026-06-01"


def test_a_batch_books_the_snapshot_too(project, make_scene, editor, gateway, snapshots):
    scenes = [make_scene(title=f"Shot {i}", duration=4) for i in range(2)]
    takes = batch.render_batch(project=project, user=editor, connection=gateway, model_id="wan-2.7",
                               scene_ids=[s.pk for s in scenes], idempotency_key=uuid.uuid4())
    assert {(t.model, t.recipe["resolved_model"]) for t in takes} == {("wan-2.7-2026-06-01",) * 2}


def test_owners_set_the_policy_on_the_storyboard_and_others_cannot(client_for, project, owner, editor, outsider,
                                                                  gateway):
    url = reverse("projects:project_policy", args=[project.pk])
    assert client_for(editor).post(url, {"allowed_models": ["veo-3.1"]}).status_code == 403
    assert client_for(outsider).post(url, {"allowed_models": ["veo-3.1"]}).status_code == 404
    page = client_for(owner).post(url, {"allowed_models": ["veo-3.1", "wan-2.7"], "max_price_per_second": "0.45"},
                                  follow=True).content.decode()
    assert "Model policy saved" in page and "only veo-3.1, wan-2.7; at most $0.45 a second" in page
    project.refresh_from_db()
    assert project.allowed_models == ["veo-3.1", "wan-2.7"] and project.max_price_per_second == Decimal("0.45")
    for data, words in [({"allowed_models": ["sora-9"]}, "Unknown model “sora-9”"),
                        ({"max_price_per_second": "-1"}, "can&#x27;t be negative"),
                        ({"max_price_per_second": "cheap"}, "US dollars a second")]:
        assert words in client_for(owner).post(url, data, follow=True).content.decode()
    project.refresh_from_db()
    assert project.allowed_models == ["veo-3.1", "wan-2.7"]
    client_for(owner).post(url, {})
    project.refresh_from_db()
    assert project.allowed_models == [] and project.max_price_per_second is None
