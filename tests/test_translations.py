"""The studio speaks French: the catalogs cover every string the code shows, the language follows
the browser, and a user's own choice wins over it."""

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from generation.providers import connections
from generation.spend.selectors import Period
from projects.characters import consent
from projects.management.commands import translations
from projects.models import CharacterKind, UserPreference
from tests.factories import photo
from tests.french import ENGLISH_BROWSER, FRENCH_BROWSER, visible_text


@pytest.fixture(autouse=True)
def _back_to_the_default_language():
    # A French request leaves French active in this thread; the next test must not inherit it.
    yield
    translation.deactivate()


def test_every_string_the_code_shows_has_a_french_translation():
    """Extracts the strings from the code as it is now (a string another branch adds shows here),
    and finds each in locale/fr with a translation that is neither empty nor fuzzy, compiled."""
    assert translations.problems("fr") == []


@pytest.mark.parametrize("domain", translations.DOMAINS)
def test_french_punctuation_is_held_to_its_word_by_a_no_break_space(domain):
    """French sets a space before : ; ? ! » and after «; an ordinary one lets a line break strand the colon or the
    question mark at the start of the next line, as no French page would."""
    stranded = [text for entry in translations.read_po(translations.catalog_path("fr", domain))
                for text in entry["msgstr"] if re.search(r" [:;?!»]|« ", text)]
    assert stranded == []


def test_the_extraction_finds_a_string_a_new_template_adds(tmp_path, settings):
    root = tmp_path / "src"
    (root / "templates").mkdir(parents=True)
    (root / "templates" / "new.html").write_text(
        '{% load i18n %}<p>{% translate "A sentence nobody has translated yet" %}</p>')
    for name in translations.SOURCES:
        (root / name).mkdir(exist_ok=True)
    settings.BASE_DIR = root
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    extracted = translations.extract("fr", scratch)
    assert (None, "A sentence nobody has translated yet", None) in extracted["django"]


def test_it_reads_fuzzy_and_empty_entries_as_untranslated(tmp_path):
    po = tmp_path / "django.po"
    po.write_text('msgid ""\nmsgstr "Language: fr\\n"\n\n#, fuzzy\nmsgid "Approve"\nmsgstr "Approuver"\n\n'
                  'msgid "Scenes"\nmsgstr ""\n\nmsgid "%(n)s take"\nmsgid_plural "%(n)s takes"\n'
                  'msgstr[0] "%(n)s prise"\nmsgstr[1] "%(n)s prises"\n', encoding="utf-8")
    entries = {e["msgid"]: e for e in translations.read_po(po)}
    assert "fuzzy" in entries["Approve"]["flags"]
    assert entries["Scenes"]["msgstr"] == [""]
    assert entries["%(n)s take"]["msgstr"] == ["%(n)s prise", "%(n)s prises"]


@pytest.mark.django_db
def test_a_french_browser_gets_the_login_page_in_french(client):
    page = client.get(reverse("login"), **FRENCH_BROWSER)
    assert page["Content-Language"] == "fr"
    html = page.content.decode()
    assert '<html lang="fr"' in html and "Mot de passe" in html


@pytest.mark.django_db
def test_an_english_browser_gets_english(client):
    html = client.get(reverse("login"), **ENGLISH_BROWSER).content.decode()
    assert '<html lang="en"' in html and "Password" in html


def test_a_user_who_chose_english_sees_english_in_a_french_browser(client_for, editor, project):
    UserPreference.objects.create(user=editor, language="en")
    html = client_for(editor).get(reverse("projects:project_detail", args=[project.pk]), **FRENCH_BROWSER)
    assert html["Content-Language"] == "en"
    assert '<html lang="en"' in html.content.decode()


def test_a_user_who_chose_french_sees_french_in_an_english_browser(client_for, editor, project):
    UserPreference.objects.create(user=editor, language="fr")
    page = client_for(editor).get(reverse("projects:project_detail", args=[project.pk]), **ENGLISH_BROWSER)
    assert page["Content-Language"] == "fr"
    assert '<html lang="fr"' in page.content.decode()


def test_choosing_a_language_on_the_settings_page_switches_at_once_and_is_kept(client_for, editor):
    client = client_for(editor)
    url = reverse("projects:notification_settings")
    answer = client.post(url, {"language": "fr", "mentions": "on"}, follow=True, **ENGLISH_BROWSER)
    html = answer.content.decode()
    assert "Réglages enregistrés." in html and '<html lang="fr"' in html
    assert UserPreference.objects.get(user=editor).language == "fr"
    # A new session (another browser) finds the choice on the account, not only in the old session.
    client.logout()
    again = client_for(editor).get(url, **ENGLISH_BROWSER)
    assert again["Content-Language"] == "fr"


