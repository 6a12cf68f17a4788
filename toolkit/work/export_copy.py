"""Copy a DynamoDB export's data files from S3 into the target, in parallel, resumable.

Each worker owns one data file at a time: it is read and its checksum checked, its
lines are turned into BatchWriteItem requests and written a chunk at a time (the
item count is checked at its end); only once every write was acknowledged is the
file recorded as done in the state. A restart copies the unfinished files again,
whole (full-image puts and deletes make that safe).
"""

from __future__ import annotations

import gzip
import io
import logging
import threading
import time
import zlib
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import orjson

from toolkit.engines.workers import wait_for_workers
from toolkit.errors import TerminalError
from toolkit.logic.export_files import data_folder, file_problem
from toolkit.logic.export_format import (
    DataFile,
    ExportFormatError,
    ExportSummary,
    check_checksum,
    parse_line,
    requests_of,
)
from toolkit.logic.items import RenameClash, apply_renames, key_of, ttl_expired
from toolkit.wire.retry import StopRequested
from toolkit.wire.s3_store import Store
from toolkit.work.snapshot import SnapshotProgress, SnapshotSummary
from toolkit.work.state import RunState
from toolkit.work.writer import BatchWriter

log = logging.getLogger("migrator")
CHUNK = 1000  # requests handed to the writer at a time: progress and stop checks between


@dataclass(frozen=True)
class ExportPart:
    """One export of the run and its data files."""

    summary: ExportSummary
    files: Sequence[DataFile]


@dataclass(frozen=True)
class CopyJob:
    parts: Sequence[ExportPart]  # the FULL export first, then INCREMENTAL ones in order
    key_names: Sequence[str]  # the source's key attributes
    renames: Mapping[str, str]
    workers: int
    ttl_attribute: str | None = None  # the live table's: expired items are skipped, as Scan's


@dataclass
class ExportCopier:
    job: CopyJob
    store: Store
    writer: BatchWriter
    state: RunState
    progress: SnapshotProgress
    stop: threading.Event

    def run(self) -> SnapshotSummary:
        started = time.monotonic()
        done = {
            p.summary.export_arn: self.state.export_files_done(p.summary.export_arn)
            for p in self.job.parts
        }
        total = sum(len(p.files) for p in self.job.parts)
        finished = sum(len(d) for d in done.values())
        self.progress.started(total, finished, sum(n for d in done.values() for n, _ in d.values()))
        self._counts = [0, 0, 0]  # items, bytes, expired
        self._lock = threading.Lock()
        try:
            for part in self.job.parts:  # in order: an incremental export after the one before
                todo = [f for f in part.files if f.key not in done[part.summary.export_arn]]
                with ThreadPoolExecutor(self.job.workers, thread_name_prefix="export") as pool:
                    futures = [pool.submit(self._copy_file, part.summary, f) for f in todo]
                    wait_for_workers(futures, self.stop)
                if self.stop.is_set():
                    break
        except StopRequested:
            pass  # asked to stop while retrying: the unfinished file is not recorded
        finally:
            self.progress.finished()
        complete = all(
            len(self.state.export_files_done(p.summary.export_arn)) >= len({f.key for f in p.files})
            for p in self.job.parts
        )
        seconds = time.monotonic() - started
        items, size, expired = self._counts
        return SnapshotSummary(items, size, seconds, expired, complete)

    def _copy_file(self, summary: ExportSummary, data_file: DataFile) -> None:
        if self.stop.is_set():
            return
        where = self.store.url(data_file.key)
        raw = fetch(self.store, data_file)
        lines = written = expired = size = 0
        for docs, batch_size in doc_batches(raw, summary, where):
            lines, size = lines + len(docs), size + batch_size
            changes = requests_of(docs, summary.incremental, self.job.key_names, where)
            keys = self.job.key_names
            live = [_renamed(r, self.job.renames, keys) for r in changes if not self._expired(r)]
            skipped = len(changes) - len(live)
            for start in range(0, len(live), CHUNK):
                if self.stop.is_set():
                    return  # not recorded: the next run copies this file again
                chunk = live[start : start + CHUNK]
                self.writer.write(chunk)
                # The batch's bytes and expired items go with its first chunk.
                first = start == 0
                self.progress.page_copied(len(chunk), batch_size * first, skipped * first)
            written, expired = written + len(live), expired + len(changes) - len(live)
        # Checked at the end, the file being read as it is written; a file whose count is
        # off is not recorded as done, so the run stops and a rerun meets it again.
        if data_file.item_count is not None and lines != data_file.item_count:
            raise ExportFormatError(
                f"the data file {where} holds {lines} lines, but manifest-files.json "
                f"says {data_file.item_count}: the export is damaged"
            )
        self.state.export_file_done(summary.export_arn, data_file.key, written)
        with self._lock:
            self._counts[0] += written
            self._counts[1] += size
            self._counts[2] += expired
        self.progress.segment_done()

    def _expired(self, request: dict[str, Any]) -> bool:
        item = request.get("PutRequest", {}).get("Item")
        return item is not None and ttl_expired(item, self.job.ttl_attribute, time.time())


