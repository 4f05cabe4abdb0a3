"""Refusals worded in Python reach a French reader in French: the timeline reader's (a program of its
own, worded by the worker in the uploader's language), and the refusals of the catalog, re-targeting,
checks, exports, casting, drawings, access and input checks."""

import ast
import builtins
import importlib
import json
import re
import uuid
from pathlib import Path
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from generation.exports import timeline_words
from generation.models import CatalogModel, CutImport, CutImportStatus, Export, ExportStatus, Render
from generation.providers import connections
from projects.characters import consent
from projects.models import CharacterKind, Comment, ReviewLink, Scene
from projects.review import services as review
from projects.review.drawing import MAX_SHAPES
from tests.factories import photo
from tests.provenance_helpers import tamper
from tests.test_translations import ENGLISH_BROWSER, FRENCH_BROWSER, visible_text

ROOT = Path(__file__).resolve().parent.parent
NBSP = "\u00a0"


@pytest.fixture(autouse=True)
def _back_to_the_default_language():
    yield
    translation.deactivate()


# --- The timeline reader --------------------------------------------------------------------------

OUT_BEFORE_IN = (b"TITLE: CUT\nFCM: NON-DROP FRAME\n\n"
                 b"001  S001T001 V     C        00:00:02:00 00:00:01:00 00:00:00:00 00:00:01:00\n")


def _upload_and_read_in_the_worker(client, project, data: bytes, browser: dict, capture) -> CutImport:
    with capture() as queued:
        answer = client.post(reverse("generation:cut_import_upload", args=[project.pk]),
                             {"timeline": SimpleUploadedFile("cut.edl", data), "idempotency_key": str(uuid.uuid4())},
                             **browser)
    assert answer.status_code == 302
    # The worker has no browser: it starts in the studio's default language, whatever the request left active.
    translation.activate("en")
    for callback in queued:
        callback()
    return CutImport.objects.get(project=project)


def test_a_french_editor_is_told_in_french_which_line_of_a_timeline_is_wrong(
        client_for, editor, project, django_capture_on_commit_callbacks):
    client = client_for(editor)
    made = _upload_and_read_in_the_worker(client, project, OUT_BEFORE_IN, FRENCH_BROWSER,
                                          django_capture_on_commit_callbacks)
    assert made.status == CutImportStatus.FAILED
    page = client.get(reverse("generation:cut_import_detail", args=[project.pk, made.pk]), **FRENCH_BROWSER)
    assert (f"Ligne 4{NBSP}: un point de sortie (00:00:01:00) précède son point d’entrée (00:00:02:00)."
            in visible_text(page.content.decode()))


def test_an_english_editor_still_reads_the_timeline_refusal_in_english(
        client_for, editor, project, django_capture_on_commit_callbacks):
    made = _upload_and_read_in_the_worker(client_for(editor), project, OUT_BEFORE_IN, ENGLISH_BROWSER,
                                          django_capture_on_commit_callbacks)
    assert made.error_message == "Line 4: an out point (00:00:01:00) comes before its in point (00:00:02:00)."


def test_a_timeline_a_french_editor_uploaded_reads_in_english_to_an_english_teammate(
        client_for, editor, reviewer, project, django_capture_on_commit_callbacks):
    made = _upload_and_read_in_the_worker(client_for(editor), project, OUT_BEFORE_IN, FRENCH_BROWSER,
                                          django_capture_on_commit_callbacks)
    detail = reverse("generation:cut_import_detail", args=[project.pk, made.pk])
    english = visible_text(client_for(reviewer).get(detail, **ENGLISH_BROWSER).content.decode())
    assert "Line 4: an out point (00:00:01:00) comes before its in point (00:00:02:00)." in english
    assert "Ligne 4" not in english
    french = visible_text(client_for(reviewer).get(detail, **FRENCH_BROWSER).content.decode())
    assert f"Ligne 4{NBSP}: un point de sortie (00:00:01:00) précède son point d’entrée (00:00:02:00)." in french
    # The English stays in the row, for logs.
    assert made.error_message == "Line 4: an out point (00:00:01:00) comes before its in point (00:00:02:00)."


