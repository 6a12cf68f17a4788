"""`toolkit plan` through the real CLI against DynamoDB Local (issue 26, point 4).

A plan reads and writes nothing: after each run, the test's folder holds only its
config (no state file), no target table exists and the source's stream is as it was.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_alternator_fit_cli import (
    DescribingProxy,
    everything_alternator_lacks,
    indexed_source,
    two_hash_attributes,
)
from tests.e2e.test_alternator_fit_cli import config as alternator_config
from tests.fakes.fake_alternator import fake_cluster
from tests.refusals import Case, Seen
from tests.tables import create_table, load, section, write_config

BIG = 100 * 1024**3  # bytes: a table DynamoDB Local cannot hold, as its description says


@pytest.fixture
def tables(case: Case) -> Iterator[list[str]]:
    """Three source tables of different sizes, named after the test's table (its Case
    sees them); deleted afterwards on both sides."""
    names = [f"{case.table}_{n}" for n in range(3)]
    for count, name in zip((5, 50, 200), names, strict=True):
        create_table(case.source, name)
        items = ({"id": {"S": f"k{i}"}, "pad": {"S": "x" * 100}} for i in range(count))
        load(case.endpoints.source, name, items, ["id"])
    yield names
    for client in (case.source, case.target):
        for name in names:
            with contextlib.suppress(client.exceptions.ResourceNotFoundException):
                client.delete_table(TableName=name)


def several(case: Case, tables: Any, read_throughput: int | None = None) -> Path:
    """A config of several tables; the shared sections name none."""
    source = section(case.endpoints.source, case.table, readThroughput=read_throughput)
    target = section(case.endpoints.target, case.table, streamChanges=True)
    for side in (source, target):
        del side["table"]
    if read_throughput is None:
        del source["readThroughput"]
    return write_config(case.tmp / "config.yaml", source, target, tables=tables)


def planned(case: Case, config: Path, *more: str) -> tuple[int, str, Seen]:
    """Run `toolkit plan`; its exit code and output, after checking it wrote nothing."""
    before = case.seen()
    run = case.run("plan", config, *more)
    assert "Traceback" not in run.stderr and "error" not in run.stderr, run.stderr
    after = case.seen()
    assert after == before and after.files == ["config.yaml"]
    return run.returncode, run.stdout, after


def test_one_table_is_planned_without_touching_anything(case: Case) -> None:
    case.source_table()
    code, said, seen = planned(case, case.config())
    assert code == 0, said
    assert f"table {case.table}: 5 items," in said
    assert "read budget: not limited" in said  # on demand, no readThroughput
    assert "fits the stream's 24-hour retention with margin" in said
    assert "write units" in said and "stream: no stream yet" in said
    assert said.strip().endswith("plan: sound")
    assert seen.target_tables == [] and seen.stream == (None, None)


def test_three_tables_share_the_runs_read_budget_by_size(case: Case, tables: list[str]) -> None:
    renamed = {"source": tables[2], "target": f"{tables[2]}_v2", "scanSegments": 8}
    config = several(case, [tables[0], tables[1], renamed], read_throughput=100)
    code, said, seen = planned(case, config, "--json")
    assert code == 0, said
    plan = json.loads(said)
    shown = {t["source"]: t for t in plan["tables"]}
    assert list(shown) == tables and shown[tables[2]]["target"] == f"{tables[2]}_v2"
    assert [shown[name]["items"] for name in tables] == [5, 50, 200]
    sizes = [shown[name]["size_bytes"] for name in tables]
    assert sizes[0] < sizes[1] < sizes[2]
    budgets = [shown[name]["read_budget"] for name in tables]
    assert math.isclose(sum(budgets), 50.0)  # readThroughput 100 x the default 0.5
    units = [shown[name]["read_units"] for name in tables]
    for budget, unit in zip(budgets, units, strict=True):
        assert math.isclose(budget, 50.0 * unit / sum(units))
    assert plan["total"]["items"] == 255 and plan["sound"] is True
    assert all(t["stream_shards"] is None for t in plan["tables"])
    assert seen.target_tables == []
    code, text, _ = planned(case, config)
    assert code == 0 and "of the run's 50.0 (shared in proportion to size)" in text
    assert "total: 3 tables, 255 items," in text


def test_a_pattern_plans_the_tables_it_matches(case: Case, tables: list[str]) -> None:
    code, said, _ = planned(case, several(case, {"pattern": f"{case.table}_*"}))
    assert code == 0, said
    assert [line.split(":")[0] for line in said.splitlines() if line.startswith("table ")] == [
        f"table {name}" for name in tables
    ]


def test_a_budget_too_low_for_the_retention_exits_1_with_the_advice(case: Case) -> None:
    case.source_table()

    def big(table: dict[str, Any]) -> None:
        table["TableSizeBytes"], table["ItemCount"] = BIG, 10**8

    with DescribingProxy(case.endpoints.source, big) as proxy:
        config = write_config(
            case.tmp / "config.yaml",
            section(proxy.url, case.table, readThroughput=100),  # 73 hours at 50 units/s
            section(case.endpoints.target, case.table, streamChanges=True),
        )
        code, said, _ = planned(case, config)
    assert code == 1, said
    assert "does NOT fit the stream's 24-hour retention with margin" in said
    assert "cannot migrate safely: its snapshot takes at least" in said
    needed = math.ceil(BIG / 8192) / (18 * 3600)
    assert f"so this table reads at least {needed:,.0f} units/s" in said
    assert "raise readThroughput (or throughputReadPercent)" in said
    assert "S3 export" in said
    assert said.strip().endswith(f"cannot be migrated safely as configured ({case.table})")


def test_without_stream_changes_a_long_snapshot_is_sound(case: Case) -> None:
    case.source_table()
    with DescribingProxy(case.endpoints.source, lambda t: t.update(TableSizeBytes=BIG)) as proxy:
        config = write_config(
            case.tmp / "config.yaml",
            section(proxy.url, case.table, readThroughput=1000),
            section(case.endpoints.target, case.table),
        )
        code, said, _ = planned(case, config)
    assert code == 0, said
    assert "no stream to replay, so no retention to fit" in said


def test_an_existing_stream_shows_its_shards_and_is_refused_unless_accepted(case: Case) -> None:
    case.source_table(StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    code, said, _ = planned(case, case.config())
    assert code == 1, said
    assert "stream: 1 shard now" in said  # DynamoDB Local keeps one shard
    assert "cannot migrate: table" in said and "already has an enabled stream" in said
    code, said, _ = planned(case, case.config(), "--accept-existing-stream")
    assert code == 0, said
    assert "cannot migrate" not in said


def test_a_target_with_other_keys_cannot_be_migrated(case: Case) -> None:
    case.source_table()
    create_table(case.target, case.table, keys=(("other", "S"),))
    code, said, _ = planned(case, case.config())
    assert code == 1, said
    assert "  cannot migrate: " in said and "other" in said


def test_a_missing_table_is_one_error_line(case: Case, tables: list[str]) -> None:
    config = several(case, [tables[0], f"{case.table}_missing"])
    case.refused("plan", config, f"source table {case.table}_missing does not exist")


def test_a_pattern_that_matches_nothing_is_one_error_line(case: Case) -> None:
    case.source_table()
    case.refused("plan", several(case, {"pattern": f"{case.table}_nothing_*"}), "match no table")


def test_an_alternator_target_says_what_it_will_not_keep_and_cannot_hold(case: Case) -> None:
    indexed_source(case)
    with fake_cluster(case.endpoints.target) as cluster:
        with DescribingProxy(case.endpoints.source, everything_alternator_lacks) as proxy:
            code, said, _ = planned(case, alternator_config(case, proxy, cluster))
        assert code == 0, said
        assert "  will not keep: source table " in said
        assert "TableClass STANDARD_INFREQUENT_ACCESS" in said
        with DescribingProxy(case.endpoints.source, two_hash_attributes) as proxy:
            code, said, _ = planned(case, alternator_config(case, proxy, cluster))
        assert code == 1, said
        assert "  cannot migrate: source table" in said and "by_a (a HASH, b HASH)" in said
        assert not any(cluster.count(n, "CreateTable") for n in range(3))
