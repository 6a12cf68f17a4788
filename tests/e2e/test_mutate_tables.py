"""`toolkit mutate` over several tables through the real CLI against DynamoDB Local.

Three tables of different key shapes are loaded, then mutated for a short run; the
report's per-table counts must add up to its total, and each table's lines of the
operation log, replayed, must equal an independent boto3 scan of that table.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import orjson
import pytest

from tests.conftest import Endpoints
from tests.helpers import run_cli
from tests.refusals import Case
from tests.tables import create_table, replayed, table_state

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.literals import ScalarAttributeTypeType

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
# (name suffix, key attributes hash first): hash only; hash and range; a number key
SHAPES: list[tuple[str, tuple[tuple[str, ScalarAttributeTypeType], ...]]] = [
    ("", (("id", "S"),)),
    ("_range", (("pk", "S"), ("sk", "N"))),
    ("_number", (("n", "N"),)),
]
TABLE_LINE = re.compile(
    r"^Table (\S+): (\d+) operations \((\d+) puts, (\d+) deletes\); .*; (\d+) of 200 keys live$"
)
SUMMARY = re.compile(r"^Mutate done: (\d+) operations \((\d+) puts, (\d+) deletes\)")


@pytest.fixture
def tables(source_client: DynamoDBClient, table_name: str) -> Iterator[dict[str, list[str]]]:
    """The three tables, created, by name: their key attribute names."""
    made = {table_name + suffix: keys for suffix, keys in SHAPES}
    for name, keys in made.items():
        create_table(source_client, name, keys=keys)
    yield {name: [key for key, _ in keys] for name, keys in made.items()}
    for name in made:  # the fixture deletes table_name itself
        with contextlib.suppress(source_client.exceptions.ResourceNotFoundException):
            source_client.delete_table(TableName=name)


def test_a_load_then_a_run_over_three_tables(
    endpoints: Endpoints, tables: dict[str, list[str]], tmp_path: Path
) -> None:
    log = tmp_path / "ops.jsonl"
    where = ["--endpoint", endpoints.source, *(f for t in tables for f in ("--table", t))]
    common = [*where, "--max-item-bytes", "2000", "--log", str(log), "--seed", "26"]

    loaded = run_cli("mutate", *common, "--load", "200", env=CREDENTIALS)
    assert loaded.returncode == 0, loaded.stderr
    for name in tables:
        assert f"Table {name}: Load done: 200 of 200 items" in loaded.stdout
    assert loaded.stdout.splitlines()[-1].startswith("Load done: 600 of 600 items into 3 tables")

    result = run_cli(
        "mutate", *common, "--keys", "200", "--duration", "3", "--rate", "30-40", env=CREDENTIALS
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"Mutating 3 tables on source {endpoints.source}: 200 keys each")
    summary = SUMMARY.match(lines[-1])
    assert summary is not None, lines
    reported = {}
    for line in lines[-4:-1]:
        match = TABLE_LINE.match(line)
        assert match is not None, lines
        operations, puts, deletes, live = (int(n) for n in match.group(2, 3, 4, 5))
        assert operations == puts + deletes and operations > 0  # every table was written
        reported[match.group(1)] = (operations, puts, deletes, live)
    assert set(reported) == set(tables)
    for column in range(3):
        assert sum(r[column] for r in reported.values()) == int(summary.group(column + 1))

    entries = [orjson.loads(line) for line in log.read_bytes().splitlines()]
    for name, keys in tables.items():
        logged = [e for e in entries if e["table"] == name]
        assert len(logged) == 200 + reported[name][0]  # the load's items, then the run's
        mine = tmp_path / f"{name}.jsonl"
        mine.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in logged))
        state = table_state(endpoints.source, name, keys)
        assert replayed(mine, keys) == state
        assert len(state) == reported[name][3]  # the live keys reported are the table's items


def test_a_missing_table_among_several_is_refused_before_any_write(case: Case) -> None:
    case.source_table()
    missing = f"{case.table}_missing"
    case.refused(
        "mutate",
        case.config(),
        f"table {missing} does not exist",
        more=("--table", case.table, "--table", missing),
    )