def test_following_the_browser_again_forgets_the_choice(client_for, editor):
    UserPreference.objects.create(user=editor, language="fr")
    client = client_for(editor)
    url = reverse("projects:notification_settings")
    client.post(url, {"language": ""}, **ENGLISH_BROWSER)
    assert UserPreference.objects.get(user=editor).language == ""
    assert client.get(url, **ENGLISH_BROWSER)["Content-Language"] == "en"


def test_it_refuses_a_language_it_does_not_speak_with_a_message(client_for, editor):
    client = client_for(editor)
    answer = client.post(reverse("projects:notification_settings"), {"language": "xx"}, **ENGLISH_BROWSER)
    assert answer.status_code == 200
    assert "Select a valid choice" in answer.content.decode()
    assert not UserPreference.objects.filter(user=editor, language="xx").exists()


def test_the_javascript_catalog_speaks_the_pages_language(client_for, editor):
    client = client_for(editor)
    french = client.get(reverse("javascript_catalog"), **FRENCH_BROWSER).content.decode()
    assert "Dessiner sur l\\u2019image" in french or "Dessiner sur l’image" in french
    english = client.get(reverse("javascript_catalog"), **ENGLISH_BROWSER).content.decode()
    assert "Dessiner" not in english


def test_the_page_loads_the_catalog_from_the_studio_itself(client_for, editor, project):
    html = client_for(editor).get(reverse("projects:project_detail", args=[project.pk])).content.decode()
    assert f'<script src="{reverse("javascript_catalog")}"></script>' in html
    assert 'src="http' not in html and 'src="//' not in html


def test_the_scripts_show_no_sentence_outside_gettext():
    """Every sentence a person reads in static/studio/*.js goes through the catalog: a quoted
    English phrase handed to textContent, a title or a placeholder is a slip."""
    slips = []
    for script in sorted((Path(__file__).resolve().parent.parent / "static" / "studio").glob("*.js")):
        for number, line in enumerate(script.read_text().splitlines(), 1):
            code = line.split("//")[0]
            for marker in ('textContent = "', '"title": "', '"aria-label": "', '"placeholder": "'):
                at = code.find(marker)
                if at >= 0 and code[at + len(marker):at + len(marker) + 1].isalpha():
                    slips.append(f"{script.name}:{number}: {line.strip()}")
    assert slips == []


# --- The main pages, read by a French browser ------------------------------------------------------

# The most visible English words of the interface: none may show on a page a French browser reads.
ENGLISH_UI_WORDS = ("Render", "Approve", "Comments", "Scenes", "Review", "Take",
                    "Add a scene", "Request changes", "Decisions", "Log out", "Characters", "Spend")


def english_left(text: str) -> list[str]:
    return [word for word in ENGLISH_UI_WORDS if re.search(rf"\b{re.escape(word)}\b", text)]


@pytest.fixture
def french_world(project, make_scene, finished_take, owner, editor, reviewer):
    # The project's own words are French, as a French crew writes them: only the interface is checked.
    project.name = "Tempête au port"
    project.save(update_fields=["name"])
    first = make_scene(title="Le quai", prompt="Un chalutier rentre au port sous la pluie")
    make_scene(title="La criée", prompt="Les mareyeurs crient les prix")
    take = finished_take(first)
    client = Client()
    client.force_login(reviewer)
    client.post(reverse("projects:comment_create", args=[take.pk]), {"body": "Plus de pluie ici", "at": "0.5"})
    return {"project": project, "scene": first, "take": take}


@pytest.mark.parametrize("page", ["board", "panel", "review", "projects", "settings"])
def test_a_french_browser_reads_the_main_pages_in_french(client_for, owner, french_world, page):
    world = french_world
    url = {
        "board": reverse("projects:project_detail", args=[world["project"].pk]),
        "panel": reverse("projects:scene_panel", args=[world["project"].pk, world["scene"].pk]),
        "review": reverse("projects:take_review", args=[world["take"].pk]),
        "projects": reverse("projects:project_list"),
        "settings": reverse("projects:notification_settings"),
    }[page]
    answer = client_for(owner).get(url, **FRENCH_BROWSER)
    assert answer.status_code == 200
    text = visible_text(answer.content.decode())
    assert english_left(text) == []
    french = {"board": "Ajouter une scène", "panel": "Générer une prise", "review": "Demander des modifications",
              "projects": "Nouveau projet", "settings": "Notifications par e-mail"}[page]
    assert french in text


