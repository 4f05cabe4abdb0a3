"""Hostile input: every form field and query parameter, sent values nobody should type.

For each URL of the app (projects/urls.py, generation/urls.py, studio_site/urls.py), the
fields its view reads are sent NUL and other control characters, numbers past bigint, -1,
100 000 characters, lists where one value is expected, text where a number is, a broken
percent-escape and unicode look-alike digits. The studio must answer each with a message
(4xx or its page with the error), never a 500, and store nothing PostgreSQL would refuse:
no NUL, no text longer than its column, no number past its column's range. SQLite would
store those; checking them here keeps the suite honest on both databases.
"""

from __future__ import annotations

import json
import math
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlencode

import numpy as np
import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, models, transaction
from django.test import Client, override_settings
from django.utils import timezone

from generation.models import (
    CatalogModel,
    CatalogProposal,
    ComfyWorkflow,
    CutImport,
    CutImportStatus,
    ProposalStatus,
    ProposedChange,
    ProvenanceState,
    ProviderConnection,
    Render,
    ShotGroup,
    Status,
    WebhookEvent,
)
from generation.providers import comfy_workflows, connections
from generation.providers.webhooks import sign_standard_webhook
from generation.renders import services as generation
from generation.sound.audio import wav_bytes
from projects.inputs import CONTROL_CHARACTERS
from projects.models import (
    Character,
    CharacterKind,
    Comment,
    ConsentGrant,
    Invitation,
    Membership,
    Notification,
    Project,
    ReviewLink,
    ReviewRoom,
    Role,
    Scene,
    ScriptImport,
    SoundBed,
    Team,
)
from projects.review import guest_links
from projects.review import services as review
from projects.storyboard import fields as own_fields
from projects.storyboard import revisions, script_import, services
from projects.storyboard.dialogue import services as dialogue
from projects.teams import services as team_services
from tests.conftest import PASSWORD, priced_gateway_create, studio_test_settings, tasks_inline
from tests.fakes.comfyui_server import FIXTURES as COMFY_FIXTURES
from tests.fakes.vertex_server import form_key_json
from tests.url_patterns import url_names

LONG = "x" * 100_000
BAD_ESCAPE = object()  # stands for a raw `%FF` in the body or query string: not UTF-8

HOSTILE = {
    "nul": "a\x00b",
    "control": "a\x01\x1b\x7fb",
    "huge": str(10**30),
    "minus-one": "-1",
    "long": LONG,
    "list": ["1", "2"],
    "text": "abc",
    "unicode-digits": "²١",
    "unicode": "e\u0301 🎬 \u202edlrow",
    "inf": "1e309",
    "nan": "NaN",
    "bad-utf8": BAD_ESCAPE,
}


@dataclass(frozen=True)
class Form:
    name: str
    method: str  # "get" or "post"
    url: str  # a format string filled from the world's ids
    role: str  # who is logged in: owner, editor, reviewer, guest (a guest-link session) or anonymous
    fields: tuple[str, ...]
    base: dict = field(default_factory=dict)  # valid values for the other fields
    # Files sent with every request (multipart): field → (file name, name of its content in FILES).
    files: dict = field(default_factory=dict)


KEY = "{key}"  # replaced by a fresh UUID per request
# Base URLs the connection forms accept: the form checks where they lead, and the tests allow loopback.
GATEWAY, COMFY = "http://127.0.0.1:4000/v1", "http://127.0.0.1:8188"
# What a model declares for continuity (the OpenAI format offers no end frame and no likeness references).
CONTINUITY_FIELDS = ("extend_seconds", "extend_returns", "shot_timing", "shots_max", "shots_seconds_min",
                     "shots_seconds_max", "shot_min_seconds")
