"""What each change looks like on the pages watching it: the regions to swap, drawn once per audience.

A change becomes one Server-Sent Event:
- `change`: HTML whose top-level elements carry `hx-swap-oob`, so htmx replaces
  exactly those regions (a frame, the totals, a take card, an export row);
- `order`: the project's scene ids in their new order (static/studio/live.js moves the frames);
- `reset`: too much was missed; the page reloads its board.

`draw(event)` reads what the change shows once (the scene's frame, the totals, the take),
then draws it for each audience watching: pages whose `audience` key is equal get the
same bytes. Most changes are drawn per role, with an unsaved Membership of that role, so
what a viewer sees in a swapped frame is what their page would have rendered; a reorder,
an export row, an editor's cut's status and the presence list are the same for everyone; a
review link's guests are an audience of their own, per link; the bell is one person's.
Nothing per-user (a withheld take's files) is ever drawn here beyond what the role shows.
A region that must differ per person keys its audience on the user id (drawn once per
person watching, not per page), or is drawn once for everyone and marked so each page can
filter it itself (a `data-user` attribute the page compares with its own user).
"""

from __future__ import annotations

import json
import re
from collections.abc import Hashable, Iterable
from functools import cached_property
from typing import TYPE_CHECKING, Any

from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.translation import gettext

from generation.models import CutImport, Export, ProviderConnection, Render
from generation.providers.selectors import catalog_proposal_for
from generation.renders.forms import RetryForm
from projects.live.hub import Message
from projects.live.presence import editing_map, presence_for
from projects.live.review_fragments import (
    COMMENT_KINDS,
    ReviewDrawing,
    guest_link_id,
    guest_review_html,
)
from projects.live.room_fragments import guest_room_html, room_html
from projects.models import ChangeKind, EndOn, Membership, PlayAllMix, Project, Scene, StartFrom
from projects.selectors import (
    board_frames,
    board_totals,
    project_fields,
    scene_dialogue_for,
    scene_field_rows,
    unread_count,
)
from projects.selectors.continuity import continuity_panel_for
from projects.selectors.storyboard import Frame, Totals, with_changes_requested
from projects.storyboard.forms import dialogue_context

if TYPE_CHECKING:
    from projects.models import ChangeEvent, Membership, Project


ONE_CLICK_KEY = re.compile(r'(name="idempotency_key"\s+)value="[^"]*"')
SCENE_KINDS = {ChangeKind.SCENE_CREATED, ChangeKind.SCENE_RESTORED, ChangeKind.SCENE_EDITED, ChangeKind.TAKE_QUEUED,
               ChangeKind.TAKE_PROGRESS, ChangeKind.TAKE_FINISHED, ChangeKind.TAKE_FAILED,
               ChangeKind.TAKE_APPROVED, ChangeKind.COMMENT_ADDED, ChangeKind.COMMENT_RESOLVED,
               ChangeKind.DECISION_MADE}
# Drawn the same for every page that gets them: no role or person changes a byte.
FOR_EVERYONE = {ChangeKind.SCENES_REORDERED, ChangeKind.EXPORT_CHANGED, ChangeKind.CUT_IMPORT_CHANGED,
                ChangeKind.PLAY_ALL_SOUND_READY, ChangeKind.ROOM_CHANGED, ChangeKind.FIELDS_CHANGED,
                ChangeKind.PRESENCE}


# A frame that arrives (added, or back from the trash) is never one to skip for a later change.
ARRIVING = {ChangeKind.SCENE_CREATED, ChangeKind.SCENE_RESTORED}
STATE_KINDS = SCENE_KINDS - ARRIVING - {ChangeKind.TAKE_QUEUED}


