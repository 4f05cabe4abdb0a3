"""Every page and htmx fragment of the studio, read by a French browser, shows none of the catalogue's English.

The URLs come from the resolver (the projects and generation namespaces, and the site's own pages), each filled
from one realistic world built once for the module: a page added later is read here without anyone listing it,
and a URL this module cannot fill fails `test_every_url_is_read_in_french_or_listed_with_a_reason` until it is
filled (`FILL`) or listed (`NOT_READ`). Each answer's visible and spoken text is searched for every English
phrase of locale/fr/LC_MESSAGES/django.po whose French differs (tests/french.py)."""

from __future__ import annotations

import itertools
import re
from decimal import Decimal
from unittest import mock

import numpy as np
import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client, override_settings
from django.utils import timezone, translation

from generation.catalog_notes import SHIPPED_NOTES
from generation.models import (
    CatalogModel,
    CutImport,
    CutImportStatus,
    Export,
    ExportStatus,
    ReconciliationRun,
    Render,
    ShotGroup,
    Status,
)
from generation.providers import comfy_workflows, connections
from generation.providers.runway import API_VERSION, RunwayProvider
from generation.renders import services as generation
from generation.sound.audio import wav_bytes
from generation.words import said
from projects.activity import tasks as activity_tasks
from projects.characters import consent
from projects.models import (
    Activity,
    CharacterKind,
    Membership,
    Notification,
    PlayAllMix,
    Role,
    Scene,
    SoundBed,
    SoundStatus,
    UserPreference,
)
from projects.review import guest_links, rooms
from projects.review import services as review
from projects.storyboard import fields, revisions, script_import, services, trash
from projects.storyboard.dialogue import services as dialogue
from projects.teams import services as team_services
from tests.conftest import PASSWORD, priced_gateway_create, studio_test_settings, tasks_inline
from tests.factories import photo
from tests.fakes.comfyui_server import FIXTURES as COMFY_FIXTURES
from tests.fakes.vertex_server import form_key_json
from tests.french import FRENCH_BROWSER, Phrase, catalogue_phrases, english_shown, visible_parts
from tests.url_patterns import url_routes

FOUNTAIN = ("Title: Tempête au port\n\nINT. QUAI - NUIT\n\nLa pluie bat le quai.\n\nMARIE\nOn y va.\n\n"
            "EXT. CRIÉE - AUBE\n\nLes mareyeurs crient les prix.\n").encode()


