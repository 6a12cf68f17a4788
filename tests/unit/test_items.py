"""Properties of the wire-form item helpers, and of the strategies that feed them."""

from __future__ import annotations

import base64
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import assume, find, given, settings
from hypothesis import strategies as st

from tests import strategies as gen
from toolkit.logic.items import (
    TTL_MAX_AGE_SECONDS,
    AttributeValue,
    Item,
    apply_renames,
    canonical,
    digest,
    item_size,
    key_id,
    key_of,
    ttl_expired,
)

TYPES = ("S", "N", "B", "SS", "NS", "BS", "M", "L", "BOOL", "NULL")
NOW = 1_700_000_000.0
Path = tuple[Any, ...]


def only(value: AttributeValue) -> tuple[str, Any]:
    assert len(value) == 1
    return next(iter(value.items()))


# --- the strategies keep DynamoDB's rules ---------------------------------------------


@settings(max_examples=100)
@given(gen.items(max_depth=3))
def test_items_hold_only_valid_values(item: Item) -> None:
    assert item and all(item)
    for value in item.values():
        gen.assert_valid(value)
        assert gen.nesting_depth(value) <= 3


@settings(max_examples=300)
@given(gen.numbers())
def test_numbers_stay_within_range_and_precision(text: str) -> None:
    gen.valid_number(text)


@settings(max_examples=20)
@given(gen.deeply_nested())
def test_deeply_nested_value_is_exactly_32_levels(value: AttributeValue) -> None:
    assert gen.nesting_depth(value) == gen.MAX_DEPTH
    gen.assert_valid(value)
    assert len(digest({"deep": value})) == 64
    assert item_size({"deep": value}) == 4 + reference_size(value)


@pytest.mark.parametrize("tag", TYPES)
def test_values_cover_every_type(tag: str) -> None:
    find(gen.attribute_values(), lambda value: tag in value)


@pytest.mark.parametrize(
    "wanted",
    [
        lambda n: "E" in n.upper(),
        lambda n: n.startswith("-"),
        lambda n: "." in n and "E" not in n.upper(),
        lambda n: Decimal(n) != 0 and Decimal(n).adjusted() >= 120,
        lambda n: Decimal(n) != 0 and Decimal(n).adjusted() <= -125,
        lambda n: len(Decimal(n).as_tuple().digits) >= 30,
    ],
)
def test_numbers_cover_forms_and_range(wanted: Callable[[str], bool]) -> None:
    find(gen.numbers(), wanted)


def test_strings_cover_astral_and_empty() -> None:
    find(gen.texts(), lambda s: any(ord(c) > 0xFFFF for c in s))
    find(gen.attribute_values(max_depth=1), lambda v: v == {"S": ""})
    find(gen.attribute_values(max_depth=1), lambda v: v == {"B": ""})


@settings(max_examples=50)
@given(st.data())
def test_items_carry_their_schema_key_and_key_of_takes_it(data: st.DataObject) -> None:
    key_schema, definitions = schema = data.draw(gen.key_schemas())
    assert [e["KeyType"] for e in key_schema] == ["HASH", "RANGE"][: len(key_schema)]
    item = data.draw(gen.items_for(schema))
    key = key_of(item, [e["AttributeName"] for e in key_schema])
    assert list(key) == [e["AttributeName"] for e in key_schema]
    assert all(value is item[name] for name, value in key.items())
    limits = {"HASH": gen.HASH_KEY_MAX_BYTES, "RANGE": gen.RANGE_KEY_MAX_BYTES}
    for element, definition in zip(key_schema, definitions, strict=True):
        kind = definition["AttributeType"]
        value = key[element["AttributeName"]]
        assert list(value) == [kind] and kind in "SNB"
        gen.assert_valid(value)
        if kind == "N":
            assert value["N"] == gen.as_stored(value["N"])
        else:
            raw = value["S"].encode() if kind == "S" else base64.b64decode(value["B"])
            assert 0 < len(raw) <= limits[element["KeyType"]]


@pytest.mark.parametrize(
    ("written", "stored"),  # as DynamoDB Local 1.25 returned them
    [("1.0", "1"), ("-0", "0"), ("0.000123E5", "12.3"), ("1.5E30", "15" + "0" * 29)],
)
def test_as_stored_writes_numbers_as_dynamodb_returns_them(written: str, stored: str) -> None:
    assert gen.as_stored(written) == stored


