"""Multi-shot takes: several scenes booked as one request, rendered as one file, cut back into one take per
scene. The local previz and fal's Kling 3 (through the strict fake) carry them end to end."""

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

from generation.models import PrevizJob, Render, ShotGroup, Status
from generation.provenance.credentials import TAKE_LABEL
from generation.renders import pipeline, services, shot_groups
from generation.spend import selectors as spend
from projects.characters import consent
from projects.models import CharacterKind, Project, Role
from tests.factories import photo
from tests.sound.helpers import band_energy, soundtrack, window


@pytest.fixture
def three(make_scene):
    return [make_scene(title="Dawn", duration=2), make_scene(title="Boats", duration=3),
            make_scene(title="Gulls", duration=1)]


@pytest.fixture
def fal(team, owner, fal_server, settings):
    from django.core.cache import cache

    from generation.providers import connections

    settings.FAL_JWKS_URL = fal_server.jwks_url
    cache.delete("fal-webhook-jwks")
    return connections.connection_create(team=team, user=owner, kind="fal", label="fal",
                                         base_url=fal_server.url, api_key=fal_server.api_key)


KLING = "fal-ai/kling-video/v3/pro/text-to-video"


@pytest.fixture
def kling_scenes(make_scene):
    return [make_scene(title=t, duration=d, size="1920x1080") for t, d in (("Dawn", 2), ("Boats", 1), ("Gulls", 1))]


@pytest.fixture
def book(django_capture_on_commit_callbacks, editor, project):
    def book(scenes, *, user=None, key=None, model_id="previz-animatic-1", connection=None, run=True):
        with django_capture_on_commit_callbacks(execute=run):
            group = shot_groups.shot_group_create(
                project=project, user=user or editor,
                connection=connection or project.team.connections.get(kind="local"),
                model_id=model_id, scene_ids=[s.pk for s in scenes], idempotency_key=key or uuid.uuid4())
        group.refresh_from_db()
        return group

    return book


def parts_of(group) -> list[Render]:
    return list(group.parts.order_by("shot_index"))


def frames_of(take) -> int:
    with take.video.open("rb") as fh, av.open(fh) as container:
        return sum(1 for _ in container.decode(container.streams.video[0]))


def plan(project, connection, scenes, model_id="previz-animatic-1"):
    return shot_groups.shot_group_plan(project=project, connection=connection, model_id=model_id, scenes=scenes)


def local(project):
    return project.team.connections.get(kind="local")


# --- One request, one take per scene ----------------------------------------------------------------

def test_three_scenes_render_as_one_animatic_and_come_back_as_one_take_each(book, three):
    group = book(three)

    parts = parts_of(group)
    assert [p.scene_id for p in parts] == [s.pk for s in three]
    assert [p.status for p in parts] == [Status.SUCCEEDED] * 3
    assert [frames_of(p) for p in parts] == [48, 72, 24]  # 2, 3 and 1 s at 24 fps, cut where they were drawn
    assert [b["frame"] for b in group.cuts["boundaries"]] == [48, 120]
    assert [p["copied"] for p in group.cuts["parts"]] == [True, True, True]  # each cut sits on a keyframe
    assert PrevizJob.objects.count() == 1
    assert group.video  # the whole file, kept as delivered
    assert [p.number for p in parts] == [1, 1, 1]  # each the first take in its own scene's stack


def test_each_part_of_a_previz_take_speaks_its_own_scenes_lines_where_the_scene_alone_would(
        book, make_scene, owner, django_capture_on_commit_callbacks):
    from projects.storyboard.dialogue import services as dialogue
    from projects.storyboard.sound import mix

    quiet, spoken = make_scene(title="Dawn", duration=2), make_scene(title="Boats", duration=4)
    with django_capture_on_commit_callbacks(execute=True):
        dialogue.dialogue_line_add(scene=spoken, user=owner, speaker=(None, "ANNA"), text="Is the boat ready?")
    first, second = parts_of(book([quiet, spoken]))

    sound = soundtrack(second)
    (cue,) = mix.scene_cues(spoken)
    assert band_energy(window(sound, cue.start + 0.05, cue.end - 0.05)) > 1e-4  # spoken, not the pad tone
    assert np.sqrt(np.mean(np.square(window(sound, cue.end + 0.15, 4.0)))) < 0.003  # silent after the line
    # The scene without lines keeps its pad, as a single scene's previz does.
    assert np.sqrt(np.mean(np.square(window(soundtrack(first), 0.8, 1.2)))) > 0.02


