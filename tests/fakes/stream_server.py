"""A DynamoDB Streams server for the tests: DynamoDB Local's stream, cut into many shards.

DynamoDB Local keeps one stream shard forever; a big table's stream has one open
shard per partition, and rolls them over. This server, on 127.0.0.1, forwards the
table API (DynamoDB_20120810.*) to DynamoDB Local untouched, and answers DynamoDB
Streams (DynamoDBStreams_20120810.*) itself from DynamoDB Local's own records, read
in order from Local's stream and re-cut into shards. What it models, each from the
DynamoDB Streams API reference (DescribeStream, GetShardIterator, GetRecords,
ShardFilter, SequenceNumberRange) and the DynamoDB developer guide (Change data
capture for DynamoDB Streams: "Reading and processing a stream"):

- One open shard per partition: a record goes to the open shard whose hash range
  holds its partition key's hash (hash of the key's attribute value, cut into
  ``partitions`` equal ranges at first). Records of one item appear once, in order.
- Shards close and hand their keys to one or two children (a split halves the
  range): every ``rollover_seconds`` each open shard closes. A closed shard lists an
  EndingSequenceNumber; GetRecords on it answers no NextShardIterator once read to
  its end; a key's later records are in the child that owns its hash.
- DescribeStream: at most 100 shards a page (Limit, ExclusiveStartShardId,
  LastEvaluatedShardId), shards in ShardId order (ids of 28 to 65 characters),
  parents before children; at most 10 calls a second per stream, past that
  LimitExceededException; ShardFilter
  {Type: CHILD_SHARDS, ShardId} lists one shard's children (``shard_filter``
  "reject" answers ValidationException instead, "ignore" lists as if it were absent,
  as servers from before the filter do).
- GetRecords: at most 1,000 records a call (Limit); more than 2 concurrent calls on
  one shard (the guide: no more than two readers of a shard at once) answer
  LimitExceededException; ``throttle_chance`` of the calls answer
  LimitExceededException or ProvisionedThroughputExceededException (throttling).
- Iterators expire (ExpiredIteratorException) ``iterator_seconds`` after they were
  given out (15 minutes on the service), and ``expire_chance`` of GetRecords calls
  find theirs expired early, so readers meet the error within a test.
- Trimming: shards of generations older than ``keep_generations`` (24 hours on the
  service) leave DescribeStream; GetShardIterator on one answers
  ResourceNotFoundException, GetRecords on its iterators TrimmedDataAccessException.
  ``trim(keep)`` trims at once.

- ApproximateCreationDateTime: epoch seconds, rounded down to the second (the
  StreamRecord reference), of when this server took the record from Local (within
  ~50 ms of the write; Local's own is rounded down to the minute).

Not modelled: the 1 MB answer limit, shards created
by real partition splits at arbitrary times, the delay before a write's record
is readable (here: Local's own, plus up to 50 ms for this server to fetch it),
ListStreams (forwarded to Local). ProvisionedThroughputExceededException is not
among GetRecords' documented errors; it is sent because the issue asks readers
to survive it.
"""

from __future__ import annotations

import bisect
import http.client
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import orjson

from tests.fakes.stream_http import Listener
from tests.fakes.stream_shards import (
    SPACE,
    Refused,
    ShardCut,
    Stream,
    hash_of,
    listed,
    parent_of,
    read_iterator,
)

_PREFIX = "com.amazonaws.dynamodb.v20120810#"
STREAMS = "DynamoDBStreams_20120810."
PAGE = 100
DESCRIBES_PER_SECOND = 10
# DynamoDB Local reads the access key from the signature and checks nothing else.
_ANY_SIGNATURE = (
    "AWS4-HMAC-SHA256 Credential=test/20200101/us-east-1/dynamodb/aws4_request, "
    "SignedHeaders=host, Signature=0"
)


