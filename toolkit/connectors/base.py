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
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from toolkit.config import MigrationConfig
from toolkit.wire.connections import Connection, Section
from toolkit.wire.retry import RetryPolicy
from toolkit.wire.stream_setup import Followed, StreamPlan
from toolkit.wire.writer import BatchWriter

Request = dict[str, Any]  # BatchWriteItem's PutRequest or DeleteRequest
Recorded = Callable[[str], "str | None"]  # a value the run's state holds, by name
Connect = Callable[[str, Section], Connection]  # a side's connection (the driver's counts failures)


@dataclass(frozen=True)
class Claim:
    """A value the state must hold for this run: recorded once, then checked."""

    name: str
    value: str
    hint: str  # what to do when a run brings another value


ANOTHER_TABLE = "use another --state for another table"


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

    def describe(self) -> Described:
        """Read and check everything the run needs of the source; nothing is written."""
        ...

    def claims(self, described: Described) -> list[Claim]:
        """What the state must keep the same for a resumed run (the table, its segments)."""
        ...

    def waves(self, described: Described) -> list[list[Part]]:
        """Every part, in waves copied one after the other."""
        ...

    def plan_stream(
        self, described: Described, followed: Followed, accept_existing: bool
    ) -> StreamPlan:
        """The stream to replay (its live table is ``described.live``), or a refusal."""
        ...

    def reader(
        self, job: CopyJob, share: float, connections: int, policy: RetryPolicy
    ) -> AbstractContextManager[Reader]:
        """A reader of parts for one process, with ``share`` of the read budget."""
        ...


class Target(Protocol):
    name: str  # the table (or path) the log names
    takes_changes: bool  # a stream's changes can be replayed into it
    local_files: bool  # parts are written into a folder of the machine that copies them

    def check(self, described: Described) -> Any:
        """Reach the target and refuse what cannot work, before the state file exists;
        what it learnt goes to ``prepare``."""
        ...

    def claims(self) -> list[Claim]: ...

    def begin(self, recorded: Recorded) -> dict[str, str]:
        """Before anything is written: the facts to record for a new run (or refuse it)."""
        ...

    def prepare(self, described: Described, checked: Any, stop: threading.Event) -> None:
        """Create or check what the parts are written into."""
        ...

    def address(self, part: Part) -> Part:
        """The part as the state records it (a target that keeps parts whole says so)."""
        ...

    def writer(
        self, job: CopyJob, share: float, connections: int, policy: RetryPolicy
    ) -> AbstractContextManager[Writer]:
        """A writer of parts for one process, with ``share`` of the write budget."""
        ...

    def changes_writer(self, job: CopyJob, connections: int, policy: RetryPolicy) -> BatchWriter:
        """The replay's writer, on a target that takes changes."""
        ...

    def finish(self, described: Described, files: Mapping[str, tuple[int, Any]]) -> None:
        """Every part is copied: write what closes the copy (an export's manifests)."""
        ...
