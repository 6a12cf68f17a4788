"""Reading a DynamoDB stream: its shards and their records, through the data plane
(a listing's cost grows with the shards); the setup's first listing goes through
boto3 (``describe_shards``).

DescribeStream answers 100 shards a page and at most 10 calls a second per
stream (the DynamoDB Streams API reference), so every page is paced and its
LimitExceededException retried with backoff. GetRecords' LimitExceededException
(more than two readers of a shard) and throttling are handed to the shard's
follower, which slows that shard down: they never fail the run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from toolkit.errors import ChangesLost, ServiceBusy, ServiceError, ToolkitError
from toolkit.logic.shard_tree import Shard
from toolkit.wire.dataplane import STREAMS_API, Answer, DataPlane
from toolkit.wire.pacing import Pacer
from toolkit.wire.retry import RetryPolicy, call_with_retries
from toolkit.wire.service_errors import translated

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient

RECORDS_PER_CALL = 1000
SHARDS_PER_PAGE = 100
DESCRIBES_PER_SECOND = 10.0
Page = tuple[list[dict[str, Any]], str | None]  # records, and the next iterator
SLOW_DOWN = frozenset({"LimitExceededException", "ProvisionedThroughputExceededException"})
# What a server that does not know DescribeStream's ShardFilter answers to it.
NO_SHARD_FILTER = frozenset(
    {"ValidationException", "SerializationException", "UnknownOperationException"}
)


class IteratorExpired(Exception):
    """A shard iterator is older than 15 minutes: open a new one after the checkpoint."""


class ShardThrottled(Exception):
    """GetRecords was refused for now: read this shard again later, more slowly."""


def lost(detail: str) -> ChangesLost:
    return ChangesLost(
        f"{detail}: changes may have been lost; the target can no longer be trusted to "
        "converge, so start a new full migration (new target table and a new --state)"
    )


def _shards_of(description: dict[str, Any]) -> list[Shard]:
    return [Shard(s["ShardId"], s.get("ParentShardId")) for s in description.get("Shards", [])]


def describe_shards(
    client: DynamoDBStreamsClient,
    arn: str,
    where: str,
    policy: RetryPolicy | None = None,
    pacer: Pacer | None = None,
) -> list[Shard]:
    """Every shard the stream lists now, following DescribeStream's pages (boto3)."""
    describe = _Describe(_by_client(client, where), policy or RetryPolicy(), pacer or _pacer())
    return _listing(describe, arn)


def _listing(describe: _Describe, arn: str) -> list[Shard]:
    shards: list[Shard] = []
    request: dict[str, Any] = {"StreamArn": arn, "Limit": SHARDS_PER_PAGE}
    while True:
        description = describe(request)
        shards.extend(_shards_of(description))
        last = description.get("LastEvaluatedShardId")
        if not last:
            return shards
        request["ExclusiveStartShardId"] = last


def _pacer() -> Pacer:
    return Pacer(DESCRIBES_PER_SECOND)


Send = Callable[[dict[str, Any]], dict[str, Any]]  # one DescribeStream: its StreamDescription


def _by_client(client: DynamoDBStreamsClient, where: str) -> Send:
    def send(request: dict[str, Any]) -> dict[str, Any]:
        with translated("DescribeStream", where):
            return dict(client.describe_stream(**request)["StreamDescription"])

    return send


def _by_plane(plane: DataPlane) -> Send:
    """Through the data plane: a listing's cost grows with the shards, and botocore's
    parsing of a page of 100 shards costs about ten times orjson's."""

    def send(request: dict[str, Any]) -> dict[str, Any]:
        answer = plane.call("DescribeStream", request, STREAMS_API)
        return dict(answer.body["StreamDescription"])

    return send


class _Describe:
    """One DescribeStream call: paced, its throttling retried."""

    def __init__(self, send: Send, policy: RetryPolicy, pacer: Pacer) -> None:
        self._send, self._policy, self._pacer = send, policy, pacer

    def __call__(self, request: dict[str, Any]) -> dict[str, Any]:
        def once() -> dict[str, Any]:
            wait = self._pacer.reserve(self._policy.clock())
            if wait > 0:
                self._policy.sleep(wait)
            return self._send(request)

        return call_with_retries(once, self._policy)


