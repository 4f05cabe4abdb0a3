"""What a watching page receives for each change: just the regions that changed, for its role."""

import json

import pytest

from generation.models import Export, ExportStatus, Render, Status
from projects.live.fragments import draw_all
from projects.live.hub import Hub, Subscriber
from projects.models import ChangeEvent, ChangeKind, Role
from projects.storyboard import services, trash
from tests.live.sse import drain

pytestmark = pytest.mark.django_db  # the hub is pumped on this thread: it sees this transaction


@pytest.fixture
def watching():
    """A board open on a project, as a role: returns what its stream received since."""
    hub = Hub(draw_all, background=False)

    def watch(project, role=Role.EDITOR, channel=None):
        page = hub.subscribe(Subscriber(channel=channel or ("project", project.pk), role=role, user_id=0))
        hub.pump()

        def received():
            hub.pump()
            return drain(page)

        return received

    return watch


def test_an_edit_swaps_that_frame_and_the_totals_only(watching, project, make_scene, owner):
    first, second = make_scene(title="Dawn"), make_scene(title="Storm", duration=3)
    received = watching(project)
    services.scene_update(scene=second, expected_version=second.version, user=owner, title="Storm at sea")

    [message] = received()
    assert message.event == "change"
    assert f'id="frame-{second.pk}"' in message.data and "Storm at sea" in message.data
    assert f'id="frame-{first.pk}"' not in message.data
    assert 'id="board-totals"' in message.data and message.data.count('hx-swap-oob="outerHTML"') == 2


def test_a_takes_progress_moves_its_frames_chip_and_a_new_status_its_card(watching, project, scene, render_take):
    take = render_take(scene)
    received = watching(project)
    Render.objects.filter(pk=take.pk).update(status=Status.RUNNING, progress=10)
    take.refresh_from_db()
    take.advance(Status.RUNNING, progress=60)

    [progress] = received()
    assert f'id="frame-{scene.pk}"' in progress.data and 'value="60"' in progress.data
    assert f'id="take-{take.pk}"' not in progress.data  # the commonest change sends the least

    take.advance(Status.DOWNLOADING, progress=100)
    [status] = received()
    assert f'id="take-{take.pk}"' in status.data and 'data-status="downloading"' in status.data


def test_a_new_take_card_arrives_without_a_key_each_page_fills_its_own(watching, project, scene, render_take):
    received = watching(project)
    take = render_take(scene)
    queued = [m for m in received() if f'id="take-{take.pk}"' in m.data][0]
    assert f'hx-swap-oob="afterbegin:#take-stack-{scene.pk}"' in queued.data
    assert 'name="idempotency_key" value=""' in queued.data or "idempotency_key" not in queued.data


def test_a_viewer_receives_frames_without_the_editors_controls(watching, project, scene, owner):
    as_viewer, as_editor = watching(project, Role.VIEWER), watching(project, Role.EDITOR)
    services.scene_update(scene=scene, expected_version=scene.version, user=owner, title="Dawn, wide")
    viewer_html, editor_html = as_viewer()[0].data, as_editor()[0].data
    # The frame's box to tick it for bulk actions (its drag handle is added by board.js, editors' boards only).
    assert 'data-testid="frame-select"' in editor_html
    assert 'data-testid="frame-select"' not in viewer_html


def test_a_deleted_scene_leaves_every_board_and_the_rest_renumber(watching, project, make_scene, owner):
    a, b, c = (make_scene(title=t).pk for t in ("A", "B", "C"))
    received = watching(project)
    trash.scene_trash(scene=project.scenes.get(pk=a), user=owner)

    messages = received()
    assert any(f'<li id="frame-{a}" hx-swap-oob="delete">' in m.data for m in messages)
    [order] = [m for m in messages if m.event == "order"]
    assert json.loads(order.data) == [b, c]
    # A teammate with its panel open keeps what they typed and reads why a save would not work.
    gone = next(m.data for m in messages if f'id="scene-gone-{a}"' in m.data)
    assert f"{owner.username} moved this scene to the trash. What you typed stays here" in gone