@settings(max_examples=100)
@given(gen.numbers())
def test_as_stored_keeps_the_value(text: str) -> None:
    stored = gen.as_stored(text)
    assert Decimal(stored) == Decimal(text) and gen.as_stored(stored) == stored
    assert "E" not in stored.upper() and not ("." in stored and stored.endswith("0"))


def test_key_values_reach_the_byte_limits() -> None:
    find(gen.key_values("S", 2048), lambda v: len(v["S"].encode()) > 2040)
    find(gen.key_values("B", 1024), lambda v: len(base64.b64decode(v["B"])) == 1024)


@settings(max_examples=5, deadline=None)
@given(st.data())
def test_large_item_is_exactly_the_size_asked(data: st.DataObject) -> None:
    schema = data.draw(gen.key_schemas())
    item = data.draw(gen.large_item(390 * 1024, schema))
    assert item_size(item) == 390 * 1024 <= gen.MAX_ITEM_BYTES
    assert all(e["AttributeName"] in item for e in schema[0])
    with pytest.raises(ValueError, match="size_bytes"):
        gen.large_item(gen.MAX_ITEM_BYTES + 1)


# --- keys and renames -----------------------------------------------------------------


@settings(max_examples=100)
@given(st.data())
def test_key_id_ignores_dict_order_and_tells_keys_apart(data: st.DataObject) -> None:
    schema = data.draw(gen.key_schemas())
    first, second = data.draw(gen.keys_for(schema)), data.draw(gen.keys_for(schema))
    assert key_id(first) == key_id(dict(reversed(first.items())))
    assert (key_id(first) == key_id(second)) == (first == second)


def test_key_id_keeps_number_forms_apart() -> None:
    # Alternator does not normalise key numbers: these are three different items
    assert len({key_id({"id": {"N": form}}) for form in ("1", "1.0", "1E0")}) == 3


@settings(max_examples=50)
@given(gen.items(), st.data())
def test_apply_renames_moves_values_untouched(item: Item, data: st.DataObject) -> None:
    chosen = data.draw(st.lists(st.sampled_from(sorted(item)), unique=True))
    renames = {name: f"renamed\0{name}" for name in chosen} | {"absent\0": "ignored"}
    assume(not any(new in item for new in renames.values()))
    assert apply_renames(item, {}) is item  # free on the hot path
    renamed = apply_renames(item, renames)
    assert len(renamed) == len(item)
    assert all(renamed[renames.get(name, name)] is value for name, value in item.items())


# --- TTL ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expired"),
    [
        ({"N": str(int(NOW) - 1)}, True),
        ({"N": "1.6999e9"}, True),
        ({"N": str(int(NOW))}, False),  # expired only once in the past
        ({"N": str(int(NOW) + 1)}, False),
        ({"N": str(int(NOW) * 1000)}, False),  # milliseconds: far future
        ({"N": str(int(NOW) - TTL_MAX_AGE_SECONDS)}, True),  # exactly five years
        ({"N": str(int(NOW) - TTL_MAX_AGE_SECONDS - 1)}, False),  # older: ignored
        ({"N": "-5"}, False),
        ({"S": "1600000000"}, False),
        ({"NS": ["1600000000"]}, False),
        ({"N": "not a number"}, False),
    ],
)
def test_ttl_expired_follows_dynamodb(value: AttributeValue, expired: bool) -> None:
    assert ttl_expired({"id": {"S": "a"}, "ttl": value}, "ttl", NOW) is expired
    assert not ttl_expired({"id": {"S": "a"}, "ttl": value}, None, NOW)
    assert not ttl_expired({"id": {"S": "a"}}, "ttl", NOW)


@given(st.integers(-(10**12), 10**12))
def test_ttl_expired_only_within_five_years_past(age: int) -> None:
    item = {"ttl": {"N": str(int(NOW) - age)}}
    assert ttl_expired(item, "ttl", NOW) is (0 < age <= TTL_MAX_AGE_SECONDS)


# --- canonical form and digest -------------------------------------------------------------


