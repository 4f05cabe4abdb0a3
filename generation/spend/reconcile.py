"""Reconciliation: a provider's usage export (CSV) against the takes the studio recorded.

The documented generic shape is a header row and one row per billed job:

    job_id,model,billed_usd,created_at
    p-8f2k1,wan-video/wan-2.7-t2v,1.2500,2026-11-03T10:15:00Z

Column names are matched case-insensitively, and the names usage exports commonly use are
accepted too (id / prediction_id / request_id for job_id, version for model, cost / amount /
total_cost / cost_usd for billed_usd, created / date / timestamp for created_at). A row is
matched to a take by the provider's job id; a row without one falls back to the same model
booked within ten minutes of its time. Rows dated outside the period that match no take are
left out. Any row that cannot be read stops the run with a message naming its line.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from generation.models import ReconciliationRun
from generation.spend.selectors import Period, spent_takes

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 20000
NEAR = timedelta(minutes=10)
TOLERANCE = Decimal("0.01")  # differences below a cent are rounding, not billing

ALIASES = {
    "job_id": ("job_id", "id", "prediction_id", "prediction", "request_id", "task_id", "job"),
    "model": ("model", "model_id", "version", "model_name"),
    "billed_usd": ("billed_usd", "cost", "cost_usd", "amount", "amount_usd", "total_cost", "price", "usd"),
    "created_at": ("created_at", "created", "date", "timestamp", "started_at", "time"),
}
GENERIC = ("job_id", "model", "billed_usd", "created_at")


@dataclass
class UsageRow:
    line: int
    job_id: str
    model: str
    billed: Decimal
    created_at: datetime | None

    def as_json(self) -> dict:
        return {"line": self.line, "job_id": self.job_id, "model": self.model, "billed_usd": str(self.billed),
                "created_at": self.created_at.isoformat() if self.created_at else ""}


def _decode(raw: bytes | str) -> str:
    if isinstance(raw, str):
        return raw
    if len(raw) > MAX_BYTES:
        raise ValidationError(gettext("The usage file is larger than %(most)d MB: export a shorter period.")
                              % {"most": MAX_BYTES // (1024 * 1024)})
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(gettext("The usage file is not UTF-8 text: export it as CSV (UTF-8).")) from None


def _columns(header: list[str]) -> tuple[dict[str, int], str]:
    names = [h.strip().lower().replace(" ", "_") for h in header]
    found = {}
    for field_name, aliases in ALIASES.items():
        for alias in aliases:
            if alias in names:
                found[field_name] = names.index(alias)
                break
    missing = [f for f in ("billed_usd",) if f not in found]
    if "job_id" not in found and not {"model", "created_at"} <= found.keys():
        missing.append(gettext("job_id (or model and created_at)"))
    if missing:
        raise ValidationError(
            gettext("Line 1: the header has no %(missing)s column. Expected columns: %(expected)s.")
            % {"missing": ", ".join(missing), "expected": ", ".join(GENERIC)})
    shape = "generic" if all(f in names for f in GENERIC) else "aliased"
    return found, shape


def _amount(text: str, line: int) -> Decimal:
    cleaned = text.strip().replace("$", "").replace("US", "").strip()
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value < 0 or value >= 10**6:
        shown = text.strip()[:40]
        raise ValidationError(gettext("Line %(line)d: billed_usd “%(shown)s” is not an amount in US$ (e.g. 1.25).")
                              % {"line": line, "shown": shown})
    return value.quantize(Decimal("0.0001"))


def _moment(text: str, line: int) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            moment = datetime.combine(date.fromisoformat(text), time.min)
        except ValueError:
            raise ValidationError(gettext("Line %(line)d: created_at “%(shown)s” is not a date and time like "
                                          "2026-11-03T10:15:00Z.") % {"line": line, "shown": text[:40]}) from None
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, timezone.get_current_timezone())


def usage_rows(raw: bytes | str) -> tuple[list[UsageRow], str]:
    """The rows of a usage export and its shape ("generic" or "aliased"); ValidationError naming the line."""
    text = _decode(raw)
    if not text.strip():
        raise ValidationError(gettext("The usage file is empty: upload a CSV or paste its rows."))
    if "\x00" in text:  # PostgreSQL cannot store it, and no usage export has one
        line = text[:text.index("\x00")].count("\n") + 1
        raise ValidationError(gettext("Line %(line)d: a NUL character; this is not a CSV text file.") % {"line": line})
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
        columns, shape = _columns(header)
        rows: list[UsageRow] = []
        for record in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if len(record) < len(header):
                raise ValidationError(ngettext("Line %(line)d: %(count)d column where the header has %(header)d.",
                                               "Line %(line)d: %(count)d columns where the header has %(header)d.",
                                               len(record)) % {"line": line, "count": len(record),
                                                               "header": len(header)})
            if len(rows) >= MAX_ROWS:
                raise ValidationError(gettext("Line %(line)d: more than %(most)d rows; export a shorter period.")
                                      % {"line": line, "most": MAX_ROWS})

            def cell(name, record=record):
                return record[columns[name]].strip() if name in columns else ""

            row = UsageRow(line=line, job_id=cell("job_id")[:200], model=cell("model")[:200],
                           billed=_amount(cell("billed_usd"), line), created_at=_moment(cell("created_at"), line))
            if not row.job_id and (not row.model or row.created_at is None):
                raise ValidationError(gettext("Line %(line)d: no job_id, and no model and created_at to match it by.")
                                      % {"line": line})
            rows.append(row)
    except csv.Error as exc:
        # The csv module's own reason stays as it says it: it names the character at fault.
        raise ValidationError(gettext("Line %(line)d: not valid CSV (%(reason)s).")
                              % {"line": reader.line_num, "reason": exc}) from None
    if not rows:
        raise ValidationError(gettext("The usage file has a header but no rows."))
    return rows, shape


def _take_json(take) -> dict:
    return {"take_id": take.pk, "take": take.number, "scene": take.scene.number, "scene_title": take.scene.title,
            "project": take.scene.project.name, "project_id": take.scene.project_id, "model": take.model,
            "job_id": take.provider_job_id, "recorded_usd": str(take.recorded),
            "estimated": take.billed_cost is None, "booked_at": take.created_at.isoformat()}


def reconcile(*, team, provider: str, period: Period, rows: list[UsageRow]) -> dict:
    """Match usage rows to takes and list the differences (JSON-ready)."""
    start, end = period.bounds
    ids = {r.job_id for r in rows if r.job_id}
    in_period = spent_takes(team=team, period=period).filter(provider=provider)
    by_id_outside = (spent_takes(team=team, period=Period(date(2000, 1, 1), date(2999, 12, 31)))
                     .filter(provider=provider, provider_job_id__in=ids).exclude(pk__in=in_period.values("pk")))
    takes = [*in_period.select_related("scene__project"), *by_id_outside.select_related("scene__project")]
    by_job = {t.provider_job_id: t for t in takes if t.provider_job_id}
    unmatched = {t.pk: t for t in takes}
    matched, billed_only = [], []
    for row in rows:
        take = by_job.get(row.job_id) if row.job_id else None
        if take is not None and take.pk not in unmatched:
            take = None  # a job id billed twice: the second row is a difference of its own
        if take is None and not row.job_id and row.created_at is not None:
            near = [t for t in unmatched.values() if t.model == row.model and abs(t.created_at - row.created_at) <= NEAR]
            take = min(near, key=lambda t: abs(t.created_at - row.created_at), default=None)
        if take is None:
            if row.created_at is None or start <= row.created_at < end:
                billed_only.append(row.as_json())
            continue
        unmatched.pop(take.pk)
        difference = row.billed - take.recorded
        matched.append({**_take_json(take), "line": row.line, "billed_usd": str(row.billed),
                        "difference_usd": str(difference), "by": "job id" if row.job_id else "model and time",
                        "differs": abs(difference) >= TOLERANCE})
    recorded_only = [_take_json(t) for t in sorted(unmatched.values(), key=lambda t: t.created_at)]
    billed_total = sum((Decimal(r["billed_usd"]) for r in matched), Decimal(0)) + \
        sum((Decimal(r["billed_usd"]) for r in billed_only), Decimal(0))
    recorded_total = sum((Decimal(t["recorded_usd"]) for t in matched), Decimal(0)) + \
        sum((Decimal(t["recorded_usd"]) for t in recorded_only), Decimal(0))
    return {
        "matched": matched,
        "differences": [m for m in matched if m["differs"]],
        "billed_not_recorded": billed_only,
        "recorded_not_billed": recorded_only,
        "billed_total": str(billed_total), "recorded_total": str(recorded_total),
        "difference_total": str(billed_total - recorded_total),
    }


def reconciliation_create(*, team, user, provider: str, period: Period, raw: bytes | str) -> ReconciliationRun:
    rows, shape = usage_rows(raw)
    with transaction.atomic():
        return ReconciliationRun.objects.create(
            team=team, provider=provider, period_start=period.start, period_end=period.end, csv_shape=shape,
            rows=[r.as_json() for r in rows], result=reconcile(team=team, provider=provider, period=period, rows=rows),
            created_by=user)
