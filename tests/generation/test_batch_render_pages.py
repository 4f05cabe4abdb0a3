"""Render scenes at many scenes: the plan is listed a page at a time, but its total, its counts, the scenes it
leaves out and the booking cover every scene it plans, and booking takes exactly the plan that was shown."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from generation.models import Render
from generation.providers import connections

HX = {"HTTP_HX_REQUEST": "true"}
SCENES = 60
SHORT = (52, 55, 60)  # scene numbers two seconds long: the model renders 4 s only, so they are left out

pytestmark = pytest.mark.usefixtures("previz_without_encode")


@pytest.fixture
def gateway(priced_gateway):
    return priced_gateway


@pytest.fixture
def board(make_scene):
    """Sixty scenes, three of them (all past the first page) too short for Wan 2.7."""
    return [make_scene(title=f"Shot {n}", duration=2 if n in SHORT else 4) for n in range(1, SCENES + 1)]


def shown(page, name):
    """A hidden field of the plan as the page drew it."""
    return re.search(rf'name="{name}" value="([^"]*)"', page).group(1)


def booking_form(page, target):
    return {"target": target, "scope": "all", "idempotency_key": shown(page, "idempotency_key"),
            **{name: shown(page, name) for name in ("scenes", "plan_target", "plan_total", "plan_digest")}}


def rows(page):
    return re.findall(r"<tr><td>(\d+)\. Shot", page)


def test_the_first_page_shows_the_total_and_the_count_of_every_planned_scene(client_for, editor, project, board,
                                                                             gateway):
    url = reverse("generation:batch_render", args=[project.pk])
    page = client_for(editor).get(url, {"target": f"{gateway.pk}:wan-2.7", "scope": "all"}).content.decode()
    assert rows(page) == [str(n) for n in range(1, 51)]  # a page of the plan…
    assert "Render 57 scenes (est. $114.00)" in page  # …and the total of all 57 that can render
    assert "57 takes" in page and "Scenes 1–50 of 57" in page
    # The scenes left out are past the first page, and still counted and named, with the reason.
    assert "Left out (3)" in page
    for n in SHORT:
        assert re.search(rf"<li>{n}\. Shot {n} — [^<]*4", page), n
    assert shown(page, "scenes") == ",".join(str(s.pk) for s in board if s.number not in SHORT)


def test_the_next_page_lists_the_rest_of_the_plan_with_the_same_total(client_for, editor, project, board, gateway):
    url = reverse("generation:batch_render", args=[project.pk])
    client = client_for(editor)
    first = client.get(url, {"target": f"{gateway.pk}:wan-2.7", "scope": "all"}).content.decode()
    link = re.search(r'data-testid="takes-pages".*?<a href="([^"]+)" rel="next"', first, re.S).group(1)
    page = client.get(link.replace("&amp;", "&"), **HX).content.decode()
    assert "<html" not in page  # the plan alone, for htmx to swap
    assert rows(page) == [str(n) for n in range(51, SCENES + 1) if n not in SHORT]
    assert "Scenes 51–57 of 57" in page and "Render 57 scenes (est. $114.00)" in page
    assert shown(page, "plan_digest") == shown(first, "plan_digest")


def test_booking_a_paged_plan_books_every_planned_scene_once(client_for, editor, project, board, gateway,
                                                             django_capture_on_commit_callbacks):
    url = reverse("generation:batch_render", args=[project.pk])
    client = client_for(editor)
    target = f"{gateway.pk}:wan-2.7"
    form = booking_form(client.get(url, {"target": target, "scope": "all"}).content.decode(), target)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(url, form, follow=True)
        client.post(url, form)  # the same click, resent (a double click)
    assert "Booked 57 takes on Gateway — Wan 2.7 (est. $114.00)." in response.content.decode()
    booked = Render.objects.filter(scene__project=project).values_list("scene_id", flat=True)
    assert sorted(booked) == sorted(s.pk for s in board if s.number not in SHORT)


def test_a_plan_that_changed_after_it_was_shown_is_refused_and_nothing_is_booked(client_for, editor, project,
                                                                                 make_scene, gateway):
    # Two scenes swap lengths after the plan was shown: the total is the same, the plan is not.
    connections.catalog_register_model(connection=gateway, model_id="wan-2.7-long", display_name="Wan 2.7 long",
                                       sizes=["1280x720"], durations=[4, 8], price_per_second=0.5)
    dawn, dusk = make_scene(title="Dawn", duration=4), make_scene(title="Dusk", duration=8)
    url = reverse("generation:batch_render", args=[project.pk])
    client = client_for(editor)
    target = f"{gateway.pk}:wan-2.7-long"
    form = booking_form(client.get(url, {"target": target, "scope": "all"}).content.decode(), target)
    assert Decimal(form["plan_total"]) == Decimal(6)
    type(dawn).objects.filter(pk=dawn.pk).update(duration=8)
    type(dusk).objects.filter(pk=dusk.pk).update(duration=4)
    page = client.post(url, form).content.decode()
    assert "the plan changed after it was shown" in page
    assert shown(page, "plan_digest") != form["plan_digest"]  # the plan as it is now, to check and click again
    assert not Render.objects.exists()


def test_a_booking_without_the_plan_s_fingerprint_is_refused(client_for, editor, project, board, gateway):
    url = reverse("generation:batch_render", args=[project.pk])
    client = client_for(editor)
    target = f"{gateway.pk}:wan-2.7"
    form = booking_form(client.get(url, {"target": target, "scope": "all"}).content.decode(), target)
    del form["plan_digest"]
    assert "This form is out of date" in client.post(url, form).content.decode()
    assert not Render.objects.exists()


def test_another_team_s_user_gets_no_page_of_the_plan(client_for, make_team, make_user, project, board, gateway):
    outsider = make_user()
    make_team("Rival", owner=outsider)
    url = reverse("generation:batch_render", args=[project.pk])
    response = client_for(outsider).get(url, {"target": f"{gateway.pk}:wan-2.7", "scope": "all", "takes": "2"},
                                        **HX)
    assert response.status_code == 404


def test_the_scenes_left_out_are_paged_too_and_all_counted(client_for, editor, project, make_scene, gateway):
    for n in range(1, 56):
        make_scene(title=f"Shot {n}", duration=4 if n == 1 else 2)
    url = reverse("generation:batch_render", args=[project.pk])
    client = client_for(editor)
    first = client.get(url, {"target": f"{gateway.pk}:wan-2.7", "scope": "all"}).content.decode()
    assert "Left out (54)" in first and "Render 1 scene (est. $2.00)" in first
    assert len(re.findall(r"<li>\d+\. Shot", first)) == 50
    link = re.search(r'data-testid="left_out-pages".*?<a href="([^"]+)" rel="next"', first, re.S).group(1)
    page = client.get(link.replace("&amp;", "&"), **HX).content.decode()
    assert re.findall(r"<li>(\d+)\. Shot", page) == ["52", "53", "54", "55"]
    assert "Scenes 51–54 of 54" in page and "Render 1 scene (est. $2.00)" in page