class StreamReader:
    """A stream's shards and records, all through the data plane."""

    def __init__(self, plane: DataPlane, arn: str, policy: RetryPolicy) -> None:
        self._plane = plane
        self._arn = arn
        self._policy = policy
        self._describe = _Describe(_by_plane(plane), policy, _pacer())

    def shards(self) -> list[Shard]:
        return _listing(self._describe, self._arn)

    def children(self, shard_id: str) -> list[Shard] | None:
        """The shard's children (ShardFilter CHILD_SHARDS), or None where the server
        refuses the filter or ignores it (it answers shards that are not children)."""
        request = {
            "StreamArn": self._arn,
            "ShardFilter": {"Type": "CHILD_SHARDS", "ShardId": shard_id},
        }
        try:
            shards = _shards_of(self._describe(request))
        except ServiceError as error:
            if error.code in NO_SHARD_FILTER:
                return None
            if error.code == "ResourceNotFoundException":
                return []  # the parent is gone already: a listing shows its children
            raise
        if any(s.parent_id != shard_id for s in shards):
            return None
        return shards

    def iterator(self, shard_id: str, after: str | None) -> str:
        """An iterator after the checkpoint, or at the oldest record when there is none."""
        opened = self.iterators_all([(shard_id, after)])[0]
        if isinstance(opened, Exception):
            raise opened
        return opened

    def iterators_all(self, shards: Sequence[tuple[str, str | None]]) -> list[str | Exception]:
        """An iterator of each (shard, checkpoint), the requests in flight together; a
        failure is retried on its own, and if it stays one, is that shard's result."""
        requests = [self._iterator_request(shard_id, after) for shard_id, after in shards]
        firsts = self._plane.call_all("GetShardIterator", requests, STREAMS_API)
        return [
            self._opened(request, first) for request, first in zip(requests, firsts, strict=True)
        ]

    def _iterator_request(self, shard_id: str, after: str | None) -> dict[str, Any]:
        request: dict[str, Any] = {"StreamArn": self._arn, "ShardId": shard_id}
        if after is None:
            request["ShardIteratorType"] = "TRIM_HORIZON"
        else:
            request["ShardIteratorType"] = "AFTER_SEQUENCE_NUMBER"
            request["SequenceNumber"] = after
        return request

    def _opened(self, request: dict[str, Any], first: Answer | ToolkitError) -> str | Exception:
        try:
            body = self._call("GetShardIterator", request, request["ShardId"], first=first)
        except ToolkitError as error:
            return error
        return str(body["ShardIterator"])

    def records(self, iterator: str) -> Page:
        """A page of records and the next iterator (None once a closed shard is read).

        Raises ShardThrottled when the service asks to slow down (not retried here:
        the follower waits, and other shards go on meanwhile)."""
        page = self.records_all([iterator])[0]
        if isinstance(page, Exception):
            raise page
        return page

    def records_all(self, iterators: Sequence[str]) -> list[Page | Exception]:
        """A page of each iterator's shard, the requests in flight together (quiet
        shards polled at once wait for their answers once, not once each). A failure
        is retried on its own, and if it stays one, is that shard's result."""
        requests = [{"ShardIterator": i, "Limit": RECORDS_PER_CALL} for i in iterators]
        firsts = self._plane.call_all("GetRecords", requests, STREAMS_API)
        return [self._page(request, first) for request, first in zip(requests, firsts, strict=True)]

    def _page(self, request: dict[str, Any], first: Answer | ToolkitError) -> Page | Exception:
        try:
            body = self._call("GetRecords", request, "", _refuse_slow_down, first)
        except (ToolkitError, IteratorExpired, ShardThrottled) as error:
            return error
        return body.get("Records", []), body.get("NextShardIterator")

    def _call(
        self,
        operation: str,
        request: dict[str, Any],
        shard_id: str,
        check: Callable[[ServiceBusy], None] | None = None,
        first: Answer | ToolkitError | None = None,
    ) -> dict[str, Any]:
        """``first``: the first attempt's outcome, when it was sent already."""
        sent = [] if first is None else [first]

        def once() -> dict[str, Any]:
            try:
                answer = sent.pop() if sent else self._plane.call(operation, request, STREAMS_API)
                if isinstance(answer, ToolkitError):
                    raise answer
                return answer.body
            except ServiceBusy as busy:
                if check is not None:
                    check(busy)
                raise

        try:
            return call_with_retries(once, self._policy)
        except ServiceError as error:
            if error.code == "ExpiredIteratorException":
                raise IteratorExpired(shard_id) from None
            if error.code == "TrimmedDataAccessException":
                raise lost(f"stream records of {self._arn} were trimmed before replay") from None
            if error.code == "ResourceNotFoundException" and shard_id:
                raise lost(f"shard {shard_id} of {self._arn} is gone") from None
            raise


def _refuse_slow_down(busy: ServiceBusy) -> None:
    if busy.code in SLOW_DOWN:
        raise ShardThrottled(busy.code) from None