def test_one_click_books_one_job_however_often_it_is_sent(book, three, previz_without_encode):
    key = uuid.uuid4()
    first = book(three, key=key)
    again = book(three, key=key)

    assert again.pk == first.pk
    assert ShotGroup.objects.count() == 1 and Render.objects.count() == 3 and PrevizJob.objects.count() == 1
    assert first.lead.idempotency_key == key  # the one key the provider sees is the form's


def test_a_form_used_for_other_scenes_is_refused(book, three, make_scene, previz_without_encode):
    key = uuid.uuid4()
    book(three, key=key)
    with pytest.raises(ValidationError, match="already used for other scenes"):
        book(three[:2], key=key)


def test_kling_on_fal_gets_one_request_with_a_prompt_per_shot_and_cuts_a_few_frames_off_are_found(
        book, kling_scenes, fal, fal_server):
    fal_server.shot_offsets = (3, -2)  # the provider cut 3 frames late, then 2 early
    group = book(kling_scenes, connection=fal, model_id=KLING)

    assert fal_server.accepted == 1
    sent = fal_server.requests[0].json
    assert sent["multi_prompt"] == [{"prompt": s.prompt, "duration": str(s.duration)} for s in kling_scenes]
    assert "prompt" not in sent and sent["duration"] == "4" and sent["shot_type"] == "customize"
    parts = parts_of(group)
    assert [p.status for p in parts] == [Status.SUCCEEDED] * 3, [p.error_message for p in parts]
    assert [b["frame"] for b in group.cuts["boundaries"]] == [51, 70]  # booked 48 and 72
    assert [frames_of(p) for p in parts] == [51, 19, 26]
    assert all(p.delivery_problems == [] for p in parts)  # a few frames off is still the length booked


def test_cuts_off_the_encoders_keyframes_are_found_in_the_pictures_and_only_those_shots_re_encoded(
        book, kling_scenes, fal, fal_server):
    fal_server.shot_offsets = (2, 0)
    fal_server.keyframes_at_cuts = False  # the encoder kept its own rhythm: no keyframe at either cut
    group = book(kling_scenes, connection=fal, model_id=KLING)

    assert [b["frame"] for b in group.cuts["boundaries"]] == [50, 72]
    assert [b["found_by"] for b in group.cuts["boundaries"]] == ["picture", "picture"]
    assert [p["copied"] for p in group.cuts["parts"]] == [True, False, False]  # the first starts the file
    assert [frames_of(p) for p in parts_of(group)] == [50, 22, 24]


# --- The plan: what fits, and every refusal named -------------------------------------------------

def test_the_plan_maps_each_scene_onto_the_take_and_costs_it_once(project, kling_scenes, fal):
    planned = plan(project, fal, kling_scenes, KLING)

    assert planned.bookable, planned.every_problem
    assert [(s.start, s.end) for s in planned.shots] == [(0, 2), (2, 3), (3, 4)]
    assert planned.cost == Decimal("0.672")  # 4 s of Kling 3.0 Pro with audio at $0.168, once
    assert planned.shares() == [Decimal("0.5"), Decimal("0.25"), Decimal("0.25")]


@pytest.mark.parametrize("count, words", [(1, "1 scene is selected"), (7, "7 scenes are selected")])
def test_it_refuses_fewer_than_two_or_more_shots_than_the_model_renders(project, make_scene, count, words):
    scenes = [make_scene(title=f"S{n}", duration=1) for n in range(count)]
    problems = plan(project, local(project), scenes).every_problem
    assert any(words in p and "2 to 6" in p for p in problems), problems


def test_it_refuses_scenes_that_are_not_next_to_each_other_naming_the_one_between(project, make_scene):
    one, two, three_ = (make_scene(title=t, duration=1) for t in ("One", "Two", "Three"))
    problems = plan(project, local(project), [one, three_]).problems
    assert any("scene 2 is between the selected scenes" in p for p in problems), problems


def test_it_refuses_scenes_of_different_sizes_naming_them(project, make_scene):
    wide = make_scene(title="Wide", duration=1)
    tall = make_scene(title="Tall", duration=1, size="720x1280")
    problems = plan(project, local(project), [wide, tall]).problems
    assert any("scene 1 at 1280x720; scene 2 at 720x1280" in p for p in problems), problems


