"""An Alternator source's stream as ScyllaDB documents it (compatibility.md,
"Alternator Streams"): ``eventSource`` ``scylladb:alternator``, no ``SizeBytes``,
INSERT and MODIFY swapped, events for writes that changed nothing. The fake cluster
(tests/fakes/alternator_streams.py) rewrites DynamoDB Local's records so; the way back
replays them through the real CLI and ends identical."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from tests.conftest import Endpoints
from tests.fakes.fake_alternator import FakeCluster, fake_cluster
from tests.helpers import run_cli
from tests.scenario import Run, progress
from tests.tables import create_table, load, low_client, scan_all, section, write_config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient

SNAPSHOT = 300
STREAM = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}


def item(n: int, version: int) -> dict[str, Any]:
    return {"id": {"S": f"k{n:05}"}, "n": {"N": str(version)}, "pad": {"S": "y" * 100}}


@pytest.fixture
def cluster(endpoints: Endpoints) -> Iterator[FakeCluster]:
    with fake_cluster(endpoints.source, swap_every=2, noop_every=3) as nodes:
        yield nodes


def change_through_nodes(cluster: FakeCluster, table: str) -> None:
    """Overwrites (MODIFY), new keys (INSERT), deletes (REMOVE), spread over the nodes."""
    writes: list[Any] = [{"PutRequest": {"Item": item(n, 2)}} for n in range(0, 100)]
    writes += [{"PutRequest": {"Item": item(n, 1)}} for n in range(SNAPSHOT, SNAPSHOT + 60)]
    writes += [{"DeleteRequest": {"Key": {"id": {"S": f"k{n:05}"}}}} for n in range(200, 260)]
    for start in range(0, len(writes), 25):
        node = low_client(cluster.urls[(start // 25) % 3])
        node.batch_write_item(RequestItems={table: writes[start : start + 25]})


def test_the_way_back_replays_alternators_records_and_ends_identical(
    endpoints: Endpoints,
    source_client: DynamoDBClient,
    table_name: str,
    tmp_path: Path,
    cluster: FakeCluster,
) -> None:
    create_table(source_client, table_name)
    load(endpoints.source, table_name, (item(n, 1) for n in range(SNAPSHOT)), ["id"])
    run = Run(endpoints, table_name, tmp_path)
    source = {
        **section(cluster.urls[0], table_name, scanSegments=3, readThroughput=1_000_000),
        "type": "alternator",
        "alternator": {"activeRefreshIntervalMs": 200},
    }
    write_config(run.config, source, section(endpoints.target, table_name, streamChanges=True))
    try:
        migration = run.migrate()
        run.wait_until("the snapshot", lambda: progress(run.state).snapshot_done, migration)
        change_through_nodes(cluster, table_name)
        expected = scan_all(endpoints.source, table_name)
        same = lambda: scan_all(endpoints.target, table_name) == expected  # noqa: E731
        run.wait_until("the changes replayed", same, migration)
        assert "Stream replay stopped" in run.stop(migration, signal.SIGTERM)[0]
    finally:
        run.kill_all()

    verify = run_cli("verify", "--config", str(run.config), "--both-directions", timeout=300)
    assert verify.returncode == 0, verify.stdout[-2000:] + verify.stderr[-2000:]
    assert len(expected) == SNAPSHOT + 60 - 60
    changed = cluster.streams.changed
    assert changed["eventSource"] >= 220 and changed["SizeBytes"] >= 220, changed
    assert changed["swapped"] >= 50 and changed["no-op"] >= 50, changed


# --- each rewrite, read through a node -------------------------------------------------


def streams_client(url: str) -> DynamoDBStreamsClient:
    return boto3.client(
        "dynamodbstreams",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def records_through(
    cluster: FakeCluster, table: str, after: str | None = None
) -> list[dict[str, Any]]:
    """Every record of the table's stream, read through node 1 (after a number)."""
    streams = streams_client(cluster.urls[1])
    arn = low_client(cluster.urls[1]).describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    records: list[Any] = []
    for shard in shards:
        position: dict[str, Any] = {"ShardIteratorType": "TRIM_HORIZON"}
        if after is not None:
            position = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after}
        opened = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"], **position)
        page = streams.get_records(ShardIterator=opened["ShardIterator"])
        records += page["Records"]
    return records