# The contents of the files the upload forms send (Form.files).
FILES = {
    "workflow": (COMFY_FIXTURES / "ltxv_t2v_api.json").read_bytes(),
    "fountain": b"Title: Harbour\n\nINT. HARBOUR - DAWN\n\nMist on the water.\n\nANNA\nMorning.\n",
    "wav": wav_bytes(np.zeros(4800, np.float32)),  # a tenth of a second of silence
    "otio": b'{"OTIO_SCHEMA": "Timeline.1", "name": "Cut", "tracks": {"OTIO_SCHEMA": "Stack.1", "children": []}}',
}
# A real clip for the take the Extend form continues.
VIDEO = (COMFY_FIXTURES.parent / "c2pa" / "signed-by-test-cert.mp4").read_bytes()
FORMS = [
    # studio_site/urls.py
    Form("login", "post", "/login/", "anonymous", ("username", "password"),
         {"username": "eddie", "password": PASSWORD}),
    Form("invitation_accept", "post", "/invitations/{invitation}/", "anonymous",
         ("username", "password1", "password2"),
         {"username": "newcomer", "password1": PASSWORD, "password2": PASSWORD}),
    # projects/urls.py
    Form("project_create", "post", "/", "owner", ("name", "description", "default_size", "default_duration"),
         {"name": "New", "description": "", "default_size": "1280x720", "default_duration": "4"}),
    Form("project_budget", "post", "/projects/{project}/budget/", "owner", ("budget",), {"budget": "100"}),
    Form("scene_create", "post", "/projects/{project}/scenes/", "editor",
         ("title", "prompt", "duration", "size", "camera_notes"),
         {"title": "Noon", "prompt": "Boats.", "duration": "2", "size": "1280x720", "camera_notes": ""}),
    Form("scene_edit", "post", "/scenes/{scene}/edit/", "editor",
         ("title", "prompt", "duration", "size", "camera_notes", "version"),
         {"title": "Dawn", "prompt": "Mist.", "duration": "2", "size": "1280x720", "camera_notes": "",
          "version": "{scene_version}"}),
    Form("scene_reference", "post", "/scenes/{scene}/reference/", "editor", ("fit", "action")),
    # Continuity: what a scene starts from and ends on; "use this frame" for the next scene, from the player.
    Form("scene_continuity", "post", "/scenes/{scene}/continuity/", "editor", ("start_from", "end_on", "follow"),
         {"start_from": "", "end_on": ""}),
    Form("take_start_next", "post", "/takes/{take}/start-next/", "editor", ("frame",)),
    Form("project_detail_view", "get", "/projects/{project}/", "editor", ("view",)),
    Form("board_page", "get", "/projects/{project}/frames/", "editor", ("after", "q", "status", "cast"), {}),
    Form("board_view", "post", "/projects/{project}/view/", "editor", ("view",), {"view": "list"}),
    Form("scene_order", "post", "/projects/{project}/scenes/order/", "editor", ("order",), {"order": "{scene}"}),
    Form("scene_bulk", "post", "/projects/{project}/scenes/bulk/", "editor", ("action", "scene", "to"),
         {"action": "move", "scene": "{scene}", "to": "1"}),
    Form("scene_bulk_delete", "post", "/projects/{project}/scenes/bulk/", "editor", ("scene",),
         {"action": "delete"}),  # to the trash at once
    # The project's trash: restore (ticked, or one), the Undo of a delete, an owner's delete forever.
    Form("trash_restore", "post", "/projects/{project}/trash/restore/", "editor", ("scene", "only"),
         {"scene": "{scene}"}),
    Form("trash_undo", "post", "/projects/{project}/trash/undo/", "editor", ("batch",), {"batch": KEY}),
    Form("trash_delete", "post", "/projects/{project}/trash/delete/", "owner", ("scene",), {"scene": "{scene}"}),
    # The editor's cut: a timeline uploaded (read in the worker), its changes accepted; board revisions
    # named, renamed and compared (restoring one reads nothing but the path).
    Form("cut_import_upload", "post", "/projects/{project}/editors-cut/", "editor", ("idempotency_key", "timeline"),
         {"idempotency_key": KEY}, files={"timeline": ("cut.otio", "otio")}),
    Form("cut_import_accept", "post", "/projects/{project}/editors-cut/{cut_import}/", "editor", ("change",),
         {"change": "drop:{scene}"}),
    Form("revision_name_board", "post", "/projects/{project}/revisions/", "editor", ("name",), {"name": "v2"}),
    Form("revision_rename", "post", "/projects/{project}/revisions/{revision}/name/", "editor", ("name",),
         {"name": "v1 sent to client"}),
    Form("revision_compare", "get", "/projects/{project}/revisions/compare/", "editor", ("a", "b"),
         {"a": "{revision}", "b": "{revision}"}),
    # The project's own fields: an owner adds and renames one; a scene's values from its panel, in bulk, and
    # the board filtered by them.
    Form("project_fields", "post", "/projects/{project}/fields/", "owner", ("name", "kind", "choices"),
         {"name": "Location", "kind": "choice", "choices": "Harbour\nPier"}),
    Form("field_update", "post", "/projects/{project}/fields/{shot_type}/", "owner", ("name", "choices"),
         {"name": "Framing", "choices": "Wide\nClose-up\nMedium"}),
    Form("scene_fields", "post", "/scenes/{scene}/fields/", "editor",
         ("version", "field_{shot_type}", "field_{lens}", "base_field_{lens}"),
         {"version": "{scene_version}", "field_{shot_type}": "Wide", "field_{lens}": "50mm"}),
    Form("scene_bulk_field", "post", "/projects/{project}/scenes/bulk/", "editor", ("field", "value", "scene"),
         {"action": "field", "field": "{shot_type}", "value": "Close-up", "scene": "{scene}"}),
    Form("project_detail_filter", "get", "/projects/{project}/", "editor", ("shot_type", "lens"),
         {"shot_type": "Wide"}),
    Form("team_training", "post", "/teams/{team}/training/", "owner", ("do_not_train",), {"do_not_train": "on"}),
    # The live channel's fallback poll and presence (the stream reads the same ?after= and client).
    Form("project_changes", "get", "/projects/{project}/changes/", "editor", ("after",), {"after": "0"}),
    Form("project_presence", "post", "/projects/{project}/presence/", "editor", ("editing", "client"),
         {"editing": "{scene}", "client": "0b7ba7e4-5f58-4a37-9b0b-2a3c1d1f7b11"}),
    Form("scene_cast", "post", "/scenes/{scene}/cast/", "editor", ("character", "action"),
         {"character": "{character}"}),
    # A scene's dialogue lines: adding one, editing one (with the version and base it was opened on), deleting.
    Form("line_add", "post", "/scenes/{scene}/lines/", "editor", ("character", "speaker", "parenthetical", "text"),
         {"speaker": "ANNA", "text": "Morning."}),
    Form("line_edit", "post", "/scenes/{scene}/lines/{line}/", "editor",
         ("character", "speaker", "parenthetical", "text", "version", "base_character", "base_speaker",
          "base_parenthetical", "base_text"),
         {"speaker": "ANNA", "text": "Evening.", "version": "1", "base_speaker": "ANNA", "base_text": "Morning."}),
    Form("line_delete", "post", "/scenes/{scene}/lines/{line}/delete/", "editor", ("version",), {"version": "1"}),
    # The sound: a line's recording, a scene following its lines, the Sound page, a character's voice.
    Form("line_recording", "post", "/scenes/{scene}/lines/{line}/recording/", "editor", ("file",),
         files={"file": ("line.wav", "wav")}),
    Form("scene_fit", "post", "/scenes/{scene}/fit/", "editor", ("fit",), {"fit": "on"}),
    Form("project_sound", "post", "/projects/{project}/sound/", "editor",
         ("voice_language", "dialogue_pause", "take_audio_level_db"),
         {"voice_language": "en-us", "dialogue_pause": "0.5", "take_audio_level_db": "0"}),
    Form("sound_bed_upload", "post", "/projects/{project}/sound/bed/", "editor", ("file",),
         files={"file": ("bed.wav", "wav")}),
    Form("sound_bed_place", "post", "/projects/{project}/sound/bed/place/", "editor",
         ("start_at", "level_db", "duck_db"), {"start_at": "0", "level_db": "-14", "duck_db": "-12"}),
    Form("speaker_voice", "post", "/projects/{project}/sound/voices/", "editor", ("name", "voice", "rate", "pitch"),
         {"name": "ANNA", "voice": "en+m3", "rate": "165", "pitch": "50"}),
    Form("character_voice", "post", "/characters/{character}/voice/", "editor", ("voice", "rate", "pitch"),
         {"voice": "en+m3", "rate": "165", "pitch": "50"}),
    Form("character_voice_sample", "post", "/characters/{character}/voice-sample/", "editor", ("file",),
         files={"file": ("me.wav", "wav")}),
    Form("team_create", "post", "/teams/new/", "owner", ("name",), {"name": "Other"}),
    Form("team_invite", "post", "/teams/{team}/members/", "owner", ("email", "role"),
         {"email": "new@example.com", "role": "editor"}),
    Form("member_update", "post", "/teams/{team}/members/{member}/", "owner", ("role", "action"),
         {"role": "reviewer"}),
    Form("character_create", "post", "/teams/{team}/characters/", "editor",
         ("name", "description", "kind", "person", "declares_fictional"),
         {"name": "Ada", "description": "", "kind": "fictional", "declares_fictional": "on"}),
    Form("character_search", "get", "/teams/{team}/characters/", "editor", ("q",)),
    Form("character_consent", "post", "/characters/{character}/consent/", "editor",
         ("scope", "projects", "providers", "expires_on", "covers_voice"), {"scope": "team"}),
    Form("character_revoke", "post", "/characters/{character}/revoke/", "editor", ("delete_files", "return_to")),
    Form("notification_settings", "post", "/account/notifications/", "editor", ("mentions", "replies", "language")),
    Form("comment_create", "post", "/takes/{take}/comments/", "reviewer",
         ("body", "at", "until", "shared", "drawing", "room"), {"body": "Nice.", "at": "0.5"}),
    # Made in a review room without a moment: the room's id picks the moment.
    Form("comment_in_room", "post", "/takes/{take}/comments/", "reviewer", ("room",), {"body": "Nice.", "at": ""}),
    Form("guest_comment_in_room", "post", "/review/{token}/takes/{take}/comments/", "guest", ("room",),
         {"body": "Nice.", "at": ""}),
    # The presenter's player moved, or their drawing on the paused frame changed (a review room on the take).
    Form("room_state", "post", "/rooms/{room}/state/", "reviewer", ("seq", "position", "playing", "drawing"),
         {"seq": "1", "position": "0.5", "playing": "0"}),
    Form("room_take", "post", "/rooms/{room}/take/", "reviewer", ("take",)),
    # A review room on the compare page: opening one on two takes, and the presenter's view of them.
    Form("compare_room_open", "post", "/scenes/{scene}/compare/room/", "reviewer", ("a", "b"),
         {"a": "{take}", "b": "{extendable}"}),
    Form("compare_room_state", "post", "/rooms/{compare_room}/state/", "reviewer", ("seq", "position", "playing", "mode"),
         {"seq": "1", "position": "0.5", "playing": "0", "mode": "wipe"}),
    # A review room on Play all: the presenter's scene and moment in it.
    Form("play_all_room_state", "post", "/rooms/{play_all_room}/state/", "reviewer",
         ("seq", "position", "playing", "scene"), {"seq": "1", "position": "0.5", "playing": "1", "scene": "{scene}"}),
    Form("take_decide", "post", "/takes/{take}/decide/", "owner",
         ("decision", "note", "at", "until", "rerender", "prompt", "idempotency_key"),
         {"decision": "changes", "note": "Darker.", "rerender": "on", "prompt": "Darker mist.",
          "idempotency_key": KEY}),
    Form("take_approve", "post", "/takes/{take}/decide/", "reviewer", ("note",), {"decision": "approve"}),
    # An owner approves a take whose checks failed, with the reason the override needs.
    Form("take_approve_override", "post", "/takes/{blocked}/decide/", "owner", ("note", "override_reason"),
         {"decision": "approve", "override_reason": "The client signed off on this cut."}),
    Form("comment_edit", "post", "/comments/{comment}/", "reviewer", ("action", "body"),
         {"action": "edit", "body": "Better."}),
    Form("comment_rerender", "post", "/comments/{comment}/rerender/", "editor", ("prompt", "idempotency_key"),
         {"prompt": "Again.", "idempotency_key": KEY}),
    Form("comment_reply", "post", "/comments/{comment}/replies/", "reviewer", ("body", "shared"), {"body": "Agreed."}),
    Form("comment_share", "post", "/comments/{comment}/", "reviewer", ("action",), {"action": "unshare"}),
    Form("scene_compare", "get", "/scenes/{scene}/compare/", "editor", ("a", "b")),
    Form("project_activity", "get", "/projects/{project}/activity/", "editor", ("kind", "scene")),
    Form("review_link_create", "post", "/projects/{project}/review-links/", "owner",
         ("label", "scope", "scenes", "days", "password"),
         {"label": "Client", "scope": "scenes", "scenes": "{scene}", "days": "7", "password": ""}),
    Form("guest_gate", "post", "/review/{token}/", "anonymous", ("action", "password", "name"),
         {"action": "name", "name": "Gus"}),
    Form("guest_comment", "post", "/review/{token}/takes/{take}/comments/", "guest",
         ("body", "at", "until", "drawing"), {"body": "Lovely.", "at": "0.5"}),
    # Script in: the upload (a Fountain file) and its preview (one scene, ANNA speaks).
    Form("script_upload", "post", "/projects/{project}/script/", "editor", ("split", "script"),
         {"split": "heading"}, files={"script": ("harbour.fountain", "fountain")}),
    Form("script_preview", "post", "/projects/{project}/script/{script}/", "editor",
         ("mode", "duration", "cast", "takes_to_delete"), {"mode": "append", "duration": "4"}),
    # The inbox takes no fields: its ids are in the path (PATHS, POST_PATHS).
    Form("notifications_read_all", "post", "/inbox/read/", "editor", ()),
    Form("notification_read", "post", "/inbox/{notification}/read/", "editor", ()),
    Form("guest_reply", "post", "/review/{token}/comments/{guest_thread}/replies/", "guest", ("body",),
         {"body": "Thanks."}),
    # generation/urls.py
    Form("render_create", "post", "/scenes/{scene}/renders/", "editor", ("target", "idempotency_key"),
         {"target": "{target}", "idempotency_key": KEY}),
    Form("render_preview", "get", "/scenes/{scene}/renders/preview/", "editor", ("target",)),
    Form("render_retry", "post", "/takes/{take}/retry/", "editor", ("idempotency_key",)),
    Form("render_remix", "post", "/takes/{take}/remix/", "editor", ("prompt", "idempotency_key"),
         {"prompt": "Brighter.", "idempotency_key": KEY}),
    # Extending a finished take by a length its model allows, and what that would send.
    Form("render_extend", "post", "/takes/{extendable}/extend/", "editor",
         ("choice", "prompt", "override_reason", "idempotency_key"),
         {"choice": "previz-animatic-1@3", "prompt": "The mist lifts.", "idempotency_key": KEY}),
    Form("render_extend_preview", "get", "/takes/{extendable}/extend/preview/", "editor", ("choice",),
         {"choice": "previz-animatic-1@3"}),
    # An owner remixes a take whose checks failed, with the reason the override needs.
    Form("render_remix_override", "post", "/takes/{blocked}/remix/", "owner",
         ("prompt", "override_reason", "idempotency_key"),
         {"prompt": "Brighter.", "override_reason": "The client wants this version reworked.",
          "idempotency_key": KEY}),
    Form("connection_create", "post", "/teams/{team}/connections/", "owner",
         ("kind", "label", "base_url", "auth_style", "api_key", "webhook_secret"),
         {"kind": "openai-videos", "label": "GW", "base_url": GATEWAY, "auth_style": "bearer",
          "api_key": "sk-1"}),
    *[Form(f"connection_create_{kind}", "post", "/teams/{team}/connections/", "owner",
           ("kind", "label", "base_url", "auth_style", "api_key", "webhook_secret"),
           {"kind": kind, "label": kind.title(), "auth_style": "bearer", "api_key": "key-1",
            **({"base_url": COMFY} if kind == "comfyui" else {})})
      for kind in ("veo", "fal", "runway", "comfyui")],
    # Google Vertex AI: a service account's JSON key (braces doubled for _fill), a project, a region, a bucket.
    Form("connection_create_vertex", "post", "/teams/{team}/connections/", "owner",
         ("label", "service_account_key", "project", "region", "output_uri"),
         {"kind": "vertex", "label": "Vertex", "auth_style": "bearer",
          "service_account_key": form_key_json().replace("{", "{{").replace("}", "}}"),
          "project": "harbour-films-1", "region": "us-central1", "output_uri": "gs://harbour-renders/takes"}),
    # Editing it: a blank key keeps the stored one; a hostile one, project, region or bucket is refused in words.
    Form("connection_edit_vertex", "post", "/teams/{team}/connections/{vertex}/", "owner",
         ("label", "base_url", "service_account_key", "project", "region", "output_uri"),
         {"label": "Vertex", "base_url": "", "auth_style": "bearer", "service_account_key": "",
          "project": "harbour-films-1", "region": "europe-west4", "output_uri": "gs://harbour-renders/takes"}),
    Form("connection_edit_comfyui", "post", "/teams/{team}/connections/{comfy}/", "owner",
         ("label", "base_url", "auth_style", "api_key"),
         {"label": "Studio GPU", "base_url": COMFY, "auth_style": "bearer"}),
    # ComfyUI workflows: the upload (API-format JSON) and which inputs the studio fills.
    Form("workflow_upload", "post", "/teams/{team}/connections/{comfy}/workflows/new/", "owner",
         ("name", "file"), {"name": "LTX-Video 2B"}, files={"file": ("workflow_api.json", "workflow")}),
    Form("workflow_map", "post", "/teams/{team}/connections/{comfy}/workflows/{workflow}/", "owner",
         ("input_prompt", "input_negative_prompt", "input_width", "input_height", "input_length", "input_fps",
          "input_seed", "input_image", "frames_rule", "fps", "sizes", "durations", "price_per_second"),
         {"input_prompt": "3|text", "input_negative_prompt": "4|text", "input_width": "5|width",
          "input_height": "5|height", "input_length": "5|length", "input_fps": "9|frame_rate",
          "input_seed": "7|seed", "input_image": "", "frames_rule": "8n+1", "fps": "24",
          "sizes": "768x512, 512x768", "durations": "2, 3, 4", "price_per_second": "0"}),
    Form("connection_edit", "post", "/teams/{team}/connections/{connection}/", "owner",
         ("label", "base_url", "auth_style", "api_key", "webhook_secret"),
         {"label": "GW", "base_url": GATEWAY, "auth_style": "bearer"}),
    Form("model_register", "post", "/teams/{team}/connections/{connection}/models/", "owner",
         ("model_id", "display_name", "sizes", "durations", "price_per_second", "image_input", "native_characters",
          "supports_remix", "typical_seconds", "extra_fields", *CONTINUITY_FIELDS),
         {"model_id": "m-1", "display_name": "M", "sizes": "1280x720", "durations": "4",
          "price_per_second": "0.1"}),
    # An owner edits one of a connection's models for the team, or puts it back to the shipped entry.
    Form("catalog_entry_edit", "post", "/teams/{team}/connections/{connection}/catalog/{entry}/", "owner",
         ("display_name", "sizes", "durations", "input_kinds", "has_audio", "price_per_second", "lifecycle",
          "lifecycle_date", "typical_seconds", "native_characters", "extra_fields", *CONTINUITY_FIELDS),
         {"display_name": "Wan", "sizes": "1280x720", "durations": "4", "input_kinds": "text",
          "price_per_second": "0.5", "lifecycle": "deprecated", "lifecycle_date": "2099-01-01"}),
    Form("catalog_entry_reset", "post", "/teams/{team}/connections/{connection}/catalog/{entry}/", "owner",
         ("reset",), {"reset": "1"}),
    # An owner accepts the model changes the gateway's check found: a new model (its price, sizes and lengths,
    # which the listing did not say) and one gone (the day it retires). Field names carry each row's id.
    Form("catalog_changes_accept", "post", "/teams/{team}/connections/{connection}/catalog/changes/", "owner",
         ("accept-{new_change}", "seen-{new_change}", "price-{new_change}", "sizes-{new_change}",
          "durations-{new_change}", "accept-{gone_change}", "retire_on-{gone_change}", "all"),
         {"accept-{new_change}": "on", "seen-{new_change}": "{new_seen}", "price-{new_change}": "0.12",
          "sizes-{new_change}": "1280x720", "durations-{new_change}": "4, 8", "accept-{gone_change}": "on",
          "seen-{gone_change}": "{gone_seen}", "retire_on-{gone_change}": "2099-01-01"}),
    Form("batch_plan", "get", "/projects/{project}/render/", "editor", ("target", "scope")),
    Form("batch_render", "post", "/projects/{project}/render/", "editor",
         ("target", "idempotency_key", "scenes", "plan_target", "plan_total", "plan_digest"),
         {"target": "{target}", "idempotency_key": KEY, "scenes": "{scene}", "plan_target": "{target}",
          "plan_total": "0", "plan_digest": "0" * 32}),
    # Multi-shot takes: the selection's page, booking it, and a part's card (the whole take again, a scene alone).
    Form("shot_group_plan", "get", "/projects/{project}/multi-shot/", "editor", ("scene", "target"),
         {"scene": "{scene}"}),
    Form("shot_group_new", "post", "/projects/{project}/multi-shot/", "editor",
         ("target", "idempotency_key", "scenes", "plan_target", "plan_cost"),
         {"target": "{target}", "idempotency_key": KEY, "scenes": "{scenes}", "plan_target": "{target}",
          "plan_cost": "0"}),
    Form("shot_group_again", "post", "/takes/{part}/multi-shot/again/", "editor", ("idempotency_key",),
         {"idempotency_key": KEY}),
    Form("shot_part_alone", "post", "/takes/{part}/alone/", "editor", ("target", "idempotency_key"),
         {"target": "{target}", "idempotency_key": KEY}),
    Form("export_create", "post", "/projects/{project}/exports/new/", "editor",
         ("idempotency_key", "pdf_layout", "burn_captions"),
         {"idempotency_key": KEY, "pdf_layout": "grid"}),
    Form("scene_retarget_plan", "get", "/projects/{project}/retarget/", "editor", ("scene", "from", "target"),
         {"scene": "{scene}", "target": "{target}"}),
    Form("scene_retarget", "post", "/projects/{project}/retarget/", "editor", ("scene", "from", "target", "shown"),
         {"scene": "{scene}", "target": "{target}"}),
    Form("project_policy", "post", "/projects/{project}/policy/", "owner", ("allowed_models", "max_price_per_second"),
         {"max_price_per_second": "0.50"}),
    Form("team_budget", "post", "/teams/{team}/budget/", "owner", ("monthly_budget",), {"monthly_budget": "250"}),
    Form("member_budget", "post", "/teams/{team}/members/{member}/budget/", "owner", ("monthly_budget",),
         {"monthly_budget": "50"}),
    Form("team_spend_csv", "get", "/teams/{team}/spend.csv", "owner", ("month", "start", "end", "by")),
    Form("team_audit", "get", "/teams/{team}/audit/", "owner", ("action", "person", "since", "until", "before"),
         {"action": "budgets"}),
    Form("team_audit_csv", "get", "/teams/{team}/audit.csv", "owner", ("action", "person", "since", "until"),
         {"since": "2026-11-01"}),
    Form("project_spend", "get", "/projects/{project}/spend/", "editor", ("month", "start", "end", "by")),
    Form("project_spend_csv", "get", "/projects/{project}/spend.csv", "editor", ("month", "start", "end", "by")),
    Form("team_spend", "get", "/teams/{team}/spend/", "owner", ("month", "start", "end", "by")),
    Form("reconciliation_create", "post", "/teams/{team}/reconciliations/", "owner",
         ("provider", "start", "end", "pasted"),
         {"provider": "replicate", "start": "2026-11-01", "end": "2026-11-30",
          "pasted": "job_id,model,billed_usd,created_at\np-1,wan,1.25,2026-11-03T10:00:00Z\n"}),
]