def test_a_timeline_the_worker_could_not_finish_reads_in_each_readers_language(client_for, editor, reviewer,
                                                                              project):
    from generation.exports.cut_import import cut_import_crashed

    made = CutImport.objects.create(project=project, created_by=editor, upload="cut-imports/x.timeline",
                                    filename="cut.edl", status=CutImportStatus.READING)
    cut_import_crashed(made.pk, language="fr")
    detail = reverse("generation:cut_import_detail", args=[project.pk, made.pk])
    assert ("The timeline could not be read: the worker stopped. Upload it again."
            in visible_text(client_for(reviewer).get(detail, **ENGLISH_BROWSER).content.decode()))
    assert (f"Impossible de lire la timeline{NBSP}: le worker s’est arrêté. Envoyez-la à nouveau."
            in visible_text(client_for(editor).get(detail, **FRENCH_BROWSER).content.decode()))


def test_a_timeline_that_failed_before_the_codes_still_shows_its_stored_words(client_for, editor, project):
    old = CutImport.objects.create(project=project, created_by=editor, upload="cut-imports/x.timeline",
                                   filename="cut.edl", status=CutImportStatus.FAILED,
                                   error_message="Ligne 9 : le fichier est peut-être tronqué.")
    page = client_for(editor).get(reverse("generation:cut_import_detail", args=[project.pk, old.pk]),
                                  **ENGLISH_BROWSER)
    assert "Ligne 9 : le fichier est peut-être tronqué." in visible_text(page.content.decode())


def test_every_refusal_the_timeline_reader_raises_has_a_sentence():
    """The reader names its refusals by code; a code without a sentence would reach the page as
    "The timeline could not be read." and hide the line it names."""
    source = (ROOT / "generation" / "exports" / "timeline_reader.py").read_text()
    codes = {node.args[0].value for node in ast.walk(ast.parse(source))
             if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "TimelineError"
             and node.args and isinstance(node.args[0], ast.Constant)}
    assert len(codes) >= 14
    assert codes <= set(timeline_words.REFUSALS)
    with translation.override("fr"):
        for code in codes:
            placeholders = re.findall(r"%\((\w+)\)s", str(timeline_words.REFUSALS[code]))
            worded = timeline_words.refusal_words({"code": code, "params": {p: "7" for p in placeholders}})
            assert worded != "Impossible de lire la timeline.", code


def test_a_reader_answer_the_worker_does_not_know_still_says_the_timeline_was_not_read():
    with translation.override("fr"):
        assert timeline_words.refusal_words({"code": "from_the_future", "params": {}}) == \
            "Impossible de lire la timeline."
        assert timeline_words.refusal_words({"code": "edl_event", "params": {}}) == "Impossible de lire la timeline."


# --- Roles, on the 403 page -----------------------------------------------------------------------


def test_a_french_viewer_is_told_in_french_that_their_role_cannot_edit(client_for, viewer, project):
    answer = client_for(viewer).post(reverse("projects:scene_create", args=[project.pk]),
                                     {"title": "Le quai", "prompt": "La pluie", "duration": 4, "size": "1280x720"},
                                     **FRENCH_BROWSER)
    assert answer.status_code == 403
    assert "Votre rôle (Lecteur) ne permet pas de modifier." in visible_text(answer.content.decode())
    assert not Scene.objects.filter(project=project).exists()


def test_a_french_viewer_is_told_in_french_that_their_role_cannot_start_exports(client_for, viewer, project):
    answer = client_for(viewer).post(reverse("generation:export_create", args=[project.pk]), **FRENCH_BROWSER)
    assert answer.status_code == 403
    assert "Votre rôle (Lecteur) ne permet pas de lancer des exports." in visible_text(answer.content.decode())


# --- Exports --------------------------------------------------------------------------------------


def test_a_french_editor_is_told_in_french_that_nothing_is_approved_to_export(client_for, editor, scene):
    answer = client_for(editor).post(reverse("generation:export_create", args=[scene.project.pk]),
                                     {"idempotency_key": str(uuid.uuid4())}, HTTP_HX_REQUEST="true",
                                     **FRENCH_BROWSER)
    assert (f"Aucune scène n’a encore de prise approuvée à exporter{NBSP}: approuvez d’abord au moins une prise."
            in visible_text(answer.content.decode()))
    assert not Export.objects.exists()