def test_the_board_writes_money_as_french_does(client_for, owner, french_world):
    project = french_world["project"]
    project.budget = Decimal("1234.5")
    project.save(update_fields=["budget"])
    text = visible_text(client_for(owner).get(reverse("projects:project_detail", args=[project.pk]),
                                              **FRENCH_BROWSER).content.decode())
    assert "1234,50\u00a0$" in text
    english = visible_text(client_for(owner).get(reverse("projects:project_detail", args=[project.pk]),
                                                 **ENGLISH_BROWSER).content.decode())
    assert "$1234.50" in english


def test_a_user_who_chose_english_reads_the_review_page_in_english(client_for, reviewer, french_world):
    UserPreference.objects.create(user=reviewer, language="en")
    html = client_for(reviewer).get(reverse("projects:take_review", args=[french_world["take"].pk]),
                                    **FRENCH_BROWSER).content.decode()
    text = visible_text(html)
    assert "Request changes" in text and "Demander des modifications" not in text


# What the team's pages said in English before they were translated: none of it may reach a French browser.
TEAM_PAGES_ENGLISH = {
    "characters": ("Reusable looks for your scenes", "Name or description", "Real person", "Fictional",
                   "New character", "Who is this?", "Add character", "Recorded in the character's log",
                   "The person (their own account)", "Reference images (1 to 4)", "Reference video (optional)",
                   "I declare this character depicts no real person", "Looks, wardrobe, manner",
                   "A real person (their likeness)", "Name"),
    "likeness": ("My likeness", "Characters that depict you", "In Équipage du port"),
    "members": ("Member", "Change role", "Remove", "no cap", "Save cap", "Monthly budget", "committed in",
                "no monthly limit", "Paid takes that would spend", "Team monthly budget (US$)", "Save team budget",
                "AI training", "Takes are signed without", "Refuse AI training of new takes", "Invite someone",
                "Role of", "Monthly cap of", "Role"),
}
TEAM_PAGES_FRENCH = {
    "characters": ("Nouveau personnage", "Personne réelle", "Ajouter le personnage", "Images de référence (1 à 4)",
                   "Une personne réelle (son image)", "Nom"),
    "likeness": ("Mon image", "Dans Équipage du port"),
    "members": ("Changer le rôle", "Budget mensuel", "Enregistrer le budget de l’équipe", "Inviter quelqu’un",
                "Entraînement d’IA", "Rôle"),
}


@pytest.mark.parametrize("page", ["characters", "likeness", "members"])
def test_a_french_browser_reads_the_team_pages_in_french(client_for, owner, project, page):
    team = project.team
    team.name = "Équipage du port"
    team.save(update_fields=["name"])
    consent.character_create(team=team, user=owner, name="Capitaine", kind=CharacterKind.PERSON, person=owner,
                             description="ciré jaune", images=[photo()])
    url = {"characters": reverse("projects:character_list", args=[team.pk]),
           "likeness": reverse("projects:my_likeness"),
           "members": reverse("projects:team_members", args=[team.pk])}[page]
    answer = client_for(owner).get(url, **FRENCH_BROWSER)
    assert answer.status_code == 200
    text = visible_text(answer.content.decode())
    assert [english for english in TEAM_PAGES_ENGLISH[page] if english in text] == []
    assert english_left(text) == []
    for french in TEAM_PAGES_FRENCH[page]:
        assert french in text


def test_the_team_members_page_writes_the_month_and_the_budget_as_french_does(client_for, owner, project):
    team = project.team
    team.monthly_budget = Decimal("1500")
    team.save(update_fields=["monthly_budget"])
    text = visible_text(client_for(owner).get(reverse("projects:team_members", args=[team.pk]),
                                              **FRENCH_BROWSER).content.decode())
    assert "1500,00\u00a0$" in text and "budget mensuel de l’équipe" in text


def test_a_french_owner_is_told_in_french_what_a_team_setting_did(client_for, owner, project):
    team = project.team
    answer = client_for(owner).post(reverse("projects:team_budget", args=[team.pk]), {"monthly_budget": "250"},
                                    follow=True, **FRENCH_BROWSER)
    text = visible_text(answer.content.decode())
    assert "Budget mensuel de l’équipe fixé à 250,00\u00a0$." in text
    answer = client_for(owner).post(reverse("projects:team_budget", args=[team.pk]), {"monthly_budget": "-1"},
                                    follow=True, **FRENCH_BROWSER)
    assert "Un budget ne peut pas être négatif." in visible_text(answer.content.decode())


