"""Every page and endpoint: another team's user gets a 404, an anonymous visitor the login page.

Every URL pattern of the studio is in exactly one list below: ISOLATED (the team's things),
PERSONAL (a signed-in person's own pages, which show only their own things) or PUBLIC (no login
by design, each with the reason). A new URL that is in none fails
`test_every_url_pattern_is_isolated_personal_or_knowingly_public`.
"""

import io
from urllib.parse import urlencode

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import resolve, reverse
from PIL import Image

from generation.models import (
    CatalogModel,
    CutImport,
    CutImportStatus,
    Export,
    ExportStatus,
    ReconciliationRun,
    Render,
    ShotGroup,
)
from generation.providers import comfy_workflows, connections
from generation.sound.audio import wav_bytes
from projects.characters import consent
from projects.characters.voice import character_voice_sample_upload
from projects.models import (
    CharacterKind,
    Invitation,
    Membership,
    Notification,
    NotificationKind,
    PlayAllMix,
    Scene,
    ScriptImport,
    SoundBed,
    SoundStatus,
)
from projects.review import guest_links, rooms
from projects.review import services as review
from projects.selectors import ActivityCursor
from projects.storyboard import continuity, fields, revisions, script_import, services
from projects.storyboard.dialogue import services as dialogue
from projects.storyboard.sound import speaking
from tests.fakes.comfyui_server import FIXTURES as COMFY_FIXTURES
from tests.fakes.vertex_server import form_key_json
from tests.url_patterns import url_names

SCRIPTS = COMFY_FIXTURES.parent / "scripts"

# No login by design; each answers with its own check (a token, a signature) or shows nothing private.
PUBLIC = {
    "login", "logout",  # signing in and out
    # Password reset: an email with a one-time token (tests/projects/test_account_security.py).
    "password_reset", "password_reset_done", "password_reset_confirm", "password_reset_complete",
    # The invitation's token is the key (test_an_invitation_link_needs_no_login), for its address only
    # (test_another_teams_user_cannot_join_with_a_teams_invitation_link).
    "invitation_accept",
    "health", "live",  # load balancer probes: no data
    # The interface's own words for the scripts (gettext in the browser): the same for everyone, no data
    # (tests/test_translations.py: test_the_javascript_catalog_speaks_the_pages_language).
    "javascript_catalog",
    "generation:webhook",  # providers call it: found by the connection's token, then the signature is checked
    # A client's review link: the link's token (and password) is the key, scoped to its project
    # (tests/projects/test_guest_links.py); its live stream carries only what a guest of that link may read
    # (tests/live/test_review_live.py: test_no_stream_without_opening_the_link_or_after_it_is_revoked).
    "projects:guest_review", "projects:guest_comment", "projects:guest_reply", "projects:guest_file",
    "projects:guest_events",
    # A review room through the link: only one opened on a take the link shows (tests/projects/test_review_rooms.py:
    # test_a_guest_joins_only_a_room_on_what_their_link_shares).
    "projects:guest_room",
}
PUBLIC_NAMESPACES = {"admin"}  # Django's admin: staff only, behind its own login

# Signed in, but about the person and not one team's things: the anonymous visitor is sent to
# log in; anyone else sees only their own (test_personal_pages_show_only_ones_own).
PERSONAL = {
    "projects:project_list", "projects:team_create", "projects:my_likeness", "projects:notification_settings",
    "projects:inbox", "projects:notifications_read_all", "password_change", "password_change_done",
}


def _png(name="face.png"):
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (10, 120, 200)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue())