def test_an_export_that_fails_in_the_worker_says_why_in_the_language_it_was_started_in(
        client_for, editor, reviewer, scene, finished_take, django_capture_on_commit_callbacks):
    review.take_approve(take=finished_take(scene), user=reviewer)
    client = client_for(editor)
    with django_capture_on_commit_callbacks() as queued:
        client.post(reverse("generation:export_create", args=[scene.project.pk]),
                    {"idempotency_key": str(uuid.uuid4())}, **FRENCH_BROWSER)
    # Before the worker runs, the scene leaves the cut: the export has nothing left to build.
    Scene.objects.filter(pk=scene.pk).update(in_cut=False)
    translation.activate("en")  # the worker's own language
    for callback in queued:
        callback()
    export = Export.objects.get()
    assert export.status == ExportStatus.FAILED
    page = client.get(reverse("generation:export_list", args=[scene.project.pk]), **FRENCH_BROWSER)
    assert "Aucune scène n’a encore de prise approuvée à exporter" in visible_text(page.content.decode())
    assert 'data-testid="export-status">Échec<' in page.content.decode()  # its status, in French too
    # An English teammate reads why in English: the failure was stored as a code, not as French words.
    page = client_for(reviewer).get(reverse("generation:export_list", args=[scene.project.pk]), **ENGLISH_BROWSER)
    text = visible_text(page.content.decode())
    assert "No scene has an approved take to export yet: approve at least one take first." in text
    assert "Aucune scène" not in text
    assert export.error_message == "No scene has an approved take to export yet: approve at least one take first."


def test_an_export_whose_clip_is_unreadable_says_so_in_each_readers_language(client_for, editor, reviewer,
                                                                            project):
    from generation.exports.media import StitchError
    from generation.exports.services import _run
    from generation.words import said

    export = Export.objects.create(project=project, created_by=editor)
    unreadable = StitchError(said("stitch.no_video", file="s01.mp4"))
    with translation.override("fr"), mock.patch("generation.exports.services._build", side_effect=unreadable):
        _run(export.pk)
    exports = reverse("generation:export_list", args=[project.pk])
    assert ("A clip could not be read: s01.mp4 has no video."
            in visible_text(client_for(reviewer).get(exports, **ENGLISH_BROWSER).content.decode()))
    assert (f"Impossible de lire un plan{NBSP}: s01.mp4 ne contient pas de vidéo."
            in visible_text(client_for(editor).get(exports, **FRENCH_BROWSER).content.decode()))


def test_why_a_cut_was_re_encoded_reads_in_each_readers_language(client_for, editor, reviewer, project):
    from generation.words import said, stored

    why = said("remux.size", number=2, size="720×1280", project="1280×720")
    Export.objects.create(project=project, created_by=editor, status=ExportStatus.SUCCEEDED, summary={
        "included": [], "duration": 8.0, "size": "1280x720", "method": "reencode",
        "reencode_reason": why.english(), "reencode_words": stored(why)})
    exports = reverse("generation:export_list", args=[project.pk])
    assert ("re-encoded (clip 2 is 720×1280, the project is 1280×720)"
            in visible_text(client_for(reviewer).get(exports, **ENGLISH_BROWSER).content.decode()))
    french = visible_text(client_for(editor).get(exports, **FRENCH_BROWSER).content.decode())
    assert "le plan 2 est en 720×1280, le projet en 1280×720" in french
    assert "the project is" not in french


def test_an_export_that_failed_before_the_codes_still_shows_its_stored_words(client_for, editor, project):
    Export.objects.create(project=project, created_by=editor, status=ExportStatus.FAILED,
                          error_message="L’export s’est arrêté : SoftTimeLimitExceeded.")
    page = client_for(editor).get(reverse("generation:export_list", args=[project.pk]), **ENGLISH_BROWSER)
    assert "L’export s’est arrêté : SoftTimeLimitExceeded." in visible_text(page.content.decode())


# --- Re-target, the catalog, the render form ------------------------------------------------------