def equal_number(text: str, form: int) -> str:
    number = Decimal(text)
    sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)
    padded = f"{'-' if sign else ''}{''.join(map(str, digits))}0E{exponent - 1}"
    return [format(number, "E"), format(number, "f"), padded][form]


def rewritten(value: AttributeValue, data: st.DataObject) -> AttributeValue:
    """The same value written differently: number forms, set and map orders."""
    tag, payload = only(value)
    form = data.draw(st.integers(0, 2))
    if tag in ("N", "NS"):
        numbers = [equal_number(n, form) for n in ([payload] if tag == "N" else payload)]
        return {"N": numbers[0]} if tag == "N" else {"NS": data.draw(st.permutations(numbers))}
    if tag in ("SS", "BS"):
        return {tag: data.draw(st.permutations(payload))}
    if tag == "M":
        return {"M": {k: rewritten(v, data) for k, v in reversed(payload.items())}}
    if tag == "L":
        return {"L": [rewritten(member, data) for member in payload]}
    return value


@settings(max_examples=100)
@given(gen.items(max_depth=3), st.data())
def test_canonical_ignores_how_equal_values_are_written(item: Item, data: st.DataObject) -> None:
    other = {name: rewritten(value, data) for name, value in reversed(item.items())}
    assert canonical(other) == canonical(item)
    assert digest(other) == digest(item)


def leaf_paths(value: AttributeValue, path: Path) -> list[Path]:
    tag, payload = only(value)
    members = payload.items() if tag == "M" else enumerate(payload) if tag == "L" else ()
    found = [p for k, v in members for p in leaf_paths(v, (*path, k))]
    return found or [path]  # scalars, sets and empty containers are leaves


def changed(value: AttributeValue) -> AttributeValue:
    """A leaf that differs from ``value`` in meaning, not just in form."""
    tag, payload = only(value)
    if tag in ("SS", "NS", "BS"):
        single = changed({tag[0]: payload[0]})[tag[0]]
        return {tag: payload[1:] if len(payload) > 1 else [single]}
    if tag == "N":
        flipped = payload[1:] if payload.startswith("-") else f"-{payload}"
        return {"N": "1" if Decimal(payload) == 0 else flipped}
    new: dict[str, Callable[[], AttributeValue]] = {
        "S": lambda: {"S": payload + "x"},
        "B": lambda: {"B": base64.b64encode(base64.b64decode(payload) + b"\0").decode()},
        "BOOL": lambda: {"BOOL": not payload},
        "NULL": lambda: {"BOOL": True},
        "M": lambda: {"M": {"a": {"NULL": True}}},
        "L": lambda: {"L": [{"NULL": True}]},
    }
    return new[tag]()


def replaced(value: AttributeValue, path: Path) -> AttributeValue:
    if not path:
        return changed(value)
    tag, payload = only(value)
    if tag == "M":
        return {"M": {k: replaced(v, path[1:]) if k == path[0] else v for k, v in payload.items()}}
    return {"L": [replaced(v, path[1:]) if i == path[0] else v for i, v in enumerate(payload)]}


@settings(max_examples=100)
@given(gen.items(max_depth=3), st.data())
def test_digest_changes_when_any_leaf_changes(item: Item, data: st.DataObject) -> None:
    paths = [p for name, value in item.items() for p in leaf_paths(value, (name,))]
    name, *inner = data.draw(st.sampled_from(paths))
    other = {**item, name: replaced(item[name], tuple(inner))}
    assert canonical(other) != canonical(item)
    assert digest(other) != digest(item)


def test_canonical_examples() -> None:
    assert canonical({"N": "1.0"}) == canonical({"N": "1"}) == canonical({"N": "1E0"})
    assert canonical({"N": "-0"}) == canonical({"N": "0.00"}) == {"N": "0"}
    assert canonical({"N": "1.0"}) != canonical({"N": "1.01"})
    assert canonical({"NS": ["2.0", "1"]}) == canonical({"NS": ["1", "2"]})
    assert canonical({"BS": ["Yw==", "YWI="]}) == canonical({"BS": ["YWI=", "Yw=="]})
    assert canonical({"L": [{"N": "1"}, {"N": "2"}]}) != canonical({"L": [{"N": "2"}, {"N": "1"}]})
    assert canonical({"S": "1"}) != canonical({"N": "1"})
    assert canonical({"SS": ["a"]}) != canonical({"L": [{"S": "a"}]})
    # an item whose only attribute is named "M" is not a map value
    assert canonical({"M": {"M": {}}}) == {"M": {"M": {}}}
    assert canonical({"M": {"S": {"S": "x"}}}) == {"M": {"S": {"S": "x"}}}
    assert canonical({"M": {"a": {"N": "1.0"}}}) == {"M": {"a": {"N": "1E0"}}}


