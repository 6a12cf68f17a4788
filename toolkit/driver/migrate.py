"""`toolkit migrate` as orchestration: one sequence for every source and target.

Check both sides, claim the state, plan the stream, prepare the target, enable the
stream, copy every part of the source, then replay the stream. The run's phases
are recorded in the state, so a second run continues where the first stopped: a
finished snapshot is not copied again, and the stream resumes from each shard's
checkpoint. Which source and target it runs (a table, an S3 export) is the
connectors' business (``toolkit.connectors``), never a branch here.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from functools import partial
from typing import Any

from toolkit.connectors import source_for, target_for
from toolkit.connectors.base import Described, Source, Target
from toolkit.driver.estimate import warn_if_snapshot_is_long
from toolkit.driver.metrics import table_view
from toolkit.driver.migration import MigrateOptions, MigrationResult, _Run
from toolkit.driver.observers import watched
from toolkit.errors import UserError
from toolkit.logic.sizing import segments_at_once
from toolkit.wire.connections import connect
from toolkit.wire.retry import stoppable
from toolkit.wire.stream_reader import StreamReader
from toolkit.wire.stream_setup import Followed, StreamPlan, enable_stream
from toolkit.work.copy_work import PartsFromConfig, SharedCopy
from toolkit.work.ledger import Ledger
from toolkit.work.replay import Replayer, ReplaySettings, ReplayStatus, ReplaySummary
from toolkit.work.replay_turns import RoundsPlan, reads_in_flight, writes_in_flight
from toolkit.work.replay_work import ShardTurnsFromConfig
from toolkit.work.snapshot import PartsCopier, SnapshotProgress, SnapshotSummary
from toolkit.work.state import RunState

log = logging.getLogger("migrator")
TURNS_PER_TASK = 256  # a Spark task's turns in one round, at most
# A round costs a job per task slot (tens of ms of the driver's and the JVM's CPU
# each): its tasks follow their shards this long, so that a quiet stream's replay
# costs a job per slot every 2 s, and a shard's checkpoint is at most that old.
STINT_SECONDS = 2.0
NEW_STATE = "start a new migration with a new --state"


def run_migration(
    options: MigrateOptions,
    progress: SnapshotProgress,
    status: ReplayStatus,
    stop: threading.Event,
) -> MigrationResult:
    sides = checked_sides(options)
    state = RunState(options.state_path)
    try:
        return migrate_table(options, sides, state, (progress, status), stop)
    finally:
        state.close(drop_if_untouched=True)


Sides = tuple[Source, Target, Described, Any]  # what checked_sides found


def migrate_table(
    options: MigrateOptions,
    sides: Sides,
    state: RunState,
    shown: tuple[SnapshotProgress, ReplayStatus],
    stop: threading.Event,
    snapshot_gate: AbstractContextManager[Any] | None = None,
) -> MigrationResult:
    """One table's migration on its state (a run's, or its table's view in a run of
    several); its preparation and snapshot hold ``snapshot_gate`` (a run of several
    copies a few tables at a time), its replay does not."""
    source, target, described, checked = sides
    metrics = table_view(options.metrics, options.config.source.table)
    progress, status = watched(*shown, state, metrics)
    # Retries wait on the stop event, so Ctrl-C is prompt even while a side is down.
    options = replace(options, retry=stoppable(options.retry, stop))
    run = _Run(options, source, target, described, state, progress, stop, checked)
    with snapshot_gate or nullcontext():
        plan, facts = _claimed(run)
        if _stopped(stop, "before any table was touched"):
            return MigrationResult(None, None)
        state.touching()
        state.put_many({"source_items": str(described.description.get("ItemCount") or "")} | facts)
        target.prepare(described, checked, stop)
        if _stopped(stop, "while preparing the target table: the source's stream was not touched"):
            return MigrationResult(None, None)
        if plan is not None:
            _enable(run, plan)
        snapshot = _snapshot(run)
    if plan is None or stop.is_set() or (snapshot is not None and not snapshot.complete):
        return MigrationResult(snapshot, None)
    log.info("Done transferring table snapshot. Starting to transfer changes")
    return MigrationResult(snapshot, _replay(run, status))


def checked_sides(options: MigrateOptions) -> Sides:
    """Both sides, read and checked before the state file exists: a refusal leaves every
    table and file as it was. What the target's check learnt goes to its preparation."""
    config = options.config
    metrics = table_view(options.metrics, config.source.table)
    connecting = partial(connect, failures=metrics)
    source = source_for(config, connecting)
    target = target_for(config, connecting, None if metrics is None else metrics.writes_failed.inc)
    described = source.describe()
    checked = target.check(described)
    if target.local_files and not options.engine.one_machine:
        raise UserError(
            f"target.path {target.name} is a folder of this machine, but the Spark engine's "
            "executors may run on others, each writing its data files to its own disk: give "
            "an s3:// path, or run with --master local[N] or on the embedded engine"
        )
    return source, target, described, checked


