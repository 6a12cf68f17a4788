"""When a shard counts as read to its end, through the real coordinator and a stand-in reader.

DynamoDB Local's one shard never answers an empty page before its records, which
the API reference says GetRecords may do ("it might take multiple calls to get to
a portion of the shard that contains stream records"); the stand-in does, so the
rule for shards that showed no records yet is shown here. The real servers cover
--stop-when-drained end to end in test_replay.py and test_stream_scale.py.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import OneByOne
from toolkit.logic.poll_backoff import PollPace, read_to_its_end
from toolkit.logic.shard_tree import Shard
from toolkit.work.replay import Replayer, ReplaySettings, ReplayStats
from toolkit.work.state import RunState


def _record(key: str, sequence: int) -> dict[str, Any]:
    keys = {"id": {"S": key}}
    image = {**keys, "version": {"N": str(sequence)}}
    data = {"Keys": keys, "NewImage": image, "SequenceNumber": f"{sequence:021d}"}
    return {"eventName": "MODIFY", "dynamodb": data}


class SparseReader(OneByOne):
    """One open shard: ``empty_first`` empty pages, then its records, then empty pages."""

    def __init__(
        self, records: list[dict[str, Any]], empty_first: int, filters: bool = True
    ) -> None:
        self.stored = records
        self.empty_first = empty_first
        self.filters = filters  # DescribeStream's ShardFilter
        self.calls = 0
        self.listings = 0

    def shards(self) -> list[Shard]:
        self.listings += 1
        return [Shard("s000", None)]

    def children(self, shard_id: str) -> list[Shard] | None:
        return [] if self.filters else None

    def iterator(self, shard_id: str, after: str | None) -> str:
        return "0"

    def records(self, iterator: str) -> tuple[list[dict[str, Any]], str | None]:
        self.calls += 1
        if self.calls <= self.empty_first:
            return [], iterator
        position = int(iterator)
        page = self.stored[position:]
        return page, str(position + len(page))


class Target:
    def __init__(self) -> None:
        self.written: list[dict[str, Any]] = []

    def write(self, requests: Sequence[dict[str, Any]], at_once: int = 1) -> None:
        self.written.extend(requests)


class Silent:
    def batch_applied(self, counts: Mapping[str, int]) -> None: ...
    def tick(self, stats: ReplayStats) -> None: ...


def drain(
    reader: SparseReader, tmp_path: Path, pace: PollPace, describe_interval: float = 0.01
) -> Target:
    state = RunState(tmp_path / "state.sqlite")
    target = Target()
    settings = ReplaySettings(
        stop_when_drained=True, pace=pace, describe_interval=describe_interval
    )
    try:
        summary = Replayer(reader, target, state, settings, Silent(), threading.Event()).run()
    finally:
        state.close()
    assert summary.drained
    return target


def test_empty_pages_before_the_first_record_do_not_count_as_drained(tmp_path: Path) -> None:
    reader = SparseReader([_record("k", 1), _record("j", 2)], empty_first=2)
    pace = PollPace(first=0.001, cap=0.002, active=0.0)
    target = drain(reader, tmp_path, pace)
    assert len(target.written) == 2, "the records after two empty pages were replayed"


def test_one_empty_page_after_records_tells_the_shard_is_read_to_its_end(tmp_path: Path) -> None:
    reader = SparseReader([_record("k", 1)], empty_first=0)
    # After the empty page the shard is not polled again for 5 s: the run ends
    # first only if that one empty page was enough.
    pace = PollPace(first=5.0, cap=5.0, active=0.0)
    target = drain(reader, tmp_path, pace)
    assert len(target.written) == 1
    assert reader.calls == 2, "one read with the record, one empty page"


@given(empty=st.integers(0, 50), had_records=st.booleans(), polls=st.integers(0, 10))
def test_read_to_its_end_needs_an_empty_poll_and_more_of_them_before_any_record(
    empty: int, had_records: bool, polls: int
) -> None:
    done = read_to_its_end(empty, had_records, polls)
    assert done <= read_to_its_end(empty + 1, had_records, polls), "more empty polls never undo"
    assert done <= read_to_its_end(empty, True, polls), "records seen never make it harder"
    if empty == 0:
        assert not done
    if not had_records:
        assert done == (empty >= max(polls, 1))
    else:
        assert done == (empty >= 1)


def test_a_server_with_shard_filter_needs_no_confirming_listing(tmp_path: Path) -> None:
    # Its ShardFilter is asked once, after the first listing: a stream whose shards
    # are all open is then drained without listing thousands of shards once more.
    reader = SparseReader([_record("k", 1)], empty_first=0)
    drain(reader, tmp_path, PollPace(first=0.001, cap=0.002, active=0.0), describe_interval=60)
    assert reader.listings == 1


def test_without_shard_filter_a_listing_confirms_the_drained_stream(tmp_path: Path) -> None:
    reader = SparseReader([_record("k", 1)], empty_first=0, filters=False)
    drain(reader, tmp_path, PollPace(first=0.001, cap=0.002, active=0.0), describe_interval=60)
    assert reader.listings == 2, "shards may appear unseen: listed again once it looked drained"
