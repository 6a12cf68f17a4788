"""One turn of one shard, the replay's unit of work: read its next records, write them.

A turn opens an iterator after the shard's checkpoint (or goes on from the one the
last turn left), reads pages while they come full, keeps the last change of each
key and writes them, and returns once the target acknowledged every write. It
never records a checkpoint: whoever asked for the turn does, from the result, so a
turn can run on this process's threads or in a Spark task alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from toolkit.logic.stream_records import (
    Change,
    change_of,
    count_by_type,
    last_change_per_key,
    one_write,
)
from toolkit.wire.stream_reader import RECORDS_PER_CALL, IteratorExpired, Page, ShardThrottled


class ShardRecords(Protocol):
    def iterator(self, shard_id: str, after: str | None) -> str: ...
    def iterators_all(self, shards: Sequence[tuple[str, str | None]]) -> list[str | Exception]: ...
    def records(self, iterator: str) -> Page: ...
    def records_all(self, iterators: Sequence[str]) -> list[Page | Exception]: ...


class Read(NamedTuple):
    records: list[dict[str, Any]]
    next_iterator: str | None  # None: the shard is closed and read to its end
    backlog: bool  # the last page came full: more records are likely waiting
    throttled: bool = False  # the service asked this shard's reader to slow down


@dataclass(frozen=True)
class Pages:
    """How one turn reads: up to ``records_per_apply`` while pages come full."""

    reader: ShardRecords
    records_per_apply: int
    stopping: Callable[[], bool] = lambda: False

    def read(self, iterator: str) -> Read:
        read = self.read_all([iterator])[0]
        if isinstance(read, Exception):
            raise read
        return read

    def read_all(self, iterators: Sequence[str], follow: bool = True) -> list[Read | Exception]:
        """Each iterator's read (its first pages in flight together), or its error;
        ``follow``: False reads the first page only, a full one saying "backlog"."""
        firsts = self.reader.records_all(iterators)
        return [self._on(i, first, follow) for i, first in zip(iterators, firsts, strict=True)]

    def _on(self, iterator: str, first: Page | Exception, follow: bool) -> Read | Exception:
        """One apply (write, then checkpoint) per several pages spends the wait for its
        slowest write once for many records; a short page ends the read at once."""
        if isinstance(first, ShardThrottled):
            return Read([], iterator, backlog=False, throttled=True)
        if isinstance(first, Exception):
            return first
        records, next_iterator = first
        last_page = len(records)
        while (
            follow
            and next_iterator is not None
            and last_page == RECORDS_PER_CALL
            and len(records) < self.records_per_apply
            and not self.stopping()
        ):
            try:
                more, after = self.reader.records(next_iterator)
            except ShardThrottled:
                return Read(records, next_iterator, backlog=True, throttled=True)
            except Exception as error:  # this shard's: the others' reads stand
                return error
            records, next_iterator, last_page = records + more, after, len(more)
        return Read(records, next_iterator, backlog=last_page == RECORDS_PER_CALL)


@dataclass(frozen=True)
class ShardTurn:
    shard: str
    after: str | None  # the checkpoint: the last sequence number acknowledged
    iterator: str | None = None  # where the shard's last turn stopped; None: open one
    idle_polls: int = 0  # empty reads in a row so far, and throttled ones: how to pace it
    throttles: int = 0


@dataclass(frozen=True)
class Turned:
    shard: str
    after: str | None  # the checkpoint to record: every change up to it is acknowledged
    iterator: str | None  # where the next turn goes on (None with ``finished``)
    records: int = 0
    counts: Mapping[str, int] = field(default_factory=dict)  # written, by operation type
    finished: bool = False  # the shard is closed and read to its end
    backlog: bool = False
    throttled: bool = False
    expired: bool = False  # the iterator was too old: open a new one after the checkpoint
    oldest: float | None = None  # creation time of the oldest record read (epoch seconds)
    newest: float | None = None  # and of the newest
    # After several turns in a row (a stint): the shard's pacing where they ended.
    idle_polls: int | None = None
    throttles: int | None = None

    @property
    def wrote(self) -> bool:
        """Something to record: records written, or the shard's end reached."""
        return self.records > 0 or self.finished


def created_at(record: Mapping[str, Any]) -> float | None:
    """A record's ApproximateCreationDateTime, in epoch seconds (None when absent)."""
    value = record.get("dynamodb", {}).get("ApproximateCreationDateTime")
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _no_lag(shard: str, created: float | None) -> None:
    pass


def _no_read_ahead(shard: str, iterator: str) -> None:
    pass


@dataclass(frozen=True)
class TurnTools:
    pages: Pages
    write: Callable[[Sequence[dict[str, Any]]], None]  # returns once all are acknowledged
    renames: Mapping[str, str]
    table: str  # the source table, named in errors
    behind: Callable[[str, float | None], None] = _no_lag  # records in hand, not written
    ahead: Callable[[str, str], None] = _no_read_ahead  # (shard, iterator): read on meanwhile


def take_turn(
    tools: TurnTools, turn: ShardTurn, read: Callable[[str], Read] | None = None
) -> Turned:
    """One turn of ``turn.shard``; ``read``: how to read its first pages, when they
    were read ahead (else ``tools.pages.read``)."""
    return take_turns(tools, [(turn, read)])[0]


def take_turns(
    tools: TurnTools, turns: Sequence[tuple[ShardTurn, Callable[[str], Read] | None]]
) -> list[Turned]:
    """Turns of several shards, their changes written as one write when no key is in
    two of them (a short page each makes whole batches together), else each in turn."""
    read = [_read(tools, turn, how) for turn, how in turns]
    pending = [r for r in read if isinstance(r, _Read) and r.to_write]
    together = one_write([r.changes for r in pending])
    if together is not None and pending:
        tools.write([c.request for c in together])
    else:
        for one in pending:
            tools.write([c.request for c in one.changes])
    turned = [r if isinstance(r, Turned) else r.turned() for r in read]
    for r in pending:
        tools.behind(r.turn.shard, None)  # caught up with what was read
    return turned


@dataclass(frozen=True)
class _Read:
    """A turn's records read, and the changes they ask for, not yet written."""

    turn: ShardTurn
    got: Read
    changes: list[Change]  # the last change of each key

    @property
    def to_write(self) -> bool:
        return bool(self.got.records) or self.got.next_iterator is None

    def turned(self) -> Turned:
        turn, records = self.turn, self.got.records
        after = records[-1]["dynamodb"]["SequenceNumber"] if records else turn.after
        return Turned(
            *(turn.shard, after, self.got.next_iterator, len(records)),
            counts=count_by_type(self.changes),
            finished=self.got.next_iterator is None,
            backlog=self.got.backlog,
            throttled=self.got.throttled,
            oldest=created_at(records[0]) if records else None,
            newest=created_at(records[-1]) if records else None,
        )


def _read(tools: TurnTools, turn: ShardTurn, read: Callable[[str], Read] | None) -> _Read | Turned:
    try:
        iterator = turn.iterator or tools.pages.reader.iterator(turn.shard, turn.after)
        got = (read or tools.pages.read)(iterator)
    except IteratorExpired:
        return Turned(turn.shard, turn.after, None, expired=True)
    records = got.records
    if got.backlog and got.next_iterator and not got.throttled:
        tools.ahead(turn.shard, got.next_iterator)  # the next pages, read while these are written
    tools.behind(turn.shard, created_at(records[0]) if records else None)  # in hand, not written
    changes = [change_of(record, tools.renames, tools.table) for record in records]
    return _Read(turn, got, last_change_per_key(changes))
