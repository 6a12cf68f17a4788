"""`toolkit migrate` from a DynamoDB export in S3, then (streamChanges) the live table's stream.

Everything is read and checked before any table is touched: the manifests and
their checksums, the order of the exports, every data file as one listing per
export shows it (present, not too short, its ETag), the key schema against the
first item of the export and against the live table, and the export's time against
the stream's creation (changes made between an export and a later stream would be
in neither). Then the target is created or checked, the data files are copied in
parallel, and the live table's stream is replayed with the same code as a table
source. The stream is expected to exist already: it has to predate the export.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import orjson

from toolkit.config import SourceConfig
from toolkit.config.exports import ExportSource
from toolkit.driver.checks import check_target
from toolkit.driver.migrate import _enable, _prepare_target, _replay, _stopped
from toolkit.driver.migration import MigrateOptions, MigrationResult, _Run
from toolkit.driver.observers import watched
from toolkit.errors import UserError
from toolkit.logic.export_format import (
    ExportFormatError,
    check_checksum,
    key_problem,
    order_exports,
    parse_files,
    parse_summary,
    show_time,
)
from toolkit.logic.table_schema import check_renames, key_schema, show
from toolkit.wire.connections import Connection, connect
from toolkit.wire.retry import stoppable
from toolkit.wire.s3_store import Store, s3_store
from toolkit.wire.schema import describe_source, ensure_target, ttl_attribute
from toolkit.wire.service_errors import translated
from toolkit.wire.stream_setup import RETENTION_HOURS, USABLE_VIEWS, StreamPlan
from toolkit.work.export_copy import CopyJob, ExportCopier, ExportPart, check_files, first_item
from toolkit.work.replay import ReplayStatus
from toolkit.work.snapshot import SnapshotProgress, SnapshotSummary
from toolkit.work.state import RunState

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient

log = logging.getLogger("migrator")


def run_export_migration(
    options: MigrateOptions, progress: SnapshotProgress, status: ReplayStatus, stop: threading.Event
) -> MigrationResult:
    config = options.config
    export = config.source.s3_export
    assert export is not None
    store = s3_store("source", config.source, export.s3, export.bucket)
    parts = load_exports(store, export)
    description = dict(export.description)
    live = _live_table(config.source, description) if config.source.table else None
    check_first_item(store, parts, description)
    ttl = ttl_attribute(live[0].control(), config.source.table, live[0].where) if live else None
    keys = [k.name for k in key_schema(description)]
    table = config.source.table or "(the exported one)"
    check_renames(list(config.rename_map.items()), keys, ttl, table, config.origin)
    target = connect("target", config.target, options.metrics)
    tablets = check_target(target, config, description, live)
    state = RunState(options.state_path)
    progress, status = watched(progress, status, state, options.metrics)
    options = replace(options, retry=stoppable(options.retry, stop))
    try:
        # Without a live table, the run never reads a source table: the target stands in.
        source = live[0] if live else target
        run = _Run(options, source, target, description, state, progress, stop, tablets)
        plan = _claim_and_plan(run, parts, live[1] if live else None)
        if _stopped(stop, "before any table was touched"):
            return MigrationResult(None, None)
        state.touching()
        if live:
            _prepare_target(run, ttl)
        else:
            _create_target(run)
        if _stopped(stop, "while preparing the target table: the source's stream was not touched"):
            return MigrationResult(None, None)
        if plan is not None:
            _enable(run, plan)
        snapshot = _copy(run, store, parts, ttl)
        if plan is None or stop.is_set() or (snapshot is not None and not snapshot.complete):
            return MigrationResult(snapshot, None)
        log.info("Done loading the export. Starting to transfer changes")
        return MigrationResult(snapshot, _replay(run, status))
    finally:
        state.close(drop_if_untouched=True)


def _claim_and_plan(
    run: _Run, parts: list[ExportPart], live: dict[str, Any] | None
) -> StreamPlan | None:
    # Exports added to a finished load would undo newer changes: a new list, a new state.
    exports = " ".join(p.summary.export_arn for p in parts)
    run.state.claim("source exports", exports, "use another --state for other exports")
    hint = "use another --state for another table"
    run.state.claim("target table", run.config.target.table, hint)
    if not run.config.target.stream_changes:
        return None
    assert live is not None  # checked by the config
    until = parts[-1].summary.covered_until
    return stream_plan(live, run.state, until, run.source.streams(), run.source.where)


def _create_target(run: _Run) -> None:
    """Create or check the target table; no live table, so no TTL attribute to copy."""
    target = run.config.target
    ensure_target(
        *(run.description, run.target.control(), target.table, target.billing_mode, run.renames),
        run.target.where,
        target.write_isolation,
        run.stop,
        run.tablets,
    )


def load_exports(store: Store, export: ExportSource) -> list[ExportPart]:
    """Every listed export's summary and file list, checked and put in order."""
    parts: dict[str, ExportPart] = {}
    for key in export.manifest_keys:
        raw = _read(store, key, "manifest")
        summary = parse_summary(raw, key, store.url(key))
        doc = orjson.loads(raw)
        files_raw = _read(store, summary.files_key, "file manifest")
        check_checksum(
            files_raw, summary.files_md5, f"the file manifest {store.url(summary.files_key)}"
        )
        files = parse_files(files_raw, summary, doc)
        counts = [f.item_count for f in files if f.item_count is not None]
        complete = summary.item_count is not None and len(counts) == len(files)
        if complete and sum(counts) != summary.item_count:
            raise ExportFormatError(
                f"{store.url(key)} counts {summary.item_count} items but its data files "
                f"{sum(counts)}: the export is incomplete or damaged"
            )
        parts[summary.export_arn] = ExportPart(summary, files)
    ordered = [parts[s.export_arn] for s in order_exports([p.summary for p in parts.values()])]
    for part in ordered:  # one listing per export, before any data file is read
        check_files(store, part, in_place=part.summary.bucket == export.bucket)
    return ordered