def _build_world() -> dict:
    """A French crew's project as it is after a week of work: every state a take can be in, threads, drawings,
    a cast under consent, decisions, a guest link, exports, an editor's cut, budgets and spend, providers, an
    inbox, revisions, dialogue and sound. Its own words are French: only the interface is checked."""
    User = get_user_model()
    owner = User.objects.create_user(username="olive", email="olive@example.com", password=PASSWORD)
    team = team_services.team_create(name="Équipage du port", owner=owner)
    editor = User.objects.create_user(username="eddie", email="eddie@example.com", password=PASSWORD)
    reviewer = User.objects.create_user(username="rita", email="rita@example.com", password=PASSWORD)
    Membership.objects.create(team=team, user=editor, role=Role.EDITOR)
    Membership.objects.create(team=team, user=reviewer, role=Role.REVIEWER)
    for user in (owner, editor, reviewer):
        UserPreference.objects.create(user=user, language="fr")
    project = services.project_create(team=team, user=owner, name="Tempête au port")
    team_services.team_budget_set(team=team, user=owner, amount=Decimal("1500"))
    team_services.project_budget_set(project=project, user=owner, amount=Decimal("400"))
    titles = ("Le quai", "La criée", "Le phare", "La jetée", "Le chalutier", "La cale", "Le bassin", "La digue")
    scenes = [services.scene_create(project=project, user=owner, title=title, duration=2, size="1280x720",
                                    prompt=f"{title} sous la pluie, des mouettes, lumière rasante.",
                                    camera_notes="travelling lent") for title in titles]
    local = team.connections.get(kind="local")
    recipe = generation.recipe_for(scene=scenes[0], connection=local, model_id="previz-animatic-1")
    poster = default_storage.save("renders/french/thumbnail.png", ContentFile(photo().read()))
    video = default_storage.save("renders/french/video.mp4", ContentFile(
        (COMFY_FIXTURES.parent / "c2pa" / "signed-by-test-cert.mp4").read_bytes()))

    def take(scene, status=Status.SUCCEEDED, number=1, **extra):
        finished = status == Status.SUCCEEDED
        return Render.objects.create(
            scene=scene, connection=local, provider="local", model="previz-animatic-1",
            recipe=extra.pop("recipe", recipe), status=status, number=number, duration_seconds=2.0, created_by=editor, cost=Decimal("0.40"),
            progress=100 if finished else 40, video=video if finished else "", thumbnail=poster if finished else "",
            c2pa_state="studio" if finished else "", finished_at=timezone.now() if finished else None, **extra)

    ready = take(scenes[0])
    retake = take(scenes[0], number=2, parent=ready, recipe={**recipe, "remix_of": ready.pk})
    third = take(scenes[0], number=3)
    approved = take(scenes[1])
    changes = take(scenes[2])
    queued = take(scenes[3], Status.QUEUED)
    running = take(scenes[4], Status.RUNNING)
    failed = take(scenes[5], Status.RUNNING)
    failed.mark_failed(said("take.never_created"))
    withheld = take(scenes[6], quarantined_at=timezone.now())
    canceled = take(scenes[3], Status.CANCELED, number=2)

    # The cast: a teammate who consented to their likeness and voice, and a fictional character.
    person = consent.character_create(team=team, user=editor, name="Capitaine", kind=CharacterKind.PERSON,
                                      person=editor, description="ciré jaune, barbe grise", images=[photo()])
    consent.consent_grant(character=person, user=editor, covers_voice=True)
    gull = consent.character_create(team=team, user=owner, name="La Mouette", kind=CharacterKind.FICTIONAL,
                                    description="une mouette rieuse", images=[photo()], declares_fictional=True)
    for scene in scenes[:3]:
        services.scene_cast_add(scene=scene, character=person, user=owner)
        services.scene_cast_add(scene=scene, character=gull, user=owner)
    line = dialogue.dialogue_line_add(scene=scenes[0], user=editor, speaker=(None, "MARIE"), text="On y va.")
    dialogue.dialogue_line_add(scene=scenes[0], user=editor, speaker=(person, ""), text="Larguez les amarres !")

    # Threads, a drawing, a request for changes, an approval.
    drawing = [{"kind": "arrow", "color": "#e53935", "points": [[0.1, 0.1], [0.5, 0.5]]}]
    thread = review.comment_add(take=ready, author=reviewer, body="@olive @eddie plus de brume ici", at=0.5,
                                drawing=drawing)
    review.comment_reply(parent=thread, body="C’est corrigé dans la prise 2.", author=editor)
    owners_note = review.comment_add(take=ready, author=owner, body="Le cadrage est bon.", at=1)
    review.comment_reply(parent=owners_note, body="D’accord avec toi.", author=reviewer)
    review.take_approve(take=approved, user=reviewer, note="Parfait.")
    review.take_request_changes(take=changes, user=reviewer, note="Plus sombre, la nuit tombe.")

    link, token = guest_links.link_create(project=project, user=owner, label="Client", scope="cut")
    guest_comment = review.comment_add(take=approved, guest_name="Gaston", via_link=link, body="Très beau.",
                                       at=0.5)
    comfy = connections.connection_create(team=team, user=owner, kind="comfyui", label="GPU du studio",
                                          base_url="http://192.168.1.20:8188")
    workflow = comfy_workflows.workflow_upload(connection=comfy, user=owner, name="LTX-Video 2B",
                                               data=(COMFY_FIXTURES / "ltxv_t2v_api.json").read_bytes())
    vertex = connections.connection_create(team=team, user=owner, kind="vertex", label="Vertex",
                                           service_account_key=form_key_json(), project="port-films-1",
                                           region="europe-west4", output_uri="gs://port-rendus/prises")
    gateway = priced_gateway_create(team=team, owner=owner)

    done = Export.objects.create(project=project, created_by=owner, status=ExportStatus.SUCCEEDED, progress=100,
                                 finished_at=timezone.now())
    for kind, body in (("mp4", b"\x00\x00\x00\x18ftypmp42"), ("zip", b"PK\x05\x06" + b"\x00" * 18),
                       ("pdf", b"%PDF-1.4\n%%EOF\n"), ("csv", b"scene,at,comment\nLe quai,1.0,Plus sombre\n")):
        getattr(done, kind).save(f"port.{kind}", ContentFile(body), save=False)
    done.save()
    # A failed export and a failed timeline, as their workers store them (codes, said in each reader's language).
    Export.objects.create(project=project, created_by=owner, status=ExportStatus.RUNNING).mark_failed(
        said("export.worker_stopped"))
    cut = CutImport.objects.create(project=project, created_by=owner, filename="montage.otio",
                                   status=CutImportStatus.READY, timeline_name="Montage v3",
                                   diff={"changes": [{"id": f"drop:{scenes[7].pk}", "kind": "drop",
                                                      "scene": scenes[7].pk}], "unmatched": []})
    CutImport.objects.create(project=project, created_by=owner, filename="casse.edl",
                             status=CutImportStatus.READING).mark_failed(said("timeline.worker_stopped"))
    revision = revisions.revision_name_board(project=project, user=owner, name="v1 envoyée au client")
    shot_type = fields.field_create(project=project, user=owner, name="Plan", kind="choice", choices="Large\nSerré")
    fields.scene_fields_set(scene=scenes[0], user=owner, expected_version=Scene.objects.get(pk=scenes[0].pk).version,
                            values={shot_type.key: "Large"})
    pending = script_import.script_import_create(project=project, user=owner,
                                                 upload=SimpleUploadedFile("port.fountain", FOUNTAIN))
    bed = SoundBed(project=project, kind="wav", status=SoundStatus.READY)
    silence = wav_bytes(np.zeros(4800, np.float32))
    bed.audio.save("bed.wav", ContentFile(silence), save=False)
    bed.original.save("bed.wav", ContentFile(silence), save=False)
    bed.save()
    mix = PlayAllMix.objects.create(project=project, key="0" * 64, status=SoundStatus.READY, seconds=0.1)
    mix.audio.save("mix.m4a", ContentFile(b"\x00\x00\x00\x18ftypM4A "), save=True)
    group = ShotGroup.objects.create(project=project, lead=retake, created_by=owner, recipe={"shots": [
        {"scene": {"id": scenes[0].pk, "number": 1, "title": scenes[0].title}, "prompt": "p", "seconds": 2,
         "start": 0}]})
    group.video.save("groupe.mp4", ContentFile(default_storage.open(video).read()))
    Render.objects.filter(pk=retake.pk).update(shot_group=group, shot_index=0, cost_share=1)
    room = rooms.room_open(take=ready, user=reviewer)
    approved_room = rooms.room_open(take=approved, user=reviewer)  # one a guest of the cut may join
    compare_room = rooms.room_open_compare(left=ready, right=third, user=reviewer)
    play_all_room = rooms.room_open_play_all(project=project, user=reviewer)
    reconciliation = ReconciliationRun.objects.create(
        team=team, provider="replicate", period_start="2026-11-01", period_end="2026-11-30", csv_shape="generic",
        created_by=owner)
    with translation.override("fr"):  # the invitation speaks its inviter's language: the owner's French page
        team_services.invitation_create(team=team, email="nouveau@example.com", role="editor", invited_by=owner)
    trashed = services.scene_create(project=project, user=owner, title="La tempête", prompt="Des vagues.",
                                    duration=2, size="1280x720", camera_notes="")
    trash.scene_trash(scene=trashed, user=owner)
    return {
        "users": {"owner": owner.pk, "editor": editor.pk, "reviewer": reviewer.pk},
        "team": team.pk, "project": project.pk, "scene": [s.pk for s in scenes],
        # Every state a take can be in: ready, its remix, approved, changes requested, queued, rendering,
        # failed, withheld, canceled.
        "take": [ready.pk, retake.pk, approved.pk, changes.pk, queued.pk, running.pk, failed.pk, withheld.pk,
                 canceled.pk],
        "group_take": retake.pk, "comment": thread.pk, "guest_comment": guest_comment.pk,
        "character": [person.pk, gull.pk], "image": person.images.get().pk, "line": line.pk,
        "export": done.pk, "cut_import": cut.pk, "revision": revision.number, "field": shot_type.pk,
        "script": pending.token, "room": [room.pk, compare_room.pk, play_all_room.pk, approved_room.pk], "mix": mix.pk,
        "link": link.pk, "token": token, "connection": [team.connections.get(kind="local").pk, comfy.pk, vertex.pk,
                                                        gateway.pk],
        "comfy": comfy.pk, "workflow": workflow.pk,
        "entry": CatalogModel.objects.get(connection=None, model_id="previz-animatic-1").pk,
        "reconciliation": reconciliation.pk, "member": team.memberships.get(user=reviewer).pk,
    }


