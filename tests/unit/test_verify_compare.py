"""The comparison's orchestration against in-memory tables: no server, every path.

The fake tables answer Scan (segments, pages, projections) and BatchGetItem
(unprocessed keys, eventually consistent reads that lag) in DynamoDB's shapes.
Lagging reads make suspects; the consistent re-read must settle them, so that
exactly the planted differences are reported.
"""

from __future__ import annotations

import random
import threading
import zlib
from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.test_verify_diff import Planted, planted_tables
from toolkit.errors import TerminalError
from toolkit.logic.items import Item, key_id, key_of
from toolkit.wire.dataplane import Answer
from toolkit.wire.retry import RetryPolicy
from toolkit.wire.scan import Table
from verify.compare import Comparison, PassResult, PassSettings
from verify.diff import Difference
from verify.layout import Layout
from verify.reads import batch_get


class FakeTable:
    """One table in memory. ``lagging`` keys read stale unless ConsistentRead is set."""

    def __init__(
        self, name: str, items: list[Item], key_names: list[str], seed: int, page: int = 3
    ) -> None:
        self.name = name
        self.key_names = key_names
        self.items = {key_id(key_of(item, key_names)): item for item in items}
        self.lagging: dict[bytes, Item | None] = {}  # what a stale read shows instead
        self.rng = random.Random(seed)
        self.page = page
        self.calls: Counter[str] = Counter()

    def call(self, operation: str, request: dict[str, Any]) -> Answer:
        self.calls[operation] += 1
        body = self._scan(request) if operation == "Scan" else self._batch_get(request)
        return Answer(body, 0)

    def _scan(self, request: dict[str, Any]) -> dict[str, Any]:
        assert request["TableName"] == self.name
        total, segment = request["TotalSegments"], request["Segment"]
        mine = sorted(i for i in self.items if zlib.crc32(i) % total == segment)
        start = request.get("ExclusiveStartKey")
        if start is not None:
            mine = [i for i in mine if i > key_id(start)]
        page = mine[: request.get("Limit") or self.page]
        body: dict[str, Any] = {"Items": [_project(self.items[i], request) for i in page]}
        if len(mine) > len(page):
            body["LastEvaluatedKey"] = key_of(self.items[page[-1]], self.key_names)
        return body

    def _batch_get(self, request: dict[str, Any]) -> dict[str, Any]:
        shape = request["RequestItems"][self.name]
        keys = shape["Keys"]
        assert 0 < len(keys) <= 100 and len({key_id(k) for k in keys}) == len(keys)
        found, unprocessed = [], []
        for n, key in enumerate(keys):
            if n and self.rng.random() < 0.3:
                unprocessed.append(key)
                continue
            identity = key_id(key)
            item = self.items.get(identity)
            if not shape["ConsistentRead"] and identity in self.lagging:
                item = self.lagging[identity]
            if item is not None:
                found.append(_project(item, shape))
        body: dict[str, Any] = {"Responses": {self.name: found}}
        if unprocessed:
            body["UnprocessedKeys"] = {self.name: {**shape, "Keys": unprocessed}}
        return body


def _project(item: Item, request: dict[str, Any]) -> Item:
    if "ProjectionExpression" not in request:
        return item
    names = request["ExpressionAttributeNames"]
    wanted = [names[p.strip()] for p in request["ProjectionExpression"].split(",")]
    return {name: item[name] for name in wanted if name in item}


class Collected:
    def __init__(self) -> None:
        self.differences: list[Difference] = []
        self._lock = threading.Lock()

    def confirmed(self, difference: Difference) -> None:
        with self._lock:
            self.differences.append(difference)


class Quiet:
    def direction_started(self, name: str, segments: int) -> None:
        pass

    def page_compared(self, items: int) -> None:
        pass

    def direction_done(self) -> None:
        pass


NO_WAIT = RetryPolicy(base=0.0, sleep=lambda _: None)


def compare(
    source: FakeTable, target: FakeTable, layout: Layout, segments: int, both: bool
) -> tuple[PassResult, list[Difference]]:
    sink = Collected()
    comparison = Comparison(
        layout,
        PassSettings(segments, workers=3, both_directions=both, recheck_delay=0.0),
        Table(source, source.name, NO_WAIT),
        Table(target, target.name, NO_WAIT),
        sink,
        Quiet(),
        sleep=lambda _: None,
    )
    return comparison.run(), sink.differences