def coalesce_key(event: ChangeEvent) -> Hashable | None:
    """Changes read together that draw the same regions from the current state: only the last is sent.

    (Two hundred pages opening at once make two hundred presence changes: one list is drawn.)
    """
    if event.kind == ChangeKind.PRESENCE:
        return ("presence", event.project_id)
    if event.kind == ChangeKind.ROOM_CHANGED:
        return ("room", event.object_id)
    if event.kind == ChangeKind.FIELDS_CHANGED:
        return ("fields", event.project_id)  # each page fetches what is now: one fetch for many changes  # each carries the room's whole state: the newest is where everyone is
    if event.kind == ChangeKind.NOTIFICATION:
        return ("bell", event.recipient_id)  # the bell shows the count now: one redraw is enough
    if _dialogue_edited(event):
        return ("dialogue", event.scene_id)  # draws the lines too: another edit never stands in for it
    if _fields_edited(event):
        return ("fields", event.scene_id)  # draws the panel's fields too, as the lines above
    if event.kind in STATE_KINDS:
        # A percentage alone draws less than a new status: the two never stand in for each other. A comment
        # redraws its own thread on the review pages: two comments on one take are two threads.
        return ("state", event.scene_id, event.take_id, _progress_only(event),
                event.object_id if event.kind in COMMENT_KINDS else None)
    return None


def draw_all(events: Iterable[ChangeEvent]) -> list[ChangeDrawing]:
    """The drawings of changes read together: what they show is fetched together (see _Read)."""
    read = _Read(events)
    return [ChangeDrawing(event, read) for event in events]


def render_change(event: ChangeEvent, role: str, user_id: int = 0) -> list[Message]:
    """The events one page of this role (and person) gets for a change."""
    return ChangeDrawing(event, _Read([event])).messages(role, user_id)


class _Read:
    """What changes read together show, fetched once for all of them: per project, the project, its
    changed frames in one go (fifty takes moving at once are one board query, not fifty) and its
    totals. Drawn from the state now, as each page would be if it reloaded."""

    def __init__(self, events: Iterable[ChangeEvent]) -> None:
        self._wanted: dict[int, set[int]] = {}
        for event in events:
            if event.kind in SCENE_KINDS and event.project_id and event.scene_id:
                self._wanted.setdefault(event.project_id, set()).add(event.scene_id)
        self._projects: dict[int, Project | None] = {}
        self._frames: dict[int, dict[int, Frame | None]] = {}
        self._totals: dict[int, Totals | None] = {}

    def project(self, project_id: int | None) -> Project | None:
        if project_id is None:  # a team's change
            return None
        if project_id not in self._projects:
            self._projects[project_id] = Project.objects.filter(pk=project_id).first()
        return self._projects[project_id]

    def frame(self, project_id: int | None, scene_id: int | None) -> Frame | None:
        if project_id is None or scene_id is None:
            return None
        frames = self._frames.setdefault(project_id, {})
        if scene_id not in frames:
            project = self.project(project_id)
            wanted = (self._wanted.pop(project_id, set()) | {scene_id}) - frames.keys()
            found = {f.scene_id: f for f in board_frames(project=project, scene_ids=wanted)} if project else {}
            frames.update({scene: found.get(scene) for scene in wanted})  # None: deleted since
        return frames[scene_id]

    def totals(self, project_id: int | None) -> Totals | None:
        """The board's totals; None for a project deleted since (nothing of it is drawn)."""
        if project_id is None:
            return None
        if project_id not in self._totals:
            project = self.project(project_id)
            self._totals[project_id] = board_totals(project=project) if project is not None else None
        return self._totals[project_id]


