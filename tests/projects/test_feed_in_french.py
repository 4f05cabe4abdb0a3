"""The activity feed is written as codes when things happen and read in each reader's language: a French
reader sees a teammate's English-session comment, approval or a worker's finished take in French, an
English reader in English, and lines stored before the codes as they were stored."""

import re
import uuid

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation

from generation.renders import services as renders
from projects.models import Activity, UserPreference
from projects.review import services as review
from tests.test_translations import ENGLISH_BROWSER, FRENCH_BROWSER, visible_text


@pytest.fixture(autouse=True)
def _back_to_the_default_language():
    yield
    translation.deactivate()


def feed(client, project, browser) -> str:
    return visible_text(client.get(reverse("projects:project_activity", args=[project.pk]), **browser)
                        .content.decode())


def test_a_french_reader_reads_the_feed_in_french_and_an_english_reader_in_english(
        client_for, owner, reviewer, project, make_scene, finished_take):
    scene = make_scene(title="Le quai")
    take = finished_take(scene)
    with translation.override("en"):  # the teammate's own session speaks English
        review.comment_add(take=take, author=reviewer, body="Plus de pluie", at=0.5)
        review.take_approve(take=take, user=owner)

    french = feed(client_for(owner), project, FRENCH_BROWSER)
    assert f"a commenté Le quai, prise {take.number}, à " in french and "Plus de pluie" in french
    assert "a ajouté la scène 1, Le quai" in french and f"a approuvé Le quai, prise {take.number}" in french
    assert "commented on" not in french and "added scene" not in french
    english = feed(client_for(owner), project, ENGLISH_BROWSER)
    assert f"commented on Le quai take {take.number} at " in english and "added scene 1, Le quai" in english
    assert f"approved Le quai take {take.number}" in english
    # Kept in English for whatever reads the text itself (logs, exports).
    assert Activity.objects.filter(text__startswith="added scene 1, Le quai").exists()


def test_a_line_stored_before_the_codes_shows_as_it_was_stored(client_for, owner, project):
    Activity.objects.create(project=project, kind="scene_edited", actor=owner, text="did something long ago")
    assert "did something long ago" in feed(client_for(owner), project, FRENCH_BROWSER)


def test_a_french_authors_render_digest_names_their_takes_in_french(
        owner, make_scene, priced_gateway, settings, django_capture_on_commit_callbacks, monkeypatch):
    from generation.tasks import submit_render

    monkeypatch.setattr(submit_render, "delay_on_commit", lambda *a: None)
    UserPreference.objects.create(user=owner, language="fr")
    settings.RENDER_DIGEST_SECONDS = 0
    scene = make_scene(title="Le quai", duration=4)
    take, _ = renders.render_create(scene=scene, user=owner, connection=priced_gateway, model_id="wan-2.7",
                                    idempotency_key=uuid.uuid4())
    with django_capture_on_commit_callbacks(execute=True):
        take.refresh_from_db()
        take.advance("failed", error_message="")  # a worker settles it: nobody's language is active

    [digest] = [m for m in mail.outbox if m.to == [owner.email]]
    # A title never follows « de » bare (« prise 1 de Le quai »): it is the scene's name, in quotes.
    assert f"prise {take.number} de la scène «\u00a0Le quai\u00a0» en échec" in digest.body
    assert "failed" not in digest.body


def test_the_trash_and_the_cut_tell_the_feed_in_the_readers_language(client_for, owner, editor, project, make_scene):
    from projects.storyboard import services as storyboard
    from projects.storyboard import trash

    first, second, third = (make_scene(title=title) for title in ("Le quai", "La criée", "Le phare"))
    with translation.override("en"):
        trashed = trash.scene_bulk_trash(project=project, scene_ids=[second.pk, third.pk], user=editor)
        trash.trash_undo(project=project, batch=trashed.batch, user=editor)
        storyboard.scene_set_in_cut(scene=first, user=editor, in_cut=False)

    french = feed(client_for(owner), project, FRENCH_BROWSER)
    assert "a supprimé 2 scènes\u00a0: La criée, Le phare" in french
    assert "a restauré depuis la corbeille\u00a0: 2. La criée, 3. Le phare" in french
    assert "a laissé Le quai hors du montage" in french
    assert "deleted 2 scenes" not in french and "out of the cut" not in french