# Path segments the URL patterns take as free text (<str:…>): a token, a direction, a variant, a kind.
PATHS = {
    "guest_review": "/review/{value}/",
    "invitation_accept": "/invitations/{value}/",
    "webhook": "/webhooks/{value}/",
    "scene_move": "/scenes/{scene}/move/{value}/",
    "line_move": "/scenes/{scene}/lines/{line}/move/{value}/",
    "scene_reference_image": "/scenes/{scene}/reference/{value}/",
    "scene_frame": "/scenes/{scene}/frames/{value}/",
    "export_file": "/exports/1/{value}/",
    "project_detail_huge_id": "/projects/{value}/",
}
PATH_VALUES = {"nul": "a%00b", "control": "a%01b", "bad-utf8": "a%FFb", "long": "x" * 5000,
               "huge": str(10**30)}


def _build_world() -> dict:
    """One of everything a form can point at, all in one team: the ids the URLs are filled from."""
    User = get_user_model()
    owner = User.objects.create_user(username="olive", email="olive@example.com", password=PASSWORD)
    team = team_services.team_create(name="Harbour Films", owner=owner)
    editor = User.objects.create_user(username="eddie", email="eddie@example.com", password=PASSWORD)
    reviewer = User.objects.create_user(username="rita", email="rita@example.com", password=PASSWORD)
    Membership.objects.create(team=team, user=editor, role=Role.EDITOR)
    Membership.objects.create(team=team, user=reviewer, role=Role.REVIEWER)
    project = services.project_create(team=team, user=owner, name="Harbour Story")
    scene = services.scene_create(project=project, user=owner, title="Dawn",
                                  prompt="A harbour at dawn, mist on the water.", duration=2, size="1280x720",
                                  camera_notes="slow push-in")
    priced_gateway = priced_gateway_create(team=team, owner=owner)
    local = team.connections.get(kind="local")
    # The recipe a real take of the scene has: a remix starts from it.
    recipe = generation.recipe_for(scene=scene, connection=local, model_id="previz-animatic-1")
    take = Render.objects.create(scene=scene, connection=local, provider="local", model="previz-animatic-1",
                                 recipe=recipe, status=Status.SUCCEEDED, number=1, duration_seconds=2.0,
                                 created_by=editor)
    comment = Comment.objects.create(take=take, author=reviewer, body="Too bright.", at_seconds=0.5,
                                     requests_changes=True)
    guest_thread = Comment.objects.create(take=take, guest_name="Gus", body="Lovely.", shared=True)
    character = Character.objects.create(team=team, name="Eddie", kind=CharacterKind.PERSON, person=editor,
                                         created_by=owner)
    link, token = guest_links.link_create(project=project, user=owner, label="Client",
                                          scope=ReviewLink.Scope.SCENES, scenes=[scene])
    invitation = Invitation.objects.create(team=team, email="new@example.com", invited_by=owner,
                                           expires_at=timezone.now() + timedelta(days=7))
    priced_gateway.set_webhook_secret("whsec_" + "c2VjcmV0" * 4)
    priced_gateway.save()
    # A take whose content credentials failed: approving or remixing it needs an owner's reason.
    blocked = Render.objects.create(scene=scene, connection=local, provider="local", model="previz-animatic-1",
                                    recipe=recipe, status=Status.SUCCEEDED, number=2,
                                    duration_seconds=2.0, created_by=editor, c2pa_state=ProvenanceState.INVALID,
                                    c2pa_summary={"verdict": "Tampered: the video's hash does not match."})
    CatalogModel.objects.filter(kind="local", model_id="previz-animatic-1").update(supports_remix=True)
    # A finished take with its video: the Extend form reads its clip and last frame.
    extendable = Render.objects.create(scene=scene, connection=local, provider="local", model="previz-animatic-1",
                                       recipe=recipe, status=Status.SUCCEEDED, number=3, duration_seconds=2.0,
                                       created_by=editor, provider_job_id="previz-job")
    extendable.video.name = f"renders/{team.pk}/{project.pk}/{extendable.pk}/video.mp4"  # its file: see `world`
    extendable.save(update_fields=["video"])
    comfy = connections.connection_create(team=team, user=owner, kind="comfyui", label="Studio GPU",
                                          base_url="http://192.168.1.20:8188")
    workflow = comfy_workflows.workflow_upload(connection=comfy, user=owner, name="LTX-Video 2B",
                                               data=FILES["workflow"])
    vertex = connections.connection_create(team=team, user=owner, kind="vertex", label="Vertex",
                                           service_account_key=form_key_json(), project="harbour-films-1",
                                           region="us-central1")
    # The editor's pending script import, which the preview form confirms.
    script = script_import.script_import_create(
        project=project, user=editor, upload=SimpleUploadedFile("harbour.fountain", FILES["fountain"]))
    review.comment_add(take=take, author=reviewer, body="@eddie the mist", at=1)
    notification = Notification.objects.filter(recipient=editor).latest("pk")
    line = dialogue.dialogue_line_add(scene=scene, user=editor, speaker=(None, "ANNA"), text="Morning.")
    # A second scene, and a finished multi-shot take of both: its parts' cards render it again, or a scene alone.
    quay = services.scene_create(project=project, user=owner, title="Quay", prompt="The quay at dawn.", duration=2,
                                 size="1280x720", camera_notes="")
    group = ShotGroup.objects.create(project=project, created_by=editor, recipe={"shots": [
        {"scene": {"id": s.pk, "number": s.number, "title": s.title}, "prompt": s.prompt, "seconds": 2, "start": 2 * n}
        for n, s in enumerate((scene, quay))]})
    parts = [Render.objects.create(scene=s, connection=local, provider="local", model="previz-animatic-1",
                                   recipe={**recipe, "shot": {"group": group.pk, "index": n, "of": 2, "scenes": [1, 2]}},
                                   status=Status.SUCCEEDED, number=4 if n == 0 else 1, duration_seconds=2.0,
                                   created_by=editor, shot_group=group, shot_index=n, cost_share=Decimal("0.5"))
             for n, s in enumerate((scene, quay))]
    group.lead = parts[0]
    group.save()
    # The gateway's check for model changes found a new model (LiteLLM says it makes video, not its sizes,
    # lengths or price) and that Wan 2.7 is no longer served: what the accept form's rows are about.
    proposal = CatalogProposal.objects.create(connection=priced_gateway, status=ProposalStatus.READY,
                                              checked_at=timezone.now())
    new_change = ProposedChange.objects.create(
        proposal=proposal, change="new", model_id="seedance-2", display_name="seedance-2",
        proposed={"display_name": "seedance-2", "sizes": None, "durations": None, "input_kinds": ["text"],
                  "has_audio": False, "end_frame": False, "reference_images": 0, "extend_seconds": [],
                  "shot_timing": "", "shots_max": None, "shots_seconds_min": None, "shots_seconds_max": None,
                  "shot_min_seconds": None, "price_per_second": None, "input_map": {}},
        needs=["sizes", "durations", "price"], fingerprint="a" * 64)
    gone_change = ProposedChange.objects.create(
        proposal=proposal, change="gone", model_id="wan-2.7", display_name="Wan 2.7",
        proposed={"lifecycle": "deprecated"}, current={"lifecycle": "available"}, fingerprint="b" * 64)
    SoundBed.objects.create(project=project, kind="wav", original="sound/bed.wav")  # a bed to place
    # An editor's cut read and waiting: it drops the scene from the cut. A named revision of the board.
    cut = CutImport.objects.create(project=project, created_by=owner, filename="cut.otio",
                                   status=CutImportStatus.READY,
                                   diff={"changes": [{"id": f"drop:{scene.pk}", "kind": "drop", "scene": scene.pk}],
                                         "unmatched": []})
    revision = revisions.revision_name_board(project=project, user=owner, name="v1")
    # The project's own fields: a choice and a text, each filled from the panel, in bulk, or filtered by.
    shot_type = own_fields.field_create(project=project, user=owner, name="Shot type", kind="choice",
                                    choices="Wide\nClose-up")
    lens = own_fields.field_create(project=project, user=owner, name="Lens", kind="text")
    # Eddie's consent covers his recorded voice: a voice sample of his may be uploaded.
    ConsentGrant.objects.create(character=character, granted_by=editor, covers_voice=True)
    # A review room on the take, Rita presenting.
    room = ReviewRoom.objects.create(project=project, take=take, opened_by=reviewer, presenter=reviewer)
    # And one comparing it with the take that can be extended.
    compare_room = ReviewRoom.objects.create(project=project, kind=ReviewRoom.Kind.COMPARE, take=take,
                                             other_take=extendable, opened_by=reviewer, presenter=reviewer,
                                             compare_mode="side")
    # And one on the project's Play all.
    play_all_room = ReviewRoom.objects.create(project=project, kind=ReviewRoom.Kind.PLAY_ALL, opened_by=reviewer,
                                              presenter=reviewer)
    return {
        "team": team.pk, "project": project.pk, "scene": scene.pk, "take": take.pk, "comment": comment.pk,
        "guest_thread": guest_thread.pk,
        "character": character.pk, "token": token, "link": link.pk, "invitation": invitation.token,
        "member": team.memberships.get(user=reviewer).pk, "connection": priced_gateway.pk,
        "blocked": blocked.pk, "extendable": extendable.pk, "comfy": comfy.pk, "vertex": vertex.pk,
        "workflow": workflow.pk, "script": script.token,
        "notification": notification.pk, "entry": priced_gateway.models.get().pk, "line": line.pk,
        "scenes": f"{scene.pk},{quay.pk}", "part": parts[1].pk,
        "cut_import": cut.pk, "revision": revision.number, "shot_type": shot_type.pk, "lens": lens.pk,
        "room": room.pk, "compare_room": compare_room.pk, "play_all_room": play_all_room.pk,
        "new_change": new_change.pk, "new_seen": new_change.fingerprint, "gone_change": gone_change.pk,
        "gone_seen": gone_change.fingerprint,
        # The scene's version as its edit form was opened on (adding its line above bumped it).
        "scene_version": Scene.objects.values_list("version", flat=True).get(pk=scene.pk),
        # Booking on the local previz: the take's task runs on commit, which a test transaction never reaches.
        "target": f"{local.pk}:previz-animatic-1",
        "users": {"owner": owner.pk, "editor": editor.pk, "reviewer": reviewer.pk},
    }


