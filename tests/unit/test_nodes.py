"""Alternator's live nodes, without a network: the GET and the clock are handed in."""

from __future__ import annotations

import json
import logging
from collections import Counter
from itertools import pairwise
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from toolkit.config.alternator import NodeDiscovery
from toolkit.logic.key_routing import NodeMap
from toolkit.wire.nodes import (
    DOWN_SECONDS,
    LiveNodes,
    localnodes_url,
    parse_localnodes,
    scopes,
)

SEED = "http://seed:8000"


class Cluster:
    """What /localnodes answers, changed by the test; counts the listings."""

    def __init__(self, nodes: list[str]) -> None:
        self.nodes = nodes
        self.asked: list[str] = []
        self.status = 200
        self.now = 0.0

    def fetch(self, url: str) -> tuple[int, bytes]:
        self.asked.append(url)
        if self.status == 0:
            raise OSError("connection refused")
        return self.status, json.dumps(self.nodes).encode()

    def clock(self) -> float:
        return self.now


def live_nodes(
    cluster: Cluster, refresh: float = 5.0, seeds: tuple[str, ...] = (SEED,)
) -> LiveNodes:
    discovery = NodeDiscovery(seeds, "dc1", None, refresh)
    return LiveNodes(discovery, cluster.fetch, clock=cluster.clock)


def picks(nodes: LiveNodes, n: int) -> Counter[str]:
    return Counter(nodes.pick() for _ in range(n))


addresses = st.ip_addresses(v=4).map(str)
entries = st.lists(
    st.tuples(addresses, st.none() | st.integers(1, 65535)).map(
        lambda e: e[0] if e[1] is None else f"{e[0]}:{e[1]}"
    ),
    min_size=1,
    max_size=8,
)


@given(entries, st.sampled_from(["http", "https"]), st.none() | st.integers(1, 65535))
def test_listed_addresses_take_the_answering_nodes_scheme_and_port(
    listed: list[str], scheme: str, port: int | None
) -> None:
    base = f"{scheme}://seed" + (f":{port}" if port else "")
    urls = parse_localnodes(base, json.dumps(listed).encode())
    expected = [
        f"{scheme}://{e}" + ("" if ":" in e or port is None else f":{port}") for e in listed
    ]
    assert urls == list(dict.fromkeys(expected))


def test_ipv6_addresses_are_bracketed() -> None:
    assert parse_localnodes(SEED, b'["::1", "[fe80::2]:9000"]') == [
        "http://[::1]:8000",
        "http://[fe80::2]:9000",
    ]


@pytest.mark.parametrize("body", [b"<html>", b'{"a": 1}', b'["ok", 3]', b'[""]', b"null"])
def test_an_answer_that_is_not_a_list_of_addresses_is_refused(body: bytes) -> None:
    with pytest.raises(ValueError, match="answer"):
        parse_localnodes(SEED, body)


def test_the_listing_asks_for_the_datacenter_and_rack() -> None:
    assert localnodes_url(SEED, None, None) == f"{SEED}/localnodes"
    assert localnodes_url(SEED, "dc 1", "r1") == f"{SEED}/localnodes?dc=dc+1&rack=r1"


@given(st.integers(1, 6), st.integers(1, 5))
def test_requests_go_round_robin_over_every_live_node(size: int, rounds: int) -> None:
    cluster = Cluster([f"10.0.0.{n}" for n in range(size)])
    counts = picks(live_nodes(cluster), size * rounds)
    assert sorted(counts) == sorted(f"http://10.0.0.{n}:8000" for n in range(size))
    assert set(counts.values()) == {rounds}


def test_a_node_that_failed_is_skipped_until_its_time_is_up() -> None:
    cluster = Cluster(["10.0.0.1", "10.0.0.2", "10.0.0.3"])
    nodes = live_nodes(cluster)
    nodes.failed("http://10.0.0.2:8000")
    assert "http://10.0.0.2:8000" not in picks(nodes, 30)
    assert len(cluster.asked) == 2  # the failure asked the cluster's view at once
    cluster.now += DOWN_SECONDS + 0.1
    assert picks(nodes, 30)["http://10.0.0.2:8000"] == 10


def test_when_every_node_failed_requests_still_go_somewhere() -> None:
    cluster = Cluster(["10.0.0.1", "10.0.0.2"])
    nodes = live_nodes(cluster)
    for url in nodes.nodes:
        nodes.failed(url)
    assert set(picks(nodes, 4)) == set(nodes.nodes)