@pytest.fixture(scope="module")
def _world(django_db_setup, django_db_blocker, tmp_path_factory):
    """Built once for the module (once per xdist worker), in a transaction rolled back when it ends; each test
    runs in a savepoint inside it."""
    module_settings = studio_test_settings(tmp_path_factory)
    emails: list[tuple[str, str]] = []  # (subject, body) of every email the world's events queued

    def queued(_recipient, subject, body):
        emails.append((subject, body))

    with (django_db_blocker.unblock(), override_settings(**module_settings), tasks_inline(), transaction.atomic(),
          mock.patch.object(activity_tasks.send_notification, "delay_on_commit", queued),
          mock.patch.object(activity_tasks.send_invitation, "delay_on_commit", queued)):
        with translation.override("en"):  # teammates' sessions: what they stored is read in French below
            world = _build_world()
        yield {**world, "media": module_settings["MEDIA_ROOT"], "emails": emails}
        transaction.set_rollback(True)


@pytest.fixture
def world(_world, db, settings):
    settings.LIVE_STREAM_MAX_SECONDS = 0.1
    settings.MEDIA_ROOT = _world["media"]  # the world's files
    return _world


# --- Which URLs, filled how ------------------------------------------------------------------------

# A URL's argument → the world's key: by the argument's name, or (for `pk` and the words in the path) by the
# part of the path before it ("projects/<int:pk>/" is a project).
BY_NAME = {"scene_pk": "scene", "project_pk": "project", "team_pk": "team", "take_pk": "take", "member_pk": "member",
           "link_pk": "link", "mix_pk": "mix", "entry_pk": "entry", "workflow_pk": "workflow", "field_pk": "field",
           "image_pk": "image", "room_pk": "room", "number": "revision"}
