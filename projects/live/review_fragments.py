"""What a change of review redraws on the open review pages: a comment, a reply, a resolution, an edit or
a change of sharing, a drawing (it comes with its comment), a decision.

Drawn once per role, as the board's regions are (fragments.py, which sends these along with the board's),
and pushed to every page of the project: a review page swaps the regions of its own take (their ids carry
the take's or the scene's id), any other page has no such region and leaves them.

- A thread (a first comment and its replies) goes into its take's list; a page that shows it already puts
  it in place of its copy, keeps what was typed there and the list in time order (static/studio/review.js).
- With it, that take's comment count and the markers on its timeline.
- A decision redraws, for each finished take of the scene, its status line and (for those who decide) its
  decision card, and the scene's decision history.

Nothing here depends on who reads it: what only a comment's author may do (edit it, share it) is drawn
marked `data-only-for`, and each page keeps it for its own user alone.

A guest's page (a review link) watches as the role `guest:<link id>`: it gets the threads a guest of that
link may read, drawn as a guest reads them (team usernames hidden, no "resolved by", no team-only reply),
of the takes the link shows, and nothing else of the project.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from django.template.loader import render_to_string

from projects import selectors
from projects.models import ChangeKind, Comment, Membership, Project, ReviewLink, Scene
from projects.review.guest_links import links_still_live, takes_in_scope, team_usernames
from projects.selectors import reviewable_takes

if TYPE_CHECKING:
    from generation.models import Render
    from projects.models import ChangeEvent, Membership


COMMENT_KINDS = {ChangeKind.COMMENT_ADDED, ChangeKind.COMMENT_RESOLVED, ChangeKind.COMMENT_EDITED,
                 ChangeKind.DECISION_MADE}
DECISION_KINDS = {ChangeKind.TAKE_APPROVED, ChangeKind.DECISION_MADE}
GUEST = "guest:"
# In a guest's reply form drawn for every guest of a link: each page puts its link's token here (review.js).
GUEST_TOKEN_SLOT = "__token__"


def guest_role(link_id: int) -> str:
    return f"{GUEST}{int(link_id)}"


def guest_link_id(role: str) -> int | None:
    """The review link a guest's page watches through, or None for a member's role."""
    if not str(role).startswith(GUEST):
        return None
    try:
        return int(role[len(GUEST):])
    except ValueError:
        return None


class ReviewDrawing:
    """What a change of review shows on the open review pages: read once (the thread, the take's count and
    markers; the scene's decisions and finished takes), drawn for each role watching ("" when it touches none)."""

    def __init__(self, event: ChangeEvent, project: Project | None) -> None:
        self.event, self.project = event, project

    def html(self, role: str) -> str:
        if self.project is None or self.event.kind not in COMMENT_KINDS | DECISION_KINDS:
            return ""
        membership = Membership(team_id=self.project.team_id, role=role)
        return self._thread_html(membership) + self._decision_html(membership)

    @cached_property
    def thread(self) -> tuple[Render, Comment] | None:
        """(take, thread) of the comment the change is about, or None (deleted since, or a withheld take)."""
        event, project = self.event, self.project
        if event.kind not in COMMENT_KINDS or not event.object_id:
            return None
        comment = (Comment.objects.select_related("take__scene")
                   .filter(pk=event.object_id, take__scene__project=project).first())
        if comment is None or not comment.take.is_watchable:
            return None  # shown only to those allowed, on reload
        thread = selectors.threads(Comment.objects.filter(pk=comment.parent_id or comment.pk)
                                .select_related("author", "resolved_by", "retake", "take")
                                .prefetch_related("revisions")).first()
        return (comment.take, thread) if thread is not None else None

    @cached_property
    def _take_regions(self) -> str:
        """The take's comment count and the markers on its timeline: the same for every role."""
        if self.thread is None:
            return ""
        take, _thread = self.thread
        html = render_to_string("projects/take_review.html#comment-count",
                                {"take": take, "comment_count": take.comments.count(), "count_oob": True})
        markers = list(take.comments.filter(parent__isnull=True).select_related("author"))
        return html + render_to_string("projects/_marker_bar.html", {"take": take, "comments": markers, "oob": True})

    def _thread_html(self, membership: Membership) -> str:
        if self.thread is None:
            return ""
        take, thread = self.thread
        context = {"comment": thread, "take": take, "scene": take.scene, "project": self.project,
                   "membership": membership, "live": True}
        return _into_list(take, render_to_string("projects/_comment_thread.html", context)) + self._take_regions

    @cached_property
    def decisions(self) -> tuple[Scene, list[Any], list[Render]] | None:
        """(scene with its review status, its decision history, its finished takes), or None."""
        event = self.event
        if event.kind not in DECISION_KINDS or not event.scene_id:
            return None
        found = selectors.with_review_status(Scene.objects.filter(pk=event.scene_id, project=self.project)
                                          .select_related("approved_take"))
        if not found:
            return None
        scene = found[0]
        takes = list(reviewable_takes(scene=scene).select_related("created_by", "parent"))
        for take in takes:
            take.scene = scene
        return scene, selectors.history(scene), takes

    def _decision_html(self, membership: Membership) -> str:
        if self.decisions is None:
            return ""
        scene, decisions, takes = self.decisions
        context = {"scene": scene, "scene_status": scene.review_status, "project": self.project,
                   "membership": membership, "decisions": decisions, "oob": True}
        parts = [render_to_string("projects/take_review.html#history", context)]
        for take in takes:
            take_context = {**context, "take": take}
            parts.append(render_to_string("projects/take_review.html#review-status", take_context))
            parts.append(render_to_string("projects/take_review.html#stale-notice", take_context))
            if membership.can_review:
                parts.append(render_to_string("projects/take_review.html#decision", take_context))
        return "".join(parts)


def _into_list(take: Render, thread_html: str) -> str:
    return f'<ol hx-swap-oob="beforeend:#comment-list-{int(take.pk)}">{thread_html}</ol>'


def guest_review_html(event: ChangeEvent, link_id: int) -> str:
    """What a guest's page of review link `link_id` redraws for a change: a thread they may read, or nothing."""
    if event.kind not in COMMENT_KINDS or not event.object_id:
        return ""  # decisions, the board, presence, the bell: never a guest's
    if event.project_id is None:
        return ""
    link = ReviewLink.objects.select_related("project").filter(pk=link_id, project_id=event.project_id).first()
    if link is None or not link.is_live:
        return ""
    take = next((t for t in takes_in_scope(link) if t.pk == event.take_id), None)
    if take is None:
        return ""  # a take this link does not show
    comment = Comment.objects.filter(pk=event.object_id, take=take).first()
    if comment is None:
        return ""
    thread = selectors.threads(Comment.objects.filter(pk=comment.parent_id or comment.pk)
                            .select_related("author", "retake"), for_guests=True).first()
    usernames = team_usernames(link)
    if thread is None:
        if comment.parent_id is None and event.data.get("unshared"):
            # Made team only: a guest page that showed it takes it away (nothing is said of other team-only notes).
            html = f'<li id="comment-{int(comment.pk)}" hx-swap-oob="delete"></li>'
        else:
            return ""
    else:
        context = {"comment": thread, "take": take, "guest": True, "team_usernames": usernames,
                   "guest_token_slot": GUEST_TOKEN_SLOT, "live": True}
        html = _into_list(take, render_to_string("projects/_comment_thread.html", context))
    markers = selectors.threads(take.comments.select_related("author"), for_guests=True)
    return html + render_to_string("projects/_marker_bar.html", {
        "take": take, "comments": markers, "guest": True, "team_usernames": usernames, "oob": True})


def guest_pages_kept(pages: list[Any]) -> set[Any]:
    """Of guests' open pages (presence.OpenPage, role `guest:<link id>`), those whose link still works, on the project
    they watch: one query for all of them, at the hub's keep-alive. The others end."""
    if not pages:
        return set()
    live = links_still_live(guest_link_id(page.role) for page in pages)
    return {page for page in pages if page.channel[0] == "project"
            and (link_id := guest_link_id(page.role)) is not None and live.get(link_id) == page.channel[1]}