def test_the_list_is_asked_again_each_interval_and_follows_the_cluster() -> None:
    cluster = Cluster(["10.0.0.1", "10.0.0.2"])
    nodes = live_nodes(cluster, refresh=5.0)
    picks(nodes, 10)
    assert len(cluster.asked) == 1
    cluster.nodes = ["10.0.0.2", "10.0.0.3"]  # one left, one joined
    cluster.now += 4.9
    assert set(picks(nodes, 10)) == {"http://10.0.0.1:8000", "http://10.0.0.2:8000"}
    cluster.now += 0.2
    assert set(picks(nodes, 10)) == {"http://10.0.0.2:8000", "http://10.0.0.3:8000"}
    assert len(cluster.asked) == 2
    assert cluster.asked[-1].startswith("http://10.0.0.1:8000/localnodes?dc=dc1")


@pytest.mark.parametrize("status", [0, 400, 404])
def test_without_a_listing_the_seeds_take_the_requests(
    status: int, caplog: pytest.LogCaptureFixture
) -> None:
    cluster = Cluster(["10.0.0.1"])
    cluster.status = status
    seeds = (SEED, "http://seed2:8000")
    with caplog.at_level(logging.WARNING, "migrator"):
        nodes = live_nodes(cluster, refresh=1.0, seeds=seeds)
        for _ in range(3):
            cluster.now += 1.5
            picks(nodes, 4)
    assert set(picks(nodes, 4)) == set(seeds)
    assert [url.split("/localnodes")[0] for url in cluster.asked[:2]] == list(seeds)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "localNodes: false" in warnings[0]
    cluster.status = 200
    cluster.now += 1.5
    assert set(picks(nodes, 4)) == {"http://10.0.0.1:8000"}


# --- a rack or datacenter that lists no node: the list widens ------------------------


class Racks:
    """/localnodes by its query, as Alternator answers: an unknown dc or rack lists []."""

    def __init__(self, where: dict[str, tuple[str, str]], local_dc: str = "dc1") -> None:
        self.where = where  # address -> (datacenter, rack)
        self.local_dc = local_dc  # the answering node's datacenter: no query lists it
        self.asked: list[str] = []
        self.now = 0.0

    def fetch(self, url: str) -> tuple[int, bytes]:
        query = parse_qs(urlsplit(url).query)
        self.asked.append(urlsplit(url).query)
        dc = query.get("dc", [self.local_dc])[0]
        rack = query.get("rack", [None])[0]
        nodes = [a for a, (d, r) in self.where.items() if d == dc and rack in (None, r)]
        return 200, json.dumps(nodes).encode()

    def clock(self) -> float:
        return self.now


RACKS = {
    "10.0.1.1": ("dc1", "r1"),
    "10.0.1.2": ("dc1", "r2"),
    "10.0.1.3": ("dc1", "r2"),
    "10.0.2.1": ("dc2", "r1"),
}


def routed(racks: Racks, datacenter: str | None, rack: str | None) -> LiveNodes:
    discovery = NodeDiscovery((SEED,), datacenter, rack, 1.0)
    return LiveNodes(discovery, racks.fetch, clock=racks.clock)


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


@pytest.mark.parametrize(
    ("datacenter", "rack", "used", "queries"),
    [
        ("dc1", "r2", {"10.0.1.2", "10.0.1.3"}, ["dc=dc1&rack=r2"]),
        ("dc1", "r9", {"10.0.1.1", "10.0.1.2", "10.0.1.3"}, ["dc=dc1&rack=r9", "dc=dc1"]),
        ("dc9", "r1", {"10.0.1.1", "10.0.1.2", "10.0.1.3"}, ["dc=dc9&rack=r1", "dc=dc9", ""]),
        ("dc9", None, {"10.0.1.1", "10.0.1.2", "10.0.1.3"}, ["dc=dc9", ""]),
        (None, "r1", {"10.0.1.1"}, ["rack=r1"]),
        (None, "r9", {"10.0.1.1", "10.0.1.2", "10.0.1.3"}, ["rack=r9", ""]),
    ],
)
def test_an_empty_rack_or_datacenter_widens_to_the_next_scope_with_one_warning(
    caplog: pytest.LogCaptureFixture,
    datacenter: str | None,
    rack: str | None,
    used: set[str],
    queries: list[str],
) -> None:
    racks = Racks(RACKS)
    with caplog.at_level(logging.INFO, "migrator"):
        nodes = routed(racks, datacenter, rack)
        for _ in range(3):  # asked again, widened again: said once
            racks.now += 1.5
            picks(nodes, 3)
    assert set(picks(nodes, 6)) == {f"http://{a}:8000" for a in used}
    assert racks.asked[: len(queries)] == queries
    warnings = warnings_of(caplog)
    if len(queries) == 1:
        assert warnings == []
    else:
        wanted = f"rack {rack}" if rack else f"datacenter {datacenter}"
        assert len(warnings) == 1 and f"lists no live node in {wanted}" in warnings[0]
        widened = "the answering node's datacenter" if queries[-1] == "" else "datacenter dc1"
        assert warnings[0].endswith(f"using the nodes of {widened} instead")


