"""Drawings on the frame: saved with a comment as checked vector shapes,
refused with a clear message when they are not a drawing, shown to guests only on shared comments."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from projects.models import Comment
from projects.review import guest_links
from projects.review import services as review
from projects.review.drawing import MAX_PEN_POINTS, MAX_SHAPES, MAX_TEXT, drawing_clean

ARROW = {"kind": "arrow", "color": "#e53935", "points": [[0.2, 0.3], [0.6, 0.5]]}
PEN = {"kind": "pen", "color": "#1e88e5", "points": [[0.1, 0.1, 0.5], [0.15, 0.12, 0.7], [0.2, 0.2, 0.4]]}
TEXT = {"kind": "text", "color": "#ffffff", "points": [[0.5, 0.5]], "text": "Boat here"}


@pytest.fixture
def take(scene, finished_take):
    return finished_take(scene)


def test_a_drawing_is_saved_with_the_comment_as_normalised_shapes(client_for, reviewer, take):
    drawing = [ARROW, PEN, TEXT, {"kind": "ellipse", "color": "#43A047", "points": [[0, 0], [1, 1]]}]
    response = client_for(reviewer).post(reverse("projects:comment_create", args=[take.pk]),
                                          {"body": "Move the boat", "at": "1.0", "drawing": json.dumps(drawing)})
    assert response.status_code == 302
    comment = Comment.objects.get(take=take)
    assert [s["kind"] for s in comment.drawing] == ["arrow", "pen", "text", "ellipse"]
    assert comment.drawing[3]["color"] == "#43a047"  # the palette's spelling
    assert comment.drawing[1]["points"][1] == [0.15, 0.12, 0.7]
    page = client_for(reviewer).get(reverse("projects:take_review", args=[take.pk])).content.decode()
    assert 'data-drawing="[{&quot;kind&quot;:&quot;arrow&quot;' in page
    assert 'data-testid="comment-has-drawing"' in page


def test_a_comment_without_a_drawing_stores_none(client_for, reviewer, take):
    client_for(reviewer).post(reverse("projects:comment_create", args=[take.pk]), {"body": "Fine", "drawing": ""})
    assert Comment.objects.get(take=take).drawing == []


@pytest.mark.parametrize("drawing, message", [
    ("{not json", "not valid JSON"),
    ('{"kind": "arrow"}', "must be a list of shapes"),
    (json.dumps([{**ARROW, "color": "#123456"}]), "colour outside the palette"),
    (json.dumps([{**ARROW, "color": "red; background:url(x)"}]), "colour outside the palette"),
    (json.dumps([{**ARROW, "points": [[0.2, 0.3], [1.5, 0.5]]}]), "outside the frame"),
    (json.dumps([{**ARROW, "points": [[0.2, 0.3]]}]), "exactly 2 points"),
    (json.dumps([{**ARROW, "points": [[True, 0.3], [0.5, 0.5]]}]), "not a number"),
    ('[{"kind": "arrow", "color": "#e53935", "points": [[NaN, 0.3], [0.5, 0.5]]}]', "not a number"),
    (json.dumps([{**ARROW, "onclick": "x"}]), "fields a arrow does not have: onclick"),
    (json.dumps([{"kind": "script", "color": "#e53935", "points": []}]), "unknown kind"),
    (json.dumps([ARROW] * (MAX_SHAPES + 1)), f"at most {MAX_SHAPES} shapes"),
    (json.dumps([{**PEN, "points": [[0.1, 0.1, 0.5]] * (MAX_PEN_POINTS + 1)}]), f"2 to {MAX_PEN_POINTS} points"),
    (json.dumps([{**TEXT, "text": "x" * (MAX_TEXT + 1)}]), f"at most {MAX_TEXT} characters"),
    (json.dumps([{**TEXT, "text": "bad\u0000text"}]), "control characters"),
    (json.dumps([{**TEXT, "text": "two\nlines"}]), "control characters"),
    (json.dumps([{**TEXT, "text": "   "}]), "nothing written"),
    ("[" * 100_001 + "]" * 100_001, "too large"),
    ("[" * 5000 + "]" * 5000, "not valid JSON"),
])
def test_a_bad_drawing_is_refused_with_a_message_and_the_comment_kept(client_for, reviewer, take, drawing, message):
    response = client_for(reviewer).post(reverse("projects:comment_create", args=[take.pk]),
                                          {"body": "Look here", "at": "1.0", "drawing": drawing})
    assert response.status_code == 422
    page = response.content.decode()
    assert "The drawing could not be saved" in page
    assert message.replace("'", "&#x27;") in page
    assert "Look here" in page  # the typed comment stays in the form
    assert not Comment.objects.filter(take=take).exists()


def test_a_bad_drawing_through_htmx_shows_the_message_in_the_panel(client_for, reviewer, take):
    response = client_for(reviewer).post(reverse("projects:comment_create", args=[take.pk]),
                                          {"body": "Look", "at": "1", "drawing": "[1, 2]"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'data-testid="comment-error"' in response.content.decode()
    assert "shape 1 is not a shape" in response.content.decode()
    assert not Comment.objects.exists()


def test_a_drawing_needs_a_moment_of_the_take(take, reviewer):
    with pytest.raises(ValidationError, match="belongs to a moment"):
        review.comment_add(take=take, author=reviewer, body="Here", drawing=json.dumps([ARROW]))
    assert not Comment.objects.exists()


def test_another_teams_user_cannot_draw_on_the_take(client_for, outsider, take):
    response = client_for(outsider).post(reverse("projects:comment_create", args=[take.pk]),
                                         {"body": "Mine now", "at": "1", "drawing": json.dumps([ARROW])})
    assert response.status_code == 404
    assert not Comment.objects.exists()


def test_parsed_shapes_are_checked_as_strictly_as_json_text():
    assert drawing_clean(None) == [] and drawing_clean("  ") == []
    with pytest.raises(ValidationError, match="must be a list"):
        drawing_clean({"kind": "arrow"})


def _guest_page(client, token, name="Grace"):
    url = reverse("projects:guest_review", args=[token])
    client.post(url, {"action": "name", "name": name})
    return client.get(url).content.decode()


def test_a_guest_sees_a_drawing_only_on_a_shared_comment(client, project, owner, scene, take, editor):
    _link, token = guest_links.link_create(project=project, user=owner, label="Client", scope="scenes",
                                          scenes=[scene], days=3)
    review.comment_add(take=take, author=editor, body="Shared circle", at=1, shared=True,
                       drawing=json.dumps([{"kind": "ellipse", "color": "#fdd835", "points": [[0.1, 0.1], [0.3, 0.3]]}]))
    review.comment_add(take=take, author=editor, body="Internal arrow", at=1.5,
                       drawing=json.dumps([{**ARROW, "color": "#000000"}]))
    page = _guest_page(client, token)
    assert "Shared circle" in page and "#fdd835" in page
    assert "Internal arrow" not in page and "#000000" not in page


def test_a_guest_can_draw_on_their_own_comment(client, project, owner, scene, take):
    _link, token = guest_links.link_create(project=project, user=owner, label="Client", scope="scenes",
                                          scenes=[scene], days=3)
    _guest_page(client, token)
    response = client.post(reverse("projects:guest_comment", args=[token, take.pk]),
                           {"body": "The logo", "at": "0.5", "drawing": json.dumps([TEXT])})
    assert response.status_code == 302
    assert Comment.objects.get(take=take).drawing[0]["text"] == "Boat here"
    refused = client.post(reverse("projects:guest_comment", args=[token, take.pk]),
                          {"body": "The logo", "at": "0.5", "drawing": json.dumps([{**TEXT, "color": "#abcdef"}])})
    assert refused.status_code == 422
    assert "colour outside the palette" in refused.content.decode()
