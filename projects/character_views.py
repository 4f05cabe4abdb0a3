"""Characters: the team's library, a character's page with its consent, and a person's own likenesses.

The library and a character's page are scoped to the team, like everything
else, with one exception: the person a character depicts may always open it
and revoke, even after leaving the team. Consent itself changes only through
projects.consent, which checks that the user is that person.
"""

from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from generation.storage.files import file_response
from projects import consent
from projects.access import membership_for, require
from projects.forms import CharacterForm, ConsentForm
from projects.inputs import MAX_SEARCH
from projects.models import Character, CharacterImage, ConsentAction, ConsentEvent, ConsentScope, Membership, Team

LIBRARY = "projects/characters/character_list.html"
DETAIL = "projects/characters/character_detail.html"
LIKENESS = "projects/characters/my_likeness.html"


def _with_consent_data(characters):
    declarations = ConsentEvent.objects.filter(action=ConsentAction.DECLARED_FICTIONAL).select_related("actor")
    return characters.select_related("team", "person", "created_by").prefetch_related(
        "images", "grants__projects", Prefetch("consent_events", queryset=declarations, to_attr="declarations"),
    )


def consent_state(character, now=None) -> tuple[str, str]:
    """(key, words) describing a character's consent, from prefetched grants."""
    if not character.is_person:
        declared = character.declarations[0].actor if getattr(character, "declarations", None) else None
        who = declared or character.created_by
        return "fictional", f"Fictional — declared by {who.get_username() if who else 'a former user'}"
    grants = list(character.grants.all())  # newest first
    active = next((g for g in grants if g.revoked_at is None), None)
    if active is None:
        return ("revoked", "Consent revoked") if grants else ("none", "No consent yet")
    now = now or timezone.now()
    if active.expires_at and active.expires_at <= now:
        return "expired", f"Consent expired on {timezone.localtime(active.expires_at):%-d %b %Y}"
    if active.scope == ConsentScope.TEAM:
        where = "whole team"
    else:
        count = len(active.projects.all())
        where = f"{count} project{'s' if count != 1 else ''}"
    providers = ", ".join(active.providers) if active.providers else "all providers"
    until = f", until {timezone.localtime(active.expires_at):%-d %b %Y}" if active.expires_at else ""
    return "granted", f"Consent: granted ({where}, {providers}{until})"


def _annotate(characters):
    characters = list(characters)
    now = timezone.now()
    for character in characters:
        character.state_key, character.state = consent_state(character, now)
        character.active = next((g for g in character.grants.all() if g.revoked_at is None), None)
    return characters


def _get_character_for(user, pk) -> tuple[Character, Membership | None]:
    """A character of one of the user's teams, or one depicting the user (even after they left)."""
    member_teams = Team.objects.filter(memberships__user=user)
    character = get_object_or_404(
        _with_consent_data(Character.objects), Q(team__in=member_teams) | Q(person=user), pk=pk,
    )
    membership = Membership.objects.filter(team=character.team_id, user=user).select_related("team").first()
    return character, membership


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
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
                messages.success(request, f"Added {character.name} to the library.")
                return redirect("projects:character_detail", pk=character.pk)
    query = request.GET.get("q", "").strip()
    if len(query) > MAX_SEARCH:  # SQLite finds a long LIKE pattern "too complex": say so, don't crash
        return render(request, "bad_request.html", {
            "reason": f"Search for at most {MAX_SEARCH} characters (that search has {len(query)})."}, status=400)
    characters = team.characters.all()
    if query:
        characters = characters.filter(Q(name__icontains=query) | Q(description__icontains=query))
    context = {"team": team, "membership": membership, "form": form, "query": query,
               "characters": _annotate(_with_consent_data(characters))}
    if request.htmx and not request.htmx.boosted and not request.htmx.history_restore_request:
        return render(request, LIBRARY + "#character-grid", context)
    return render(request, LIBRARY, context, status=400 if form.errors else 200)


def _described(event):
    """The event with its details as (label, words) pairs for the log."""
    items = []
    for key, value in (event.details or {}).items():
        if key == "providers" and not value:
            text = "all"
        elif key == "expires_at":
            text = f"{timezone.localtime(datetime.fromisoformat(value)):%-d %b %Y}" if value else "no expiry"
        elif isinstance(value, list):
            text = ", ".join(str(v) for v in value) or "none"
        else:
            text = str(value)
        items.append((key.replace("_", " ").capitalize(), text))
    event.detail_items = items
    return event


