"""Pure logic of a stream's shard tree: which shards may be read now.

A shard is read only after its parent is finished, so that each key's changes
are applied in stream order when a shard splits.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Shard:
    shard_id: str
    parent_id: str | None


def ready_shards(
    shards: Sequence[Shard], finished: Collection[str], started: Collection[str]
) -> list[str]:
    """Shards not yet started whose parent is finished, or gone from the stream."""
    known = {s.shard_id for s in shards}
    return [
        s.shard_id
        for s in shards
        if s.shard_id not in finished
        and s.shard_id not in started
        and (s.parent_id is None or s.parent_id in finished or s.parent_id not in known)
    ]


def vanished(recorded_unfinished: Collection[str], described: Collection[str]) -> list[str]:
    """Shards we still had to read that the stream no longer lists: changes were trimmed."""
    return sorted(set(recorded_unfinished) - set(described))
