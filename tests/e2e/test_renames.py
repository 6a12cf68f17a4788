"""Renames never put one value over another: not in the snapshot, the replay or verify."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import Endpoints
from tests.helpers import error_line, run_cli
from tests.tables import create_table, load, scan_all, section, write_config
from toolkit.errors import UserError
from toolkit.logic.items import RenameClash, apply_renames
from toolkit.logic.table_schema import check_renames

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

NAMES = st.sampled_from(["a", "b", "c", "d", "e"])


@given(
    st.dictionaries(NAMES, st.integers(0, 9).map(lambda n: {"N": str(n)}), max_size=5),
    st.dictionaries(NAMES, NAMES, max_size=4).filter(
        lambda r: len(set(r.values())) == len(r)  # the config refuses a repeated `to`
    ),
)
def test_a_rename_keeps_every_value_or_refuses(
    item: dict[str, Any], renames: dict[str, str]
) -> None:
    def new_name(name: str) -> str:
        return renames.get(name, name)

    try:
        renamed = apply_renames(item, renames)
    except RenameClash as clash:
        assert clash.old in item and clash.new in item and new_name(clash.old) == clash.new
        assert len({new_name(name) for name in item}) < len(item)
        return
    assert len(renamed) == len(item)
    assert all(renamed[new_name(name)] is value for name, value in item.items())


def test_check_renames_allows_renaming_the_key_itself_and_chains() -> None:
    keys = ["id", "sk"]
    check_renames([("id", "pk"), ("x", "id")], keys, "ttl", "t", "config")  # id moves away
    check_renames([("ttl", "expires"), ("x", "ttl")], keys, "ttl", "t", "config")
    check_renames([("id", "id")], keys, None, "t", "config")
    with pytest.raises(UserError, match=r"renames\[0\] renames id onto sk, a key attribute"):
        check_renames([("id", "sk")], keys, None, "t", "config")
    with pytest.raises(UserError, match=r"renames\[1\] renames x onto ttl, the TTL attribute"):
        check_renames([("a", "b"), ("x", "ttl")], keys, "ttl", "t", "config")


ITEMS = [{"id": {"S": f"k{n}"}, "n": {"N": str(n)}} for n in range(20)]
BOTH = {"id": {"S": "both"}, "n": {"N": "1"}, "m": {"S": "kept on the source"}}


def write(tmp: Path, endpoints: Endpoints, table: str, streaming: bool = False) -> Path:
    return write_config(
        tmp / "config.yaml",
        section(endpoints.source, table, scanSegments=1),
        section(endpoints.target, table, streamChanges=streaming),
        renames=[{"from": "n", "to": "m"}],
    )


def shards(state: Path) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(state)) as db:
        return db.execute("SELECT shard_id, sequence, records FROM shards").fetchall()


def test_the_snapshot_stops_at_an_item_holding_both_names(
    endpoints: Endpoints, source_client: DynamoDBClient, table_name: str, tmp_path: Path
) -> None:
    create_table(source_client, table_name)
    load(endpoints.source, table_name, [*ITEMS, BOTH], ["id"])
    config, state = write(tmp_path, endpoints, table_name), tmp_path / "run.sqlite"

    result = run_cli("migrate", "--config", str(config), "--state", str(state))

    line = error_line(result)
    assert f'item {{"id":{{"S":"both"}}}} of table {table_name} holds both n and m' in line
    assert scan_all(endpoints.target, table_name) == {}  # its page was not written
    with closing(sqlite3.connect(state)) as db:
        assert db.execute("SELECT pages, done FROM segments").fetchall() == [(0, 0)]


def test_the_replay_stops_at_a_change_holding_both_names(
    endpoints: Endpoints, source_client: DynamoDBClient, table_name: str, tmp_path: Path
) -> None:
    create_table(source_client, table_name)
    load(endpoints.source, table_name, ITEMS, ["id"])
    config, state = write(tmp_path, endpoints, table_name, True), tmp_path / "run.sqlite"
    migrate = ("migrate", "--config", str(config), "--state", str(state), "--stop-when-drained")
    first = run_cli(*migrate)
    assert first.returncode == 0, first.stderr
    checkpoints = shards(state)
    load(endpoints.source, table_name, [BOTH], ["id"])

    line = error_line(run_cli(*migrate))

    assert f"of table {table_name} holds both n and m" in line and '"both"' in line
    assert shards(state) == checkpoints
    assert len(scan_all(endpoints.target, table_name)) == len(ITEMS)


def test_verify_refuses_to_compare_an_item_holding_both_names(
    endpoints: Endpoints,
    source_client: DynamoDBClient,
    target_client: DynamoDBClient,
    table_name: str,
    tmp_path: Path,
) -> None:
    create_table(source_client, table_name)
    create_table(target_client, table_name)
    load(endpoints.source, table_name, [*ITEMS, BOTH], ["id"])
    renamed = [{"id": item["id"], "m": item["n"]} for item in ITEMS]
    load(endpoints.target, table_name, [*renamed, {"id": BOTH["id"], "m": BOTH["n"]}], ["id"])
    config = write(tmp_path, endpoints, table_name)

    line = error_line(run_cli("verify", "--config", str(config), "--both-directions"))

    assert f'item {{"id":{{"S":"both"}}}} of table {table_name} holds both n and m' in line
