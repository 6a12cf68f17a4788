"""`toolkit migrate` as orchestration: schema, stream, snapshot, then stream replay.

The run's phases are recorded in the state, so a second run continues where the
first stopped: a finished snapshot is not copied again, and the stream resumes
from each shard's checkpoint.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import replace

from toolkit.driver.checks import check_sides
from toolkit.driver.estimate import read_budget, warn_if_snapshot_is_long, write_budget
from toolkit.driver.migration import MigrateOptions, MigrationResult, _Run
from toolkit.driver.observers import watched
from toolkit.errors import UserError
from toolkit.logic.sizing import segments_at_once
from toolkit.logic.table_schema import key_schema, renamed_key_schema
from toolkit.wire.connections import connect
from toolkit.wire.retry import stoppable
from toolkit.wire.schema import (
    copy_ttl,
    ensure_target,
)
from toolkit.wire.stream_reader import StreamReader
from toolkit.wire.stream_setup import (
    StreamPlan,
    enable_stream,
    plan_stream,
    refuse_stream_on_tablets,
)
from toolkit.wire.throughput import CapacityBudget
from toolkit.work.replay import Replayer, ReplaySettings, ReplayStatus, ReplaySummary
from toolkit.work.replay_turns import RoundsPlan, reads_in_flight, writes_in_flight
from toolkit.work.replay_work import ShardTurnsFromConfig
from toolkit.work.segment_copy import CopyTools
from toolkit.work.snapshot import (
    SharedTools,
    SnapshotCopier,
    SnapshotJob,
    SnapshotProgress,
    SnapshotSummary,
)
from toolkit.work.snapshot_work import SegmentsFromConfig
from toolkit.work.state import RunState

log = logging.getLogger("migrator")
TURNS_PER_TASK = 256  # a Spark task's turns in one round, at most
# A round costs a job per task slot (tens of ms of the driver's and the JVM's CPU
# each): its tasks follow their shards this long, so that a quiet stream's replay
# costs a job per slot every 2 s, and a shard's checkpoint is at most that old.
STINT_SECONDS = 2.0


def run_migration(
    options: MigrateOptions,
    progress: SnapshotProgress,
    status: ReplayStatus,
    stop: threading.Event,
) -> MigrationResult:
    config = options.config
    exported = config.source.s3_export or config.target.s3_export
    if exported is not None and not options.engine.in_process:
        raise UserError(
            "--engine spark runs the scan segments of a table; an S3 export source or target "
            "runs on the embedded engine: drop --engine spark"
        )
    # Imported here: only runs with an S3 export load boto3's S3 (and they import this module).
    if config.source.s3_export is not None:
        from toolkit.driver.export_migrate import run_export_migration

        return run_export_migration(options, progress, status, stop)
    if config.target.s3_export is not None:
        from toolkit.work.export_target import run_export_target

        return run_export_target(options, progress, stop)
    metrics = options.metrics
    source, target = (
        connect("source", config.source, metrics),
        connect("target", config.target, metrics),
    )
    checked = check_sides(config, source, target)
    description, ttl, segments = checked.description, checked.ttl, checked.segments
    state = RunState(options.state_path)
    progress, status = watched(progress, status, state, metrics)
    # Retries wait on the stop event, so Ctrl-C is prompt even while a side is down.
    options = replace(options, retry=stoppable(options.retry, stop))
    try:
        run = _Run(options, source, target, description, state, progress, stop, checked.tablets)
        _claim(run, segments)
        plan = None
        if config.target.stream_changes:
            plan = plan_stream(description, state, options.accept_existing_stream)
            if plan.arn is None and config.source.type == "alternator":
                refuse_stream_on_tablets(source.control(), config.source.table, source.where)
        if _stopped(stop, "before any table was touched"):
            return MigrationResult(None, None)
        state.touching()
        state.put("source_items", str(description.get("ItemCount") or ""))  # status's ETA
        _prepare_target(run, ttl)
        if _stopped(stop, "while preparing the target table: the source's stream was not touched"):
            return MigrationResult(None, None)
        if plan is not None:
            _enable(run, plan)
        snapshot = _snapshot(run, segments, ttl)
        if plan is None or stop.is_set() or (snapshot is not None and not snapshot.complete):
            return MigrationResult(snapshot, None)
        log.info("Done transferring table snapshot. Starting to transfer changes")
        return MigrationResult(snapshot, _replay(run, status))
    finally:
        state.close(drop_if_untouched=True)


def _stopped(stop: threading.Event, when: str) -> bool:
    """Whether a stop was asked for: then nothing more is started."""
    if stop.is_set():
        log.info("Stopped %s; run the same command again to continue", when)
    return stop.is_set()


def _claim(run: _Run, segments: int) -> None:
    hint = "use another --state for another table"
    run.state.claim("source table", run.config.source.table, hint)
    run.state.claim("target table", run.config.target.table, hint)
    run.state.claim("scan segments", str(segments), "keep scanSegments, or use a new --state")


def _prepare_target(run: _Run, ttl: str | None) -> None:
    """Create or check the target table and copy the source's TTL attribute."""
    target = run.config.target
    control = run.target.control()
    ensure_target(
        *(run.description, control, target.table, target.billing_mode, run.renames),
        run.target.where,
        target.write_isolation,
        run.stop,
        run.tablets,
    )
    if not run.stop.is_set():  # else the caller stops; TTL is copied by the next run
        copy_ttl(control, target.table, ttl, run.renames, run.target.where)


