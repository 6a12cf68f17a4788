"""The Scylla Migrator's DynamoDB settings do here what they do there, through the real CLI.

The configuration files are the tests' own, in the shapes of the Migrator's test
configurations: validation (failuresToFetch, floatingPointTolerance,
copyMissingRows and the keys that only apply to other databases), a savepoint's
skipSegments, billingMode left out, throughputReadPercent left out.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import Endpoints
from tests.helpers import error_line, run_cli
from tests.tables import create_table, load, scan_all, section, write_config
from toolkit.config import load_config, parse_config
from toolkit.driver.estimate import read_budget
from verify.diff import same_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

VALIDATION = {
    "compareTimestamps": True,
    "ttlToleranceMillis": 60000,
    "writetimeToleranceMillis": 1000,
    "failuresToFetch": 100,
    "floatingPointTolerance": 0.001,
    "timestampMsTolerance": 0,
    "copyMissingRows": False,
    "repairWritetimeStrategy": "coordinator",
    "numericTypePolicy": "StrictType",
}


def migrator_file(tmp: Path, endpoints: Endpoints, table: str, **top: Any) -> Path:
    """A Migrator-shaped file: Alternator-style target, savepoints, the given top keys."""
    target = section(endpoints.target, table, streamChanges=False, removeConsumedCapacity=True)
    return write_config(
        tmp / "config.yaml",
        section(endpoints.source, table, **top.pop("source", {})),
        {**target, **top.pop("target", {})},
        savepoints={"path": "/app/savepoints", "intervalSeconds": 300},
        **top,
    )


def test_a_migrator_validation_section_loads_and_says_what_has_no_effect(
    tmp_path: Path, endpoints: Endpoints
) -> None:
    config = load_config(migrator_file(tmp_path, endpoints, "t_x", validation=VALIDATION))
    assert config.validation.failures_to_fetch == 100
    assert config.validation.floating_point_tolerance == 0.001
    assert config.validation.copy_missing_rows is False
    noted = [note.split()[0] for note in config.notes]
    assert noted == [
        "validation.compareTimestamps",
        "validation.ttlToleranceMillis",
        "validation.writetimeToleranceMillis",
        "validation.repairWritetimeStrategy",
        "validation.numericTypePolicy",
        "savepoints",
    ]
    for key, value, named in (
        ("failuresToFetch", 0, "validation.failuresToFetch"),
        ("floatingPointTolerance", -1, "validation.floatingPointTolerance"),
        ("numericTypePolicy", "Loose", "validation.numericTypePolicy"),
        ("repairWritetimeStrategy", "now", "validation.repairWritetimeStrategy"),
    ):
        data = yaml.safe_load(migrator_file(tmp_path, endpoints, "t_x").read_text())
        data["validation"] = {**VALIDATION, key: value}
        with pytest.raises(Exception, match=rf"^config: {named} must be"):
            parse_config(data)


def test_throughput_read_percent_defaults_to_one_half(endpoints: Endpoints) -> None:
    source = parse_config(
        {"source": section(endpoints.source, "t_x", readThroughput=100), "target": {"table": "t_y"}}
    ).source
    assert read_budget(source, {}) == 50.0
    provisioned = {"ProvisionedThroughput": {"ReadCapacityUnits": 40}}
    unlimited = parse_config(
        {"source": section(endpoints.source, "t_x"), "target": {"table": "t_y"}}
    )
    assert read_budget(unlimited.source, provisioned) == 20.0
    assert read_budget(unlimited.source, {}) is None


NUMBERS = st.decimals(min_value=-(10**6), max_value=10**6, places=4, allow_nan=False)


@given(NUMBERS, NUMBERS)
def test_numbers_within_the_tolerance_are_equal_wherever_they_are(a: Any, b: Any) -> None:
    close = abs(a - b) <= 1
    for left, right in (
        ({"n": {"N": str(a)}}, {"n": {"N": str(b)}}),
        ({"l": {"L": [{"N": str(a)}]}}, {"l": {"L": [{"N": str(b)}]}}),
        ({"m": {"M": {"x": {"N": str(a)}}}}, {"m": {"M": {"x": {"N": str(b)}}}}),
    ):
        assert same_item(left, right, 1.0) == close
        assert same_item(left, right) == (a == b)
    assert not same_item({"n": {"N": str(a)}}, {"n": {"S": str(a)}}, 1.0)


def two_tables(
    endpoints: Endpoints, source: DynamoDBClient, target: DynamoDBClient, table: str
) -> None:
    create_table(source, table)
    create_table(target, table)


def verify(config: Path, tmp: Path) -> tuple[int, list[dict[str, Any]]]:
    report = tmp / "report.jsonl"
    result = run_cli("verify", "--config", str(config), "--report", str(report))
    assert "Traceback" not in result.stderr
    lines = [orjson.loads(line) for line in report.read_bytes().splitlines()]
    return result.returncode, lines


def test_verify_takes_the_tolerance_failures_to_fetch_and_copy_missing_rows(
    endpoints: Endpoints,
    source_client: DynamoDBClient,
    target_client: DynamoDBClient,
    table_name: str,
    tmp_path: Path,
) -> None:
    two_tables(endpoints, source_client, target_client, table_name)
    source = [{"id": {"S": f"k{n}"}, "x": {"N": f"{n}.5"}} for n in range(30)]
    close = [{"id": {"S": f"k{n}"}, "x": {"N": f"{n}.5004"}} for n in range(10)]  # 0.0004 off
    far = [{"id": {"S": f"k{n}"}, "x": {"N": f"{n}.6"}} for n in range(10, 13)]
    load(endpoints.source, table_name, source, ["id"])
    load(endpoints.target, table_name, [*close, *far], ["id"])  # k13..k29 missing

    strict = migrator_file(tmp_path, endpoints, table_name, validation={"failuresToFetch": 5})
    code, lines = verify(strict, tmp_path)
    assert code == 1
    assert [line["kind"] for line in lines[:-1]].count("different") <= 5 and len(lines) == 6
    assert lines[-1]["stopped_at_failures"] == 5

    tolerant = {**VALIDATION, "copyMissingRows": True}
    config = migrator_file(tmp_path, endpoints, table_name, validation=tolerant)
    code, lines = verify(config, tmp_path)
    assert code == 1  # the 3 far ones are reported, never overwritten
    first = [line for line in lines if line.get("pass") == 1 and line["kind"] != "summary"]
    assert sorted(line["kind"] for line in first) == ["different"] * 3 + ["missing"] * 17
    assert {line.get("repair") for line in first if line["kind"] == "missing"} == {"put"}
    assert all("repair" not in line for line in first if line["kind"] == "different")
    last = lines[-1]
    assert (last["kind"], last["missing"], last["different"]) == ("summary", 0, 3)
    on_target = scan_all(endpoints.target, table_name)
    assert len(on_target) == 30
    assert (
        sum(
            item["x"] in ({"N": "10.6"}, {"N": "11.6"}, {"N": "12.6"})
            for item in on_target.values()
        )
        == 3
    )


def test_skip_segments_of_a_savepoint_are_not_copied(
    endpoints: Endpoints, source_client: DynamoDBClient, table_name: str, tmp_path: Path
) -> None:
    create_table(source_client, table_name)
    load(endpoints.source, table_name, [{"id": {"S": f"k{n}"}} for n in range(60)], ["id"])
    skipped = {
        item["id"]["S"]
        for item in source_client.scan(TableName=table_name, Segment=1, TotalSegments=3)["Items"]
    }
    assert 0 < len(skipped) < 60
    config = migrator_file(
        tmp_path, endpoints, table_name, source={"scanSegments": 3}, skipSegments=[1]
    )
    state = tmp_path / "run.sqlite"

    result = run_cli("migrate", "--config", str(config), "--state", str(state))

    assert result.returncode == 0, result.stderr
    assert "Skipping scan segments 1: skipSegments says they were copied already" in result.stderr
    copied = {item["id"]["S"] for item in scan_all(endpoints.target, table_name).values()}
    assert copied == {f"k{n}" for n in range(60)} - skipped
    with closing(sqlite3.connect(state)) as db:
        assert db.execute("SELECT COUNT(*) FROM segments WHERE done = 1").fetchone() == (3,)

    beyond = migrator_file(
        tmp_path, endpoints, table_name, source={"scanSegments": 3}, skipSegments=[3]
    )
    line = error_line(run_cli("migrate", "--config", str(beyond), "--state", "other.sqlite"))
    assert "skipSegments lists segment 3, but the scan has 3 segments" in line


def test_a_provisioned_source_gives_a_provisioned_target_when_billing_mode_is_left_out(
    endpoints: Endpoints,
    source_client: DynamoDBClient,
    target_client: DynamoDBClient,
    table_name: str,
    tmp_path: Path,
) -> None:
    source_client.create_table(
        TableName=table_name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        ProvisionedThroughput={"ReadCapacityUnits": 9, "WriteCapacityUnits": 4},
    )
    config = migrator_file(tmp_path, endpoints, table_name)
    result = run_cli("migrate", "--config", str(config), "--state", str(tmp_path / "s.sqlite"))
    assert result.returncode == 0, result.stderr
    created = target_client.describe_table(TableName=table_name)["Table"]
    throughput = created["ProvisionedThroughput"]
    assert (throughput["ReadCapacityUnits"], throughput["WriteCapacityUnits"]) == (9, 4)
