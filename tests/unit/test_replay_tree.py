"""Shard trees through a stand-in for DescribeStream/GetRecords.

DynamoDB Local keeps a single shard, so splits, children appearing while the
replay runs, expired iterators and vanished shards are shown with a generated
stream; the real server covers the same replay path in test_replay.py.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import OneByOne
from toolkit.engines.embedded import EmbeddedEngine
from toolkit.errors import ChangesLost
from toolkit.logic.poll_backoff import PollPace
from toolkit.logic.shard_tree import Shard
from toolkit.wire.stream_reader import IteratorExpired
from toolkit.work.replay import Replayer, ReplaySettings, ReplayStats
from toolkit.work.replay_turns import InProcessTurns, RoundsPlan
from toolkit.work.shard_turn import Pages, TurnTools
from toolkit.work.state import RunState


@dataclass
class FakeShard:
    shard_id: str
    parent_id: str | None
    records: list[dict[str, Any]] = field(default_factory=list)
    closed: bool = False
    appears_after: int = 0  # DescribeStream calls before it is listed


@dataclass
class GeneratedStream:
    shards: list[FakeShard]
    final: dict[str, int | None]  # key -> last version (None: deleted)


@st.composite
def streams(draw: st.DrawFn) -> GeneratedStream:
    """Changes to a few keys while shards split; a key's later changes go to children."""
    rng = random.Random(draw(st.integers(0, 2**32)))
    roots = draw(st.integers(1, 3))
    shards = [FakeShard(f"s{n:03d}", None) for n in range(roots)]
    open_leaves = list(shards)
    home: dict[str, FakeShard] = {}  # the open shard that holds each key's changes now
    final: dict[str, int | None] = {}
    sequence = 0
    for _ in range(draw(st.integers(0, 200))):
        if rng.random() < 0.05:
            _split(rng.choice(open_leaves), shards, open_leaves, home, rng)
            continue
        key = f"k{rng.randrange(6)}"
        leaf = home.setdefault(key, rng.choice(open_leaves))
        sequence += 1
        deleted = rng.random() < 0.3
        leaf.records.append(_record(key, sequence, deleted))
        final[key] = None if deleted else sequence
    return GeneratedStream(shards, final)


def _split(
    parent: FakeShard,
    shards: list[FakeShard],
    open_leaves: list[FakeShard],
    home: dict[str, FakeShard],
    rng: random.Random,
) -> None:
    """Close a shard; its keys move on to its children, as in DynamoDB's shard lineage."""
    parent.closed = True
    open_leaves.remove(parent)
    # Children are listed together, with or after their parent, never before.
    appears_after = max(parent.appears_after, rng.randint(0, 2))
    children = []
    for _ in range(rng.choice([1, 2])):
        child = FakeShard(f"s{len(shards):03d}", parent.shard_id, appears_after=appears_after)
        shards.append(child)
        children.append(child)
    open_leaves.extend(children)
    for key, shard in home.items():
        if shard is parent:
            home[key] = rng.choice(children)


def _record(key: str, sequence: int, deleted: bool) -> dict[str, Any]:
    keys = {"id": {"S": key}}
    data: dict[str, Any] = {"Keys": keys, "SequenceNumber": f"{sequence:021d}"}
    if not deleted:
        data["NewImage"] = {**keys, "version": {"N": str(sequence)}}
    return {"eventName": "REMOVE" if deleted else "MODIFY", "dynamodb": data}


class FakeReader(OneByOne):
    def __init__(
        self, stream: GeneratedStream, state: RunState, seed: int, filters: bool = False
    ) -> None:
        self.shards_by_id = {s.shard_id: s for s in stream.shards}
        self.state = state
        self.rng = random.Random(seed)
        self.filters = filters  # DescribeStream's ShardFilter: CHILD_SHARDS
        self.describes = 0
        self.hidden: set[str] = set()
        self.lock = threading.Lock()

    def shards(self) -> list[Shard]:
        self.describes += 1
        return [
            Shard(s.shard_id, s.parent_id)
            for s in self.shards_by_id.values()
            if s.appears_after < self.describes and s.shard_id not in self.hidden
        ]

    def children(self, shard_id: str) -> list[Shard] | None:
        if not self.filters:
            return None
        return [s for s in self.shards() if s.parent_id == shard_id]

    def iterator(self, shard_id: str, after: str | None) -> str:
        shard = self.shards_by_id[shard_id]
        if shard.parent_id is not None:
            finished = {s.shard_id for s in self.state.shards() if s.finished}
            assert shard.parent_id in finished, f"{shard_id} opened before its parent finished"
        records = shard.records
        position = (
            0
            if after is None
            else 1 + [r["dynamodb"]["SequenceNumber"] for r in records].index(after)
        )
        return f"{shard_id}:{position}"

    def records(self, iterator: str) -> tuple[list[dict[str, Any]], str | None]:
        shard_id, position_text = iterator.split(":")
        with self.lock:
            if self.rng.random() < 0.05:
                raise IteratorExpired(shard_id)
            size = self.rng.randint(1, 7)
        shard = self.shards_by_id[shard_id]
        position = int(position_text)
        page = shard.records[position : position + size]
        end = position + len(page)
        if shard.closed and end >= len(shard.records):
            return page, None
        return page, f"{shard_id}:{end}"