@pytest.fixture
def objects(team, project, scene, finished_take, owner, editor, reviewer):
    """One of each thing the studio's URLs point at, all in `team`."""
    take = finished_take(scene)
    second_take = finished_take(scene)  # before the scene ends on an image (previz takes no end frame)
    services.scene_set_reference(scene=scene, user=owner, upload=_png("harbour.png"), fit="crop")
    # It ends on an image: its end frame has an address (generation:scene_frame).
    continuity.scene_set_continuity(scene=scene, user=owner, start_from="", end_on="image", end_image=_png("end.png"))
    comfy = connections.connection_create(team=team, user=owner, kind="comfyui", label="Studio GPU",
                                          base_url="http://192.168.1.20:8188")
    workflow = comfy_workflows.workflow_upload(connection=comfy, user=owner, name="LTX-Video 2B",
                                               data=(COMFY_FIXTURES / "ltxv_t2v_api.json").read_bytes())
    # Google Vertex AI: its pages show a project, a region and a service account (never its key).
    vertex = connections.connection_create(team=team, user=owner, kind="vertex", label="Vertex",
                                           service_account_key=form_key_json(), project="harbour-films-1",
                                           region="us-central1", output_uri="gs://harbour-renders/takes")
    character = consent.character_create(team=team, user=editor, name="Eddie", kind=CharacterKind.PERSON,
                                         person=editor, images=[_png()])
    export = Export.objects.create(project=project, created_by=owner, status=ExportStatus.SUCCEEDED)
    for kind, body in (("mp4", b"\x00\x00\x00\x18ftypmp42"), ("zip", b"PK\x05\x06" + b"\x00" * 18),
                       ("pdf", b"%PDF-1.4\n%%EOF\n"), ("csv", b"scene,at,comment\nDawn,1.0,Darker\n")):
        getattr(export, kind).save(f"harbour.{kind}", ContentFile(body), save=False)
    export.save()
    # The owner's pending script import: its preview is theirs alone, even within the team.
    pending = script_import.script_import_create(
        project=project, user=owner,
        upload=SimpleUploadedFile("harbour.fountain", (SCRIPTS / "harbour.fountain").read_bytes()))
    comment = review.comment_add(take=take, author=reviewer, body="@eddie the mist", at=1, requests_changes=True)
    notification = Notification.objects.get(recipient=editor, kind=NotificationKind.MENTION)
    link, _token = guest_links.link_create(project=project, user=owner, label="Client", scope="cut")
    line = dialogue.dialogue_line_add(scene=scene, user=editor, speaker=(None, "ANNA"), text="Morning.")
    # The take as a part of a multi-shot take (its lead), with the group's whole file: the group's addresses.
    group = ShotGroup.objects.create(project=project, lead=take, created_by=owner, recipe={"shots": [
        {"scene": {"id": scene.pk, "number": 1, "title": scene.title}, "prompt": "p", "seconds": 2, "start": 0}]})
    with take.video.open("rb") as video:
        group.video.save("group.mp4", ContentFile(video.read()))
    Render.objects.filter(pk=take.pk).update(shot_group=group, shot_index=0, cost_share=1)
    speaking.scene_voice(scene=scene)  # the line spoken: it has a sound to fetch
    # The project's sound bed, and the person's voice sample (under a consent covering voice).
    bed = SoundBed(project=project, kind="wav", status=SoundStatus.READY)
    bed.audio.save("bed.wav", ContentFile(wav_bytes(np.zeros(4800, np.float32))), save=False)
    bed.original.save("bed.wav", ContentFile(wav_bytes(np.zeros(4800, np.float32))), save=False)
    bed.save()
    consent.consent_grant(character=character, user=editor, covers_voice=True)
    character_voice_sample_upload(character=character, user=editor, upload=SimpleUploadedFile(
        "me.wav", wav_bytes(np.zeros(4800, np.float32))))
    # An editor's cut read and waiting to be accepted, and a named revision of the board.
    cut = CutImport.objects.create(project=project, created_by=owner, filename="cut.otio",
                                   status=CutImportStatus.READY, diff={"changes": [], "unmatched": []})
    revisions.revision_name_board(project=project, user=owner, name="v1 sent to client")
    # One of the project's own fields, with the scene's value of it.
    shot_type = fields.field_create(project=project, user=owner, name="Shot type", kind="choice", choices="Wide")
    fields.scene_fields_set(scene=scene, user=owner, expected_version=Scene.objects.get(pk=scene.pk).version,
                            values={shot_type.key: "Wide"})
    # Play all's mix, made (its file and its captions have addresses).
    mix = PlayAllMix.objects.create(project=project, key="0" * 64, status=SoundStatus.READY, seconds=0.1)
    mix.audio.save("mix.m4a", ContentFile(b"\x00\x00\x00\x18ftypM4A "), save=True)
    room = rooms.room_open(take=take, user=reviewer)  # a review room on the take
    # And one comparing it with a second take of the scene.
    compare_room = rooms.room_open_compare(left=take, right=second_take, user=reviewer)
    play_all_room = rooms.room_open_play_all(project=project, user=reviewer)  # and one on the project's Play all
    return {"take": take, "room": room, "compare_room": compare_room, "play_all_room": play_all_room, "mix": mix, "field": shot_type, "line": line, "comfy": comfy, "vertex": vertex, "workflow": workflow, "character": character, "export": export,
            "script_import": pending, "cut_import": cut, "comment": comment, "notification": notification, "link": link,
            "membership": Membership.objects.get(user=owner),
            "previz_entry": CatalogModel.objects.get(connection=None, model_id="previz-animatic-1"),
            "reconciliation": ReconciliationRun.objects.create(
                team=team, provider="replicate", period_start="2026-11-01", period_end="2026-11-30",
                csv_shape="generic", created_by=owner)}


