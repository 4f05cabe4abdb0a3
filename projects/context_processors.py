from projects.models import Membership


def teams(request):
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    return {
        "current_membership": getattr(request, "membership", None),
        "my_memberships": Membership.objects.filter(user=request.user).select_related("team"),
    }
