"""The replication lag, the stop at a lag below a bound, and a late-showing stream's settle."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import run_cli
from tests.refusals import Case
from tests.unit.test_replay_tree import (
    FakeReader,
    FakeShard,
    GeneratedStream,
    KeyedTarget,
    Silent,
    _record,
)
from toolkit.logic.poll_backoff import PollPace
from toolkit.work.replay import Replayer, ReplaySettings
from toolkit.work.replay_lag import LagWatch
from toolkit.work.state import RunState


@given(st.lists(st.tuples(st.sampled_from("abc"), st.floats(0, 100) | st.none()), max_size=30))
def test_the_lag_is_the_oldest_change_in_hand(reads: list[tuple[str, float | None]]) -> None:
    watch = LagWatch(lambda: 1000.0)
    watch.known("abc")
    oldest: dict[str, float] = {}
    for shard, created in reads:
        watch.read(shard, created)
        if created is None:
            oldest.pop(shard, None)
        else:
            oldest.setdefault(shard, created)
    lag, by_shard = watch.lag()
    assert by_shard == {shard: 1000.0 - at for shard, at in oldest.items()}
    assert lag == max(by_shard.values(), default=0.0)
    all_read = {shard for shard, _ in reads} == set("abc")
    assert watch.below(10_000) == all_read
    for shard in "abc":
        watch.finished(shard)
    assert watch.lag() == (0.0, {}) and watch.below(0.001)


def test_a_stream_that_shows_changes_late_is_drained_only_after_its_settle(
    tmp_path: Path,
) -> None:
    shard = FakeShard("s000", None, [_record("k", 1, False)])
    state = RunState(tmp_path / "state.sqlite")
    try:
        settings = ReplaySettings(
            stop_when_drained=True,
            pace=PollPace(first=0.001, cap=0.004, active=0.0),
            describe_interval=0.01,
            settle_seconds=1.5,
        )
        stream = GeneratedStream([shard], {"k": 1})
        began = time.monotonic()
        replayer = Replayer(
            FakeReader(stream, state, 1),
            KeyedTarget(),
            state,
            settings,
            Silent(),
            threading.Event(),
        )
        summary = replayer.run()
        assert summary.drained and summary.records == 1
        assert time.monotonic() - began >= 1.5  # quiet for the settle before drained
    finally:
        state.close()


def test_migrate_stops_once_the_lag_is_below_the_bound(case: Case) -> None:
    case.source_table()
    config = case.config()
    result = run_cli(
        *("migrate", "--config", str(config), "--state", "run.sqlite"),
        *("--stop-when-lag-below", "120"),
        cwd=case.tmp,
    )
    assert result.returncode == 0, result.stderr
    assert "Stream replay stopped at a lag below 120 s" in result.stdout
    assert "stop the application's writes to the source now" in result.stderr


def test_a_turn_known_only_once_it_ended_holds_its_records_until_the_shards_next() -> None:
    """Rounds on an engine report a shard's turns when they ended: now minus the newest
    change applied bounds its lag until the next result (never shown smaller)."""
    watch = LagWatch(lambda: 100.0)
    watch.known("ab")
    watch.held("a", 90.0)
    assert watch.lag() == (10.0, {"a": 10.0}) and not watch.below(1000)  # b not read yet
    watch.held("b", None)
    watch.held("a", 95.0)  # the next turn's oldest, not the oldest ever seen
    assert watch.lag() == (5.0, {"a": 5.0}) and watch.below(6) and not watch.below(5)
    watch.held("a", None)
    assert watch.lag() == (0.0, {}) and watch.below(0.001)
