"""A take's provenance verdict reads in the reader's language, though the sentence stored with it
(and carried into exports' manifests) is English: the page says it again from the stored state,
failure codes and signer — rows stored before this still read."""

import pytest
from django.urls import reverse
from django.utils import translation

from generation.models import Render
from generation.provenance.credentials import ProvenanceReport

FRENCH_BROWSER = {"HTTP_ACCEPT_LANGUAGE": "fr-FR,fr;q=0.9"}
ENGLISH_BROWSER = {"HTTP_ACCEPT_LANGUAGE": "en-GB,en;q=0.9"}
TAMPERED = ["assertion.bmffHash.mismatch"]
STORED = "Tampered or broken: the video's bytes changed after it was signed (assertion.bmffHash.mismatch)."


@pytest.fixture(autouse=True)
def _back_to_the_default_language():
    yield
    translation.deactivate()


@pytest.fixture
def tampered_take(scene, finished_take):
    take = finished_take(scene)
    # As a take checked before verdicts were translated was stored: the English sentence only.
    Render.objects.filter(pk=take.pk).update(c2pa_state="invalid", c2pa_codes=TAMPERED, c2pa_summary={
        "signer": "Acme Video", "verdict": STORED})
    return take


def _panel(take) -> str:
    """The scene's panel on the board, where each take card tells its verdict."""
    return reverse("projects:scene_panel", args=[take.scene.project_id, take.scene_id])


def _verdict(page: str) -> str:
    start = page.index('data-testid="provenance-verdict">') + len('data-testid="provenance-verdict">')
    return page[start:page.index("</p>", start)]


def test_a_french_reader_reads_a_stored_english_verdict_in_french(client_for, editor, tampered_take):
    page = client_for(editor).get(_panel(tampered_take), **FRENCH_BROWSER)
    verdict = _verdict(page.content.decode())
    assert verdict.startswith("Altérée ou cassée\u00a0: ")
    assert "les octets de la vidéo ont changé après sa signature" in verdict
    assert "assertion.bmffHash.mismatch" in verdict  # the codes stay, for whoever debugs the file
    assert "bytes changed" not in page.content.decode()


def test_an_english_reader_reads_the_stored_sentence(client_for, editor, tampered_take):
    page = client_for(editor).get(_panel(tampered_take), **ENGLISH_BROWSER)
    assert _verdict(page.content.decode()) == STORED.replace("'", "&#x27;")


def test_the_stored_sentence_is_english_whatever_language_the_worker_runs_in():
    report = ProvenanceReport("valid", [], "Acme Video", None, None, [], None, None, None)
    with translation.override("fr"):
        assert report.verdict == "Intact, unknown signer: signed by Acme Video, whom this studio cannot vouch for."
