"""A state file made before issue 25 (tag issue25-base) resumes with today's code.

Each test copies a committed state file (tests/data/state_before_25, made by its
make.py: a run stopped part-way), rebuilds the source the stopped run read and the
target as it left it, less what the state records as done, and runs the same
`toolkit migrate` again: what was recorded must not be copied again (it stays
absent), the rest must be copied, and once the recorded part is put back, source
and target are identical. `toolkit status` reads the old file too.
"""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import orjson
import pytest

from tests.conftest import Endpoints
from tests.fakes.fixed_arn_streams import FixedArnStreams
from tests.fakes.s3_server import s3_client
from tests.helpers import run_cli
from tests.state_before_25 import (
    EXPORT_LOAD,
    FIXED_ARN,
    FIXTURES,
    FOLDER_PATH,
    FULL_ID,
    INCREMENTAL_ID,
    PAGE_ITEMS,
    REPLAY,
    SNAPSHOT,
    SOURCE_BUCKET,
    STATE,
    STREAM_PARTITIONS,
    TARGET_BUCKET,
    TARGET_PREFIX,
    TO_FOLDER,
    TO_S3,
    Item,
    TableCase,
    apply,
    changes_after_stop,
    changes_before_stop,
    export_changes,
    export_source_config,
    export_target_config,
    files_recorded,
    names,
    segment_pages,
    segments_recorded,
    snapshot_config,
    summary_key,
    upload,
    write_changes,
)
from tests.tables import create_table, keyed, load, low_client, scan_all, table_state
from toolkit.logic.items import canonical

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@pytest.fixture
def fresh(
    source_client: DynamoDBClient, target_client: DynamoDBClient
) -> Iterator[Callable[[str], None]]:
    """Drops a fixed table name on both servers now, and again after the test."""
    used: list[str] = []

    def drop(table: str) -> None:
        for client in (source_client, target_client):
            with contextlib.suppress(client.exceptions.ResourceNotFoundException):
                client.delete_table(TableName=table)

    def first_drop(table: str) -> None:
        used.append(table)
        drop(table)

    yield first_drop
    for table in used:
        drop(table)


def old_state(folder: Path, tmp_path: Path) -> Path:
    """A copy of the committed state file: the test's run may change it, not the fixture."""
    state = tmp_path / STATE
    shutil.copyfile(folder / STATE, state)
    return state


def rebuilt(case: TableCase, source: str, fresh: Callable[[str], None], tmp_path: Path) -> Path:
    """The case's source table with its items, as the stopped run read it; its state's copy."""
    fresh(case.table)
    create_table(low_client(source), case.table)
    load(source, case.table, case.items(), ["id"])
    return old_state(case.fixture, tmp_path)


def status(state: Path) -> tuple[int, list[str]]:
    shown = run_cli("status", "--state", str(state))
    assert "Traceback" not in shown.stderr, shown.stderr
    return shown.returncode, shown.stdout.splitlines()


