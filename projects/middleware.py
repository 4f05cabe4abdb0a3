from django.conf import settings
from django.shortcuts import render
from django.utils import translation

from projects.inputs import has_control_characters
from projects.models import Membership
from projects.teams.language import chosen_language

SESSION_KEY = "current_team_id"


class CurrentTeamMiddleware:
    """Sets request.membership: the logged-in user's membership in the team they chose."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = None
        if request.user.is_authenticated:
            memberships = Membership.objects.filter(user=request.user).select_related("team")
            chosen = request.session.get(SESSION_KEY)
            request.membership = (
                memberships.filter(team_id=chosen).first() if chosen else None
            ) or memberships.order_by("joined_at").first()
        return self.get_response(request)


class UserLanguageMiddleware:
    """A signed-in user's own language choice wins over the browser's Accept-Language, which
    LocaleMiddleware (earlier in the chain) has already followed. The choice rides in the session,
    so a page costs no query for it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            language = chosen_language(request)
            if language:
                translation.activate(language)
                request.LANGUAGE_CODE = language
        return self.get_response(request)


class PermissionsPolicyMiddleware:
    """Turns off browser features the studio never uses (camera, geolocation, ...) on every response; the
    microphone only on its own pages (recording a line)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


class RefuseControlCharactersMiddleware:
    """An address or query parameter holding a control character (e.g. ?q=a%00b) gets a 400 page.

    Views read query values and path tokens straight into queries, and PostgreSQL refuses
    NUL in text: refusing here keeps every view, present and future, from a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        values = [request.path_info] + [text for key, texts in request.GET.lists() for text in [key, *texts]]
        if any(has_control_characters(text) for text in values):
            return render(request, "bad_request.html", {
                "reason": translation.gettext("The address contains control characters (such as NUL) that can't be "
                                              "used. Check the link or the search you typed."),
            }, status=400)
        return self.get_response(request)
