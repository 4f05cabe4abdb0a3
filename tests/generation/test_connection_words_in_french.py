"""The Providers page's form names its fields and the kinds of connection in the reader's language, and names
the Gemini API's kind for both of the video models it serves."""

import pytest
from django.urls import reverse
from django.utils import translation

from generation.models import ConnectionKind
from tests.test_translations import ENGLISH_BROWSER, FRENCH_BROWSER, visible_text


@pytest.fixture(autouse=True)
def _back_to_the_default_language():
    yield
    translation.deactivate()


def test_a_french_owner_reads_the_add_connection_form_in_french(client_for, owner, team):
    html = client_for(owner).get(reverse("generation:connection_list", args=[team.pk]), **FRENCH_BROWSER)
    text = visible_text(html.content.decode())
    for english in ("Kind", "Label", "Auth style", "Local previz (built in)", "any compatible gateway",
                    "queue API", "self-hosted", "service account"):
        assert english not in text, english
    for french in ("Fournisseur", "Nom", "Envoi de la clé", "Prévisualisation locale (intégrée)",
                   "Format OpenAI Videos (toute passerelle compatible)", "API Gemini de Google (Veo, Gemini Omni)",
                   "Google Vertex AI (Veo, compte de service)", "fal (API de file d’attente)",
                   "ComfyUI (auto-hébergé)"):
        assert french in text, french


def test_an_english_owner_reads_it_in_english(client_for, owner, team):
    text = visible_text(client_for(owner).get(reverse("generation:connection_list", args=[team.pk]),
                                              **ENGLISH_BROWSER).content.decode())
    for english in ("Provider", "Name", "How the key is sent", "Google Gemini API (Veo, Gemini Omni)",
                    "OpenAI Videos format (any compatible gateway)", "ComfyUI (self-hosted)"):
        assert english in text, english


def test_the_gemini_api_kind_names_both_video_models_it_serves():
    # One key reaches Veo 3.1 and Gemini Omni Flash (generation/catalog.py ships both under "veo").
    with translation.override("en"):
        label = str(ConnectionKind.VEO.label)
    assert "Gemini API" in label and "Veo" in label and "Omni" in label
