"""Recorded vs billed: what a provider says a take cost, stored beside the booked estimate.

A take's recorded cost is what the provider reports when it reports one (a cost in US$, or
billed compute seconds priced at the hardware rate the catalog knows: an entry's
`input_schema["hardware_usd_per_second"]`), else the catalog estimate it was booked at, shown
as "estimated". A billed amount above the estimate raises the project's committed spend by the
difference; one below it gives nothing back (the budget never drops below what was billed, and
nothing billed is ever refunded).

A duplicate job a provider made for a take (renders/lookups.py) costs what the take's estimate
says, or what the provider reports for it, by the same rule; it is summed on its take
(`duplicate_cost`) and committed to the project's spend, beside the take's own cost.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import F

from generation import catalog
from generation.models import CostSource, DuplicateJob, Render
from generation.providers.base import JobState
from projects.models import Project

CENTS_4 = Decimal("0.0001")


def billed_amount(render: Render, state: JobState) -> Decimal | None:
    """The provider's figure for this take in US$, or None when it reported none we can price."""
    if state.billed_cost is not None:
        return state.billed_cost.quantize(CENTS_4, rounding=ROUND_HALF_UP)
    connection = render.connection if render.connection_id is not None else None
    if state.billed_seconds is None or connection is None:
        return None
    model = catalog.resolve(connection, render.model)
    rate = (model.input_schema or {}).get("hardware_usd_per_second") if model else None
    if not isinstance(rate, (int, float, str)) or isinstance(rate, bool):
        return None
    try:
        price = Decimal(str(rate))
    except ArithmeticError:
        return None
    if not price.is_finite() or price < 0:
        return None
    return (Decimal(str(state.billed_seconds)) * price).quantize(CENTS_4, rounding=ROUND_HALF_UP)


def take_record_billed(*, render: Render, state: JobState) -> Decimal | None:
    """Store the provider's figure on the take once; returns it (None when there was none)."""
    amount = billed_amount(render, state)
    if amount is None:
        return None
    with transaction.atomic():
        # Once per take: a repeated poll or a redelivered webhook must not count it twice.
        stored = Render.objects.filter(pk=render.pk, billed_cost__isnull=True).update(
            billed_cost=amount, cost_source=CostSource.PROVIDER)
        if stored and amount > render.cost:
            project_id = render.scene.project_id
            Project.objects.filter(pk=project_id).update(render_spend=F("render_spend") + (amount - render.cost))
    if stored:
        render.billed_cost, render.cost_source = amount, CostSource.PROVIDER
    return amount


def duplicate_record(*, render: Render, job_id: str) -> DuplicateJob | None:
    """Record a second job the provider made for `render`, once, at the take's estimate; None when
    it was recorded already."""
    with transaction.atomic():
        duplicate, created = DuplicateJob.objects.get_or_create(
            render=render, provider_job_id=job_id, defaults={"cost": render.cost})
        if not created:
            return None
        Render.objects.filter(pk=render.pk).update(duplicate_count=F("duplicate_count") + 1,
                                                   duplicate_cost=F("duplicate_cost") + render.cost)
        if render.cost:
            Project.objects.filter(pk=render.scene.project_id).update(render_spend=F("render_spend") + render.cost)
    return duplicate


def duplicate_record_billed(*, duplicate: DuplicateJob, render: Render, state: JobState) -> Decimal | None:
    """The provider's figure for a duplicate job, stored once; committed spend only ever grows by it."""
    amount = billed_amount(render, state)
    if amount is None:
        return None
    with transaction.atomic():
        stored = DuplicateJob.objects.filter(pk=duplicate.pk, cost_source=CostSource.ESTIMATED).update(
            cost=amount, cost_source=CostSource.PROVIDER)
        if stored:
            Render.objects.filter(pk=render.pk).update(duplicate_cost=F("duplicate_cost") + (amount - duplicate.cost))
            if amount > duplicate.cost:
                Project.objects.filter(pk=render.scene.project_id).update(
                    render_spend=F("render_spend") + (amount - duplicate.cost))
    return amount