def test_a_french_editor_is_told_in_french_that_a_scene_changed_since_the_retarget_plan(
        client_for, editor, team, owner, project, make_scene):
    replicate = connections.connection_create(team=team, user=owner, kind="replicate", label="Replicate",
                                              base_url="http://127.0.0.1:9/v1", api_key="r8-test",
                                              webhook_secret="whsec_c2VjcmV0")
    first, second = make_scene(title="Le quai", duration=5), make_scene(title="La criée", duration=5)
    shown = f"{first.pk}:{first.version},{second.pk}:{second.version}"
    Scene.objects.filter(pk=second.pk).update(version=second.version + 1, duration=9)
    answer = client_for(editor).post(reverse("generation:scene_retarget", args=[project.pk]),
                                     {"target": f"{replicate.pk}:google/veo-3.1", "shown": shown}, **FRENCH_BROWSER)
    assert (f"Rien n’a été déplacé{NBSP}: la scène 2 (La criée) a changé depuis l’affichage du plan."
            in visible_text(answer.content.decode()))
    first.refresh_from_db()
    assert first.target_model == ""


def test_a_french_owner_is_told_in_french_that_a_registered_model_has_no_shipped_entry(client_for, owner,
                                                                                      priced_gateway):
    model = CatalogModel.objects.get(connection=priced_gateway)
    answer = client_for(owner).post(
        reverse("generation:catalog_entry_edit", args=[priced_gateway.team_id, priced_gateway.pk, model.pk]),
        {"reset": "1"}, follow=True, **FRENCH_BROWSER)
    assert (f"«{NBSP}wan-2.7{NBSP}» a été enregistré par votre équipe{NBSP}: il n’y a pas d’entrée d’origine"
            in visible_text(answer.content.decode()))
    assert CatalogModel.objects.filter(pk=model.pk).exists()


@pytest.mark.usefixtures("previz_without_encode")
def test_a_french_editor_is_told_in_french_that_a_scene_is_too_long_for_the_model(client_for, editor, scene):
    Scene.objects.filter(pk=scene.pk).update(duration=25)
    local = scene.project.team.connections.get(kind="local")
    answer = client_for(editor).post(reverse("generation:render_create", args=[scene.pk]),
                                     {"target": f"{local.pk}:previz-animatic-1", "idempotency_key": str(uuid.uuid4())},
                                     HTTP_HX_REQUEST="true", **FRENCH_BROWSER)
    assert "génère de 1 à 20 secondes, pas 25." in visible_text(answer.content.decode())
    assert not Render.objects.exists()



def test_a_french_owner_is_told_in_french_to_write_why_a_blocked_take_is_approved_anyway(
        client_for, owner, scene, render_take, remixable_previz):
    tampered = tamper(render_take(scene))
    answer = client_for(owner).post(reverse("projects:take_decide", args=[tampered.pk]),
                                    {"decision": "approve", "override_reason": "Vu."}, **FRENCH_BROWSER)
    assert answer.status_code == 422
    assert ("Écrivez en une phrase (10 caractères ou plus) pourquoi vous l’approuvez malgré tout."
            in visible_text(answer.content.decode()))
    scene.refresh_from_db()
    assert scene.approved_take_id is None

# --- Consent, casting, reference images -----------------------------------------------------------


def test_a_french_editor_is_told_in_french_that_a_mentioned_character_cannot_be_cast(client_for, editor, team,
                                                                                    project, make_member):
    from projects.models import Role

    marie = make_member(team, Role.EDITOR, "marie")
    consent.character_create(team=team, user=marie, name="Marie", kind=CharacterKind.PERSON, person=marie,
                             images=[photo()])
    answer = client_for(editor).post(reverse("projects:scene_create", args=[project.pk]),
                                     {"title": "Le quai", "prompt": "@Marie court sur le quai", "duration": 4,
                                      "size": "1280x720", "camera_notes": ""}, HTTP_HX_REQUEST="true",
                                     **FRENCH_BROWSER)
    assert ("Marie n’a pas encore donné son consentement. Marie ne peut pas être distribué·e."
            in visible_text(answer.content.decode()))
    assert not Scene.objects.filter(project=project).exists()


def test_a_french_editor_is_told_in_french_that_a_reference_file_is_no_image(client_for, editor, team):
    answer = client_for(editor).post(reverse("projects:character_list", args=[team.pk]), {
        "name": "Capitaine", "description": "ciré jaune", "kind": "fictional", "declares_fictional": "on",
        "images": [SimpleUploadedFile("notes.png", b"pas une image", "image/png")]}, **FRENCH_BROWSER)
    assert answer.status_code == 400
    assert (f"notes.png{NBSP}: Ce fichier n’est pas une image JPEG, PNG ou WebP lisible."
            in visible_text(answer.content.decode()))