def test_it_refuses_a_total_the_model_cannot_render_with_the_nearest_it_can(project, make_scene, fal):
    scenes = [make_scene(title=t, duration=d, size="1920x1080") for t, d in (("A", 3), ("B", 4))]
    problems = plan(project, fal, scenes, "wan/v2.6/text-to-video").problems
    assert any("scenes 1 and 2 last 7 s in all; Wan 2.6 (fal) renders 5, 10 or 15 s" in p
               and "(5 s is the nearest)" in p for p in problems), problems


def test_it_refuses_a_shot_shorter_than_the_models_shortest(project, make_scene, fal, settings):
    from generation.models import CatalogModel

    CatalogModel.objects.filter(kind="fal", model_id=KLING).update(shot_min_seconds=2)
    scenes = [make_scene(title=t, duration=d, size="1920x1080") for t, d in (("A", 2), ("B", 1), ("C", 1))]
    problems = plan(project, fal, scenes, KLING).problems
    assert any("scenes 2 (1 s) and 3 (1 s) are shorter than Kling 3.0 Pro (fal)'s shortest shot (2 s)" in p
               for p in problems), problems


def test_a_model_rendering_one_shot_per_request_is_refused_naming_those_that_render_several(
        project, kling_scenes, fal):
    problems = plan(project, fal, kling_scenes, "fal-ai/veo3.1").problems
    assert problems and "Veo 3.1 (fal) renders one shot per request" in problems[0]
    assert "Kling 3.0 Pro (fal)" in problems[0] and "Previz animatic" in problems[0]


def test_a_later_scene_cannot_start_from_its_own_image_in_a_multi_shot_take(project, three, editor):
    from projects.storyboard.services import scene_set_reference

    scene_set_reference(scene=three[1], user=editor, upload=photo("boats.png"))
    problems = plan(project, local(project), three).every_problem
    assert any(p.startswith("Scene 2 (Boats): Scene 2 starts from its own reference image") for p in problems), problems


def test_a_scene_still_rendering_is_not_booked_again(project, three, book, django_capture_on_commit_callbacks, editor):
    with django_capture_on_commit_callbacks(execute=False):  # booked, never sent
        services.render_create(scene=three[1], user=editor, connection=local(project), model_id="previz-animatic-1",
                               idempotency_key=uuid.uuid4())
    with pytest.raises(ValidationError) as refused:
        book(three)
    assert "Scene 2 (Boats): Take 1 is still rendering." in refused.value.messages
    assert not ShotGroup.objects.exists()


# --- Consent: one check over every scene's cast ----------------------------------------------------

@pytest.fixture
def maya(team, make_member):
    person = make_member(team, Role.EDITOR, "maya")
    character = consent.character_create(team=team, user=person, name="Maya", kind=CharacterKind.PERSON,
                                         person=person, description="red coat", images=[photo()])
    consent.consent_grant(character=character, user=person)
    return character


def test_a_revoked_consent_in_any_scene_refuses_the_whole_take_naming_the_scene(project, make_scene, maya, book):
    scenes = [make_scene(title="Dawn", duration=1), make_scene(title="Pier", prompt="@Maya on the pier.", duration=1)]
    consent.consent_revoke(character=maya, user=maya.person)

    with pytest.raises(ValidationError) as refused:
        book(scenes)
    assert "Scene 2 (Pier): Maya has revoked consent." in refused.value.messages
    assert not Render.objects.exists()


def test_consent_revoked_after_booking_stops_the_one_job_and_every_part(project, make_scene, maya, book):
    scenes = [make_scene(title="Dawn", duration=1), make_scene(title="Pier", prompt="@Maya on the pier.", duration=1)]
    group = book(scenes, run=False)
    assert list(parts_of(group)[1].characters.all()) == [maya] and not parts_of(group)[0].characters.exists()
    consent.consent_revoke(character=maya, user=maya.person)

    pipeline.render_submit(group.lead_id)

    assert [p.status for p in parts_of(group)] == [Status.CANCELED, Status.CANCELED]
    assert all(p.error_message.startswith("Consent revoked: Maya") for p in parts_of(group))
    assert not PrevizJob.objects.exists()  # nothing reached the provider


# --- Money: held once, attributed by length --------------------------------------------------------