def test_consent_refusals_speak_french_to_a_french_reader(team, editor):
    with translation.override("fr"), pytest.raises(ValidationError, match="Ajoutez de 1 à 4 images de référence"):
        consent.character_create(team=team, user=editor, name="Mara", kind=CharacterKind.FICTIONAL, images=[],
                                 declares_fictional=True)


def test_a_spend_period_names_its_month_as_french_does():
    with translation.override("fr"):
        assert Period(date(2026, 12, 1), date(2026, 12, 31)).label == "décembre 2026"
        assert Period(date(2026, 12, 3), date(2026, 12, 9)).label == "3 Déc 2026 – 9 Déc 2026"
    with translation.override("en"):
        assert Period(date(2026, 12, 1), date(2026, 12, 31)).label == "December 2026"


def test_a_guest_links_scope_and_an_exports_layout_read_in_french(client_for, owner, project):
    page = client_for(owner).get(reverse("projects:review_links", args=[project.pk]), **FRENCH_BROWSER).content.decode()
    assert "Scènes sélectionnées" in page and "Le montage approuvé" in page and "Selected scenes" not in page
    page = client_for(owner).get(reverse("generation:export_list", args=[project.pk]), **FRENCH_BROWSER).content.decode()
    assert "Grille de 6 images par page" in page and "Grid of 6 frames" not in page


# --- Messages built in Python reach the page in French ------------------------------------------


def test_a_french_reviewer_is_told_in_french_that_a_timecode_is_past_the_takes_end(client_for, reviewer,
                                                                                  french_world):
    take = french_world["take"]
    page = client_for(reviewer).post(reverse("projects:comment_create", args=[take.pk]),
                                     {"body": "Trop tard", "at": "99"}, **FRENCH_BROWSER)
    assert page.status_code == 422
    text = visible_text(page.content.decode())
    length = f"{take.duration_seconds:.1f}".replace(".", ",")  # French writes a decimal comma
    assert f"La prise ne dure que {length} s\u00a0; ce timecode est après sa fin." in text
    assert "Trop tard" in page.content.decode()  # what the reviewer typed is kept


def test_a_french_owner_is_told_in_french_why_an_uploaded_file_is_no_comfyui_workflow(client_for, owner, team):
    comfy = connections.connection_create(team=team, user=owner, kind="comfyui", label="GPU du studio",
                                          base_url="http://192.168.1.20:8188")
    page = client_for(owner).post(reverse("generation:workflow_upload", args=[team.pk, comfy.pk]),
                                  {"name": "LTX", "file": SimpleUploadedFile("w.json", b"pas du json", "application/json")},
                                  **FRENCH_BROWSER)
    text = visible_text(page.content.decode())
    # The sentence and the how-to it carries are both French.
    assert ("Ce fichier n’est pas du JSON, ce n’est donc pas un workflow ComfyUI. Dans ComfyUI, ouvrez le workflow"
            in text)


def test_a_french_owner_is_told_in_french_which_line_of_a_usage_export_is_wrong(client_for, owner, team):
    answer = client_for(owner).post(
        reverse("generation:reconciliation_list", args=[team.pk]),
        {"provider": "fal", "start": "2026-11-01", "end": "2026-11-30",
         "pasted": "job_id,model,billed_usd\np-1,m\n"}, **FRENCH_BROWSER)
    assert answer.status_code == 400
    text = visible_text(answer.content.decode())
    assert "Ligne 2\u00a0: 2 colonnes alors que l’en-tête en a 3." in text
    assert "Export de consommation (CSV)" in text  # the form around it speaks French too


def test_a_french_editor_is_told_in_french_that_a_finished_take_cannot_be_canceled(client_for, editor, make_scene,
                                                                                   finished_take):
    take = finished_take(make_scene(title="Le quai"))
    html = client_for(editor).post(reverse("generation:render_cancel", args=[take.pk]), HTTP_HX_REQUEST="true",
                                   **FRENCH_BROWSER).content.decode()
    assert "Cette prise est déjà terminée." in visible_text(html)


def test_a_french_editor_is_told_in_french_which_line_of_a_script_is_left_open(client_for, editor, project):
    script = b"Title: Le port\n\nINT. QUAI - NUIT\n\nMARIE\nOn y va.\n\n[[ une note jamais fermee\n"
    answer = client_for(editor).post(
        reverse("projects:script_upload", args=[project.pk]),
        {"split": "heading", "script": SimpleUploadedFile("port.fountain", script, "application/octet-stream")},
        **FRENCH_BROWSER)
    assert answer.status_code == 400
    assert ("Ligne 8\u00a0: une note ouverte par [[ n’est jamais fermée (ajoutez ]])."
            in visible_text(answer.content.decode()))


