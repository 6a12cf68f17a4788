"""Idle polls due together share one thread, their reads in flight together.

A stand-in reader stands for the stream: it records how its pages were asked for,
which is what these tests are about; the real reads in flight together are
tested in tests/test_http1.py and tests/test_stream_reader.py.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from toolkit.wire.stream_reader import IteratorExpired, Page
from toolkit.work.replay_turns import IDLE_POLLS_AT_ONCE, ThreadsPlan, ThreadTurns
from toolkit.work.shard_turn import Pages, ShardTurn, Turned, TurnTools


class Quiet:
    """Every shard empty, but one whose iterator is too old, and one with a record."""

    def __init__(self) -> None:
        self.asked: list[list[str]] = []  # the iterators of each records_all

    def iterator(self, shard_id: str, after: str | None) -> str:
        return f"fresh-{shard_id}"

    def records(self, iterator: str) -> Page:
        raise AssertionError("idle polls are read together, not one by one")

    def records_all(self, iterators: Sequence[str]) -> list[Page | Exception]:
        self.asked.append(list(iterators))
        return [self._page(i) for i in iterators]

    def _page(self, iterator: str) -> Page | Exception:
        if iterator == "it-s3":
            return IteratorExpired("s3")
        if iterator == "it-s5":
            keys = {"id": {"S": "k"}}
            return [
                {"eventName": "REMOVE", "dynamodb": {"Keys": keys, "SequenceNumber": "9"}}
            ], "n5"
        return [], f"{iterator}+"


class Target:
    def __init__(self) -> None:
        self.written: list[list[dict[str, Any]]] = []

    def write(self, requests: Sequence[dict[str, Any]]) -> None:
        self.written.append(list(requests))


def ended(turns: ThreadTurns, count: int) -> list[Turned]:
    done: list[Turned] = []
    deadline = time.monotonic() + 10
    while len(done) < count and time.monotonic() < deadline:
        done += turns.ended()
        time.sleep(0.01)
    return done


def test_idle_polls_due_together_are_read_together_and_each_ends_its_own_way() -> None:
    reader, target, woken = Quiet(), Target(), []
    tools = TurnTools(Pages(reader, 1000), target.write, {}, "t")
    turns = ThreadTurns(tools, target, ThreadsPlan(4, 1, 25), lambda: woken.append(1))
    count = IDLE_POLLS_AT_ONCE + 2
    due = [(ShardTurn(f"s{n}", "1", f"it-s{n}", idle_polls=3), True) for n in range(count)]
    try:
        turns.start(due)
        by_shard = {t.shard: t for t in ended(turns, count)}
    finally:
        turns.close()
    assert sorted(len(asked) for asked in reader.asked) == [2, IDLE_POLLS_AT_ONCE]
    assert by_shard["s3"].expired and by_shard["s3"].iterator is None  # reopened next turn
    assert by_shard["s5"].records == 1 and by_shard["s5"].after == "9"
    assert target.written == [[{"DeleteRequest": {"Key": {"id": {"S": "k"}}}}]]
    quiet = [t for s, t in by_shard.items() if s not in ("s3", "s5")]
    assert all(t.records == 0 and t.after == "1" and t.iterator == f"it-{t.shard}+" for t in quiet)
    assert not woken  # the coordinator's next tick collects idle polls


def test_a_turn_that_is_not_an_idle_poll_is_read_on_its_own_and_wakes_the_coordinator() -> None:
    reader, target, woken = Quiet(), Target(), []
    tools = TurnTools(Pages(OneByOneQuiet(reader), 1000), target.write, {}, "t")
    turns = ThreadTurns(tools, target, ThreadsPlan(4, 1, 25), lambda: woken.append(1))
    try:
        turns.start([(ShardTurn("s1", None), False)])  # a new shard: no iterator yet
        (turned,) = ended(turns, 1)
    finally:
        turns.close()
    assert reader.asked == [["fresh-s1"]] and turned.iterator == "fresh-s1+"
    assert woken


class OneByOneQuiet:
    """The same stream, read through ``records_all`` one iterator at a time."""

    def __init__(self, stream: Quiet) -> None:
        self._stream = stream

    def iterator(self, shard_id: str, after: str | None) -> str:
        return self._stream.iterator(shard_id, after)

    def records(self, iterator: str) -> Page:
        raise AssertionError("Pages reads first pages through records_all")

    def records_all(self, iterators: Sequence[str]) -> list[Page | Exception]:
        assert len(iterators) == 1
        return self._stream.records_all(iterators)
