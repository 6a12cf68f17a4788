"""Idle polls due together share one thread, their reads in flight together.

A stand-in reader stands for the stream: it records how its pages were asked for,
which is what these tests are about; the real reads in flight together are
tested in tests/servers/test_http1.py and tests/unit/test_stream_reader.py.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

from toolkit.wire.stream_reader import RECORDS_PER_CALL, IteratorExpired, Page
from toolkit.work.replay_turns import IDLE_POLLS_AT_ONCE, ThreadsPlan, ThreadTurns
from toolkit.work.shard_turn import Pages, ShardTurn, Turned, TurnTools


class Quiet:
    """Every shard empty, but one whose iterator is too old, and one with a record."""

    def __init__(self) -> None:
        self.asked: list[list[str]] = []  # the iterators of each records_all
        self.opened: list[list[str]] = []  # the shards of each iterators_all
        self.keys: dict[str, str] = {}  # a new shard's first page: one record of this key
        self.full: set[str] = set()  # new shards whose first page is full: a backlog

    def iterator(self, shard_id: str, after: str | None) -> str:
        raise AssertionError("new shards open their iterators together, not one by one")

    def iterators_all(self, shards: Sequence[tuple[str, str | None]]) -> list[str | Exception]:
        self.opened.append([shard_id for shard_id, _ in shards])
        return [f"fresh-{shard_id}" for shard_id, _ in shards]

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
        shard = iterator.removeprefix("fresh-")
        if shard in self.full:
            records: list[dict[str, Any]] = [
                {"eventName": "REMOVE", "dynamodb": {"Keys": {"id": {"S": f"{shard}-{n}"}}}}
                for n in range(RECORDS_PER_CALL)
            ]
            records[-1]["dynamodb"]["SequenceNumber"] = "8"
            return records, f"{iterator}+"
        if shard in self.keys:
            data = {"Keys": {"id": {"S": self.keys[shard]}}, "SequenceNumber": f"7{shard}"}
            return [{"eventName": "REMOVE", "dynamodb": data}], f"{iterator}+"
        return [], f"{iterator}+"


class Target:
    def __init__(self) -> None:
        self.written: list[list[dict[str, Any]]] = []
        self.sent_by: list[tuple[int, str]] = []  # each write's batches at once, and its thread

    def write(self, requests: Sequence[dict[str, Any]], at_once: int = 1) -> None:
        self.written.append(list(requests))
        self.sent_by.append((at_once, threading.current_thread().name))


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
    turns = ThreadTurns(tools, target, ThreadsPlan(4, 1), lambda: woken.append(1))
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


def new_shards(
    reader: Quiet, target: Target, count: int, threads: int, woken: list[int], writes: int = 1
) -> dict[str, Turned]:
    """``count`` new shards due together, on ``threads`` shard threads: their turns."""
    tools = TurnTools(Pages(reader, 1000), target.write, {}, "t")
    turns = ThreadTurns(tools, target, ThreadsPlan(threads, writes), lambda: woken.append(1))
    try:
        turns.start([(ShardTurn(f"s{n}", None), False) for n in range(count)])
        return {t.shard: t for t in ended(turns, count)}
    finally:
        turns.close()


def test_new_shards_due_together_open_and_read_together_and_write_as_one() -> None:
    reader, target, woken = Quiet(), Target(), list[int]()
    reader.keys = {f"s{n}": f"k{n}" for n in range(0, IDLE_POLLS_AT_ONCE + 2, 2)}
    by_shard = new_shards(reader, target, IDLE_POLLS_AT_ONCE + 2, 1, woken)
    assert sorted(map(len, reader.opened)) == sorted(map(len, reader.asked)) == [2, 8]
    # One write per group, holding the first page of each of its shards with records.
    written = sorted(
        sorted(r["DeleteRequest"]["Key"]["id"]["S"] for r in w) for w in target.written
    )
    groups = [sorted(f"k{s[1:]}" for s in opened if s in reader.keys) for opened in reader.opened]
    assert written == sorted(groups)
    assert all(by_shard[s].records == 1 and by_shard[s].after == f"7{s}" for s in reader.keys)
    assert all(t.iterator == f"fresh-{t.shard}+" for t in by_shard.values())
    assert woken  # they may have a backlog: the coordinator looks at once


def test_a_write_goes_out_from_its_turns_own_thread_its_batches_together() -> None:
    reader, target = Quiet(), Target()
    reader.keys = {"s0": "k0", "s1": "k1"}
    new_shards(reader, target, 2, 1, [], writes=3)
    assert [(at_once, thread.startswith("shard")) for at_once, thread in target.sent_by] == [
        (3, True)
    ]


def test_a_new_shard_with_a_backlog_leaves_its_group_after_its_first_page() -> None:
    reader, target = Quiet(), Target()
    reader.full = {"s1"}
    tools = TurnTools(Pages(reader, 4000), target.write, {}, "t")
    turns = ThreadTurns(tools, target, ThreadsPlan(1, 1), lambda: None)
    try:
        turns.start([(ShardTurn(f"s{n}", None), False) for n in range(3)])
        by_shard = {t.shard: t for t in ended(turns, 3)}
        deadline = time.monotonic() + 10  # its next page is read ahead, no turn asking
        while len(reader.asked) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert reader.asked[1:] == [["fresh-s1+"]]
        turns.start([(ShardTurn("s1", "8", "fresh-s1+"), False)])
        (second,) = ended(turns, 1)
    finally:
        turns.close()
    first = by_shard["s1"]
    assert first.backlog and first.records == RECORDS_PER_CALL and first.after == "8"
    assert reader.asked == [["fresh-s0", "fresh-s1", "fresh-s2"], ["fresh-s1+"]]  # once
    assert second.shard == "s1" and not second.backlog


def test_few_new_shards_are_spread_over_the_threads() -> None:
    reader = Quiet()
    assert len(new_shards(reader, Target(), 6, 4, [])) == 6
    assert sorted(map(len, reader.opened)) == [2, 2, 2]  # not one group of 6 on 4 threads


def test_shards_that_share_a_key_are_written_each_in_turn() -> None:
    reader, target = Quiet(), Target()
    reader.keys = {"s0": "same", "s1": "same", "s2": "other"}
    assert len(new_shards(reader, target, 3, 4, [])) == 3
    assert [len(w) for w in target.written] == [1, 1, 1]


def test_a_shard_with_a_backlog_is_read_on_its_own_and_wakes_the_coordinator() -> None:
    reader, target, woken = Quiet(), Target(), []
    tools = TurnTools(Pages(OneByOneQuiet(reader), 1000), target.write, {}, "t")
    turns = ThreadTurns(tools, target, ThreadsPlan(4, 1), lambda: woken.append(1))
    try:
        turns.start([(ShardTurn("s1", "1", "it-s1"), False)])  # not quiet: a full page last
        (turned,) = ended(turns, 1)
    finally:
        turns.close()
    assert reader.asked == [["it-s1"]] and turned.iterator == "it-s1+"
    assert woken


class OneByOneQuiet:
    """The same stream, read through ``records_all`` one iterator at a time."""

    def __init__(self, stream: Quiet) -> None:
        self._stream = stream

    def iterator(self, shard_id: str, after: str | None) -> str:
        raise AssertionError("a shard with a backlog has its iterator")

    def iterators_all(self, shards: Sequence[tuple[str, str | None]]) -> list[str | Exception]:
        return self._stream.iterators_all(shards)

    def records(self, iterator: str) -> Page:
        raise AssertionError("Pages reads first pages through records_all")

    def records_all(self, iterators: Sequence[str]) -> list[Page | Exception]:
        assert len(iterators) == 1
        return self._stream.records_all(iterators)