def test_an_undo_brings_the_frames_back_to_every_board_and_then_puts_them_in_their_place(
        watching, project, make_scene, owner, editor):
    a, b, c = (make_scene(title=t) for t in ("Arrival", "Bridge", "Cliffs"))
    trashed = trash.scene_bulk_trash(project=project, scene_ids=[a.pk, b.pk], user=editor)
    received = watching(project, Role.VIEWER)  # a teammate's board, open since the delete

    trash.trash_undo(project=project, batch=trashed.batch, user=editor)

    messages = received()
    arriving = [m for m in messages if m.event == "change"]
    assert len(arriving) == 2
    for scene in (a, b):
        frame = next(m.data for m in arriving if f'id="frame-{scene.pk}"' in m.data)
        assert '<ol hx-swap-oob="beforeend:#board-frames">' in frame and scene.title in frame
        assert 'data-testid="frame-select"' not in frame  # drawn for the viewer's role (no box to tick it)
    for scene in (a, b):  # an open panel's notice goes: it may save again
        assert any(f'<p id="scene-gone-{scene.pk}" data-testid="scene-gone" hidden hx-swap-oob="outerHTML"></p>'
                   in m.data for m in arriving)
    assert messages[-1].event == "order"  # after the frames it places
    assert json.loads(messages[-1].data) == [a.pk, b.pk, c.pk]
    assert 'data-testid="total-scenes">3<' in arriving[-1].data


def test_a_take_of_a_scene_in_the_trash_reaches_no_board(watching, project, scene, render_take, editor):
    take = render_take(scene)
    Render.objects.filter(pk=take.pk).update(status=Status.RUNNING, progress=10)
    take.refresh_from_db()
    trash.scene_trash(scene=scene, user=editor)
    received = watching(project)

    take.advance(Status.DOWNLOADING, progress=100)

    assert received() == []


def test_export_progress_swaps_its_row(watching, project, owner):
    export = Export.objects.create(project=project, created_by=owner, status=ExportStatus.RUNNING, progress=5)
    received = watching(project)
    export.report_progress(55)

    [message] = received()
    assert f'id="export-{export.pk}"' in message.data and 'value="55"' in message.data


def test_a_connection_test_result_reaches_the_teams_providers_page(watching, team, owner, monkeypatch):
    from generation.models import ProviderConnection
    from generation.providers import connections

    local = ProviderConnection.objects.get(team=team, kind="local")
    received = watching(None, Role.OWNER, channel=("team", team.pk))
    connections.connection_test(local.pk)

    [message] = received()
    assert f'id="test-{local.pk}"' in message.data and 'hx-swap-oob="outerHTML"' in message.data
    assert ChangeEvent.objects.filter(kind=ChangeKind.CONNECTION_TESTED, project__isnull=True).exists()


def test_a_teammates_line_reaches_open_boards_and_that_scenes_panel(watching, project, make_scene, owner):
    from projects.storyboard.dialogue import services as dialogue

    first, second = make_scene(title="Dawn"), make_scene(title="Storm")
    as_editor, as_viewer = watching(project), watching(project, Role.VIEWER)
    dialogue.dialogue_line_add(scene=second, user=owner, speaker=(None, "ANNA"), text="Hold on!",
                               parenthetical="shouting")

    [message] = as_editor()
    assert f'id="frame-{second.pk}"' in message.data and f'id="frame-{first.pk}"' not in message.data
    assert 'data-testid="frame-line"' in message.data  # on the frame, and in the panel's dialogue section:
    assert '<span class="line-text" data-testid="line-text">Hold on!</span>' in message.data
    assert f'<section id="dialogue-{second.pk}"' in message.data and f'id="cast-{second.pk}"' in message.data
    assert f"/scenes/{second.pk}/lines/" in message.data  # an editor's page can edit what arrived
    [seen] = as_viewer()
    assert "Hold on!" in seen.data and f"/scenes/{second.pk}/lines/" not in seen.data