class ChangeDrawing:
    """One change: what it shows is read at most once, then drawn once per audience that watches it."""

    def __init__(self, event: ChangeEvent, read: _Read) -> None:
        self.event, self._read = event, read

    def audience(self, role: str, user_id: int) -> Hashable:
        if (link_id := guest_link_id(role)) is not None:
            # A guest's page of a review link: what that link lets them read, never what a member sees, and
            # never another link's (its scope, its token in the reply forms).
            return ("guest", link_id)
        kind = self.event.kind
        if kind in FOR_EVERYONE:
            return "everyone"  # the presence list too: each page takes its own user out (live.js, data-me)
        if kind == ChangeKind.NOTIFICATION:
            return ("person", self.event.recipient_id)  # only that person's pages get it (hub, replay)
        if kind in (ChangeKind.CONNECTION_TESTED, ChangeKind.CATALOG_CHECKED):
            return ("manages", Membership(role=role).can_manage)
        # Per role; what only a comment's author may do is drawn for the role, marked data-only-for, and
        # each page keeps it for its own user (review.js).
        return ("role", role)

    def messages(self, role: str, user_id: int) -> list[Message]:
        event = self.event
        kind = event.kind
        if (link_id := guest_link_id(role)) is not None:
            # A guest's review page: the threads its link lets them read, a room on a take it shows, nothing else.
            html = compact(guest_room_html(event, link_id) if kind == ChangeKind.ROOM_CHANGED
                           else guest_review_html(event, link_id))
            return [Message(event.id, "change", html)] if html else []
        if kind == ChangeKind.SCENES_REORDERED:
            return [Message(event.id, "order", json.dumps(event.data.get("order", [])))]
        if kind == ChangeKind.FIELDS_CHANGED:
            # Every frame, the filter and any scene's panel may show the field: each page fetches its board's
            # frames and its open panel's fields once (live.js), rather than the server drawing every frame.
            return [Message(event.id, "fields", "")]
        if kind == ChangeKind.CONNECTION_TESTED:
            # The result (account words, "fetched the webhook secret") is on owners' pages only.
            return _connection(event) if Membership(role=role).can_manage else []
        if kind == ChangeKind.CATALOG_CHECKED:
            return _catalog_checked(event) if Membership(role=role).can_manage else []  # owners review the changes
        if kind == ChangeKind.EXPORT_CHANGED:
            return _export(event)
        if kind == ChangeKind.CUT_IMPORT_CHANGED:
            return _cut_import(event)  # drawn without a form token: each page fetches its own form
        if kind == ChangeKind.PLAY_ALL_SOUND_READY:
            return _play_all_sound(event)
        if kind == ChangeKind.ROOM_CHANGED:
            return [Message(event.id, "change", compact(room_html(event)))]
        if kind == ChangeKind.PRESENCE:
            return [Message(event.id, "change", presence_html(event.project_id))] if event.project_id else []
        if kind == ChangeKind.NOTIFICATION:
            # Delivered to the recipient's pages alone (hub, replay): drawn for them, whatever their role.
            return [Message(event.id, "change", bell_html(event.recipient_id))] if event.recipient_id else []
        if kind == ChangeKind.SCENE_DELETED:
            if event.scene_id is None:
                return []
            gone = f'<li id="frame-{int(event.scene_id)}" hx-swap-oob="delete"></li>'
            return [Message(event.id, "change", gone + self.gone_notice + self._totals_html(role))]
        if kind in SCENE_KINDS:
            return [Message(event.id, "change", self._scene_html(role) + self._review_html(role))]
        if kind == ChangeKind.COMMENT_EDITED:
            html = self._review_html(role)
            return [Message(event.id, "change", html)] if html else []
        return []

    # --- what the change shows, read once ----------------------------------------------------
    @property
    def project(self) -> Project | None:
        return self._read.project(self.event.project_id)

    @property
    def frame(self) -> Frame | None:
        return self._read.frame(self.event.project_id, self.event.scene_id)

    @property
    def totals(self) -> Totals | None:
        return self._read.totals(self.event.project_id)

    @cached_property
    def take(self) -> Render | None:
        if self.event.take_id is None:
            return None
        take = (with_changes_requested(Render.objects.select_related("scene__project", "created_by", "parent"))
                .filter(pk=self.event.take_id).first())
        if take is not None:
            # What the board's query annotates on every card; counted here for the one take.
            take.comment_count = take.comments.count()  # type: ignore[attr-defined]
            # Asked by the card of every role watching: answered once (see Render.can_remix).
            take._remixable = {(take.connection_id, take.model)} if take.can_remix else set()
        return take

    @cached_property
    def review(self) -> ReviewDrawing:
        return ReviewDrawing(self.event, self.project)

    @cached_property
    def gone_notice(self) -> str:
        return _gone_notice(self.event)

    @cached_property
    def dialogue(self) -> dict[str, Any] | None:
        """The scene (with its cast), its lines with their sound and editors, the scene's spoken length and the
        team's character library, for its panel: none of it depends on the role watching."""
        project = self.project
        # The attribute Scene declares for the cast a page shows (the stubs see a second definition).
        if project is None or self.event.scene_id is None:
            return None
        scene = Scene.objects.prefetch_related(Prefetch("cast", to_attr="cast_list")).filter(  # type: ignore[no-redef]
            pk=self.event.scene_id).first()
        if scene is None:
            return None
        scene.project = project
        lines, library = scene_dialogue_for(scene=scene)
        return {"scene": scene, **dialogue_context(lines=lines, library=library, team=project.team, scene=scene)}

    @cached_property
    def field_rows(self) -> tuple[Scene, list[Any]] | None:
        """The scene and its values of the project's fields, as its panel shows them (the same for every role)."""
        project = self.project
        if project is None or self.event.scene_id is None:
            return None
        scene = Scene.objects.filter(pk=self.event.scene_id, project=project).first()
        if scene is None:
            return None
        scene.project = project
        return scene, scene_field_rows(fields=project_fields(project=project), scene=scene)

    @cached_property
    def continuity(self) -> list[tuple[Any, ...]]:
        """(scene, frame, panel) of each scene whose start or end frame depends on the changed scene (the
        one after it, the one before it), and of the changed scene itself when it has any."""
        project = self.project
        scene_id = self.event.scene_id
        scenes = {s.pk: s for s in _continuity_scenes(project, scene_id)} if project and scene_id else {}
        if project is None or not scenes:
            return []
        found = []
        for frame in board_frames(project=project, scene_ids=list(scenes)):
            scene = scenes[frame.scene_id]
            takes = list(Render.objects.filter(scene=scene).order_by("-created_at", "-pk")
                         .only("pk", "status", "recipe", "connection_id", "model", "number")[:10])
            first_last = (scene.position > 0,
                          Scene.objects.filter(project=project, position__gt=scene.position).exists())
            found.append((scene, frame, continuity_panel_for(scene=scene, frame=frame, takes=takes,
                                                             neighbours=first_last)))
        return found

    # --- drawn per audience ------------------------------------------------------------------
    def _scene_html(self, role: str) -> str:
        event, project, frame = self.event, self.project, self.frame
        if frame is None or project is None:
            return ""  # deleted since: its own event removes the frame
        context = {"project": project, "membership": _membership(project, role), "frame": frame, "oob": True}
        parts = []
        if event.kind in ARRIVING:
            # Appended to every board (static/studio/live.js drops a copy the page already has); a restored
            # scene's order event, which follows, puts it in its place.
            parts.append('<ol hx-swap-oob="beforeend:#board-frames">'
                         + render_to_string("projects/project_detail.html#board-frame", {**context, "oob": False})
                         + "</ol>")
            if event.kind == ChangeKind.SCENE_RESTORED:  # a panel still open on it may save again
                parts.append(_gone_notice(event, back=True))
        else:
            parts.append(render_to_string("projects/project_detail.html#board-frame", context))
        if _progress_only(event):
            # The commonest change of all, a take's percentage: its frame's chip is all that moves
            # (the open panel's card shows the status; its Refresh link or the next status, the rest).
            return compact("".join(parts))
        parts.append(render_to_string("projects/project_detail.html#board-totals",
                                      {**context, "totals": self.totals}))
        if _dialogue_edited(event):
            # A teammate's lines: the scene's open side panel shows them, and the cast they make.
            parts.append(self._dialogue_html(context))
        if _fields_edited(event) and self.field_rows is not None:
            # A teammate's values of the project's own fields: the scene's open side panel shows them
            # (a form someone is typing in keeps what they typed, live.js).
            parts.append(render_to_string("projects/project_detail.html#scene-fields", {
                **context, "scene": self.field_rows[0], "field_rows": self.field_rows[1]}))
        if event.take_id:
            # A take moved: the scene's open side panel says what its frame says, the status chip and
            # why the newest take failed, beside the take's card.
            parts.append(render_to_string("projects/project_detail.html#scene-status", context))
            parts.append(render_to_string("projects/project_detail.html#scene-failure", context))
            parts.append(self._take_html(role))
        if event.kind in CONTINUITY_KINDS:
            parts.append(self._continuity_html(_membership(project, role)))
        return compact("".join(parts))

    def _totals_html(self, role: str) -> str:
        project = self.project
        if project is None:
            return ""
        return render_to_string("projects/project_detail.html#board-totals", {
            "project": project, "membership": _membership(project, role), "totals": self.totals, "oob": True})

    def _take_html(self, role: str) -> str:
        """The take's card in an open side panel; a new take goes on top of its scene's stack."""
        take, event, project = self.take, self.event, self.project
        if take is None or take.quarantined_at or project is None:
            return ""  # withheld takes are shown only to the people allowed to see them, on reload
        drawn = render_to_string("generation/_take.html", {
            "take": take, "scene": take.scene, "membership": _membership(project, role),
            "retry_form": RetryForm(), "take_oob": event.kind != ChangeKind.TAKE_QUEUED})
        # Drawn once for every watcher: each page puts its own key in these one-click forms.
        card = ONE_CLICK_KEY.sub(r'\1value=""', drawn)
        if event.kind == ChangeKind.TAKE_QUEUED:
            return f'<div hx-swap-oob="afterbegin:#take-stack-{int(take.scene_id)}">{card}</div>'
        return card

    def _dialogue_html(self, context: dict[str, Any]) -> str:
        """The dialogue section and the cast of a scene's side panel, for a watcher of this role. Forms drawn
        once for everyone of the role: each page's htmx sends its own CSRF header (base.html)."""
        if self.dialogue is None:
            return ""
        context = {**context, **self.dialogue}
        return (render_to_string("projects/project_detail.html#scene-dialogue", context)
                + render_to_string("projects/project_detail.html#scene-cast", context))

    def _continuity_html(self, membership: Membership) -> str:
        """The frames and open panels' continuity of the scenes that depend on the changed one."""
        parts = []
        for scene, frame, panel in self.continuity:
            if scene.pk != self.event.scene_id:  # the changed scene's own frame is drawn above
                parts.append(render_to_string("projects/project_detail.html#board-frame", {
                    "project": self.project, "membership": membership, "frame": frame, "oob": True}))
            parts.append(render_to_string("projects/project_detail.html#scene-continuity", {
                "project": self.project, "membership": membership, "scene": scene, "continuity": panel,
                "oob": True}))
        return ONE_CLICK_KEY.sub(r'\1value=""', "".join(parts))

    def _review_html(self, role: str) -> str:
        """The open review pages' regions (review_fragments.py), each one-click form's key left for its page
        to fill."""
        return ONE_CLICK_KEY.sub(r'\1value=""', compact(self.review.html(role)))


