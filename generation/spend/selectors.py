"""Where the money went: the read model of the spend page and its CSV (selectors only).

Spend is the recorded cost of every take booked in the period (what the provider billed when
it said, else the catalog estimate), less takes that ended unbilled: the takes the budget gave
back (`Render.cost_given_back`, see generation/spend/budget.py). A take counts on the day it was
booked. "Approved" means a reviewer approved it at some point (a review decision), so a take
whose approval was later withdrawn still counts as approved seconds, and "never approved"
is the money spent on takes nobody ever signed off.

A duplicate job a provider made for a take (a gateway that ignored its key: renders/lookups.py) is
money spent too: the total includes it, and the page lists each one; the breakdowns by model, scene,
member and week are the takes' own costs.

A scene deleted from the board (in its project's trash, or deleted forever) still spent what it spent: its
takes count everywhere here, and by scene a project's deleted scenes make one row of their own.

Every number comes from a handful of aggregate queries whatever the size of the team.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import (
    BooleanField,
    Case,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext

from generation.models import (
    GIVEN_BACK,
    CostSource,
    DuplicateJob,
    Render,
    attributed_billed_expression,
    attributed_booked_expression,
    attributed_cost_expression,
    attributed_estimate_expression,
)
from projects.models import Decision, ReviewDecision

MAX_DAYS = 366
NEVER_APPROVED_SHOWN = 50
SERIES_CLASSES = 8  # spend.css colours series 0..7; more series reuse them
ZERO = Decimal(0)


class PeriodError(ValueError):
    """A filter a person typed that names no usable period: the message says what to type."""


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        zone = timezone.get_current_timezone()
        return (timezone.make_aware(datetime.combine(self.start, time.min), zone),
                timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min), zone))

    @property
    def label(self) -> str:
        last = calendar.monthrange(self.start.year, self.start.month)[1]
        if self.start.day == 1 and self.end == self.start.replace(day=last):
            return date_format(self.start, "F Y")
        return f"{date_format(self.start, 'j M Y')} – {date_format(self.end, 'j M Y')}"


def month_period(day: date) -> Period:
    return Period(day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1]))


def period_from(params, *, today: date | None = None) -> Period:
    """The period a query string asks for: ?month=YYYY-MM, or ?start=…&end=… (YYYY-MM-DD), else
    this month. Raises PeriodError with a sentence a person can act on."""
    today = today or timezone.localdate()
    month, start, end = (str(params.get(k, "")).strip() for k in ("month", "start", "end"))
    if params.get("by") == "month":  # the form's "Show month" button: the range fields are ignored
        start = end = ""
    if start or end:
        try:
            first = date.fromisoformat(start) if start else None
            last = date.fromisoformat(end) if end else None
        except ValueError:
            raise PeriodError(gettext("Dates look like 2026-11-01: a year, a month and a day.")) from None
        # Only an end: its month so far. Only a start: up to today.
        last = last or today
        first = first or last.replace(day=1)
        if last < first:
            raise PeriodError(gettext("The range ends before it starts: pick an end date on or after the start "
                                      "date."))
        if (last - first).days >= MAX_DAYS:
            raise PeriodError(gettext("A range covers at most %(most)s days: pick a shorter one.") % {"most": MAX_DAYS})
        return Period(first, last)
    if month:
        try:
            first = datetime.strptime(month, "%Y-%m").date()
        except ValueError:
            raise PeriodError(gettext("A month looks like 2026-11: a year and a month.")) from None
        return month_period(first)
    return month_period(today)


def _approved():
    return Exists(ReviewDecision.objects.filter(
        take=OuterRef("pk"), decision__in=[Decision.APPROVED, Decision.APPROVED_OVERRIDE]))


def spent_takes(*, team, project=None, period: Period):
    """The takes whose cost counts: booked in the period, in the team (and project), and not
    given back (ended before any provider had them, and not possibly billed)."""
    start, end = period.bounds
    takes = Render.objects.filter(scene__project__team=team, created_at__gte=start, created_at__lt=end)
    if project is not None:
        takes = takes.filter(scene__project=project)
    # A multi-shot take's cost is recorded once, on its lead; each of its parts counts its share by length.
    return takes.exclude(GIVEN_BACK).annotate(
        recorded=attributed_cost_expression(), estimated=attributed_estimate_expression(),
        billed=attributed_billed_expression(), booked=attributed_booked_expression(), approved=_approved(),
        seconds=Coalesce("duration_seconds", Value(0.0), output_field=FloatField()),
    )


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: int
    day: date
    label: str
    amount: Decimal


@dataclass
class Chart:
    width: int
    height: int
    bars: list[Bar]
    series: list[tuple[int, str]]  # (class index, "provider · model")
    peak: Decimal
    ticks: list[tuple[float, date]]  # x of labelled days


@dataclass
class Week:
    start: date
    spend: Decimal
    approved_seconds: float

    @property
    def cost_per_second(self) -> Decimal | None:
        return _per_second(self.spend, self.approved_seconds)


@dataclass
class Spend:
    period: Period
    total: Decimal  # the takes' recorded costs and their duplicates'
    estimated: Decimal  # the part of the total that is the catalog's estimate, not a provider's figure
    takes: int
    approved_seconds: float
    by_model: list[dict]
    by_scene: QuerySet  # of dicts, one per scene (and one for a project's deleted scenes): page it
    by_member: list[dict]
    never_approved: list[Render]
    never_approved_count: int
    never_approved_total: Decimal
    weeks: list[Week]
    chart: Chart = field(repr=False)
    duplicates: list[DuplicateJob] = field(default_factory=list)  # second jobs providers made for these takes
    duplicates_total: Decimal = ZERO

    @property
    def cost_per_approved_second(self) -> Decimal | None:
        return _per_second(self.total, self.approved_seconds)


def _per_second(spend: Decimal, seconds: float) -> Decimal | None:
    if not seconds:
        return None
    return (spend / Decimal(str(seconds))).quantize(Decimal("0.0001"))


CHART_HEIGHT = 160
BAR_WIDTH = 14
BAR_GAP = 4


def spend_chart(daily: list[dict], period: Period) -> Chart:
    """Daily stacked bars, one rectangle per day and provider/model, scaled to the busiest day."""
    names = sorted({(row["provider"], row["model"]) for row in daily})
    index = {name: n % SERIES_CLASSES for n, name in enumerate(names)}
    per_day: dict[date, Decimal] = {}
    for row in daily:
        per_day[row["day"]] = per_day.get(row["day"], ZERO) + row["total"]
    peak = max(per_day.values(), default=ZERO)
    step = BAR_WIDTH + BAR_GAP
    bars: list[Bar] = []
    stacked: dict[date, float] = {}
    for row in sorted(daily, key=lambda r: (r["day"], r["provider"], r["model"])):
        if not row["total"] or not peak:
            continue
        offset = (row["day"] - period.start).days
        height = float(row["total"] / peak) * CHART_HEIGHT
        below = stacked.get(row["day"], 0.0)
        stacked[row["day"]] = below + height
        bars.append(Bar(x=offset * step + BAR_GAP / 2, y=round(CHART_HEIGHT - below - height, 2),
                        width=BAR_WIDTH, height=round(height, 2), series=index[(row["provider"], row["model"])],
                        day=row["day"], label=f"{row['provider']} · {row['model']}", amount=row["total"]))
    days = period.days
    ticks: list[tuple[float, date]] = [(n * step + 1, day) for n, day in enumerate(days) if n % 7 == 0]
    return Chart(width=len(days) * step, height=CHART_HEIGHT, bars=bars,
                 series=[(index[name], f"{name[0]} · {name[1]}") for name in names], peak=peak, ticks=ticks)


def spend_for(*, team, project=None, period: Period) -> Spend:
    """Everything the spend page shows, in seven queries."""
    takes = spent_takes(team=team, project=project, period=period)
    totals = takes.aggregate(
        total=Coalesce(Sum("recorded"), ZERO, output_field=DecimalField()),
        estimated_total=Coalesce(Sum("estimated"), ZERO, output_field=DecimalField()),
        takes=Count("pk"),
        approved_seconds=Coalesce(Sum("seconds", filter=Q(approved=True)), 0.0, output_field=FloatField()),
        never_count=Count("pk", filter=Q(approved=False)),
        never_total=Coalesce(Sum("recorded", filter=Q(approved=False)), ZERO, output_field=DecimalField()),
        duplicates=Coalesce(Sum("duplicate_cost"), ZERO, output_field=DecimalField()),
        duplicate_count=Coalesce(Sum("duplicate_count"), 0),
    )
    duplicates = list(DuplicateJob.objects.filter(render__in=takes.values("pk"))
                      .select_related("render__scene__project").order_by("found_at", "pk")) if totals["duplicate_count"] else []
    daily = list(takes.annotate(day=TruncDate("created_at")).values("day", "provider", "model")
                 .annotate(total=Sum("recorded"),
                           approved_seconds=Coalesce(Sum("seconds", filter=Q(approved=True)), 0.0,
                                                     output_field=FloatField()))
                 .order_by("day", "provider", "model"))
    by_model: dict[tuple[str, str], dict] = {}
    for row in daily:
        entry = by_model.setdefault((row["provider"], row["model"]),
                                    {"provider": row["provider"], "model": row["model"], "total": ZERO})
        entry["total"] += row["total"]
    takes_by_model = {(r["provider"], r["model"]): r["n"]
                      for r in takes.values("provider", "model").annotate(n=Count("pk")).order_by()}
    for key, entry in by_model.items():
        entry["takes"] = takes_by_model.get(key, 0)
    by_scene = _by_scene(takes)
    by_member = list(takes.values("created_by_id", "created_by__username")
                     .annotate(total=Sum("recorded"), takes=Count("pk")).order_by("-total", "created_by__username"))
    never = list(takes.filter(approved=False).select_related("scene__project", "created_by")
                 .order_by("-recorded", "-created_at")[:NEVER_APPROVED_SHOWN])
    weeks = _weeks(daily)
    estimated_duplicates = sum((d.cost for d in duplicates if d.cost_source == CostSource.ESTIMATED), ZERO)
    return Spend(
        period=period, total=totals["total"] + totals["duplicates"],
        estimated=totals["estimated_total"] + estimated_duplicates, takes=totals["takes"],
        approved_seconds=totals["approved_seconds"],
        by_model=sorted(by_model.values(), key=lambda e: (-e["total"], e["provider"], e["model"])),
        by_scene=by_scene, by_member=by_member, never_approved=never, never_approved_count=totals["never_count"],
        never_approved_total=totals["never_total"], weeks=weeks, chart=spend_chart(daily, period),
        duplicates=duplicates, duplicates_total=totals["duplicates"],
    )


def _weeks(daily: list[dict]) -> list[Week]:
    """Week by week from the days' rows (a few per day), not from the takes again: on SQLite each take's date is
    a Python call, and truncating 5,000 takes to weeks cost as much as the whole page at 10 scenes."""
    weeks: dict[date, Week] = {}
    for row in daily:
        start = row["day"] - timedelta(days=row["day"].weekday())  # TruncWeek's Monday, in the same zone
        week = weeks.setdefault(start, Week(start=start, spend=ZERO, approved_seconds=0.0))
        week.spend += row["total"]
        week.approved_seconds += row["approved_seconds"]
    return sorted(weeks.values(), key=lambda w: w.start)


def _by_scene(takes):
    """By scene, costliest first: the board's scenes by their numbers; a project's deleted scenes (in its trash
    or deleted forever: no number on the board) as one row, "gone", so what was spent on them still adds up.

    A lazy query grouped and sorted in the database, so the page's paginator reads one page of rows: a
    1,000-scene project's rows all came back to Python to be merged and sorted there."""
    kept = Q(scene__trashed_at__isnull=True)
    return (takes.annotate(
        gone=ExpressionWrapper(~kept, output_field=BooleanField()),
        # Grouping by these merges a project's deleted scenes into one row (they all read None / "").
        scene_id_or_none=Case(When(kept, then=F("scene_id")), default=None),
        title=Case(When(kept, then=F("scene__title")), default=Value("")),
        position=Case(When(kept, then=F("scene__position")), default=None),
        scene_number=Case(When(kept, then=F("scene__position") + 1), default=None),
    ).values("scene_id_or_none", "title", "position", "scene_number", "scene__project_id", "scene__project__name",
             "gone")
        .annotate(total=Sum("recorded"), takes=Count("pk"),
                  approved_seconds=Coalesce(Sum("seconds", filter=Q(approved=True)), 0.0, output_field=FloatField()))
        .order_by("-total", "scene__project__name", "gone", "position", "scene_id_or_none"))