def test_a_french_reader_sees_each_characters_consent_in_french(client_for, owner, editor, team):
    consent.character_create(team=team, user=owner, name="Capitaine", kind=CharacterKind.PERSON, person=owner,
                             images=[photo()])
    marie = consent.character_create(team=team, user=editor, name="Marie", kind=CharacterKind.PERSON,
                                     person=editor, images=[photo()])
    consent.consent_grant(character=marie, user=editor)
    consent.character_create(team=team, user=owner, name="Robot", kind=CharacterKind.FICTIONAL, images=[photo()],
                             declares_fictional=True)
    text = visible_text(client_for(owner).get(reverse("projects:character_list", args=[team.pk]),
                                              **FRENCH_BROWSER).content.decode())
    assert "Pas encore de consentement" in text
    assert f"Consentement{NBSP}: accordé (toute l’équipe, tous les fournisseurs)" in text
    assert f"Fictif — déclaré par {owner.get_username()}" in text
    assert "No consent yet" not in text and "Consent: granted" not in text

# --- Review: drawings, guest links ----------------------------------------------------------------


def test_a_french_reviewer_is_told_in_french_why_a_drawing_was_refused(client_for, reviewer, scene, finished_take):
    take = finished_take(scene)
    arrow = {"kind": "arrow", "color": "#e53935", "points": [[0.2, 0.3], [0.6, 0.5]]}
    answer = client_for(reviewer).post(reverse("projects:comment_create", args=[take.pk]),
                                       {"body": "Regardez ici", "at": "1.0",
                                        "drawing": json.dumps([arrow] * (MAX_SHAPES + 1))}, **FRENCH_BROWSER)
    assert answer.status_code == 422
    text = visible_text(answer.content.decode())
    assert (f"Impossible d’enregistrer le dessin{NBSP}: {MAX_SHAPES} formes au plus par commentaire "
            f"(celui-ci en a {MAX_SHAPES + 1})." in text)
    assert "Regardez ici" in answer.content.decode()
    assert not Comment.objects.filter(take=take).exists()


def test_a_french_owner_is_told_in_french_that_a_guest_links_name_is_too_long(client_for, owner, project, scene):
    answer = client_for(owner).post(reverse("projects:review_links", args=[project.pk]),
                                    {"label": "C" * 121, "scope": "cut", "days": "7", "password": ""},
                                    **FRENCH_BROWSER)
    assert ("Le nom du lien ne peut pas dépasser 120 caractères (ce texte en a 121)."
            in visible_text(answer.content.decode()))
    assert not ReviewLink.objects.exists()


# --- Spend ----------------------------------------------------------------------------------------


def test_a_french_editor_is_told_in_french_how_a_month_is_written(client_for, editor, project):
    answer = client_for(editor).get(reverse("generation:project_spend", args=[project.pk]), {"month": "2026-13"},
                                    **FRENCH_BROWSER)
    assert "Un mois s’écrit 2026-11" in visible_text(answer.content.decode())



# --- Bad addresses and searches -------------------------------------------------------------------


def test_a_french_reader_is_told_in_french_that_an_address_holds_control_characters(client_for, editor, team):
    answer = client_for(editor).get(reverse("projects:character_list", args=[team.pk]), {"q": "a\x00b"},
                                    **FRENCH_BROWSER)
    assert answer.status_code == 400
    assert "L’adresse contient des caractères de contrôle" in visible_text(answer.content.decode())


def test_a_french_editor_is_told_in_french_that_a_character_search_is_too_long(client_for, editor, team):
    answer = client_for(editor).get(reverse("projects:character_list", args=[team.pk]), {"q": "x" * 201},
                                    **FRENCH_BROWSER)
    assert answer.status_code == 400
    assert ("Recherchez au plus 200 caractères (cette recherche en a 201)."
            in visible_text(answer.content.decode()))

# --- The guard: no refusal a person reads is a bare English literal -----------------------------------

