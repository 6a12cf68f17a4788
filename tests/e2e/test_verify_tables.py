"""`toolkit verify` of a config with several tables, through the real CLI against the two
local servers: a report per table, one verdict, exit 0 only when every table is identical.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import pytest

from tests.conftest import Endpoints
from tests.helpers import error_line, run_cli
from tests.tables import create_table, load, section, write_config
from toolkit.work.state import RunState

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ITEMS = [{"id": {"S": f"k{n}"}, "n": {"N": str(n)}} for n in range(40)]


@dataclass(frozen=True)
class Run:
    """Three source tables and their targets, the second renamed: (source, target) pairs."""

    endpoints: Endpoints
    target: DynamoDBClient
    pairs: tuple[tuple[str, str], ...]
    folder: Path

    def config(self, **top: Any) -> Path:
        same, renamed, other = self.pairs
        return write_config(
            self.folder / "run.yaml",
            _shared(self.endpoints.source),
            _shared(self.endpoints.target),
            tables=[same[0], {"source": renamed[0], "target": renamed[1]}, other[0]],
            **top,
        )

    def verify(self, config: Path, *flags: str) -> Any:
        return run_cli(
            *("verify", "--config", str(config), "--recheck-delay", "0", "--both-directions"),
            *flags,
            cwd=self.folder,
        )


def _shared(endpoint: str) -> dict[str, Any]:
    """A side's section for a run of several tables: everything but a table."""
    return {k: v for k, v in section(endpoint, "unused").items() if k != "table"}


@pytest.fixture
def run(
    endpoints: Endpoints,
    source_client: DynamoDBClient,
    target_client: DynamoDBClient,
    table_name: str,
    tmp_path: Path,
) -> Iterator[Run]:
    """Each source table and its target hold the same items."""
    pairs = (
        (f"{table_name}_a", f"{table_name}_a"),
        (f"{table_name}_b", f"{table_name}_b_v2"),
        (f"{table_name}_c", f"{table_name}_c"),
    )
    for source, target in pairs:
        create_table(source_client, source)
        create_table(target_client, target)
        load(endpoints.source, source, ITEMS, ["id"])
        load(endpoints.target, target, ITEMS, ["id"])
    yield Run(endpoints, target_client, pairs, tmp_path)
    for client, names in (
        (source_client, [s for s, _ in pairs]),
        (target_client, [t for _, t in pairs]),
    ):
        for name in names:
            with contextlib.suppress(client.exceptions.ResourceNotFoundException):
                client.delete_table(TableName=name)


def _spoil(run: Run) -> str:
    """The third target loses an item and another changes: the one table that differs."""
    table = run.pairs[2][1]
    run.target.delete_item(TableName=table, Key={"id": {"S": "k3"}})
    run.target.put_item(TableName=table, Item={"id": {"S": "k7"}, "n": {"N": "-7"}})
    return table


def _reports(stdout: str) -> dict[str, str]:
    """Each table's report by its heading's name (the line of the rule)."""
    parts: dict[str, str] = {}
    current = None
    for line in stdout.splitlines():
        if "table " in line and line.startswith("─"):
            current = line.strip("─ ").removeprefix("table ")
            parts[current] = ""
        elif current is not None:
            parts[current] += line + "\n"
    return parts


def test_each_table_has_its_report_and_the_run_one_verdict(run: Run) -> None:
    config = run.config()
    spoiled = _spoil(run)
    report = run.folder / "report.jsonl"

    result = run.verify(config, "--report", str(report))

    assert result.returncode == 1, result.stdout + result.stderr
    same, renamed, other = run.pairs
    reports = _reports(result.stdout)
    assert set(reports) == {same[0], f"{renamed[0]} → {renamed[1]}", other[0]}
    assert "IDENTICAL (both directions)" in reports[same[0]]
    assert "IDENTICAL (both directions)" in reports[f"{renamed[0]} → {renamed[1]}"]
    assert "DIFFERENT: 1 missing in target, 1 different" in reports[other[0]]
    assert result.stdout.strip().splitlines()[-1] == f"1 of 3 tables differ: {other[0]}"
    lines = [orjson.loads(line) for line in report.read_bytes().splitlines()]
    found = {
        (line["table"], line["kind"], line["key"]["id"]["S"]) for line in lines if "key" in line
    }
    assert found == {(other[0], "missing", "k3"), (other[0], "different", "k7")}

    run.target.put_item(TableName=spoiled, Item=ITEMS[3])
    run.target.put_item(TableName=spoiled, Item=ITEMS[7])
    fixed = run.verify(config)

    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert fixed.stdout.strip().splitlines()[-1] == "3 tables identical"


def test_repair_mends_each_table(run: Run) -> None:
    config = run.config()
    _spoil(run)

    repaired = run.verify(config, "--repair")

    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert run.verify(config).returncode == 0


def test_the_tables_the_state_recorded_are_compared(run: Run) -> None:
    """The run's state names its tables: verify compares those, not the config's list."""
    config = run.config()
    _spoil(run)
    state = RunState(run.folder / "run.state.sqlite")
    state.put("tables", orjson.dumps([list(pair) for pair in run.pairs[:2]]).decode())
    state.close()

    result = run.verify(config)

    assert result.returncode == 0, result.stdout + result.stderr
    assert set(_reports(result.stdout)) == {run.pairs[0][0], " → ".join(run.pairs[1])}
    assert result.stdout.strip().splitlines()[-1] == "2 tables identical"


def test_a_missing_target_table_is_one_line_before_any_comparison(run: Run) -> None:
    run.target.delete_table(TableName=run.pairs[2][1])

    result = run.verify(run.config())

    line = error_line(result)
    assert f"target table {run.pairs[2][1]} does not exist" in line
    assert "IDENTICAL" not in result.stdout  # refused whole: no table was compared


@pytest.mark.parametrize(
    ("flags", "phrase"),
    [
        (("--source-table", "x"), "leave them out to compare every table of the run"),
        (("--state", "elsewhere.sqlite"), "no state file elsewhere.sqlite"),
    ],
)
def test_flags_that_do_not_fit_several_tables_are_one_line(
    run: Run, flags: tuple[str, ...], phrase: str
) -> None:
    config = run.config()
    before = sorted(path.name for path in run.folder.iterdir())

    line = error_line(run.verify(config, *flags))

    assert phrase in line
    assert sorted(path.name for path in run.folder.iterdir()) == before
