"""Control plane of change streaming: check, enable and record the source's stream.

The stream is enabled (view type NEW_IMAGE) before the snapshot starts, so every
change made during the copy is in it. A stream that was already enabled may have
lost older changes to its 24-hour retention, so it is refused unless accepted; a
global table's stream is always on (DynamoDB needs it to replicate), so it is
expected, and used. An Alternator source (the way back) on ScyllaDB 2025.4 or 2026.1
refuses a stream on a table that uses tablets: that is one clear line, before
anything is touched when the server's facts tell, else from the refusal itself.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from toolkit.errors import ServiceError, UserError
from toolkit.logic import tablets
from toolkit.logic.alternator_fit import is_global_table, regions
from toolkit.logic.shard_tree import Shard
from toolkit.wire.scylla_facts import server_facts, uses_tablets
from toolkit.wire.service_errors import translated
from toolkit.wire.stream_reader import describe_shards, lost

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient

log = logging.getLogger("migrator")
utils_log = logging.getLogger("DynamoUtils")
USABLE_VIEWS = ("NEW_IMAGE", "NEW_AND_OLD_IMAGES")
RETENTION_HOURS = 24


@dataclass(frozen=True)
class StreamPlan:
    """What to do about the stream, decided before any table is touched."""

    arn: str | None  # the stream to use; None when it must be enabled
    resumed: bool  # the state already follows this stream


@dataclass(frozen=True)
class Followed:
    """The stream a run's state follows: its ARN (None before the first enabling)."""

    arn: str | None
    state_file: str  # how errors name the state file


def plan_stream(
    description: Mapping[str, Any], followed: Followed, accept_existing: bool
) -> StreamPlan:
    table = description["TableName"]
    spec = description.get("StreamSpecification") or {}
    arn = description.get("LatestStreamArn") if spec.get("StreamEnabled") else None
    recorded = followed.arn
    if recorded is not None:
        if arn is None:
            raise lost(f"the stream {recorded} recorded in {followed.state_file} was disabled")
        if arn != recorded:
            raise UserError(
                f"the state file {followed.state_file} follows stream {recorded}, but table "
                f"{table} now has stream {arn}; start a new migration with a new --state"
            )
        if is_global_table(description):
            _resuming_global(table)
        return StreamPlan(arn, resumed=True)
    if arn is None:
        return StreamPlan(None, resumed=False)
    if spec.get("StreamViewType") not in USABLE_VIEWS:
        raise UserError(
            f"table {table} already has a stream of view type {spec.get('StreamViewType')}, "
            "which carries no new images; disable it, then run again"
        )
    if is_global_table(description):
        _using_global(description)
        return StreamPlan(arn, resumed=False)
    if not accept_existing:
        raise UserError(
            f"table {table} already has an enabled stream; its records are kept only "
            f"{RETENTION_HOURS} hours, so changes made before the snapshot may be gone already "
            "and the migration could not be proven complete; disable the stream, or pass "
            "--accept-existing-stream to replay it from its oldest record"
        )
    log.warning(
        "Using the stream that table %s already had, as asked: it holds only the last %d "
        "hours of changes",
        table,
        RETENTION_HOURS,
    )
    return StreamPlan(arn, resumed=False)


def _using_global(description: Mapping[str, Any]) -> None:
    """A global table's stream is on for as long as it has replicas: it is the run's stream."""
    log.info(
        "Table %s is a global table (replicas in %s): its stream is always on, and it is "
        "used as this run's stream, replayed from its oldest record (up to %d hours of "
        "changes from before the snapshot, applied again in order: harmless); it also "
        "carries the writes made in the other regions. The snapshot must be copied within "
        "%d hours, and a stopped run resumed within %d hours of its last checkpoint, or the "
        "changes after it are trimmed and the run stops (then start over with a new --state)",
        description["TableName"],
        ", ".join(regions(description)),
        *(RETENTION_HOURS, RETENTION_HOURS, RETENTION_HOURS),
    )


def _resuming_global(table: str) -> None:
    log.info(
        "Resuming on the stream of the global table %s: its records are kept %d hours, so "
        "this works while the last checkpoint is younger than that (an older one stops the "
        "run: start over with a new --state)",
        table,
        RETENTION_HOURS,
    )


def refuse_stream_on_tablets(client: DynamoDBClient, table: str, where: str) -> None:
    """An Alternator source whose stream the server will refuse: say so before any change."""
    if uses_tablets(client, table, where) and tablets.refuses_streams_on_tablets(
        server_facts(client, where)
    ):
        raise UserError(tablets.way_back_refusal(table, where))


def enable_stream(
    client: DynamoDBClient,
    streams: DynamoDBStreamsClient,
    table: str,
    plan: StreamPlan,
    where: str,
    poll_seconds: float = 5.0,
) -> tuple[str, list[Shard]]:
    """Enable the stream if needed and wait for ENABLED: its ARN, and its shards when
    the run did not follow it yet (the caller records both)."""
    arn = plan.arn
    if arn is None:
        log.info("Source is a Dynamo table and change streaming requested; enabling Dynamo Stream")
        try:
            with translated("UpdateTable", where):
                updated = client.update_table(
                    TableName=table,
                    StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
                )
        except ServiceError as error:
            if tablets.stream_refused_for_tablets(str(error)):
                raise UserError(tablets.way_back_refusal(table, where)) from None
            raise
        arn = str(updated["TableDescription"]["LatestStreamArn"])
    _wait_enabled(streams, arn, where, poll_seconds)
    return arn, [] if plan.resumed else describe_shards(streams, arn, where)


def _wait_enabled(
    streams: DynamoDBStreamsClient, arn: str, where: str, poll_seconds: float
) -> None:
    while True:
        with translated("DescribeStream", where):
            status = streams.describe_stream(StreamArn=arn, Limit=1)["StreamDescription"]
        current = status.get("StreamStatus")
        if current == "ENABLED":
            utils_log.info("Stream enabled successfully")
            return
        if current != "ENABLING":
            raise ServiceError(f"the stream {arn} is {current}, not ENABLED; check the table")
        utils_log.info(
            "Stream not yet enabled (status %s); waiting for %g seconds and retrying",
            current,
            poll_seconds,
        )
        time.sleep(poll_seconds)
