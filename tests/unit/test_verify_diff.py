"""The pure comparison: generated pairs of tables with planted differences.

The diff must report exactly what was planted: items dropped from the target
(missing), added to it (extra) and changed in it (different), while items written
in another but equal wire form (numbers, set order, map order) stay identical.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests import strategies as gen
from toolkit.logic.items import AttributeValue, Item, Key, apply_renames, canonical, key_id, key_of
from verify.diff import (
    Change,
    absent_keys,
    diff_items,
    explain,
    render_path,
    same_item,
    show,
)

ROLES = ("same", "missing", "different", "extra")


def other_form(number: str) -> str:
    """The same number written differently: 1.5 -> 1.5E+0, 100 -> 1.00E+2."""
    return format(Decimal(number), "E")


def reformatted(value: AttributeValue) -> AttributeValue:
    """An equal value in another wire form: numbers rewritten, sets and maps reordered."""
    tag, payload = next(iter(value.items()))
    if tag == "N":
        return {"N": other_form(payload)}
    if tag == "NS":
        return {"NS": [other_form(n) for n in reversed(payload)]}
    if tag in ("SS", "BS"):
        return {tag: list(reversed(payload))}
    if tag == "L":
        return {"L": [reformatted(member) for member in payload]}
    if tag == "M":
        return {"M": {name: reformatted(v) for name, v in reversed(payload.items())}}
    return value


def reformatted_item(item: Item, key_names: set[str]) -> Item:
    # keys stay byte for byte: they identify the item, as on Alternator
    return {n: v if n in key_names else reformatted(v) for n, v in reversed(item.items())}


@st.composite
def changed(draw: st.DrawFn, item: Item, key_names: set[str]) -> Item:
    """The item with one non-key attribute set to an unequal value, or removed."""
    others = sorted(set(item) - key_names)
    if bool(others) and draw(st.booleans()):
        name = draw(st.sampled_from(others))
        if draw(st.booleans()):
            return {n: v for n, v in item.items() if n != name}
    else:
        name = draw(gen.attribute_names().filter(lambda n: n not in key_names))
    value = draw(gen.attribute_values())
    if name in item and canonical(item[name]) == canonical(value):
        value = {"L": [value]}  # never equal to what it wraps
    return {**item, name: value}


@dataclass(frozen=True)
class Planted:
    source: list[Item]
    target: list[Item]
    key_names: list[str]  # the target's
    renames: dict[str, str]
    expected: dict[str, set[bytes]]  # kind -> key ids; "same" -> identical ones


@st.composite
def planted_tables(draw: st.DrawFn) -> Planted:
    schema = draw(gen.key_schemas())
    names = [e["AttributeName"] for e in schema[0]]
    rows = draw(
        st.lists(
            gen.items_for(schema),
            max_size=12,
            unique_by=lambda item: key_id(key_of(item, names)),
        )
    )
    renamed = draw(st.lists(st.sampled_from(sorted({n for r in rows for n in r} or {"x"}))))
    renames = {name: f"{name}\0renamed" for name in renamed}
    assume(not any(new in row for row in rows for new in renames.values()))
    key_names = [renames.get(n, n) for n in names]
    source: list[Item] = []
    target: list[Item] = []
    expected: dict[str, set[bytes]] = {role: set() for role in ROLES}
    for row in rows:
        role = draw(st.sampled_from(ROLES))
        as_target = apply_renames(row, renames)
        expected[role].add(key_id(key_of(as_target, key_names)))
        if role != "extra":
            source.append(row)
        if role == "same":
            target.append(reformatted_item(as_target, set(key_names)))
        elif role == "different":
            target.append(draw(changed(as_target, set(key_names))))
        elif role == "extra":
            target.append(as_target)
    shuffle = random.Random(draw(st.integers(0, 2**16)))
    shuffle.shuffle(source)
    shuffle.shuffle(target)
    return Planted(source, target, key_names, renames, expected)


@settings(max_examples=60, deadline=None)
@given(planted_tables())
def test_reports_exactly_the_planted_differences(tables: Planted) -> None:
    outcome = diff_items(tables.source, tables.target, tables.key_names, tables.renames)

    found: dict[str, set[bytes]] = {"missing": set(), "extra": set(), "different": set()}
    for difference in outcome.differences:
        found[difference.kind].add(key_id(difference.key))
    assert found == {kind: tables.expected[kind] for kind in found}
    assert len(outcome.differences) == sum(len(keys) for keys in found.values())
    assert outcome.identical == len(tables.expected["same"])


@settings(max_examples=40, deadline=None)
@given(planted_tables())
def test_each_difference_carries_both_versions_and_why(tables: Planted) -> None:
    outcome = diff_items(tables.source, tables.target, tables.key_names, tables.renames)
    by_key = {key_id(key_of(t, tables.key_names)): t for t in tables.target}
    for difference in outcome.differences:
        target = by_key.get(key_id(difference.key))
        assert difference.target is target
        if difference.kind == "extra":
            assert difference.source is None and not difference.changes
            continue
        assert difference.source is not None  # the renamed source version, to repair with
        assert all(name in difference.source for name in tables.key_names)
        assert bool(difference.changes) == (difference.kind == "different")


@settings(max_examples=100)
@given(gen.items(max_depth=3))
def test_equal_forms_are_the_same_item(item: Item) -> None:
    assert same_item(item, reformatted_item(item, set()))


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_absent_keys_are_those_not_found(data: st.DataObject) -> None:
    schema = data.draw(gen.key_schemas())
    names = [e["AttributeName"] for e in schema[0]]
    keys = data.draw(st.lists(gen.keys_for(schema), unique_by=key_id, max_size=20))
    present = [k for k in keys if data.draw(st.booleans())]
    renames = {names[0]: "renamed"} if data.draw(st.booleans()) else {}
    wanted = [apply_renames(k, renames) for k in keys]
    target_names = [renames.get(n, n) for n in names]

    absent = absent_keys(wanted, present, target_names, renames)

    assert [key_id(k) for k in absent] == [
        key_id(apply_renames(k, renames)) for k in keys if k not in present
    ]


# --- the explanation, line by line ----------------------------------------------------


def changes(source: Item, target: Item) -> list[str]:
    return [change.line() for change in explain(source, target)]


KEY: Key = {"id": {"S": "a"}}


@pytest.mark.parametrize(
    ("source", "target", "lines"),
    [
        ({"p": {"N": "1.5"}}, {"p": {"N": "2"}}, ["p: changed: 1.5 → 2"]),
        (
            {"p": {"S": "1"}},
            {"p": {"N": "1"}},
            ['p: type changed from string to number: "1" → 1'],
        ),
        (
            {"tags": {"SS": ["a", "b"]}},
            {"tags": {"SS": ["c", "a"]}},
            ['tags: member only in source: "b"', 'tags: member only in target: "c"'],
        ),
        (
            {"address": {"M": {"city": {"S": "Oslo"}, "zip": {"N": "1"}}}},
            {"address": {"M": {"city": {"S": "Bergen"}, "zip": {"N": "1.0"}}}},
            ['address.city: changed: "Oslo" → "Bergen"'],
        ),
        (
            {"history": {"L": [{"N": "1"}, {"N": "2"}]}},
            {"history": {"L": [{"N": "1"}, {"N": "2"}, {"B": "AAE="}]}},
            ["history[2]: only in target: b64:AAE="],
        ),
        ({"gone": {"NULL": True}}, {}, ["gone: only in source: null"]),
        (  # bytes that are not UTF-8 still tell set members apart
            {"bs": {"BS": ["gA==", "AAE="]}},
            {"bs": {"BS": ["AAE=", "gQ=="]}},
            ["bs: member only in source: b64:gA==", "bs: member only in target: b64:gQ=="],
        ),
        ({"odd name": {"BOOL": True}}, {"odd name": {"BOOL": False}}, ['["odd name"]: changed']),
    ],
)
def test_changes_read_like_the_data(
    source: Mapping[str, AttributeValue], target: Mapping[str, AttributeValue], lines: list[str]
) -> None:
    found = changes({**KEY, **source}, {**KEY, **target})
    assert [line[: len(want)] for line, want in zip(found, lines, strict=True)] == lines


def test_long_values_are_cut_and_paths_render() -> None:
    assert len(show("x" * 500)) == 60 and show("x" * 500).endswith("…")
    assert render_path(["a", 0, "b c", None]) == 'a[0]["b c"]'
    assert render_path([]) == "(item)"
    assert Change("p", "only in target", target="1").line() == "p: only in target: 1"


def test_equal_forms_of_every_kind() -> None:
    source: Item = {
        **KEY,
        "n": {"N": "1.0"},
        "ns": {"NS": ["1", "2.50"]},
        "b": {"B": "AAE="},
        "m": {"M": {"x": {"N": "1E2"}, "y": {"SS": ["b", "a"]}}},
    }
    target: Item = {
        "m": {"M": {"y": {"SS": ["a", "b"]}, "x": {"N": "100"}}},
        "b": {"B": "AAE="},
        "ns": {"NS": ["2.5", "1"]},
        "n": {"N": "1"},
        **KEY,
    }
    assert diff_items([source], [target], ["id"]).identical == 1
