"""What a review room's change redraws: the room's state region on the pages open in the room.

Drawn from the change itself (its data is the room's state as the presenter left it), once for all members and
once per review link for guests: every page in the room gets the same bytes, and static/studio/room.js moves its
player to the state it carries. Pages elsewhere in the project have no such region and leave it.
A guest of a review link gets a room only when the link shows the room's take (never a compare's, never Play all's),
and never the presenter's name.
"""

from __future__ import annotations

from django.template.loader import render_to_string

from projects.models import ChangeEvent, ReviewLink
from projects.review.guest_links import takes_in_scope
from projects.review.rooms import RoomState, room_context


def room_html(event: ChangeEvent) -> str:
    state: RoomState | None = event.data  # a ROOM_CHANGED change carries the room's state (rooms._publish)
    if not state or not state.get("room"):
        return ""
    context = {**room_context(state, presenter_name=state.get("presenter_name", "")), "oob": True}
    return render_to_string("projects/_room_bar.html#room-state", context)


def guest_room_html(event: ChangeEvent, link_id: int) -> str:
    """The room's state for the guests of link `link_id`, when the link shows the take the room watches."""
    state: RoomState | None = event.data
    link = (ReviewLink.objects.filter(pk=link_id, project_id=event.project_id).first()
            if event.project_id is not None else None)
    if not state or not state.get("room") or link is None or not link.is_live:
        return ""
    if state.get("other_take") or state.get("kind", "take") != "take":  # a compare, Play all: for the team only
        return ""
    if all(take.pk != event.take_id for take in takes_in_scope(link)):
        return ""
    return render_to_string("projects/_room_bar.html#room-state", {**room_context(state), "oob": True})