@pytest.fixture
def urls(team, project, scene, objects):
    o = objects
    take, comment, export, comfy, character = o["take"], o["comment"], o["export"], o["comfy"], o["character"]
    gateway = team.connections.get(kind="local")
    return [
        ("get", reverse("generation:export_list", args=[project.pk])),
        ("get", reverse("generation:batch_render", args=[project.pk])),
        ("post", reverse("generation:batch_render", args=[project.pk])),
        # Multi-shot takes: the selection's page, the whole take and its file, again, a scene on its own.
        ("get", reverse("generation:shot_group_new", args=[project.pk]) + f"?scene={scene.pk}"),
        ("post", reverse("generation:shot_group_new", args=[project.pk])),
        ("get", reverse("generation:shot_group_play", args=[take.pk])),
        ("get", reverse("generation:shot_group_file", args=[take.pk])),
        ("post", reverse("generation:shot_group_again", args=[take.pk])),
        ("post", reverse("generation:shot_part_alone", args=[take.pk])),
        ("post", reverse("generation:export_create", args=[project.pk])),
        ("get", reverse("generation:export_status", args=[export.pk])),
        *[("get", reverse("generation:export_file", args=[export.pk, kind])) for kind in ("mp4", "zip", "pdf", "csv")],
        ("get", reverse("projects:take_review", args=[take.pk])),
        ("post", reverse("projects:comment_create", args=[take.pk])),
        ("post", reverse("projects:take_decide", args=[take.pk])),
        ("post", reverse("projects:comment_update", args=[comment.pk])),
        ("post", reverse("projects:comment_rerender", args=[comment.pk])),
        ("post", reverse("projects:comment_reply", args=[comment.pk])),
        # A review room on the take: opening one, the room, the presenter's events, taking the lead, ending it.
        ("post", reverse("projects:room_open", args=[take.pk])),
        ("get", reverse("projects:review_room", args=[o["room"].pk])),
        ("post", reverse("projects:room_state", args=[o["room"].pk])),
        ("post", reverse("projects:room_lead", args=[o["room"].pk])),
        ("post", reverse("projects:room_take", args=[o["room"].pk])),
        ("post", reverse("projects:room_close", args=[o["room"].pk])),
        # A review room on the compare page: opening one, the room, the presenter's view.
        ("post", reverse("projects:compare_room_open", args=[scene.pk])),
        ("get", reverse("projects:review_room", args=[o["compare_room"].pk])),
        ("post", reverse("projects:room_state", args=[o["compare_room"].pk])),
        ("post", reverse("projects:room_close", args=[o["compare_room"].pk])),
        # A review room on Play all: opening one, the room, the presenter's scene and moment, the lead, ending it.
        ("post", reverse("projects:play_all_room_open", args=[project.pk])),
        ("get", reverse("projects:review_room", args=[o["play_all_room"].pk])),
        ("post", reverse("projects:room_state", args=[o["play_all_room"].pk])),
        ("post", reverse("projects:room_lead", args=[o["play_all_room"].pk])),
        ("post", reverse("projects:room_close", args=[o["play_all_room"].pk])),
        ("get", reverse("projects:scene_compare", args=[scene.pk])),
        ("get", reverse("projects:project_cut", args=[project.pk])),
        ("get", reverse("projects:project_cut_captions", args=[project.pk])),
        # Play all's stop details (a card's lines) and its sound's state, each asked for by the page.
        ("get", reverse("projects:project_cut_stop", args=[project.pk, scene.pk])),
        ("get", reverse("projects:project_cut_sound_state", args=[project.pk])),
        ("get", reverse("projects:project_cut_sound", args=[project.pk, o["mix"].pk])),
        ("get", reverse("projects:project_activity", args=[project.pk])),
        ("get", reverse("projects:project_activity", args=[project.pk]) + "?" + urlencode(
            {"scene_q": "Dawn", "before": ActivityCursor(*project.activity.values_list("at", "pk")[0]).token})),
        ("get", reverse("projects:review_links", args=[project.pk])),
        ("post", reverse("projects:review_links", args=[project.pk])),
        ("post", reverse("projects:review_link_revoke", args=[project.pk, o["link"].pk])),
        ("get", reverse("projects:project_detail", args=[project.pk])),
        ("post", reverse("projects:scene_create", args=[project.pk])),
        ("post", reverse("projects:project_budget", args=[project.pk])),
        ("post", reverse("projects:project_policy", args=[project.pk])),
        # The project's trash: its page, restore, the board's Undo, an owner's delete forever and empty.
        ("get", reverse("projects:project_trash", args=[project.pk])),
        ("post", reverse("projects:trash_restore", args=[project.pk])),
        ("post", reverse("projects:trash_undo", args=[project.pk])),
        ("post", reverse("projects:trash_delete", args=[project.pk])),
        ("post", reverse("projects:trash_empty", args=[project.pk])),
        # The editor's cut brought back, and the board's revisions.
        ("get", reverse("generation:cut_import_upload", args=[project.pk])),
        ("post", reverse("generation:cut_import_upload", args=[project.pk])),
        ("get", reverse("generation:cut_import_detail", args=[project.pk, o["cut_import"].pk])),
        ("post", reverse("generation:cut_import_detail", args=[project.pk, o["cut_import"].pk])),
        ("get", reverse("projects:revision_list", args=[project.pk])),
        ("post", reverse("projects:revision_list", args=[project.pk])),
        ("get", reverse("projects:revision_compare", args=[project.pk]) + "?a=1&b=1"),
        ("post", reverse("projects:revision_rename", args=[project.pk, 1])),
        ("post", reverse("projects:revision_restore", args=[project.pk, 1])),
        # The project's own fields: their page, an owner's rename and delete, a scene's values from its panel.
        ("get", reverse("projects:project_fields", args=[project.pk])),
        ("post", reverse("projects:project_fields", args=[project.pk])),
        ("post", reverse("projects:field_update", args=[project.pk, o["field"].pk])),
        ("get", reverse("projects:field_delete", args=[project.pk, o["field"].pk])),
        ("post", reverse("projects:field_delete", args=[project.pk, o["field"].pk])),
        ("post", reverse("projects:scene_fields", args=[scene.pk])),
        ("get", reverse("generation:scene_retarget", args=[project.pk])),
        ("post", reverse("generation:scene_retarget", args=[project.pk])),
        ("get", reverse("generation:project_spend", args=[project.pk])),
        ("get", reverse("generation:project_spend_csv", args=[project.pk])),
        ("get", reverse("generation:team_spend", args=[team.pk])),
        ("get", reverse("generation:team_spend_csv", args=[team.pk])),
        ("get", reverse("generation:reconciliation_list", args=[team.pk])),
        ("post", reverse("generation:reconciliation_list", args=[team.pk])),
        ("get", reverse("generation:reconciliation_detail", args=[team.pk, o["reconciliation"].pk])),
        ("post", reverse("projects:team_budget", args=[team.pk])),
        # The team's audit log and its CSV (owners only).
        ("get", reverse("projects:team_audit", args=[team.pk])),
        ("get", reverse("projects:team_audit_csv", args=[team.pk])),
        ("post", reverse("projects:member_budget", args=[team.pk, o["membership"].pk])),
        ("get", reverse("projects:scene_card", args=[scene.pk])),
        ("get", reverse("projects:scene_panel", args=[project.pk, scene.pk])),
        ("post", reverse("projects:scene_order", args=[project.pk])),
        ("post", reverse("projects:scene_bulk", args=[project.pk])),
        ("post", reverse("projects:board_view", args=[project.pk])),
        ("get", reverse("projects:board_page", args=[project.pk]) + "?after=0&q=Dawn"),
        ("get", reverse("projects:scene_edit", args=[scene.pk])),
        ("post", reverse("projects:scene_edit", args=[scene.pk])),
        ("get", reverse("projects:scene_delete", args=[scene.pk])),
        ("post", reverse("projects:scene_delete", args=[scene.pk])),
        ("post", reverse("projects:scene_move", args=[scene.pk, "up"])),
        ("post", reverse("projects:scene_approve", args=[scene.pk, take.pk])),
        ("post", reverse("projects:scene_cast", args=[scene.pk])),
        # A scene's dialogue lines.
        ("post", reverse("projects:line_add", args=[scene.pk])),
        ("post", reverse("projects:line_edit", args=[scene.pk, o["line"].pk])),
        ("post", reverse("projects:line_delete", args=[scene.pk, o["line"].pk])),
        ("post", reverse("projects:line_move", args=[scene.pk, o["line"].pk, "up"])),
        # The sound: a line's voice and recording, a scene following its lines, the Sound page and its bed.
        ("get", reverse("projects:line_audio", args=[scene.pk, o["line"].pk])),
        ("post", reverse("projects:line_recording", args=[scene.pk, o["line"].pk])),
        ("post", reverse("projects:line_recording_remove", args=[scene.pk, o["line"].pk])),
        ("post", reverse("projects:scene_fit", args=[scene.pk])),
        ("get", reverse("projects:project_sound", args=[project.pk])),
        ("post", reverse("projects:project_sound", args=[project.pk])),
        ("post", reverse("projects:sound_bed_upload", args=[project.pk])),
        ("post", reverse("projects:sound_bed_place", args=[project.pk])),
        ("post", reverse("projects:sound_bed_remove", args=[project.pk])),
        ("get", reverse("projects:sound_bed_file", args=[project.pk])),
        ("post", reverse("projects:speaker_voice", args=[project.pk])),
        ("post", reverse("projects:team_switch", args=[team.pk])),
        ("get", reverse("projects:team_members", args=[team.pk])),
        ("post", reverse("projects:team_members", args=[team.pk])),
        ("post", reverse("projects:member_update", args=[team.pk, o["membership"].pk])),
        ("post", reverse("projects:team_training", args=[team.pk])),
        ("post", reverse("generation:render_create", args=[scene.pk])),
        ("get", reverse("generation:render_preview", args=[scene.pk])),
        ("get", reverse("generation:render_status", args=[take.pk])),
        ("post", reverse("generation:render_retry", args=[take.pk])),
        ("post", reverse("generation:render_cancel", args=[take.pk])),
        ("post", reverse("generation:render_remix", args=[take.pk])),
        ("post", reverse("generation:render_extend", args=[take.pk])),
        ("get", reverse("generation:render_extend_preview", args=[take.pk]) + "?choice=previz-animatic-1%403"),
        ("post", reverse("projects:scene_reference", args=[scene.pk])),
        ("get", reverse("projects:scene_reference_image", args=[scene.pk, "original"])),
        ("get", reverse("projects:scene_reference_image", args=[scene.pk, "crop"])),
        # Continuity: what a scene starts from and ends on, its frames, "use this frame" from the player.
        ("post", reverse("projects:scene_continuity", args=[scene.pk])),
        ("get", reverse("generation:scene_frame", args=[scene.pk, "end"])),
        ("post", reverse("projects:take_start_next", args=[take.pk])),
        ("get", reverse("generation:connection_list", args=[team.pk])),
        ("get", reverse("generation:connection_edit", args=[team.pk, gateway.pk])),
        ("post", reverse("generation:connection_test", args=[team.pk, gateway.pk])),
        ("get", reverse("generation:connection_status", args=[team.pk, gateway.pk])),
        ("post", reverse("generation:model_register", args=[team.pk, gateway.pk])),
        # The connection's models, and an owner's edit of one (a shipped entry here: the previz).
        ("get", reverse("generation:connection_catalog", args=[team.pk, gateway.pk])),
        ("get", reverse("generation:catalog_entry_edit", args=[team.pk, gateway.pk, o["previz_entry"].pk])),
        ("post", reverse("generation:catalog_entry_edit", args=[team.pk, gateway.pk, o["previz_entry"].pk])),
        # Its owners' check for model changes, and accepting what it found (ComfyUI: its installed nodes).
        ("post", reverse("generation:catalog_check", args=[team.pk, comfy.pk])),
        ("post", reverse("generation:catalog_changes_accept", args=[team.pk, comfy.pk])),
        # ComfyUI workflows on the team's connection: uploading one, mapping its inputs.
        ("get", reverse("generation:workflow_upload", args=[team.pk, comfy.pk])),
        ("post", reverse("generation:workflow_upload", args=[team.pk, comfy.pk])),
        ("get", reverse("generation:workflow_map", args=[team.pk, comfy.pk, o["workflow"].pk])),
        ("post", reverse("generation:workflow_map", args=[team.pk, comfy.pk, o["workflow"].pk])),
        # A Google Vertex AI connection: its edit form (service account key, project, region, bucket), its test.
        ("get", reverse("generation:connection_edit", args=[team.pk, o["vertex"].pk])),
        ("post", reverse("generation:connection_edit", args=[team.pk, o["vertex"].pk])),
        ("post", reverse("generation:connection_test", args=[team.pk, o["vertex"].pk])),
        ("get", reverse("generation:connection_status", args=[team.pk, o["vertex"].pk])),
        ("get", reverse("generation:connection_catalog", args=[team.pk, o["vertex"].pk])),
        ("get", reverse("generation:render_file", args=[take.pk, "video"])),
        ("get", reverse("generation:render_file", args=[take.pk, "thumbnail"])),
        # Script in and out.
        ("get", reverse("projects:script_upload", args=[project.pk])),
        ("post", reverse("projects:script_upload", args=[project.pk])),
        ("get", reverse("projects:script_preview", args=[project.pk, o["script_import"].token])),
        ("post", reverse("projects:script_preview", args=[project.pk, o["script_import"].token])),
        ("get", reverse("projects:script_export", args=[project.pk])),
        # Characters and their consent.
        ("get", reverse("projects:character_list", args=[team.pk])),
        ("post", reverse("projects:character_list", args=[team.pk])),
        ("get", reverse("projects:character_detail", args=[character.pk])),
        ("get", reverse("projects:character_image", args=[character.pk, character.images.get().pk])),
        ("post", reverse("projects:character_consent", args=[character.pk])),
        ("post", reverse("projects:character_revoke", args=[character.pk])),
        ("post", reverse("projects:character_voice", args=[character.pk])),
        ("post", reverse("projects:character_voice_sample", args=[character.pk])),
        ("post", reverse("projects:character_voice_sample_remove", args=[character.pk])),
        ("get", reverse("projects:character_voice_sample_file", args=[character.pk])),
        # A teammate's notification.
        ("post", reverse("projects:notification_read", args=[o["notification"].pk])),
        # The live channel: a stream, its fallback poll and presence, per project; the team's stream.
        ("get", reverse("projects:project_events", args=[project.pk])),
        ("get", reverse("projects:project_changes", args=[project.pk])),
        ("post", reverse("projects:project_presence", args=[project.pk])),
        ("get", reverse("projects:team_events", args=[team.pk])),
    ]


