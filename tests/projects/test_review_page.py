"""The review page as a reviewer reads it: no stray developer notes, one way of writing time,
words a person would use, and deciding keeps the reviewer where they were."""

from __future__ import annotations

import pytest
from django.urls import reverse

from projects.review import services as review


@pytest.fixture
def take(scene, finished_take):
    return finished_take(scene)


def review_page(client, take) -> str:
    response = client.get(reverse("projects:take_review", args=[take.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_comments_and_replies_carry_no_template_notes(client_for, take, reviewer, editor):
    comment = review.comment_add(take=take, author=reviewer, body="Mist too thick", at=0.5)
    review.comment_reply(parent=comment, author=editor, body="Thinner in the next take")
    html = review_page(client_for(reviewer), take)
    assert "Thinner in the next take" in html
    assert "{#" not in html and "#}" not in html
