"""Why a take ended is said in the reader's language: stored as codes when it happened (a worker, or a
teammate's request in another language) and worded when a page shows it. The English stays stored for logs
and exports; a row stored before the codes shows its stored sentence."""

import uuid

import pytest
from django.urls import reverse
from django.utils import translation

from generation.models import Render, Status
from generation.providers import connections
from generation.renders import pipeline, services
from tests.test_translations import ENGLISH_BROWSER, FRENCH_BROWSER, visible_text

FAST = "veo-3.1-fast-generate-preview"


@pytest.fixture(autouse=True)
def _back_to_the_default_language():
    yield
    translation.deactivate()


@pytest.fixture
def veo(team, owner, veo_server, veo_previews_live):
    return connections.connection_create(team=team, user=owner, kind="veo", label="Google Veo",
                                         base_url=veo_server.url, api_key=veo_server.api_key)


def booked(connection, scene, user, capture) -> Render:
    with capture(execute=True):
        take, _ = services.render_create(scene=scene, user=user, connection=connection, model_id=FAST,
                                         idempotency_key=uuid.uuid4())
    take.refresh_from_db()
    return take


def panel_text(client, take, browser) -> str:
    html = client.get(reverse("projects:scene_panel", args=[take.scene.project_id, take.scene_id]),
                      **browser).content.decode()
    return visible_text(html)


