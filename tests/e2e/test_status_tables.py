"""`toolkit status` through the CLI of a run of several tables: a state file written with
RunState's own API (each table's part through `scoped`), as a run of three tables in
different phases leaves it: one drained, one copying its snapshot, one failed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from tests.e2e.test_status_kinds import lines_of, status_json
from tests.helpers import error_line, run_cli
from toolkit.work.state import RunState, ShardCheckpoint

STREAM = "arn:aws:dynamodb:us-east-1:1:table/{}/stream/1"
KEY_SCHEMA = "the target carts has another key schema than the source's; fix it and run again"


def replayed(state: RunState, table: str, records: int, finished: bool) -> None:
    """A table's snapshot of 2 segments of 100 items copied, its stream's shard read."""
    state.put_many({"stream": STREAM.format(table), "source_items": "200"})
    for segment in (0, 1):
        state.checkpoint(segment, None, 100)
    state.put_many({"snapshot": "done", "phase": "replay"})
    state.record_shards([(f"{table}-shard-1", None)], at_enabling=True)
    state.checkpoint_shards([ShardCheckpoint(f"{table}-shard-1", "42", records, finished)])


def three_tables(path: Path) -> RunState:
    """orders drained; users copying its snapshot into users_v2; carts failed in its replay."""
    state = RunState(path)
    listed = [["orders", "orders"], ["users", "users_v2"], ["carts", "carts"]]
    state.put("tables", orjson.dumps(listed).decode())
    orders = state.scoped("orders")
    replayed(orders, "orders", records=30, finished=True)
    orders.put_many({"drained_at": "100.0", "lag_seconds": "0.0"})
    users = state.scoped("users")
    users.put_many({"stream": STREAM.format("users"), "phase": "snapshot", "source_items": "1000"})
    users.segments(4)
    users.checkpoint(0, None, 250)
    users.checkpoint(1, {"id": {"S": "k9"}}, 50)  # a page of segment 1, more to come
    carts = state.scoped("carts")
    replayed(carts, "carts", records=7, finished=False)
    carts.put_many({"lag_seconds": "3.5", "failed": KEY_SCHEMA})
    return state


def closed(state: RunState) -> None:
    """The run stopped: no process holds the file (its lock file named this test's pid)."""
    state.close()
    (state.path.parent / f"{state.path.name}.lock").unlink()


def by_source(shown: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {table["source"]: table for table in shown["tables"]}


def test_a_row_per_table_the_total_and_ready_only_when_all_are(tmp_path: Path) -> None:
    path = tmp_path / "run.sqlite"
    state = three_tables(path)
    closed(state)

    code, lines = lines_of(path)
    assert code == 1
    assert lines[0] == (
        "3 tables (not running): 1 failed, 1 copying snapshot, 1 drained; "
        "1 of 3 ready for the cut-over"
    )
    assert lines[1].split() == ["table", "phase", "snapshot", "records", "applied", "lag"]
    rows = {line.split()[0]: " ".join(line.split()) for line in lines[2:5]}
    assert rows == {
        "orders": "orders drained done, 200 items 30 0.0 s (drained)",
        "users": "users -> users_v2 copying snapshot 300 of about 1,000 items 0 unknown",
        "carts": f"carts failed done, 200 items 7 - why: {KEY_SCHEMA}",
    }
    # carts failed: its lag is left out of the largest; users' is not known yet.
    assert lines[5] == (
        "total: 700 of about 1,400 items copied; 37 records applied, largest lag unknown"
    )
    assert len(lines) == 6

    code, shown = status_json(path)
    tables = by_source(shown)
    assert code == 1 and shown["ready"] is False and list(tables) == ["orders", "users", "carts"]
    assert (tables["orders"]["phase"], tables["orders"]["ready"]) == ("drained", True)
    assert tables["users"]["target"] == "users_v2"
    assert (tables["users"]["segments_done"], tables["users"]["segments_total"]) == (1, 4)
    assert (tables["carts"]["phase"], tables["carts"]["failed"]) == ("failed", KEY_SCHEMA)
    assert tables["carts"]["ready"] is False and tables["carts"]["shards_open"] == 1
    total = shown["total"]
    assert (total["tables"], total["ready_tables"], total["records_applied"]) == (3, 1, 37)
    assert total["phases"] == {"drained": 1, "snapshot": 1, "failed": 1}
    assert (total["items_copied"], total["items_estimate"]) == (700, 1400)

    # Run again: carts' replay goes on (its failure cleared), users' snapshot ends.
    state = RunState(path)
    state.scoped("carts").put("failed", "")
    users = state.scoped("users")
    users.checkpoint(1, None, 50)
    for segment in (2, 3):
        users.checkpoint(segment, None, 325)
    users.put_many({"snapshot": "done", "phase": "replay", "lag_seconds": "2.0"})
    closed(state)
    # Each of them within 4 s of its source, carts 3.5 s: ready with --max-lag 4, not 3.
    code, shown = status_json(path)
    assert code == 1 and [t["phase"] for t in shown["tables"]] == ["drained", "replay", "replay"]
    assert shown["total"]["lag_seconds"] == 3.5
    assert run_cli("status", "--state", str(path), "--max-lag", "3").returncode == 1
    assert run_cli("status", "--state", str(path), "--max-lag", "4").returncode == 0

    state = RunState(path)
    for table in ("users", "carts"):
        state.scoped(table).put("drained_at", "200.0")
    closed(state)
    code, lines = lines_of(path)
    assert (
        code == 0 and lines[0] == "3 tables (not running): 3 drained; 3 of 3 ready for the cut-over"
    )


def test_a_table_not_started_yet_is_starting_and_not_ready(tmp_path: Path) -> None:
    path = tmp_path / "run.sqlite"
    state = RunState(path)
    state.put("tables", orjson.dumps([["orders", "orders"], ["later", "later"]]).decode())
    state.scoped("orders").put_many({"snapshot": "done"})  # no stream: done
    closed(state)
    # "later" has no part in the file yet (the run stopped before it started).
    code, shown = status_json(path)
    tables = by_source(shown)
    assert code == 1 and tables["orders"]["phase"] == "done" and tables["orders"]["ready"]
    assert tables["later"]["phase"] == "starting" and tables["later"]["items_copied"] == 0


def test_a_damaged_list_of_tables_is_one_line_and_leaves_the_file(tmp_path: Path) -> None:
    path = tmp_path / "run.sqlite"
    state = RunState(path)
    state.put("tables", '[["orders"]]')
    closed(state)
    before = {file.name: file.read_bytes() for file in tmp_path.iterdir()}
    line = error_line(run_cli("status", "--state", str(path)))
    assert line.startswith(f"error: cannot read the state file {path} (its list of tables")
    assert line.endswith("is it a run's state?")
    assert {file.name: file.read_bytes() for file in tmp_path.iterdir()} == before
