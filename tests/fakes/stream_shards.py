"""The stream server's model of a stream: shards that own hash ranges, and their records.

See tests/fakes/stream_server.py for the facts it models and their sources.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import orjson

SPACE = 2**64  # the hash space that partitions cut


class Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class ShardCut:
    shard_id: str
    parent_id: str | None
    low: int  # the hash range it owns: [low, high)
    high: int
    generation: int
    sequences: list[str] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    start: str = ""
    end: str | None = None  # set when closed
    readers: int = 0  # GetRecords in flight

    def description(self) -> dict[str, Any]:
        span = {"StartingSequenceNumber": self.start}
        if self.end is not None:
            span["EndingSequenceNumber"] = self.end
        shard: dict[str, Any] = {"ShardId": self.shard_id, "SequenceNumberRange": span}
        if self.parent_id:
            shard["ParentShardId"] = self.parent_id
        return shard


@dataclass
class Stream:
    arn: str
    info: dict[str, Any]  # Local's StreamDescription, without shards
    hash_key: str
    shards: dict[str, ShardCut] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)  # ShardIds in listing order
    open: list[ShardCut] = field(default_factory=list)  # sorted by range
    lows: list[int] = field(default_factory=list)  # each open shard's range start
    generation: int = 0
    describes: list[float] = field(default_factory=list)


def parent_of(stream: Stream, shard_id: str) -> str | None:
    return stream.shards[shard_id].parent_id


def listed(shards: list[ShardCut]) -> list[dict[str, Any]]:
    return [s.description() for s in shards]


def hash_of(value: dict[str, Any]) -> int:
    digest = hashlib.blake2b(orjson.dumps(value, option=orjson.OPT_SORT_KEYS), digest_size=8)
    return int.from_bytes(digest.digest(), "big")


def read_iterator(iterator: str) -> tuple[str, str, int, float]:
    try:
        arn, shard_id, position, given = iterator.rsplit("|", 3)
        return arn, shard_id, int(position), float(given)
    except ValueError:
        raise Refused("ValidationException", "Invalid ShardIterator") from None
