"""`toolkit migrate` into `target.type: dynamodb-s3-export`: a table written as an export.

The source is scanned in parallel segments; each segment becomes one data file,
data/NNNNN.json.gz of {"Item": ...} lines in DYNAMODB_JSON, uploaded once whole and
only then recorded in the state (a restart scans the unfinished segments again and
overwrites their files). When every segment is written, manifest-files.json (item
count, MD5 and ETag of each file) and manifest-summary.json are written last, so an
export without its summary is an unfinished one. The layout is the Scylla Migrator's
(files right under target.path), with AWS's keys from the bucket's root: it reads
back as a `dynamodb-s3-export` source, and DynamoDB's Import from S3 takes its
data/ prefix. A Scan is not a point in time: exportTime is when the scan started.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from tempfile import SpooledTemporaryFile
from typing import Any

import orjson

from toolkit.config import MigrationConfig
from toolkit.config.exports import ExportTarget
from toolkit.driver.estimate import read_budget
from toolkit.driver.migration import MigrateOptions, MigrationResult
from toolkit.driver.observers import SnapshotObserver, StateNotes
from toolkit.engines.workers import wait_for_workers
from toolkit.errors import UserError
from toolkit.logic.export_format import DataFile, files_manifest, item_line, md5_base64, show_time
from toolkit.logic.items import RenameClash, apply_renames, ttl_expired
from toolkit.logic.sizing import default_segments, segments_at_once
from toolkit.logic.table_schema import create_table_request
from toolkit.wire.connections import connect
from toolkit.wire.dataplane import DataPlane
from toolkit.wire.retry import RetryPolicy, StopRequested, call_with_retries, stoppable
from toolkit.wire.s3_store import LocalStore, Store, s3_store
from toolkit.wire.schema import describe_source, ttl_attribute
from toolkit.wire.throughput import CapacityBudget
from toolkit.work.snapshot import SnapshotProgress, SnapshotSummary
from toolkit.work.state import RunState

log = logging.getLogger("migrator")
SPOOL_BYTES = 64 * 1024 * 1024  # a data file is kept in memory up to this size


@dataclass(frozen=True)
class _Export:
    store: Store
    prefix: str  # keys of the export start with it ("" for a local folder)
    absolute: bool  # keys in the manifests from the bucket's root (S3), or relative (a folder)
    export_id: str
    started: datetime

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def named(self, name: str) -> str:
        return self.key(name) if self.absolute else name


def run_export_target(
    options: MigrateOptions, progress: SnapshotProgress, stop: threading.Event
) -> MigrationResult:
    config = options.config
    target = config.target.s3_export
    assert target is not None
    source = connect("source", config.source, options.metrics)
    description = describe_source(source.control(), config.source.table, source.where)
    store = _store(config, target)
    _check_path(store, target)
    segments = config.source.scan_segments or default_segments(description)
    state = RunState(options.state_path)
    progress = SnapshotObserver(progress, options.metrics, StateNotes(state))
    try:
        state.claim("source table", config.source.table, "use another --state for another table")
        state.claim("target export", config.target.table, "use another --state for another path")
        state.claim("scan segments", str(segments), "keep scanSegments, or use a new --state")
        if state.get("snapshot") == "done":
            log.info("The export was written by an earlier run; nothing to copy")
            return MigrationResult(None, None)
        export = _begin(state, store, target)
        workers = segments_at_once(config.source.max_map_tasks, None, segments)
        renames = {r.source_name: r.target_name for r in config.renames}
        writer = _SegmentWriter(
            export,
            renames,
            source.data_plane(workers),
            config.source.table,
            segments,
            ttl_attribute(source.control(), config.source.table, source.where),
            CapacityBudget(read_budget(config.source, description)),
            stoppable(options.retry, stop),
            state,
            progress,
            stop,
        )
        log.info(
            "Writing table %s as an export to %s: %d segments, %d at a time",
            *(config.source.table, store.url(export.key("")), segments, workers),
        )
        summary = writer.run(workers)
        if summary.complete:
            _finish(export, state, renamed_description(description, renames))
            state.put("snapshot", "done")
            log.info(
                "Done: the export's summary is %s", store.url(export.key("manifest-summary.json"))
            )
        return MigrationResult(summary, None)
    finally:
        state.close(drop_if_untouched=True)


def _store(config: MigrationConfig, target: ExportTarget) -> Store:
    if target.bucket is None:
        return LocalStore(Path(target.prefix))
    return s3_store("target", config.target, target.s3, target.bucket)


def _check_path(store: Store, target: ExportTarget) -> None:
    """Before the state file is made: a bucket that answers, or a path that can be a folder."""
    if target.bucket is not None:
        store.holds_any(f"{target.prefix}/" if target.prefix else "")
        return
    folder = Path(target.prefix)
    existing = next(p for p in (folder, *folder.parents) if p.exists() or p == p.parent)
    if not existing.is_dir():
        raise UserError(
            f"target.path {folder}: {existing} is a file, not a folder; give a folder's path"
        )


def _begin(state: RunState, store: Store, target: ExportTarget) -> _Export:
    """The export's id and start, recorded once; a path that holds files is refused."""
    prefix = target.prefix if target.bucket else ""
    started = state.get("export started")
    if started is None:
        if store.holds_any(f"{prefix}/" if prefix else ""):
            raise UserError(
                f"target.path {store.url(prefix)} already holds files; give a new path (an "
                "export is never written over another)"
            )
        now = datetime.now(UTC)
        started = now.isoformat()
        state.put("export started", started)
        state.put("export id", f"{int(now.timestamp() * 1000):014d}-{uuid.uuid4().hex[:8]}")
    export_id = state.get("export id")
    assert export_id is not None
    moment = datetime.fromisoformat(started)
    return _Export(store, prefix, target.bucket is not None, export_id, moment)


