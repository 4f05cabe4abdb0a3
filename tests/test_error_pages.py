"""Errors look like the studio and offer a way back; the tab has the studio's icon."""

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse


@pytest.mark.django_db
def test_a_missing_page_is_the_studios_404_with_a_way_back(client_for, owner):
    response = client_for(owner).get("/projects/999999/")
    assert response.status_code == 404
    html = response.content.decode()
    assert 'data-testid="error-page"' in html and "This page isn't here" in html
    assert 'href="/">Back to your projects' in html
    assert owner.username in html  # the studio's own top bar, signed in


@pytest.mark.django_db
def test_a_role_that_may_not_act_gets_the_reason_in_the_studios_403(client_for, viewer, project):
    response = client_for(viewer).post(reverse("projects:scene_create", args=[project.pk]), {"title": "x"})
    assert response.status_code == 403
    html = response.content.decode()
    assert "Your role can't do that" in html and "cannot edit" in html


@pytest.mark.django_db
def test_a_server_error_is_the_studios_500_page(client_for, owner, project, monkeypatch):
    from projects.storyboard import views

    monkeypatch.setattr(views, "board_context", lambda *a, **k: 1 / 0)
    client = client_for(owner)
    client.raise_request_exception = False
    response = client.get(reverse("projects:project_detail", args=[project.pk]))
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()


@pytest.mark.django_db
def test_every_page_names_the_studios_icon(client):
    html = client.get(reverse("login")).content.decode()
    assert 'rel="icon" href="/static/studio/favicon.svg"' in html
    assert finders.find("studio/favicon.svg")
