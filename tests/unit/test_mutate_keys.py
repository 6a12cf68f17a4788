"""The mutator's key space, live-key set and put/delete mix (pure logic, hypothesis)."""

from __future__ import annotations

import base64
import random
import statistics
from typing import TYPE_CHECKING

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mutator.keys import RANGE_GROUP, KeySpace, LiveKeys
from mutator.mix import DELETE, PUT, OperationMix, settled_live_fraction
from tests.strategies import (
    HASH_KEY_MAX_BYTES,
    RANGE_KEY_MAX_BYTES,
    key_schemas,
    keys_for,
    valid_number,
)
from toolkit.logic.items import Key, key_id
from toolkit.logic.table_schema import KeyAttribute, key_schema

if TYPE_CHECKING:
    from tests.strategies import TableKeys


def parts_of(schema: TableKeys) -> tuple[KeyAttribute, ...]:
    key_elements, definitions = schema
    return key_schema({"KeySchema": key_elements, "AttributeDefinitions": definitions})


def assert_valid_key(key: Key, parts: tuple[KeyAttribute, ...]) -> None:
    assert set(key) == {p.name for p in parts}
    for part in parts:
        ((kind, payload),) = key[part.name].items()
        assert kind == part.type
        limit = HASH_KEY_MAX_BYTES if part.role == "HASH" else RANGE_KEY_MAX_BYTES
        if kind == "S":
            assert 0 < len(payload.encode()) <= limit
        elif kind == "B":
            assert 0 < len(base64.b64decode(payload, validate=True)) <= limit
        else:
            valid_number(payload)
            assert str(int(payload)) == payload  # as DynamoDB stores it: scans return it so


space_sizes = st.integers(1, 10**9)


@settings(max_examples=200)
@given(schema=key_schemas(), size=space_sizes, data=st.data())
def test_keys_are_deterministic_valid_and_invertible(
    schema: TableKeys, size: int, data: st.DataObject
) -> None:
    parts = parts_of(schema)
    space = KeySpace(parts, size)
    index = data.draw(st.integers(0, size - 1))
    key = space.key(index)
    assert_valid_key(key, parts)
    assert key == KeySpace(parts, size).key(index)
    assert key == KeySpace(parts, index + 1).key(index)  # independent of the space's size
    assert space.index_of(key) == index


@settings(max_examples=50)
@given(schema=key_schemas(), size=st.integers(1, 3000))
def test_distinct_indexes_give_distinct_keys(schema: TableKeys, size: int) -> None:
    space = KeySpace(parts_of(schema), size)
    assert len({key_id(space.key(i)) for i in range(size)}) == size


@settings(max_examples=200)
@given(schema=key_schemas(), size=space_sizes, data=st.data())
def test_foreign_keys_are_not_taken_for_keys_of_the_space(
    schema: TableKeys, size: int, data: st.DataObject
) -> None:
    space = KeySpace(parts_of(schema), size)
    key = data.draw(keys_for(schema))
    index = space.index_of(key)
    assert index is None or space.key(index) == key


def test_range_keys_group_versions_under_one_id() -> None:
    parts = (KeyAttribute("id", "HASH", "S"), KeyAttribute("version", "RANGE", "N"))
    space = KeySpace(parts, 10_000)
    assert space.key(0) == {"id": {"S": "key-000000"}, "version": {"N": "0"}}
    assert space.key(4 * 42 + 3) == {"id": {"S": "key-000042"}, "version": {"N": "3"}}
    assert space.index_of({"id": {"S": "key-000042"}, "version": {"N": str(RANGE_GROUP)}}) is None
    assert space.index_of({"id": {"S": "key-002500"}, "version": {"N": "0"}}) is None  # past N
    assert space.index_of({"id": {"S": "key-42"}, "version": {"N": "0"}}) is None


def test_out_of_range_indexes_and_bad_schemas_are_refused() -> None:
    space = KeySpace((KeyAttribute("pk", "HASH", "B"),), 5)
    with pytest.raises(IndexError):
        space.key(5)
    with pytest.raises(ValueError):
        KeySpace((KeyAttribute("sk", "RANGE", "S"),), 5)
    with pytest.raises(ValueError):
        KeySpace((KeyAttribute("pk", "HASH", "S"),), 0)


@given(size=st.integers(1, 50), steps=st.lists(st.tuples(st.booleans(), st.integers(0, 49))))
def test_live_keys_behave_like_a_set(size: int, steps: list[tuple[bool, int]]) -> None:
    live, model = LiveKeys(size), set()
    rng = random.Random(0)
    for add, raw in steps:
        index = raw % size
        if add:
            live.add(index)
            model.add(index)
        else:
            live.remove(index)
            model.discard(index)
        assert len(live) == len(model)
        assert all((i in live) == (i in model) for i in range(size))
        if model:
            assert live.pick(rng) in model


@settings(max_examples=50)
@given(
    size=st.integers(1, 300),
    fraction=st.floats(0, 1),
    seed=st.integers(0, 2**32),
    initial=st.sets(st.integers(0, 299)),
)
def test_deletes_hit_live_keys_and_puts_any_key(
    size: int, fraction: float, seed: int, initial: set[int]
) -> None:
    live = LiveKeys(size, (i for i in initial if i < size))
    model = {i for i in initial if i < size}
    mix = OperationMix(live, fraction, random.Random(seed))
    for seq in range(500):
        operation = mix.next()
        assert operation.seq == seq and 0 <= operation.index < size
        if operation.kind == DELETE:
            assert operation.index in model
            model.discard(operation.index)
        else:
            assert operation.kind == PUT
            model.add(operation.index)
        assert len(live) == len(model)


@given(seed=st.integers(0, 2**32), fraction=st.floats(0, 1))
def test_same_seed_same_operations(seed: int, fraction: float) -> None:
    def operations() -> list[tuple[str, int, int]]:
        mix = OperationMix(LiveKeys(100), fraction, random.Random(seed))
        return [(op.kind, op.index, op.body_seed) for op in (mix.next() for _ in range(300))]

    assert operations() == operations()


@settings(max_examples=12, deadline=None)
@given(size=st.integers(500, 2000), seed=st.integers(0, 2**32))
def test_default_mix_keeps_about_two_thirds_of_the_keys_alive(size: int, seed: int) -> None:
    live = LiveKeys(size)
    mix = OperationMix(live, 0.75, random.Random(seed))
    steps = 10 * size
    samples, puts = [], 0
    for step in range(steps):
        puts += mix.next().kind == PUT
        if step >= steps // 2 and step % 10 == 0:
            samples.append(len(live) / size)
    assert statistics.mean(samples) == pytest.approx(2 / 3, abs=0.05)
    assert puts / steps == pytest.approx(0.75, abs=0.03)


@settings(max_examples=10, deadline=None)
@given(fraction=st.sampled_from([0.6, 0.9, 1.0]), seed=st.integers(0, 2**32))
def test_the_live_fraction_settles_where_the_formula_says(fraction: float, seed: int) -> None:
    size = 1000
    live = LiveKeys(size)
    mix = OperationMix(live, fraction, random.Random(seed))
    samples = []
    for step in range(12 * size):
        mix.next()
        if step >= 6 * size and step % 10 == 0:
            samples.append(len(live) / size)
    assert statistics.mean(samples) == pytest.approx(settled_live_fraction(fraction), abs=0.05)