def layout_of(tables: Planted, ttl: str | None = None) -> Layout:
    back = {new: old for old, new in tables.renames.items()}
    return Layout(
        source_table="source_table",
        target_table="target_table",
        source_keys=tuple(back.get(n, n) for n in tables.key_names),
        target_keys=tuple(tables.key_names),
        renames=tables.renames,
        source_ttl=ttl,
        source_size=0,
    )


@settings(max_examples=40, deadline=None)
@given(planted_tables(), st.integers(1, 5), st.integers(0, 2**16), st.data())
def test_reports_exactly_the_planted_differences_despite_lagging_reads(
    tables: Planted, segments: int, seed: int, data: st.DataObject
) -> None:
    layout = layout_of(tables)
    source = FakeTable("source_table", tables.source, list(layout.source_keys), seed)
    target = FakeTable("target_table", tables.target, list(layout.target_keys), seed + 1)
    # Some identical items look absent on the target, some target items absent on the
    # source, until read consistently: a live source whose target lags behind.
    for identity in tables.expected["same"]:
        if data.draw(st.booleans()):
            target.lagging[identity] = None
    for item in tables.source:
        if data.draw(st.booleans()):
            source.lagging[key_id(key_of(item, list(layout.source_keys)))] = None

    result, differences = compare(source, target, layout, segments, both=True)

    found = {kind: set[bytes]() for kind in ("missing", "extra", "different")}
    for difference in differences:
        found[difference.kind].add(key_id(difference.key))
    assert found == {kind: tables.expected[kind] for kind in found}
    assert len(differences) == sum(map(len, found.values()))  # each reported once
    assert result.forward.tally.items == len(tables.source)
    assert result.forward.tally.identical == len(tables.expected["same"])
    assert result.backward is not None
    assert result.backward.tally.items == len(tables.target)
    tallies = [result.forward.tally, result.backward.tally]
    assert sum(t.suspects - t.settled for t in tallies) == len(differences)
    assert result.forward.tally.suspects >= len(target.lagging)


def test_one_direction_never_scans_the_target() -> None:
    items = [{"id": {"S": f"k{n}"}, "v": {"N": str(n)}} for n in range(20)]
    tables = Planted(items, [*items[:-1], {"id": {"S": "extra"}}], ["id"], {}, {})
    source = FakeTable("source_table", tables.source, ["id"], 1)
    target = FakeTable("target_table", tables.target, ["id"], 2)

    result, differences = compare(source, target, layout_of(tables), 2, both=False)

    assert [(d.kind, d.key) for d in differences] == [("missing", {"id": {"S": "k19"}})]
    assert result.backward is None and target.calls["Scan"] == 0
    assert result.forward.tally.identical == 19


def test_expired_items_are_skipped_on_both_sides() -> None:
    now = 1_700_000_000
    expired, live = {"N": str(now - 60)}, {"N": str(now + 60)}
    source_items = [
        {"id": {"S": "gone"}, "ttl": expired},  # not in the target: migrate skipped it
        {"id": {"S": "kept"}, "ttl": live},
    ]
    target_items = [
        {"pk": {"S": "kept"}, "expires": live},
        {"pk": {"S": "stale"}, "expires": expired},  # expired on the target: not an extra
    ]
    renames = {"id": "pk", "ttl": "expires"}
    tables = Planted(source_items, target_items, ["pk"], renames, {})
    source = FakeTable("source_table", source_items, ["id"], 1)
    target = FakeTable("target_table", target_items, ["pk"], 2)
    comparison = Comparison(
        layout_of(tables, ttl="ttl"),
        PassSettings(2, workers=2, both_directions=True, recheck_delay=0.0),
        Table(source, source.name, NO_WAIT),
        Table(target, target.name, NO_WAIT),
        sink := Collected(),
        Quiet(),
        now=lambda: now,
    )

    result = comparison.run()

    assert sink.differences == []
    assert result.forward.tally.expired == 1 and result.forward.tally.identical == 1
    assert result.backward is not None and result.backward.tally.expired == 1


class NeverProcesses:
    def call(self, operation: str, request: dict[str, Any]) -> Answer:
        shape = request["RequestItems"]["t"]
        return Answer({"Responses": {"t": []}, "UnprocessedKeys": {"t": shape}}, 0)


def test_keys_left_unprocessed_for_good_stop_the_run_with_one_line() -> None:
    policy = RetryPolicy(give_up_after=0.0, sleep=lambda _: None)
    keys = [{"id": {"S": f"k{n}"}} for n in range(150)]

    with pytest.raises(TerminalError, match="reading table t: 100 keys stayed unprocessed"):
        batch_get(Table(NeverProcesses(), "t", policy), keys)