# Django's refusals: their words reach a form's errors or the 403 page. With them, every exception class the
# studio defines (found below), since any of them may end on a page as a failed export's line or a message.
DJANGO_REFUSALS = {"ValidationError", "PermissionDenied", "BadRequest", "SuspiciousOperation", "Http404"}
MESSAGE_LEVELS = {"debug", "info", "success", "warning", "error"}
# Exception classes whose words no person reads, each with why. Every other one is a refusal.
NOT_SHOWN: dict[str, str] = {
    "Http404": "the 404 page never shows its words",
    "WebhookError": "answered to the provider's server that sent the webhook (or logged), never to a person",
    "WebhookRefused": "the webhook receiver's answer to the provider's server",
    "WebhookAlreadyProcessed": "tells the webhook receiver to answer 200 to a repeat; carries no words",
    "TimelineError": "a code and its parameters, not words: the worker words them (generation.words, timeline.*)",
    "Unreadable": "caught by the Google adapters and replaced by provider.unreadable, said in the reader's language",
    "InvalidTransition": "a programming error (a status change the code never makes), for the developer's traceback",
    "AppendOnly": "a programming error: the audit log refuses a change, for the developer's traceback",
    "ReverifyBusy": "the re-verification task logs it and tries again a minute later",
    "SpeechError": "the speech engine failing in a worker (never in a request): logged with its traceback, and "
                   "what needed it fails with its own words",
    "DecryptionError": "for the operator (FIELD_ENCRYPTION_KEY changed): a server error and its log line",
}
# Literal words that stay as they are, each with its reason. The key: the file and the literal's start.
ALLOWED: dict[tuple[str, str], str] = {
    # None today.
}


