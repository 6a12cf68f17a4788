"""`toolkit verify` through the real CLI, between the two real local servers.

Planted differences of every attribute type must be reported exactly (by key, in
the JSON lines report), equal wire forms must not, and --repair must leave the
target identical to the source.
"""

from __future__ import annotations

import base64
import contextlib
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests import strategies as gen
from tests.conftest import Endpoints
from tests.helpers import run_cli
from tests.tables import create_table, load, scan_all, section, write_config
from toolkit.logic.items import AttributeValue, Item, canonical, key_id

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.literals import ScalarAttributeTypeType

TYPES = ("S", "N", "B", "SS", "NS", "BS", "M", "L", "BOOL", "NULL")
KEYS: tuple[tuple[str, ScalarAttributeTypeType], ...] = (("id", "S"), ("n", "N"))


def verify(config: Path, *args: str) -> Any:
    return run_cli("verify", "--config", str(config), "--recheck-delay", "0", *args)


def read_report(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def reported(lines: list[dict[str, Any]]) -> set[tuple[str, bytes]]:
    return {(line["kind"], key_id(line["key"])) for line in lines if line["kind"] != "summary"}


def row(name: str, **attributes: AttributeValue) -> Item:
    return {"id": {"S": name}, "n": {"N": "7"}, **attributes}


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def values_of(tag: str) -> st.SearchStrategy[AttributeValue]:
    """Values of one type, from the shared strategies' building blocks (no filtering)."""
    inner = gen.attribute_values(max_depth=2)
    strategies: dict[str, st.SearchStrategy[Any]] = {
        "S": gen.texts(),
        "N": gen.numbers(),
        "B": st.binary(max_size=16).map(_b64),
        "SS": st.lists(gen.texts(), min_size=1, max_size=5, unique=True),
        "NS": st.lists(gen.numbers(), min_size=1, max_size=5, unique_by=Decimal),
        "BS": st.lists(st.binary(max_size=8), min_size=1, max_size=5, unique=True).map(
            lambda members: [_b64(m) for m in members]
        ),
        "M": st.dictionaries(gen.attribute_names(), inner, min_size=1, max_size=4),
        "L": st.lists(inner, min_size=1, max_size=4),
        "BOOL": st.booleans(),
        "NULL": st.just(True),
    }
    return strategies[tag].map(lambda payload: {tag: payload})


def unequal_to(data: st.DataObject, value: AttributeValue, tag: str) -> AttributeValue:
    """Another value of the same type (NULL has only one: a string then)."""
    if tag == "NULL":
        return {"S": "null"}
    if tag == "BOOL":
        return {"BOOL": not value["BOOL"]}
    for _ in range(20):
        other = data.draw(values_of(tag))
        if canonical(other) != canonical(value):
            return other
    return {"L": [value]}


def make_tables(
    clients: tuple[DynamoDBClient, DynamoDBClient], table: str, tmp_path: Path, endpoints: Endpoints
) -> Path:
    for client in clients:
        create_table(client, table, keys=KEYS)
    return write_config(
        tmp_path / "config.yaml",
        section(endpoints.source, table, scanSegments=3, maxMapTasks=2),
        section(endpoints.target, table),
    )


@settings(
    max_examples=1,
    phases=[Phase.generate],
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(st.data())
def test_reports_exactly_the_planted_differences_and_repairs_them(
    endpoints: Endpoints,
    source_client: DynamoDBClient,
    target_client: DynamoDBClient,
    tmp_path: Path,
    data: st.DataObject,
) -> None:
    table_name = f"t_{uuid.uuid4().hex[:12]}"  # each example its own, should hypothesis rerun it
    try:
        check_planted(endpoints, (source_client, target_client), table_name, tmp_path, data)
    finally:
        for client in (source_client, target_client):
            with contextlib.suppress(client.exceptions.ResourceNotFoundException):
                client.delete_table(TableName=table_name)


def check_planted(
    endpoints: Endpoints,
    clients: tuple[DynamoDBClient, DynamoDBClient],
    table_name: str,
    tmp_path: Path,
    data: st.DataObject,
) -> None:
    config = make_tables(clients, table_name, tmp_path, endpoints)
    same = [row(f"same-{n}", v=data.draw(gen.attribute_values(3))) for n in range(30)]
    same += [row("forms", v={"N": "1.0"}, s={"SS": ["a", "b"]})]
    source, target = list(same), [*same[:-1], row("forms", v={"N": "1"}, s={"SS": ["b", "a"]})]
    planted: set[tuple[str, bytes]] = set()
    for tag in TYPES:  # a changed value of every type
        value = data.draw(values_of(tag))
        source.append(row(f"changed-{tag}", v=value))
        target.append(row(f"changed-{tag}", v=unequal_to(data, value, tag)))
    source.append(row("retyped", v={"S": "1"}))
    target.append(row("retyped", v={"N": "1"}))
    source.append(row("dropped-attribute", v={"S": "x"}, w={"BOOL": True}))
    target.append(row("dropped-attribute", v={"S": "x"}))
    planted |= {("different", key_id({"id": t["id"], "n": t["n"]})) for t in target[len(same) :]}
    for n in range(3):
        source.append(row(f"missing-{n}", v=data.draw(gen.attribute_values(2))))
        target.append(row(f"extra-{n}", v=data.draw(gen.attribute_values(2))))
        planted.add(("missing", key_id({"id": {"S": f"missing-{n}"}, "n": {"N": "7"}})))
        planted.add(("extra", key_id({"id": {"S": f"extra-{n}"}, "n": {"N": "7"}})))
    load(endpoints.source, table_name, source, ["id", "n"])
    load(endpoints.target, table_name, target, ["id", "n"])
    report = tmp_path / "report.jsonl"

    found = verify(config, "--both-directions", "--report", str(report))

    assert found.returncode == 1, found.stderr
    lines = read_report(report)
    assert reported(lines) == planted
    summary = lines[-1]
    assert summary["kind"] == "summary" and summary["identical"] is False
    assert (summary["missing"], summary["extra"], summary["different"]) == (3, 3, 12)
    assert summary["items_in_source"] == len(source) and summary["items_in_target"] == len(target)
    assert summary["identical_items"] == len(same)
    assert "DIFFERENT: 3 missing in target, 3 extra in target, 12 different" in found.stdout
    retyped = next(line for line in lines if line["key"]["id"] == {"S": "retyped"})
    assert (
        retyped["changes"][0]["path"] == "v" and "type changed" in retyped["changes"][0]["change"]
    )
    assert retyped["source"]["v"] == {"S": "1"} and retyped["target"]["v"] == {"N": "1"}
    assert 'v: type changed from string to number: "1" → 1' in found.stdout

    repaired = verify(config, "--both-directions", "--repair")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert "repaired: 18 items" in repaired.stdout
    again = verify(config, "--both-directions")
    assert again.returncode == 0, again.stdout
    assert "IDENTICAL (both directions)" in again.stdout
    after = scan_all(endpoints.target, table_name)
    assert {k: canonical(v) for k, v in after.items()} == {
        k: canonical(v) for k, v in scan_all(endpoints.source, table_name).items()
    }


def test_identical_tables_with_renames_then_one_change(
    endpoints: Endpoints,
    source_client: DynamoDBClient,
    target_client: DynamoDBClient,
    table_name: str,
    tmp_path: Path,
) -> None:
    create_table(source_client, table_name, keys=(("id", "S"),))
    create_table(target_client, table_name, keys=(("pk", "S"),))
    items = [{"id": {"S": f"k{n:04d}"}, "payload": {"S": "x" * n}} for n in range(200)]
    renamed = [{"pk": i["id"], "body": i["payload"]} for i in items]
    load(endpoints.source, table_name, items, ["id"])
    load(endpoints.target, table_name, renamed, ["pk"])
    config = write_config(
        tmp_path / "config.yaml",
        section(endpoints.source, table_name),
        section(endpoints.target, table_name),
        renames=[{"from": "id", "to": "pk"}, {"from": "payload", "to": "body"}],
    )

    same = verify(config, "--both-directions", "--segments", "4", "--workers", "2")
    assert same.returncode == 0, same.stdout + same.stderr
    assert "IDENTICAL (both directions)" in same.stdout

    load(endpoints.target, table_name, [{"pk": {"S": "k0003"}, "body": {"S": "y"}}], ["pk"])
    report = tmp_path / "report.jsonl"
    changed = verify(config, "--report", str(report), "--recheck", "1", "--interval", "0")
    assert changed.returncode == 1
    lines = read_report(report)
    assert [(line["kind"], line["pass"]) for line in lines] == [
        ("different", 1),
        ("summary", 1),
        ("different", 2),
        ("summary", 2),
    ]
    assert lines[0]["key"] == {"pk": {"S": "k0003"}}
    assert lines[0]["changes"] == [
        {"path": "body", "change": "changed", "source": '"xxx"', "target": '"y"'}
    ]
    assert lines[1]["items_in_target"] is None and lines[1]["extra"] is None
    assert "not scanned (--both-directions)" in changed.stdout


def test_items_with_an_expired_ttl_are_skipped(
    endpoints: Endpoints,
    source_client: DynamoDBClient,
    target_client: DynamoDBClient,
    table_name: str,
    tmp_path: Path,
) -> None:
    config = make_tables((source_client, target_client), table_name, tmp_path, endpoints)
    source_client.update_time_to_live(
        TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"}
    )
    now = int(time.time())
    live = [row(f"live-{n}", expires={"N": str(now + 3600)}) for n in range(20)]
    gone = [row(f"gone-{n}", expires={"N": str(now - 3600)}) for n in range(20)]
    load(endpoints.source, table_name, live + gone, ["id", "n"])
    load(endpoints.target, table_name, live, ["id", "n"])

    report = tmp_path / "report.jsonl"

    result = verify(config, "--both-directions", "--report", str(report))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "IDENTICAL" in result.stdout
    [summary] = read_report(report)
    # DynamoDB Local runs its own TTL deletion, so some may be gone from the source already
    assert summary["items_in_source"] == 20 and summary["expired_skipped"] <= 20
