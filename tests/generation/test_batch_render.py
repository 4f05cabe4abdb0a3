"""Rendering many scenes with one click: the plan first, then exactly what it showed, once."""

import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from generation.models import Render, Status
from generation.renders import batch
from projects.characters import consent
from projects.models import Activity, CharacterKind, Role
from projects.review import services as review

HX = {"HTTP_HX_REQUEST": "true"}

# Booking, numbering and pages: the takes' pictures do not matter here.
pytestmark = pytest.mark.usefixtures("previz_without_encode")


@pytest.fixture
def local(team):
    return team.connections.get(kind="local")


@pytest.fixture
def gateway(priced_gateway):
    return priced_gateway


def plan_for(project, connection, model_id, scope="all"):
    return batch.batch_plan(scenes=batch.scenes_in_scope(project, scope), connection=connection, model_id=model_id)


def test_the_plan_prices_each_scene_and_says_why_others_are_left_out(project, make_scene, gateway):
    dawn = make_scene(title="Dawn", duration=4)
    make_scene(title="Gulls", duration=2)
    plan = plan_for(project, gateway, "wan-2.7")
    assert [t.scene.title for t in plan.takes] == ["Dawn"]
    assert plan.total == Decimal("2.00") and plan.takes[0].scene == dawn
    (skipped,) = plan.skipped
    assert skipped.scene.title == "Gulls" and "4" in " ".join(skipped.compiled.problems)


def test_scope_picks_scenes_without_approval_or_without_any_take(project, make_scene, finished_take, reviewer, local):
    approved, taken, _fresh = make_scene(title="Approved"), make_scene(title="Taken"), make_scene(title="Fresh")
    review.take_approve(take=finished_take(approved), user=reviewer)
    finished_take(taken)
    def titles(scope):
        return [t.scene.title for t in plan_for(project, local, "previz-animatic-1", scope).takes]
    assert titles("all") == ["Approved", "Taken", "Fresh"]
    assert titles("unapproved") == ["Taken", "Fresh"]
    assert titles("untaken") == ["Fresh"]
    with pytest.raises(ValidationError, match="Choose which scenes"):
        batch.scenes_in_scope(project, "everything")


def test_one_click_books_one_take_per_scene_and_a_resent_click_books_nothing(
        project, make_scene, editor, local, django_capture_on_commit_callbacks):
    scenes = [make_scene(title=f"Shot {i}", duration=1) for i in range(3)]
    key = uuid.uuid4()
    with django_capture_on_commit_callbacks(execute=True):
        takes = batch.render_batch(project=project, user=editor, connection=local, model_id="previz-animatic-1",
                                   scene_ids=[s.pk for s in scenes], idempotency_key=key)
    assert sorted(t.scene_id for t in takes) == sorted(s.pk for s in scenes)
    assert {t.number for t in takes} == {1}
    for take in Render.objects.filter(pk__in=[t.pk for t in takes]):
        assert take.status == Status.SUCCEEDED, take.error_message  # submitted and rendered by the worker
        assert take.created_by == editor and take.model == "previz-animatic-1"
    assert Activity.objects.filter(kind="render_started", project=project).count() == 3

    again = batch.render_batch(project=project, user=editor, connection=local, model_id="previz-animatic-1",
                               scene_ids=[s.pk for s in scenes], idempotency_key=key)
    assert sorted(t.pk for t in again) == sorted(t.pk for t in takes)
    assert Render.objects.filter(scene__project=project).count() == 3


def test_takes_booked_together_are_numbered_after_each_scene_s_own(project, make_scene, editor, finished_take, local):
    shot = make_scene(title="Shot")
    finished_take(shot)
    finished_take(shot)
    (take,) = batch.render_batch(project=project, user=editor, connection=local, model_id="previz-animatic-1",
                                 scene_ids=[shot.pk], idempotency_key=uuid.uuid4())
    assert take.number == 3


def test_nothing_is_booked_when_a_planned_scene_can_no_longer_render(project, make_scene, editor, gateway):
    dawn, dusk = make_scene(title="Dawn", duration=4), make_scene(title="Dusk", duration=4)
    ids = [t.scene.pk for t in plan_for(project, gateway, "wan-2.7").takes]
    type(dusk).objects.filter(pk=dusk.pk).update(duration=2)  # edited after the plan was shown
    with pytest.raises(ValidationError) as refused:
        batch.render_batch(project=project, user=editor, connection=gateway, model_id="wan-2.7",
                           scene_ids=ids, idempotency_key=uuid.uuid4())
    assert "Nothing was booked" in refused.value.messages[0]
    assert any(m.startswith("Scene 2 (Dusk)") for m in refused.value.messages)
    assert not Render.objects.filter(scene__in=[dawn, dusk]).exists()