def _progress_only(event: ChangeEvent) -> bool:
    return (event.kind == ChangeKind.TAKE_PROGRESS and event.data.get("status") == "running"
            and event.data.get("moved") is False)


def _dialogue_edited(event: ChangeEvent) -> bool:
    # Its lines, or their sound (spoken by a worker, a recording prepared, the scene re-timed).
    return event.kind == ChangeKind.SCENE_EDITED and bool({"dialogue", "voice", "duration"}
                                                          & set((event.data or {}).get("fields", ())))


def _fields_edited(event: ChangeEvent) -> bool:
    return event.kind == ChangeKind.SCENE_EDITED and "fields" in (event.data or {}).get("fields", ())


def _membership(project: Project, role: str) -> Membership:
    return Membership(team_id=project.team_id, role=role)


# Changes that can move the frame a neighbour starts from or ends on (another take approved, rendered,
# its approval withdrawn), or a scene's own continuity (its settings, a take of its own booked).
CONTINUITY_KINDS = {ChangeKind.TAKE_APPROVED, ChangeKind.TAKE_FINISHED, ChangeKind.TAKE_FAILED,
                    ChangeKind.TAKE_QUEUED, ChangeKind.DECISION_MADE, ChangeKind.SCENE_EDITED}


def _continuity_scenes(project: Project, scene_id: int) -> list[Any]:
    """The scene itself when it starts from or ends on a neighbour's frame, and the neighbours that do so
    from it: the one after starting from its last frame, the one before ending on its first frame."""
    row = Scene.objects.filter(pk=scene_id, project=project).values_list("position", flat=True).first()
    if row is None:
        return []
    near = Scene.objects.filter(project=project, position__in=[row - 1, row, row + 1]).select_related("project")
    return [s for s in near
            if (s.position == row and (s.start_from or s.end_on))
            or (s.position == row + 1 and s.start_from == StartFrom.PREVIOUS)
            or (s.position == row - 1 and s.end_on == EndOn.NEXT)]


