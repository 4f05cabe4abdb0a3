"""Empty states teach the next step: a new project's board, a scene with no take yet."""

from __future__ import annotations

import re

from django.urls import reverse


def board(client, project) -> str:
    return client.get(reverse("projects:project_detail", args=[project.pk])).content.decode()


def test_a_new_project_teaches_its_next_step(client_for, editor, viewer, project):
    page = board(client_for(editor), project)
    empty = page[page.index('data-testid="board-empty"'):page.index("</li>", page.index('data-testid="board-empty"'))]
    assert "Add a scene, or import a script" in empty
    assert 'href="#add-scene"' in empty and f'href="{reverse("projects:script_upload", args=[project.pk])}"' in empty

    watching = board(client_for(viewer), project)
    assert "No scenes yet" in watching and "Add a scene, or import a script" not in watching


def test_a_scene_without_takes_offers_a_free_previz_in_one_click(
        client_for, editor, reviewer, project, scene, django_capture_on_commit_callbacks):
    panel = reverse("projects:scene_panel", args=[project.pk, scene.pk])
    reviewing = client_for(reviewer).get(panel).content.decode()
    assert 'data-testid="takes-empty"' in reviewing and "render-previz" not in reviewing  # not theirs to render
    html = client_for(editor).get(panel).content.decode()
    empty = html[html.index('data-testid="takes-empty"'):]
    previz = project.team.connections.get(kind="local")
    assert f'name="target" value="{previz.pk}:previz-animatic-1"' in empty
    key = re.search(r'name="idempotency_key" value="([^"]+)"', empty).group(1)
    assert "Render a previz (free)" in empty

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(editor).post(reverse("generation:render_create", args=[scene.pk]),
                                           {"target": f"{previz.pk}:previz-animatic-1", "idempotency_key": key},
                                           HTTP_HX_REQUEST="true")
        again = client_for(editor).post(reverse("generation:render_create", args=[scene.pk]),
                                        {"target": f"{previz.pk}:previz-animatic-1", "idempotency_key": key},
                                        HTTP_HX_REQUEST="true")
    assert response.status_code == again.status_code == 200
    assert scene.renders.count() == 1 and scene.renders.get().cost == 0  # one click, one free take
    assert 'data-testid="takes-empty"' not in again.content.decode()
