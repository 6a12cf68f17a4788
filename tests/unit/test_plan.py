"""toolkit/logic/plan.py: the budgets' shares, the units, the snapshot's time and the verdict."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from toolkit.logic.plan import (
    Budgets,
    Rules,
    TableFacts,
    plan,
    read_units,
    shares,
    write_units,
)

HOUR = 3600.0
RULES = Rules(24 * HOUR, 0.75, 8192, 120_000)
SAFE = 18 * HOUR


def table(name: str = "orders", **changes: Any) -> TableFacts:
    facts = TableFacts(
        source=name,
        target=name,
        items=1000,
        size=200_000,
        read_budget=None,
        copies_snapshot=True,
        streaming=True,
        writes_table=True,
        shards=None,
    )
    return dataclasses.replace(facts, **changes)


budgets = st.floats(min_value=0.1, max_value=1e6, allow_nan=False)
weights = st.lists(st.integers(min_value=0, max_value=10**12), min_size=1, max_size=50)


@given(budgets, weights)
def test_the_shares_sum_to_the_budget(total: float, sizes: list[int]) -> None:
    parts = shares(total, sizes)
    assert len(parts) == len(sizes)
    assert all(part >= 0 for part in parts)
    assert math.isclose(sum(parts), total, rel_tol=1e-9)


@given(budgets, weights)
def test_a_share_follows_the_size(total: float, sizes: list[int]) -> None:
    parts = shares(total, sizes)
    whole = sum(sizes)
    for part, size in zip(parts, sizes, strict=True):
        expected = total * size / whole if whole else total / len(sizes)
        assert math.isclose(part, expected, rel_tol=1e-9, abs_tol=1e-12)


@given(st.integers(min_value=1, max_value=10**9), st.integers(min_value=0, max_value=10**13))
def test_each_item_written_costs_a_unit_per_started_kb(items: int, size: int) -> None:
    units = write_units(items, size)
    assert units >= items
    assert units >= size / 1024
    assert units == items * max(1, math.ceil(size / items / 1024))


def test_units_of_a_small_table() -> None:
    assert read_units(200_000, RULES) == 25  # 200 KB at 8 KB a read unit
    assert write_units(1000, 200_000) == 1000  # 200-byte items: one unit each
    assert write_units(10, 15_000) == 20  # 1.5 KB items: two units each
    assert write_units(0, 0) == 0


def test_one_table_at_its_budget_fits_the_retention() -> None:
    verdict = plan([table(read_budget=5.0)], Budgets(), RULES)
    (one,) = verdict.tables
    assert (one.read_units, one.write_units) == (25, 1000)
    assert one.seconds == 5.0 and one.bound == "read budget"
    assert one.fits and one.sound and verdict.sound


def test_a_budget_too_low_for_the_retention_is_unsafe_with_the_budget_it_needs() -> None:
    size = 100 * 1024**3  # 100 GB: 13.1M read units
    verdict = plan([table(size=size, items=10**6, read_budget=50.0)], Budgets(), RULES)
    (one,) = verdict.tables
    assert one.seconds > SAFE and not one.fits and not verdict.sound
    needed = math.ceil(size / 8192) / SAFE
    assert f"at least {needed:,.0f} units/s" in one.advice
    assert "S3 export" in one.advice
    assert verdict.unsound == ["orders"]


def test_without_a_stream_a_long_snapshot_is_sound() -> None:
    facts = table(size=100 * 1024**3, read_budget=1.0, streaming=False)
    verdict = plan([facts], Budgets(), RULES)
    assert verdict.tables[0].seconds > SAFE
    assert verdict.sound


def test_a_skipped_snapshot_costs_nothing() -> None:
    facts = table(size=100 * 1024**3, read_budget=1.0, copies_snapshot=False)
    (one,) = plan([facts], Budgets(), RULES).tables
    assert (one.read_units, one.write_units, one.seconds) == (0, 0, 0.0)
    assert one.sound


@given(st.lists(st.integers(min_value=1, max_value=10**11), min_size=1, max_size=20), budgets)
def test_tables_sharing_a_budget_end_together(sizes: list[int], total: float) -> None:
    facts = [table(f"t{n}", size=size, items=0) for n, size in enumerate(sizes)]  # no CPU bound
    verdict = plan(facts, Budgets(reads=total), RULES)
    assert math.isclose(sum(t.read_budget or 0 for t in verdict.tables), total, rel_tol=1e-9)
    together = sum(read_units(size, RULES) for size in sizes) / total
    for one in verdict.tables:
        assert math.isclose(one.seconds, together, rel_tol=1e-9)
    assert math.isclose(verdict.seconds, together, rel_tol=1e-9)


def test_a_shared_budget_too_low_says_the_runs_total_it_needs() -> None:
    big, small = 90 * 1024**3, 10 * 1024**3
    facts = [table("big", size=big), table("small", size=small)]
    verdict = plan(facts, Budgets(reads=100.0), RULES)
    assert verdict.unsound == ["big", "small"]
    run = math.ceil(big / 8192) / SAFE * 100 / verdict.tables[0].read_budget  # type: ignore[operator]
    assert f"readThroughput x throughputReadPercent at least {run:,.0f}" in (
        verdict.tables[0].advice
    )


def test_a_write_budget_can_bound_the_snapshot() -> None:
    verdict = plan([table(read_budget=1000.0)], Budgets(writes=10.0), RULES)
    (one,) = verdict.tables
    assert one.bound == "write budget" and one.seconds == 100.0


def test_one_process_bounds_an_unlimited_snapshot_and_spark_is_the_advice() -> None:
    items = 10_000_000_000  # 23 hours at 120k items/s
    verdict = plan([table(items=items, size=items * 200)], Budgets(), RULES)
    (one,) = verdict.tables
    assert one.bound == "one process" and not one.fits
    assert "--engine spark" in one.advice and not verdict.sound


def test_tables_that_fit_alone_may_not_fit_in_one_process_together() -> None:
    items = 5_000_000_000  # 11.6 hours each at 120k items/s: 23 hours together
    facts = [table(f"t{n}", items=items, size=items * 200) for n in range(2)]
    verdict = plan(facts, Budgets(), RULES)
    assert all(one.fits for one in verdict.tables)
    assert not verdict.fits and not verdict.sound and verdict.unsound == []
    assert "--engine spark" in verdict.advice


def test_a_refusal_makes_the_table_unsound() -> None:
    refused = table("bad", refusals=("source table bad has ...",))
    verdict = plan([table(), refused], Budgets(), RULES)
    assert [one.sound for one in verdict.tables] == [True, False]
    assert verdict.unsound == ["bad"] and not verdict.sound