BY_SEGMENT = {"projects": "project", "scenes": "scene", "takes": "take", "comments": "comment", "rooms": "room",
              "characters": "character", "exports": "export", "connections": "connection", "lines": "line",
              "editors-cut": "cut_import", "reconciliations": "reconciliation", "script": "script", "review": "token",
              "teams": "team"}
# Words in a path: the values its pages take.
WORDS = {"role": ["end"], "direction": ["up"], "kind": ["mp4"]}
# More of a page than its bare address: the views and filters a reader picks.
QUERIES = {
    "projects:project_detail": ["", "?view=list", "?status=approved", "?q=quai"],
    "projects:project_activity": ["", "?kind=comments"],
    "generation:shot_group_new": ["?scene={scene}"],
    "generation:render_extend_preview": ["?choice=previz-animatic-1%403"],
    "projects:revision_compare": ["?a={revision}&b={revision}"],
}
# Pages the first take is enough for: what they show does not change with the take's state (and each costs).
ONE_IS_ENOUGH = {"generation:render_extend_preview"}
# Pages read for every object of their kind (each take state, each connection, each room, each character): what
# they say changes with it. Any other page is read once, at the first address that answers a page.
EVERY_ONE = {"projects:take_review", "generation:render_status", "projects:scene_panel", "projects:scene_card",
             "projects:scene_edit", "projects:review_room", "projects:character_detail", "generation:connection_edit",
             "generation:connection_catalog", "generation:connection_status", "generation:shot_group_play",
             "projects:project_detail", "projects:project_activity", "projects:guest_room"}
