"""The multi-shot take in the pages: from the board's selection to one booking, the parts' cards, the whole take."""

from __future__ import annotations

import re
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from generation.models import ShotGroup, Status


@pytest.fixture
def three(make_scene):
    return [make_scene(title="Dawn", duration=2), make_scene(title="Boats", duration=3),
            make_scene(title="Gulls", duration=1)]


def page_url(project, scenes, target=""):
    query = "&".join(f"scene={s.pk}" for s in scenes) + (f"&target={target}" if target else "")
    return reverse("generation:shot_group_new", args=[project.pk]) + "?" + query


def test_the_boards_selection_opens_the_multi_shot_page_with_those_scenes(client_for, editor, project, three):
    response = client_for(editor).post(reverse("projects:scene_bulk", args=[project.pk]),
                                       {"action": "multishot", "scene": [s.pk for s in three]})
    assert response.status_code == 302
    assert response["Location"] == page_url(project, three)


def test_the_page_maps_each_scene_onto_the_take_and_shows_the_cost_once(client_for, editor, project, three):
    html = client_for(editor).get(page_url(project, three)).content.decode()

    assert re.findall(r'data-testid="shot-range">([^<]+)<', html) == ["0–2 s", "2–5 s", "5–6 s"]
    assert 'data-testid="shot-total">6 s<' in html
    assert "Cost, once for the whole take" in html
    assert 'data-testid="shot-button"' in html and "disabled" not in html.split('data-testid="shot-button"')[1][:20]


def book_through_the_page(client, project, scenes, django_capture_on_commit_callbacks):
    """Draw the page, then click its button with what it drew (the form's key, the plan's model and cost)."""
    html = client.get(page_url(project, scenes)).content.decode()
    fields = dict(re.findall(r'name="(idempotency_key|scenes|plan_target|plan_cost)" value="([^"]*)"', html))
    fields["target"] = fields["plan_target"]
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(reverse("generation:shot_group_new", args=[project.pk]), fields, follow=True), fields


def test_one_click_books_the_take_and_the_board_says_so(client_for, editor, project, three,
                                                        django_capture_on_commit_callbacks, previz_without_encode):
    response, fields = book_through_the_page(client_for(editor), project, three, django_capture_on_commit_callbacks)

    assert "Booked one multi-shot take of scenes 1–3 on Local previz — Previz animatic (est. $0.00)." \
        in response.content.decode()
    group = ShotGroup.objects.get()
    assert str(group.lead.idempotency_key) == fields["idempotency_key"]
    assert [p.status for p in group.parts.order_by("shot_index")] == [Status.SUCCEEDED] * 3


def test_a_selection_that_cannot_be_one_take_says_why_and_offers_no_button(client_for, editor, project, three):
    html = client_for(editor).get(page_url(project, [three[0], three[2]])).content.decode()

    assert "scene 2 is between the selected scenes" in html
    assert re.search(r'data-testid="shot-button"\s+disabled', html)


def test_a_click_on_a_plan_that_changed_books_nothing_and_says_why(client_for, editor, project, three, make_scene):
    client = client_for(editor)
    html = client.get(page_url(project, three)).content.decode()
    fields = dict(re.findall(r'name="(idempotency_key|scenes|plan_target|plan_cost)" value="([^"]*)"', html))
    three[1].size = "720x1280"  # a teammate turned scene 2 portrait meanwhile
    three[1].save()
    response = client.post(reverse("generation:shot_group_new", args=[project.pk]), {**fields,
                                                                                     "target": fields["plan_target"]})

    assert response.status_code == 200
    assert "Nothing was booked." in response.content.decode()
    assert not ShotGroup.objects.exists()


def test_the_model_choice_redraws_only_the_plan(client_for, editor, project, three):
    response = client_for(editor).get(page_url(project, three), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="shot-plan"')


def test_a_viewer_cannot_book_a_multi_shot_take(client_for, viewer, project, three):
    assert client_for(viewer).get(page_url(project, three)).status_code == 403


@pytest.mark.parametrize("value", ["²", "99999999999999999999999", "-1", "abc"])
def test_hostile_scene_ids_are_refused_without_a_500(client_for, editor, project, value):
    url = reverse("generation:shot_group_new", args=[project.pk]) + f"?scene={value}"
    assert client_for(editor).get(url).status_code == 404


@pytest.fixture
def group(project, three, editor, django_capture_on_commit_callbacks, previz_without_encode):
    from generation.renders import shot_groups

    with django_capture_on_commit_callbacks(execute=True):
        return shot_groups.shot_group_create(project=project, user=editor, connection=project.team.connections.get(
            kind="local"), model_id="previz-animatic-1", scene_ids=[s.pk for s in three], idempotency_key=uuid.uuid4())


def test_each_parts_card_says_which_shot_it_is_and_what_the_whole_take_cost(client_for, editor, project, group):
    boats = group.parts.get(shot_index=1)
    html = client_for(editor).get(reverse("generation:render_status", args=[boats.pk])).content.decode()

    assert "shot 2 of 3 of a multi-shot take" in html
    assert "$0.00 for the whole take, $0.00 of it this scene's" in html
    assert reverse("generation:shot_group_play", args=[boats.pk]) in html
    assert 'data-testid="shot-again"' in html and 'data-testid="shot-alone"' in html


def test_the_whole_take_plays_from_any_of_its_parts(client_for, editor, group):
    gulls = group.parts.get(shot_index=2)
    client = client_for(editor)
    page = client.get(reverse("generation:shot_group_play", args=[gulls.pk])).content.decode()
    video = client.get(reverse("generation:shot_group_file", args=[gulls.pk]))

    assert re.findall(r'data-testid="group-part-range">([^<]+)<', page) == ["0.000–2.000 s", "2.000–5.000 s",
                                                                            "5.000–6.000 s"]
    assert video.status_code == 200 and video["Content-Type"] == "video/mp4"


def test_the_whole_take_is_withheld_when_one_of_its_scenes_is(client_for, editor, group):
    group.parts.filter(shot_index=1).update(quarantined_at=timezone.now(), quarantine_reason="Consent revoked")
    dawn = group.parts.get(shot_index=0)
    client = client_for(editor)

    assert client.get(reverse("generation:shot_group_play", args=[dawn.pk])).status_code == 404
    assert client.get(reverse("generation:shot_group_file", args=[dawn.pk])).status_code == 404


def test_the_card_renders_the_whole_take_again(client_for, editor, group, django_capture_on_commit_callbacks):
    dawn = group.parts.get(shot_index=0)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(editor).post(reverse("generation:shot_group_again", args=[dawn.pk]),
                                           {"idempotency_key": str(uuid.uuid4())})

    assert response.status_code == 302
    assert ShotGroup.objects.count() == 2


def test_another_teams_member_gets_nothing_of_a_multi_shot_take(client_for, outsider, project, three, group):
    client = client_for(outsider)
    part = group.parts.get(shot_index=1)
    assert client.get(page_url(project, three)).status_code == 404
    for name in ("shot_group_play", "shot_group_file"):
        assert client.get(reverse(f"generation:{name}", args=[part.pk])).status_code == 404
    for name in ("shot_group_again", "shot_part_alone"):
        assert client.post(reverse(f"generation:{name}", args=[part.pk]),
                           {"idempotency_key": str(uuid.uuid4()), "target": "1:previz-animatic-1"}).status_code == 404
    assert ShotGroup.objects.count() == 1