def check_first_item(store: Store, parts: list[ExportPart], description: dict[str, Any]) -> None:
    """An export of another table is refused before any write, from its first item."""
    keys = key_schema(description)
    types = {k.name: k.type for k in keys}
    recorded = parts[0].summary.table_key_schema
    wanted = tuple(sorted((k.name, k.role) for k in keys))
    if recorded is not None and tuple(sorted(recorded)) != wanted:
        raise UserError(
            f"the export {parts[0].summary.key} was written from a table with key schema "
            f"{list(recorded)}, but source.tableDescription says [{show(keys)}]; "
            "fix tableDescription"
        )
    for data_file in parts[0].files:
        item = first_item(store, parts[0].summary, data_file)
        if item is None:
            continue
        problem = key_problem(item, types)
        if problem is not None:
            raise UserError(
                f"the export {store.url(parts[0].summary.key)} does not match "
                f"source.tableDescription [{show(keys)}]: in its first item, {problem}; "
                "is it an export of another table?"
            )
        return


def stream_plan(
    live: dict[str, Any],
    state: RunState,
    covered_until: datetime | None,
    streams: DynamoDBStreamsClient,
    where: str,
) -> StreamPlan:
    """The live table's stream, which must be older than the export (and still hold its changes)."""
    table = live["TableName"]
    spec = live.get("StreamSpecification") or {}
    arn = live.get("LatestStreamArn") if spec.get("StreamEnabled") else None
    if arn is None or spec.get("StreamViewType") not in USABLE_VIEWS:
        raise UserError(
            f"table {table} has no stream with new images; enable its stream (NEW_IMAGE or "
            "NEW_AND_OLD_IMAGES) first, then take the export, then run again"
        )
    recorded = state.get("stream")
    if recorded is not None and recorded != arn:
        raise UserError(
            f"the state file {state.path} follows stream {recorded}, but table {table} now has "
            f"stream {arn}; start a new migration with a new --state"
        )
    if covered_until is None:
        raise UserError(
            "the export does not say when it was taken (no exportTime in its summary), so "
            "whether the stream holds every change since cannot be told; streamChanges needs "
            "an export made by DynamoDB's Export to S3"
        )
    with translated("DescribeStream", where):
        created = streams.describe_stream(StreamArn=arn, Limit=1)["StreamDescription"].get(
            "CreationRequestDateTime"
        )
    if created is not None and covered_until < created:
        raise UserError(
            f"the export was taken at {show_time(covered_until)}, before the stream of table "
            f"{table} was created at {show_time(created)}: changes made in between are in "
            "neither; take a new export of the table and run again"
        )
    oldest = datetime.now(UTC) - timedelta(hours=RETENTION_HOURS)
    if recorded is None and covered_until < oldest:
        raise UserError(
            f"the export was taken at {show_time(covered_until)}, more than {RETENTION_HOURS} "
            "hours ago: the stream no longer holds the changes made since; take a new export"
        )
    return StreamPlan(arn, resumed=recorded is not None)


def _copy(
    run: _Run, store: Store, parts: list[ExportPart], ttl: str | None
) -> SnapshotSummary | None:
    if run.config.target.skip_initial_snapshot_transfer:
        log.info("skipInitialSnapshotTransfer is set; the export is not loaded")
        return None
    if run.state.get("snapshot") == "done":
        log.info("The export was loaded by an earlier run; nothing to copy")
        return None
    workers = run.config.source.max_map_tasks or 8
    files = sum(len(p.files) for p in parts)
    log.info(
        "Loading %s into %s: %d data files, %d at a time",
        *(exports_named(store, parts), run.config.target.table, files, workers),
    )
    keys = [k.name for k in key_schema(run.description)]
    job = CopyJob(parts, keys, run.renames, workers, ttl)
    summary = ExportCopier(job, store, run.writer(workers), run.state, run.progress, run.stop).run()
    if summary.complete:
        run.state.put("snapshot", "done")
    return summary


def exports_named(store: Store, parts: list[ExportPart], shown: int = 3) -> str:
    """The exports of a load, in the order they are applied: all of them, or the first few."""
    urls = [store.url(p.summary.key) for p in parts]
    more = f" and {len(urls) - shown} more" if len(urls) > shown else ""
    names = ", ".join(urls[:shown]) + more
    return f"the export {names}" if len(urls) == 1 else f"{len(urls)} exports ({names})"


def _live_table(
    section: SourceConfig, description: dict[str, Any]
) -> tuple[Connection, dict[str, Any]]:
    """The live table the export came from: its connection and description, keys checked."""
    table = section.table
    source = connect("source", section)
    live = describe_source(source.control(), table, source.where)
    if key_schema(live) != key_schema(description):
        raise UserError(
            f"source table {table} has key schema [{show(key_schema(live))}] but "
            f"source.tableDescription says [{show(key_schema(description))}]; fix tableDescription"
        )
    description["TableName"] = table
    return source, live


def _read(store: Store, key: str, what: str) -> bytes:
    try:
        return store.get(key)
    except UserError as error:
        raise UserError(f"cannot read the export's {what}: {error}") from None