def test_digest_is_stable() -> None:
    item: Item = {"id": {"S": "a"}, "n": {"N": "1.50"}, "s": {"SS": ["y", "x"]}}
    assert digest(item) == digest(dict(reversed(item.items())))
    assert digest(item) == "a7a4d1e3ecca4fede071f004917a5fbd3ffb53d25a2dbc5823c07ba70645003f"


# --- size ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "size"),
    [
        ({"id": {"S": "abc"}}, 2 + 3),
        ({"café": {"S": "naïve"}}, 5 + 6),  # UTF-8 bytes, not characters
        ({"emoji": {"S": "😀"}}, 5 + 4),
        ({"n": {"N": "12345"}}, 1 + 1 + 3),  # 1|23|45: three base-100 digits
        ({"n": {"N": "1000"}}, 1 + 1 + 1),  # trailing zeros trimmed
        ({"n": {"N": "0.00120"}}, 1 + 1 + 1),  # leading zeros trimmed too
        ({"n": {"N": "7.5"}}, 1 + 1 + 2),  # 07|50: digits pair around the point
        ({"n": {"N": "-12"}}, 1 + 1 + 1 + 1),  # negative: one byte more
        ({"n": {"N": "0"}}, 1 + 1),
        ({"n": {"N": "1" * 38}}, 1 + 1 + 19),
        ({"b": {"B": "AAECAwQ="}}, 1 + 5),  # raw bytes, not base64 characters
        ({"flag": {"BOOL": False}, "none": {"NULL": True}}, 4 + 1 + 4 + 1),
        ({"list": {"L": []}, "map": {"M": {}}}, 4 + 3 + 3 + 3),
        ({"l": {"L": [{"S": "ab"}, {"N": "7"}]}}, 1 + 3 + (2 + 1) + (2 + 1)),
        ({"m": {"M": {"k": {"S": "v"}}}}, 1 + 3 + (1 + 1 + 1)),
        ({"ss": {"SS": ["a", "bc"]}}, 2 + 1 + 2),
        ({"ns": {"NS": ["1", "22"]}}, 2 + 2 + 2),
        ({"bs": {"BS": ["YWI=", "Yw=="]}}, 2 + 2 + 1),
    ],
)
def test_item_size_examples(item: Item, size: int) -> None:
    assert item_size(item) == size


def reference_number_size(text: str) -> int:
    """Count base-100 digits by padding to whole pairs, independently of items.py."""
    sign, digit_tuple, exponent = Decimal(text).as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(map(str, digit_tuple)) + "0" * (exponent % 2)
    digits = digits.zfill(len(digits) + len(digits) % 2)
    pairs = "".join("x" if digits[i : i + 2] == "00" else "d" for i in range(0, len(digits), 2))
    count = len(pairs.strip("x"))
    return 1 + count + (1 if sign and count else 0)


def reference_size(value: AttributeValue) -> int:
    tag, payload = only(value)
    scalar: dict[str, Callable[[Any], int]] = {
        "S": lambda p: len(p.encode()),
        "N": reference_number_size,
        "B": lambda p: len(base64.b64decode(p)),
    }
    if tag in scalar:
        return scalar[tag](payload)
    if tag in ("SS", "NS", "BS"):
        return sum(scalar[tag[0]](member) for member in payload)
    if tag in ("M", "L"):
        members = payload.items() if tag == "M" else (("", v) for v in payload)
        return 3 + sum(len(k.encode()) + reference_size(v) + 1 for k, v in members)
    return 1


@settings(max_examples=100)
@given(gen.items(max_depth=3))
def test_item_size_adds_up_names_and_values(item: Item) -> None:
    expected = sum(len(name.encode()) + reference_size(v) for name, v in item.items())
    assert item_size(item) == expected
