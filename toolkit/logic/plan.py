"""`toolkit plan`'s verdict from the facts of each table: what its snapshot costs, how
long it takes at its budget, whether the stream keeps the changes that long.

Pure: the driver reads the descriptions (toolkit/driver/plan_facts.py) and the
numbers that rule (the stream's retention, a read unit's bytes) come in as ``Rules``.
The lines and the JSON are toolkit/logic/plan_lines.py.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

WRITE_UNIT_BYTES = 1024  # a write unit writes an item of up to 1 KB


@dataclass(frozen=True)
class Rules:
    retention_seconds: float  # the stream keeps a record this long
    margin: float  # the snapshot must end within this fraction of the retention
    read_unit_bytes: int  # what one eventually consistent read unit reads
    process_items_per_second: float  # the most one process copies, at best

    @property
    def safe_seconds(self) -> float:
        return self.retention_seconds * self.margin


@dataclass(frozen=True)
class TableFacts:
    """What the descriptions say of one table, and what the config asks of it."""

    source: str
    target: str
    items: int
    size: int  # bytes
    read_budget: float | None  # read units/s of its own (not shared); None: not limited
    copies_snapshot: bool  # False with skipInitialSnapshotTransfer
    streaming: bool  # its stream's changes are replayed after the snapshot
    writes_table: bool  # the target is a table (an export's files spend no write units)
    shards: int | None  # its stream's shards now; None: no stream yet
    refusals: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Budgets:
    """The run's budgets that its tables share (None: each table has its own, or none)."""

    reads: float | None = None  # an explicit readThroughput x throughputReadPercent
    writes: float | None = None  # writeThroughput x throughputWritePercent


@dataclass(frozen=True)
class TablePlan:
    facts: TableFacts
    read_units: int  # what its snapshot consumes, eventually consistent
    write_units: int
    read_budget: float | None  # its own, or its share of the run's
    write_budget: float | None
    seconds: float  # the snapshot's shortest time (0 when none is copied)
    bound: str  # what makes it that long: "read budget", "write budget" or "one process"
    fits: bool  # within the stream's retention with margin (or nothing to fit)
    advice: str  # what to change when it does not fit

    @property
    def sound(self) -> bool:
        return self.fits and not self.facts.refusals


@dataclass(frozen=True)
class Plan:
    tables: tuple[TablePlan, ...]
    budgets: Budgets
    seconds: float  # the run's snapshots, at once in one process
    fits: bool  # the run as a whole (one process copies every table) within the retention
    advice: str

    @property
    def sound(self) -> bool:
        return self.fits and all(table.sound for table in self.tables)

    @property
    def unsound(self) -> list[str]:
        return [table.facts.source for table in self.tables if not table.sound]


def shares(total: float, weights: Sequence[float]) -> list[float]:
    """``total`` split in proportion to the weights (equal parts when all are 0): each
    table of a run gets the budget its size asks for, so all end together."""
    if not weights:
        return []
    whole = sum(weights)
    if whole <= 0:
        return [total / len(weights)] * len(weights)
    return [total * weight / whole for weight in weights]


def read_units(size: int, rules: Rules) -> int:
    return math.ceil(size / rules.read_unit_bytes)


def write_units(items: int, size: int) -> int:
    """Each item written costs a unit per started KB (its size taken as the average)."""
    if items <= 0:
        return 0
    return items * max(1, math.ceil(size / items / WRITE_UNIT_BYTES))


def plan(facts: Sequence[TableFacts], budgets: Budgets, rules: Rules) -> Plan:
    """Each table's costs and time at its budget, and the run's: its snapshots run at once
    in one process, so the run is never faster than that process copies every item."""
    copied = [f if f.copies_snapshot else _nothing_copied(f) for f in facts]
    reads = [read_units(f.size, rules) for f in copied]
    writes = [write_units(f.items, f.size) if f.writes_table else 0 for f in copied]
    read_budgets = _budgets(budgets.reads, reads, [f.read_budget for f in facts])
    write_budgets = _budgets(budgets.writes, writes, [None] * len(facts))
    tables = tuple(
        _table(Cost(f, c.items, r, w, rb, wb), budgets, rules)
        for f, c, r, w, rb, wb in zip(
            facts, copied, reads, writes, read_budgets, write_budgets, strict=True
        )
    )
    items = sum(f.items for f in copied)
    floor = items / rules.process_items_per_second
    seconds = max([floor, *(t.seconds for t in tables)])
    streaming = any(f.streaming and f.copies_snapshot for f in facts)
    fits = not streaming or floor <= rules.safe_seconds
    advice = "" if fits else _process_advice(items, rules)
    return Plan(tables, budgets, seconds, fits, advice)


@dataclass(frozen=True)
class Cost:
    """What one table's snapshot copies and spends, and the budgets it has for it."""

    facts: TableFacts
    items: int  # copied (0 when the snapshot is skipped)
    reads: int
    writes: int
    read_budget: float | None
    write_budget: float | None


def _nothing_copied(facts: TableFacts) -> TableFacts:
    """A table whose snapshot is skipped costs nothing to copy."""
    return dataclasses.replace(facts, items=0, size=0, writes_table=False)


def _budgets(
    shared: float | None, units: Sequence[int], own: Sequence[float | None]
) -> list[float | None]:
    """Each table's budget: its share of the run's, else its own."""
    if shared is None:
        return list(own)
    return list(shares(shared, units))


def _table(cost: Cost, budgets: Budgets, rules: Rules) -> TablePlan:
    times = {
        "one process": cost.items / rules.process_items_per_second,
        "read budget": _at(cost.reads, cost.read_budget),
        "write budget": _at(cost.writes, cost.write_budget),
    }
    bound = max(times, key=lambda name: times[name])
    seconds, facts = times[bound], cost.facts
    fits = not (facts.streaming and facts.copies_snapshot) or seconds <= rules.safe_seconds
    advice = "" if fits else _advice(bound, cost, budgets, rules)
    return TablePlan(
        *(facts, cost.reads, cost.writes, cost.read_budget, cost.write_budget),
        *(seconds, bound, fits, advice),
    )


def _at(units: int, budget: float | None) -> float:
    if budget is None or units == 0:
        return 0.0
    return units / budget if budget > 0 else math.inf


def _advice(bound: str, cost: Cost, budgets: Budgets, rules: Rules) -> str:
    safe = rules.safe_seconds
    within = f"to end within {safe / 3600:.0f} hours"
    if bound == "one process":
        return _process_advice(cost.items, rules)
    if bound == "write budget":
        return (
            "raise writeThroughput (or throughputWritePercent) so this table writes at least "
            f"{cost.writes / safe:,.0f} units/s, {within}"
        )
    needed = cost.reads / safe
    whole = ""
    if budgets.reads is not None and cost.read_budget:
        run = needed * budgets.reads / cost.read_budget
        whole = f" (the run's readThroughput x throughputReadPercent at least {run:,.0f})"
    return (
        f"raise readThroughput (or throughputReadPercent) so this table reads at least "
        f"{needed:,.0f} units/s{whole}, {within}; or copy from an S3 export of the table "
        "(source type dynamodb-s3-export), which spends no read capacity"
    )


def _process_advice(items: int, rules: Rules) -> str:
    needed = items / rules.safe_seconds
    return (
        f"one process copies at most about {rules.process_items_per_second:,.0f} items/s and "
        f"{needed:,.0f} are needed to end within {rules.safe_seconds / 3600:.0f} hours: run on "
        "Spark (--engine spark) with executors on several machines, or copy from an S3 export "
        "(source type dynamodb-s3-export)"
    )