def test_a_character_whose_consent_was_revoked_stops_the_batch(project, make_scene, team, make_member, editor, local):
    from tests.projects.test_consent import photo

    maya_user = make_member(team, Role.EDITOR, "maya")
    maya = consent.character_create(team=team, user=maya_user, name="Maya", kind=CharacterKind.PERSON,
                                    person=maya_user, description="red coat", images=[photo()])
    consent.consent_grant(character=maya, user=maya_user)
    pier = make_scene(title="Pier", prompt="@Maya on the pier.")
    ids = [t.scene.pk for t in plan_for(project, local, "previz-animatic-1").takes]
    assert ids == [pier.pk]
    consent.consent_revoke(character=maya, user=maya_user)
    with pytest.raises(ValidationError, match="Maya"):
        batch.render_batch(project=project, user=editor, connection=local, model_id="previz-animatic-1",
                           scene_ids=ids, idempotency_key=uuid.uuid4())
    assert not Render.objects.filter(scene=pier).exists()


def test_each_scene_keeps_its_own_cast_when_the_plan_shares_characters_and_a_revocation_stops_only_theirs(
        project, make_scene, team, make_member, local):
    # The plan reads each character once and hands it to every scene casting it: no scene may gain another's
    # cast, and one person's revoked consent leaves out exactly the scenes that cast them.
    from tests.projects.test_consent import photo

    people = {}
    for name in ("Noor", "Maya"):
        user = make_member(team, Role.EDITOR, name.lower())
        people[name] = (user, consent.character_create(team=team, user=user, name=name, kind=CharacterKind.PERSON,
                                                       person=user, description=f"{name}'s coat", images=[photo()]))
        consent.consent_grant(character=people[name][1], user=user)
    make_scene(title="Pier", prompt="@Maya on the pier.")
    make_scene(title="Market", prompt="@Noor and @Maya at the market.")
    make_scene(title="Gulls", prompt="Gulls over the harbour.")
    plan = plan_for(project, local, "previz-animatic-1")
    assert {t.scene.title: [c["name"] for c in t.compiled.recipe.get("cast", [])] for t in plan.takes} == {
        "Pier": ["Maya"], "Market": ["Maya", "Noor"], "Gulls": []}
    assert "Noor's coat" not in plan.takes[0].compiled.recipe["prompt"]
    consent.consent_revoke(character=people["Noor"][1], user=people["Noor"][0])
    plan = plan_for(project, local, "previz-animatic-1")
    assert [t.scene.title for t in plan.takes] == ["Pier", "Gulls"]
    (market,) = plan.skipped
    assert market.scene.title == "Market" and "Noor" in " ".join(market.compiled.problems)


def test_scenes_of_another_project_cannot_be_slipped_into_the_batch(project, owner, editor, local):
    from projects.storyboard import services as projects

    other = projects.project_create(team=project.team, user=owner, name="Other")
    stray = projects.scene_create(project=other, user=owner, title="Stray", prompt="p", duration=1,
                                  size="1280x720", camera_notes="")
    with pytest.raises(ValidationError, match="deleted or changed meanwhile"):
        batch.render_batch(project=project, user=editor, connection=local, model_id="previz-animatic-1",
                           scene_ids=[stray.pk], idempotency_key=uuid.uuid4())
    assert not Render.objects.filter(scene=stray).exists()


# --- The page ----------------------------------------------------------------------------------


def test_the_page_shows_the_plan_and_the_total_before_anything_is_booked(client_for, editor, project, make_scene,
                                                                        gateway):
    make_scene(title="Dawn", duration=4)
    make_scene(title="Gulls", duration=2)
    url = reverse("generation:batch_render", args=[project.pk])
    target = f"{gateway.pk}:wan-2.7"
    page = client_for(editor).get(url, {"target": target, "scope": "all"}, **HX).content.decode()
    assert 'id="batch-plan"' in page and "<html" not in page  # the plan alone, for htmx to swap
    assert "1. Dawn" in page and "$2.00" in page and "Render 1 scene (est. $2.00)" in page
    assert "2. Gulls" in page and "Left out" in page
    assert not Render.objects.exists()


def test_booking_from_the_page_redirects_to_the_storyboard_with_what_was_booked(
        client_for, editor, project, make_scene, local, django_capture_on_commit_callbacks):
    scenes = [make_scene(title=f"Shot {i}", duration=1) for i in range(2)]
    url = reverse("generation:batch_render", args=[project.pk])
    client = client_for(editor)
    page = client.get(url).content.decode()
    assert "Render 2 scenes" in page
    target = f"{local.pk}:previz-animatic-1"
    digest = plan_for(project, local, "previz-animatic-1", "unapproved").digest
    form = {"target": target, "scope": "unapproved", "scenes": ",".join(str(s.pk) for s in scenes),
            "plan_target": target, "plan_total": "0.00", "plan_digest": digest, "idempotency_key": str(uuid.uuid4())}
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(url, form, follow=True)
        client.post(url, form)  # the same click, resent
    assert response.redirect_chain[-1][0] == reverse("projects:project_detail", args=[project.pk])
    assert "Booked 2 takes on" in response.content.decode()
    assert Render.objects.filter(scene__project=project).count() == 2


