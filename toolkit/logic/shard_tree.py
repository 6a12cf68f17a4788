"""Pure logic of a stream's shard tree: which shards may be read now.

A shard is read only after its parent is finished, so that each key's changes
are applied in stream order when a shard splits. The tree is kept up to date
event by event (shards seen, shards started, shards finished), so the replay's
work per event does not grow with the number of shards the stream holds.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Shard:
    shard_id: str
    parent_id: str | None


@dataclass(frozen=True)
class Added:
    new: list[Shard]  # shards not known before, in the order given
    ready: list[str]  # shards that may be read now
    orphans: list[str]  # new shards whose parent was never seen: it left the stream unread


@dataclass
class ShardTree:
    """What the replay knows of the stream's shards."""

    _parent: dict[str, str | None] = field(default_factory=dict)
    _children: dict[str, list[str]] = field(default_factory=dict)
    _finished: set[str] = field(default_factory=set)
    _started: set[str] = field(default_factory=set)
    _waiting: dict[str, list[str]] = field(default_factory=dict)  # parent -> unread children

    def __len__(self) -> int:
        return len(self._parent)

    def __contains__(self, shard_id: object) -> bool:
        return shard_id in self._parent

    @property
    def finished_count(self) -> int:
        return len(self._finished)

    def is_finished(self, shard_id: str) -> bool:
        return shard_id in self._finished

    def children(self, shard_id: str) -> list[str]:
        return list(self._children.get(shard_id, ()))

    def load(self, shards: Iterable[tuple[Shard, bool]]) -> list[str]:
        """Shards recorded earlier, with whether each is finished; returns the ready ones.

        A recorded shard whose parent is not recorded was seen with its parent
        already gone (trimmed before the stream was enabled): it is a root.
        """
        pairs = list(shards)
        self._finished.update(s.shard_id for s, done in pairs if done)
        return self._add([s for s, _ in pairs]).ready

    def add(self, shards: Iterable[Shard]) -> Added:
        """Shards the stream lists now; known ones are ignored."""
        return self._add(list(shards), orphans_allowed=False)

    def start(self, shard_id: str) -> None:
        self._started.add(shard_id)

    def finish(self, shard_id: str) -> list[str]:
        """The shard is read to its end; returns its children that may be read now."""
        self._finished.add(shard_id)
        waiting = self._waiting.pop(shard_id, [])
        return [c for c in waiting if self._may_start(c)]

    def unfinished(self) -> set[str]:
        return set(self._parent) - self._finished

    def _add(self, shards: list[Shard], orphans_allowed: bool = True) -> Added:
        new = [s for s in dict.fromkeys(shards) if s.shard_id not in self._parent]
        for shard in new:
            self._parent[shard.shard_id] = shard.parent_id
        ready, orphans = [], []
        for shard in new:
            parent = shard.parent_id
            if parent is not None and parent in self._parent:
                self._children.setdefault(parent, []).append(shard.shard_id)
                if parent not in self._finished:
                    self._waiting.setdefault(parent, []).append(shard.shard_id)
                    continue
            elif parent is not None and not orphans_allowed:
                orphans.append(shard.shard_id)
            if self._may_start(shard.shard_id):
                ready.append(shard.shard_id)
        return Added(new, ready, orphans)

    def _may_start(self, shard_id: str) -> bool:
        return shard_id not in self._finished and shard_id not in self._started


def vanished(recorded_unfinished: Collection[str], described: Collection[str]) -> list[str]:
    """Shards we still had to read that the stream no longer lists: changes were trimmed."""
    return sorted(set(recorded_unfinished) - set(described))