# Not read here, each with its reason. A URL in neither FILL's reach nor this list fails the first test.
NOT_READ = {
    "generation:webhook": "providers call it with a signature; it answers JSON, never a page",
    "projects:project_events": "a live stream: it carries the fragments the pages below render",
    "projects:team_events": "a live stream: it carries the fragments the pages below render",
    "projects:guest_events": "a live stream: it carries the fragments the guest page renders",
    "projects:notification_read": "POST only, and the notification is its recipient's, not the owner's",
    "password_reset_confirm": "a one-time token from an email (tests/projects/test_account_security.py)",
    "invitation_accept": "its token is sent by email, not stored (tests/test_french_everywhere.py reads the email)",
    "logout": "POST only",
    "javascript_catalog": "the scripts' words: every djangojs.po entry has its French (tests/test_translations.py)",
    "health": "the load balancer's probe: no words for people",
    "live": "the load balancer's probe: no words for people",
}
# Files the world holds none of (a 404 is all they answer here): their answers are sound and pictures, not words.
FILES_NOT_HELD = {"generation:scene_frame", "projects:character_voice_sample_file", "projects:line_audio",
                  "projects:scene_reference_image"}


_ARGUMENT = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)")


def _arguments(route: str) -> list[tuple[str, str]]:
    """Each argument of a route with the part of the path before it."""
    found = []
    for match in _ARGUMENT.finditer(route):
        name = match.group(1) or match.group(2)
        before = [part for part in route[:match.start()].strip("^").split("/") if part]
        found.append((name, before[-1] if before else ""))
    return found


def _values(name: str, segment: str, world: dict) -> list | None:
    if name in WORDS:
        return WORDS[name]
    if name == "variant":  # a scene's reference picture, or a take's video and poster
        return ["original", "crop"] if segment == "reference" else ["video", "thumbnail"]
    key = BY_NAME.get(name) or (BY_SEGMENT.get(segment) if name in ("pk", "token") else None)
    if key is None:
        return None
    value = world[key]
    return value if isinstance(value, list) else [value]


def _addresses(world: dict) -> tuple[dict[str, list[str]], list[str]]:
    """Every URL name's addresses filled from the world, and the names it could not fill."""
    filled, unfilled = {}, []
    for name, route in url_routes():
        if name in NOT_READ:
            continue
        arguments = _arguments(route)
        found = [_values(arg, segment, world) for arg, segment in arguments]
        choices = [choice for choice in found if choice is not None]
        if len(choices) < len(found):
            unfilled.append(name)
            continue
        paths = []
        for values in itertools.product(*choices):
            path = route
            for value in values:  # the arguments in the route's order, each replacing the first one left
                path = _ARGUMENT.sub(str(value), path, count=1)
            path = "/" + path.lstrip("^").rstrip("$")
            for query in QUERIES.get(name, [""]):
                paths.append(path + query.format(scene=world["scene"][0], revision=world["revision"]))
        filled[name] = paths[:1] if name in ONE_IS_ENOUGH else paths
    return filled, unfilled


def test_an_argument_the_world_has_nothing_for_is_reported_not_guessed(world):
    assert _values("gadget_pk", "gadgets", world) is None and _values("pk", "gadgets", world) is None
    assert _values("pk", "scenes", world) == world["scene"] and _values("scene_pk", "lines", world) == world["scene"]
    assert _arguments("scenes/<int:scene_pk>/lines/<int:pk>/") == [("scene_pk", "scenes"), ("pk", "lines")]


def test_every_url_is_read_in_french_or_listed_with_a_reason(world):
    _filled, unfilled = _addresses(world)
    assert unfilled == [], ("Fill these URLs' arguments from the world (BY_NAME, BY_SEGMENT, WORDS) or list them in "
                            f"NOT_READ with the reason: {unfilled}")


# Text the pages show as it was stored, in English, that other work is turning into French: each names the work.
KNOWN: set[str] = set()


def _read(client: Client, path: str, **headers: str) -> tuple[int, list[str] | None]:
    """The answer's status, and the English phrases it shows a French reader (None when it is no page: a file, a
    redirect, a POST-only address)."""
    answer = client.get(path, **{**FRENCH_BROWSER, **headers})  # type: ignore[arg-type]
    assert answer.status_code < 500, f"GET {path} → {answer.status_code}"
    if (answer.status_code in (301, 302, 405) or getattr(answer, "streaming", False)
            or "html" not in answer.get("Content-Type", "")):
        return answer.status_code, None
    parts = visible_parts(answer.content.decode(), words_for_scripts=True)
    return answer.status_code, english_shown([part for part in parts if part not in KNOWN])


