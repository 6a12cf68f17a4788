"""toolkit/logic/plan_lines.py: what `toolkit plan` prints, per table and in total."""

from __future__ import annotations

from tests.unit.test_plan import RULES, table
from toolkit.logic.plan import Budgets, plan
from toolkit.logic.plan_lines import as_json, duration, lines, size


def test_a_table_says_its_facts_notes_and_refusals() -> None:
    facts = [
        table("orders", read_budget=5.0, shards=3, notes=("source table orders: TableClass",)),
        table("users", target="users_v2", refusals=("source table users has a GSI ...",)),
    ]
    said = lines(plan(facts, Budgets(), RULES), RULES)
    assert said[0] == "table orders: 1,000 items, 195.3 KB"
    assert "  read budget: 5.0 read units/s" in said
    assert any(
        line.startswith("  snapshot: at least 5.0 s (bound by the read budget); fits")
        for line in said
    )
    assert "  consumes: 25 read units, 1,000 write units" in said
    assert "  stream: 3 shards now" in said
    assert "  will not keep: source table orders: TableClass" in said
    assert "table users -> users_v2: 1,000 items, 195.3 KB" in said
    assert "  stream: no stream yet" in said
    assert "  cannot migrate: source table users has a GSI ..." in said
    assert said[-2].startswith("total: 2 tables, 2,000 items, 390.6 KB; snapshots at least")
    assert said[-1] == "plan: 1 of 2 tables cannot be migrated safely as configured (users)"


def test_a_shared_budget_is_shown_as_each_tables_share() -> None:
    facts = [table("a", size=300 * 8192), table("b", size=100 * 8192)]
    said = lines(plan(facts, Budgets(reads=40.0), RULES), RULES)
    assert (
        "  read budget: 30.0 read units/s, 75% of the run's 40.0 (shared in proportion to size)"
        in said
    )
    assert (
        "  read budget: 10.0 read units/s, 25% of the run's 40.0 (shared in proportion to size)"
        in said
    )
    assert said[-1] == "plan: sound"


def test_a_snapshot_too_long_says_what_to_change() -> None:
    facts = [table(size=100 * 1024**3, read_budget=10.0)]
    said = lines(plan(facts, Budgets(), RULES), RULES)
    (unsafe,) = [line for line in said if line.startswith("  cannot migrate safely:")]
    assert "beyond 18.0 h (75% of the stream's retention)" in unsafe
    assert "raise readThroughput" in unsafe and "S3 export" in unsafe
    assert any("does NOT fit the stream's 24-hour retention" in line for line in said)


def test_the_json_totals_add_up() -> None:
    facts = [table("a", shards=2), table("b", size=50_000, items=10, shards=None)]
    shown = as_json(plan(facts, Budgets(), RULES))
    total = shown["total"]
    assert total["items"] == 1010 and total["size_bytes"] == 250_000
    assert total["read_units"] == sum(t["read_units"] for t in shown["tables"])
    assert total["write_units"] == 1000 + 10 * 5
    assert total["stream_shards"] == 2
    assert shown["sound"] is True and shown["cannot_migrate"] == []


def test_sizes_and_durations_read_well() -> None:
    assert size(999) == "999 bytes"
    assert size(5 * 1024**3) == "5.0 GB"
    assert duration(12.34) == "12.3 s"
    assert duration(90) == "1.5 min"
    assert duration(30 * 3600) == "30.0 h"
