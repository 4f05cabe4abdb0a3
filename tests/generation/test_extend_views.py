"""Extend a take from its card: the form with each length and what it costs, what will be
sent, every refusal in the page, and the join marked in the review player."""

from __future__ import annotations

import html as markup
import re
import uuid
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from generation.models import CatalogModel, Render, Status

HX = {"HTTP_HX_REQUEST": "true"}
PREVIZ = "previz-animatic-1"

# Pages and booking: the takes' pictures do not matter here.
pytestmark = pytest.mark.usefixtures("previz_without_encode")


def panel(client, scene) -> str:
    return client.get(reverse("projects:scene_panel", args=[scene.project_id, scene.pk]), **HX).content.decode()


def post_extend(client, take, choice=f"{PREVIZ}@3", *, key=None, htmx=True, **extra):
    data = {"choice": choice, "prompt": "", "idempotency_key": str(key or uuid.uuid4()), **extra}
    return client.post(reverse("generation:render_extend", args=[take.pk]), data, **(HX if htmx else {}))


def alert(response) -> str:
    found = re.search(r'<p class="error" role="alert">(.*?)</p>', response.content.decode(), re.S)
    return markup.unescape(found[1]).strip() if found else ""


def test_a_finished_take_offers_each_length_with_its_price(client_for, editor, scene, finished_take):
    take = finished_take(scene)
    CatalogModel.objects.filter(kind="local", model_id=PREVIZ).update(price_per_second={"*": 0.5},
                                                                      extend_seconds=[2, 4])
    html = panel(client_for(editor), scene)
    assert 'data-testid="extend"' in html and "Extend this take" in html
    assert f'<option value="{PREVIZ}@2">+2 s · Previz animatic · $1.00</option>' in html
    assert f'<option value="{PREVIZ}@4">+4 s · Previz animatic · $2.00</option>' in html
    assert reverse("generation:render_extend_preview", args=[take.pk]) in html


def test_a_reviewer_may_not_extend_and_sees_no_form(client_for, reviewer, scene, finished_take):
    take = finished_take(scene)
    client = client_for(reviewer)
    assert 'data-testid="extend"' not in panel(client, scene)
    assert post_extend(client, take).status_code == 403
    assert Render.objects.count() == 1


def test_extending_answers_with_the_stack_holding_the_new_take(client_for, editor, scene, finished_take,
                                                               django_capture_on_commit_callbacks):
    take = finished_take(scene)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_extend(client_for(editor), take)
    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith('<section class="takes"')
    child = Render.objects.get(parent=take)
    assert f'id="take-{child.pk}"' in html and "Extension of take 1" in html  # booked, on its way
    child.refresh_from_db()
    assert child.status == Status.SUCCEEDED
    assert f"+3 s, joined at {child.join_seconds:.2f} s" in panel(client_for(editor), scene)


def test_without_javascript_the_form_redirects_to_the_board(client_for, editor, scene, finished_take):
    take = finished_take(scene)
    response = post_extend(client_for(editor), take, htmx=False)
    assert response.status_code == 302 and response["Location"] == reverse("projects:project_detail",
                                                                           args=[scene.project_id])


def test_a_length_the_model_lacks_is_refused_in_the_page(client_for, editor, scene, finished_take):
    take = finished_take(scene)
    response = post_extend(client_for(editor), take, f"{PREVIZ}@30")
    assert response.status_code == 200
    assert alert(response) == "Previz animatic extends a take by 1–20 seconds, not 30."
    assert Render.objects.count() == 1


def test_a_withheld_take_is_refused_in_the_page(client_for, owner, scene, finished_take):
    take = finished_take(scene)
    Render.objects.filter(pk=take.pk).update(quarantined_at=timezone.now(), quarantine_reason="consent revoked")
    response = post_extend(client_for(owner), take, override_reason="We need it for the trailer cut.")
    assert alert(response) == "Take 1 is withheld (consent revoked): it cannot be extended."


