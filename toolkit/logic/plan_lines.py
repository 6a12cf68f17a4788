"""`toolkit plan`'s output: lines per table and in total, or one JSON object."""

from __future__ import annotations

from typing import Any

from toolkit.logic.plan import Plan, Rules, TablePlan

BYTE_UNITS = ("bytes", "KB", "MB", "GB", "TB", "PB")


def lines(plan: Plan, rules: Rules) -> list[str]:
    said = [line for table in plan.tables for line in _table_lines(table, plan, rules)]
    return [*said, *_total_lines(plan)]


def as_json(plan: Plan) -> dict[str, Any]:
    tables = [_table_json(table) for table in plan.tables]
    return {
        "tables": tables,
        "total": {
            "tables": len(tables),
            **{
                key: sum(t[key] for t in tables)
                for key in ("items", "size_bytes", "read_units", "write_units")
            },
            "stream_shards": sum(t["stream_shards"] or 0 for t in tables),
            "shared_read_budget": plan.budgets.reads,
            "shared_write_budget": plan.budgets.writes,
            "snapshot_seconds": plan.seconds,
            "fits_retention": plan.fits,
            "advice": plan.advice,
        },
        "sound": plan.sound,
        "cannot_migrate": plan.unsound,
    }


def _table_json(table: TablePlan) -> dict[str, Any]:
    facts = table.facts
    return {
        "source": facts.source,
        "target": facts.target,
        "items": facts.items,
        "size_bytes": facts.size,
        "read_budget": table.read_budget,
        "write_budget": table.write_budget,
        "snapshot": facts.copies_snapshot,
        "snapshot_seconds": table.seconds,
        "bound": table.bound,
        "fits_retention": table.fits,
        "advice": table.advice,
        "read_units": table.read_units,
        "write_units": table.write_units,
        "stream_shards": facts.shards,
        "will_not_keep": list(facts.notes),
        "cannot_migrate": list(facts.refusals),
        "sound": table.sound,
    }


def _table_lines(table: TablePlan, plan: Plan, rules: Rules) -> list[str]:
    facts = table.facts
    name = facts.source if facts.source == facts.target else f"{facts.source} -> {facts.target}"
    return [
        f"table {name}: {counted(facts.items, 'item')}, {size(facts.size)}",
        f"  read budget: {_budget(table, plan)}",
        f"  snapshot: {_snapshot(table, rules)}",
        f"  consumes: {_units(table.read_units, table.write_units)}",
        f"  stream: {_stream(facts.shards)}",
        *(f"  will not keep: {note}" for note in facts.notes),
        *(f"  cannot migrate: {refusal}" for refusal in facts.refusals),
        *([] if table.fits else [f"  cannot migrate safely: {_too_long(table, rules)}"]),
        f"  plan: {'sound' if table.sound else 'cannot be migrated safely as configured'}",
    ]


def _budget(table: TablePlan, plan: Plan) -> str:
    if table.read_budget is None:
        return "not limited (on demand, no readThroughput): the servers set the pace"
    units = f"{table.read_budget:,.1f} read units/s"
    shared = plan.budgets.reads
    if shared is None:
        return units
    part = table.read_budget / shared if shared else 0.0
    return f"{units}, {part:.0%} of the run's {shared:,.1f} (shared in proportion to size)"


def _snapshot(table: TablePlan, rules: Rules) -> str:
    if not table.facts.copies_snapshot:
        return "none (skipInitialSnapshotTransfer)"
    took = f"at least {duration(table.seconds)} (bound by {_bound(table)})"
    if not table.facts.streaming:
        return f"{took}; no stream to replay, so no retention to fit"
    hours = rules.retention_seconds / 3600
    if table.fits:
        return f"{took}; fits the stream's {hours:.0f}-hour retention with margin"
    return f"{took}; does NOT fit the stream's {hours:.0f}-hour retention with margin"


def _bound(table: TablePlan) -> str:
    return "the " + table.bound if table.bound != "one process" else "one process's speed"


def _too_long(table: TablePlan, rules: Rules) -> str:
    return (
        f"its snapshot takes at least {duration(table.seconds)}, beyond "
        f"{duration(rules.safe_seconds)} ({rules.margin:.0%} of the stream's retention): "
        f"changes made early in the copy could be trimmed before replay; {table.advice}"
    )


def _stream(shards: int | None) -> str:
    return "no stream yet" if shards is None else f"{counted(shards, 'shard')} now"


def _units(reads: int, writes: int) -> str:
    return f"{counted(reads, 'read unit')}, {counted(writes, 'write unit')}"


def counted(count: int, thing: str) -> str:
    return f"{count:,} {thing}{'' if count == 1 else 's'}"


def _total_lines(plan: Plan) -> list[str]:
    tables = plan.tables
    items = sum(t.facts.items for t in tables)
    shards = sum(t.facts.shards or 0 for t in tables)
    reads, writes = sum(t.read_units for t in tables), sum(t.write_units for t in tables)
    said = [
        f"total: {counted(len(tables), 'table')}, {counted(items, 'item')}, "
        f"{size(sum(t.facts.size for t in tables))}; snapshots at least "
        f"{duration(plan.seconds)}; {_units(reads, writes)}; "
        f"{counted(shards, 'stream shard')} now",
    ]
    if not plan.fits:
        said.append(f"the run cannot end its snapshots in time: {plan.advice}")
    if plan.sound:
        return [*said, "plan: sound"]
    unsound = plan.unsound
    if not unsound:
        return [*said, "plan: the run cannot be migrated safely as configured"]
    return [
        *said,
        f"plan: {len(unsound)} of {len(tables)} tables cannot be migrated safely as "
        f"configured ({', '.join(unsound)})",
    ]


def size(count: int) -> str:
    value, unit = float(count), 0
    while value >= 1024 and unit < len(BYTE_UNITS) - 1:
        value, unit = value / 1024, unit + 1
    return f"{count:,} bytes" if unit == 0 else f"{value:,.1f} {BYTE_UNITS[unit]}"


def duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:,.1f} h"
