"""A stint's turns of a shard folded into one result, and a stint's own rules."""

from __future__ import annotations

import threading
from functools import reduce
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import OneByOne
from toolkit.logic.poll_backoff import PollPace
from toolkit.work.shard_stint import Stint, folded, take_stint
from toolkit.work.shard_turn import Pages, ShardTurn, Turned, TurnTools

turns = st.builds(
    Turned,
    shard=st.just("s"),
    after=st.text("0123456789", min_size=1, max_size=4),
    iterator=st.none() | st.just("it"),
    records=st.integers(0, 5),
    counts=st.dictionaries(st.sampled_from(["INSERT", "MODIFY", "REMOVE"]), st.integers(0, 5)),
    oldest=st.floats(0, 100),
    newest=st.floats(0, 100),
)


@given(st.lists(turns, min_size=1, max_size=8))
def test_turns_in_a_row_fold_into_their_sums_and_the_last_ones_place(row: list[Turned]) -> None:
    whole = reduce(folded, row)
    assert whole.records == sum(t.records for t in row)
    for kind in ("INSERT", "MODIFY", "REMOVE"):
        assert whole.counts.get(kind, 0) == sum(t.counts.get(kind, 0) for t in row)
    last = row[-1]
    assert (whole.after, whole.iterator, whole.finished) == (last.after, last.iterator, False)
    with_records = [t for t in row if t.records]
    if with_records:
        assert whole.oldest == with_records[0].oldest and whole.newest == with_records[-1].newest


class TwoShards(OneByOne):
    """Shard "open" answers one new record per read; shard "closing" one, and its end."""

    def __init__(self) -> None:
        self.reads: dict[str, int] = {"open": 0, "closing": 0}
        self.lock = threading.Lock()

    def iterator(self, shard_id: str, after: str | None) -> str:
        return shard_id

    def records(self, iterator: str) -> tuple[list[dict[str, Any]], str | None]:
        with self.lock:
            self.reads[iterator] += 1
            n = self.reads[iterator]
        record = {"eventName": "MODIFY", "dynamodb": _data(f"{iterator}{n}", n)}
        return [record], None if iterator == "closing" else iterator


def _data(key: str, n: int) -> dict[str, Any]:
    keys = {"id": {"S": key}}
    return {"Keys": keys, "NewImage": keys, "SequenceNumber": f"{n:021d}"}


def test_a_stint_follows_its_shards_until_its_time_is_up() -> None:
    reader, written = TwoShards(), list[dict[str, Any]]()
    tools = TurnTools(Pages(reader, 4000), written.extend, {}, "t")
    stint = Stint([ShardTurn("open", None)], 0.3, PollPace(active=0.01))
    (result,) = take_stint(tools, stint, width=2)
    assert result.records == reader.reads["open"] > 5  # read again and again, for 0.3 s
    assert result.after == f"{result.records:021d}" and result.iterator == "open"
    assert result.idle_polls == 0 and len(written) == result.records


def test_a_stint_ends_once_a_shard_is_finished_and_each_one_had_a_turn() -> None:
    reader, written = TwoShards(), list[dict[str, Any]]()
    tools = TurnTools(Pages(reader, 4000), written.extend, {}, "t")
    waiting = ShardTurn("open", "000000000000000000007", "open", idle_polls=3)
    stint = Stint([ShardTurn("closing", None), waiting], 60.0, PollPace())
    # One turn at a time: "closing" first, finished at once; the stint ends long
    # before its 60 s, once "open" too had its turn (never starved behind it).
    results = {t.shard: t for t in take_stint(tools, stint, width=1)}
    closing = results["closing"]
    assert closing.finished and closing.records == 1 and closing.after == f"{1:021d}"
    assert results["open"].records == reader.reads["open"] == 1
    assert results["open"].idle_polls == 0 and len(written) == 2
