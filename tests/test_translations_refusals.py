"""Refusals worded in Python reach a French reader in French: the timeline reader's (a program of its
own, worded by the worker in the uploader's language), and the refusals of the catalog, re-targeting,
checks, exports, casting, drawings, access and input checks."""

import ast
import re
import uuid
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from generation.exports import timeline_words
from generation.models import CutImport, CutImportStatus
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
