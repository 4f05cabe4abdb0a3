"""Read models of review: a scene's review status, a take with its comments and decisions, the takes one
may compare, the approved cut and the activity feed."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import (
    Count,
    Exists,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    TextField,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.shortcuts import get_object_or_404
from django.urls import reverse

from generation.models import Render, Status
from projects.inputs import parse_id
from projects.models import (
    ACTIVITY_FILTERS,
    Activity,
    Comment,
    Decision,
    DialogueLine,
    Project,
    ReviewDecision,
    ReviewRoom,
    Scene,
    SceneStatus,
)
from projects.review import playall
from projects.selectors.teams import mention_members_for


def reviewable_takes(*, scene: Scene) -> QuerySet[Render]:
    """Finished takes that may be watched (never a withheld one), newest first."""
    return scene.renders.watchable().order_by("-number")


@dataclass
class TakeReview:
    """What the review page shows around one take."""

    take: Render
    scene: Scene
    scene_status: str
    comments: list
    comment_count: int  # replies included, as on the take's card
    decisions: list
    other_takes: list[Render]
    next_scene: Scene | None = None  # the scene after it, which may start from a frame of this take
    open_room: ReviewRoom | None = None  # a review room open on it: the page offers to join it

    def as_context(self) -> dict:
        return {"take": self.take, "scene": self.scene, "project": self.scene.project,
                "scene_status": self.scene_status, "comments": self.comments,
                "comment_count": self.comment_count, "decisions": self.decisions,
                "other_takes": self.other_takes, "next_scene": self.next_scene, "open_room": self.open_room}


def take_review_for(*, take: Render) -> TakeReview:
    scene = take.scene
    return TakeReview(
        take=take, scene=scene,
        scene_status=with_review_status(Scene.objects.filter(pk=scene.pk))[0].review_status,
        comments=threads(take.comments.select_related("author", "resolved_by", "retake")
                                .prefetch_related("revisions")),
        comment_count=take.comments.count(),
        decisions=history(scene),
        other_takes=[t for t in reviewable_takes(scene=scene) if t.pk != take.pk],
        next_scene=(Scene.objects.filter(project_id=scene.project_id, position__gt=scene.position)
                    .order_by("position", "pk").first()),
        open_room=ReviewRoom.objects.filter(take=take, other_take__isnull=True, closed_at__isnull=True).first(),
    )


def take_review_page_for(*, take: Render, membership, user, **extra) -> dict:
    """The take's review page, whole (the take's own page, a review room on it): its read model, the reader's
    membership and the teammates a comment may @mention, suggested as one types; `extra` on top."""
    members = mention_members_for(team=membership.team, user=user)
    return {**take_review_for(take=take).as_context(), "membership": membership,
            "mention_members_json": json.dumps(members), **extra}


def compare_page_for(*, scene: Scene, membership, takes: list[Render], left: Render | None, right: Render | None,
                     **extra) -> dict:
    """The compare page (two of the scene's finished `takes` side by side, or a compare room on them): `extra` on top."""
    error = ""
    if len(takes) < 2:
        error = "This scene needs two finished takes to compare."
    elif left == right:
        error = "Pick two different takes."
    open_room = (ReviewRoom.objects.filter(take=left, other_take=right, closed_at__isnull=True).first()
                 if left and right and not error else None)
    return {"scene": scene, "project": scene.project, "membership": membership, "takes": takes, "a": left, "b": right,
            "sides": [left, right], "error": error, "open_room": open_room, **extra}


@dataclass
class CutEntry(playall.PlayEntry):
    """One scene's stop in the cut (`take` None: the scene has nothing finished, Play all shows its previz card)."""

    @property
    def approved(self) -> bool:
        return self.kind == playall.APPROVED


@dataclass
class Cut:
    """The board as Play all plays it, in scene order (approved takes, else the newest take, else a
    card), the scenes not approved yet, and those the editor dropped."""

    entries: list[CutEntry] = field(default_factory=list)
    missing: list[Scene] = field(default_factory=list)  # not approved: played as the newest take or a card
    dropped: list[Scene] = field(default_factory=list)  # out of the cut (Scene.in_cut), still on the board

    @property
    def total(self) -> float:
        return sum(entry.duration for entry in self.entries)


def cut_for(*, project: Project) -> Cut:
    """The cut; each scene with its `review_status`, so a scene not approved says why (e.g. its take failed)."""
    entries, dropped = playall.play_all_sequence(project)
    return Cut(entries=[CutEntry(scene=e.scene, take=e.take, start=e.start, duration=e.duration, kind=e.kind)
                        for e in entries],
               missing=[e.scene for e in entries if e.kind != playall.APPROVED], dropped=dropped)


def activity_for(*, project: Project, kind: str = "", scene: Scene | None = None) -> QuerySet[Activity]:
    """The project's feed, newest first; `kind`: a key of ACTIVITY_FILTERS, or "" for everything."""
    entries = Activity.objects.filter(project=project).select_related("actor", "scene", "take")
    if kind:
        entries = entries.filter(kind__in=ACTIVITY_FILTERS[kind])
    if scene is not None:
        entries = entries.filter(scene=scene)
    return entries


ACTIVITY_PAGE = 200
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class ActivityCursor:
    """Where a page of the feed ends (entries are newest first): its last entry's time and id."""

    at: datetime
    pk: int

    @property
    def token(self) -> str:
        """As a query string carries it: microseconds since 1970, a dot, the id."""
        return f"{(self.at - _EPOCH) // _MICROSECOND}.{self.pk}"

    @classmethod
    def parse(cls, token) -> ActivityCursor | None:
        """The cursor a token names, or None when it names none (a mistyped or doctored link)."""
        micros_text, _, pk_text = str(token).partition(".")
        micros, pk = parse_id(micros_text), parse_id(pk_text)
        if micros is None or pk is None:
            return None
        try:
            return cls(_EPOCH + micros * _MICROSECOND, pk)
        except OverflowError:  # past the year 9999
            return None


@dataclass
class ActivityPage:
    entries: list[Activity]
    older: ActivityCursor | None  # where the next, older page starts; None at the oldest entry


def activity_page(*, project: Project, kind: str = "", scene: Scene | None = None, scene_search: str = "",
                  before: ActivityCursor | None = None, size: int | None = None) -> ActivityPage:
    """A page of the feed, newest first, older than `before` (the newest when None).

    Keyset, not offset: a range on the time from the cursor, on the (project, time, id) index, so
    a page costs the same at the end of a long history as at its start, and an entry added while
    someone reads is neither shown twice nor skipped."""
    size = size or ACTIVITY_PAGE
    entries = activity_for(project=project, kind=kind, scene=scene)
    if scene_search:
        entries = entries.filter(scene__in=scenes_matching(project=project, search=scene_search))
    if before is not None:
        entries = entries.filter(at__lte=before.at).exclude(at=before.at, pk__gte=before.pk)
    rows = list(entries[:size + 1])
    older = ActivityCursor(rows[size - 1].at, rows[size - 1].pk) if len(rows) > size else None
    return ActivityPage(rows[:size], older)


def scenes_matching(*, project: Project, search: str) -> QuerySet[Scene]:
    """The project's scenes a search names: by number ("12") or by words of the title."""
    found = Q(title__icontains=search)
    if (number := parse_id(search)) is not None:
        found |= Q(position=number - 1)
    return project.scenes.filter(found)


# --- Review status, threads and decisions ------------------------------------------------------


def threads(comments, *, for_guests: bool = False):
    """Top-level comments (a queryset) with their replies, oldest first, each with its author.

    `for_guests`: only what a guest of a review link may read (Comment.objects.for_guests)."""
    from django.db.models import Prefetch

    replies = Comment.objects.select_related("author").prefetch_related("revisions").order_by("created_at")
    if for_guests:
        comments, replies = comments.for_guests(), replies.for_guests()
    return comments.filter(parent__isnull=True).prefetch_related(Prefetch("replies", replies))


def with_review_status(scenes) -> list[Scene]:
    """Scenes (a queryset) as a list, each with `.review_status` (a SceneStatus).

    no take → in review (takes exist) → changes requested (a request came after
    the newest take) → approved (an approved take); failed when the newest take failed.
    """
    newest = Render.objects.filter(scene=OuterRef("pk")).order_by("-created_at", "-pk")
    scenes = scenes.annotate(
        take_count=Count("renders", distinct=True),
        newest_take_at=Max("renders__created_at"),
        newest_take_status=Subquery(newest.values("status")[:1]),
        changes_at=Max("decisions__at", filter=Q(decisions__decision=Decision.CHANGES_REQUESTED)),
    )
    if not scenes.query.order_by:
        # Django drops Meta.ordering from GROUP BY queries: without this the board shows
        # the database's order, not the storyboard's.
        scenes = scenes.order_by(*(Scene._meta.ordering or ()))
    result = list(scenes)
    for scene in result:
        scene.review_status = status_of(scene)
    return result


def status_of(scene) -> SceneStatus:
    """The one rule; `scene` carries take_count, newest_take_at, newest_take_status and changes_at."""
    return review_status(approved=bool(scene.approved_take_id), has_take=bool(scene.take_count),
                         newest_take_status=scene.newest_take_status,
                         changes_since_newest=bool(scene.changes_at and scene.changes_at >= scene.newest_take_at))


def review_status(*, approved: bool, has_take: bool, newest_take_status: str | None,
                  changes_since_newest: bool) -> SceneStatus:
    """The rule itself, from its four facts (Play all's sequence reads them in SQL, without the times)."""
    if approved:
        return SceneStatus.APPROVED
    if not has_take:
        return SceneStatus.NO_TAKE
    if newest_take_status == Status.FAILED:  # moderation, an expired result, …: nothing new to review
        return SceneStatus.FAILED
    if changes_since_newest:
        return SceneStatus.CHANGES_REQUESTED
    return SceneStatus.IN_REVIEW


def progress(scenes: list[Scene]) -> dict:
    approved = sum(1 for s in scenes if s.review_status == SceneStatus.APPROVED)
    total = len(scenes)
    return {"approved": approved, "total": total, "percent": round(100 * approved / total) if total else 0}


def comments_for_takes(takes):
    """The comments (and replies) on these takes, with their authors: what an export wrote as markers."""
    return Comment.objects.filter(take__in=takes).select_related("author")


def approval_override(take) -> ReviewDecision | None:
    """The owner's override that approved `take` as it stands, if its latest approval was one."""
    latest = (ReviewDecision.objects.filter(take=take, decision__in=[Decision.APPROVED, Decision.APPROVED_OVERRIDE])
              .select_related("by").order_by("-at", "-pk").first())
    return latest if latest is not None and latest.decision == Decision.APPROVED_OVERRIDE else None


def history(scene) -> list[ReviewDecision]:
    return list(scene.decisions.select_related("by", "take", "comment"))


@dataclass
class CutSequence:
    """Play all's page as the player needs it: one small dict per stop (what plays there and when), the
    scenes not approved yet, and the sequence's length. What a stop shows beyond that (a card's lines)
    is asked for when the stop is about to play (`cut_stop_for`)."""

    stops: list[dict] = field(default_factory=list)
    chips: list[dict] = field(default_factory=list)  # the approved takes' provenance chips, each told once
    missing: list[dict] = field(default_factory=list)  # stops not approved: played as the newest take or a card
    total: float = 0.0

    @property
    def timings(self) -> list[playall.Timing]:
        """The stops as the sound's recipe reads them (the same as `cut_for`'s entries give)."""
        return [playall.Timing(scene=s["scene"], take=s.get("take"), start=s["start"], duration=s["duration"])
                for s in self.stops]


_SRC_PLACEHOLDER = 987654321  # reversed once; each take's address is this with its own id


def _frame_rate(fps: object) -> float:
    # The rule of Render.frame_rate, read from the one key the query fetched (text or a number, by database).
    try:
        rate = float(fps)  # type: ignore[arg-type]  # None and junk fall to 24 below
    except (TypeError, ValueError):
        return 24.0
    return round(rate, 3) if 1 <= rate <= 240 else 24.0


def cut_sequence_for(*, project: Project) -> CutSequence:
    """The cut as `cut_for` plays it, in two queries whatever its length: the scenes with, by subquery, the
    take each plays (its approved take if watchable, else its newest watchable one) and what its review status
    reads (the newest take's status and time, the latest request for changes: no join of takes × decisions);
    then the played takes' few fields. Rows, not models: at 1,000 scenes the models were most of the page."""
    approved_watchable, newest_watchable = _played_subqueries()
    newest = Render.objects.filter(scene=OuterRef("pk")).order_by("-created_at", "-pk")
    # Changes requested since the newest take, asked as a yes or no: reading both times back costs a datetime
    # parsed per scene, twice.
    changes_since = ReviewDecision.objects.filter(
        scene=OuterRef("pk"), decision=Decision.CHANGES_REQUESTED,
        at__gte=Subquery(Render.objects.filter(scene=OuterRef(OuterRef("pk"))).order_by("-created_at", "-pk")
                         .values("created_at")[:1]))
    rows = list(project.scenes.filter(in_cut=True).order_by("position", "pk").annotate(
        playing_approved=approved_watchable, playing_newest=newest_watchable, newest_take_status=Subquery(newest.values("status")[:1]), changes_since=Exists(changes_since),
    ).values("pk", "position", "title", "duration", "approved_take_id", "playing_approved", "playing_newest",
             "newest_take_status", "changes_since"))
    played = [row["playing_approved"] or row["playing_newest"] for row in rows]
    # The JSON fields as text (a JSON decode per take and field was a fifth of the page): the codes are decoded
    # once per distinct chip, the frame rate is one number. Unordered: they are found by id (the takes' default
    # order sorted 500 rows for nothing).
    takes = {t["pk"]: t for t in Render.objects.filter(pk__in=[pk for pk in played if pk]).order_by().values(
        "pk", "number", "duration_seconds", "c2pa_state", fps=KT("delivered__fps"),
        codes=Cast("c2pa_codes", TextField()), signer=KT("c2pa_summary__signer"),
        verdict=KT("c2pa_summary__verdict"))}
    src = reverse("generation:render_file", args=[_SRC_PLACEHOLDER, "video"])
    chips: dict[tuple, int] = {}
    sequence, at = CutSequence(), 0.0
    for row, take_id in zip(rows, played, strict=True):
        take = takes.get(take_id) if take_id else None
        kind = (playall.APPROVED if row["playing_approved"] else playall.NEWEST) if take else playall.CARD
        duration = (take["duration_seconds"] if take else None) or float(row["duration"])
        status = review_status(approved=bool(row["approved_take_id"]), has_take=row["newest_take_status"] is not None,
                               newest_take_status=row["newest_take_status"], changes_since_newest=row["changes_since"])
        stop = {"scene": row["pk"], "number": row["position"] + 1, "title": row["title"], "kind": kind,
                "start": at, "duration": duration, "status": str(status)}
        if take:
            stop.update(take=take["pk"], take_number=take["number"], fps=_frame_rate(take["fps"]),
                        src=src.replace(str(_SRC_PLACEHOLDER), str(take["pk"])))
        if kind == playall.APPROVED and take:
            stop["chip"] = _chip_index(chips, sequence.chips, take)
        else:
            sequence.missing.append(stop)
        sequence.stops.append(stop)
        at += duration
    sequence.total = at
    return sequence


def _played_subqueries() -> tuple[Subquery, Subquery]:
    """The take a scene of the cut plays, as two subqueries on the scene: its approved take if watchable, else
    its newest watchable one (the rule of `playall.play_all_sequence`)."""
    watchable = Render.objects.watchable()
    return (Subquery(watchable.filter(pk=OuterRef("approved_take_id")).values("pk")[:1]),
            Subquery(watchable.filter(scene=OuterRef("pk")).order_by("-number", "-pk").values("pk")[:1]))


def cut_timings_for(*, project: Project) -> list[playall.Timing]:
    """The cut's stops as the sound's recipe reads them (`CutSequence.timings`), without what only the page shows
    (titles, review status, provenance, addresses): the sound's state and the captions find the mix by them.
    One query: the played take's length by subquery beside its id (reading the played takes by 1,000 ids bound as
    parameters cost as much again)."""
    approved_watchable, newest_watchable = _played_subqueries()
    watchable = Render.objects.watchable()
    rows = project.scenes.filter(in_cut=True).order_by("position", "pk").annotate(
        playing_approved=approved_watchable, playing_newest=newest_watchable,
        approved_seconds=Subquery(watchable.filter(pk=OuterRef("approved_take_id")).values("duration_seconds")[:1]),
        newest_seconds=Subquery(watchable.filter(scene=OuterRef("pk")).order_by("-number", "-pk")
                                .values("duration_seconds")[:1]),
    ).values_list("pk", "duration", "playing_approved", "playing_newest", "approved_seconds", "newest_seconds")
    timings, at = [], 0.0
    for scene, duration, approved, newest, approved_seconds, newest_seconds in rows:
        take, seconds = (approved, approved_seconds) if approved else (newest, newest_seconds)
        length = (seconds if take else None) or float(duration)
        timings.append(playall.Timing(scene=scene, take=take, start=at, duration=length))
        at += length
    return timings


def _chip_index(known: dict[tuple, int], chips: list[dict], take: Mapping[str, Any]) -> int:
    """A take's provenance chip as the board draws it (`generation/_provenance_chip.html`), worked out once per
    distinct verdict: the approved takes of a board share a handful."""
    key = (take["c2pa_state"], take["codes"], take["signer"], bool(take["verdict"]))
    if key not in known:
        model = Render(status=Status.SUCCEEDED, c2pa_state=take["c2pa_state"],
                       c2pa_codes=json.loads(take["codes"] or "[]"),
                       c2pa_summary={"signer": take["signer"], "verdict": take["verdict"]})
        known[key] = len(chips)
        chips.append({"state": model.provenance_state, "label": str(model.provenance_label),
                      "title": (str(model.provenance_verdict) or take["verdict"]) if key[3] else ""})
    return known[key]


def cut_stop_for(*, project: Project, scene_pk: int) -> Scene:
    """One stop's details, asked for as it is about to play: the scene with its lines (a card shows them)."""
    return get_object_or_404(project.scenes.prefetch_related(
        Prefetch("lines", queryset=DialogueLine.objects.select_related("character"))), pk=scene_pk)