def stream_table(dynamodb: DynamoDBClient, table: str) -> None:
    vnodes = [{"Key": "system:initial_tablets", "Value": "none"}]  # a stream needs them
    create_table(dynamodb, table, StreamSpecification=STREAM, Tags=vnodes)
    node = dynamodb
    node.put_item(TableName=table, Item=item(1, 1))  # INSERT
    node.put_item(TableName=table, Item=item(1, 2))  # MODIFY
    node.put_item(TableName=table, Item=item(2, 1))  # INSERT
    node.delete_item(TableName=table, Key={"id": {"S": "k00001"}})  # REMOVE
    node.put_item(TableName=table, Item=item(3, 1))  # INSERT
    node.put_item(TableName=table, Item=item(3, 2))  # MODIFY


def test_records_say_scylladb_and_carry_no_size(
    endpoints: Endpoints, table_name: str, cluster: FakeCluster
) -> None:
    stream_table(low_client(cluster.urls[0]), table_name)
    records = records_through(cluster, table_name)
    assert {r["eventSource"] for r in records} == {"scylladb:alternator"}
    assert not [r for r in records if "SizeBytes" in r["dynamodb"]]
    assert cluster.streams.changed["SizeBytes"] == 6


def test_insert_and_modify_are_swapped_and_remove_is_not(
    endpoints: Endpoints, table_name: str, cluster: FakeCluster
) -> None:
    stream_table(low_client(cluster.urls[0]), table_name)
    written = ["INSERT", "MODIFY", "INSERT", "REMOVE", "INSERT", "MODIFY"]
    records = records_through(cluster, table_name)
    firsts = [r for r in records if int(r["dynamodb"]["SequenceNumber"]) % 2 == 0]  # no copies
    flip = {"INSERT": "MODIFY", "MODIFY": "INSERT", "REMOVE": "REMOVE"}
    expected = [  # every record whose server number (ours / 2) is even has them swapped
        flip[name] if int(r["dynamodb"]["SequenceNumber"]) // 2 % 2 == 0 else name
        for name, r in zip(written, firsts, strict=True)
    ]
    assert [r["eventName"] for r in firsts] == expected
    swapped = sum(a != b for a, b in zip(written, expected, strict=True))
    assert swapped == cluster.streams.changed["swapped"] >= 2


def test_writes_that_changed_nothing_give_events_in_order(
    endpoints: Endpoints, table_name: str, cluster: FakeCluster
) -> None:
    stream_table(low_client(cluster.urls[0]), table_name)
    records = records_through(cluster, table_name)
    numbers = [r["dynamodb"]["SequenceNumber"] for r in records]
    assert numbers == sorted(numbers, key=int) and len(set(numbers)) == len(numbers)
    # Which records get a copy follows the server's numbers (every third): one or two of five.
    places = [at for at, r in enumerate(records) if int(r["dynamodb"]["SequenceNumber"]) % 2]
    assert places and cluster.streams.changed["no-op"] == len(places)
    for at in places:
        copy, original = records[at]["dynamodb"], records[at - 1]["dynamodb"]
        assert copy["Keys"] == original["Keys"]
        if records[at]["eventName"] == "REMOVE":  # the key removed again: no image to keep
            assert "NewImage" not in copy
        else:  # the item written again as it already was
            assert copy["OldImage"] == copy["NewImage"] == original["NewImage"]
    copies = [records[at] for at in places]
    first_copy = numbers.index(copies[0]["dynamodb"]["SequenceNumber"])
    after_copy = records_through(cluster, table_name, after=numbers[first_copy])
    assert [r["dynamodb"]["SequenceNumber"] for r in after_copy] == numbers[first_copy + 1 :]


def test_a_stream_delay_holds_new_records_back(endpoints: Endpoints, table_name: str) -> None:
    with fake_cluster(endpoints.source, stream_delay=1.0) as cluster:
        stream_table(low_client(cluster.urls[0]), table_name)
        assert records_through(cluster, table_name) == []
        time.sleep(1.1)
        assert len(records_through(cluster, table_name)) == 6
        assert cluster.streams.changed["held"] == 6
