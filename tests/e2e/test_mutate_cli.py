"""`toolkit mutate` through the real CLI against DynamoDB Local.

The operation log replayed into a dict must equal an independent boto3 scan of the
table. DynamoDB Local normalises numbers and boto3 decodes binaries, so items are
compared in ``toolkit.logic.items.canonical`` form.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from mutator.keys import KeySpace
from tests.conftest import Endpoints
from tests.helpers import error_line, free_port, run_cli
from tests.tables import (
    create_table,
    keyed,
    replayed,
    section,
    table_state,
    write_config,
)
from toolkit import cli
from toolkit.logic.table_schema import KeyAttribute

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.literals import ScalarAttributeTypeType

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
WINDOW = re.compile(r"^\[\s*\d+ s\] (\d+) ops: (\d+) puts, (\d+) deletes, ([\d.]+) ops/s, ")
SUMMARY = re.compile(r"^Mutate (\w+): (\d+) operations \((\d+) puts, (\d+) deletes\)")


def mutate(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli("mutate", *args, env=CREDENTIALS, cwd=cwd, timeout=120)


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    return error_line(result)


def test_create_and_load_a_table_then_a_timed_run_whose_log_rebuilds_it(
    endpoints: Endpoints, source_client: DynamoDBClient, table_name: str, tmp_path: Path
) -> None:
    config = write_config(
        tmp_path / "config.yaml",
        section(endpoints.source, table_name),
        section(endpoints.target, table_name),
    )
    log = tmp_path / "ops.jsonl"
    sizes = ("--max-item-bytes", "3000", "--log", str(log))
    # the load also warms a freshly started server up before the rate is measured
    loaded = mutate("--config", str(config), "--create-table", "--load", "600", *sizes)
    assert loaded.returncode == 0, loaded.stderr
    described = source_client.describe_table(TableName=table_name)["Table"]
    assert sorted((k["AttributeName"], k["KeyType"]) for k in described["KeySchema"]) == [
        ("id", "HASH"),
        ("version", "RANGE"),
    ]
    assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"

    result = mutate(
        *("--config", str(config), "--keys", "1000", "--rate", "40-60", "--duration", "4.5"),
        *("--window", "2", *sizes),
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "1000 keys (600 live)" in lines[0]
    windows = [WINDOW.match(line) for line in lines if line.startswith("[") and "last" not in line]
    assert len(windows) == 2, lines
    for window in windows:
        assert window is not None
        assert 2 * 40 - 3 <= int(window.group(1)) <= 2 * 60 + 3, lines
    summary = SUMMARY.match(lines[-1])
    assert summary is not None and summary.group(1) == "done", lines
    assert int(summary.group(2)) + 600 == len(log.read_bytes().splitlines())
    assert int(summary.group(4)) > 0
    assert replayed(log, ["id", "version"]) == table_state(
        endpoints.source, table_name, ["id", "version"]
    )


def test_load_then_mutate_share_the_key_space_and_one_log(
    endpoints: Endpoints, source_client: DynamoDBClient, table_name: str, tmp_path: Path
) -> None:
    where = ("--endpoint", endpoints.source, "--table", table_name)
    log = tmp_path / "ops.jsonl"
    loaded = mutate(
        *where, "--create-table", "--load", "5000", "--max-item-bytes", "300", "--log", str(log)
    )
    assert loaded.returncode == 0, loaded.stderr
    assert "Load done: 5000 of 5000 items" in loaded.stdout
    pages = source_client.get_paginator("scan").paginate(TableName=table_name, Select="COUNT")
    assert sum(page["Count"] for page in pages) == 5000
    names = ["id", "version"]
    space = KeySpace((KeyAttribute("id", "HASH", "S"), KeyAttribute("version", "RANGE", "N")), 5000)
    assert set(replayed(log, names)) == {keyed(space.key(i), names) for i in range(5000)}

    mutated = mutate(
        *where, "--keys", "5000", "--operations", "150", "--rate", "150-200", "--log", str(log)
    )
    assert mutated.returncode == 0, mutated.stderr
    assert "5000 keys (5000 live)" in mutated.stdout
    assert replayed(log, names) == table_state(endpoints.source, table_name, names)


@pytest.mark.parametrize(
    "keys",
    [(("pk", "B"),), (("pk", "N"), ("sk", "B")), (("pk", "S"), ("sk", "S"))],
    ids=["B", "N+B", "S+S"],
)
def test_any_key_schema(
    endpoints: Endpoints,
    source_client: DynamoDBClient,
    table_name: str,
    tmp_path: Path,
    keys: tuple[tuple[str, ScalarAttributeTypeType], ...],
) -> None:
    create_table(source_client, table_name, keys=keys)
    log = tmp_path / "ops.jsonl"
    result = mutate(
        *("--endpoint", endpoints.source, "--table", table_name, "--keys", "100"),
        *("--operations", "100", "--rate", "150-200", "--log", str(log), "--seed", "3"),
    )
    assert result.returncode == 0, result.stderr
    names = [name for name, _ in keys]
    assert replayed(log, names) == table_state(endpoints.source, table_name, names)
    assert "Mutate done: 100 operations" in result.stdout


def start(endpoint: str, table: str, *args: str) -> subprocess.Popen[str]:
    where = ("--endpoint", endpoint, "--table", table)
    process = subprocess.Popen(
        [sys.executable, "-m", "toolkit", "mutate", *where, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **CREDENTIALS},
    )
    assert process.stdout is not None
    first = process.stdout.readline()  # printed once the table is ready and the run starts
    assert first.startswith("Mutating table"), (
        first + process.stderr.read() if process.stderr else ""
    )
    return process


def wait_for_operations(log: Path, count: int, process: subprocess.Popen[str]) -> None:
    """Until the run's --log holds ``count`` acknowledged operations (a loaded machine
    may take a while to send the first ones)."""
    deadline = time.monotonic() + 60
    while not log.exists() or len(log.read_bytes().splitlines()) < count:
        assert process.poll() is None, "the mutator ended early"
        assert time.monotonic() < deadline, f"fewer than {count} operations in 60 s"
        time.sleep(0.05)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_cleanly_with_the_summary(
    endpoints: Endpoints, table_name: str, stop: signal.Signals, tmp_path: Path
) -> None:
    log = tmp_path / "ops.jsonl"
    process = start(
        endpoints.source, table_name, "--create-table", "--rate", "50-60", "--log", str(log)
    )
    wait_for_operations(log, 12, process)
    process.send_signal(stop)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    summary = SUMMARY.match(out.strip().splitlines()[-1])
    assert summary is not None and summary.group(1) == "stopped"
    assert int(summary.group(2)) > 10


def test_a_write_that_cannot_succeed_stops_the_run_with_one_line(
    endpoints: Endpoints, source_client: DynamoDBClient, table_name: str, tmp_path: Path
) -> None:
    log = tmp_path / "ops.jsonl"
    process = start(
        endpoints.source, table_name, "--create-table", "--rate", "50-60", "--log", str(log)
    )
    wait_for_operations(log, 5, process)
    source_client.delete_table(TableName=table_name)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 2, (out, err)
    lines = [line for line in err.strip().splitlines() if line.startswith("error: ")]
    assert len(lines) == 1 and "Traceback" not in err
    assert "ResourceNotFoundException" in lines[0] and table_name in lines[0]
    assert re.search(r'of key \{"id":\{"S":"key-\d+"\},"version":\{"N":"\d"\}\}', lines[0])
    assert out.strip().splitlines()[-1].startswith("Mutate failed: ")


def test_a_missing_table_is_one_line_and_exit_2(endpoints: Endpoints, tmp_path: Path) -> None:
    missing = mutate("--endpoint", endpoints.source, "--table", "no_such_table", cwd=tmp_path)
    line = one_error_line(missing)
    assert "no_such_table does not exist" in line and "--create-table" in line


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--rate", "25-10", "--table", "abc"), "the low end 25 is above the high end 10"),
        (("--rate", "fast", "--table", "abc"), "expected LOW-HIGH"),
        (("--endpoint", "notaurl", "--table", "abc"), "not a server address"),
        (("--endpoint", "http://127.0.0.1:8000/x", "--table", "abc"), "not a server address"),
        ((), "no config.yaml here"),
        (("--endpoint", "http://127.0.0.1:8000"), "--table is missing"),
        (("--table", "a b"), "not a table name"),
        (("--table", "abc", "--min-item-bytes", "900", "--max-item-bytes", "100"), "is above"),
        (("--table", "abc", "--load", "10", "--duration", "5"), "drop --duration"),
        (("--config", "nope.yaml"), "no such file"),
        (("--keys", "0"), "--keys"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    args: tuple[str, ...],
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """In process, for speed: the same code path as the command line, minus start-up."""
    monkeypatch.chdir(tmp_path)
    assert cli.run(["mutate", *args]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert message in lines[0]


def test_an_endpoint_where_nothing_answers_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    dead = f"http://127.0.0.1:{free_port()}"
    # With a region: else a log line says which region requests are signed for.
    assert cli.run(["mutate", "--endpoint", dead, "--table", "abc", "--region", "us-east-1"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "cannot reach" in lines[0] and dead in lines[0]
