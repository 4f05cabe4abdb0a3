"""Board revisions: every bulk change keeps the board before and after; revisions are named, compared
field by field and restored as new edits (history stays, takes stay, the trash and the forever-deleted
come back)."""

import pytest

from projects.models import BoardRevision, RevisionKind, Scene
from projects.storyboard import restore, services


def _titles(project):
    return list(Scene.objects.filter(project=project).order_by("position").values_list("title", flat=True))


@pytest.fixture
def board(project, make_scene):
    return [make_scene(title=t, prompt=f"{t} prompt") for t in ("Dawn", "Boats", "Night")]


def test_a_drag_reorder_keeps_the_board_before_it_and_after_it(project, owner, board):
    dawn, boats, night = board
    services.scene_reorder(project=project, user=owner, scene_ids=[night.pk, dawn.pk, boats.pk])

    before, after = BoardRevision.objects.filter(project=project).order_by("number")
    assert (before.number, before.kind, after.number, after.kind) == (1, RevisionKind.EDITS, 2, RevisionKind.REORDER)
    assert [pk for pk, _ in before.scenes] == [dawn.pk, boats.pk, night.pk]
    assert [pk for pk, _ in after.scenes] == [night.pk, dawn.pk, boats.pk]
    assert after.created_by == owner


def test_restoring_a_revision_puts_the_order_and_content_back_as_new_edits(project, owner, board):
    dawn, boats, night = board
    services.scene_reorder(project=project, user=owner, scene_ids=[night.pk, dawn.pk, boats.pk])
    first = BoardRevision.objects.get(project=project, number=1)
    services.scene_update(scene=boats, expected_version=boats.version, user=owner, title="Boats arrive", duration=5)
    version = Scene.objects.get(pk=boats.pk).version

    result = restore.revision_restore(revision=first, user=owner)

    assert _titles(project) == ["Dawn", "Boats", "Night"]
    boats.refresh_from_db()
    assert (boats.duration, boats.version > version) == (2, True)
    assert result.revision.kind == RevisionKind.RESTORE