def test_every_url_pattern_is_isolated_personal_or_knowingly_public(urls):
    isolated = {resolve(url.partition("?")[0]).view_name for _method, url in urls}
    unlisted = [name for name in url_names(admin=True)
                if name not in isolated | PERSONAL | PUBLIC and name.split(":")[0] not in PUBLIC_NAMESPACES]
    assert unlisted == [], ("Add these URLs to `urls` in tests/test_isolation.py (or, if they are public "
                            f"by design, to PUBLIC with the reason): {unlisted}")
    assert not isolated & (PERSONAL | PUBLIC)


def test_another_teams_user_gets_404_everywhere(client_for, outsider, urls, project, objects):
    client = client_for(outsider)
    for method, url in urls:
        response = getattr(client, method)(url)
        assert response.status_code == 404, f"{method.upper()} {url} gave {response.status_code}"
    assert project.scenes.count() == 1  # nothing changed
    assert list(project.scenes.get().lines.values_list("text", flat=True)) == ["Morning."]
    objects["notification"].refresh_from_db()
    assert objects["notification"].read_at is None
    assert ScriptImport.objects.filter(pk=objects["script_import"].pk).exists()
    assert project.revisions.get().name == "v1 sent to client" and project.revisions.count() == 1
    room = objects["room"]
    room.refresh_from_db()
    assert room.is_open and room.presenter == room.opened_by and room.seq == 0
    compare_room = objects["compare_room"]
    compare_room.refresh_from_db()
    assert compare_room.is_open and compare_room.seq == 0
    play_all_room = objects["play_all_room"]
    play_all_room.refresh_from_db()
    assert play_all_room.is_open and play_all_room.seq == 0 and play_all_room.presenter == play_all_room.opened_by
    assert project.review_rooms.count() == 3
    assert list(project.fields.values_list("name", "choices")) == [("Shot type", ["Wide"])]
    assert project.scenes.get().field_values == {str(objects["field"].pk): "Wide"}
    assert CutImport.objects.get(pk=objects["cut_import"].pk).status == CutImportStatus.READY
    objects["character"].refresh_from_db()
    assert SoundBed.objects.filter(project=project).exists() and objects["character"].voice_sample
    assert not project.scenes.get().fit_to_dialogue
    vertex = objects["vertex"]
    before = (vertex.label, vertex.options, vertex.api_key_encrypted)
    vertex.refresh_from_db()
    assert (vertex.label, vertex.options, vertex.api_key_encrypted) == before