def test_a_french_owner_reads_no_english_on_any_page_or_fragment(world):
    client = Client()
    client.force_login(get_user_model().objects.get(pk=world["users"]["owner"]))
    # The guest pages in the same browser, past the link's gate (a guest gives their name).
    client.post(f"/review/{world['token']}/", {"action": "name", "name": "Gaston"}, **FRENCH_BROWSER)
    filled, _unfilled = _addresses(world)
    english, never_found, pages = {}, [], 0
    for name, paths in sorted(filled.items()):
        statuses = set()
        for path in paths:
            status, found = _read(client, path)
            if status == 405:
                break  # POST only: it answers with the page or fragment of the GETs read here
            statuses.add(status)
            if status == 404:
                continue  # an address the world's objects do not pair (a line of another scene): the 404 page
            # The fragment htmx asks for (some addresses answer only htmx, and send a browser to the page).
            _status, fragment = _read(client, path, HTTP_HX_REQUEST="true")
            if found is None and fragment is None:
                if status == 200:
                    break  # a file (a video, a CSV): the others of its kind are files too
                continue
            pages += 1
            for where, shown in ((path, found), (f"{path} (htmx)", fragment)):
                if shown:
                    english[where] = shown
            if name not in EVERY_ONE:
                break
        if statuses == {404} and name not in FILES_NOT_HELD:  # every address filled wrongly: never read
            never_found.append(name)
    assert never_found == [], never_found
    assert pages > 80  # the sweep reads pages, not only redirects and files
    assert english == {}


# --- What reaches a French reader outside the pages: the feed's lines, the inbox, emails, error pages ------


def test_every_line_of_the_feed_and_every_notification_reads_in_french(world):
    with translation.override("fr"):
        lines = [f"{entry.who} {entry.said}" for entry in Activity.objects.filter(project=world["project"])]
        inbox = list(Notification.objects.filter(team=world["team"]).values_list("text", flat=True))
    assert len(lines) > 10 and len(inbox) >= 3
    assert {line: english_shown(line) for line in lines + inbox if english_shown(line)} == {}


def test_the_emails_a_french_team_receives_read_in_french(world):
    """The mentions, replies, decisions and invitation the world's events sent, as each recipient reads them."""
    assert len(world["emails"]) >= 4
    assert {subject: english_shown(subject.splitlines() + body.splitlines())
            for subject, body in world["emails"] if english_shown(subject.splitlines() + body.splitlines())} == {}


def test_the_password_reset_email_reads_in_french(world, client):
    sent = []
    with mock.patch.object(activity_tasks.send_notification, "delay_on_commit",
                           lambda _user, subject, body: sent.append((subject, body))):
        client.post("/password-reset/", {"email": "olive@example.com"}, **FRENCH_BROWSER)
    ((subject, body),) = sent
    assert english_shown(subject.splitlines() + body.splitlines()) == []


def _error_page(client, method: str, path: str, status: int, **data) -> list[str]:
    answer = getattr(client, method)(path, data, **FRENCH_BROWSER)
    assert answer.status_code == status
    return english_shown(visible_parts(answer.content.decode()))


def test_the_error_pages_read_in_french(world, client):
    client.force_login(get_user_model().objects.get(pk=world["users"]["reviewer"]))
    assert _error_page(client, "get", "/projects/999999/", 404) == []
    assert _error_page(client, "post", f"/projects/{world['project']}/scenes/", 403, title="x") == []
    assert _error_page(client, "get", f"/teams/{world['team']}/characters/", 400, q="a\x00b") == []


def test_the_exports_page_counts_one_approved_scene_in_the_singular(world, client):
    client.force_login(get_user_model().objects.get(pk=world["users"]["owner"]))
    text = " ".join(visible_parts(client.get(f"/projects/{world['project']}/exports/", **FRENCH_BROWSER)
                                  .content.decode()))
    assert "1 scène sur 8 a une prise approuvée" in text  # not "1 scènes sur 8 ont"


