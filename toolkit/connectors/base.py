"""The seam between a migration and what it moves from and into.

A ``Source`` describes itself, lists its parts in ordered waves, reads a part's
pages from a position and names the live table whose stream is replayed. A
``Target`` checks and prepares itself, writes a part's pages and finishes. Neither
writes the run's state: they return positions, counts and facts, and the driver
records them (as Kafka Connect's runtime commits offsets, not its tasks).

A part's reader and writer are opened in whatever process copies it (a thread of
the driver, a Spark task), from the picklable ``CopyJob``; everything else runs in
the driver.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from toolkit.config import MigrationConfig
from toolkit.wire.connections import Connection, Section
from toolkit.wire.retry import RetryPolicy
from toolkit.wire.stream_setup import Followed, StreamPlan

Request = dict[str, Any]  # BatchWriteItem's PutRequest or DeleteRequest
Recorded = Callable[[str], "str | None"]  # a value the run's state holds, by name
Connect = Callable[[str, Section], Connection]  # a side's connection (the driver's counts failures)


@dataclass(frozen=True)
class Claim:
    """A value the state must hold for this run: recorded once, then checked."""

    name: str
    value: str
    hint: str


@dataclass(frozen=True)
class Part:
    """One unit of the copy: a scan segment, or a data file of an export.

    ``group`` is None for a scan segment, recorded by its ``number``; else the part is
    recorded as the file ``key`` of that group (an export's ARN or id), whole.
    """

    name: str  # as the log names it
    number: int
    group: str | None = None
    key: str = ""
    resumable: bool = True  # each page's position can be recorded and resumed from
    detail: Any = None  # what the source needs to read it (picklable)
    skipped: bool = False  # copied by someone else (a Migrator savepoint's skipSegments)


@dataclass(frozen=True)
class Page:
    requests: list[Request]
    size: int  # bytes as the source counts them
    position: Any  # where the part goes on after this page; None at its end


@dataclass(frozen=True)
class Described:
    """What the source said of itself, before anything was touched."""

    description: dict[str, Any]  # DescribeTable's shape (an export's tableDescription)
    ttl: str | None  # the TTL attribute: expired items are not copied
    key_names: tuple[str, ...]
    live: tuple[Connection, dict[str, Any]] | None  # the live table, and its description
    parts_named: str  # how the copy's opening line names the parts ("segments")
    what: str  # the copy's opening line, up to "into" (how it names what is copied)


@dataclass(frozen=True)
class CopyJob:
    """Everything a process needs to copy parts: picklable, no connection in it."""

    config: MigrationConfig
    source_table: str  # names an item in errors
    key_names: tuple[str, ...]  # the source's key attributes
    target_keys: tuple[str, ...]  # the target's key attributes, to name a failed write
    ttl_attribute: str | None
    workers: int
    read_units: float | None  # the run's whole budgets, shared out by the engine
    write_units: float | None
    patience: float  # seconds of retrying before a request's failure is final
    page_items: int | None = None  # Scan's Limit; None lets the server fill 1 MB pages
    renames: Mapping[str, str] = field(default_factory=dict)


class Reader(Protocol):
    def pages(self, part: Part, position: Any) -> Iterator[Page]:
        """The part's pages from ``position`` (None: its start) to its end."""
        ...


class Sink(Protocol):
    def write(self, requests: list[Request]) -> int | None:
        """Acknowledged on return; the bytes as the target counts them, or None."""
        ...

    def close(self) -> Any:
        """The part is whole and durable: its detail for the state (None if nothing)."""
        ...


class Writer(Protocol):
    def part(self, part: Part) -> AbstractContextManager[Sink]: ...


class Source(Protocol):
    name: str  # the table (or export) the log names
    parts_at_once: int | None  # a default when maxMapTasks is not set (None: every part)

    def describe(self) -> Described: ...
    def claims(self, described: Described) -> list[Claim]: ...
    def waves(self, described: Described) -> list[list[Part]]: ...
    def plan_stream(
        self, described: Described, followed: Followed, accept_existing: bool
    ) -> StreamPlan: ...
    def reader(
        self, job: CopyJob, share: float, connections: int, policy: RetryPolicy
    ) -> AbstractContextManager[Reader]: ...


class Target(Protocol):
    name: str
    takes_changes: bool  # a stream's changes can be replayed into it

    def check(self, described: Described) -> Any: ...
    def claims(self) -> list[Claim]: ...
    def begin(self, recorded: Recorded) -> dict[str, str]: ...
    def prepare(self, described: Described, checked: Any, stop: threading.Event) -> None: ...
    def address(self, part: Part) -> Part: ...
    def writer(
        self, job: CopyJob, share: float, connections: int, policy: RetryPolicy
    ) -> AbstractContextManager[Writer]: ...
    def changes_writer(self, job: CopyJob, connections: int, policy: RetryPolicy) -> Any:
        """The replay's writer (a BatchWriter), for a target that takes changes."""
        ...

    def finish(self, described: Described, files: Mapping[str, tuple[int, Any]]) -> None: ...


def whole(parts: Sequence[Part]) -> bool:
    """Whether no part of these is resumed within (each is recorded whole)."""
    return not any(part.resumable for part in parts)
