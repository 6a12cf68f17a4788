"""`toolkit status` through the CLI for every kind of run: a load from an export (data
files), a table written as an export (scan segments, one data file each), a finished
run with no stream to follow, and a state written before status existed."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import orjson

from tests.conftest import Endpoints
from tests.e2e.test_s3_export import bucket, export_source, items
from tests.fakes.s3_server import ExportWriter, s3_client
from tests.helpers import error_line, run_cli
from tests.refusals import Case
from tests.tables import create_table, load, scan_all, section, write_config


def status_json(state: Path) -> tuple[int, dict[str, Any]]:
    result = run_cli("status", "--state", str(state), "--json")
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, orjson.loads(result.stdout)


def lines_of(state: Path) -> tuple[int, list[str]]:
    result = run_cli("status", "--state", str(state))
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, result.stdout.splitlines()


def test_a_load_from_an_export_shows_its_data_files(
    endpoints: Endpoints, s3_endpoint: str, table_name: str, tmp_path: Path
) -> None:
    name, client = bucket(s3_endpoint), s3_client(s3_endpoint)
    export = ExportWriter(client, name, "kinds", "06000000000000-ffffffff")
    rows = items(160)
    for part in range(16):
        export.data_file([{"Item": i} for i in rows[part * 10 : (part + 1) * 10]], f"p{part:02}")
    # A copy of an export written to another bucket: its ETags prove nothing up front, so
    # the damaged file is found only by its MD5, when it is read: the load stops midway.
    copied = export.finish(s3Bucket="exports-original")
    source = export_source(s3_endpoint, name, copied, endpoints, table_name)
    del source["table"], source["tableEndpoint"]
    config = write_config(
        tmp_path / "config.yaml",
        {**source, "maxMapTasks": 1},
        section(endpoints.target, table_name),
    )
    damaged = export.files[8]["dataFileS3Key"]  # read in order: the 9th file stops the run
    whole = client.get_object(Bucket=name, Key=damaged)["Body"].read()
    client.put_object(Bucket=name, Key=damaged, Body=whole[:-4] + b"\0\0\0\0")
    state = tmp_path / "run.sqlite"
    args = ("migrate", "--config", str(config), "--state", str(state))
    assert "checksum" in error_line(run_cli(*args))

    code, lines = lines_of(state)
    loaded = len(scan_all(endpoints.target, table_name))  # the files recorded, 10 items each
    assert code == 1 and lines[0] == "phase: snapshot (not running)" and loaded >= 80
    assert lines[1] == f"snapshot: {loaded} items ({loaded // 10} of 16 data files of the export)"
    assert lines[2] == "stream: none followed"

    client.put_object(Bucket=name, Key=damaged, Body=whole)
    assert run_cli(*args).returncode == 0
    code, done = status_json(state)
    assert code == 0 and (done["phase"], done["kind"]) == ("done", "export source")
    assert (done["segments_done"], done["segments_total"], done["items_copied"]) == (16, 16, 160)


def count(case: Case, segment: int, total: int) -> int:
    pages = case.source.get_paginator("scan").paginate(
        TableName=case.table, Segment=segment, TotalSegments=total, Select="COUNT"
    )
    return sum(page["Count"] for page in pages)


def test_a_table_written_as_an_export_shows_its_segments(case: Case, tmp_path: Path) -> None:
    create_table(case.source, case.table)
    load(case.endpoints.source, case.table, items(480), ["id"])
    # An item of segment 18 that holds a rename's new name stops the run there.
    clash: dict[str, Any] = case.source.scan(
        TableName=case.table, Segment=18, TotalSegments=24, Limit=1
    )["Items"][0]
    case.source.put_item(TableName=case.table, Item={**clash, "number": {"N": "1"}})
    config = write_config(
        tmp_path / "config.yaml",
        section(case.endpoints.source, case.table, scanSegments=24, maxMapTasks=1),
        {"type": "dynamodb-s3-export", "path": str(tmp_path / "export")},
        renames=[{"from": "n", "to": "number"}],
    )
    state = tmp_path / "run.sqlite"
    args = ("migrate", "--config", str(config), "--state", str(state))
    assert "holds both n and number" in error_line(run_cli(*args))

    code, lines = lines_of(state)
    files = sorted((tmp_path / "export" / "data").iterdir())  # 0 to 17, maybe one after 18
    written = sum(count(case, int(file.name.split(".")[0]), 24) for file in files)
    assert code == 1 and lines[0] == "phase: snapshot (not running)" and len(files) >= 18
    # The source table's item count is the estimate, as for a table copied into a table.
    assert lines[1] == (
        f"snapshot: {written} of about 480 items ({len(files)} of 24 scan segments, each "
        "written as a data file)"
    )

    case.source.put_item(TableName=case.table, Item=clash)
    assert run_cli(*args).returncode == 0
    code, lines = lines_of(state)
    assert code == 0 and lines[0] == "phase: done (not running)"
    assert (
        lines[1]
        == "snapshot: done, 480 items (24 of 24 scan segments, each written as a data file)"
    )
    assert lines[4] == "replication lag: none (no stream followed)"


# The state file as the first versions wrote it: no export_files table, no notes.
OLD_SCHEMA = """
CREATE TABLE run (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE segments (segment INTEGER PRIMARY KEY, last_key BLOB,
    items INTEGER NOT NULL DEFAULT 0, pages INTEGER NOT NULL DEFAULT 0,
    done INTEGER NOT NULL DEFAULT 0);
CREATE TABLE shards (shard_id TEXT PRIMARY KEY, parent_id TEXT, sequence TEXT,
    records INTEGER NOT NULL DEFAULT 0, finished INTEGER NOT NULL DEFAULT 0,
    at_enabling INTEGER NOT NULL DEFAULT 0);
INSERT INTO run VALUES ('source table', 'orders'), ('target table', 'orders'),
    ('scan segments', '4'), ('snapshot', 'done');
INSERT INTO segments (segment, items, pages, done) VALUES
    (0, 300, 1, 1), (1, 250, 1, 1), (2, 350, 1, 1), (3, 300, 1, 1);
"""


def test_a_state_written_before_status_existed(tmp_path: Path) -> None:
    state = tmp_path / "old.sqlite"
    with closing(sqlite3.connect(state)) as db:
        db.executescript(OLD_SCHEMA)
    code, lines = lines_of(state)
    assert code == 0 and lines[:3] == [
        "phase: done (not running)",
        "snapshot: done, 1,200 items (4 of 4 scan segments)",
        "stream: none followed",
    ]
    with closing(sqlite3.connect(state)) as db:  # the same run, following a stream
        db.execute("INSERT INTO run VALUES ('stream', 'arn:stream/1')")
        db.execute("INSERT INTO shards VALUES ('shard-1', NULL, '42', 7, 0, 1)")
        db.commit()
    code, lines = lines_of(state)
    assert code == 1 and lines[0] == "phase: replay (not running)"
    assert lines[2] == (
        "stream: 1 shards open, 0 finished, 7 records applied (counted before the per-batch "
        "collapse)"
    )
    assert lines[4] == "replication lag: unknown"
