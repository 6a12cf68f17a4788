"""The key-to-node mapping: its rules as properties, its balance on fixed inputs."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections import Counter

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from toolkit.logic.items import key_id
from toolkit.logic.key_routing import NodeMap, routing_key

node_names = st.integers(0, 255).map(lambda n: f"http://10.0.0.{n}:8000")
node_lists = st.lists(node_names, min_size=1, max_size=9, unique=True)
keys = st.binary(min_size=1, max_size=64)
key_lists = st.lists(keys, min_size=1, max_size=60)


@given(node_lists, key_lists, st.randoms())
def test_the_order_a_list_comes_in_decides_nothing(
    nodes: list[str], keys: list[bytes], rng: random.Random
) -> None:
    shuffled = list(nodes)
    rng.shuffle(shuffled)
    one, other = NodeMap(nodes), NodeMap(shuffled)
    assert [one.node_for(k) for k in keys] == [other.node_for(k) for k in keys]


@given(node_lists, key_lists)
def test_a_key_goes_to_the_first_node_of_its_ranking(nodes: list[str], keys: list[bytes]) -> None:
    mapping = NodeMap(nodes)
    for key in keys:
        ranking = mapping.ranking(key)
        assert sorted(ranking) == sorted(nodes)
        assert mapping.node_for(key) == ranking[0]


@given(node_lists, key_lists, st.data())
def test_a_node_that_is_down_hands_only_its_keys_to_their_next_node(
    nodes: list[str], keys: list[bytes], data: st.DataObject
) -> None:
    down = data.draw(st.lists(st.sampled_from(nodes), max_size=len(nodes) - 1, unique=True))
    mapping = NodeMap(nodes)
    skipping = mapping.without(down)
    for key in keys:
        before = mapping.node_for(key)
        after = skipping.node_for(key)
        if before in down:
            assert after == next(n for n in mapping.ranking(key) if n not in down)
        else:
            assert after == before  # every other key stays where it was


@given(node_lists, key_lists)
def test_every_node_down_leaves_the_mapping_as_it_was(nodes: list[str], keys: list[bytes]) -> None:
    mapping = NodeMap(nodes)
    everyone_down = mapping.without(nodes)
    assert [everyone_down.node_for(k) for k in keys] == [mapping.node_for(k) for k in keys]


@given(node_lists, node_names, key_lists)
def test_a_node_that_joins_takes_keys_only_for_itself(
    nodes: list[str], joining: str, keys: list[bytes]
) -> None:
    before, after = NodeMap(nodes), NodeMap([*nodes, joining])
    for key in keys:
        assert after.node_for(key) in (before.node_for(key), joining)


@given(node_lists.filter(lambda n: len(n) > 1), key_lists, st.data())
def test_a_node_that_leaves_moves_only_its_own_keys(
    nodes: list[str], keys: list[bytes], data: st.DataObject
) -> None:
    leaving = data.draw(st.sampled_from(nodes))
    before = NodeMap(nodes)
    after = NodeMap([n for n in nodes if n != leaving])
    for key in keys:
        if before.node_for(key) != leaving:
            assert after.node_for(key) == before.node_for(key)
        else:
            assert after.node_for(key) == before.ranking(key)[1]


def test_an_empty_list_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one node"):
        NodeMap([])


NODES = [f"http://10.0.1.{n}:8000" for n in (1, 2, 3)]
KEYS = [key_id({"id": {"S": f"user#{n}"}}) for n in range(30_000)]


def test_keys_spread_evenly_over_three_nodes() -> None:
    shares = Counter(NodeMap(NODES).node_for(k) for k in KEYS)
    assert sorted(shares) == sorted(NODES)
    assert all(abs(count - 10_000) < 400 for count in shares.values()), shares


def test_a_down_nodes_keys_spread_evenly_over_the_others() -> None:
    mapping = NodeMap(NODES)
    moved = [k for k in KEYS if mapping.node_for(k) == NODES[0]]
    shares = Counter(mapping.without([NODES[0]]).node_for(k) for k in moved)
    assert sorted(shares) == NODES[1:]
    half = len(moved) / 2
    assert all(abs(count - half) < 0.05 * half for count in shares.values()), shares


def test_another_process_maps_every_key_to_the_same_node() -> None:
    """Spark's workers and driver compute the mapping apart: Python's own hash() of
    bytes differs per process (PYTHONHASHSEED), the mapping must not."""
    program = (
        "import sys, orjson\n"
        "from toolkit.logic.key_routing import NodeMap\n"
        "nodes, keys = orjson.loads(sys.stdin.buffer.read())\n"
        "mapping = NodeMap(nodes)\n"
        "print(orjson.dumps([mapping.node_for(k.encode()) for k in keys]).decode())\n"
    )
    some = KEYS[:3000]
    shown = subprocess.run(
        [sys.executable, "-c", program],
        input=orjson.dumps([NODES, [k.decode() for k in some]]),
        capture_output=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
    )
    mapping = NodeMap(NODES)
    assert orjson.loads(shown.stdout) == [mapping.node_for(k) for k in some]


values = st.one_of(
    st.builds(lambda s: {"S": s}, st.text(max_size=20)),
    st.builds(
        lambda n: {"N": n}, st.from_regex(r"-?[0-9]{1,5}(\.[0-9]{1,3})?(E[0-9])?", fullmatch=True)
    ),
    st.builds(lambda b: {"B": b}, st.text(alphabet="ABCDEFabcdef0123456789+/", max_size=12)),
)


@given(hash_value=values, range_value=values, other=values)
def test_an_item_and_its_key_alone_route_alike_and_values_count_byte_for_byte(
    hash_value: dict[str, str], range_value: dict[str, str], other: dict[str, str]
) -> None:
    names = ["id", "version"]
    item = {"version": range_value, "payload": other, "id": hash_value}
    key = {"id": hash_value, "version": range_value}
    assert routing_key(item, names) == routing_key(key, names)
    if other != hash_value:
        assert routing_key({**key, "id": other}, names) != routing_key(key, names)


def test_a_number_written_two_ways_is_two_keys() -> None:
    """Alternator keeps 1E3 and 1000 apart: so does the routing (either may go anywhere)."""
    assert routing_key({"n": {"N": "1E3"}}, ["n"]) != routing_key({"n": {"N": "1000"}}, ["n"])