# --- CSV of the takes behind the numbers ---------------------------------------------------------

CSV_HEADER = ["take_id", "project", "scene", "scene_title", "take", "booked_at", "member", "provider", "model",
              "status", "seconds", "estimated_usd", "billed_usd", "recorded_usd", "cost_source", "approved",
              "provider_job_id", "duplicate_usd"]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def csv_safe(value) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula gets a leading apostrophe
    (OWASP's advice for CSV injection), so a scene titled =HYPERLINK(…) cannot run."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def spend_csv_rows(*, team, project=None, period: Period):
    """The header, then one row per take counted, oldest first (a generator: streams large teams)."""
    yield CSV_HEADER
    takes = (spent_takes(team=team, project=project, period=period)
             .select_related("scene__project", "created_by").order_by("created_at", "pk"))
    for take in takes.iterator(chunk_size=500):
        yield [csv_safe(v) for v in (
            # A deleted scene (in the trash or gone for good) has no number on the board.
            take.pk, take.scene.project.name, "" if take.scene.trashed_at else take.scene.number, take.scene.title,
            take.number,
            timezone.localtime(take.created_at).isoformat(timespec="seconds"),
            take.created_by.get_username() if take.created_by else "", take.provider, take.model, take.status,
            f"{take.seconds:g}", f"{take.booked:.4f}",
            "" if take.billed is None else f"{take.billed:.4f}", f"{take.recorded:.4f}",
            take.cost_source, "yes" if take.approved else "no", take.provider_job_id,
            f"{take.duplicate_cost:.4f}" if take.duplicate_cost else "")]