def _module_names(tree: ast.Module) -> dict[str, tuple[str, str | None]]:
    """What each imported name is: (module, attribute) for `from m import a`, (module, None) for `import m`."""
    names: dict[str, tuple[str, str | None]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.update({alias.asname or alias.name: (node.module, alias.name) for alias in node.names})
        elif isinstance(node, ast.Import):
            names.update({alias.asname or alias.name.split(".")[0]: (alias.name if alias.asname
                                                                     else alias.name.split(".")[0], None)
                          for alias in node.names})
    return names


def _outside_exception(base: str, names: dict[str, tuple[str, str | None]]) -> bool:
    """Whether `base` (as written in a class statement) names an exception defined outside the studio: a builtin
    one, or one imported from a library (httpx.HTTPError, django's ValidationError)."""
    head, *rest = base.split(".")
    try:
        if head in names:
            module, attribute = names[head]
            found: object = importlib.import_module(module)
            for part in ([attribute] if attribute else []) + rest:
                found = getattr(found, part)
        else:
            found = getattr(builtins, base, None)
    except (ImportError, AttributeError):
        return False
    return isinstance(found, type) and issubclass(found, BaseException)


def refusal_classes(root: Path) -> set[str]:
    """Every exception class defined in projects/ and generation/ (its bases chain to an exception, through the
    studio's own classes or a library's), by name."""
    defined: list[tuple[str, list[str], dict]] = []
    for path in _studio_files(root):
        tree = ast.parse(path.read_text())
        names = _module_names(tree)
        defined += [(node.name, [ast.unparse(b) for b in node.bases], names)
                    for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]
    found: set[str] = set()
    while True:
        more = {name for name, bases, names in defined if name not in found
                and any(b.split(".")[-1] in found or _outside_exception(b, names) for b in bases)}
        if not more:
            return found
        found |= more


def _studio_files(root: Path) -> list[Path]:
    return [path for path in sorted([*root.glob("projects/**/*.py"), *root.glob("generation/**/*.py")])
            if "migrations" not in path.parts]


def _literal(node: ast.AST) -> str | None:
    """The English words in `node` when it is (or formats) a string literal rather than a translation."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and any(c.isalpha() for c in node.value):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return ast.unparse(node)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):  # "…%s" % x: the format decides
        return _literal(node.left)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _literal(node.left) or _literal(node.right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return _literal(node.func.value)
    if isinstance(node, (ast.List, ast.Tuple)):
        return next((w for w in map(_literal, node.elts) if w), None)
    if isinstance(node, ast.Dict):
        return next((w for w in map(_literal, [v for v in node.values if v is not None]) if w), None)
    return None


def _shown_words(call: ast.Call, refusals: set[str]) -> ast.AST | None:
    """The argument of `call` a person reads, if it is a call that shows words."""
    func = call.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
    if name in refusals:
        message = next((k.value for k in call.keywords if k.arg == "message"), None)
        return call.args[0] if call.args else message
    if (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "messages"
            and func.attr in MESSAGE_LEVELS and len(call.args) >= 2):
        return call.args[1]
    if name == "add_error" and len(call.args) >= 2:
        return call.args[1]
    return None


def bare_refusals(root: Path) -> list[str]:
    refusals = (DJANGO_REFUSALS | refusal_classes(root)) - set(NOT_SHOWN)
    found = []
    for path in _studio_files(root):
        relative = path.relative_to(root).as_posix()
        for node in ast.walk(ast.parse(path.read_text(), filename=relative)):
            if isinstance(node, ast.Call) and (argument := _shown_words(node, refusals)) is not None:
                words = _literal(argument)
                if words and not any(relative == f and words.startswith(start) for f, start in ALLOWED):
                    found.append(f"{relative}:{node.lineno}: {words[:90]}")
    return found


def test_no_refusal_a_person_reads_is_a_bare_english_literal():
    """A ValidationError, PermissionDenied, any exception the studio defines, a message or a form error built
    from a literal reaches a French reader in English: wrap it in gettext (a whole sentence, named
    placeholders), or pass a code worded when shown (generation.words)."""
    assert bare_refusals(ROOT) == []


def test_the_guard_finds_each_way_of_writing_a_bare_refusal(tmp_path):
    (tmp_path / "projects").mkdir()
    (tmp_path / "generation").mkdir()
    (tmp_path / "projects" / "slips.py").write_text(
        'raise ValidationError("Plain words.")\n'
        'raise PermissionDenied(f"Your role ({role}) cannot.")\n'
        'messages.error(request, "Saved nothing.")\n'
        'form.add_error("name", "Too long %s" % n)\n'
        'raise ValidationError({"prompt": "Describe it."})\n'
        'raise SplitError("No frames {}".format(n))\n'
        'raise ValidationError(gettext("Translated."))\n'
        'raise ValidationError(gettext("%(n)s shots") % {"n": f"{n:,}"})\n'
        'raise ValidationError(problems)\n'
        'raise Http404("Never shown.")\n'
        'raise StaleBoard("The board changed.")\n'
        'raise TooLate(message=f"Too late for {name}.")\n'
        'raise BoardRefused(said("board.changed"))\n'
        'raise Quiet("Only for the log.")\n')
    # The studio's own exceptions, found by what they derive from, however deep.
    (tmp_path / "generation" / "errors.py").write_text(
        'from django.core import exceptions\n'
        'class BoardRefused(Exception):\n    pass\n'
        'class StaleBoard(BoardRefused):\n    pass\n'
        'class TooLate(exceptions.ValidationError):\n    pass\n'
        'class SplitError(ValueError):\n    pass\n'
        'class Quiet:\n    pass\n')
    assert [line.split(":")[1] for line in bare_refusals(tmp_path)] == ["1", "2", "3", "4", "5", "6", "11", "12"]


def test_the_guard_knows_every_exception_the_studio_defines():
    """Found, not listed: a refusal class added tomorrow is scanned without editing the guard."""
    found = refusal_classes(ROOT)
    assert {"StaleOrder", "ExportRefused", "StitchError", "ProviderError", "OutboundRefused", "OverBudget",
            "SceneConflict", "LineConflict", "PeriodError", "ScriptError"} <= found
    assert set(NOT_SHOWN) - DJANGO_REFUSALS <= found  # every exemption names a class that exists


def test_the_adapters_own_refusals_before_sending_are_worded_in_the_readers_language():
    from generation.providers.fal import kling3_prompt_problems
    from generation.providers.runway import RunwayProvider

    long_prompt = "A harbour at dawn. " * 160  # 3,040 characters: past Runway's 1,000 and Kling 3.0's 2,500
    with translation.override("fr"):
        (runway,) = RunwayProvider.prompt_problems(model_id="gen4_turbo", prompt=long_prompt)
        (kling,) = kling3_prompt_problems(long_prompt)
    assert runway.startswith("gen4_turbo de Runway accepte un prompt d’au plus 1\u00a0000 caractères\u00a0;")
    assert runway.endswith("Raccourcissez le prompt.")
    assert kling.startswith("Kling 3.0 sur fal accepte un prompt d’au plus 2\u00a0500 caractères")
    with translation.override("en"):
        (runway,) = RunwayProvider.prompt_problems(model_id="gen4_turbo", prompt=long_prompt)
    assert runway.startswith("Runway's gen4_turbo takes a prompt of at most 1,000 characters; this one has 3,040")