def fetch(store: Store, data_file: DataFile) -> bytes:
    """A data file as stored (gzipped), checked against its checksum before any use."""
    raw = store.get(data_file.key)
    check_checksum(raw, data_file.md5, f"the data file {store.url(data_file.key)}")
    return raw


def doc_batches(
    raw: bytes, summary: ExportSummary, where: str
) -> Iterator[tuple[list[dict[str, Any]], int]]:
    """A data file's lines, parsed, CHUNK at a time (memory stays bounded by the chunk),
    with their bytes as uncompressed DynamoDB JSON: what a table written as an export
    counts, so that an export and its load say the same (an Ion line counts as the
    JSON line it would be).

    An incremental file comes whole, as one batch: it keeps one change per key.
    """
    batch: list[dict[str, Any]] = []
    size = 0
    ion = summary.output_format == "ION"
    for line in _lines(raw, where):
        doc = parse_line(line, summary.output_format, where)
        batch.append(doc)
        size += len(orjson.dumps(doc)) + 1 if ion else len(line)
        if len(batch) >= CHUNK and not summary.incremental:
            yield batch, size
            batch, size = [], 0
    if batch:
        yield batch, size


def check_files(store: Store, part: ExportPart, in_place: bool) -> None:
    """Every data file of an export, as one listing of their folder shows it, before any
    file is read: present, not too short for its items, its ETag (see export_files).

    ``in_place``: the export is read from the bucket it was written to.
    """
    if not part.files:
        return
    folder = data_folder(f.key for f in part.files)
    stored = store.listing(folder)
    if stored is None:
        log.warning(
            "The credentials may not list %s (s3:ListBucket), so its data files are "
            "checked only as each is read",
            store.url(folder),
        )
        return
    problems = [
        (f.key, problem)
        for f in part.files
        if (problem := file_problem(f, stored.get(f.key), in_place)) is not None
    ]
    if not problems:
        return
    key, problem = problems[0]
    more = f" ({len(problems) - 1} more of its data files too)" if len(problems) > 1 else ""
    raise ExportFormatError(
        f"the data file {store.url(key)} {problem}{more}: the export "
        f"{store.url(part.summary.key)} is incomplete or damaged; copy its files again "
        "from the original, or take a new export"
    )


def first_item(store: Store, summary: ExportSummary, data_file: DataFile) -> dict[str, Any] | None:
    """The first item (or changed key) of a data file, None when it is empty."""
    where = store.url(data_file.key)
    for line in _lines(fetch(store, data_file), where):
        item = parse_line(line, summary.output_format, where).get(
            "Keys" if summary.incremental else "Item"
        )
        return item if isinstance(item, dict) else {}
    return None


def _lines(raw: bytes, where: str) -> Iterator[bytes]:
    if not raw:
        return  # DynamoDB writes an empty file for an empty partition
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as text:
            for line in text:
                if line.strip():
                    yield line
    except (OSError, EOFError, zlib.error) as error:
        raise TerminalError(f"the data file {where} is not gzip ({error})") from None


def _renamed(
    request: dict[str, Any], renames: Mapping[str, str], key_names: Sequence[str]
) -> dict[str, Any]:
    if not renames:
        return request
    if "DeleteRequest" in request:
        return {"DeleteRequest": {"Key": apply_renames(request["DeleteRequest"]["Key"], renames)}}
    item = request["PutRequest"]["Item"]
    try:
        return {"PutRequest": {"Item": apply_renames(item, renames)}}
    except RenameClash as clash:  # before its data file is written or recorded as done
        raise clash.at("", key_of(item, key_names)) from None
