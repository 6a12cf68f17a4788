"""Reading a DynamoDB stream: its shards (control plane), their records (data plane)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from toolkit.dataplane import STREAMS_API, DataPlane
from toolkit.errors import ChangesLost, ServiceError
from toolkit.retry import RetryPolicy, call_with_retries
from toolkit.service_errors import translated
from toolkit.shard_tree import Shard

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient

RECORDS_PER_CALL = 1000


class IteratorExpired(Exception):
    """A shard iterator is older than 15 minutes: open a new one after the checkpoint."""


def lost(detail: str) -> ChangesLost:
    return ChangesLost(
        f"{detail}: changes may have been lost; the target can no longer be trusted to "
        "converge, so start a new full migration (new target table and a new --state)"
    )


def describe_shards(client: DynamoDBStreamsClient, arn: str, where: str) -> list[Shard]:
    """Every shard the stream lists now, following DescribeStream's pages."""
    shards: list[Shard] = []
    request: dict[str, Any] = {"StreamArn": arn}
    while True:
        with translated("DescribeStream", where):
            description = client.describe_stream(**request)["StreamDescription"]
        shards.extend(
            Shard(s["ShardId"], s.get("ParentShardId")) for s in description.get("Shards", [])
        )
        last = description.get("LastEvaluatedShardId")
        if not last:
            return shards
        request["ExclusiveStartShardId"] = last


class StreamReader:
    def __init__(
        self,
        client: DynamoDBStreamsClient,
        plane: DataPlane,
        arn: str,
        where: str,
        policy: RetryPolicy,
    ) -> None:
        self._client = client
        self._plane = plane
        self._arn = arn
        self._where = where
        self._policy = policy

    def shards(self) -> list[Shard]:
        return describe_shards(self._client, self._arn, self._where)

    def iterator(self, shard_id: str, after: str | None) -> str:
        """An iterator after the checkpoint, or at the oldest record when there is none."""
        request: dict[str, Any] = {"StreamArn": self._arn, "ShardId": shard_id}
        if after is None:
            request["ShardIteratorType"] = "TRIM_HORIZON"
        else:
            request["ShardIteratorType"] = "AFTER_SEQUENCE_NUMBER"
            request["SequenceNumber"] = after
        body = self._call("GetShardIterator", request, shard_id)
        return str(body["ShardIterator"])

    def records(self, iterator: str) -> tuple[list[dict[str, Any]], str | None]:
        """A page of records and the next iterator (None once a closed shard is read)."""
        request = {"ShardIterator": iterator, "Limit": RECORDS_PER_CALL}
        body = self._call("GetRecords", request, "")
        return body.get("Records", []), body.get("NextShardIterator")

    def _call(self, operation: str, request: dict[str, Any], shard_id: str) -> dict[str, Any]:
        try:
            answer = call_with_retries(
                lambda: self._plane.call(operation, request, STREAMS_API), self._policy
            )
        except ServiceError as error:
            if error.code == "ExpiredIteratorException":
                raise IteratorExpired(shard_id) from None
            if error.code == "TrimmedDataAccessException":
                raise lost(f"stream records of {self._arn} were trimmed before replay") from None
            if error.code == "ResourceNotFoundException" and shard_id:
                raise lost(f"shard {shard_id} of {self._arn} is gone") from None
            raise
        return answer.body