def _gone_notice(event: ChangeEvent, *, back: bool = False) -> str:
    """The notice in a side panel still open on a scene a teammate moved to the trash: nothing the person
    typed there is taken away, and they learn why saving it would not work (emptied when it comes back)."""
    if event.scene_id is None:
        return ""
    scene_id = int(event.scene_id)
    if back:
        return f'<p id="scene-gone-{scene_id}" data-testid="scene-gone" hidden hx-swap-oob="outerHTML"></p>'
    who = event.actor.get_username() if event.actor_id and event.actor else gettext("A teammate")
    words = gettext("%(name)s moved this scene to the trash. What you typed stays here; restore the scene from "
                    "the project's Trash to save it.") % {"name": who}
    return (f'<p id="scene-gone-{scene_id}" class="error" role="alert" data-testid="scene-gone" '
            f'hx-swap-oob="outerHTML">{escape(words)}</p>')


PRESERVED = re.compile(r"(<textarea\b.*?</textarea>|<pre\b.*?</pre>)", re.S | re.I)


def compact(html: str) -> str:
    """The change on one line where HTML allows (not inside <textarea>/<pre>): it is sent to every
    watching page, and each line of it would be a `data:` line of the event to parse."""
    pieces = PRESERVED.split(html)
    return "".join(piece if i % 2 else re.sub(r"\s*\n\s*", " ", piece).strip() for i, piece in enumerate(pieces))


