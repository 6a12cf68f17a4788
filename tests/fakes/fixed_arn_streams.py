"""The stream stand-in (tests/stream_server.py) under a stream ARN that never changes.

DynamoDB Local names a table's stream by the moment it was enabled, so a state file
that follows a stream cannot be resumed against another server: the ARN recorded in
it is gone. This stand-in shows every client one fixed ARN for the table's stream
(in DescribeTable's, UpdateTable's and DescribeStream's answers and in its shard
iterators) and turns it back into Local's own on the way in. Its shard ids and
sequence numbers are already a function of the records in order (no rollover: one
generation of ``partitions`` shards), so the same writes on a fresh server give the
same stream, checkpoints included.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from tests.fakes.stream_server import StreamServer

NEVER = 10.0**9  # seconds: shards that never roll over


class FixedArnStreams(StreamServer):
    def __init__(self, upstream: str, table: str, fixed_arn: str, partitions: int = 4) -> None:
        super().__init__(upstream, partitions=partitions, rollover_seconds=NEVER)
        self.table, self.fixed_arn = table, fixed_arn.encode()
        self._local_found: bytes | None = None  # Local's ARN, once the stream is enabled
        # Local's own: arn:aws:dynamodb:ddblocal:000000000000:table/NAME/stream/TIME
        self._locals = re.compile(
            rb"arn:aws:dynamodb:[^\"|]*:table/" + re.escape(table.encode()) + rb"/stream/[^\"|]+"
        )

    def __enter__(self) -> FixedArnStreams:
        super().__enter__()
        return self

    def answer(self, target: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        if self.fixed_arn in body:
            body = body.replace(self.fixed_arn, self._local_arn())
        status, answer = super().answer(target, body, headers)
        return status, self._locals.sub(self.fixed_arn, answer)

    def _local_arn(self) -> bytes:
        """The table's stream as Local names it, asked once it is enabled."""
        if self._local_found is None:
            request = orjson.dumps({"TableName": self.table})
            status, body = self.forward("DynamoDB_20120810.DescribeTable", request)
            found: dict[str, Any] = orjson.loads(body).get("Table", {}) if status == 200 else {}
            arn = found.get("LatestStreamArn")
            self._local_found = str(arn).encode() if arn else None
        return self._local_found or self.fixed_arn