def _claimed(run: _Run) -> tuple[StreamPlan | None, dict[str, str]]:
    """The state claimed for this run, the stream planned, the target's new facts: all
    decided before anything is written."""
    for claim in [*run.source.claims(run.described), *run.target.claims()]:
        run.state.claim(claim.name, claim.value, claim.hint)
    return _plan_stream(run), run.target.begin(run.state.get)


def _stopped(stop: threading.Event, when: str) -> bool:
    """Whether a stop was asked for: then nothing more is started."""
    if stop.is_set():
        log.info("Stopped %s; run the same command again to continue", when)
    return stop.is_set()


def _plan_stream(run: _Run) -> StreamPlan | None:
    """The stream to replay, decided before any table is touched (None: no replay)."""
    if not (run.config.target.stream_changes and run.target.takes_changes):
        return None
    followed = Followed(run.state.get("stream"), str(run.state.path))
    return run.source.plan_stream(run.described, followed, run.options.accept_existing_stream)


def _enable(run: _Run, plan: StreamPlan) -> None:
    assert run.described.live is not None  # a source with a stream has a live table
    live = run.described.live[0]
    arn, shards = enable_stream(
        *(live.control(), live.streams(), live.section.table, plan),
        *(live.where, run.options.stream_poll_seconds),
    )
    if not plan.resumed:
        run.state.claim("stream", arn, NEW_STATE)
        run.state.record_shards([(s.shard_id, s.parent_id) for s in shards], at_enabling=True)


def _snapshot(run: _Run) -> SnapshotSummary | None:
    config, described = run.config, run.described
    if config.target.skip_initial_snapshot_transfer:
        log.info("skipInitialSnapshotTransfer is set; no snapshot is copied")
        return None
    if run.state.get("snapshot") == "done":
        log.info("The snapshot was copied by an earlier run; nothing to copy")
        return None
    job = run.job
    warn_if_snapshot_is_long(described.description, job.read_units, config.target.stream_changes)
    waves = [[run.target.address(part) for part in wave] for wave in run.source.waves(described)]
    count, engine = sum(len(wave) for wave in waves), run.options.engine
    slots = engine.parallelism or run.source.parts_at_once
    workers = segments_at_once(config.source.max_map_tasks, slots, max(1, count))
    log.info(
        "%s into %s: %d %s, %d at a time, on the %s engine",
        *(described.what, run.target.name, count, described.parts_named, workers, engine.name),
        extra={"table": run.source.name, "segments": count, "workers": workers},
    )
    job, ledger = replace(job, workers=workers), Ledger(run.state)
    shared = engine.in_process
    work = (
        SharedCopy(job, run.source, run.target, run.options.retry, run.stop, ledger, run.progress)
        if shared
        else PartsFromConfig(job)
    )
    copier = PartsCopier(waves, work, engine, ledger, run.progress, run.stop, workers, shared)
    summary = copier.run()
    if summary.complete:
        run.target.finish(described, ledger.files([p for wave in waves for p in wave]))
        run.state.put("snapshot", "done")
        if not config.target.stream_changes:
            log.info("Done transferring table snapshot")
    return summary


def _spark_rounds(run: _Run, settings: ReplaySettings, arn: str) -> RoundsPlan:
    """Shard turns as Spark tasks: one group per task slot a round; the driver keeps
    the shard tree, the checkpoints and the drained test, as on the embedded engine."""
    engine, job = run.options.engine, run.job
    work = ShardTurnsFromConfig(
        *(run.config, uuid.uuid4().hex, arn, dict(job.renames), job.target_keys),
        *(job.write_units, job.patience),
        *(settings.records_per_apply, settings.max_shards_at_once),
    )
    slots = min(run.config.source.max_map_tasks or engine.parallelism or 2, 64)
    log.info("Replaying the stream's shards on the %s engine: %d tasks a round", engine.name, slots)
    return RoundsPlan(engine, work, slots, TURNS_PER_TASK, settings.pace, STINT_SECONDS)


def _replay(run: _Run, status: ReplayStatus) -> ReplaySummary:
    assert run.described.live is not None  # a source with a stream has a live table
    live = run.described.live[0]
    settings = replace(
        run.options.replay,
        renames=run.config.rename_map,
        table=run.source.name,
        settle_seconds=run.config.source.stream_visibility_seconds,
    )
    arn = run.state.get("stream")
    assert arn is not None  # recorded by _enable
    patience = run.options.retry.give_up_after
    plane = live.data_plane(
        reads_in_flight(settings.max_shards_at_once), streams=True, patience=patience
    )
    reader = StreamReader(plane, arn, run.options.retry)
    in_flight = writes_in_flight(settings.max_shards_at_once, settings.writes_at_once)
    writer = run.target.changes_writer(run.job, in_flight, run.options.retry)
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
            extra={"table": run.source.name, "records": summary.records},
        )
    return summary
