"""The replay's work for Spark tasks: a group of shard turns, tools rebuilt from the config.

Why rounds of RDD jobs, and not Structured Streaming's Python Data Source reader:
a streaming reader must know a batch's end offset (a sequence number per shard)
before the batch runs, and DynamoDB Streams tells where a shard ends only by
reading it, so every record would be read twice; each action in foreachBatch
reads the source again; AvailableNow must pin its end offset or it never ends
under load; pyarrow would be needed in every Python process, and the first such
query costs 11-13 s more. Its checkpoints would also live in Spark's checkpoint
folder, beside the run's state and not in it. Here the driver keeps the shard
tree, the due polls and the checkpoints (toolkit.work.replay, the same as the
embedded engine's); a round hands each task slot one group of shard turns (one
RDD job of one task, ~20 ms), and a turn's result carries the iterator where the
shard's next turn goes on, so no record is read twice.

Picklable: it holds the validated config and numbers, never a connection or the
state. A replay round is short (one turn per shard, often an empty poll) and comes
again and again, so a Python worker keeps the tools it opened for this run (its
connections, budgets and stream client, which costs ~0.1 s of CPU to make) and
reuses them for the run's later rounds; Spark reuses its Python workers between
tasks. What a task's turns wrote is recorded by the driver when the task ends.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from toolkit.config import MigrationConfig
from toolkit.wire.connections import connect
from toolkit.wire.retry import RetryPolicy
from toolkit.wire.stream_reader import StreamReader
from toolkit.wire.throughput import shared
from toolkit.wire.writer import BatchWriter, TargetCapabilities
from toolkit.work.shard_stint import Stint, take_stint
from toolkit.work.shard_turn import Pages, Turned, TurnTools

TakeTurns = Callable[[Stint], list[Turned]]


@dataclass(frozen=True)
class ShardTurnsFromConfig:
    config: MigrationConfig
    run: str  # this run's own name: a worker's tools serve this run only
    stream: str  # the stream's ARN
    renames: Mapping[str, str]
    target_keys: tuple[str, ...]  # the target's key attributes, to name a failed write
    write_units: float | None  # the run's whole write budget, shared out by the engine
    patience: float  # seconds of retrying before a request's failure is final
    records_per_apply: int
    turns_at_once: int = 8  # a task's turns run on this many threads at once

    @contextmanager
    def open(self, share: float) -> Iterator[TakeTurns]:
        yield _kept(self, share)


_KEPT: dict[tuple[str, float], TakeTurns] = {}  # this worker's tools, by run and share
_KEPT_LOCK = threading.Lock()


def _kept(work: ShardTurnsFromConfig, share: float) -> TakeTurns:
    with _KEPT_LOCK:
        key = (work.run, share)
        if key not in _KEPT:
            _KEPT[key] = _tools(work, share)
        return _KEPT[key]


def _tools(work: ShardTurnsFromConfig, share: float) -> TakeTurns:
    """Opened once per worker and run; closed with the worker's process."""
    config, policy = work.config, RetryPolicy(give_up_after=work.patience)
    threads = work.turns_at_once
    source = connect("source", config.source)
    plane = source.data_plane(threads, streams=True, patience=work.patience)
    reader = StreamReader(plane, work.stream, policy)
    target = connect("target", config.target).data_plane(threads, patience=work.patience)
    writer = BatchWriter(
        *(target, config.target.table, TargetCapabilities.of(config.target)),
        *(shared(work.write_units, share), policy, work.target_keys),
    )
    pages = Pages(reader, work.records_per_apply)
    tools = TurnTools(pages, writer.write, work.renames, config.source.table)
    return lambda stint: take_stint(tools, stint, threads)
