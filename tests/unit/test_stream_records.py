"""Record to operation, and batch collapsing: pure, property-tested."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from toolkit.logic.stream_records import (
    DELETE,
    PUT,
    Change,
    UnusableRecord,
    change_of,
    count_by_type,
    last_change_per_key,
    one_write,
    operation_table,
)

KEYS = [f"k{n}" for n in range(5)]


def record(event: str, key: str, version: int, seq: int) -> dict[str, Any]:
    data: dict[str, Any] = {"Keys": {"id": {"S": key}}, "SequenceNumber": str(seq)}
    if event != "REMOVE":
        data["NewImage"] = {"id": {"S": key}, "version": {"N": str(version)}, "old": {"S": "x"}}
    return {"eventName": event, "dynamodb": data}


events = st.lists(
    st.tuples(st.sampled_from(["INSERT", "MODIFY", "REMOVE"]), st.sampled_from(KEYS)),
    max_size=60,
)


def apply(table: dict[str, Any], changes: list[Change]) -> None:
    for change in changes:
        if change.kind == DELETE:
            table.pop(change.request["DeleteRequest"]["Key"]["id"]["S"], None)
        else:
            item = change.request["PutRequest"]["Item"]
            table[item["id"]["S"]] = item


@given(events)
def test_collapsed_batch_ends_in_the_same_state_as_every_change_in_order(
    stream: list[tuple[str, str]],
) -> None:
    records = [record(event, key, n, n) for n, (event, key) in enumerate(stream)]
    changes = [change_of(r, {}) for r in records]
    one_by_one: dict[str, Any] = {"k0": {"pre": "existing"}}
    collapsed: dict[str, Any] = {"k0": {"pre": "existing"}}
    apply(one_by_one, changes)
    batch = last_change_per_key(changes)
    apply(collapsed, batch)
    assert collapsed == one_by_one
    assert len({c.key for c in batch}) == len(batch)  # BatchWriteItem's rule: one op per key


@given(st.lists(events, max_size=6), st.randoms())
def test_shards_changes_are_one_write_only_when_no_key_is_in_two_of_them(
    streams: list[list[tuple[str, str]]], order: Any
) -> None:
    shards = [
        last_change_per_key(
            change_of(record(e, f"{k}-{n % 3}", s, s), {}) for s, (e, k) in enumerate(stream)
        )
        for n, stream in enumerate(streams)
    ]
    together = one_write(shards)
    shared = sum(len({c.key for c in changes}) for changes in shards) > len(
        {c.key for changes in shards for c in changes}
    )
    if together is None:
        assert shared
        return
    assert not shared and sorted(map(id, together)) == sorted(id(c) for cs in shards for c in cs)
    each_in_turn: dict[str, Any] = {}
    for changes in shards:
        apply(each_in_turn, list(changes))
    order.shuffle(together)  # its batches may go in any order
    in_any_order: dict[str, Any] = {}
    apply(in_any_order, together)
    assert in_any_order == each_in_turn


def test_insert_and_modify_put_the_new_image_and_remove_deletes_the_keys() -> None:
    put = change_of(record("INSERT", "a", 1, 1), {})
    assert put.kind == PUT
    assert put.request == {
        "PutRequest": {"Item": record("INSERT", "a", 1, 1)["dynamodb"]["NewImage"]}
    }
    gone = change_of(record("REMOVE", "a", 0, 2), {})
    assert gone.kind == DELETE
    assert gone.request == {"DeleteRequest": {"Key": {"id": {"S": "a"}}}}
    assert put.key == gone.key


def test_renames_apply_to_images_and_keys() -> None:
    renames = {"id": "pk", "old": "new"}
    put = change_of(record("MODIFY", "a", 1, 1), renames)
    assert set(put.request["PutRequest"]["Item"]) == {"pk", "version", "new"}
    gone = change_of(record("REMOVE", "a", 0, 2), renames)
    assert gone.request["DeleteRequest"]["Key"] == {"pk": {"S": "a"}}


def test_a_record_without_new_image_is_refused() -> None:
    keys_only = {"eventName": "MODIFY", "dynamodb": {"Keys": {"id": {"S": "a"}}}}
    with pytest.raises(UnusableRecord, match="NEW_IMAGE"):
        change_of(keys_only, {})


def test_counts_and_the_posts_table() -> None:
    records = [record("INSERT", "a", 1, 1)] * 5 + [record("REMOVE", "b", 0, 2)] * 2
    counts = count_by_type(change_of(r, {}) for r in records)
    assert counts == {"DELETE": 2, "MODIFY": 5}
    assert operation_table(counts) == (
        "+---------------+-----+\n"
        "|_dynamo_op_type|count|\n"
        "+---------------+-----+\n"
        "| DELETE        |    2|\n"
        "| MODIFY        |    5|\n"
        "+---------------+-----+"
    )