def test_scene_and_project_field_edits_tell_the_feed_in_the_readers_language(
        client_for, owner, editor, project, make_scene):
    from projects.storyboard import fields
    from projects.storyboard import services as storyboard

    scene = make_scene(title="Le quai")
    with translation.override("en"):  # the editor's own session speaks English
        storyboard.scene_update(scene=scene, expected_version=scene.version, user=editor, title="Le quai, nuit",
                                prompt="La pluie tombe sur le quai.", camera_notes="Plan large")
        lens = fields.field_create(project=project, user=owner, name="Objectif", kind="text")
        fields.field_update(field=lens, user=owner, name="Focale")

    french = feed(client_for(owner), project, FRENCH_BROWSER)
    assert "a modifié Le quai, nuit\u00a0: titre, prompt, notes de caméra" in french
    assert "a ajouté le champ Objectif" in french and "a renommé le champ Objectif en Focale" in french
    assert "edited" not in french and "the field" not in french
    english = feed(client_for(owner), project, ENGLISH_BROWSER)
    assert "edited Le quai, nuit: title, prompt, camera notes" in english
    assert "renamed the field Objectif to Focale" in english
    # Kept in English for whatever reads the text itself (logs, exports).
    assert Activity.objects.filter(text="edited Le quai, nuit: title, prompt, camera notes").exists()


def test_reorders_and_restores_tell_the_feed_in_the_readers_language(client_for, owner, editor, project, make_scene):
    from projects.storyboard import restore
    from projects.storyboard import services as storyboard

    first, second = make_scene(title="Le quai"), make_scene(title="La criée")
    with translation.override("en"):
        storyboard.scene_reorder(project=project, scene_ids=[second.pk, first.pk], user=editor)
        revision = project.revisions.order_by("number").first()
        restore.revision_restore(revision=revision, user=editor)

    french = feed(client_for(owner), project, FRENCH_BROWSER)
    assert "a réordonné les scènes\u00a0: 1. La criée, 2. Le quai" in french
    assert f"a restauré la révision {revision.number}" in french
    assert "reordered" not in french and "restored revision" not in french
    english = feed(client_for(owner), project, ENGLISH_BROWSER)
    assert "reordered the scenes: 1. La criée, 2. Le quai" in english
    # The revision keeps its English summary (the revisions page, exports), as before.
    assert project.revisions.filter(summary="reordered the scenes: 1. La criée, 2. Le quai").exists()


def _accept_a_cut(project, user, name: str, scenes) -> None:
    from generation.exports import cut_import as cuts
    from generation.models import CutImport, CutImportStatus

    changes = [{"id": f"drop:{s.pk}", "kind": "drop", "scene": s.pk} for s in scenes]
    made = CutImport.objects.create(project=project, created_by=user, upload="cut-imports/x.timeline",
                                    filename="cut.otio", timeline_name=name, status=CutImportStatus.READY,
                                    diff={"changes": changes})
    with translation.override("en"):  # the editor's own session speaks English
        cuts.cut_import_accept(cut_import=made, user=user, change_ids=[c["id"] for c in changes])


def test_an_accepted_editors_cut_reads_as_a_sentence_after_the_name_with_its_plural(
        client_for, owner, editor, project, make_scene):
    first, second, third, fourth = (make_scene(title=t) for t in ("Le quai", "La criée", "Le phare", "La digue"))
    _accept_a_cut(project, editor, "Final v1", [first])
    _accept_a_cut(project, editor, "Final v2", [second, third, fourth])

    def one_line(text: str) -> str:  # the name and its line, as read (a no-break space stays one)
        return re.sub(r"[ \n]+", " ", text)

    french = one_line(feed(client_for(owner), project, FRENCH_BROWSER))
    assert f"{editor.get_username()} a accepté 1 modification du montage «\u00a0Final v1\u00a0»" in french
    assert f"{editor.get_username()} a accepté 3 modifications du montage «\u00a0Final v2\u00a0»" in french
    assert "Montage du monteur «" not in french and "modifications acceptées" not in french
    english = one_line(feed(client_for(owner), project, ENGLISH_BROWSER))
    assert f"{editor.get_username()} accepted 1 change from the editor's cut “Final v1”" in english
    assert f"{editor.get_username()} accepted 3 changes from the editor's cut “Final v2”" in english


def test_every_line_of_the_feed_follows_a_name_in_both_languages():
    """Each feed line is read after who did it ("marie a supprimé…"): a line that starts as a title of its
    own ("Editor's cut “Final”: …") or with a capital reads as two pieces. The render lines follow "studio"
    (a worker's), and the retirement notice stands alone (from the studio, about a model)."""
    import re

    from generation.words import WORDS

    class Anything(dict):
        def __missing__(self, name):
            return "3"

    standalone = {"feed.render_finished", "feed.render_failed", "feed.render_failed_why", "feed.render_unconfirmed",
                  "feed.model_retiring", "feed.with_cast"}
    for key, words in WORDS.items():
        if not key.startswith("feed.") or key in standalone:
            continue
        for language, verb in (("en", r"^[a-z]+ed\b|^put\b|^set\b|^left\b|^reordered\b"), ("fr", r"^a [a-zé]+\b")):
            for count in (1, 3):
                with translation.override(language):
                    line = str(words % Anything(count=count))
                assert re.match(verb, line), f"{key} ({language}, {count}): {line}"
