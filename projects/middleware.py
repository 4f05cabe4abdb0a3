from django.conf import settings

from projects.models import Membership

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


class PermissionsPolicyMiddleware:
    """Turns off browser features the studio never uses (camera, microphone, ...) on every response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response