def test_a_team_member_reaches_every_page_so_the_404s_above_are_isolation(client_for, owner, editor, urls, objects,
                                                                          settings):
    """The control: the outsider's 404s are not pages that are missing for everyone."""
    settings.LIVE_STREAM_MAX_SECONDS = 0.1  # the streams answer at once; their bodies are not read
    client = client_for(owner)
    mine = {reverse("projects:notification_read", args=[objects["notification"].pk])}  # the editor's own
    for method, url in urls:
        if method != "get" or url in mine:
            continue
        response = client.get(url)
        assert response.status_code in {200, 302}, f"GET {url} gave {response.status_code} to the team's owner"
    assert client_for(editor).post(*mine).status_code == 302


def test_anonymous_visitors_are_sent_to_login(client, urls):
    personal = [("get", reverse(name)) for name in PERSONAL if name != "projects:notifications_read_all"]
    for method, url in [*urls, *personal, ("post", reverse("projects:notifications_read_all"))]:
        response = getattr(client, method)(url)
        assert response.status_code == 302, f"{method.upper()} {url} gave {response.status_code}"
        assert response.url.startswith(reverse("login"))


# --- things that belong to one person, not to the whole team -------------------------------------


def test_a_notification_is_not_found_by_a_teammate_who_is_not_its_recipient(client_for, owner, objects):
    notification = objects["notification"]
    client = client_for(owner)
    assert client.post(reverse("projects:notification_read", args=[notification.pk])).status_code == 404
    client.post(reverse("projects:notifications_read_all"))  # marks the owner's own, never the editor's
    assert "the mist" not in client.get(reverse("projects:inbox")).content.decode()
    notification.refresh_from_db()
    assert notification.read_at is None


