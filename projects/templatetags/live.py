"""{% live_stream project=… %} / {% live_stream team=… %}: the page's one live channel."""

import uuid

from django import template
from django.conf import settings
from django.urls import reverse

from projects.live.stream import cursor_now

register = template.Library()


@register.inclusion_tag("projects/_live.html", takes_context=True)
def live_stream(context, project=None, team=None):
    """The element that holds the page's stream, up to date to the moment the page was rendered.

    `me`: the page's user, whom what the stream pushes about presence leaves out on this page."""
    client = str(uuid.uuid4())
    cursor = cursor_now()
    user = context.get("user")
    me = user.pk if user is not None and user.is_authenticated else ""
    if project is not None:
        stream = reverse("projects:project_events", args=[project.pk])
        return {"stream": f"{stream}?client={client}&after={cursor}", "client": client, "cursor": cursor, "me": me,
                "changes": reverse("projects:project_changes", args=[project.pk]),
                "poll_ms": int(settings.LIVE_FALLBACK_POLL_SECONDS * 1000),
                "board": reverse("projects:project_detail", args=[project.pk]),
                "presence": reverse("projects:project_presence", args=[project.pk])}
    stream = reverse("projects:team_events", args=[team.pk])
    return {"stream": f"{stream}?client={client}&after={cursor}", "client": client, "cursor": cursor, "me": me}


@register.inclusion_tag("projects/_live.html")
def guest_live_stream(token: str):
    """A guest review page's stream (projects/review/guest_views.py): the link's token is the key, as for the page;
    no presence (a guest is nobody's avatar), no fallback poll. `guest_token`: what pushed reply forms,
    drawn once for every guest of the link, put in their addresses (static/studio/review.js)."""
    client, cursor = str(uuid.uuid4()), cursor_now()
    stream = reverse("projects:guest_events", args=[token])
    return {"stream": f"{stream}?client={client}&after={cursor}", "client": client, "cursor": cursor, "me": "",
            "guest_token": token}