def bell_html(user_id: int) -> str:
    return compact(render_to_string("projects/_bell.html", {"unread": unread_count(user_id=user_id), "oob": True}))


def presence_context(project_id: int) -> dict[str, Any]:
    present = presence_for(project_id=project_id)
    return {"presence": present, "editing_json": json.dumps(editing_map(present))}


def presence_html(project_id: int) -> str:
    return render_to_string("projects/_presence.html", {**presence_context(project_id), "oob": True})


def _connection(event: ChangeEvent) -> list[Message]:
    connection = ProviderConnection.objects.select_related("team").filter(pk=event.object_id).first() \
        if event.object_id is not None else None
    if connection is None:
        return []
    html = render_to_string("generation/connections.html#test-result",
                            {"connection": connection, "team": connection.team, "oob": True})
    return [Message(event.id, "change", html)]


def _catalog_checked(event: ChangeEvent) -> list[Message]:
    """The check's outcome on its Models page (only the status line: what an owner typed below stays)."""
    connection = ProviderConnection.objects.select_related("team").filter(pk=event.object_id).first() \
        if event.object_id is not None else None
    if connection is None:
        return []
    proposal = catalog_proposal_for(connection=connection)
    html = render_to_string("generation/connection_catalog.html#check-status",
                            {"connection": connection, "team": connection.team, "proposal": proposal,
                             "p": proposal.proposal, "oob": True})
    return [Message(event.id, "change", html)]


def _cut_import(event: ChangeEvent) -> list[Message]:
    """An editor's cut being read, read or accepted: its status region on the pages open on it."""
    cut_import = CutImport.objects.select_related("project", "accepted_by", "revision").filter(
        pk=event.object_id).first() if event.object_id is not None else None
    if cut_import is None:
        return []
    html = render_to_string("generation/cut_import.html#cut-import-status",
                            {"cut_import": cut_import, "project": cut_import.project, "oob": True})
    return [Message(event.id, "change", compact(html))]


def _play_all_sound(event: ChangeEvent) -> list[Message]:
    """Open Play all pages swap in the mix a worker just made (pages elsewhere have no #cut-sound)."""
    mix = PlayAllMix.objects.select_related("project").filter(pk=event.object_id).first() \
        if event.object_id is not None else None
    if mix is None:
        return []
    html = render_to_string("projects/cut.html#cut-sound", {"mix": mix, "project": mix.project, "oob": True})
    return [Message(event.id, "change", compact(html))]


def _export(event: ChangeEvent) -> list[Message]:
    export = Export.objects.select_related("project", "created_by").filter(pk=event.object_id).first() \
        if event.object_id is not None else None
    if export is None:
        return []
    html = render_to_string("generation/exports.html#export-row",
                            {"export": export, "project": export.project, "oob": True})
    return [Message(event.id, "change", html)]