def by_name(found: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """scan_all's items by their id."""
    return {i["id"]["S"]: i for i in found.values()}


def as_table(found: dict[str, Item]) -> dict[bytes, Any]:
    """Items in wire form, in table_state's form."""
    return {keyed(i, ["id"]): canonical(i) for i in found.values()}


def test_a_snapshot_stopped_part_way_goes_on_after_its_last_recorded_page(
    endpoints: Endpoints,
    source_client: DynamoDBClient,
    target_client: DynamoDBClient,
    fresh: Callable[[str], None],
    tmp_path: Path,
) -> None:
    case = SNAPSHOT
    state = rebuilt(case, endpoints.source, fresh, tmp_path)
    # What the state records as copied: whole segments, and one's pages up to its last key.
    recorded: set[str] = set()
    for segment, last_key, items, _, done in segments_recorded(state):
        pages = segment_pages(source_client, case.table, segment, case.segments, PAGE_ITEMS)
        order = names([i for page in pages for i in page])
        copied = (
            order if done else order[: order.index(last_key["id"]["S"]) + 1] if last_key else []
        )
        assert items == len(copied), "the rebuilt source is the one the stopped run read"
        recorded |= set(copied)
    assert 0 < len(recorded) < case.count
    # The stopped run wrote exactly what it recorded (a graceful stop): the target is left
    # without any of it, so that what comes back was copied again.
    create_table(target_client, case.table)
    config = snapshot_config(tmp_path / "config.yaml", endpoints.source, endpoints.target)
    code, before = status(state)
    assert code == 1 and "phase: snapshot (not running)" in before
    assert any("(2 of 4 scan segments)" in line for line in before), before

    resumed = run_cli(
        "migrate", "--config", str(config), "--state", str(state), "--scan-page-items", "20"
    )

    assert resumed.returncode == 0, resumed.stderr
    source = by_name(scan_all(endpoints.source, case.table))
    target = by_name(scan_all(endpoints.target, case.table))
    assert target == {n: i for n, i in source.items() if n not in recorded}
    assert status(state)[0] == 0
    load(
        endpoints.target, case.table, [i for i in case.items() if i["id"]["S"] in recorded], ["id"]
    )
    verified = run_cli("verify", "--config", str(config), "--both-directions")
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_an_export_load_stopped_part_way_loads_only_the_data_files_not_recorded(
    endpoints: Endpoints,
    s3_endpoint: str,
    target_client: DynamoDBClient,
    fresh: Callable[[str], None],
    tmp_path: Path,
) -> None:
    fresh(EXPORT_LOAD)
    folder = FIXTURES / "export_source"
    state = old_state(folder, tmp_path)
    upload(s3_client(s3_endpoint), SOURCE_BUCKET, folder / "bucket")
    # The data files in the order they are applied: the full export's, then the incremental's.
    files: list[str] = []
    for export in (FULL_ID, INCREMENTAL_ID):
        summary = orjson.loads((folder / "bucket" / summary_key(export)).read_bytes())
        manifest = (folder / "bucket" / summary["manifestFilesS3Key"]).read_bytes()
        files += [orjson.loads(line)["dataFileS3Key"] for line in manifest.splitlines()]
    changes = {f: export_changes((folder / "bucket" / f).read_bytes()) for f in files}
    recorded = files_recorded(state)
    assert recorded == {f: len(changes[f]) for f in files[:2]}, "two full files were loaded"
    # The stopped run wrote the recorded files' items and no more: the target is left without.
    create_table(target_client, EXPORT_LOAD)
    config = export_source_config(tmp_path / "config.yaml", s3_endpoint, endpoints.target)
    code, before = status(state)
    assert code == 1 and "phase: snapshot (not running)" in before
    assert any("(2 of 5 data files of the export)" in line for line in before), before

    resumed = run_cli("migrate", "--config", str(config), "--state", str(state))

    assert resumed.returncode == 0, resumed.stderr
    rest: dict[str, Item] = {}
    for data_file in files[2:]:
        rest = apply(rest, changes[data_file])
    assert table_state(endpoints.target, EXPORT_LOAD, ["id"]) == as_table(rest)
    assert status(state)[0] == 0
    everything: dict[str, Item] = {}
    for data_file in files:
        everything = apply(everything, changes[data_file])
    missing = [i for n, i in everything.items() if n not in rest]
    assert missing, "some of the recorded files' items are not changed by a later file"
    load(endpoints.target, EXPORT_LOAD, missing, ["id"])
    assert table_state(endpoints.target, EXPORT_LOAD, ["id"]) == as_table(everything)


@pytest.mark.parametrize("where", ["folder", "s3"])
def test_an_export_stopped_part_way_writes_only_the_segments_not_recorded(
    where: str,
    endpoints: Endpoints,
    s3_endpoint: str,
    source_client: DynamoDBClient,
    fresh: Callable[[str], None],
    tmp_path: Path,
) -> None:
    case, s3 = (TO_FOLDER, None) if where == "folder" else (TO_S3, s3_endpoint)
    state = rebuilt(case, endpoints.source, fresh, tmp_path)
    # The data files the stopped run had written, where it wrote them.
    if s3 is None:
        shutil.copytree(case.fixture / FOLDER_PATH, tmp_path / FOLDER_PATH)
        written = case.fixture / FOLDER_PATH

        def read(name: str) -> bytes:
            return (tmp_path / FOLDER_PATH / name).read_bytes()

        prefix = ""
    else:
        client = s3_client(s3)
        upload(client, TARGET_BUCKET, case.fixture / "bucket")
        written = case.fixture / "bucket" / TARGET_PREFIX

        def read(name: str) -> bytes:
            return client.get_object(Bucket=TARGET_BUCKET, Key=name)["Body"].read()

        prefix = f"{TARGET_PREFIX}/"
    recorded = files_recorded(state)
    assert sorted(recorded) == ["data/00000.json.gz", "data/00001.json.gz"]
    old = {name: (written / name).read_bytes() for name in recorded}
    in_old = {i["id"]["S"]: i for body in old.values() for _, i in export_changes(body)}
    assert len(in_old) == sum(recorded.values())
    # Their items leave the source: a scan of those segments again would miss them.
    for name in in_old:
        source_client.delete_item(TableName=case.table, Key={"id": {"S": name}})
    config = export_target_config(tmp_path / "config.yaml", endpoints.source, s3)
    code, before = status(state)
    assert code == 1 and "phase: snapshot (not running)" in before
    assert any("(2 of 4 scan segments, each written as a data file)" in line for line in before)

    resumed = run_cli("migrate", "--config", str(config), "--state", str(state), cwd=tmp_path)

    assert resumed.returncode == 0, resumed.stderr
    summary = orjson.loads(read(f"{prefix}manifest-summary.json"))
    manifest = [orjson.loads(line) for line in read(summary["manifestFilesS3Key"]).splitlines()]
    listed = sorted(entry["dataFileS3Key"] for entry in manifest)
    assert listed == [f"{prefix}data/{n:05d}.json.gz" for n in range(case.segments)]
    assert summary["itemCount"] == case.count == sum(e["itemCount"] for e in manifest)
    for name, body in old.items():
        assert read(f"{prefix}{name}") == body, f"{name} was written again"
    exported: dict[str, Item] = {}
    for entry in manifest:
        exported = apply(exported, export_changes(read(entry["dataFileS3Key"])))
    assert as_table(exported) == as_table({i["id"]["S"]: i for i in case.items()})
    load(endpoints.source, case.table, list(in_old.values()), ["id"])
    assert table_state(endpoints.source, case.table, ["id"]) == as_table(exported)
    assert status(state)[0] == 0


def test_a_replay_stopped_part_way_goes_on_after_each_shards_checkpoint(
    endpoints: Endpoints,
    source_client: DynamoDBClient,
    target_client: DynamoDBClient,
    fresh: Callable[[str], None],
    tmp_path: Path,
) -> None:
    case = REPLAY
    state = rebuilt(case, endpoints.source, fresh, tmp_path)
    # The source's stream, as the stopped run read it (the changes it applied), and more since.
    source_client.update_table(
        TableName=case.table,
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    applied, since = changes_before_stop(), changes_after_stop()
    write_changes(endpoints.source, case.table, [*applied, *since])
    # The target as the stopped run left it, less what the state records: the changes it
    # applied, and the snapshot's last ten items.
    snapshot = {i["id"]["S"]: i for i in case.items()}
    dropped = [f"k{n:04d}" for n in range(90, 100)]
    create_table(target_client, case.table)
    load(endpoints.target, case.table, [i for n, i in snapshot.items() if n not in dropped], ["id"])
    with FixedArnStreams(endpoints.source, case.table, FIXED_ARN, STREAM_PARTITIONS) as streams:
        config = snapshot_config(tmp_path / "config.yaml", streams.url, endpoints.target, case)
        wait_for_records(streams, len(applied) + len(since))
        code, before = status(state)
        assert code == 1 and "phase: replay (not running)" in before
        assert any("4 shards open, 0 finished, 20 records applied" in line for line in before)

        resumed = run_cli(
            "migrate", "--config", str(config), "--state", str(state), "--stop-when-drained"
        )

        assert resumed.returncode == 0, resumed.stderr
        left = {n: i for n, i in snapshot.items() if n not in dropped}
        assert table_state(endpoints.target, case.table, ["id"]) == as_table(apply(left, since))
        assert status(state)[0] == 0
        write_changes(endpoints.target, case.table, applied)
        load(endpoints.target, case.table, [snapshot[n] for n in dropped], ["id"])
        verified = run_cli("verify", "--config", str(config), "--both-directions")
        assert verified.returncode == 0, verified.stdout + verified.stderr


def wait_for_records(streams: FixedArnStreams, count: int) -> None:
    """The stand-in deals Local's records out once its stream is first asked for."""
    client = boto3.client(
        "dynamodbstreams",
        endpoint_url=streams.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    client.describe_stream(StreamArn=FIXED_ARN, Limit=1)
    deadline = time.monotonic() + 60
    while streams.counts["records"] < count:
        assert time.monotonic() < deadline, f"{streams.counts['records']} of {count} records"
        time.sleep(0.05)
    assert streams.counts["records"] == count