def test_a_take_an_english_editor_canceled_reads_in_french_to_a_french_reader(
        veo, make_scene, editor, reviewer, client_for, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(pipeline, "_schedule_poll", lambda render, delay: None)
    take = booked(veo, make_scene(duration=4), editor, django_capture_on_commit_callbacks)
    assert take.status == Status.RUNNING
    client = client_for(editor)
    client.post(reverse("generation:render_cancel", args=[take.pk]), HTTP_HX_REQUEST="true", **ENGLISH_BROWSER)
    take.refresh_from_db()
    assert take.status == Status.CANCELED
    who = editor.get_username()
    # Stored in English for logs and exports, whoever canceled it and in whatever language.
    assert take.error_message == (f"Canceled by {who}. Google Veo has no cancel: the job runs to its end and "
                                  "may be billed.")

    french = panel_text(client_for(reviewer), take, FRENCH_BROWSER)
    assert (f"Annulée par {who}. Google Veo n’a pas d’annulation\u00a0: le job va jusqu’au bout et peut être "
            "facturé.") in french
    assert "Canceled by" not in french
    english = panel_text(client_for(reviewer), take, ENGLISH_BROWSER)
    assert take.error_message in english


def test_a_take_the_provider_refused_for_want_of_quota_says_so_in_french_on_its_review_page(
        veo, make_scene, editor, veo_server, client_for, django_capture_on_commit_callbacks):
    veo_server.scenario = "quota"
    take = booked(veo, make_scene(duration=4), editor, django_capture_on_commit_callbacks)  # a worker: no reader
    assert take.status == Status.FAILED
    assert take.error_message.startswith("Google Veo refused the job: the account is out of quota or credit.")

    review = reverse("projects:take_review", args=[take.pk])
    french = visible_text(client_for(editor).get(review, **FRENCH_BROWSER).content.decode())
    assert ("Google Veo a refusé le job\u00a0: le compte n’a plus de quota ou de crédit. Le fournisseur a "
            "répondu\u00a0: You exceeded your current quota") in french  # the provider's own words stay its own
    assert "refused the job" not in french
    assert "Échec." in french and "Failed." not in french  # the take's state, in the same words as its card
    english = visible_text(client_for(editor).get(review, **ENGLISH_BROWSER).content.decode())
    assert "Google Veo refused the job: the account is out of quota or credit." in english


def test_the_board_frame_of_a_failed_take_gives_its_reason_in_french(
        veo, make_scene, project, editor, veo_server, client_for, django_capture_on_commit_callbacks):
    veo_server.scenario = "quota"
    take = booked(veo, make_scene(duration=4), editor, django_capture_on_commit_callbacks)

    html = client_for(editor).get(reverse("projects:project_detail", args=[project.pk]), **FRENCH_BROWSER)
    assert f'title="Prise {take.number}\u00a0: Google Veo a refusé le job\u00a0: le compte' in html.content.decode()


def test_a_take_stored_before_the_codes_shows_its_stored_sentence(make_scene, finished_take, client_for, editor):
    take = finished_take(make_scene())
    Render.objects.filter(pk=take.pk).update(status=Status.FAILED, error_message="The old worker's own words.",
                                             error_words=[])
    take.refresh_from_db()
    assert "The old worker's own words." in panel_text(client_for(editor), take, FRENCH_BROWSER)


def test_a_code_this_studio_no_longer_knows_still_shows_its_parameters(make_scene, finished_take):
    take = finished_take(make_scene())
    take.error_words = [{"key": "take.gone_since", "params": {"why": "HTTP 418"}}]
    take.error_message = "Something HTTP 418"
    assert take.error_text == "HTTP 418"


def test_a_take_whose_create_got_no_clear_answer_says_it_may_be_billed_in_french(
        veo, make_scene, editor, veo_server, client_for, django_capture_on_commit_callbacks):
    veo_server.scenario = "server-error"  # a 503 after the create was sent: the job may exist
    take = booked(veo, make_scene(duration=4), editor, django_capture_on_commit_callbacks)
    assert take.status == Status.FAILED and take.billing_unconfirmed  # the Gemini API cannot list its jobs
    assert take.error_message.startswith("Unconfirmed — may be billed: The studio sent this take and Google Veo's "
                                         "answer was an error or never came. Google Veo cannot list its jobs")

    french = panel_text(client_for(editor), take, FRENCH_BROWSER)
    assert ("Non confirmée — peut être facturée\u00a0: Le studio a envoyé cette prise et la réponse de Google Veo "
            "était une erreur ou n’est jamais arrivée. Google Veo ne peut pas lister ses jobs") in french
    assert "Son coût reste compté dans le budget." in french and "may be billed" not in french
    # Where to look for the job is said in the reader's language too, not in the worker's.
    assert "L’API Gemini ne peut pas lister les jobs vidéo\u00a0; consultez les pages" in french
    assert "cannot list video jobs" not in french


def test_a_video_googles_safety_filters_blocked_says_so_in_french(
        veo, make_scene, editor, veo_server, client_for, django_capture_on_commit_callbacks):
    veo_server.scenario = "rai-filtered"
    take = booked(veo, make_scene(duration=4), editor, django_capture_on_commit_callbacks)  # polled by the worker
    assert take.status == Status.FAILED and take.failure_code == "moderation"
    assert take.error_message.startswith("Refused by Google's safety filters: the video was blocked. Google said: ")

    french = panel_text(client_for(editor), take, FRENCH_BROWSER)
    assert ("Refusé par les filtres de sécurité de Google\u00a0: la vidéo a été bloquée. Google a "
            "répondu\u00a0: ") in french
    assert "Refused by Google" not in french


@pytest.fixture
def runway(team, owner, runway_server):
    return connections.connection_create(team=team, user=owner, kind="runway", label="Runway",
                                         base_url=runway_server.url, api_key=runway_server.api_key)


def test_a_take_runways_moderation_refused_says_so_in_french_and_keeps_runways_own_words(
        runway, make_scene, editor, runway_server, client_for, django_capture_on_commit_callbacks):
    runway_server.scenario = "moderation"
    with django_capture_on_commit_callbacks(execute=True):  # a worker polls it: nobody's language is active
        take, _ = services.render_create(scene=make_scene(duration=5), user=editor, connection=runway,
                                         model_id="gen4.5", idempotency_key=uuid.uuid4())
    take.refresh_from_db()
    assert take.status == Status.FAILED and take.failure_code == "moderation"
    assert take.error_message.startswith("Refused by the provider's moderation: ")
    runways_words = take.error_message.removeprefix("Refused by the provider's moderation: ")

    french = panel_text(client_for(editor), take, FRENCH_BROWSER)
    assert f"Refusé par la modération du fournisseur\u00a0: {runways_words}" in french
    assert "Refused by the provider's moderation" not in french
    assert take.error_message in panel_text(client_for(editor), take, ENGLISH_BROWSER)


def test_the_adapters_own_words_are_said_in_french():
    """Each adapter's failure, as a take stores it, read by a French reader (one per kind of sentence)."""
    from generation.providers import comfyui, gemini_omni, local_previz, openai_videos, vertex
    from generation.words import english, stored, worded

    failed = comfyui._state_of({"status": {"status_str": "error", "messages": [["execution_error", {
        "node_id": "7", "node_type": "KSampler", "exception_type": "torch.OutOfMemoryError",
        "exception_message": "CUDA out of memory"}]]}})
    assert english(failed.error) == ("ComfyUI failed in node 7 (KSampler): the GPU ran out of memory (CUDA out of "
                                     "memory). Try a smaller size or fewer frames.")
    with translation.override("fr"):
        assert worded(stored(failed.error)) == (
            "ComfyUI a échoué dans le nœud 7 (KSampler)\u00a0: le GPU a manqué de mémoire (CUDA out of memory). "
            "Essayez une taille plus petite ou moins d’images.")
        assert worded(stored(gemini_omni._no_video({}))) == ("Google a terminé l’interaction mais n’a envoyé aucune "
                                                            "vidéo. Relancez la prise.")
        assert str(vertex.GONE).startswith("Google ne connaît plus ce job")
        assert str(openai_videos.GONE) == "Le fournisseur ne connaît plus ce job."
        assert str(local_previz.LocalPrevizProvider.job_listing_hint) == ("Relancez la prise\u00a0: la "
                                                                          "prévisualisation locale est gratuite.")


def test_an_adapters_refusal_before_sending_is_coded_too():
    """What an adapter refuses before a request goes out (a take's stored job id it did not write) is stored on
    the take as its code, like the provider's own answers."""
    from generation.providers import fal
    from generation.providers.base import ProviderError

    with pytest.raises(ProviderError) as refused:
        fal.FalJob.decode("someone-elses-id", "https://queue.fal.run")
    assert refused.value.words is not None and refused.value.code == "invalid_request"
    with translation.override("fr"):
        assert str(refused.value.words) == "L’identifiant de job fal de cette prise n’a pas été écrit par le studio."


def test_a_previz_that_failed_in_the_worker_says_so_in_the_readers_language(project):
    """The built-in previz's failure reached every reader in English, whoever read the take."""
    from generation.models import PrevizJob
    from generation.providers.local_previz import LocalPrevizProvider

    job = PrevizJob.objects.create(spec={}, status="failed", error="cannot draw frame 12")
    older = PrevizJob.objects.create(spec={}, status="failed", error="Previz rendering failed: disk full")
    provider = LocalPrevizProvider()
    state = provider.poll(str(job.pk))
    assert state.status == "failed" and state.error.english() == "Previz rendering failed: cannot draw frame 12"
    with translation.override("fr"):
        assert str(state.error) == "Échec du rendu de la prévisualisation\u00a0: cannot draw frame 12"
    assert provider.poll(str(older.pk)).error.english() == "Previz rendering failed: disk full"
