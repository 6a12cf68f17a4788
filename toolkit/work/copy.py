"""Copy one part: the snapshot's unit of work, the same for every source, target and engine.

A page is read from the source, its expired items dropped, its attributes renamed,
written to the target and acknowledged, and only then reported to ``on_page`` (the
embedded engine checkpoints a resumable part's page there; a Spark task reports its
part when it ends). At a part's last page the target closes it (an export target
uploads its data file): only then is the part done. Nothing here knows which
source, target or engine it runs for.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from toolkit.connectors.base import CopyJob, Part, Reader, Request, Writer
from toolkit.logic.items import RenameClash, apply_renames, key_of, ttl_expired


@dataclass(frozen=True)
class PartStart:
    """Where a part's copy begins: its start, or after the last recorded page."""

    part: Part
    position: Any = None


@dataclass(frozen=True)
class PageCopied:
    part: Part
    position: Any  # None: the part is done
    items: int  # live items written
    size: int  # bytes of the page, as the target (else the source) counts them
    expired: int  # items skipped: their TTL has passed


@dataclass
class PartCopied:
    """A whole part's copy (or what of it ran before a stop): the sum of its pages."""

    part: Part
    done: bool = False
    items: int = 0
    size: int = 0
    expired: int = 0
    detail: Any = None  # what the target said when it closed the part (a data file's MD5)

    def add(self, page: PageCopied) -> None:
        self.items += page.items
        self.size += page.size
        self.expired += page.expired


@dataclass(frozen=True)
class CopyTools:
    """What one process needs to copy parts: a reader of the source, a writer of the target."""

    reader: Reader
    writer: Writer
    stop: threading.Event = field(default_factory=threading.Event)
    now: Callable[[], float] = time.time


def copy_part(
    job: CopyJob,
    start: PartStart,
    tools: CopyTools,
    on_page: Callable[[PageCopied], None] = lambda page: None,
) -> PartCopied:
    """Copy the part from ``start`` to its end, or until ``tools.stop`` is set."""
    part = start.part
    copied = PartCopied(part)
    with tools.writer.part(part) as sink:
        for page in tools.reader.pages(part, start.position):
            if tools.stop.is_set():
                break  # the rest of the part is copied by the next run
            now = tools.now()
            live = [r for r in page.requests if not _expired(r, job.ttl_attribute, now)]
            written = sink.write([_renamed(job, r) for r in live])
            size = page.size if written is None else written
            expired = len(page.requests) - len(live)
            copied.add(report := PageCopied(part, page.position, len(live), size, expired))
            if page.position is None:
                copied.detail, copied.done = sink.close(), True
            on_page(report)
    return copied


def _expired(request: Request, attribute: str | None, now: float) -> bool:
    item = request.get("PutRequest", {}).get("Item")
    return item is not None and ttl_expired(item, attribute, now)


def _renamed(job: CopyJob, request: Request) -> Request:
    if not job.renames:
        return request
    if "DeleteRequest" in request:
        return {
            "DeleteRequest": {"Key": apply_renames(request["DeleteRequest"]["Key"], job.renames)}
        }
    item = request["PutRequest"]["Item"]
    try:
        return {"PutRequest": {"Item": apply_renames(item, job.renames)}}
    except RenameClash as clash:  # raised before the page is written or checkpointed
        raise clash.at(job.source_table, key_of(item, job.key_names)) from None
