from django.utils.functional import SimpleLazyObject

from projects.access import can_create_team
from projects.models import Membership
from projects.selectors import unread_count


def teams(request):
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    return {
        "current_membership": getattr(request, "membership", None),
        "can_create_team": can_create_team(request.user),
        "my_memberships": Membership.objects.filter(user=request.user).select_related("team"),
        # Counted only by a page that draws the bell (not by htmx fragments).
        "bell_unread": SimpleLazyObject(lambda: unread_count(user_id=request.user.pk)),
    }
