"""Read models of the storyboard: the board of frames, its totals and one scene's side panel.

Named `<entity>_<query>`. Each builds what a page shows with a fixed number of queries,
however many scenes and takes the project holds (tests/projects/test_board_queries.py).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    TextField,
    Value,
)
from django.db.models.functions import Coalesce, Substr
from django.db.models.lookups import IContains, IExact
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from generation.catalog import mark_remixable
from generation.models import TERMINAL, ProvenanceState, Render, take_phase
from generation.renders.continuity import followed_take_id, source_key
from generation.renders.retirement import label_for, lifecycle_labels
from generation.words import worded
from projects.inputs import CONTROL_CHARACTERS
from projects.models import (
    BoardView,
    Comment,
    Decision,
    DialogueLine,
    EndOn,
    FieldKind,
    Project,
    ReviewDecision,
    Scene,
    SceneStatus,
    StartFrom,
    UserPreference,
)
from projects.selectors.continuity import continuity_panel_for
from projects.selectors.fields import (
    FRAME_FIELDS,
    FieldFilter,
    FieldShown,
    field_filters,
    project_fields,
    shown_values,
)
from projects.selectors.review import status_of

# Status chips of a frame, in the words the board shows: the scene's review status (SceneStatus, whose
# labels these are), a take on its way, or an approved take whose scene was edited since.
STATUS_LABELS = {
    "no_take": _("No take"),
    "queued": _("Queued"),
    "rendering": _("Rendering"),
    "in_review": _("Ready for review"),
    "changes_requested": _("Changes requested"),
    "approved": _("Approved"),
    "stale_approval": _("Stale approval"),
    # The newest take failed: refused by moderation, its result expired, … (its reason is the chip's title).
    "failed": _("Failed"),
    # The newest take's create may have reached the provider before a worker died (pipeline.UNCONFIRMED).
    "unconfirmed": _("Unconfirmed — may be billed"),
}
FAILED = {"failed", "unconfirmed"}  # chips that say the newest take ended without a video
# What a take's own card adds to the frame's words (take_state): a take that ended without a picture,
# one withheld because someone it casts revoked consent, or one whose create the studio is looking up.
TAKE_LABELS = {**STATUS_LABELS, "canceled": _("Canceled"), "withheld": _("Withheld"),
               "confirming": _("Checking with the provider")}

NO_VERDICT = {"verdict": ""}
FRAME_LINES = 2  # lines of dialogue a frame shows; the panel has them all
# Characters of a scene's action a frame shows (cut at a word, the panel has it all): a grid clamps them
# to three lines until the frame is hovered or focused, the list shows them. A prompt may be 32,000.
FRAME_ACTION = 280


class _Drawn:
    """Read by the board's template, 200 frames at a time: Django looks `frame.title` up as
    frame["title"] first, and answering it saves a caught TypeError on each of ~30 lookups a frame."""

    def __getitem__(self, name: str):
        return getattr(self, name)


@dataclass
class CastMember(_Drawn):
    pk: int
    name: str

    @property
    def initials(self) -> str:
        parts = [p for p in self.name.replace("-", " ").split() if p[:1].isalnum()]
        return "".join(p[0] for p in parts[:2]).upper() or self.name[:1].upper()


@dataclass
class FrameLine(_Drawn):
    """A line of dialogue as a frame shows it: who speaks (a character by their name now) and what."""

    speaker: str
    parenthetical: str
    text: str


@dataclass
class Frame(_Drawn):
    scene: Scene
    number: int
    title: str
    duration: int
    thumbnail_url: str | None
    status: str  # a STATUS_LABELS key
    status_label: str
    progress: int | None  # percent, while a take renders
    cast: list[CastMember]
    comment_count: int
    take_count: int
    panel_url: str = ""
    provenance_state: str = ""  # of the take the frame shows ("" when it shows none)
    unconfirmed_cost: Decimal = Decimal(0)  # of takes that may have been billed though none came back
    lifecycle_label: str = ""  # "Sora 2 retired" / "Veo 3.1 retires 2026-12-01": the model it uses is going
    status_reason: str = ""  # why the newest take failed ("Take 2: Refused by …"), when the chip says it did
    lines: list[FrameLine] = field(default_factory=list)  # the scene's dialogue, in order
    action: str = ""  # the start of the scene's prompt, as a storyboard reads under its picture
    camera_notes: str = ""
    field_values: list[FieldShown] = field(default_factory=list)  # the project's own fields, filled ones

    @property
    def fields_shown(self) -> list[FieldShown]:
        return self.field_values[:FRAME_FIELDS]

    @property
    def fields_more(self) -> int:
        return max(0, len(self.field_values) - FRAME_FIELDS)

    @property
    def lines_shown(self) -> list[FrameLine]:
        return self.lines[:FRAME_LINES]

    @property
    def lines_more(self) -> int:
        return max(0, len(self.lines) - FRAME_LINES)
    # The frame its newest take started from (ended on) is no longer the one the scene would take now:
    # another take of the scene before (after) was approved or rendered. Nothing re-renders by itself.
    start_changed: bool = False
    end_changed: bool = False

    @property
    def provenance_label(self) -> str:
        return str(ProvenanceState(self.provenance_state).label) if self.provenance_state else ""

    @property
    def scene_id(self) -> int:
        return self.scene.pk

    @property
    def c2pa_summary(self) -> dict:
        return NO_VERDICT  # the provenance chip's tooltip is a take card's: a frame has none to look up


@dataclass
class Totals:
    scenes: int
    runtime_seconds: int
    approved: int
    spend: Decimal
    budget: Decimal | None
    unconfirmed: Decimal = Decimal(0)  # of `spend`: takes that may have been billed, none confirmed
    trash_count: int = 0  # when asked for (board_totals(with_trash=True))

    @property
    def runtime(self) -> str:
        minutes, seconds = divmod(self.runtime_seconds, 60)
        return f"{minutes}:{seconds:02d}"

    @property
    def percent(self) -> int:
        return round(100 * self.approved / self.scenes) if self.scenes else 0

    @property
    def over_budget(self) -> bool:
        return self.budget is not None and self.spend > self.budget


@dataclass(frozen=True)
class TakeState:
    key: str  # a TAKE_LABELS key
    label: str


@dataclass
class Board:
    project: Project
    frames: list[Frame] = field(default_factory=list)  # the first page of them (BoardPage)
    totals: Totals | None = None
    trash_count: int = 0  # scenes in the project's trash (the Trash link says how many)
    page: BoardPage | None = None
    fields: list = field(default_factory=list)  # the project's own fields (ProjectField), in order


@dataclass(frozen=True)
class BoardFilter:
    """What the board's filter form asks: words in a scene (title, action, camera notes, dialogue and who
    speaks it, the values of the project's own text, choice and tag fields), a frame status (a STATUS_LABELS
    key), a cast member (a character's id) and values of the project's own fields (?shot_type=Wide&lens=35,
    selectors.fields)."""

    q: str = ""
    status: str = ""
    cast: int | None = None
    fields: tuple[FieldFilter, ...] = ()
    # The project's own fields whose values the words are looked for in: (key, kind).
    searched: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_query(cls, data, *, fields: list | tuple = ()) -> BoardFilter:
        """From a request's GET (or POST), given the project's fields: anything it does not understand is left
        out, never an error."""
        status = data.get("status", "")
        cast = data.get("cast", "")
        # A POST is not refused for control characters as a query string is (RefuseControlCharactersMiddleware),
        # and PostgreSQL refuses NUL in a search: no scene holds one anyway.
        return cls(q=" ".join(CONTROL_CHARACTERS.sub("", str(data.get("q", ""))).split())[:200],
                   status=status if status in STATUS_LABELS else "",
                   cast=int(cast) if cast.isascii() and cast.isdigit() and len(cast) < 12 else None,
                   fields=field_filters(fields=list(fields), query=data) if fields else (),
                   searched=tuple((f.key, f.kind) for f in fields if f.kind in WORDED_KINDS))

    @property
    def active(self) -> bool:
        return bool(self.q or self.status or self.cast or self.fields)

    @property
    def pairs(self) -> list[tuple[str, str]]:
        """The filter as query parameters: the next page's address and "Select all" carry them."""
        own = [("q", self.q), ("status", self.status), ("cast", str(self.cast or ""))]
        return [(k, v) for k, v in own if v] + [(f.key, f.wanted) for f in self.fields]

    @property
    def query(self) -> str:
        """The filter as the next page's address carries it ("" when none)."""
        return urlencode(self.pairs)


NO_FILTER = BoardFilter()


@dataclass
class BoardPage:
    """Frames of the board from a position on, as many as one page holds, and where the next page starts."""

    frames: list[Frame]
    filters: BoardFilter
    next_after: int | None  # the position the next page starts after; None: this was the last page
    matching: int | None = None  # scenes the filter found (None when the status filter must read the takes)


@dataclass
class ScenePanel:
    scene: Scene
    frame: Frame
    takes: list = field(default_factory=list)
    library: list = field(default_factory=list)
    dialogue: list = field(default_factory=list)  # DialogueLine rows, in order, with their characters
    continuity: object = None  # a selectors.continuity.ContinuityPanel


def board_for(*, project: Project, user=None, filters: BoardFilter = NO_FILTER, fields: list | None = None) -> Board:
    """The board's first page of frames (the rest load as they scroll into view) and the totals of them all.
    `fields`: the project's own fields, when the caller read them already (for the filter)."""
    own_fields = project_fields(project=project) if fields is None else fields
    page = board_page_for(project=project, filters=filters, fields=own_fields)
    totals = board_totals(project=project, with_trash=True)
    return Board(project=project, frames=page.frames, totals=totals, page=page, trash_count=totals.trash_count,
                 fields=own_fields)


def board_page_for(*, project: Project, after: int | None = None, filters: BoardFilter = NO_FILTER,
                   size: int | None = None, fields: list | None = None) -> BoardPage:
    """One page of frames by position: those after `after` (a position) that the filter keeps.

    The scenes' own columns filter in the database; a frame's status is drawn from its takes, so the status
    filter reads candidates a chunk at a time until the page is full: the cost follows the page, not the board."""
    size = size or settings.BOARD_PAGE_SIZE
    scenes = _filtered(project, filters)
    matching = None if filters.status else (scenes.count() if filters.active else None)
    if after is not None:
        scenes = scenes.filter(position__gt=after)
    scenes = scenes.order_by("position", "pk")
    frames: list[Frame] = []
    chunk = size if not filters.status else max(size, 100)
    # The board's first page holds the neighbours its frames follow (the one read beyond it among them).
    whole = after is None and not filters.active
    while True:
        # One more than the chunk: whether a page follows, without a query of its own.
        read = _frames(project, project.scenes.filter(pk__in=scenes.values("pk")[:chunk + 1]), whole=whole,
                       own_fields=fields)
        for frame in read[:chunk]:
            if not filters.status or frame.status == filters.status:
                frames.append(frame)
            if len(frames) == size:
                more = frame is not read[-1]
                return BoardPage(frames=frames, filters=filters, matching=matching,
                                 next_after=frame.scene.position if more else None)
        if len(read) <= chunk:
            return BoardPage(frames=frames, filters=filters, matching=matching, next_after=None)
        scenes = scenes.filter(position__gt=read[chunk - 1].scene.position)


def board_scene_ids(*, project: Project, filters: BoardFilter = NO_FILTER) -> list[int]:
    """Every scene the filter keeps, in board order: "Select all" reaches them, loaded on the page or not."""
    if not filters.status:
        return list(_filtered(project, filters).order_by("position", "pk").values_list("pk", flat=True))
    return [f.scene_id for f in _frames(project, _filtered(project, filters), whole=False, own_fields=[])
            if f.status == filters.status]


# The project's own fields a board search reads: words are in these, a number is not one.
WORDED_KINDS = (FieldKind.TEXT, FieldKind.CHOICE, FieldKind.TAGS)


def _filtered(project: Project, filters: BoardFilter):
    scenes = project.scenes.all()
    if filters.q:
        words = Q()
        for word in filters.q.split()[:8]:
            lines = DialogueLine.objects.filter(Q(text__icontains=word) | Q(speaker__icontains=word),
                                                scene=OuterRef("pk"))
            match = (Q(title__icontains=word) | Q(prompt__icontains=word) | Q(camera_notes__icontains=word)
                     | Q(Exists(lines)))
            for key, kind in filters.searched:
                if kind == FieldKind.TAGS:
                    match |= Q(pk__in=_tagged(scenes, key, word))
                else:
                    match |= Q(IContains(_FieldText(key), word))
            words &= match
        scenes = scenes.filter(words)
    if filters.cast:
        scenes = scenes.filter(Exists(Scene.cast.through.objects.filter(scene_id=OuterRef("pk"),
                                                                        character_id=filters.cast)))
    for wanted in filters.fields:
        scenes = _holding(scenes, wanted)
    return scenes


class _FieldText(Func):
    """A scene's value of one of the project's fields, as text. Django's own key lookups (field_values__12)
    read a key of digits, as a field's id is, as an array index on PostgreSQL and SQLite alike: the path
    is written here with the key as a string."""

    output_field = TextField()

    def __init__(self, key: str):
        self.key = key
        super().__init__(F("field_values"))

    def as_sql(self, compiler, connection, **extra):  # PostgreSQL (jsonb)
        lhs, params = compiler.compile(self.get_source_expressions()[0])
        return f"({lhs} ->> %s::text)", (*params, self.key)

    def as_sqlite(self, compiler, connection, **extra):
        lhs, params = compiler.compile(self.get_source_expressions()[0])
        return f"JSON_EXTRACT({lhs}, %s)", (*params, "$." + json.dumps(self.key))


def _holding(scenes, wanted: FieldFilter):
    """The scenes whose value of a field matches (FieldFilter.holds): text by part of it, a choice or a number
    whole, in the database; tags by any one tag whole, which the two databases test differently (a JSON
    array), so their holders are read a chunk at a time, one small column, and kept by id."""
    key = wanted.field.key
    if wanted.field.kind != FieldKind.TAGS:
        lookup = IContains if wanted.field.kind == FieldKind.TEXT else IExact
        return scenes.filter(lookup(_FieldText(key), wanted.wanted))
    held = scenes.filter(field_values__has_key=key).order_by().values_list("pk", "field_values")
    return scenes.filter(pk__in=[pk for pk, values in held.iterator(chunk_size=500) if wanted.holds(values[key])])


def _tagged(scenes, key: str, word: str) -> list[int]:
    """The scenes one of whose tags of a field holds the word: read in Python, as _holding reads tags (the two
    databases keep a JSON array's text differently)."""
    word = word.casefold()
    held = scenes.filter(field_values__has_key=key).order_by().values_list("pk", "field_values")
    return [pk for pk, values in held.iterator(chunk_size=500)
            if any(word in str(tag).casefold() for tag in (values.get(key) or []))]


def board_frames(*, project: Project, scene_ids) -> list[Frame]:
    """Just these frames (e.g. to re-render them out of band), in board order."""
    return _frames(project, project.scenes.filter(pk__in=list(scene_ids)), whole=False)


def board_frame(*, project: Project, scene_id: int) -> Frame | None:
    frames = board_frames(project=project, scene_ids=[scene_id])
    return frames[0] if frames else None


def board_totals(*, project: Project, frames: list[Frame] | None = None, with_trash: bool = False) -> Totals:
    """Scenes, runtime, approved and committed spend of the whole board, in one query (the board's frames are
    only its first page); `with_trash`: how many scenes wait in the trash rides along (Totals.trash_count)."""
    del frames  # the totals are the board's, never a page's
    scenes = Scene.objects.filter(project=OuterRef("pk")).order_by().values("project")
    # Of the board's scenes, as the frames count it (a scene in the trash has no frame).
    unconfirmed = (Render.objects.filter(scene__project=OuterRef("pk"), scene__trashed_at__isnull=True,
                                         billing_unconfirmed=True).order_by().values("scene__project")
                   .annotate(total=Sum("cost")).values("total"))
    trash = (Scene.all_objects.in_trash().filter(project=OuterRef("pk")).order_by().values("project")
             .annotate(n=Count("pk")).values("n"))
    row = Project.objects.filter(pk=project.pk).annotate(  # spend moves under us: read again
        n=Coalesce(Subquery(scenes.annotate(n=Count("pk")).values("n")), 0),
        runtime=Coalesce(Subquery(scenes.annotate(s=Sum("duration")).values("s")), 0),
        approved=Coalesce(Subquery(scenes.annotate(a=Count("approved_take_id")).values("a")), 0),
        unconfirmed=Subquery(unconfirmed), trash=Coalesce(Subquery(trash), 0) if with_trash else Value(0),
    ).values("n", "runtime", "approved", "unconfirmed", "trash", "render_spend", "budget").get()
    return Totals(scenes=row["n"], runtime_seconds=row["runtime"], approved=row["approved"],
                  spend=row["render_spend"], budget=row["budget"], unconfirmed=row["unconfirmed"] or Decimal(0),
                  trash_count=row["trash"])


def scene_panel_for(*, scene: Scene, user=None, frames: list[Frame] | None = None,
                    total: int | None = None) -> ScenePanel:
    """One scene as its side panel shows it: the frame, every take (newest first) and the cast library.

    `frames`: the board's frames, when the page draws the board around the panel anyway; `total`: how many
    scenes the board holds, when the caller counted them.
    """
    project = scene.project
    frame = next((f for f in frames or () if f.scene_id == scene.pk), None) \
        or board_frame(project=project, scene_id=scene.pk)
    if frame is None:  # not on the board (in the trash): no panel
        raise Scene.DoesNotExist(f"Scene {scene.pk} is not on its project's board.")
    # The frame's scene, with the people and the approved take the panel names.
    scene = (Scene.objects.select_related("updated_by", "approved_take", "approved_by")
             .prefetch_related(Prefetch("lines", queryset=DialogueLine.objects.select_related(
                 "character", "recording__character")))
             .get(pk=frame.scene_id))
    scene.project = project
    library = list(project.team.characters.all())
    # The cast as the frame read it, as the library's rows: the same people, without asking again.
    by_pk = {c.pk: c for c in library}
    scene.cast_list = [by_pk[member.pk] for member in frame.cast if member.pk in by_pk]
    scene.review_status = frame.scene.review_status
    frame.scene = scene
    takes = list(with_changes_requested(Render.objects.filter(scene=scene).select_related("created_by", "parent"))
                 .annotate(comment_count=Count("comments")).order_by("-created_at", "-pk"))
    mark_remixable(takes, project.team)
    # Its neighbours, for "starts from the scene before" and "ends on the scene after".
    total = total if total is not None else project.scenes.count()
    neighbours = (scene.position > 0, scene.position + 1 < total)
    return ScenePanel(scene=scene, frame=frame, takes=takes, library=library, dialogue=list(scene.lines.all()),
                      continuity=continuity_panel_for(scene=scene, frame=frame, takes=takes, neighbours=neighbours))


def scene_dialogue_for(*, scene: Scene) -> tuple[list[DialogueLine], list]:
    """One scene's lines (with their characters) and its team's character library, for its dialogue section."""
    lines = list(DialogueLine.objects.filter(scene=scene).select_related("character", "recording__character"))
    return lines, list(scene.project.team.characters.all())


def take_state(*, take: Render, scene: Scene) -> TakeState:
    """A take as its own card (the review page, a character's takes) says it, in the words of the frame
    that shows it: queued, rendering n%, ready for review, changes requested, approved; failed, canceled or
    withheld when it ended without a picture one may watch.

    `take.changes_requested` when the caller annotated it (with_changes_requested), else one query."""
    if take.billing_unconfirmed and take.status == "failed":
        key = "unconfirmed"
    elif take.status == "confirming":
        key = "confirming"
    elif take.phase is not None:
        key = take.phase
    elif take.status in ("failed", "canceled"):
        key = take.status
    elif take.quarantined_at:
        key = "withheld"
    elif scene.approved_take_id == take.pk:
        key = "stale_approval" if scene.approval_is_stale else "approved"
    elif getattr(take, "changes_requested", None) or (
            not hasattr(take, "changes_requested") and _changes_on(take.pk).exists()):
        key = "changes_requested"
    else:
        key = "in_review"
    label = str(TAKE_LABELS[key]) + (f" {take.progress}%" if key == "rendering" and take.progress else "")
    return TakeState(key=key, label=label)


def _changes_on(take):
    return ReviewDecision.objects.filter(take=take, decision=Decision.CHANGES_REQUESTED)


def with_changes_requested(takes: QuerySet[Render]) -> QuerySet[Render]:
    """Takes (a queryset) each annotated `changes_requested`, for take_state without a query per take."""
    return takes.annotate(changes_requested=Exists(_changes_on(OuterRef("pk"))))


def mark_changes_requested(takes: list[Render]) -> list[Render]:
    """Takes already fetched (a list) each given `changes_requested`, in one query, for take_state."""
    asked = set(ReviewDecision.objects.filter(take__in=[t.pk for t in takes], decision=Decision.CHANGES_REQUESTED)
                .values_list("take_id", flat=True))
    for take in takes:
        # An attribute set on the fetched rows for take_state, which the model's type does not declare.
        take.changes_requested = take.pk in asked  # type: ignore[attr-defined]
    return takes


def board_view_for(*, user) -> str:
    """"grid" or "list": how this user last chose to see boards."""
    view = UserPreference.objects.filter(user=user).values_list("board_view", flat=True).first()
    return view or BoardView.GRID


def _frames(project: Project, scenes, *, whole: bool = True, own_fields: list | None = None) -> list[Frame]:
    """`whole`: `scenes` are all the project's, so each one's neighbours are among them."""
    # A frame needs few of a scene's columns; the prompt (up to 32,000 characters) is not one.
    scenes = scenes.order_by("position", "pk").only(
        "pk", "project_id", "position", "title", "duration", "size", "version", "reference_image",
        "approved_take_id", "approval_stale_fields", "target_connection_id", "target_model", "camera_notes",
        "start_from", "start_take_id", "start_frame", "end_on", "field_values",
    ).annotate(target_kind=F("target_connection__kind"), action_start=Substr("prompt", 1, 2 * FRAME_ACTION))
    # Rows of related tables are picked by subquery, not by a list of 200 ids.
    in_scenes = scenes.values("pk")
    scenes = list(scenes)
    cast: dict[int, list[CastMember]] = {}
    for scene_id, pk, name in (Scene.cast.through.objects.filter(scene_id__in=in_scenes)
                               .order_by("character__name").values_list("scene_id", "character_id", "character__name")):
        cast.setdefault(scene_id, []).append(CastMember(pk, name))
    # One row per take, newest first: the thumbnail, the live status and the review status all come from it.
    takes = (Render.objects.filter(scene_id__in=in_scenes).order_by("-created_at", "-pk").with_watchable()
             .annotate(withheld=ExpressionWrapper(Q(quarantined_at__isnull=False), output_field=BooleanField()))
             .values_list("pk", "scene_id", "status", "progress", "thumbnail", "withheld", "created_at",
                          "c2pa_state", "billing_unconfirmed", "cost", "connection_id", "provider", "model",
                          "watchable", "number", "error_message", "provider_started_at",
                          "recipe__start_frame__key", "recipe__end_frame__key", "error_words"))
    by_scene: dict[int, list[tuple]] = {}
    for take in takes:
        by_scene.setdefault(take[1], []).append(take)
    comments = dict(Comment.objects.filter(take__scene_id__in=in_scenes).values("take__scene_id")
                    .annotate(n=Count("pk")).values_list("take__scene_id", "n"))
    lines: dict[int, list[FrameLine]] = {}
    for scene_id, speaker, name, parenthetical, text in (
            DialogueLine.objects.filter(scene_id__in=in_scenes).order_by("scene_id", "position", "pk")
            .values_list("scene_id", "speaker", "character__name", "parenthetical", "text")):
        lines.setdefault(scene_id, []).append(FrameLine(name or speaker, parenthetical, text))
    changes = dict(ReviewDecision.objects.filter(scene_id__in=in_scenes, decision=Decision.CHANGES_REQUESTED)
                   .values("scene_id").annotate(at=Max("at")).values_list("scene_id", "at"))
    urls = _Urls(project)
    ending = lifecycle_labels(project.team_id)  # models retired or retiring within 30 days
    followed = _followed_by_position(project, scenes, by_scene, whole=whole)
    if own_fields is None:  # a few frames redrawn alone: the fields are read only when one holds a value
        own_fields = project_fields(project=project) if any(s.field_values for s in scenes) else []
    frames = []
    for scene in scenes:
        scene_takes = by_scene.get(scene.pk, [])
        scene.take_count = len(scene_takes)
        scene.newest_take_at = scene_takes[0][6] if scene_takes else None
        scene.newest_take_status = scene_takes[0][2] if scene_takes else None
        scene.changes_at = changes.get(scene.pk)
        scene.review_status = status_of(scene)
        status, progress = _live_status(scene, scene_takes)
        label = str(STATUS_LABELS[status]) + (f" {progress}%" if progress else "")
        shown = _shown_take(scene, scene_takes)
        frames.append(Frame(
            scene=scene, number=scene.number, title=scene.title, duration=scene.duration,
            thumbnail_url=urls.thumbnail(shown[0]) if shown else _reference_url(scene, urls),
            status=status, status_label=label,
            progress=progress, cast=cast.get(scene.pk, []),
            comment_count=comments.get(scene.pk, 0), take_count=len(scene_takes),
            panel_url=urls.panel(scene.pk), provenance_state=(shown[7] or "none") if shown else "",
            unconfirmed_cost=sum((take[9] for take in scene_takes if take[8]), Decimal(0)),
            lifecycle_label=label_for(ending, **_used_model(scene, scene_takes)),
            status_reason=_failure_reason(scene_takes[0]) if status in FAILED else "",
            lines=lines.get(scene.pk, []), action=excerpt(scene.action_start, FRAME_ACTION),
            camera_notes=scene.camera_notes, field_values=shown_values(own_fields, scene.field_values),
            **_continuity_changed(scene, scene_takes, followed),
        ))
    return frames


def excerpt(text: str, limit: int) -> str:
    """`text` on one line, cut at the last word that fits in `limit` characters (with "…")."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit - 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut[limit // 2:] else cut).rstrip(",;:-–— ") + "…"


ENDED = {"failed", "canceled"}


def _followed_by_position(project: Project, scenes: list[Scene], by_scene: dict, *, whole: bool) -> dict:
    """position → the take its neighbours' frames come from (continuity.followed_take_id), for the
    positions next to scenes that start from the scene before or end on the one after."""
    wanted = {s.position - 1 for s in scenes if s.start_from == StartFrom.PREVIOUS and not s.start_take_id}
    wanted |= {s.position + 1 for s in scenes if s.end_on == EndOn.NEXT}
    if not wanted:
        return {}
    rows = [(s.pk, s.position, s.approved_take_id) for s in scenes if s.position in wanted]
    takes = {pk: [(t[0], t[13]) for t in scene_takes] for pk, scene_takes in by_scene.items()}
    if not whole:  # a few frames redrawn alone: their neighbours are read here, two queries
        rows = list(Scene.objects.filter(project=project, position__in=wanted)
                    .values_list("pk", "position", "approved_take_id"))
        takes = {}
        for pk, scene_id, watchable in (Render.objects.filter(scene_id__in=[r[0] for r in rows])  # type: ignore[misc]  # django-stubs loses with_watchable's annotation
                                        .order_by("-created_at", "-pk").with_watchable()
                                        .values_list("pk", "scene_id", "watchable")):
            takes.setdefault(scene_id, []).append((pk, watchable))
    return {position: followed_take_id(approved, takes.get(pk, [])) for pk, position, approved in rows}


def _continuity_changed(scene: Scene, takes: list[tuple], followed: dict) -> dict:
    """Whether the frame the scene's newest take (not failed) started from or ended on is no longer the
    one the scene would take now."""
    newest = next((t for t in takes if t[2] not in ENDED), None)
    if newest is None:
        return {}
    changed: dict[str, bool] = {}
    if scene.start_from == StartFrom.PREVIOUS and newest[17] is not None:
        now: str | None
        if scene.start_take_id:
            now = source_key(scene.start_take_id, scene.start_frame)
        else:
            take = followed.get(scene.position - 1)
            now = source_key(take, None) if take else None
        changed["start_changed"] = newest[17] != now
    if scene.end_on == EndOn.NEXT and newest[18] is not None:
        take = followed.get(scene.position + 1)
        changed["end_changed"] = newest[18] != (source_key(take, 0, role="end") if take else None)
    return changed


class _Urls:
    """URLs of a board's frames: reversed once each, then filled in per frame (reverse costs ~40 µs)."""

    MARK = "987654321"

    def __init__(self, project=None):
        self._panel = reverse("projects:scene_panel", args=[project.pk, self.MARK]) if project else ""
        self._thumb = reverse("generation:render_file", args=[self.MARK, "thumbnail"])
        self._reference = reverse("projects:scene_reference_image", args=[self.MARK, "original"])

    def panel(self, pk) -> str:
        return self._panel.replace(self.MARK, str(pk))

    def thumbnail(self, pk) -> str:
        return self._thumb.replace(self.MARK, str(pk))

    def reference(self, pk) -> str:
        return self._reference.replace(self.MARK, str(pk))


def _live_status(scene: Scene, takes: list[tuple]) -> tuple[str, int | None]:
    """A take on its way shows over the review status: that is what changes next."""
    for take in takes:
        phase = take_phase(take[2], progress=take[3], started=take[16] is not None)
        if phase == "rendering":
            return "rendering", take[3] or None  # no percentage until the provider gives one
        if phase == "queued":
            return "queued", None
    if takes and takes[0][8] and scene.review_status != SceneStatus.APPROVED:
        return "unconfirmed", None  # the newest take may be billed: say so, not "No take"
    if scene.review_status == SceneStatus.APPROVED:
        if any(take[0] == scene.approved_take_id and take[5] for take in takes):
            return SceneStatus.IN_REVIEW.value, None  # a withheld take is never shown "Approved"
        if scene.approval_stale_fields:
            return "stale_approval", None
    return SceneStatus(scene.review_status).value, None


def _failure_reason(take: tuple) -> str:
    """ "Take 2: Refused by Google's safety filters: …": the newest take's failure, for the chip's title."""
    reason = worded(take[19]) or take[15] or gettext("The provider gave no reason.")
    return gettext("Take %(number)s: %(reason)s") % {"number": take[14], "reason": reason}


def _used_model(scene: Scene, takes: list[tuple]) -> dict:
    """The model the scene renders with: the one chosen for it, else its newest take's."""
    if scene.target_connection_id:
        return {"connection_id": scene.target_connection_id, "kind": scene.target_kind,
                "model_id": scene.target_model}
    if takes:
        return {"connection_id": takes[0][10], "kind": takes[0][11], "model_id": takes[0][12]}
    return {"connection_id": None, "kind": "", "model_id": ""}


def _shown_take(scene: Scene, takes: list[tuple]) -> tuple | None:
    playable = {take[0]: take for take in takes if take[13] and take[4]}  # watchable, with a poster
    return playable.get(shown_take_id(scene.approved_take_id, list(playable)))


def shown_take_id(approved_take_id: int | None, playable: list[int]) -> int | None:
    """The take a frame shows (its poster, its provenance), of a scene's takes one may watch that have a
    poster (newest first): the approved one, else the newest."""
    return approved_take_id if approved_take_id in playable else next(iter(playable), None)


def picture_urls(scenes: Sequence[Scene]) -> dict[int, str]:
    """scene id → the picture its frame shows (a take's poster, else its reference image), for scenes
    without their takes at hand (a project's card): one query, however many scenes."""
    playable: dict[int, list[int]] = {}
    for pk, scene_id in (Render.objects.filter(scene__in=[s.pk for s in scenes]).watchable().exclude(thumbnail="")
                         .order_by("-created_at", "-pk").values_list("pk", "scene_id")):
        playable.setdefault(scene_id, []).append(pk)
    urls, pictures = _Urls(), {}
    for scene in scenes:
        shown = shown_take_id(scene.approved_take_id, playable.get(scene.pk, []))
        picture = urls.thumbnail(shown) if shown else _reference_url(scene, urls)
        if picture:
            pictures[scene.pk] = picture
    return pictures


def _reference_url(scene: Scene, urls: _Urls) -> str | None:
    if scene.reference_image:
        return urls.reference(scene.pk) + f"?v={scene.version}"
    return None


# --- The trash ----------------------------------------------------------------------------------------


@dataclass
class TrashItem(_Drawn):
    scene: Scene
    number: int  # the number it had on the board when it was deleted
    title: str
    trashed_by: str  # username, or "" when the account is gone
    trashed_at: object
    purge_on: object  # the day the daily purge deletes it forever
    takes: int
    comments: int
    rendering: bool  # a take still on its way: it cannot be deleted forever yet

    @property
    def scene_id(self) -> int:
        return self.scene.pk


def trash_for(*, project: Project) -> list[TrashItem]:
    """The project's trash, most recently deleted first, in three queries however full it is."""
    in_trash = Scene.all_objects.in_trash().filter(project=project)
    scenes = list(in_trash.select_related("trashed_by")
                  .only("pk", "project_id", "position", "title", "trashed_at", "trashed_by", "trashed_by__username")
                  .annotate(take_count=Count("renders", distinct=True),
                            rendering=Count("renders", filter=~Q(renders__status__in=TERMINAL), distinct=True))
                  .order_by("-trashed_at", "position", "pk"))
    comments = dict(Comment.objects.filter(take__scene__in=in_trash.values("pk")).values("take__scene_id")
                    .annotate(n=Count("pk")).values_list("take__scene_id", "n"))
    return [TrashItem(scene=s, number=s.number, title=s.title,
                      trashed_by=s.trashed_by.get_username() if s.trashed_by else "", trashed_at=s.trashed_at,
                      purge_on=timezone.localdate(s.trashed_at + timedelta(days=settings.TRASH_DAYS)), takes=s.take_count,
                      comments=comments.get(s.pk, 0), rendering=bool(s.rendering)) for s in scenes]


def trash_batch_for(*, project: Project, batch) -> list[Scene]:
    """The scenes of one delete that are still in the trash (what its Undo would bring back)."""
    try:
        batch = uuid.UUID(str(batch))
    except ValueError:
        return []
    return list(Scene.all_objects.in_trash().filter(project=project, trash_batch=batch).order_by("position", "pk")
                .only("pk", "project_id", "position", "title", "trash_batch"))
