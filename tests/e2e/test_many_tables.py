"""A whole application's tables in one run, through the real CLI against DynamoDB Local.

Twelve tables of different shapes and sizes (hash only, hash and range, number and
binary keys, a global and a local index, TTL, an empty one), a live load on three,
one `toolkit migrate` killed with kill -9 in the middle of the snapshots and again in
the replay, resumed, drained; one table made to fail (its target created behind the
run's back with another key schema) fails alone and is retried once fixed; in the end
every table's target equals its source.
"""

from __future__ import annotations

import base64
import contextlib
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import Endpoints
from tests.helpers import run_cli
from tests.refusals import Case
from tests.scenario import Run
from tests.tables import create_table, load, scan_all, section, write_config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

WAIT = 240.0
INDEX = {"Projection": {"ProjectionType": "ALL"}}


def _shapes(prefix: str) -> list[tuple[str, list[tuple[str, Any]], int, dict[str, Any]]]:
    """(name, keys, items, extra CreateTable arguments) of each table."""
    gsi = {
        "GlobalSecondaryIndexes": [
            {"IndexName": "by_g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}], **INDEX}
        ]
    }
    lsi = {
        "LocalSecondaryIndexes": [
            {
                "IndexName": "by_l",
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "l", "KeyType": "RANGE"},
                ],
                **INDEX,
            }
        ]
    }
    return [
        (f"{prefix}_hash", [("id", "S")], 1500, {}),
        (f"{prefix}_range", [("pk", "S"), ("sk", "N")], 1200, {}),
        (f"{prefix}_number", [("n", "N")], 800, {}),
        (f"{prefix}_binary", [("b", "B")], 300, {}),
        (f"{prefix}_global", [("id", "S"), ("g", "S")], 600, gsi),
        (f"{prefix}_local", [("pk", "S"), ("sk", "S"), ("l", "N")], 400, lsi),
        (f"{prefix}_ttl", [("id", "S")], 500, {}),
        (f"{prefix}_empty", [("id", "S")], 0, {}),
        (f"{prefix}_wide", [("id", "S")], 200, {}),
        (f"{prefix}_numrange", [("pk", "N"), ("sk", "S")], 900, {}),
        (f"{prefix}_plain", [("id", "S")], 1000, {}),
        (f"{prefix}_fails", [("id", "S")], 100, {}),
    ]


def _item(keys: list[tuple[str, Any]], i: int, wide: bool) -> dict[str, Any]:
    values: dict[str, dict[str, Any]] = {
        "S": {"S": f"k{i:05d}"},
        "N": {"N": str(i)},
        "B": {"B": base64.b64encode(i.to_bytes(4, "big")).decode()},
    }
    item = {name: values[kind] for name, kind in keys}
    item["v"] = {"S": "x" * (2000 if wide else 40)}
    item["exp"] = {"N": str(int(time.time()) + 86_400)}
    return item


@pytest.fixture
def tables(source_client: DynamoDBClient, target_client: DynamoDBClient) -> Iterator[list[Any]]:
    shapes = _shapes(f"m{uuid.uuid4().hex[:8]}")
    yield shapes
    for client in (source_client, target_client):
        for name, *_ in shapes:
            with contextlib.suppress(client.exceptions.ResourceNotFoundException):
                client.delete_table(TableName=name)


def _create(endpoints: Endpoints, source: DynamoDBClient, shapes: list[Any]) -> None:
    for name, keys, count, extra in shapes:
        table_keys = [(k, t) for k, t in keys if k not in ("g", "l")]  # not the indexes'
        source.create_table(
            TableName=name,
            KeySchema=[
                {"AttributeName": k, "KeyType": "HASH" if i == 0 else "RANGE"}
                for i, (k, _) in enumerate(table_keys)
            ],
            AttributeDefinitions=[{"AttributeName": k, "AttributeType": t} for k, t in keys],
            BillingMode="PAY_PER_REQUEST",
            **extra,
        )
        if name.endswith("_ttl"):
            source.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"}
            )
        items = (_item(keys, i, name.endswith("_wide")) for i in range(count))
        load(endpoints.source, name, items, [k for k, _ in table_keys])


def _copied(state: Path, table: str) -> int:
    try:
        with contextlib.closing(sqlite3.connect(f"file:{state}?mode=ro", uri=True)) as db:
            row = db.execute(f'SELECT COALESCE(SUM(items), 0) FROM "{table}/segments"').fetchone()
    except sqlite3.OperationalError:
        return 0
    return int(row[0])


def _fact(state: Path, table: str, name: str) -> str | None:
    try:
        with contextlib.closing(sqlite3.connect(f"file:{state}?mode=ro", uri=True)) as db:
            row = db.execute(f'SELECT value FROM "{table}/run" WHERE name = ?', (name,)).fetchone()
    except sqlite3.OperationalError:
        return None
    return None if row is None else str(row[0])


