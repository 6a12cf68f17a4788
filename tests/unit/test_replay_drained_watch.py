"""DrainWatch: when the stream counts as drained, from what the coordinator saw."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from toolkit.work.replay_drained import DrainWatch


def watch(settle: float = 0.0) -> tuple[DrainWatch, list[float]]:
    now = [0.0]
    drain = DrainWatch(3, settle, lambda: now[0])
    drain.listed = True
    return drain, now


@given(st.lists(st.integers(0, 5), min_size=1, max_size=6))
def test_open_shards_count_once_each_came_back_empty_three_times(polls: list[int]) -> None:
    drain, _ = watch()
    shards = [f"s{n}" for n in range(len(polls))]
    drain.open(shards)
    for shard, empty in zip(shards, polls, strict=True):
        drain.polled(shard, empty, False)
    assert drain.drained(len(shards)) == all(empty >= 3 for empty in polls)


def test_a_shard_that_showed_records_is_read_to_its_end_after_one_empty_page() -> None:
    drain, _ = watch()
    drain.open(["a"])
    drain.polled("a", 1, False)
    assert not drain.drained(1)  # empty pages before any record prove little
    drain.polled("a", 1, True)
    assert drain.drained(1)


def test_a_finished_shard_waits_for_its_children_and_they_for_their_reads() -> None:
    drain, _ = watch()
    drain.open(["a"])
    drain.finished("a", children_known=False)
    assert not drain.drained(1)
    drain.added("b", "a")
    assert not drain.drained(1)  # b not read yet
    drain.polled("b", 3, False)
    assert drain.drained(1)


def test_past_the_pin_a_shard_and_its_children_count_whatever_they_hold() -> None:
    drain, _ = watch()
    drain.pin(100.0)
    drain.open(["a", "b"])
    drain.polled("b", 3, False)
    drain.applied("a", 99.0)  # made before the pin: a must go on
    drain.polled("a", 0, False)
    assert not drain.drained(2)
    drain.applied("a", 101.0)
    drain.polled("a", 0, False)  # records keep coming: it counts all the same
    assert drain.drained(2)
    drain.finished("a", children_known=False)  # its children need not be known
    drain.added("c", "a")  # nor read: their changes came after a's
    assert drain.drained(2)
    drain.added("d", "b")  # b is not past the pin: d must be read
    assert not drain.drained(2)


def test_a_late_showing_source_must_be_quiet_for_its_settle() -> None:
    drain, now = watch(settle=12.0)
    drain.open(["a"])
    drain.polled("a", 3, False)
    assert not drain.drained(1)
    now[0] = 11.9
    assert not drain.drained(1)
    now[0] = 12.0
    assert drain.drained(1)
    drain.polled("a", 0, False)  # a record: quiet again only from the next empty polls on
    drain.polled("a", 3, False)
    assert not drain.drained(1)


def test_nothing_is_drained_before_the_stream_was_listed() -> None:
    drain, _ = watch()
    drain.listed = False
    drain.open(["a"])
    drain.polled("a", 3, False)
    assert not drain.drained(1)