def test_a_refused_batch_comes_back_with_the_reasons_and_books_nothing(client_for, editor, project, make_scene,
                                                                      gateway):
    dusk = make_scene(title="Dusk", duration=4)
    url = reverse("generation:batch_render", args=[project.pk])
    type(dusk).objects.filter(pk=dusk.pk).update(duration=2)
    target = f"{gateway.pk}:wan-2.7"
    page = client_for(editor).post(url, {"target": target, "scope": "all", "scenes": str(dusk.pk),
                                         "plan_target": target, "plan_total": "2.00", "plan_digest": "0" * 32,
                                         "idempotency_key": str(uuid.uuid4())}).content.decode()
    assert "Nothing was booked" in page and "Scene 1 (Dusk)" in page
    assert not Render.objects.exists()


def test_viewers_and_reviewers_cannot_render(client_for, viewer, reviewer, project):
    url = reverse("generation:batch_render", args=[project.pk])
    assert client_for(viewer).get(url).status_code == 403
    assert client_for(reviewer).post(url, {}).status_code == 403


def test_a_scene_still_rendering_is_left_out_so_a_second_visit_does_not_pay_twice(project, make_scene, editor,
                                                                                   local):
    dawn, _dusk = make_scene(title="Dawn"), make_scene(title="Dusk")
    batch.render_batch(project=project, user=editor, connection=local, model_id="previz-animatic-1",
                       scene_ids=[dawn.pk], idempotency_key=uuid.uuid4())  # queued, not run: still rendering
    plan = plan_for(project, local, "previz-animatic-1", "unapproved")
    assert [t.scene.title for t in plan.takes] == ["Dusk"]
    assert plan.skipped[0].compiled.problems == ["Take 1 is still rendering."]


def test_nothing_is_booked_when_the_scenes_now_cost_more_than_was_shown(project, make_scene, editor, gateway):
    dawn = make_scene(title="Dawn", duration=4)
    plan = plan_for(project, gateway, "wan-2.7")
    gateway.models.filter(model_id="wan-2.7").update(price_per_second={"*": 0.9})  # repriced meanwhile
    with pytest.raises(ValidationError, match=r"now cost \$3.60, more than the \$2.00 shown"):
        batch.render_batch(project=project, user=editor, connection=gateway, model_id="wan-2.7",
                           scene_ids=[dawn.pk], idempotency_key=uuid.uuid4(), shown_total=plan.total)
    assert not Render.objects.exists()


def test_a_click_on_a_plan_shown_for_another_model_books_nothing(client_for, editor, project, make_scene, local,
                                                               gateway):
    dawn = make_scene(title="Dawn", duration=4)
    url = reverse("generation:batch_render", args=[project.pk])
    page = client_for(editor).post(url, {
        "target": f"{gateway.pk}:wan-2.7", "plan_target": f"{local.pk}:previz-animatic-1", "plan_total": "0.00",
        "plan_digest": "0" * 32, "scope": "all", "scenes": str(dawn.pk), "idempotency_key": str(uuid.uuid4())}).content.decode()
    assert "The model changed after the plan was shown" in page
    assert not Render.objects.exists()


def test_a_form_key_used_for_some_scenes_is_refused_for_others(project, make_scene, editor, local):
    dawn, dusk = make_scene(title="Dawn"), make_scene(title="Dusk")
    key = uuid.uuid4()
    batch.render_batch(project=project, user=editor, connection=local, model_id="previz-animatic-1",
                       scene_ids=[dawn.pk], idempotency_key=key)
    with pytest.raises(ValidationError, match="already used for other scenes"):
        batch.render_batch(project=project, user=editor, connection=local, model_id="previz-animatic-1",
                           scene_ids=[dawn.pk, dusk.pk], idempotency_key=key)
    assert not Render.objects.filter(scene=dusk).exists()


def test_a_take_booked_between_the_plan_and_the_booking_stops_the_batch(project, make_scene, editor, local,
                                                                        monkeypatch):
    # Another click (a different form key) books the same scene after this one's plan was read.
    dawn, gulls = make_scene(title="Dawn", duration=1), make_scene(title="Gulls", duration=1)
    planned = batch.batch_plan

    def plan_then_someone_books(**kwargs):
        plan = planned(**kwargs)
        monkeypatch.setattr(batch, "batch_plan", planned)
        batch.render_batch(project=project, user=editor, connection=local, model_id="previz-animatic-1",
                           scene_ids=[dawn.pk], idempotency_key=uuid.uuid4())
        return plan

    monkeypatch.setattr(batch, "batch_plan", plan_then_someone_books)
    with pytest.raises(ValidationError) as refused:
        batch.render_batch(project=project, user=editor, connection=local, model_id="previz-animatic-1",
                           scene_ids=[dawn.pk, gulls.pk], idempotency_key=uuid.uuid4())
    assert "Nothing was booked" in refused.value.messages[0]
    assert any("Dawn" in m and "still rendering" in m for m in refused.value.messages)
    assert Render.objects.filter(scene=dawn).count() == 1 and not Render.objects.filter(scene=gulls).exists()