def test_a_model_without_extension_is_refused_naming_what_extends(client_for, editor, scene, finished_take):
    take = finished_take(scene)
    CatalogModel.objects.filter(kind="local", model_id=PREVIZ).update(extend_seconds=[], extend_returns="")
    response = post_extend(client_for(editor), take)
    assert alert(response) == ("Previz animatic does not extend takes. No model on Local previz extends takes: "
                               "render a new take instead.")
    assert 'data-testid="extend"' not in panel(client_for(editor), scene)  # nothing to offer


def test_an_extension_past_the_budget_is_refused_with_what_is_left(client_for, editor, scene, finished_take, project):
    take = finished_take(scene)
    CatalogModel.objects.filter(kind="local", model_id=PREVIZ).update(price_per_second={"*": 1})
    project.budget = Decimal("2.00")
    project.save()
    words = alert(post_extend(client_for(editor), take))
    assert words.startswith("Over budget: this costs $3.00") and "$2.00 left" in words


def test_a_stale_form_key_is_refused_in_words(client_for, editor, scene, finished_take):
    take = finished_take(scene)
    response = post_extend(client_for(editor), take, key="not-a-key")
    assert alert(response) == "This form is out of date; reload the page and try again."


def test_an_editor_sees_a_tampered_take_cannot_be_extended_and_an_owner_gets_the_reason_box(
        client_for, editor, owner, scene, finished_take):
    take = finished_take(scene)
    Render.objects.filter(pk=take.pk).update(delivery_problems=["2 s instead of the booked 4 s"])
    assert 'data-testid="extend-blocked"' in panel(client_for(editor), scene)
    html = panel(client_for(owner), scene)
    assert "Extend this take anyway" in html and 'data-testid="extend-override-reason"' in html


def test_what_will_be_sent_shows_the_cost_the_source_and_the_join(client_for, editor, scene, finished_take):
    take = finished_take(scene)
    CatalogModel.objects.filter(kind="local", model_id=PREVIZ).update(price_per_second={"*": 0.25})
    html = client_for(editor).get(reverse("generation:render_extend_preview", args=[take.pk]),
                                  {"choice": f"{PREVIZ}@4"}, **HX).content.decode()
    text = markup.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))
    assert "+4 s, est. $1.00 (the new seconds only)" in text
    assert f"Take 1, {take.duration_seconds:.1f} s: the provider returns only the new part" in text
    assert f"The continuation begins at 00:00:02:00 ({take.duration_seconds:.2f} s), marked in the player" in text


def test_what_will_be_sent_names_the_problem_with_a_choice(client_for, editor, scene, finished_take):
    take = finished_take(scene)
    html = client_for(editor).get(reverse("generation:render_extend_preview", args=[take.pk]),
                                  {"choice": f"{PREVIZ}@99"}, **HX).content.decode()
    assert "Previz animatic extends a take by 1–20 seconds, not 99." in html
    html = client_for(editor).get(reverse("generation:render_extend_preview", args=[take.pk]), **HX).content.decode()
    assert "Choose how much to extend the take by." in html


def test_the_review_page_marks_the_join_on_the_timeline(client_for, editor, scene, finished_take,
                                                        django_capture_on_commit_callbacks):
    take = finished_take(scene)
    with django_capture_on_commit_callbacks(execute=True):
        post_extend(client_for(editor), take)
    child = Render.objects.get(parent=take)

    html = client_for(editor).get(reverse("projects:take_review", args=[child.pk])).content.decode()

    marker = re.search(r'<button type="button" class="marker marker--join"[^>]*>', html, re.S)[0]
    assert f'data-marker-at="{child.join_seconds:.3f}"' in marker and f'data-seek="{child.join_seconds:.3f}"' in marker
    assert "the continuation begins (take 1 ends here)" in markup.unescape(marker)
    assert 'data-testid="review-join"' in html
    original = client_for(editor).get(reverse("projects:take_review", args=[take.pk])).content.decode()
    assert "marker--join" not in original