def test_a_rack_that_lists_nodes_again_is_used_again(caplog: pytest.LogCaptureFixture) -> None:
    racks = Racks({"10.0.1.1": ("dc1", "r1"), "10.0.1.2": ("dc1", "r2")})
    with caplog.at_level(logging.INFO, "migrator"):
        nodes = routed(racks, "dc1", "r3")
        assert set(picks(nodes, 4)) == {"http://10.0.1.1:8000", "http://10.0.1.2:8000"}
        racks.where["10.0.1.3"] = ("dc1", "r3")  # the rack's node is back
        racks.now += 1.5
        assert set(picks(nodes, 4)) == {"http://10.0.1.3:8000"}
    said = [r.getMessage() for r in caplog.records]
    assert sum("rack r3 of datacenter dc1 lists live nodes again" in line for line in said) == 1
    assert len(warnings_of(caplog)) == 1


def test_a_cluster_that_lists_no_node_anywhere_leaves_the_seeds(
    caplog: pytest.LogCaptureFixture,
) -> None:
    racks = Racks({})
    with caplog.at_level(logging.WARNING, "migrator"):
        nodes = routed(racks, "dc1", "r1")
    assert set(picks(nodes, 3)) == {SEED}
    assert racks.asked == ["dc=dc1&rack=r1", "dc=dc1", ""]
    warnings = warnings_of(caplog)
    assert len(warnings) == 1 and "no live nodes listed" in warnings[0]


names = st.none() | st.text("abc", min_size=1, max_size=3)


@given(names, names)
def test_the_scopes_widen_from_the_rack_to_the_datacenter_to_no_query(
    datacenter: str | None, rack: str | None
) -> None:
    asked = scopes(datacenter, rack)
    assert asked[0] == (datacenter, rack) and asked[-1] == (None, None)
    assert len(set(asked)) == len(asked)
    for (dc, r), (wider_dc, wider_r) in pairwise(asked):
        assert wider_r is None and (wider_dc in (dc, None))
        assert (wider_dc, wider_r) != (dc, r)


KEYS = [f'{{"id":{{"S":"k{n}"}}}}'.encode() for n in range(300)]


def owners(nodes: LiveNodes) -> dict[bytes, str]:
    return {key: nodes.for_key(key) for key in KEYS}


def test_a_key_goes_to_its_node_of_the_listed_ones_every_time() -> None:
    cluster = Cluster(["10.0.0.3", "10.0.0.1", "10.0.0.2"])
    nodes = live_nodes(cluster)
    first = owners(nodes)
    assert first == {key: NodeMap(nodes.nodes).node_for(key) for key in KEYS}
    assert set(first.values()) == set(nodes.nodes)  # every node takes a share
    assert owners(nodes) == first
    assert owners(live_nodes(Cluster(["10.0.0.2", "10.0.0.3", "10.0.0.1"]))) == first


def test_a_failed_nodes_keys_go_to_their_next_node_and_come_back() -> None:
    cluster = Cluster(["10.0.0.1", "10.0.0.2", "10.0.0.3"])
    nodes = live_nodes(cluster)
    before = owners(nodes)
    nodes.failed("http://10.0.0.2:8000")
    during = owners(nodes)
    mapping = NodeMap(nodes.nodes)
    for key, node in before.items():
        if node == "http://10.0.0.2:8000":
            assert during[key] == mapping.ranking(key)[1]
        else:
            assert during[key] == node
    cluster.now += DOWN_SECONDS + 0.1
    assert owners(nodes) == before


def test_a_node_that_leaves_the_list_moves_only_its_keys() -> None:
    cluster = Cluster(["10.0.0.1", "10.0.0.2", "10.0.0.3"])
    nodes = live_nodes(cluster, refresh=5.0)
    before = owners(nodes)
    cluster.nodes = ["10.0.0.1", "10.0.0.3"]
    cluster.now += 5.1
    after = owners(nodes)
    moved = {key for key in KEYS if after[key] != before[key]}
    assert moved == {key for key, node in before.items() if node == "http://10.0.0.2:8000"}