def test_a_script_import_preview_is_not_found_by_a_teammate_who_did_not_upload_it(client_for, editor, project,
                                                                                  objects):
    pending = objects["script_import"]
    url = reverse("projects:script_preview", args=[project.pk, pending.token])
    client = client_for(editor)  # an editor of the same project, who may import scripts of their own
    assert client.get(url).status_code == 404
    assert client.post(url, {"mode": "append"}).status_code == 404
    assert project.scenes.count() == 1  # nothing imported
    assert ScriptImport.objects.filter(pk=pending.pk).exists()


def test_my_team_in_the_url_does_not_open_another_teams_connection_or_workflow(client_for, outsider, objects):
    """The outsider's own team id beside our object's id: the object is looked up in *their* team."""
    theirs = Membership.objects.get(user=outsider).team
    comfy, workflow, vertex = objects["comfy"], objects["workflow"], objects["vertex"]
    client = client_for(outsider)
    for url in (reverse("generation:connection_edit", args=[theirs.pk, comfy.pk]),
                reverse("generation:connection_status", args=[theirs.pk, comfy.pk]),
                reverse("generation:connection_edit", args=[theirs.pk, vertex.pk]),
                reverse("generation:connection_status", args=[theirs.pk, vertex.pk]),
                reverse("generation:workflow_upload", args=[theirs.pk, comfy.pk]),
                reverse("generation:workflow_map", args=[theirs.pk, comfy.pk, workflow.pk])):
        assert client.get(url).status_code == 404, url
    for url in (reverse("generation:connection_test", args=[theirs.pk, comfy.pk]),
                reverse("generation:connection_test", args=[theirs.pk, vertex.pk]),
                reverse("generation:connection_edit", args=[theirs.pk, vertex.pk]),
                reverse("generation:model_register", args=[theirs.pk, comfy.pk]),
                reverse("generation:catalog_check", args=[theirs.pk, comfy.pk]),
                reverse("generation:catalog_changes_accept", args=[theirs.pk, comfy.pk]),
                reverse("projects:member_update", args=[theirs.pk, objects["membership"].pk])):
        assert client.post(url).status_code == 404, url


