"""GetRecords answers rewritten as Alternator Streams gives them (compatibility.md,
"Alternator Streams"), for the fake Alternator cluster:

- ``eventSource`` is ``scylladb:alternator`` and the ``dynamodb`` field has no
  ``SizeBytes`` (always);
- INSERT and MODIFY may be swapped (writes do not read the item before): with
  ``swap_every`` = n, every record whose sequence number is a multiple of n;
- writes that changed nothing still give an event: with ``noop_every`` = n, a
  copy follows every record whose sequence number is a multiple of n (a MODIFY
  whose old and new images are the item as it already is, or a REMOVE of the key
  already removed);
- records appear about 10 s after the write: with ``delay`` (seconds) a record is
  held back until that long after the stand-in first read it.

The last three are off by default: extra records would change what today's tests
count, and a delay would slow every test.

Sequence numbers stay distinct and ordered: the server's number n becomes 2n, the
copy after it 2n+1 (one digit wider), and GetShardIterator's SequenceNumber is
translated back before it goes to the server. What was changed is counted.
"""

from __future__ import annotations

import base64
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

# (operation, request) -> the server's answer (status, body): the stand-in's own call
Upstream = Callable[[str, dict[str, Any]], tuple[int, Any]]
SOURCE = "scylladb:alternator"


class StreamRewrites:
    def __init__(self, swap_every: int = 0, noop_every: int = 0, delay: float = 0.0) -> None:
        self._swap_every, self._noop_every, self._delay = swap_every, noop_every, delay
        self._lock = threading.Lock()
        self._server_numbers: dict[str, str] = {}  # ours -> the server's
        self._first_read: dict[str, float] = {}  # the server's number -> when first read
        self.changed: Counter[str] = Counter()  # eventSource, SizeBytes, swapped, no-op, held

    def iterator_request(self, request: dict[str, Any]) -> dict[str, Any]:
        """GetShardIterator's request with the server's own sequence number."""
        ours = request.get("SequenceNumber")
        with self._lock:
            theirs = self._server_numbers.get(ours) if isinstance(ours, str) else None
        return request if theirs is None else {**request, "SequenceNumber": theirs}

    def records_answer(
        self, request: dict[str, Any], answer: dict[str, Any], upstream: Upstream
    ) -> dict[str, Any]:
        records = answer.get("Records", [])
        shown = self._held_back(request, answer, records, upstream)
        rewritten: list[dict[str, Any]] = []
        for record in shown:
            rewritten.extend(self._as_alternator(record))
        return {**answer, "Records": rewritten}

    def _as_alternator(self, record: dict[str, Any]) -> list[dict[str, Any]]:
        data = dict(record["dynamodb"])
        theirs = data["SequenceNumber"]
        number, width = int(theirs), len(theirs) + 1
        changed: Counter[str] = Counter({"eventSource": 1})
        if data.pop("SizeBytes", None) is not None:
            changed["SizeBytes"] += 1
        name = record["eventName"]
        if self._swap_every and number % self._swap_every == 0 and name != "REMOVE":
            name = "MODIFY" if name == "INSERT" else "INSERT"
            changed["swapped"] += 1
        ours = f"{2 * number:0{width}d}"
        out = [{**record, "eventName": name, "eventSource": SOURCE, "dynamodb": data}]
        data["SequenceNumber"] = ours
        mapping = {ours: theirs}
        if self._noop_every and number % self._noop_every == 0:
            again = f"{2 * number + 1:0{width}d}"
            out.append(_no_op(out[0], again))
            mapping[again] = theirs  # after it: after the record it copies
            changed["no-op"] += 1
        with self._lock:
            self._server_numbers.update(mapping)
            self.changed.update(changed)
        return out

    def _held_back(
        self,
        request: dict[str, Any],
        answer: dict[str, Any],
        records: list[dict[str, Any]],
        upstream: Upstream,
    ) -> list[dict[str, Any]]:
        """The records old enough to show; the answer's next iterator then starts
        after the last of them (the same iterator again when none is)."""
        if not self._delay or not records:
            return records
        now = time.monotonic()
        with self._lock:
            for record in records:
                self._first_read.setdefault(record["dynamodb"]["SequenceNumber"], now)
            ready = [
                r
                for r in records
                if now - self._first_read[r["dynamodb"]["SequenceNumber"]] >= self._delay
            ]
        shown = records[: len(ready)] if ready == records[: len(ready)] else []
        if len(shown) == len(records):
            return records
        with self._lock:
            self.changed["held"] += len(records) - len(shown)
        if not shown:
            answer["NextShardIterator"] = request["ShardIterator"]
            return []
        arn, shard = _stream_and_shard(request["ShardIterator"])
        last = shown[-1]["dynamodb"]["SequenceNumber"]
        asked = {"StreamArn": arn, "ShardId": shard, "ShardIteratorType": "AFTER_SEQUENCE_NUMBER"}
        status, opened = upstream("GetShardIterator", {**asked, "SequenceNumber": last})
        if status != 200:
            answer["NextShardIterator"] = request["ShardIterator"]
            return []
        answer["NextShardIterator"] = opened["ShardIterator"]
        return shown


def _no_op(record: dict[str, Any], number: str) -> dict[str, Any]:
    """A write that changed nothing: the item written again as it is, or the key
    deleted again."""
    data = {**record["dynamodb"], "SequenceNumber": number}
    name = "REMOVE" if record["eventName"] == "REMOVE" else "MODIFY"
    if name == "MODIFY" and "NewImage" in data and data.get("StreamViewType") != "NEW_IMAGE":
        data["OldImage"] = data["NewImage"]
    return {**record, "eventID": str(uuid.uuid4()), "eventName": name, "dynamodb": data}


def _stream_and_shard(iterator: str) -> tuple[str, str]:
    """DynamoDB Local's iterator is ``ARN|001|base64(shard|sequence|time)``."""
    arn, _, packed = iterator.split("|", 2)
    shard = base64.b64decode(packed).decode().split("|", 1)[0]
    return arn, shard
