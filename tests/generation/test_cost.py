"""The one price formula: a take costs its model's per-second price at its size times its seconds."""

from decimal import Decimal

from generation.catalog import Target, cost_of
from generation.models import CatalogModel


def test_a_take_costs_the_price_at_its_size_times_its_seconds():
    model = CatalogModel(price_per_second={"1280x720": 0.5, "*": 0.2})

    assert cost_of(model, size="1280x720", seconds=4) == Decimal("2.0")


def test_a_size_without_its_own_price_costs_the_price_for_any_size():
    model = CatalogModel(price_per_second={"1280x720": 0.5, "*": 0.2})

    assert cost_of(model, size="720x1280", seconds="3") == Decimal("0.6")


def test_a_targets_estimate_is_the_same_formula():
    model = CatalogModel(price_per_second={"*": 0.35})

    assert Target(connection=None, model=model).estimate(size="1280x720", seconds=6) == cost_of(
        model, size="1280x720", seconds=6) == Decimal("2.10")