def _detail_context(character, membership, user, **extra):
    character.state_key, character.state = consent_state(character)
    active = character.active_grant()
    takes = list(character.renders.select_related("scene__project").order_by("-created_at"))
    context = {
        "character": character, "membership": membership, "active": active,
        "is_me": character.is_person and character.person_id == user.pk,
        "events": [_described(event) for event in character.consent_events.select_related("actor")],
        "scenes": character.scenes.select_related("project").order_by("project__name", "position"),
        "takes": takes, "withheld": sum(1 for t in takes if t.quarantined_at),
        **extra,
    }
    if context["is_me"] and membership is not None and "consent_form" not in extra:
        initial = {}
        if active is not None:
            initial = {"scope": active.scope, "projects": list(active.projects.all()),
                       "providers": active.providers,
                       "expires_on": timezone.localdate(active.expires_at) if active.expires_at else None}
        context["consent_form"] = ConsentForm(team=character.team, initial=initial)
    return context


@login_required
def character_detail(request, pk):
    character, membership = _get_character_for(request.user, pk)
    return render(request, DETAIL, _detail_context(character, membership, request.user))


@login_required
def character_image(request, pk, image_pk):
    character, _ = _get_character_for(request.user, pk)
    image = get_object_or_404(CharacterImage, pk=image_pk, character=character)
    return file_response(request, image.image)


@login_required
@require_POST
def character_consent(request, pk):
    character, membership = _get_character_for(request.user, pk)
    if not character.is_person or character.person_id != request.user.pk:
        raise PermissionDenied("Only the person this character depicts can grant consent.")
    if membership is None:
        # Granting would show them the projects of a team they are no longer in.
        raise PermissionDenied("You left this team: you can still revoke, but not grant.")
    form = ConsentForm(request.POST, team=character.team)
    if form.is_valid():
        try:
            consent.consent_grant(character=character, user=request.user, scope=form.cleaned_data["scope"],
                                  projects=list(form.cleaned_data["projects"]),
                                  providers=form.cleaned_data["providers"], expires_at=form.expires_at)
        except ValidationError as exc:
            form.add_error(None, exc)
    if form.errors:
        context = _detail_context(character, membership, request.user, consent_form=form)
        if request.htmx:
            return render(request, DETAIL + "#character-body", context)
        return render(request, DETAIL, context, status=400)
    return _after_consent_change(request, character, membership, "Consent saved.")


@login_required
@require_POST
def character_revoke(request, pk):
    # Authorised by who the character depicts, not by membership: a person who
    # left the team can still withdraw their likeness.
    character, membership = _get_character_for(request.user, pk)
    if not character.is_person or character.person_id != request.user.pk:
        raise PermissionDenied("Only the person this character depicts can revoke consent.")
    withheld = consent.consent_revoke(character=character, user=request.user,
                                      delete_files=request.POST.get("delete_files") == "on")
    notice = f"Consent revoked. {withheld} take{'s' if withheld != 1 else ''} withheld."
    if request.POST.get("return_to") == "likeness":
        if request.htmx:
            row = _annotate(_with_consent_data(Character.objects.filter(pk=character.pk)))[0]
            row.still_member = membership is not None
            return render(request, LIKENESS + "#likeness-row", {"character": row, "notice": notice})
        messages.success(request, notice)
        return redirect("projects:my_likeness")
    return _after_consent_change(request, character, membership, notice)


def _after_consent_change(request, character, membership, notice):
    if request.htmx:
        character = _with_consent_data(Character.objects).get(pk=character.pk)
        context = _detail_context(character, membership, request.user, notice=notice)
        return render(request, DETAIL + "#character-body", context)
    messages.success(request, notice)
    return redirect("projects:character_detail", pk=character.pk)


@login_required
def my_likeness(request):
    # Not scoped by membership on purpose: these are the user's own likenesses,
    # in every team, including teams they have left.
    characters = _annotate(_with_consent_data(Character.objects.filter(person=request.user)).order_by(
        "team__name", "name"))
    member_of = set(Membership.objects.filter(user=request.user).values_list("team_id", flat=True))
    for character in characters:
        character.still_member = character.team_id in member_of
    return render(request, LIKENESS, {"characters": characters})