class StreamServer:
    """``with StreamServer(local_url, ...) as server:`` clients go to ``server.url``."""

    def __init__(
        self,
        upstream: str,
        *,
        partitions: int = 16,
        rollover_seconds: float = 3.0,
        split_chance: float = 0.3,
        max_open: int | None = None,
        keep_generations: int | None = None,
        iterator_seconds: float = 900.0,
        throttle_chance: float = 0.0,
        expire_chance: float = 0.0,
        shard_filter: str = "yes",
        seed: int = 0,
    ) -> None:
        parts = urlsplit(upstream)
        if parts.hostname not in ("127.0.0.1", "localhost") or parts.port is None:
            raise ValueError(f"the stream server sits before this machine only, not {upstream}")
        self._upstream = (parts.hostname, parts.port)
        self.partitions, self.rollover_seconds = partitions, rollover_seconds
        self.split_chance, self.max_open = split_chance, max_open or partitions * 2
        self.keep_generations, self.iterator_seconds = keep_generations, iterator_seconds
        self.throttle_chance, self.expire_chance = throttle_chance, expire_chance
        self.shard_filter = shard_filter
        self.rng = random.Random(seed)
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()
        self._streams: dict[str, Stream] = {}
        self._serial = 0
        self._sequence = 0
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._http = Listener(self.answer)
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}"

    def __enter__(self) -> StreamServer:
        self._spawn(self._http.serve_forever, 0.05)
        self._spawn(self._roll)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._http.shutdown()
        self._http.server_close()
        for thread in self._threads:
            thread.join(timeout=10)

    def trim(self, keep: int) -> list[str]:
        """Trim every shard of a generation older than the newest ``keep`` now."""
        with self.lock:
            return [t for s in self._streams.values() for t in self._trim(s, keep)]

    # --- the answers ----------------------------------------------------------------

    def answer(self, target: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        if not target.startswith(STREAMS) or target.endswith(".ListStreams"):
            return self.forward(target, body, headers)
        operation = target[len(STREAMS) :]
        request = orjson.loads(body or b"{}")
        try:
            handler = {
                "DescribeStream": self._describe,
                "GetShardIterator": self._iterator,
                "GetRecords": self._records,
            }[operation]
            return 200, orjson.dumps(handler(request))
        except Refused as refused:
            self.counts[refused.code] += 1
            error = {"__type": _PREFIX + refused.code, "message": str(refused)}
            return 400, orjson.dumps(error)
        except KeyError:
            return self.forward(target, body, headers)

    def forward(
        self, target: str, body: bytes, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        """The request sent to DynamoDB Local as it came (its own signature included)."""
        connection = http.client.HTTPConnection(*self._upstream, timeout=60)
        if headers is None:
            headers = {"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.0"}
            headers["Authorization"] = _ANY_SIGNATURE
        try:
            connection.request("POST", "/", body, headers)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def _describe(self, request: dict[str, Any]) -> dict[str, Any]:
        stream = self._stream(request["StreamArn"])
        with self.lock:
            now = time.monotonic()
            stream.describes = [t for t in stream.describes if now - t < 1.0] + [now]
            if len(stream.describes) > DESCRIBES_PER_SECOND:
                raise Refused("LimitExceededException", "DescribeStream: too many calls")
            self.counts["DescribeStream"] += 1
            wanted = request.get("ShardFilter")
            if wanted and self.shard_filter == "reject":
                raise Refused("ValidationException", "ShardFilter is not supported")
            if wanted and self.shard_filter == "yes":
                self.counts["ShardFilter"] += 1
                parent = wanted["ShardId"]
                shards = [stream.shards[i] for i in stream.order if parent_of(stream, i) == parent]
                return {"StreamDescription": {**stream.info, "Shards": listed(shards)}}
            limit = min(int(request.get("Limit", PAGE)), PAGE)
            after = request.get("ExclusiveStartShardId")
            start = bisect.bisect_right(stream.order, after) if after else 0
            page = [stream.shards[i] for i in stream.order[start : start + limit]]
            description = {**stream.info, "Shards": listed(page)}
            if start + limit < len(stream.order):
                description["LastEvaluatedShardId"] = page[-1].shard_id
                self.counts["pages with more"] += 1
            return {"StreamDescription": description}

    def _iterator(self, request: dict[str, Any]) -> dict[str, Any]:
        stream = self._stream(request["StreamArn"])
        with self.lock:
            shard = stream.shards.get(request["ShardId"])
            if shard is None:
                raise Refused("ResourceNotFoundException", "Requested resource not found")
            kind = request["ShardIteratorType"]
            if kind == "TRIM_HORIZON":
                position = 0
            elif kind == "LATEST":
                position = len(shard.records)
            else:
                found = bisect.bisect_left(shard.sequences, request["SequenceNumber"])
                matched = found < len(shard.sequences)
                matched = matched and shard.sequences[found] == request["SequenceNumber"]
                position = found + (kind == "AFTER_SEQUENCE_NUMBER" and matched)
            return {"ShardIterator": self._give(stream, shard, position)}

    def _records(self, request: dict[str, Any]) -> dict[str, Any]:
        arn, shard_id, position, given = read_iterator(request["ShardIterator"])
        stream = self._stream(arn)
        with self.lock:
            shard = stream.shards.get(shard_id)
            if shard is None:
                raise Refused("TrimmedDataAccessException", "the shard's records were trimmed")
            expired = time.monotonic() - given > self.iterator_seconds
            if expired or self.rng.random() < self.expire_chance:
                raise Refused("ExpiredIteratorException", "Iterator expired")
            if self.rng.random() < self.throttle_chance:
                code = self.rng.choice(
                    ["LimitExceededException", "ProvisionedThroughputExceededException"]
                )
                raise Refused(code, "Throughput exceeded, try again shortly")
            if shard.readers >= 2:
                self.counts["third reader"] += 1
                raise Refused("LimitExceededException", "more than 2 readers of one shard")
            shard.readers += 1
        try:
            time.sleep(0.001)  # a reader in flight: long enough for a third to meet the limit
            with self.lock:
                limit = min(int(request.get("Limit", 1000)), 1000)
                records = shard.records[position : position + limit]
                end = position + len(records)
                self.counts["GetRecords"] += 1
                answer: dict[str, Any] = {"Records": records}
                if shard.end is None or end < len(shard.records):
                    answer["NextShardIterator"] = self._give(stream, shard, end)
                return answer
        finally:
            with self.lock:
                shard.readers -= 1

    def _give(self, stream: Stream, shard: ShardCut, position: int) -> str:
        return f"{stream.arn}|{shard.shard_id}|{position}|{time.monotonic():.6f}"

    # --- the stream -------------------------------------------------------------------

    def _stream(self, arn: str) -> Stream:
        with self.lock:
            stream = self._streams.get(arn)
        if stream is not None:
            return stream
        status, body = self.forward(
            STREAMS + "DescribeStream", orjson.dumps({"StreamArn": arn, "Limit": 1})
        )
        if status != 200:
            raise Refused("ResourceNotFoundException", f"Requested resource not found: {arn}")
        info = orjson.loads(body)["StreamDescription"]
        info.pop("Shards", None)
        info.pop("LastEvaluatedShardId", None)
        hash_key = next(k["AttributeName"] for k in info["KeySchema"] if k["KeyType"] == "HASH")
        with self.lock:
            if arn in self._streams:
                return self._streams[arn]
            stream = Stream(arn, info, hash_key)
            step = SPACE // self.partitions
            for n in range(self.partitions):
                high = SPACE if n == self.partitions - 1 else (n + 1) * step
                self._open_shard(stream, None, n * step, high)
            self._streams[arn] = stream
        self._spawn(self._pump, stream)
        return stream

    def _open_shard(self, stream: Stream, parent: str | None, low: int, high: int) -> None:
        self._serial += 1
        # The service's form (28 characters at least): creation order, then a tag.
        name = f"shardId-{self._serial:020d}-{self._serial * 2654435761 % 2**32:08x}"
        shard = ShardCut(name, parent, low, high, stream.generation)
        shard.start = f"{self._sequence + 1:021d}"
        stream.shards[shard.shard_id] = shard
        self.counts["shards"] += 1
        stream.order.append(shard.shard_id)
        at = bisect.bisect(stream.lows, low)
        stream.open.insert(at, shard)
        stream.lows.insert(at, low)

    def _pump(self, stream: Stream) -> None:
        """Follow Local's own stream, in order, and deal its records out to the shards."""
        for record in self._local_records(stream.arn):
            data = {**record["dynamodb"], "ApproximateCreationDateTime": float(int(time.time()))}
            point = hash_of(data["Keys"][stream.hash_key])
            with self.lock:
                shard = stream.open[bisect.bisect_right(stream.lows, point) - 1]
                self._sequence += 1
                sequence = f"{self._sequence:021d}"
                shard.sequences.append(sequence)
                shard.records.append({**record, "dynamodb": {**data, "SequenceNumber": sequence}})
                self.counts["records"] += 1

    def _local_records(self, arn: str) -> Iterator[dict[str, Any]]:
        iterators: dict[str, str | None] = {}
        while not self._stopping.is_set():
            listing = self._local("DescribeStream", {"StreamArn": arn})["StreamDescription"]
            for shard in listing.get("Shards", []):
                if shard["ShardId"] not in iterators:
                    request = {"StreamArn": arn, "ShardId": shard["ShardId"]}
                    request["ShardIteratorType"] = "TRIM_HORIZON"
                    iterators[shard["ShardId"]] = self._local("GetShardIterator", request).get(
                        "ShardIterator"
                    )
            for shard_id, iterator in list(iterators.items()):
                while iterator is not None and not self._stopping.is_set():
                    page = self._local("GetRecords", {"ShardIterator": iterator})
                    yield from page.get("Records", [])
                    iterator = page.get("NextShardIterator")
                    iterators[shard_id] = iterator
                    if not page.get("Records"):
                        break
            self._stopping.wait(0.05)

    def _local(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        status, body = self.forward(STREAMS + operation, orjson.dumps(request))
        if status != 200:
            raise RuntimeError(f"DynamoDB Local's {operation} failed: {body[:200]!r}")
        answer: dict[str, Any] = orjson.loads(body)
        return answer

    def _roll(self) -> None:
        while not self._stopping.wait(self.rollover_seconds):
            with self.lock:
                for stream in self._streams.values():
                    self._roll_stream(stream)

    def _roll_stream(self, stream: Stream) -> None:
        closing, stream.open, stream.lows = stream.open, [], []
        stream.generation += 1
        for index, shard in enumerate(closing):
            shard.end = shard.sequences[-1] if shard.sequences else shard.start
            room = len(stream.open) + len(closing) - index < self.max_open
            if room and shard.high - shard.low > 1 and self.rng.random() < self.split_chance:
                middle = (shard.low + shard.high) // 2
                self._open_shard(stream, shard.shard_id, shard.low, middle)
                self._open_shard(stream, shard.shard_id, middle, shard.high)
            else:
                self._open_shard(stream, shard.shard_id, shard.low, shard.high)
        self.counts["rollovers"] += 1
        if self.keep_generations is not None:
            self._trim(stream, self.keep_generations)

    def _trim(self, stream: Stream, keep: int) -> list[str]:
        oldest = stream.generation - keep + 1
        gone = [i for i in stream.order if stream.shards[i].generation < oldest]
        for shard_id in gone:
            del stream.shards[shard_id]
        stream.order = [i for i in stream.order if i in stream.shards]
        self.counts["trimmed"] += len(gone)
        return gone

    def _spawn(self, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()