def test_a_dialogue_change_is_never_dropped_for_a_later_edit_of_the_same_scene(project, scene, owner):
    from projects.live.fragments import coalesce_key
    from projects.storyboard.dialogue import services as dialogue

    dialogue.dialogue_line_add(scene=scene, user=owner, speaker=(None, "ANNA"), text="Hold on!")
    scene.refresh_from_db()
    services.scene_update(scene=scene, expected_version=scene.version, user=owner, title="Storm")

    lines_changed, title_changed = ChangeEvent.objects.filter(kind=ChangeKind.SCENE_EDITED).order_by("id")
    assert coalesce_key(lines_changed) != coalesce_key(title_changed)


def test_a_teammates_field_values_reach_open_boards_and_that_scenes_panel(watching, project, make_scene, owner):
    from projects.storyboard import fields

    first, second = make_scene(title="Dawn"), make_scene(title="Storm")
    shot = fields.field_create(project=project, user=owner, name="Shot type", kind="choice", choices="Wide\nClose-up")
    as_editor, as_viewer = watching(project), watching(project, Role.VIEWER)
    second.refresh_from_db()
    fields.scene_fields_set(scene=second, user=owner, expected_version=second.version, values={shot.key: "Close-up"})

    [message] = as_editor()
    assert f'id="frame-{second.pk}"' in message.data and f'id="frame-{first.pk}"' not in message.data
    assert f'<section id="scene-fields-{second.pk}"' in message.data  # the open panel's fields, swapped in
    assert "<option selected>Close-up</option>" in message.data
    assert f'name="version" value="{second.version}"' in message.data  # a save from it checks the new version
    [seen] = as_viewer()
    assert "<dd>Close-up</dd>" in seen.data and "scene-fields-form" not in seen.data


def test_setting_a_field_on_selected_scenes_reaches_each_scenes_panel(watching, project, make_scene, owner):
    from projects.storyboard import fields

    first, second = make_scene(title="Dawn"), make_scene(title="Storm")
    lens = fields.field_create(project=project, user=owner, name="Lens", kind="text")
    received = watching(project)
    fields.scene_bulk_fields_set(project=project, user=owner, scene_ids=[first.pk, second.pk], field=lens,
                                 value="35mm")

    html = "".join(m.data for m in received())
    for scene in (first, second):
        assert f'<section id="scene-fields-{scene.pk}"' in html
    assert html.count(f'name="field_{lens.key}" value="35mm"') == 2


def test_a_field_change_is_never_dropped_for_a_later_edit_of_the_same_scene(project, scene, owner):
    from projects.live.fragments import coalesce_key
    from projects.storyboard import fields

    lens = fields.field_create(project=project, user=owner, name="Lens", kind="text")
    scene.refresh_from_db()
    fields.scene_fields_set(scene=scene, user=owner, expected_version=scene.version, values={lens.key: "35mm"})
    scene.refresh_from_db()
    services.scene_update(scene=scene, expected_version=scene.version, user=owner, title="Storm")

    values_changed, title_changed = ChangeEvent.objects.filter(kind=ChangeKind.SCENE_EDITED).order_by("id")
    assert coalesce_key(values_changed) != coalesce_key(title_changed)


def test_a_fields_definition_change_tells_every_page_to_fetch_its_fields_once(watching, project, owner):
    from projects.live.fragments import coalesce_key
    from projects.storyboard import fields

    as_editor, as_viewer = watching(project), watching(project, Role.VIEWER)
    lens = fields.field_create(project=project, user=owner, name="Lens", kind="text")
    fields.field_update(field=lens, user=owner, name="Focal")

    for received in (as_editor, as_viewer):
        assert {(m.event, m.data) for m in received()} == {("fields", "")}  # no frame drawn by the server
    added, renamed = ChangeEvent.objects.filter(kind=ChangeKind.FIELDS_CHANGED).order_by("id")
    assert coalesce_key(added) == coalesce_key(renamed)  # read together, one fetch stands for both
    fields.field_delete(field=lens, user=owner)
    assert ChangeEvent.objects.filter(kind=ChangeKind.FIELDS_CHANGED).count() == 3
