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


def providers_page(client, team, browser) -> str:
    return visible_text(client.get(reverse("generation:connection_list", args=[team.pk]), **browser).content.decode())


def test_a_connection_test_an_english_owner_ran_reads_in_french_to_a_french_owner(
        client_for, owner, team, veo_server, veo_previews_live, django_capture_on_commit_callbacks):
    from generation.providers import connections

    veo = connections.connection_create(team=team, user=owner, kind="veo", label="Studio Gemini",
                                        base_url=veo_server.url, api_key=veo_server.api_key)
    with django_capture_on_commit_callbacks(execute=True):  # the worker runs it: nobody's language is active
        client_for(owner).post(reverse("generation:connection_test", args=[team.pk, veo.pk]),
                               HTTP_HX_REQUEST="true", **ENGLISH_BROWSER)
    veo.refresh_from_db()
    # Kept in English for logs and the admin, whoever clicked.
    assert veo.last_test_ok is True and veo.last_test_message == ("Connected to Studio Gemini: the Gemini API "
                                                                  "accepts the key.")

    french = providers_page(client_for(owner), team, FRENCH_BROWSER)
    assert "Connecté à Studio Gemini\u00a0: l’API Gemini accepte la clé." in french
    assert "accepts the key" not in french
    assert veo.last_test_message in providers_page(client_for(owner), team, ENGLISH_BROWSER)


def test_a_failed_connection_test_says_why_in_french(client_for, owner, team, veo_server, veo_previews_live,
                                                      django_capture_on_commit_callbacks):
    from generation.providers import connections

    veo = connections.connection_create(team=team, user=owner, kind="veo", label="Studio Gemini",
                                        base_url=veo_server.url, api_key="AIzaSy-wrong-key-999")
    with django_capture_on_commit_callbacks(execute=True):
        client_for(owner).post(reverse("generation:connection_test", args=[team.pk, veo.pk]),
                               HTTP_HX_REQUEST="true", **ENGLISH_BROWSER)
    veo.refresh_from_db()
    assert veo.last_test_ok is False and veo.last_test_words  # coded, like a take's failure
    assert veo.last_test_message.startswith("Authentication failed: Google rejected the API key for Studio Gemini.")
    french = providers_page(client_for(owner), team, FRENCH_BROWSER)
    assert "✗ Échec de l’authentification\u00a0: Google a refusé la clé d’API de Studio Gemini." in french
    assert "rejected the API key" not in french


def test_a_connection_tested_before_the_codes_shows_its_stored_answer(client_for, owner, team):
    from django.utils import timezone

    from generation.providers import connections

    veo = connections.connection_create(team=team, user=owner, kind="veo", label="Studio Gemini", api_key="k")
    type(veo).objects.filter(pk=veo.pk).update(last_tested_at=timezone.now(), last_test_ok=True,
                                               last_test_message="The old worker's own words.", last_test_words=[])
    assert "The old worker's own words." in providers_page(client_for(owner), team, FRENCH_BROWSER)
