"""`--stop-when-drained` ends under a load that never pauses, with every earlier change applied.

A stand-in shard that hands out a new change at every read: no real server here
writes faster than the replay polls, so the stream would look drained now and then.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from tests.helpers import OneByOne
from tests.unit.test_replay_tree import KeyedTarget, Silent, _record
from toolkit.logic.poll_backoff import PollPace
from toolkit.logic.shard_tree import Shard
from toolkit.work.replay import PIN_MARGIN_SECONDS, Replayer, ReplaySettings
from toolkit.work.state import RunState

BEFORE = 50  # changes made before the run began


class EndlessShard(OneByOne):
    """One open shard: BEFORE old changes, then one new change per read, forever."""

    def __init__(self) -> None:
        old = time.time() - 100
        self.changes = [_stamped(_record(f"k{n}", n + 1, False), old) for n in range(BEFORE)]
        self.lock = threading.Lock()

    def shards(self) -> list[Shard]:
        return [Shard("s000", None)]

    def children(self, shard_id: str) -> list[Shard] | None:
        return None

    def iterator(self, shard_id: str, after: str | None) -> str:
        return "0"

    def records(self, iterator: str) -> tuple[list[dict[str, Any]], str]:
        with self.lock:
            sequence = len(self.changes) + 1
            self.changes.append(_stamped(_record(f"k{sequence % 7}", sequence, False), time.time()))
            page = self.changes[int(iterator) :][:1000]
            return page, str(int(iterator) + len(page))


def _stamped(record: dict[str, Any], created: float) -> dict[str, Any]:
    record["dynamodb"]["ApproximateCreationDateTime"] = created
    return record


def test_a_run_asked_to_stop_when_drained_ends_past_its_pin_under_an_endless_load(
    tmp_path: Path,
) -> None:
    state = RunState(tmp_path / "state.sqlite")
    shard, target = EndlessShard(), KeyedTarget()
    settings = ReplaySettings(
        stop_when_drained=True, pace=PollPace(active=0.01), describe_interval=0.05
    )
    replayer = Replayer(shard, target, state, settings, Silent(), threading.Event())
    summaries = []
    began = time.time()
    runner = threading.Thread(target=lambda: summaries.append(replayer.run()), daemon=True)
    try:
        runner.start()
        runner.join(60)
        assert summaries, "the replay never ended while the load ran"
    finally:
        replayer.stop.set()
        runner.join(10)
        state.close()
    assert summaries[0].drained
    # Every key is on the target at least as new as it was at the pin, and the run
    # went on until it had applied a change made after the pin.
    pin = began + PIN_MARGIN_SECONDS
    at_pin: dict[str, int] = {}
    created: dict[int, float] = {}
    for record in shard.changes:
        data = record["dynamodb"]
        version = int(data["SequenceNumber"])
        created[version] = data["ApproximateCreationDateTime"]
        if created[version] <= pin:
            at_pin[data["Keys"]["id"]["S"]] = version
    assert len(at_pin) > 7  # the old changes, and the load's keys
    assert all((target.table.get(key) or 0) >= version for key, version in at_pin.items())
    assert max(created[v] for versions in target.history.values() for v in versions) > pin
