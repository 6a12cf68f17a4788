"""Which node an item's writes go to: rendezvous (highest random weight) hashing.

Without LWT, Alternator stamps a write with the clock of the node that received it
and the newest stamp wins, so two writes of one item sent to two nodes are ordered
by those nodes' clocks, not by when they arrived (ScyllaDB's compatibility.md,
"Avoiding write reordering"). Sending every write of a key to one node keeps them
in order. Each node gets a weight per key; the key goes to the heaviest node. So a
node that is down hands each of its keys to that key's next node and no other key
moves, and a node that joins or leaves moves only its own share.

A key is routed by its values' bytes as sent (``routing_key``: no number is
normalised, as Alternator keeps ``1E3`` and ``1000`` apart), with a fixed hash (never
Python's ``hash()``, which differs per process): Spark's workers and its driver, on
any machine, agree on every key's node.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson

MASK = (1 << 64) - 1


def routing_key(values: Mapping[str, Any], names: Sequence[str]) -> bytes:
    """The bytes a key is routed by: its attributes' values, in the order of ``names``
    (every writer of a table must give the same order: sorted), as JSON.

    Cheaper than ``key_id`` (no dict to build, no keys to sort), as this runs for every
    item written to a cluster; an item or its key alone give the same bytes.
    """
    return orjson.dumps([values[name] for name in names])


def fixed_hash(data: bytes) -> int:
    """A 64-bit hash that is the same in every process and on every machine."""
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


def mix(value: int) -> int:
    """SplitMix64's finaliser: every bit of the result depends on every bit of ``value``."""
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & MASK
    return value ^ (value >> 31)


class NodeMap:
    """The key-to-node mapping over one list of nodes (their hashes computed once)."""

    def __init__(self, nodes: Iterable[str]) -> None:
        # Sorted, so that the order a list came in never decides a tie.
        self.nodes: tuple[str, ...] = tuple(sorted(set(nodes)))
        if not self.nodes:
            raise ValueError("a key needs at least one node to go to")
        self._hashes = tuple(fixed_hash(node.encode()) for node in self.nodes)

    def node_for(self, key: bytes) -> str:
        """The node a key's writes go to (``key``: its bytes, as ``routing_key`` gives them)."""
        nodes = self.nodes
        if len(nodes) == 1:
            return nodes[0]
        hashed = fixed_hash(key)
        best, heaviest = 0, -1
        for at, node_hash in enumerate(self._hashes):
            # mix(hashed ^ node_hash), written out: this runs for every item written
            weight = hashed ^ node_hash
            weight = ((weight ^ (weight >> 30)) * 0xBF58476D1CE4E5B9) & MASK
            weight = ((weight ^ (weight >> 27)) * 0x94D049BB133111EB) & MASK
            weight ^= weight >> 31
            if weight > heaviest:  # strictly: on a tie the first in sorted order wins
                best, heaviest = at, weight
        return nodes[best]

    def ranking(self, key: bytes) -> list[str]:
        """Every node, the key's own first, then where it goes when those before are down."""
        hashed = fixed_hash(key)
        weights = [-mix(hashed ^ node_hash) for node_hash in self._hashes]
        return [node for _, node in sorted(zip(weights, self.nodes, strict=True))]

    def without(self, down: Sequence[str]) -> NodeMap:
        """The mapping once ``down`` is skipped; all of them down: every node, as before."""
        left = [node for node in self.nodes if node not in down]
        return NodeMap(left) if left else self
