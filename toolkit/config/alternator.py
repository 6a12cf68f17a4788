"""The target's Alternator settings: batch size, node discovery and write isolation.

The Scylla Migrator's Alternator client settings sit at the top of the target section
(with ``type: alternator``) or under ``alternator:``. Those that mean something to the
toolkit's own client take effect (datacenter, rack, activeRefreshIntervalMs,
maxItemsPerBatch); the rest become notes. The toolkit adds ``seeds``, ``localNodes``,
``writeIsolation`` and ``tablets`` (also under ``alternator:``; see
toolkit/logic/tablets.py). An Alternator source takes the same node settings: its
scans and stream reads spread over the live nodes as the target's writes do.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TypeVar

from toolkit.config import limits
from toolkit.config.endpoint import Endpoint, read_seed
from toolkit.config.reader import Node
from toolkit.logic.tablets import SETTINGS as TABLETS

DYNAMODB_MAX_BATCH = int(limits.BATCH_DYNAMODB.high)
ALTERNATOR_MAX_BATCH = int(limits.BATCH_ALTERNATOR.high)
DEFAULT_REFRESH_SECONDS = 5.0
WRITE_ISOLATIONS = ("forbid_rmw", "only_rmw_uses_lwt", "always_use_lwt", "unsafe_rmw")

# Keys of the Migrator's Alternator client; the first four count here.
USED = ("datacenter", "rack", "activeRefreshIntervalMs", "maxItemsPerBatch")
SETTINGS = (
    *USED,
    *("idleRefreshIntervalMs", "compression", "optimizeHeaders", "maxConnections"),
    *("connectionMaxIdleTimeMs", "connectionTimeToLiveMs", "connectionAcquisitionTimeoutMs"),
    "connectionTimeoutMs",
)
OWN = ("seeds", "localNodes", "writeIsolation", "tablets")
# The Migrator's client settings that have no effect here still take its types' ranges.
_INERT_NUMBERS = {
    "idleRefreshIntervalMs": limits.MIGRATOR_MILLIS,
    "maxConnections": limits.MIGRATOR_COUNT,
    "connectionMaxIdleTimeMs": limits.MIGRATOR_MILLIS,
    "connectionTimeToLiveMs": limits.MIGRATOR_MILLIS,
    "connectionAcquisitionTimeoutMs": limits.MIGRATOR_MILLIS,
    "connectionTimeoutMs": limits.MIGRATOR_MILLIS,
}
T = TypeVar("T")


@dataclass(frozen=True)
class NodeDiscovery:
    """Where to list the cluster's live nodes: GET /localnodes on any seed."""

    seeds: tuple[str, ...]  # base URLs, the endpoint's first
    datacenter: str | None
    rack: str | None
    refresh_seconds: float


@dataclass(frozen=True)
class AlternatorSettings:
    batch_size: int  # items per BatchWriteItem
    nodes: NodeDiscovery | None  # None: every request goes to the endpoint
    write_isolation: str | None  # the tag put on a table the toolkit creates
    tablets: str = "auto"  # whether a table the toolkit creates may use tablets


def note_settings(node: Node) -> None:
    """A source's Alternator settings: each is a note, for a source is DynamoDB."""
    nested = node.section("alternator")
    if nested is not None:
        nested.only(SETTINGS)
        _inert(nested, SETTINGS, "the source is read with the toolkit's own client", ())


def read_source_settings(node: Node, endpoint: Endpoint) -> NodeDiscovery | None:
    """An Alternator source's node settings: its reads spread over the live nodes too."""
    nested = node.section("alternator")
    if nested is not None:
        nested.only(SETTINGS)
    parts = [p for p in (nested, node) if p is not None]
    for part in parts:
        _inert(part, SETTINGS, "the toolkit uses its own HTTP client", USED)
        if part.data.get("maxItemsPerBatch") is not None:
            part.integer("maxItemsPerBatch", limits.BATCH_ALTERNATOR)
            part.note("maxItemsPerBatch", "it applies to the target's writes")
    return _discovery(node, parts, endpoint)


def read_settings(node: Node, kind: str, endpoint: Endpoint | None) -> AlternatorSettings:
    """The target's batch size and, on ``type: alternator``, its node settings."""
    alternator = kind == "alternator"
    nested = node.section("alternator")
    if nested is not None:
        nested.only((*SETTINGS, "tablets") if alternator else SETTINGS)
    parts = [p for p in (nested, node if alternator else None) if p is not None]
    used = USED if alternator else ("maxItemsPerBatch",)
    for part in parts:
        _inert(part, SETTINGS, "the toolkit uses its own HTTP client", used)
    batch = _batch_size(node, parts, kind)
    if not alternator or endpoint is None:
        return AlternatorSettings(batch, None, None)
    isolation = node.text("writeIsolation")
    if isolation is not None and isolation not in WRITE_ISOLATIONS:
        node.wrong("writeIsolation", isolation, " or ".join(WRITE_ISOLATIONS))
    tablets = _last(parts, lambda part: _tablets(part)) or "auto"
    return AlternatorSettings(batch, _discovery(node, parts, endpoint), isolation, tablets)


def _tablets(node: Node) -> str | None:
    """auto (the default), always or never: see toolkit/logic/tablets.py."""
    value = node.text("tablets")
    if value is not None and value not in TABLETS:
        node.wrong("tablets", value, " or ".join(TABLETS))
    return value


def _inert(node: Node, keys: Collection[str], why: str, used: Collection[str]) -> None:
    """Note the keys that have no effect here; their numbers must still be in range."""
    for key, limit in _INERT_NUMBERS.items():
        node.integer(key, limit)
    for key in keys:
        if key not in used and node.data.get(key) not in (None, [], {}):
            node.note(key, why)


def _batch_size(node: Node, parts: list[Node], kind: str) -> int:
    """batchSize, else the Migrator's maxItemsPerBatch, else the most the API takes."""
    limit = limits.BATCH_ALTERNATOR if kind == "alternator" else limits.BATCH_DYNAMODB
    batch = node.integer("batchSize", limit)
    nested = _last(parts, lambda part: part.integer("maxItemsPerBatch", limit))
    if batch is not None and nested is not None and batch != nested:
        node.fail("batchSize", "disagrees with maxItemsPerBatch", "keep only one of them")
    return batch or nested or int(limit.high)


def _discovery(node: Node, parts: list[Node], endpoint: Endpoint) -> NodeDiscovery | None:
    if not node.flag("localNodes", True):
        if node.items("seeds"):
            node.fail("seeds", "is set with localNodes: false", "remove one of them")
        return None
    ms = _last(parts, lambda part: part.integer("activeRefreshIntervalMs", limits.REFRESH_MS))
    return NodeDiscovery(
        seeds=(endpoint.url, *_seeds(node, endpoint)),
        datacenter=_last(parts, lambda part: part.text("datacenter")),
        rack=_last(parts, lambda part: part.text("rack")),
        refresh_seconds=ms / 1000 if ms is not None else DEFAULT_REFRESH_SECONDS,
    )


def _last(parts: list[Node], read: Callable[[Node], T | None]) -> T | None:
    """The value the last part sets (the top level wins over `alternator:`); all are checked."""
    values = [read(part) for part in parts]
    return next((v for v in reversed(values) if v is not None), None)


def _seeds(node: Node, endpoint: Endpoint) -> list[str]:
    """More nodes to ask for the list, when the endpoint's node is down."""
    return [read_seed(node, f"seeds[{i}]", v, endpoint) for i, v in enumerate(node.items("seeds"))]