def test_the_cost_is_held_once_and_spend_attributes_it_to_the_scenes_by_length(
        project, kling_scenes, fal, book, team):
    group = book(kling_scenes, connection=fal, model_id=KLING)

    assert Project.objects.get(pk=project.pk).render_spend == Decimal("0.672")
    assert [p.cost for p in parts_of(group)] == [Decimal("0.672"), 0, 0]  # recorded once, on the lead
    period = spend.month_period(timezone.localdate())
    seen = spend.spend_for(team=team, period=period)
    assert seen.total == Decimal("0.672") and seen.takes == 3
    by_scene = {row["title"]: row["total"] for row in seen.by_scene}
    assert by_scene == {"Dawn": Decimal("0.336"), "Boats": Decimal("0.168"), "Gulls": Decimal("0.168")}
    rows = list(spend.spend_csv_rows(team=team, period=period))
    assert [row[13] for row in rows[1:]] == ["0.3360", "0.1680", "0.1680"]  # recorded_usd, each its share


def test_a_take_over_the_budget_is_refused_before_any_provider_sees_it(project, kling_scenes, fal, fal_server, book):
    Project.objects.filter(pk=project.pk).update(budget=Decimal("0.50"))
    project.refresh_from_db()

    with pytest.raises(ValidationError) as refused:
        book(kling_scenes, connection=fal, model_id=KLING)
    assert "this costs $0.67" in " ".join(refused.value.messages)
    assert fal_server.accepted == 0 and not Render.objects.exists()


def test_a_moderated_group_fails_every_part_and_keeps_its_one_cost(project, kling_scenes, fal, fal_server, book):
    fal_server.scenario = "moderation"
    group = book(kling_scenes, connection=fal, model_id=KLING)

    parts = parts_of(group)
    assert [p.status for p in parts] == [Status.FAILED] * 3
    assert all(p.error_message.startswith("Refused by the provider's moderation") for p in parts)
    assert Project.objects.get(pk=project.pk).render_spend == Decimal("0.672")  # fal bills refused jobs: kept once
    assert [p.cost_given_back for p in parts] == [False] * 3


def test_a_group_that_never_reached_a_provider_gives_its_cost_back_once(
        project, kling_scenes, fal, fal_server, book, editor):
    group = book(kling_scenes, connection=fal, model_id=KLING, run=False)
    services.render_cancel(render=parts_of(group)[2], user=editor)  # from the last scene's card

    assert [p.status for p in parts_of(group)] == [Status.CANCELED] * 3
    assert Project.objects.get(pk=project.pk).render_spend == 0
    assert fal_server.accepted == 0


def test_canceling_from_any_part_cancels_the_one_job_once(project, kling_scenes, fal, fal_server, book, editor,
                                                          django_capture_on_commit_callbacks, monkeypatch):
    from generation.renders import tasks

    monkeypatch.setattr(tasks.poll_render, "apply_async", lambda *a, **k: None)  # the job stays running
    group = book(kling_scenes, connection=fal, model_id=KLING)
    assert [p.status for p in parts_of(group)] == [Status.RUNNING] * 3
    with django_capture_on_commit_callbacks(execute=True):
        services.render_cancel(render=parts_of(group)[1], user=editor)

    assert [p.status for p in parts_of(group)] == [Status.CANCELED] * 3
    assert len(fal_server.seen("PUT", r".*/cancel")) == 1


# --- Crash recovery of a group --------------------------------------------------------------------

def test_the_sweeper_never_sends_a_following_part_and_resumes_the_group_through_its_lead(
        project, three, book, django_capture_on_commit_callbacks, previz_without_encode):
    group = book(three, run=False)  # booked; the worker died before sending anything
    stale = timezone.now() - timedelta(minutes=10)
    Render.objects.filter(shot_group=group).update(updated_at=stale)

    with django_capture_on_commit_callbacks(execute=True):
        counts = pipeline.renders_resume_stalled()

    assert counts["resubmitted"] == 1  # the lead only
    assert PrevizJob.objects.count() == 1
    assert [p.status for p in parts_of(group)] == [Status.SUCCEEDED] * 3