def test_every_note_the_studio_ships_on_its_catalog_reads_in_french(world):
    shipped = set(CatalogModel.objects.filter(connection=None).exclude(notes="").values_list("notes", flat=True))
    assert shipped <= set(SHIPPED_NOTES), "List the new note in generation/catalog_notes.py and translate it"
    with translation.override("fr"):
        assert [note for note in SHIPPED_NOTES if translation.gettext(note) == note] == []


def test_runways_model_listing_names_the_api_version_it_speaks():
    # The sentence is one string for the translators, so the version is written out in it.
    assert f"API version {API_VERSION}," in RunwayProvider.facts.model_listing


# Brand names and wire formats a choice offers as they are: French says them the same way.
NAMES_NOT_TRANSLATED = {"Replicate", "Runway", "Authorization: Bearer <key>", "api-key: <key> (Azure)"}
# Choices nobody reads translated, each with its reason.
CHOICES_AS_THEY_ARE = {
    "ChangeEvent.kind": "the live channel's event names: read by the pages' scripts, never shown",
    "UserPreference.language": "each language is named in itself (English, Français), as language pickers do",
}


def test_every_choice_a_model_offers_is_named_in_the_readers_language():
    """A choice's label is what forms, chips and logs show: a plain English label is English on every French
    page that shows it, and never reaches the catalogue for the sweep above to know it."""
    plain = [f"{model.__name__}.{field.name}: {label!r}" for model in apps.get_models()
             if model._meta.app_label in ("projects", "generation")
             for field in model._meta.get_fields()
             if getattr(field, "choices", None) and f"{model.__name__}.{field.name}" not in CHOICES_AS_THEY_ARE
             for _value, label in field.flatchoices if isinstance(label, str) and label not in NAMES_NOT_TRANSLATED]
    assert plain == [], plain


# --- The check itself ----------------------------------------------------------------------------


def test_the_check_finds_an_english_phrase_and_lets_a_word_french_shares_pass():
    catalogue = [{"msgid": "Request changes", "msgstr": ["Demander des modifications"], "flags": set()},
                 {"msgid": "Budget", "msgstr": ["Budget"], "flags": set()},
                 {"msgid": "Export", "msgstr": ["Exporter"], "flags": set()},
                 {"msgid": "Take %(number)s of %(title)s", "msgstr": ["Prise %(number)s de %(title)s"],
                  "flags": set()},
                 {"msgid": "Save", "msgstr": ["Enregistrer"], "flags": set()}]
    phrases = catalogue_phrases(catalogue)
    page = ('<h1>Budget</h1><p>Export de consommation</p><button title="Request changes">Demander</button>'
            '<p>Take 3 of Le quai</p><button>Save</button><p>Save the date</p><pre translate="no">Request changes</pre>')
    assert english_shown(visible_parts(page), phrases) == ["Request changes", "Save", "Take %(number)s of %(title)s"]
    # Words a script shows, kept in a data attribute, are the reader's too.
    script_words = '<button data-label-play="Request changes" data-pk="12">Demander</button>'
    assert english_shown(visible_parts(script_words), phrases) == []
    assert english_shown(visible_parts(script_words, words_for_scripts=True), phrases) == ["Request changes"]
    french = "<h1>Budget</h1><p>Export de consommation</p><button>Demander des modifications</button>"
    assert english_shown(visible_parts(french), phrases) == []


def test_a_single_english_word_counts_and_a_phrase_french_also_writes_does_not():
    catalogue = [{"msgid": "Characters", "msgstr": ["Personnages"], "flags": set()},
                 {"msgid": "PDF storyboard", "msgstr": ["Storyboard PDF"], "flags": set()},
                 {"msgid": "Storyboard PDF", "msgstr": ["PDF du storyboard"], "flags": set()}]
    phrases = {phrase.english: phrase for phrase in catalogue_phrases(catalogue)}
    assert set(phrases) == {"Characters", "PDF storyboard"}  # "Storyboard PDF" is also French (a translation)
    assert isinstance(phrases["Characters"], Phrase)
    assert english_shown(["Les Characters du port"], list(phrases.values())) == ["Characters"]