def _enable(run: _Run, plan: StreamPlan) -> None:
    enable_stream(
        run.source.control(),
        run.source.streams(),
        run.config.source.table,
        plan,
        run.state,
        run.source.where,
        run.options.stream_poll_seconds,
    )


def _snapshot(run: _Run, segments: int, ttl: str | None) -> SnapshotSummary | None:
    config = run.config
    if config.target.skip_initial_snapshot_transfer:
        log.info("skipInitialSnapshotTransfer is set; no snapshot is copied")
        return None
    if run.state.get("snapshot") == "done":
        log.info("The snapshot was copied by an earlier run; nothing to copy")
        return None
    budget = read_budget(config.source, run.description)
    warn_if_snapshot_is_long(run.description, budget, config.target.stream_changes)
    engine = run.options.engine
    workers = segments_at_once(config.source.max_map_tasks, engine.parallelism, segments)
    log.info(
        "Copying the snapshot of %s (about %s items, %s bytes) into %s: %d segments, %d at a "
        "time, on the %s engine",
        config.source.table,
        run.description.get("ItemCount", "?"),
        run.description.get("TableSizeBytes", "?"),
        config.target.table,
        segments,
        workers,
        engine.name,
        extra={"table": config.source.table, "segments": segments, "workers": workers},
    )
    keys = tuple(k.name for k in key_schema(run.description))
    job = SnapshotJob(
        *(config.source.table, segments, workers, run.renames, ttl, run.options.page_items),
        *(keys, config.skip_segments, not config.source.remove_consumed_capacity),
    )
    shared = engine.in_process
    work = _shared_work(run, job, budget) if shared else _spark_work(run, job, budget)
    copier = SnapshotCopier(
        job, work, engine, run.state, run.progress, run.stop, records_pages=shared
    )
    summary = copier.run()
    if summary.complete:
        run.state.put("snapshot", "done")
        if not config.target.stream_changes:
            log.info("Done transferring table snapshot")
    return summary


def _shared_work(run: _Run, job: SnapshotJob, budget: float | None) -> SharedTools:
    """Threads of this process: one data plane, one writer, the whole budgets."""
    plane = run.source.data_plane(job.workers, patience=run.options.retry.give_up_after)
    tools = CopyTools(plane, run.writer(job.workers), CapacityBudget(budget), run.options.retry)
    return SharedTools(job, replace(tools, stop=run.stop), run.state, run.progress)


def _spark_work(run: _Run, job: SnapshotJob, budget: float | None) -> SegmentsFromConfig:
    """Spark tasks: each rebuilds its tools from the config and takes its budgets' share."""
    keys = renamed_key_schema(key_schema(run.description), run.renames)
    return SegmentsFromConfig(
        *(run.config, job, tuple(k.name for k in keys), budget),
        *(write_budget(run.config.target), run.options.retry.give_up_after),
    )


def _spark_rounds(run: _Run, settings: ReplaySettings, arn: str) -> RoundsPlan:
    """Shard turns as Spark tasks: one group per task slot a round; the driver keeps
    the shard tree, the checkpoints and the drained test, as on the embedded engine."""
    engine = run.options.engine
    keys = renamed_key_schema(key_schema(run.description), run.renames)
    work = ShardTurnsFromConfig(
        *(run.config, uuid.uuid4().hex, arn, dict(run.renames), tuple(k.name for k in keys)),
        *(write_budget(run.config.target), run.options.retry.give_up_after),
        *(settings.records_per_apply, settings.max_shards_at_once),
    )
    slots = min(run.config.source.max_map_tasks or engine.parallelism or 2, 64)
    log.info("Replaying the stream's shards on the %s engine: %d tasks a round", engine.name, slots)
    return RoundsPlan(engine, work, slots, TURNS_PER_TASK, settings.pace, STINT_SECONDS)


def _replay(run: _Run, status: ReplayStatus) -> ReplaySummary:
    source = run.config.source
    settings = replace(
        run.options.replay,
        renames=run.renames,
        table=source.table,
        settle_seconds=source.stream_visibility_seconds,
    )
    arn = run.state.get("stream")
    assert arn is not None  # recorded by _enable
    reader = StreamReader(
        run.source.data_plane(
            reads_in_flight(settings.max_shards_at_once),
            streams=True,
            patience=run.options.retry.give_up_after,
        ),
        arn,
        run.options.retry,
    )
    writer = run.writer(writes_in_flight(settings.max_shards_at_once, settings.writes_at_once))
    rounds = None if run.options.engine.in_process else _spark_rounds(run, settings, arn)
    summary = Replayer(reader, writer, run.state, settings, status, run.stop, rounds).run()
    run.state.put("drained_at", str(time.time()) if summary.drained else "")
    if summary.lag_below is not None:
        log.info(
            "The replication lag is below %g s: stop the application's writes to the source "
            "now, then run again with --stop-when-drained",
            summary.lag_below,
        )
    if summary.drained:
        log.info(
            "The stream is drained: the target holds every change made so far; "
            "you can switch your application over to the target now",
            extra={"table": run.config.source.table, "records": summary.records},
        )
    return summary