def _wait(run: Run, what: str, ready: Any, *alive: Any) -> None:
    deadline = time.monotonic() + WAIT
    while not ready():
        run.alive(*alive)
        assert time.monotonic() < deadline, f"no {what} within {WAIT} s"
        time.sleep(0.1)


@pytest.fixture
def run(endpoints: Endpoints, tmp_path: Path) -> Iterator[Run]:
    scenario = Run(endpoints, "unused", tmp_path)
    try:
        yield scenario
    finally:
        scenario.kill_all()


def test_twelve_tables_killed_twice_resumed_drained_and_identical(
    run: Run,
    endpoints: Endpoints,
    tables: list[Any],
    source_client: DynamoDBClient,
    target_client: DynamoDBClient,
) -> None:
    _create(endpoints, source_client, tables)
    names = [name for name, *_ in tables]
    failing, loaded = names[-1], names[:3]
    source = section(endpoints.source, "unused", scanSegments=4)
    target = section(endpoints.target, "unused", streamChanges=True)
    del source["table"], target["table"]
    write_config(run.config, source, target, tables=names)
    # The failing table's target, made behind the run's back with another key schema.
    create_table(target_client, failing, [("other", "N")])

    load_on = run.start(
        "mutate",
        "--config",
        str(run.config),
        *(f"--table={n}" for n in loaded),
        *("--keys", "300", "--rate", "30-40"),
    )
    first = run.migrate("--scan-page-items", "20")
    _wait(run, "copying", lambda: sum(_copied(run.state, n) for n in names) >= 400, first)
    run.kill(first)  # kill -9 in the middle of the snapshots
    assert any(_fact(run.state, n, "snapshot") != "done" for n in names[:-1])

    second = run.migrate()
    copied = lambda: all(_fact(run.state, n, "snapshot") == "done" for n in names[:-1])  # noqa: E731
    _wait(run, "every snapshot", copied, second, load_on)
    assert _fact(run.state, failing, "failed"), "the table made to fail is recorded as failed"
    time.sleep(2)  # the live load's changes are being replayed
    run.kill(second)  # kill -9 in the replay

    run.stop(load_on)
    target_client.delete_table(TableName=failing)  # fixed: the run makes its own
    out, err = run.finish(run.migrate("--stop-when-drained"), timeout=WAIT)
    assert f"Retrying table {failing}" in err
    assert sum("Stream replay drained" in line for line in out.splitlines()) == len(names)
    for name in names:
        assert _fact(run.state, name, "failed") in ("", None)
        assert scan_all(endpoints.source, name) == scan_all(endpoints.target, name), name
    assert scan_all(endpoints.target, names[0]), "the tables hold items"
    status = run_cli("status", "--state", str(run.state))
    assert status.returncode == 0 and f"{len(names)} of {len(names)} ready" in status.stdout
    verify = run_cli(
        *("verify", "--config", str(run.config), "--state", str(run.state)),
        "--both-directions",
        timeout=WAIT,
    )
    assert verify.returncode == 0, verify.stdout[-3000:] + verify.stderr[-2000:]
    assert f"{len(names)} tables identical" in verify.stdout


def test_a_failing_table_fails_alone_with_one_line_and_exit_2(
    run: Run,
    endpoints: Endpoints,
    tables: list[Any],
    source_client: DynamoDBClient,
    target_client: DynamoDBClient,
) -> None:
    shapes = [tables[0], tables[-1]]
    _create(endpoints, source_client, shapes)
    good, failing = shapes[0][0], shapes[1][0]
    source = section(endpoints.source, "unused")
    target = section(endpoints.target, "unused")
    del source["table"], target["table"]
    write_config(run.config, source, target, tables=[good, failing])
    create_table(target_client, failing, [("other", "N")])
    process = run.migrate()
    code = process.wait(WAIT)
    out, err = run.output(process)
    assert code == 2, err
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and f"1 of 2 tables failed: {failing}: " in errors[0], err
    assert f"{good}: Snapshot done: 1500 items" in out
    assert scan_all(endpoints.source, good) == scan_all(endpoints.target, good)
    assert "key schema" in (_fact(run.state, failing, "failed") or "")


def test_a_missing_table_refuses_the_whole_run_and_leaves_everything(
    case: Case, endpoints: Endpoints, source_client: DynamoDBClient
) -> None:
    present = f"{case.table}_here"
    create_table(source_client, present)
    load(endpoints.source, present, ({"id": {"S": f"k{i}"}} for i in range(20)), ["id"])
    source = section(endpoints.source, "unused")
    target = section(endpoints.target, "unused", streamChanges=True)
    del source["table"], target["table"]
    config = write_config(
        case.tmp / "config.yaml", source, target, tables=[present, f"{case.table}_missing"]
    )
    case.refused("migrate", config, f"{case.table}_missing")
    described = source_client.describe_table(TableName=present)["Table"]
    assert "StreamSpecification" not in described or not described["StreamSpecification"].get(
        "StreamEnabled"
    )