@pytest.fixture(scope="module")
def _world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The world, built once for the module (so once per xdist worker), not once per case.

    It is built in a transaction the module rolls back when it ends. Each test runs in a savepoint
    inside it (pytest-django's `db`), rolled back after the test: whatever a hostile value stored is
    gone before the next case, and every case starts from the same world as if it were built anew."""
    with (django_db_blocker.unblock(), override_settings(**studio_test_settings(tmp_path_factory)),
          tasks_inline(), transaction.atomic()):
        world = _build_world()
        yield {**world, "sessions": _signed_in_sessions(world["users"])}
        transaction.set_rollback(True)


def _signed_in_sessions(users: dict[str, int]) -> dict[str, str]:
    """Each role's session key, signed in once for the module: a case that changes its session (or
    anything else) has it rolled back with the case's savepoint, so each case starts signed in as if
    anew. Signing in for each of the thousands of cases was ~10 % of the module's time."""
    sessions = {}
    for role, pk in users.items():
        client = Client()
        client.force_login(get_user_model().objects.get(pk=pk))
        sessions[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return sessions


class _Writes:
    """The tables an INSERT or UPDATE reached during the case: only their rows can hold a value a
    hostile input stored, so only they are read for one (reading every row of every table after each
    of the thousands of cases was 40 % of the module's time). `tables` is None when every table is
    read: in the module's first case (the world's own rows), and in a case that ran a statement this
    does not read as a SELECT, a DELETE, a savepoint's or a write to a named table."""

    WRITE = re.compile(r'\s*(?:INSERT\b.*?\bINTO|UPDATE)\s+"?(\w+)"?', re.IGNORECASE | re.DOTALL)
    WRITES_NO_VALUE = ("SELECT", "SAVEPOINT", "RELEASE", "ROLLBACK", "DELETE")

    def __init__(self) -> None:
        self.tables: set[str] | None = None
        self.world_read = False

    def __call__(self, execute, sql, params, many, context):
        if self.tables is not None and not sql.lstrip()[:9].upper().startswith(self.WRITES_NO_VALUE):
            written = self.WRITE.match(sql)
            if written:
                self.tables.add(written.group(1))
            else:
                self.tables = None
        return execute(sql, params, many, context)


_writes = _Writes()


@pytest.fixture
def world(_world, db, client, request):
    client.raise_request_exception = False  # a crash is a 500 response, reported with its case
    users = get_user_model().objects.in_bulk(_world["users"].values())
    form = getattr(getattr(request.node, "callspec", None), "params", {}).get("form")
    if getattr(form, "url", "").startswith("/takes/{extendable}/"):
        # Each test has its own media folder: the clip the Extend form reads is put back in it.
        default_storage.save(Render.objects.get(pk=_world["extendable"]).video.name, ContentFile(VIDEO))
    _writes.tables = set() if _writes.world_read else None
    with connection.execute_wrapper(_writes):
        yield {**_world, "users": {role: users[pk] for role, pk in _world["users"].items()}}


# The fixtures a test names beside `world` are the world's own rows, read afresh for each test.
@pytest.fixture
def team(world):
    return Team.objects.get(pk=world["team"])


@pytest.fixture
def owner(world):
    return world["users"]["owner"]


@pytest.fixture
def editor(world):
    return world["users"]["editor"]


@pytest.fixture
def reviewer(world):
    return world["users"]["reviewer"]


@pytest.fixture
def project(world):
    return Project.objects.get(pk=world["project"])


@pytest.fixture
def priced_gateway(world):
    return ProviderConnection.objects.get(pk=world["connection"])


def _fill(text: str, world) -> str:
    return text.replace(KEY, str(uuid.uuid4())).format(**{k: v for k, v in world.items() if k != "users"})


def _multipart(form: Form, data: dict, hostile_field: str | None, value) -> dict:
    """The form's files beside its fields; a hostile value in a file's place is sent as text."""
    body = {k: v for k, v in data.items() if k != hostile_field}
    for name, (filename, content) in form.files.items():
        if name != hostile_field:
            body[name] = SimpleUploadedFile(filename, FILES[content])
    if hostile_field is not None:
        body[hostile_field] = [b"a\xffb"] if value is BAD_ESCAPE else value  # bytes pass through unencoded
    return body


def _log_in(client, form: Form, world) -> None:
    if form.role in world["users"]:
        client.cookies[settings.SESSION_COOKIE_NAME] = world["sessions"][form.role]
    elif form.role == "guest":
        session = client.session
        session["guest_review"] = {str(world["link"]): {"name": "Gus"}}
        session.save()


def _encode(data: dict, hostile_field: str, value) -> str:
    pairs = urlencode({k: v for k, v in data.items() if k != hostile_field}, doseq=True)
    if value is BAD_ESCAPE:
        raw = f"{hostile_field}=%FF"
    else:
        raw = urlencode({hostile_field: value}, doseq=True)
    return "&".join(p for p in (pairs, raw) if p)


def _send(client, form: Form, world, hostile_field: str, value):
    url = _fill(form.url, world)
    data = {_fill(k, world): _fill(v, world) for k, v in form.base.items()}
    hostile_field = _fill(hostile_field, world)  # a field named after its row ("price-{new_change}")
    if form.files:
        return client.post(url, _multipart(form, data, hostile_field, value))
    encoded = _encode(data, hostile_field, value)
    if form.method == "get":
        return client.get(f"{url}?{encoded}")
    return client.post(url, encoded, content_type="application/x-www-form-urlencoded")


def _refused_by_postgresql(value, model_field) -> str | None:
    """Why PostgreSQL would refuse this stored value, or None."""
    if isinstance(value, str):
        if "\x00" in value:
            return "contains NUL"
        if CONTROL_CHARACTERS.search(value):  # our own rule: refused like NUL, on both databases
            return "contains a control character"
        if isinstance(model_field, models.CharField) and model_field.max_length and len(value) > model_field.max_length:
            return f"is {len(value)} characters, longer than varchar({model_field.max_length})"
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
        return "is past bigint"
    if isinstance(value, Decimal) and isinstance(model_field, models.DecimalField) and value.is_finite():
        digits = len(value.quantize(Decimal(1).scaleb(-model_field.decimal_places)).as_tuple().digits)
        if digits > model_field.max_digits:
            return f"has more than {model_field.max_digits} digits"
    if isinstance(value, float) and value != value:
        return "is NaN"
    if isinstance(model_field, models.JSONField) and value is not None:
        return _refused_in_json(value)
    return None


def _refused_in_json(value) -> str | None:
    """PostgreSQL's jsonb refuses NUL in any text (keys too) and NaN or ±Infinity (not JSON)."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"holds {value} in its JSON"
    if isinstance(value, str):
        return "holds NUL in its JSON" if "\x00" in value else None
    if isinstance(value, dict):
        if any("\x00" in key for key in value if isinstance(key, str)):
            return "holds NUL in a key of its JSON"
        value = list(value.values())
    if isinstance(value, list):
        return next((reason for item in value if (reason := _refused_in_json(item))), None)
    return None


def _checked_fields() -> list[tuple[type[models.Model], list[models.Field]]]:
    """Every stored field PostgreSQL could refuse a value of, per model of the studio's apps."""
    checked: list[tuple[type[models.Model], list[models.Field]]] = []
    for model in apps.get_models():
        if model._meta.app_label not in {"projects", "generation", "auth", "axes"}:
            continue
        concrete: list[models.Field] = [f for f in model._meta.concrete_fields
                    if isinstance(f, (models.CharField, models.TextField, models.IntegerField,
                                      models.DecimalField, models.FloatField, models.JSONField))
                    and not f.primary_key]
        if concrete:
            checked.append((model, concrete))
    return checked


def _stored_badly() -> list[str]:
    """Every stored value PostgreSQL would refuse, in every row of those fields (read as values: the
    same Python values the model's instances hold, without building a model instance per row)."""
    problems = []
    tables = _writes.tables
    _writes.world_read = True
    for model, fields in _checked_fields():
        if tables is not None and model._meta.db_table not in tables:
            continue  # nothing written to it during the case (_Writes)
        for row in model._default_manager.values_list(*(f.attname for f in fields)):
            for model_field, value in zip(fields, row):
                reason = _refused_by_postgresql(value, model_field)
                if reason:
                    problems.append(f"{model.__name__}.{model_field.name} {reason}")
    return problems


CASES = [pytest.param(form, name, value, id=f"{form.name}-{name}-{value_id}")
         for form in FORMS for name in form.fields for value_id, value in HOSTILE.items()]


@pytest.mark.parametrize(("form", "field_name", "value"), CASES)
def test_no_hostile_value_causes_a_500_or_is_stored(client, world, form, field_name, value):
    _log_in(client, form, world)
    response = _send(client, form, world, field_name, value)
    assert response.status_code < 500, f"{form.method.upper()} {form.url} {field_name}={value!r:.60} → 500"
    assert _stored_badly() == []


@pytest.mark.parametrize(("pattern", "value"), [
    pytest.param(pattern, value, id=f"{name}-{value_id}")
    for name, pattern in PATHS.items() for value_id, value in PATH_VALUES.items()
])
def test_no_hostile_path_segment_causes_a_500(client, world, editor, pattern, value):
    client.force_login(editor)
    response = client.get(pattern.format(value=value, scene=world["scene"], line=world["line"]))
    assert response.status_code < 500
    assert response.status_code in {400, 404, 405, 410}


# URLs whose views read no form field or query parameter: only ids and tokens in the path, which
# tests/test_isolation.py and PATHS above cover. A new URL must be in FORMS, PATHS or here.
NO_INPUT = {
    "logout", "password_change_done", "password_reset_done", "password_reset_complete", "live",
    "projects:project_list", "projects:scene_panel", "projects:scene_card", "projects:scene_delete",
    "projects:scene_approve", "projects:script_export", "projects:team_switch", "projects:character_detail",
    "projects:character_image", "projects:my_likeness", "projects:inbox", "projects:take_review",
    "projects:project_cut", "projects:project_cut_captions", "projects:project_cut_sound", "projects:review_links",
    "projects:review_link_revoke", "projects:guest_file",
    "projects:project_cut_stop", "projects:project_cut_sound_state",  # Play all's stop and sound: ids in the path
    "projects:team_events", "projects:project_events",  # ?after= and client: as project_changes, presence
    # A guest's stream: the same ?after= and client (tests/live/test_review_live.py sends it hostile values).
    "projects:guest_events",
    "generation:render_status", "generation:render_cancel", "generation:render_file", "generation:connection_test",
    "generation:connection_status", "generation:connection_catalog", "generation:export_list", "generation:export_status",
    "generation:catalog_check",  # "Check for model changes": the connection in the path is all it reads
    "projects:revision_restore",  # the revision in the path is all it reads
    "projects:field_delete",  # asking and deleting: the field in the path is all it reads
    "generation:reconciliation_detail",  # shows a stored run: its only input is the id in the path
    # A review room: opening one, its page, taking the lead and ending it read only the ids in the path.
    "projects:room_open", "projects:review_room", "projects:room_lead", "projects:room_close", "projects:guest_room",
    "projects:play_all_room_open",
    "generation:shot_group_play", "generation:shot_group_file",  # a multi-shot take whole: the part's id only
    "projects:project_trash", "projects:trash_empty",  # the trash's page and "Empty the trash": the project id
    # The sound's files and removals: their only input is the ids in the path.
    "projects:line_audio", "projects:line_recording_remove", "projects:sound_bed_remove", "projects:sound_bed_file",
    "projects:character_voice_sample_remove", "projects:character_voice_sample_file",
    "javascript_catalog",  # Django's JavaScriptCatalog: the page's language is all it reads
}
# Django's own forms, checked by Django: the password change and reset forms, and the admin.
DJANGOS_OWN = {"password_change", "password_reset", "password_reset_confirm"}
# The load balancer's probe: ?format=json only picks JSON over text, and its answer is 503 whenever a
# dependency is down (as in these tests, without a broker), so "never a 5xx" cannot apply to it.
PROBES = {"health"}


def test_every_url_that_reads_input_is_sent_hostile_values():
    from django.urls import resolve

    ids = {"team": 1, "project": 1, "scene": 1, "take": 1, "comment": 1, "guest_thread": 1, "character": 1,
           "token": "t", "invitation": "t", "member": 1, "connection": 1, "blocked": 1, "extendable": 1, "comfy": 1,
           "workflow": 1, "vertex": 1, "script": "t", "notification": 1, "target": "1:m", "entry": 1, "line": 1,
           "scenes": "1,2", "part": 1, "new_change": 1, "gone_change": 1, "new_seen": "a", "gone_seen": "b",
           "cut_import": 1, "revision": 1, "shot_type": 1, "lens": 2, "room": 1,
           "compare_room": 2, "play_all_room": 3}
    sent = {resolve(_fill(form.url, ids).split("?")[0]).view_name for form in FORMS}
    sent |= {resolve(pattern.format(value="1", scene=1, line=1)).view_name for pattern in PATHS.values()}
    unlisted = [name for name in url_names() if name not in sent | NO_INPUT | DJANGOS_OWN | PROBES]
    assert unlisted == [], f"Add these URLs' fields to FORMS in tests/test_hostile_input.py: {unlisted}"


# Without a file the character form never passes; its text fields are still checked above.
NEEDS_A_FILE = {"character_create"}


@pytest.mark.parametrize("form", [pytest.param(f, id=f.name) for f in FORMS if f.name not in NEEDS_A_FILE])
def test_each_form_accepts_its_base_values(client, world, form):
    """The control case: with only the base values the form is accepted, so a hostile value
    in one field above is what the studio answered to, not some other missing field."""
    _log_in(client, form, world)
    url = _fill(form.url, world)
    data = {_fill(k, world): _fill(v, world) for k, v in form.base.items()}
    if form.files:
        data = _multipart(form, data, None, None)
    response = client.get(url, data) if form.method == "get" else client.post(url, data)
    assert response.status_code in {200, 201, 204, 302}
    if form.files:  # an upload refused would show its page again (200): accepted means moved on
        assert response.status_code == 302, response.content.decode()[:2000]


# --- uploaded files: what is inside them, and what they are called --------------------------------

def _nested(depth: int) -> bytes:
    return b'{"3": {"class_type": "CLIPTextEncode", "inputs": {"text": ' + b"[" * depth + b"]" * depth + b"}}}"


HOSTILE_WORKFLOWS = {
    "nested-past-the-parser": b"[" * 100_000,
    "nested-past-any-workflow": _nested(200),
    "nul-in-a-prompt": b'{"3": {"class_type": "CLIPTextEncode", "inputs": {"text": "mist\\u0000"}}}',
    "nul-in-a-node-id": b'{"3\\u0000": {"class_type": "CLIPTextEncode", "inputs": {"text": "mist"}}}',
    "control-in-an-input-name": b'{"3": {"class_type": "KSampler", "inputs": {"seed\\u001b": 1}}}',
    "nan": b'{"3": {"class_type": "KSampler", "inputs": {"cfg": NaN}}}',
    "infinity": b'{"3": {"class_type": "KSampler", "inputs": {"cfg": -Infinity}}}',
    "past-a-float": b'{"3": {"class_type": "KSampler", "inputs": {"cfg": 1e999}}}',
    "digits-past-the-parser": b'{"3": {"class_type": "KSampler", "inputs": {"seed": ' + b"9" * 5000 + b"}}}",
    "not-utf8": b'{"3": {"class_type": "\xff\xfe"}}',
    "utf16": '{"3": {"class_type": "A", "inputs": {}}}'.encode("utf-16"),
    "empty": b"",
    "a-list": b"[1, 2]",
}


@pytest.mark.parametrize("content", [pytest.param(c, id=name) for name, c in HOSTILE_WORKFLOWS.items()])
def test_a_workflow_file_that_cannot_be_stored_is_refused_with_a_message(client, world, owner, content):
    client.force_login(owner)
    response = client.post(_fill("/teams/{team}/connections/{comfy}/workflows/new/", world),
                           {"name": "Hostile", "file": SimpleUploadedFile("workflow_api.json", content)})
    assert response.status_code == 200  # the upload page again, with the reason beside the file
    assert 'class="field field--invalid"' in response.content.decode()
    assert 'class="error" role="alert"' in response.content.decode()
    assert not ComfyWorkflow.objects.filter(name="Hostile").exists()
    assert _stored_badly() == []


HOSTILE_SCRIPTS = {
    "nul": b"INT. HARBOUR - DAWN\n\nMist\x00 on the water.\n",
    "control-in-a-cue": b"INT. HARBOUR - DAWN\n\nANNA\x1b\nMorning.\n",
    "not-utf8": b"INT. HARBOUR - DAWN\n\n\xff\xfe\xfd\n",
    "fdx-entities": (b'<?xml version="1.0"?><!DOCTYPE f [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
                     b'<FinalDraft><Content><Paragraph Type="Scene Heading"><Text>&b;</Text></Paragraph>'
                     b"</Content></FinalDraft>"),
    "fdx-nested": (b'<?xml version="1.0"?><FinalDraft><Content>' + b"<a>" * 50_000 + b"</a>" * 50_000
                   + b"</Content></FinalDraft>"),
    "fdx-broken": b'<?xml version="1.0"?><FinalDraft><Content><Paragraph',
    "empty": b"",
}


@pytest.mark.parametrize("content", [pytest.param(c, id=name) for name, c in HOSTILE_SCRIPTS.items()])
def test_a_script_that_cannot_be_imported_is_refused_with_a_message(client, world, editor, content):
    client.force_login(editor)
    ScriptImport.objects.all().delete()
    name = "harbour.fdx" if content.startswith(b"<?xml") else "harbour.fountain"
    response = client.post(_fill("/projects/{project}/script/", world),
                           {"split": "heading", "script": SimpleUploadedFile(name, content)})
    assert response.status_code == 400
    assert 'data-testid="script-error"' in response.content.decode()
    assert not ScriptImport.objects.exists()
    assert _stored_badly() == []


HOSTILE_FILE_NAMES = {
    "nul": "work\x00flow.json",
    "control": "work\x1bflow.json",
    "path": "../../../etc/passwd",
    "windows-path": "C:\\Windows\\system32\\workflow.json",
    "long": "w" * 5000 + ".json",
    "right-to-left": "\u202enosj.exe",
    "empty": "",
    "dots": "..",
}


def _raw_multipart(fields: dict, file_field: str, filename: str, content: bytes) -> tuple[bytes, str]:
    """A multipart body written by hand: the test client would clean the file's name before sending it."""
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{filename}"\r\n'
                 "Content-Type: application/octet-stream\r\n\r\n".encode("utf-8", "surrogateescape") + content
                 + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize("filename", [pytest.param(n, id=i) for i, n in HOSTILE_FILE_NAMES.items()])
@pytest.mark.parametrize("form_name", ["workflow_upload", "script_upload", "line_recording", "sound_bed_upload",
                                       "character_voice_sample"])
def test_no_hostile_file_name_causes_a_500_or_is_stored(client, world, form_name, filename):
    form = next(f for f in FORMS if f.name == form_name)
    _log_in(client, form, world)
    ((field_name, (_name, content)),) = form.files.items()
    body, content_type = _raw_multipart({k: _fill(v, world) for k, v in form.base.items()}, field_name, filename,
                                        FILES[content])
    response = client.post(_fill(form.url, world), body, content_type=content_type)
    assert response.status_code < 500
    assert _stored_badly() == []


HOSTILE_DRAWINGS = {
    "nested-past-the-parser": "[" * 100_000,
    "not-a-list": '{"kind": "pen"}',
    "not-a-shape": "[1]",
    "nul-in-a-text": '[{"kind": "text", "color": "#e53935", "points": [[0.1, 0.1]], "text": "a\\u0000b"}]',
    "nul-in-a-key": '[{"kind": "rect", "color": "#e53935", "points": [[0, 0], [1, 1]], "\\u0000": 1}]',
    "past-a-float": '[{"kind": "rect", "color": "#e53935", "points": [[0, 0], [1e999, 1]]}]',
    "infinity": '[{"kind": "rect", "color": "#e53935", "points": [[0, 0], [Infinity, 1]]}]',
    "digits-past-the-parser": '[{"kind": "rect", "color": "#e53935", "points": [[0, 0], [' + "9" * 5000 + ', 1]]}]',
    "true-as-a-number": '[{"kind": "rect", "color": "#e53935", "points": [[0, 0], [true, 1]]}]',
    "outside-the-palette": '[{"kind": "rect", "color": "red; background: url(x)", "points": [[0, 0], [1, 1]]}]',
    "too-many-points": ('[{"kind": "pen", "color": "#e53935", "points": ['
                        + ", ".join(["[0.5, 0.5, 0.5]"] * 1001) + "]}]"),
    "too-many-shapes": "[" + ", ".join(['{"kind": "rect", "color": "#e53935", "points": [[0, 0], [1, 1]]}'] * 51)
                       + "]",
    "huge": "[" + " " * 300_000 + "]",
}


@pytest.mark.parametrize("drawing", [pytest.param(d, id=name) for name, d in HOSTILE_DRAWINGS.items()])
def test_a_drawing_that_cannot_be_stored_is_refused_with_a_message(client, world, reviewer, drawing):
    client.force_login(reviewer)
    response = client.post(_fill("/takes/{take}/comments/", world),
                           {"body": "Look here.", "at": "0.5", "drawing": drawing})
    assert response.status_code == 422
    assert "The drawing could not be saved" in response.content.decode()
    assert not Comment.objects.filter(body="Look here.").exists()
    assert _stored_badly() == []


# --- the inbox: ids in the path ------------------------------------------------------------------

@pytest.mark.parametrize("pk", ["99999999999999999999999", str(2**63), "0"])
def test_marking_read_a_notification_that_cannot_exist_is_a_404(client, world, editor, pk):
    client.force_login(editor)
    assert client.post(f"/inbox/{pk}/read/").status_code == 404
    assert Notification.objects.filter(recipient=editor, read_at__isnull=True).exists()


# --- provider webhooks: correctly signed, yet not storable --------------------------------------

def _deliver(client, connection, payload: dict, webhook_id: str):
    body, timestamp = json.dumps(payload).encode(), int(time.time())
    signature = sign_standard_webhook(secret=connection.webhook_secret, webhook_id=webhook_id,
                                      timestamp=timestamp, body=body)
    return client.post(f"/webhooks/{connection.webhook_token}/", body, content_type="application/json",
                       HTTP_WEBHOOK_ID=webhook_id, HTTP_WEBHOOK_TIMESTAMP=str(timestamp),
                       HTTP_WEBHOOK_SIGNATURE=signature)


@pytest.mark.parametrize(("webhook_id", "payload"), [
    pytest.param("m" * 201, {"type": "video.completed", "data": {"id": "job_1"}}, id="id-past-the-column"),
    pytest.param("msg\x01one", {"type": "video.completed", "data": {"id": "job_1"}}, id="id-control-character"),
    pytest.param("msg_1", {"type": "video.completed", "data": {"id": "j" * 201}}, id="job-id-past-the-column"),
    pytest.param("msg_1", {"type": "video.completed", "data": {"id": "job\x00one"}}, id="job-id-nul"),
    pytest.param("msg_1", {"type": "t" * 101, "data": {"id": "job_1"}}, id="event-type-past-the-column"),
])
def test_a_signed_webhook_that_cannot_be_stored_is_refused_with_a_reason(client, world, priced_gateway,
                                                                        webhook_id, payload):
    client.raise_request_exception = False
    response = _deliver(client, priced_gateway, payload, webhook_id)
    assert response.status_code == 400
    assert b"characters" in response.content
    assert not WebhookEvent.objects.exists()


def test_a_webhook_id_as_long_as_the_column_is_accepted_once(client, world, priced_gateway):
    payload = {"type": "video.completed", "data": {"id": "job_1"}}
    assert _deliver(client, priced_gateway, payload, "m" * 200).status_code == 204
    assert _deliver(client, priced_gateway, payload, "m" * 200).status_code == 200  # already processed


# fal signs with Ed25519 and its published keys: anyone may call the URL with any headers.
FAL_HEADERS = {
    "none": {},
    "timestamp-text": {"timestamp": "abc"},
    "timestamp-past-the-parser": {"timestamp": "9" * 5000},
    "timestamp-unicode-digits": {"timestamp": "١٧٠٠٠٠٠٠٠٠"},
    "timestamp-float": {"timestamp": "1e309"},
    "signature-not-hex": {"signature": "zz" * 64},
    "signature-odd-length": {"signature": "a" * 127},
    "signature-huge": {"signature": "00" * 50_000},
    "request-id-long": {"request_id": "r" * 5000},
    "request-id-control": {"request_id": "req\x01one"},
}


@pytest.mark.parametrize("changed", [pytest.param(h, id=name) for name, h in FAL_HEADERS.items()])
def test_a_fal_webhook_with_hostile_headers_is_refused_with_a_reason(client, world, team, owner, settings, changed):
    settings.FAL_JWKS_URL = "http://127.0.0.1:9/.well-known/jwks.json"  # answers nothing
    fal = connections.connection_create(team=team, user=owner, kind="fal", label="fal", api_key="key-1")
    values = {"request_id": "req-1", "user_id": "user-1", "timestamp": str(int(time.time())),
              "signature": "ab" * 64, **changed}
    headers = {f"HTTP_X_FAL_WEBHOOK_{k.upper()}": v for k, v in values.items()} if changed else {}
    body = json.dumps({"request_id": values["request_id"], "status": "OK", "payload": {}}).encode()
    response = client.post(f"/webhooks/{fal.webhook_token}/", body, content_type="application/json", **headers)
    assert 400 <= response.status_code < 500
    assert response.content  # the reason, for whoever reads the provider's delivery log
    assert not WebhookEvent.objects.exists()


# --- what the person sees ------------------------------------------------------------------------

def test_a_comment_with_nul_is_refused_with_a_message_and_not_stored(client, world, reviewer):
    client.force_login(reviewer)
    response = client.post(f"/takes/{world['take']}/comments/", {"body": "fine\x00print", "at": "0.5"})
    assert response.status_code == 422
    assert "control characters (such as NUL)" in response.content.decode()
    assert not Comment.objects.filter(body__startswith="fine").exists()


def test_a_scene_title_with_a_control_character_is_refused_beside_the_field(client, world, editor):
    client.force_login(editor)
    response = client.post(f"/projects/{world['project']}/scenes/",
                           {"title": "Bell\x07", "prompt": "Ring.", "duration": "2", "size": "1280x720"})
    assert "control characters (such as NUL)" in response.content.decode()
    assert not Scene.objects.filter(title__startswith="Bell").exists()


def test_a_search_with_nul_is_a_400_that_says_why(client, world, editor):
    client.force_login(editor)
    response = client.get(f"/teams/{world['team']}/characters/?q=a%00b")
    assert response.status_code == 400
    assert "control characters (such as NUL)" in response.content.decode()


def test_a_search_too_long_to_run_is_a_400_that_says_why(client, world, editor):
    client.force_login(editor)
    response = client.get(f"/teams/{world['team']}/characters/", {"q": "x" * 5000})
    assert response.status_code == 400
    assert "at most 200 characters" in response.content.decode()


@pytest.mark.parametrize("scene_id", ["99999999999999999999999", "-1", "²", "abc"])
def test_activity_for_a_scene_that_cannot_exist_is_a_404(client, world, editor, scene_id):
    client.force_login(editor)
    assert client.get(f"/projects/{world['project']}/activity/", {"scene": scene_id}).status_code == 404


def test_activity_for_another_projects_scene_is_a_404_and_for_its_own_scene_filters(
        client, world, editor, owner, team, make_scene):
    other = make_scene(project=services.project_create(team=team, user=owner, name="Other"), title="Elsewhere")
    client.force_login(editor)
    assert client.get(f"/projects/{world['project']}/activity/", {"scene": other.pk}).status_code == 404
    assert client.get(f"/projects/{world['project']}/activity/", {"scene": world["scene"]}).status_code == 200


def test_a_guest_name_with_nul_is_refused_at_the_gate(client, world):
    response = client.post(f"/review/{world['token']}/", {"action": "name", "name": "Gus\x00"})
    assert response.status_code == 403
    assert "control characters (such as NUL)" in response.content.decode()
    assert "guest_review" not in client.session


def test_a_review_link_label_longer_than_its_column_is_refused_not_cut(client, world, owner):
    client.force_login(owner)
    response = client.post(f"/projects/{world['project']}/review-links/",
                           {"label": "L" * 121, "scope": "cut", "days": "7"})
    assert response.status_code == 422
    assert "at most 120 characters" in response.content.decode()
    assert not ReviewLink.objects.filter(label__startswith="LLL").exists()


def test_an_api_key_with_a_line_break_inside_is_refused_before_it_reaches_a_header(client, world, owner):
    client.force_login(owner)
    response = client.post(f"/teams/{world['team']}/connections/", {
        "kind": "openai-videos", "label": "Split", "base_url": GATEWAY, "auth_style": "bearer",
        "api_key": "sk-one\nX-Injected: yes"})
    assert "no spaces or line breaks inside" in response.content.decode()
    assert not ProviderConnection.objects.filter(label="Split").exists()


@pytest.mark.parametrize("scene_id", ["²", str(10**30)])
def test_deleting_scenes_that_cannot_exist_says_to_select_one_and_deletes_nothing(client, world, editor, scene_id):
    client.force_login(editor)
    response = client.post(f"/projects/{world['project']}/scenes/bulk/", {"action": "delete", "scene": scene_id},
                           follow=True)
    assert response.status_code == 200
    assert "Select at least one scene to delete." in response.content.decode()
    assert Scene.objects.filter(pk=world["scene"]).exists()


@pytest.mark.parametrize("form", [pytest.param(f, id=f.name) for f in FORMS if f.name == "render_extend"])
def test_the_extend_forms_base_values_book_an_extension(client, world, form):
    """The control case above goes deeper than a refusal: its values book the take's continuation."""
    _log_in(client, form, world)
    client.post(_fill(form.url, world), {k: _fill(v, world) for k, v in form.base.items()})
    (extension,) = Render.objects.filter(parent_id=world["extendable"])
    assert extension.recipe["extend_of"]["seconds"] == 3 and extension.recipe["prompt"] == "The mist lifts."