def test_personal_pages_show_only_ones_own(client_for, outsider, project, objects):
    client = client_for(outsider)
    home = client.get(reverse("projects:project_list")).content.decode()
    assert project.name not in home  # nor its cards' pictures, counts or who changed it last
    assert reverse("generation:render_file", args=[objects["take"].pk, "thumbnail"]) not in home
    assert 'data-testid="project-card"' not in home
    inbox = client.get(reverse("projects:inbox")).content.decode()
    assert "the mist" not in inbox and "rita" not in inbox
    assert "Eddie" not in client.get(reverse("projects:my_likeness")).content.decode()


def test_unknown_ids_are_404(client_for, owner):
    client = client_for(owner)
    assert client.get(reverse("projects:project_detail", args=[999999])).status_code == 404
    assert client.get(reverse("generation:render_status", args=[999999])).status_code == 404
    assert client.get(reverse("invitation_accept", args=["no-such-token"])).status_code == 404


def test_the_login_page_is_public(client):
    assert client.get(reverse("login")).status_code == 200


def test_an_invitation_link_needs_no_login(client, team, owner):
    invitation = Invitation.objects.create(team=team, email="x@example.com", role="editor", invited_by=owner)
    assert client.get(reverse("invitation_accept", args=[invitation.token])).status_code == 200


def test_another_teams_user_cannot_join_with_a_teams_invitation_link(client_for, outsider, team, owner, project):
    invitation = Invitation.objects.create(team=team, email="x@example.com", role="owner", invited_by=owner)
    client = client_for(outsider)
    url = reverse("invitation_accept", args=[invitation.token])

    assert client.post(url).status_code == 403
    assert not Membership.objects.filter(team=team, user=outsider).exists()
    assert client.get(reverse("projects:project_detail", args=[project.pk])).status_code == 404
