"""Characters: the team's library, a character's page with its consent, and a person's own likenesses.

The library and a character's page are scoped to the team, like everything
else, with one exception: the person a character depicts may always open it
and revoke, even after leaving the team. Consent itself changes only through
projects.characters.consent, which checks that the user is that person.
"""


from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_http_methods, require_POST

from generation.sound import speech
from generation.storage.files import file_response
from projects import selectors
from projects.access import get_character_for, membership_for, require
from projects.characters import consent
from projects.characters.consent import voice_problem
from projects.characters.forms import CharacterForm, ConsentForm
from projects.htmx import wants_fragment
from projects.inputs import search_problem
from projects.models import Character, CharacterImage
from projects.storyboard.sound.forms import CharacterVoiceForm, SoundFileForm

LIBRARY = "projects/characters/character_list.html"
DETAIL = "projects/characters/character_detail.html"
LIKENESS = "projects/characters/my_likeness.html"


@login_required
@require_http_methods(["GET", "POST"])
def character_list(request, team_pk):
    membership = membership_for(request.user, team_pk)
    team = membership.team
    form = CharacterForm(request.POST or None, request.FILES or None, team=team)
    if request.method == "POST":
        require(membership, "edit")
        if form.is_valid():
            try:
                character = consent.character_create(team=team, user=request.user, **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, gettext("Added %(name)s to the library.") % {"name": character.name})
                return redirect("projects:character_detail", pk=character.pk)
    query = request.GET.get("q", "").strip()
    if problem := search_problem(query):  # SQLite finds a long LIKE pattern "too complex": say so, don't crash
        return render(request, "bad_request.html", {"reason": problem}, status=400)
    characters = team.characters.all()
    if query:
        characters = characters.filter(Q(name__icontains=query) | Q(description__icontains=query))
    context = {"team": team, "membership": membership, "form": form, "query": query,
               "characters": selectors.consent_rows(characters)}
    if wants_fragment(request):
        return render(request, LIBRARY + "#character-grid", context)
    return render(request, LIBRARY, context, status=400 if form.errors else 200)


def _detail_context(character, membership, user, **extra):
    page = selectors.character_page_for(character=character)
    active = page.active
    context = {
        "character": character, "membership": membership, "active": active,
        "is_me": character.is_person and character.person_id == user.pk,
        "events": page.events, "scenes": page.scenes, "takes": page.takes, "withheld": page.withheld,
        **extra,
    }
    context.setdefault("voice_form", CharacterVoiceForm(initial={
        "voice": character.voice, "rate": character.voice_rate, "pitch": character.voice_pitch}))
    context.setdefault("sample_form", SoundFileForm())
    context["voice_label"] = (speech.voice_label(character.voice) if character.voice
                              else gettext("a default voice for the name, in each project's language"))
    context["voice_withheld"] = voice_problem(character) if character.is_person else None
    context["may_edit_voice"] = context["is_me"] or (membership is not None and membership.can_edit)
    if context["is_me"] and membership is not None and "consent_form" not in extra:
        initial = {}
        if active is not None:
            initial = {"scope": active.scope, "projects": list(active.projects.all()),
                       "providers": active.providers, "covers_voice": active.covers_voice,
                       "expires_on": timezone.localdate(active.expires_at) if active.expires_at else None}
        context["consent_form"] = ConsentForm(team=character.team, initial=initial)
    return context


@login_required
def character_detail(request, pk):
    character, membership = get_character_for(request.user, pk, queryset=selectors.characters_with_consent(Character.objects))
    return render(request, DETAIL, _detail_context(character, membership, request.user))


@login_required
def character_image(request, pk, image_pk):
    character, _ = get_character_for(request.user, pk, queryset=selectors.characters_with_consent(Character.objects))
    image = get_object_or_404(CharacterImage, pk=image_pk, character=character)
    return file_response(request, image.image)


@login_required
@require_POST
def character_consent(request, pk):
    character, membership = get_character_for(request.user, pk, queryset=selectors.characters_with_consent(Character.objects))
    if not character.is_person or character.person_id != request.user.pk:
        raise PermissionDenied(gettext("Only the person this character depicts can grant consent."))
    if membership is None:
        # Granting would show them the projects of a team they are no longer in.
        raise PermissionDenied(gettext("You left this team: you can still revoke, but not grant."))
    form = ConsentForm(request.POST, team=character.team)
    if form.is_valid():
        try:
            consent.consent_grant(character=character, user=request.user, scope=form.cleaned_data["scope"],
                                  projects=list(form.cleaned_data["projects"]),
                                  providers=form.cleaned_data["providers"], expires_at=form.expires_at,
                                  covers_voice=form.cleaned_data["covers_voice"])
        except ValidationError as exc:
            form.add_error(None, exc)
    if form.errors:
        context = _detail_context(character, membership, request.user, consent_form=form)
        if wants_fragment(request):
            return render(request, DETAIL + "#character-body", context)
        return render(request, DETAIL, context, status=400)
    return _after_consent_change(request, character, membership, "Consent saved.")


@login_required
@require_POST
def character_revoke(request, pk):
    # Authorised by who the character depicts, not by membership: a person who
    # left the team can still withdraw their likeness.
    character, membership = get_character_for(request.user, pk, queryset=selectors.characters_with_consent(Character.objects))
    if not character.is_person or character.person_id != request.user.pk:
        raise PermissionDenied(gettext("Only the person this character depicts can revoke consent."))
    withheld = consent.consent_revoke(character=character, user=request.user,
                                      delete_files=request.POST.get("delete_files") == "on")
    notice = ngettext("Consent revoked. %(count)d take withheld.", "Consent revoked. %(count)d takes withheld.",
                      withheld) % {"count": withheld}
    if request.POST.get("return_to") == "likeness":
        if wants_fragment(request):
            row = selectors.consent_rows(Character.objects.filter(pk=character.pk))[0]
            row.still_member = membership is not None
            return render(request, LIKENESS + "#likeness-row", {"character": row, "notice": notice})
        messages.success(request, notice)
        return redirect("projects:my_likeness")
    return _after_consent_change(request, character, membership, notice)


def _after_consent_change(request, character, membership, notice):
    if wants_fragment(request):
        character = selectors.characters_with_consent(Character.objects).get(pk=character.pk)
        context = _detail_context(character, membership, request.user, notice=notice)
        return render(request, DETAIL + "#character-body", context)
    messages.success(request, notice)
    return redirect("projects:character_detail", pk=character.pk)


@login_required
def my_likeness(request):
    # Not scoped by membership on purpose: these are the user's own likenesses,
    # in every team, including teams they have left.
    return render(request, LIKENESS, {"characters": selectors.likenesses_for(user=request.user)})