def test_a_french_owner_is_told_in_french_how_long_a_guest_link_may_last(client_for, owner, project, scene):
    answer = client_for(owner).post(reverse("projects:review_links", args=[project.pk]),
                                    {"label": "Client", "scope": "cut", "days": "91", "password": ""},
                                    **FRENCH_BROWSER)
    assert "Un lien dure entre 1 et 90 jours." in visible_text(answer.content.decode())


def test_a_french_viewer_is_told_in_french_they_cannot_open_a_review_room(client_for, viewer, make_scene,
                                                                         finished_take):
    take = finished_take(make_scene(title="Le quai"))
    answer = client_for(viewer).post(reverse("projects:room_open", args=[take.pk]), **FRENCH_BROWSER)
    assert answer.status_code == 403
    assert "Les lecteurs peuvent rejoindre une salle, pas en ouvrir une." in visible_text(answer.content.decode())


def test_a_french_editor_reads_the_render_scenes_choices_in_french(client_for, editor, project, make_scene):
    make_scene(title="Le quai")
    text = visible_text(client_for(editor).get(reverse("generation:batch_render", args=[project.pk]),
                                               **FRENCH_BROWSER).content.decode())
    assert "Scènes sans prise approuvée" in text and "Scènes encore sans prise" in text


def test_a_french_owner_is_told_in_french_that_a_model_id_was_retired(client_for, owner, team):
    gateway = connections.connection_create(team=team, user=owner, kind="openai-videos", label="Passerelle",
                                            base_url="http://127.0.0.1:9/v1", api_key="sk-test")
    answer = client_for(owner).post(
        reverse("generation:model_register", args=[team.pk, gateway.pk]),
        {"model_id": "sora-2-pro", "sizes": "1280x720", "durations": "4", "price_per_second": "0.3"},
        follow=True, **FRENCH_BROWSER)
    assert ("«\u00a0sora-2-pro\u00a0» est Sora 2 Pro, retiré le 2026-09-24\u00a0: une passerelle ne peut plus le générer."
            in visible_text(answer.content.decode()))


def test_a_french_owner_is_told_in_french_that_a_team_keeps_an_owner(client_for, owner, team):
    membership = team.memberships.get(user=owner)
    answer = client_for(owner).post(reverse("projects:member_update", args=[team.pk, membership.pk]),
                                    {"role": "viewer"}, follow=True, **FRENCH_BROWSER)
    assert "Une équipe a besoin d’au moins un propriétaire." in visible_text(answer.content.decode())


def test_a_french_viewer_is_told_in_french_they_cannot_comment(client_for, viewer, make_scene, finished_take):
    take = finished_take(make_scene(title="Le quai"))
    answer = client_for(viewer).post(reverse("projects:comment_create", args=[take.pk]), {"body": "Bonjour"},
                                     **FRENCH_BROWSER)
    assert answer.status_code == 403
    assert "Les lecteurs peuvent regarder, mais pas commenter." in visible_text(answer.content.decode())


def test_a_french_reader_sees_a_decisions_note_set_apart_as_french_does(client_for, owner, reviewer, french_world):
    take = french_world["take"]
    client_for(reviewer).post(reverse("projects:take_decide", args=[take.pk]),
                              {"decision": "approve", "note": "Parfait"})

    french = client_for(owner).get(reverse("projects:take_review", args=[take.pk]), **FRENCH_BROWSER).content.decode()
    english = client_for(owner).get(reverse("projects:take_review", args=[take.pk])).content.decode()

    assert "<strong>Approuvée</strong>\u00a0: prise 1 par rita" in french
    assert "</time>\u00a0: «\u00a0Parfait\u00a0»" in french
    assert "<strong>Approved</strong>: take 1 by rita" in english and "</time>: “Parfait”" in english


def test_the_built_in_providers_and_the_gateways_names_read_in_the_readers_language():
    from generation.providers import facts_for

    local, gateway = facts_for("local"), facts_for("openai-videos")
    assert local is not None and gateway is not None
    sentence = "%(provider)s requests carry no shot list."
    with translation.override("fr"):
        assert gettext(sentence) % {"provider": local.title} == "La prévisualisation locale\u00a0: ses requêtes ne transmettent pas de liste de plans."
        assert str(gateway.title) == "La passerelle"
    assert gettext(sentence) % {"provider": local.title} == "The local previz requests carry no shot list."
