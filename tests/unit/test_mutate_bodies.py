"""Item bodies: within the size bounds, valid DynamoDB values, every type, deterministic."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mutator.bodies import MAX_ITEM_BYTES, BodyGenerator, SizeBounds, smallest_item
from mutator.keys import KeySpace
from tests.strategies import assert_valid, key_schemas, nesting_depth
from toolkit.logic.items import Item, item_size
from toolkit.logic.table_schema import KeyAttribute, key_schema

if TYPE_CHECKING:
    from tests.strategies import TableKeys

POST_SHAPE = (KeyAttribute("id", "HASH", "S"), KeyAttribute("version", "RANGE", "N"))


def space_for(schema: TableKeys) -> KeySpace:
    key_elements, definitions = schema
    parts = key_schema({"KeySchema": key_elements, "AttributeDefinitions": definitions})
    return KeySpace(parts, 10**6)


def tags(value: dict[str, Any]) -> Iterator[str]:
    """Every type tag in a value, nested ones too."""
    ((tag, payload),) = value.items()
    yield tag
    children = payload.values() if tag == "M" else payload if tag == "L" else ()
    for child in children:
        yield from tags(child)


@settings(max_examples=150, deadline=None)
@given(
    schema=key_schemas(),
    low=st.integers(1, 5000),
    spread=st.integers(0, 60_000),
    seed=st.integers(0, 2**32),
    index=st.integers(0, 10**6 - 1),
)
def test_items_are_valid_keep_their_key_and_stay_within_bounds(
    schema: TableKeys, low: int, spread: int, seed: int, index: int
) -> None:
    key = space_for(schema).key(index)
    floor = smallest_item(key)
    high = min(MAX_ITEM_BYTES, max(low + spread, floor))
    generator = BodyGenerator(SizeBounds(min(low, high), high), seed % 3)  # pools: 3 kinds
    item = generator.item(key, random.Random(seed))
    assert {name: item[name] for name in key} == key
    assert max(low, floor) <= item_size(item) <= high
    for value in item.values():
        assert_valid(value)
        assert nesting_depth(value) <= 32


def test_same_seed_same_item_and_different_seeds_differ() -> None:
    key = KeySpace(POST_SHAPE, 100).key(7)
    generator = BodyGenerator(SizeBounds(40, 32768), 1)
    first = generator.item(key, random.Random(5))
    assert BodyGenerator(SizeBounds(40, 32768), 1).item(key, random.Random(5)) == first
    assert generator.item(key, random.Random(6)) != first


def many_items(bounds: SizeBounds, count: int = 2000) -> list[Item]:
    space = KeySpace(POST_SHAPE, count)
    generator = BodyGenerator(bounds, 3)
    return [generator.item(space.key(i), random.Random(i)) for i in range(count)]


def test_every_attribute_type_appears_top_level_and_nested() -> None:
    items = many_items(SizeBounds(40, 32768))
    top = Counter(next(iter(v)) for item in items for v in item.values())
    nested = Counter(
        tag
        for item in items
        for v in item.values()
        if next(iter(v)) in ("M", "L")
        for tag in list(tags(v))[1:]
    )
    every = {"S", "N", "B", "BOOL", "NULL", "SS", "NS", "BS", "L", "M"}
    assert set(top) == every
    assert set(nested) == every


def test_sizes_spread_from_tens_of_bytes_to_tens_of_kilobytes() -> None:
    sizes = sorted(item_size(item) for item in many_items(SizeBounds(40, 32768)))
    assert sizes[0] >= 40 and sizes[-1] <= 32768
    assert sum(s < 100 for s in sizes) > 50
    assert sum(s > 10_000 for s in sizes) > 200
    assert sum(s > 20_000 for s in sizes) > 50


def test_a_fixed_size_is_met_exactly() -> None:
    assert {item_size(item) for item in many_items(SizeBounds(1000, 1000), 300)} == {1000}


def test_a_key_named_like_a_body_attribute_is_never_overwritten() -> None:
    parts = (KeyAttribute("payload", "HASH", "S"), KeyAttribute("tags", "RANGE", "B"))
    space = KeySpace(parts, 100)
    generator = BodyGenerator(SizeBounds(10, 5000), 0)
    for index in range(100):
        key = space.key(index)
        item = generator.item(key, random.Random(index))
        assert {name: item[name] for name in key} == key
        assert "payload_" in item


@pytest.mark.parametrize(("low", "high"), [(0, 10), (10, 5), (1, MAX_ITEM_BYTES + 1)])
def test_bad_bounds_are_refused(low: int, high: int) -> None:
    with pytest.raises(ValueError):
        SizeBounds(low, high)