@dataclass
class _SegmentWriter:
    export: _Export
    renames: dict[str, str]
    plane: DataPlane
    table: str
    segments: int
    ttl: str | None
    budget: CapacityBudget
    policy: RetryPolicy
    state: RunState
    progress: SnapshotProgress
    stop: threading.Event

    def run(self, workers: int) -> SnapshotSummary:
        started = time.monotonic()
        done = self.state.export_files_done(self.export.export_id)
        todo = [s for s in range(self.segments) if _data_name(s) not in done]
        self.progress.started(self.segments, len(done), sum(n for n, _ in done.values()))
        self._totals = [0, 0, 0]  # items, bytes, expired
        self._lock = threading.Lock()
        try:
            with ThreadPoolExecutor(workers, thread_name_prefix="segment") as pool:
                wait_for_workers([pool.submit(self._segment, s) for s in todo], self.stop)
        except StopRequested:
            pass  # the segment in flight is not recorded: the next run scans it again
        finally:
            self.progress.finished()
        complete = len(self.state.export_files_done(self.export.export_id)) == self.segments
        items, size, expired = self._totals
        return SnapshotSummary(items, size, time.monotonic() - started, expired, complete)

    def _segment(self, segment: int) -> None:
        with SpooledTemporaryFile(SPOOL_BYTES) as spool:
            counts = self._scan_into(segment, spool)
            if counts is None:
                return  # asked to stop
            spool.seek(0)
            digest = hashlib.md5(usedforsecurity=False)
            while chunk := spool.read(1 << 20):
                digest.update(chunk)
            spool.seek(0)
            name = _data_name(segment)
            etag = self.export.store.put(self.export.key(name), spool)  # type: ignore[arg-type]
        md5 = base64.b64encode(digest.digest()).decode()
        self.state.export_file_done(
            self.export.export_id, name, counts[0], {"md5": md5, "etag": etag, "bytes": counts[1]}
        )
        self.progress.segment_done()

    def _renamed(self, item: dict[str, Any]) -> dict[str, Any]:
        try:
            return apply_renames(item, self.renames)
        except RenameClash as clash:  # before its data file is written or recorded
            raise clash.at(self.table, {}) from None

    def _scan_into(self, segment: int, spool: Any) -> tuple[int, int] | None:
        items = size = 0
        start_key: dict[str, Any] | None = None
        with gzip.GzipFile(fileobj=spool, mode="wb", mtime=0) as out:
            while True:
                if self.stop.is_set():
                    return None
                answer = self._scan(segment, start_key)
                now = time.time()
                page = answer.body.get("Items", [])
                live = [i for i in page if not ttl_expired(i, self.ttl, now)]
                # Bytes as written, uncompressed: what loading the export counts too.
                written = sum(out.write(item_line(self._renamed(item))) for item in live)
                items, size = items + len(live), size + written
                with self._lock:
                    self._totals[0] += len(live)
                    self._totals[1] += written
                    self._totals[2] += len(page) - len(live)
                self.progress.page_copied(len(live), written, len(page) - len(live))
                start_key = answer.body.get("LastEvaluatedKey")
                if start_key is None:
                    return items, size

    def _scan(self, segment: int, start_key: dict[str, Any] | None) -> Any:
        request: dict[str, Any] = {"TableName": self.table, "Segment": segment}
        request["TotalSegments"] = self.segments
        if start_key is not None:
            request["ExclusiveStartKey"] = start_key
        if self.budget.limited:
            request["ReturnConsumedCapacity"] = "TOTAL"
        self.budget.wait_turn()
        answer = call_with_retries(lambda: self.plane.call("Scan", request), self.policy)
        used = answer.body.get("ConsumedCapacity")
        if used:
            self.budget.spend(float(used.get("CapacityUnits", 0)))
        return answer


