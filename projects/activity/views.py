"""The inbox: a person's notifications, and marking them read."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from projects import selectors
from projects.access import get_notification_for
from projects.activity import notifications
from projects.htmx import wants_fragment

INBOX = "projects/inbox.html"


@login_required
@require_GET
def inbox(request):
    return render(request, INBOX, {"inbox": selectors.inbox_for(user=request.user)})


@login_required
@require_POST
def notification_read(request, pk):
    notification = get_notification_for(request.user, pk)
    notifications.notification_mark_read(notification=notification)
    if wants_fragment(request):
        context = {"n": notification, "item_bell_oob": True, "unread": selectors.unread_count(user_id=request.user.pk)}
        return render(request, INBOX + "#item", context)
    return redirect("projects:inbox")


@login_required
@require_POST
def notifications_read_all(request):
    notifications.notifications_mark_all_read(user=request.user)
    if wants_fragment(request):
        context = {"inbox": selectors.inbox_for(user=request.user), "bell_oob": True, "unread": 0}
        return render(request, INBOX + "#list", context)
    return redirect("projects:inbox")
