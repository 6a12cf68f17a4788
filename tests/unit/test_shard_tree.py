"""Properties of the pure parts of the replay's coordinator: the tree view, the pace."""

from __future__ import annotations

import itertools
import random

from hypothesis import given
from hypothesis import strategies as st

from toolkit.logic.poll_backoff import PollPace, backoff
from toolkit.logic.shard_tree import Shard, ShardTree
from toolkit.wire.pacing import Pacer


@st.composite
def lineages(draw: st.DrawFn) -> list[Shard]:
    """A stream's shards in creation order: roots, then children of earlier shards."""
    count = draw(st.integers(1, 40))
    shards: list[Shard] = []
    for n in range(count):
        parent = draw(st.none() | st.integers(0, n - 1)) if n else None
        shards.append(Shard(f"s{n:03d}", None if parent is None else f"s{parent:03d}"))
    return shards


def reference_ready(shards: list[Shard], finished: set[str], started: set[str]) -> set[str]:
    """Readiness recomputed from scratch, as the replay did every tick before."""
    known = {s.shard_id for s in shards}
    return {
        s.shard_id
        for s in shards
        if s.shard_id not in finished
        and s.shard_id not in started
        and (s.parent_id is None or s.parent_id in finished or s.parent_id not in known)
    }


@given(shards=lineages(), seed=st.integers(0, 2**32), batches=st.integers(1, 5))
def test_incremental_readiness_matches_a_full_recomputation(
    shards: list[Shard], seed: int, batches: int
) -> None:
    """Shards arrive in batches (listings, child lookups) while shards start and finish;
    what the tree hands out as ready is always what a full scan would find, and a shard
    is handed out once, only after its parent finished."""
    rng = random.Random(seed)
    tree, seen, finished, started = ShardTree(), [], set[str](), set[str]()
    cut = sorted(rng.sample(range(len(shards) + 1), min(batches, len(shards) + 1)))
    pieces = [shards[a:b] for a, b in zip([0, *cut], [*cut, len(shards)], strict=True)]
    handed: list[str] = []
    for piece in pieces:
        added = tree.add(piece)
        assert added.orphans == []  # parents always come first
        seen += piece
        handed += added.ready
        for shard_id in added.ready:
            tree.start(shard_id)
            started.add(shard_id)
        while started - finished and rng.random() < 0.7:
            done = rng.choice(sorted(started - finished))
            finished.add(done)
            ready = tree.finish(done)
            handed += ready
            for shard_id in ready:
                tree.start(shard_id)
                started.add(shard_id)
        assert reference_ready(seen, finished, started) == set()
    parents = {s.shard_id: s.parent_id for s in shards}
    assert len(handed) == len(set(handed))
    for position, shard_id in enumerate(handed):
        parent = parents[shard_id]
        assert parent is None or parent in handed[:position]
    assert tree.unfinished() == {s.shard_id for s in shards} - finished


@given(shards=lineages())
def test_a_new_shard_whose_parent_was_never_seen_is_an_orphan(shards: list[Shard]) -> None:
    tree = ShardTree()
    children = [s for s in shards if s.parent_id is not None]
    added = tree.add(children)
    parents = {s.parent_id for s in children} - {s.shard_id for s in children}
    assert set(added.orphans) == {s.shard_id for s in children if s.parent_id in parents}


@given(shards=lineages(), finished=st.sets(st.integers(0, 39)))
def test_loaded_shards_resume_where_the_state_left_them(
    shards: list[Shard], finished: set[int]
) -> None:
    done = {f"s{n:03d}" for n in finished}
    tree = ShardTree()
    ready = tree.load((s, s.shard_id in done) for s in shards)
    assert set(ready) == reference_ready(shards, done, set())
    assert tree.finished_count == len(done & {s.shard_id for s in shards})


@given(
    attempts=st.integers(0, 200),
    first=st.floats(0.001, 1.0),
    cap=st.floats(0.001, 10.0),
)
def test_backoff_doubles_up_to_its_cap(attempts: int, first: float, cap: float) -> None:
    delay = backoff(attempts, first, cap)
    assert 0.0 <= delay <= cap
    assert backoff(attempts + 1, first, cap) >= delay
    if attempts == 0:
        assert delay == 0.0
    elif first * 2 ** (attempts - 1) <= cap:
        assert delay == first * 2 ** (attempts - 1)


@given(empty=st.integers(0, 100), throttles=st.integers(0, 100), backlog=st.booleans())
def test_a_backlog_is_read_again_at_once_and_idle_shards_wait_at_most_the_cap(
    empty: int, throttles: int, backlog: bool
) -> None:
    pace = PollPace()
    assert pace.delay(0, 0, got_records=True, backlog=True) == 0.0
    idle = pace.delay(empty, 0, got_records=False, backlog=False)
    assert idle <= pace.cap
    slowed = pace.delay(empty, throttles, got_records=not backlog, backlog=backlog)
    assert slowed <= max(pace.cap, pace.throttled_cap)
    if throttles:
        assert slowed >= pace.throttled_first


@given(
    rate=st.floats(1.0, 100.0),
    calls=st.lists(st.floats(0.0, 5.0), min_size=1, max_size=50),
)
def test_paced_calls_are_never_closer_than_the_rate_allows(rate: float, calls: list[float]) -> None:
    pacer = Pacer(rate)
    slots = []
    for now in sorted(calls):
        wait = pacer.reserve(now)
        assert wait >= 0.0
        slots.append(now + wait)
    for earlier, later in itertools.pairwise(slots):
        assert later - earlier >= 1.0 / rate - 1e-9