def test_a_lead_that_died_while_sending_is_looked_up_and_every_part_follows(project, three, book, editor,
                                                                             previz_without_encode):
    group = book(three, run=False)
    lead = group.lead
    lead.advance(Status.SUBMITTING, submitted_at=timezone.now(), first_sent_at=timezone.now(), create_attempts=1,
                 lease_until=timezone.now() - timedelta(seconds=1))
    assert [p.status for p in parts_of(group)] == [Status.SUBMITTING] * 3

    pipeline.renders_resume_stalled()

    parts = parts_of(group)
    assert [p.status for p in parts] == [Status.FAILED] * 3  # the previz's job book is complete: never created
    assert all("nothing was created" in p.error_message for p in parts)


def test_a_group_whose_worker_died_while_cutting_is_finished_again(project, kling_scenes, fal, book, monkeypatch,
                                                                    django_capture_on_commit_callbacks):
    from generation.renders import shot_parts

    real = shot_parts.parts_cut
    monkeypatch.setattr(shot_parts, "parts_cut", lambda *a, **k: (_ for _ in ()).throw(SystemExit("killed")))
    with pytest.raises(SystemExit):
        book(kling_scenes, connection=fal, model_id=KLING)
    group = ShotGroup.objects.get()
    assert [p.status for p in parts_of(group)] == [Status.DOWNLOADING] * 3
    monkeypatch.setattr(shot_parts, "parts_cut", real)
    Render.objects.filter(shot_group=group).update(lease_until=timezone.now() - timedelta(seconds=1))

    with django_capture_on_commit_callbacks(execute=True):
        counts = pipeline.renders_resume_stalled()

    assert counts["refinished"] == 1
    assert [p.status for p in parts_of(group)] == [Status.SUCCEEDED] * 3


# --- Provenance of the parts -----------------------------------------------------------------------

def manifest_of(take) -> dict:
    with take.video.open("rb") as fh:
        reader = c2pa.Reader("video/mp4", fh)
        return json.loads(reader.json())


def test_each_part_names_the_groups_file_as_its_parent_and_records_its_range(book, three, previz_without_encode):
    group = book(three)

    store = manifest_of(parts_of(group)[1])
    active = store["manifests"][store["active_manifest"]]
    parents = [i for i in active["ingredients"] if i["relationship"] == "parentOf"]
    assert [p["title"] for p in parents] == ["Multi-shot take of scenes 1–3 (local previz-animatic-1)"]
    shot = next(a["data"] for a in active["assertions"] if a["label"] == TAKE_LABEL)["shot"]
    assert (shot["index"], shot["start"], shot["end"], shot["start_frame"], shot["end_frame"]) == (1, 2.0, 5.0, 48, 120)
    assert (shot["booked_start"], shot["booked_end"], shot["copied"]) == (2.0, 5.0, True)
    assert parts_of(group)[1].c2pa_state == "studio"  # the previz's own signature on the whole file


# --- Again: the whole take, or one scene on its own ------------------------------------------------

def test_the_whole_take_renders_again_as_one_new_take_linked_to_the_old_parts(
        book, three, editor, django_capture_on_commit_callbacks, previz_without_encode):
    first = book(three)
    with django_capture_on_commit_callbacks(execute=True):
        again = shot_groups.shot_group_rerender(take=parts_of(first)[2], user=editor, idempotency_key=uuid.uuid4())

    assert again.pk != first.pk
    assert [p.parent_id for p in parts_of(again)] == [p.pk for p in parts_of(first)]
    assert [p.number for p in parts_of(again)] == [2, 2, 2]
    assert [p.lineage for p in parts_of(again)] == ["Re-render of take 1"] * 3


def test_one_scene_on_its_own_starts_from_the_last_frame_of_the_part_before_it(
        book, three, editor, django_capture_on_commit_callbacks, previz_without_encode):
    from generation.models import CatalogModel

    CatalogModel.objects.filter(kind="local").update(input_kinds=["text", "image"])  # a start frame, for this test
    group = book(three)
    boats = parts_of(group)[1]
    with django_capture_on_commit_callbacks(execute=True):
        alone = shot_groups.shot_part_render_alone(take=boats, user=editor, connection=boats.connection,
                                                   model_id="previz-animatic-1", idempotency_key=uuid.uuid4())

    alone.refresh_from_db()
    assert alone.status == Status.SUCCEEDED and alone.shot_group_id is None and alone.parent_id == boats.pk
    start = alone.recipe["start_frame"]
    assert (start["scene"]["number"], start["take"]["id"], start["last"]) == (1, parts_of(group)[0].pk, True)
    assert start["frame"] == 47  # the last frame of the 2-second part