class KeyedTarget:
    """Applies batches to a dict, recording each key's versions in the order applied."""

    def __init__(self) -> None:
        self.table: dict[str, int | None] = {}
        self.history: dict[str, list[int]] = {}
        self.lock = threading.Lock()

    def write(self, requests: Sequence[dict[str, Any]], at_once: int = 1) -> None:
        keys = [self._key(r) for r in requests]
        assert len(keys) == len(set(keys)), "a batch holds one operation per key"
        with self.lock:
            for request, key in zip(requests, keys, strict=True):
                if "PutRequest" in request:
                    version = int(request["PutRequest"]["Item"]["version"]["N"])
                    self.table[key] = version
                    self.history.setdefault(key, []).append(version)
                else:
                    self.table[key] = None

    @staticmethod
    def _key(request: dict[str, Any]) -> str:
        if "PutRequest" in request:
            return str(request["PutRequest"]["Item"]["id"]["S"])
        return str(request["DeleteRequest"]["Key"]["id"]["S"])


class Silent:
    def batch_applied(self, counts: Mapping[str, int]) -> None: ...
    def tick(self, stats: ReplayStats) -> None: ...


def replay(reader: Any, target: Any, state: RunState, in_rounds: bool = False) -> None:
    """Replayed by turns on threads, or in rounds of groups of turns run by an engine
    (the embedded one here: the Spark engine runs the same rounds, tested in test_spark)."""
    pace = PollPace(first=0.001, cap=0.004, active=0.0)
    settings = ReplaySettings(
        stop_when_drained=True, pace=pace, describe_interval=0.01, max_shards_at_once=4
    )
    rounds = None
    if in_rounds:
        tools = TurnTools(Pages(reader, settings.records_per_apply), target.write, {}, "t")
        work = InProcessTurns(tools)
        rounds = RoundsPlan(EmbeddedEngine(), work, 2, 3, pace, stint_seconds=0.05)
    Replayer(reader, target, state, settings, Silent(), threading.Event(), rounds).run()


@given(stream=streams(), seed=st.integers(0, 1000), filters=st.booleans(), in_rounds=st.booleans())
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_shard_tree_replays_in_stream_order_to_the_final_state(
    tmp_path_factory: pytest.TempPathFactory,
    stream: GeneratedStream,
    seed: int,
    filters: bool,
    in_rounds: bool,
) -> None:
    state = RunState(tmp_path_factory.mktemp("tree") / "state.sqlite")
    try:
        target = KeyedTarget()
        replay(FakeReader(stream, state, seed, filters), target, state, in_rounds)
        assert {k: v for k, v in target.table.items() if v is not None} == {
            k: v for k, v in stream.final.items() if v is not None
        }
        for key, versions in target.history.items():
            assert versions == sorted(versions), f"{key} went back in time: {versions}"
        closed = {s.shard_id for s in stream.shards if s.closed}
        assert closed <= {s.shard_id for s in state.shards() if s.finished}
    finally:
        state.close()


def test_a_shard_that_vanishes_before_it_was_read_stops_the_run(tmp_path: Path) -> None:
    stream = GeneratedStream([FakeShard("s000", None, [_record("k", 1, False)])], {"k": 1})
    state = RunState(tmp_path / "state.sqlite")
    state.record_shards([("s000", None), ("s-old", None)], at_enabling=True)
    try:
        with pytest.raises(ChangesLost, match="s-old left the stream"):
            replay(FakeReader(stream, state, 0), KeyedTarget(), state)
    finally:
        state.close()
