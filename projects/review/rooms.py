"""Review rooms: one presenter's player, followed by everyone in the room over the project's live channel.

The room's state (presenter, position, playing, when) is kept here, on the server: a late joiner starts at the
moment everyone else is at. The presenter's page numbers its events (`seq`); an event numbered at or below the
room's is stale (sent before one already applied) and changes nothing, so a retried or reordered request never
moves the room back. The presenter's drawing over the paused frame is part of the state (checked as a comment's
drawing is, and capped smaller: every page in the room is sent it with each move); playing on clears it. Each applied change is one live change (ROOM_CHANGED) carrying the state itself: every
page in the room is drawn the same bytes, and of several changes read together only the last is drawn.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterable
from typing import NotRequired, TypedDict

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from generation.models import Render
from projects.inputs import parse_id
from projects.live import ChangeKind, live_publish
from projects.models import Project, ReviewRoom, Scene
from projects.review.drawing import drawing_clean
from projects.throttle import rate_allow, throttle_key

# A presenter scrubbing sends a few events a second (room.js sends at most ten); past this they are refused.
EVENTS_PER_SECOND = 20
MAX_SEQ = 2**31 - 1
# Seconds into a take, or into a scene of Play all (which has no one length to cap it): a day is beyond any.
MAX_MOMENT = 24 * 3600
# Characters of a drawing shown to the room, as JSON: it rides along with every move while the frame is paused.
MAX_DRAWING_JSON = 50_000
# The compare page's views (static/studio/player.js): a compare room's followers see the presenter's.
COMPARE_MODES = ("side", "wipe", "overlay")
# The player's speeds (player.js: its menu from a quarter to twice, L shuttling up to four times).
MIN_RATE, MAX_RATE = 0.25, 4.0


class RoomThrottled(Exception):
    """Too many presenter events this second: the page sends its latest state again a moment later."""


class RoomState(TypedDict):
    """The room's state as every page in it is told (and as a ROOM_CHANGED change's data carries it)."""

    room: int
    take: int
    seq: int
    position: float
    playing: bool
    rate: float  # the presenter's playback speed: a playing room moves `rate` seconds each second
    drawing: list[dict[str, object]]
    updated_at: int  # milliseconds since the epoch
    presenter: int  # 0: nobody presents
    other_take: int  # 0: a room on one take; else the compare's right-hand take
    mode: str  # a compare's view (COMPARE_MODES); "" on one take
    kind: str  # what the room shows (ReviewRoom.Kind)
    scene: int  # Play all: the scene playing, `position` seconds into it (0: the sequence's start)
    closed: NotRequired[bool]
    presenter_name: NotRequired[str]


def room_state(room: ReviewRoom) -> RoomState:
    """What every page in the room is told: JSON-ready, the same for every page."""
    return {"room": room.pk, "take": room.take_id or 0, "seq": room.seq, "position": round(room.position, 3),
            "playing": room.playing, "rate": room.rate, "drawing": room.drawing or [], "updated_at": int(room.updated_at.timestamp() * 1000),
            "presenter": room.presenter_id or 0, "other_take": room.other_take_id or 0, "mode": room.compare_mode,
            "kind": room.kind, "scene": room.scene_id or 0}


def room_open(*, take: Render, user: User) -> ReviewRoom:
    """The open room on `take` (a second click, or a teammate's, joins it), or a new one presented by `user`."""
    if not take.is_watchable:
        raise ValidationError(_("Only a finished take can be reviewed in a room."))
    with transaction.atomic():
        room = (ReviewRoom.objects.select_for_update().filter(take=take, other_take__isnull=True, closed_at__isnull=True)
                .first())
        if room is None:
            room = ReviewRoom.objects.create(project=take.scene.project, take=take, opened_by=user, presenter=user)
            _publish(room, user)
    return room


def room_open_compare(*, left: Render, right: Render, user: User) -> ReviewRoom:
    """The open room comparing `left` with `right` (a second click, or a teammate's, joins it), or a new one."""
    if left.pk == right.pk or left.scene_id != right.scene_id:
        raise ValidationError(_("A compare room shows two different takes of one scene."))
    if not (left.is_watchable and right.is_watchable):
        raise ValidationError(_("Only finished takes can be compared in a room."))
    with transaction.atomic():
        room = ReviewRoom.objects.select_for_update().filter(take=left, other_take=right, closed_at__isnull=True).first()
        if room is None:
            room = ReviewRoom.objects.create(project=left.scene.project, kind=ReviewRoom.Kind.COMPARE, take=left,
                                             other_take=right, opened_by=user, presenter=user, compare_mode="side")
            _publish(room, user)
    return room


def room_open_play_all(*, project: Project, user: User) -> ReviewRoom:
    """The project's open room on Play all (a second click, or a teammate's, joins it), or a new one at the start."""
    with transaction.atomic():
        # The project row is the lock: two first clicks at once make one room, not two.
        Project.objects.select_for_update().filter(pk=project.pk).first()
        room = ReviewRoom.objects.filter(project=project, kind=ReviewRoom.Kind.PLAY_ALL, closed_at__isnull=True).first()
        if room is None:
            room = ReviewRoom.objects.create(project=project, kind=ReviewRoom.Kind.PLAY_ALL, opened_by=user,
                                             presenter=user)
            _publish(room, user)
    return room


def room_update(*, room: ReviewRoom, user: User, seq: object, position: object, playing: object,
                drawing: str | None = None, mode: str | None = None, scene: str | None = None,
                rate: str | None = None) -> bool:
    """Move the room's player as the presenter's moved: whether it moved (False: a stale event, ignored).

    `drawing`: the presenter's drawing over the paused frame, as JSON ("" clears it); None leaves it as it is.
    Playing on clears it. `mode`: a compare room's view (side, wipe, overlay); None leaves it. `rate`: the
    presenter's playback speed (MIN_RATE to MAX_RATE); None leaves it. PermissionDenied when `user` is not (or no longer) the presenter; ValidationError for a
    bad value (a drawing too large or malformed included)."""
    seq, position, playing = _clean_event(room, seq, position, playing)
    shapes = None if drawing is None else _clean_drawing(drawing)
    mode = None if mode is None else _clean_mode(room, mode)
    scene_id = _clean_scene(room, scene)
    speed = None if rate is None else _clean_rate(rate)
    if playing:
        shapes = []
    if not rate_allow(key=throttle_key("room", room.pk), limit=EVENTS_PER_SECOND):
        raise RoomThrottled()
    now = timezone.now()
    with transaction.atomic():
        # One conditional update: the presenter's, newer than the room's, on an open room.
        changes: dict[str, object] = {"seq": seq, "position": position, "playing": playing, "updated_at": now}
        if shapes is not None:
            changes["drawing"] = shapes
        if mode is not None:
            changes["compare_mode"] = mode
        if speed is not None:
            changes["rate"] = speed
        if room.is_play_all:
            changes["scene_id"] = scene_id
        moved = ReviewRoom.objects.filter(pk=room.pk, presenter=user, seq__lt=seq, closed_at__isnull=True).update(
            **changes)
        if not moved:
            room.refresh_from_db()
            if room.presenter_id != user.pk or not room.is_open:
                raise PermissionDenied(_("Someone else leads the room now."))
            return False
        room.seq, room.position, room.playing, room.updated_at = seq, position, playing, now
        if shapes is not None:
            room.drawing = shapes
        if mode is not None:
            room.compare_mode = mode
        if speed is not None:
            room.rate = speed
        if room.is_play_all:
            room.scene_id = scene_id
        _publish(room, user)
    return True


def room_take_lead(*, room: ReviewRoom, user: User) -> ReviewRoom:
    """`user` presents from the moment the room is at; the former presenter's events still on their way are stale."""
    with transaction.atomic():
        # A room on Play all has no take (an outer join): lock the room row only, which PostgreSQL allows.
        room = ReviewRoom.objects.select_for_update(of=("self",)).select_related("take").get(pk=room.pk)
        if not room.is_open:
            raise ValidationError(_("This room has ended."))
        if room.presenter_id != user.pk:
            now = timezone.now()
            room.position, room.updated_at = room.shared_time(now), now
            room.presenter, room.seq = user, min(room.seq + 1, MAX_SEQ)
            room.save(update_fields=["presenter", "seq", "position", "updated_at"])
            _publish(room, user)
    return room


def room_switch_take(*, room: ReviewRoom, user: User, take: Render) -> ReviewRoom:
    """The presenter shows another take of the project: every page in the room moves to it, at its start, paused."""
    if room.is_compare:
        raise ValidationError(_("A compare room shows the two takes it was opened on."))
    if room.is_play_all:
        raise ValidationError(_("A room on Play all shows the whole sequence, not one take."))
    if take.scene.project_id != room.project_id or not take.is_watchable:
        raise ValidationError(_("Only a finished take of this project can be shown in the room."))
    with transaction.atomic():
        room = ReviewRoom.objects.select_for_update().get(pk=room.pk)
        if room.presenter_id != user.pk or not room.is_open:
            raise PermissionDenied(_("Someone else leads the room now."))
        if room.take_id != take.pk:
            room.take, room.position, room.playing, room.updated_at = take, 0.0, False, timezone.now()
            room.seq, room.drawing = min(room.seq + 1, MAX_SEQ), []
            room.save(update_fields=["take", "position", "playing", "updated_at", "seq", "drawing"])
            _publish(room, user)
    return room


def room_close(*, room: ReviewRoom, user: User) -> None:
    """End the room: its pages say so, and its takes stay as they are."""
    if ReviewRoom.objects.filter(pk=room.pk, closed_at__isnull=True).update(closed_at=timezone.now()):
        room.refresh_from_db()
        _publish(room, user)


def room_moment(*, take: Render, room_id: int) -> float | None:
    """The room's shared moment, for a comment made in room `room_id` on `take` (None: no such open room on it)."""
    room = (ReviewRoom.objects.select_related("take").filter(pk=room_id, take=take, other_take__isnull=True,
                                                              closed_at__isnull=True).first())
    return room.shared_time() if room is not None else None


def _clean_event(room: ReviewRoom, seq: object, position: object, playing: object) -> tuple[int, float, bool]:
    try:
        number = int(str(seq).strip())
        moment = float(str(position).strip())
    except (TypeError, ValueError):
        raise ValidationError(_("The player's state could not be read.")) from None
    if not 0 < number <= MAX_SEQ:
        raise ValidationError(_("The player's state could not be read."))
    if not math.isfinite(moment) or moment < 0 or moment > MAX_MOMENT:
        raise ValidationError(_("A moment of the take is a number of seconds from its start."))
    length = room.length
    if length:
        moment = min(moment, length)  # the end of the take, as a player at its end reports it
    if str(playing).strip().lower() not in {"0", "1", "true", "false"}:
        raise ValidationError(_("The player's state could not be read."))
    return number, round(moment, 3), str(playing).strip().lower() in {"1", "true"}


def _clean_rate(raw: object) -> float:
    try:
        speed = float(str(raw).strip())
    except (TypeError, ValueError):
        speed = math.nan
    if not (math.isfinite(speed) and MIN_RATE <= speed <= MAX_RATE):
        raise ValidationError(_("A playback speed is between %(low)s× and %(high)s×.")
                              % {"low": _speed(MIN_RATE), "high": _speed(MAX_RATE)})
    return round(speed, 3)


def _speed(rate: float) -> str:
    """0.25 or 4 (not 4.0), in the reader's notation (0,25 in French)."""
    return formats.number_format(rate, decimal_pos=0 if rate == int(rate) else 2)


def _clean_mode(room: ReviewRoom, raw: str) -> str:
    mode = str(raw).strip().lower()
    if not room.is_compare or mode not in COMPARE_MODES:
        raise ValidationError(_("A compare is shown side by side, as a wipe or as an overlay."))
    return mode


def _clean_scene(room: ReviewRoom, raw: str | None) -> int | None:
    """Play all's scene playing: one of the project's scenes still on the board (None: the sequence's start)."""
    if not room.is_play_all:
        if raw is not None:
            raise ValidationError(_("Only a room on Play all follows a scene of the sequence."))
        return None
    if not str(raw or "").strip():
        return None
    scene_id = parse_id(raw)
    if scene_id is None:
        raise ValidationError(_("The player's state could not be read."))
    if not Scene.objects.filter(pk=scene_id, project_id=room.project_id, trashed_at__isnull=True).exists():
        raise ValidationError(_("That scene is not on this project's board any more: reload Play all."))
    return scene_id


def _clean_drawing(raw: str) -> list[dict[str, object]]:
    if len(raw) > MAX_DRAWING_JSON:
        raise ValidationError(_("The drawing is too large to show to the room (%(size)s characters; at most "
                                "%(max)s). Draw fewer or shorter lines.") % {"size": len(raw), "max": MAX_DRAWING_JSON})
    return drawing_clean(raw)


def _publish(room: ReviewRoom, user: User) -> None:
    # The presenter's name rides along: the room's pages are drawn from the change alone (guests' without it).
    name = room.presenter.get_username() if room.presenter is not None else ""
    live_publish(kind=ChangeKind.ROOM_CHANGED, project=room.project, take_id=room.take_id, object_id=room.pk,
                 actor=user, data={**room_state(room), "closed": not room.is_open, "presenter_name": name})


def room_context(state: RoomState, *, presenter_name: str = "") -> dict[str, object]:
    """What the room's state region shows, from a state (room_state's, or a live change's data): the same for every
    page in the room; each page tells by the presenter's id whether it presents (static/studio/room.js)."""
    shown = {key: value for key, value in state.items() if key != "presenter_name"}  # shown in words, or not at all
    return {"room_id": int(state["room"]), "room_state": json.dumps(shown), "room_closed": bool(state.get("closed")),
            "presenter_name": presenter_name}


def room_page_context(room: ReviewRoom) -> dict[str, object]:
    """The room's page: with the server's clock, against which a follower's page reckons how far a playing room got."""
    return {"room": room, "server_now_ms": int(time.time() * 1000), **room_context({**room_state(room), "closed": not room.is_open},
                                         presenter_name=room.presenter.get_username() if room.presenter else "")}


def rooms_open_on(takes: Iterable[Render]) -> dict[int, ReviewRoom]:
    """The open room on each of these takes that has one, by take id: a page offers to join it."""
    return {room.take_id: room for room in ReviewRoom.objects.filter(take__in=list(takes), other_take__isnull=True,
                                                                       closed_at__isnull=True) if room.take_id}


def room_open_on_play_all(*, project: Project) -> ReviewRoom | None:
    """The project's open room on Play all, if there is one: the page offers to join it."""
    return ReviewRoom.objects.filter(project=project, kind=ReviewRoom.Kind.PLAY_ALL, closed_at__isnull=True).first()


def room_open_comparing(*, left: Render, right: Render) -> ReviewRoom | None:
    """The open room comparing these two takes, if there is one: the compare page offers to join it."""
    return ReviewRoom.objects.filter(take=left, other_take=right, closed_at__isnull=True).first()