def renamed_description(description: dict[str, Any], renames: dict[str, str]) -> dict[str, Any]:
    """The key schema and attribute definitions as the export's items name them."""
    request = create_table_request(
        description, description["TableName"], "PAY_PER_REQUEST", renames
    )
    return {**description, **{k: request[k] for k in ("KeySchema", "AttributeDefinitions")}}


def _finish(export: _Export, state: RunState, description: dict[str, Any]) -> None:
    done = state.export_files_done(export.export_id)
    files = [
        DataFile(export.named(name), items, detail["md5"], detail["etag"] or None)
        for name, (items, detail) in sorted(done.items())
    ]
    manifest = files_manifest(files)
    _put(export, "manifest-files.json", manifest)
    table_arn = description.get("TableArn", description["TableName"])
    summary = {
        "version": "2020-06-30",
        "exportArn": f"{table_arn}/export/{export.export_id}",
        "startTime": show_time(export.started),
        "endTime": show_time(datetime.now(UTC)),
        "tableArn": description.get("TableArn"),
        "tableId": description.get("TableId"),
        "exportTime": show_time(export.started),
        "manifestFilesS3Key": export.named("manifest-files.json"),
        "manifestFilesMd5Checksum": md5_base64(manifest),
        "billedSizeBytes": sum(detail["bytes"] for _, detail in done.values()),
        "itemCount": sum(items for items, _ in done.values()),
        "outputFormat": "DYNAMODB_JSON",
        "exportType": "FULL_EXPORT",
        "tableKeySchema": description["KeySchema"],
        "tableAttributeDefinitions": description["AttributeDefinitions"],
    }
    if export.absolute:
        summary |= {"s3Bucket": getattr(export.store, "bucket", None), "s3Prefix": export.prefix}
    _put(export, "manifest-summary.json", orjson.dumps(summary))


def _put(export: _Export, name: str, body: bytes) -> None:
    export.store.put(export.key(name), BytesIO(body))


def _data_name(segment: int) -> str:
    return f"data/{segment:05d}.json.gz"
