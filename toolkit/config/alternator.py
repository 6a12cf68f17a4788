"""The target's Alternator settings: batch size, node discovery, write isolation, client.

The Scylla Migrator's Alternator client settings sit at the top of the target section
(with ``type: alternator``) or under ``alternator:``. Those that mean something to the
toolkit's own client take effect (node discovery, batch size, request compression and
the connections' settings); the three that cannot become notes that say why. The
toolkit adds ``seeds``, ``localNodes``, ``writeIsolation`` and ``tablets`` (also under
``alternator:``; see toolkit/logic/tablets.py). An Alternator source takes the same
node and client settings: its scans and stream reads spread over the live nodes as the
target's writes do.
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

# Keys of the Migrator's Alternator client that take effect in the toolkit's client.
CLIENT = (
    *("compression", "maxConnections", "connectionMaxIdleTimeMs", "connectionTimeToLiveMs"),
    "connectionTimeoutMs",
)
USED = ("datacenter", "rack", "activeRefreshIntervalMs", "maxItemsPerBatch", *CLIENT)
# ... and those that cannot, with the reason each note gives.
INERT = {
    "idleRefreshIntervalMs": (
        "the node list is asked for only while requests are sent (every "
        "activeRefreshIntervalMs), never while the client is idle"
    ),
    "optimizeHeaders": "the toolkit's client always sends only the headers a request needs",
    "connectionAcquisitionTimeoutMs": (
        "a request never waits for a pooled connection: with none idle it opens its own"
    ),
}
SETTINGS = (*USED, *INERT)
OWN = ("seeds", "localNodes", "writeIsolation", "tablets")
# Numbers checked wherever they are set, even where they are notes.
_NUMBERS = {
    "idleRefreshIntervalMs": limits.MIGRATOR_MILLIS,
    "maxConnections": limits.MAX_CONNECTIONS,
    "connectionMaxIdleTimeMs": limits.MIGRATOR_MILLIS,
    "connectionTimeToLiveMs": limits.MIGRATOR_MILLIS,
    "connectionAcquisitionTimeoutMs": limits.MIGRATOR_MILLIS,
    "connectionTimeoutMs": limits.CONNECT_MS,
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
class ClientSettings:
    """How the toolkit's HTTP client talks to an Alternator side (None, 0: no limit)."""

    compression: bool = False  # gzip request bodies from a size threshold
    max_connections: int | None = None  # idle connections kept per node
    connect_ms: int | None = None  # None: the client's default
    max_idle_ms: int | None = None  # a connection idle longer is closed, not reused
    time_to_live_ms: int | None = None  # a connection older than this is not reused


@dataclass(frozen=True)
class AlternatorSettings:
    batch_size: int  # items per BatchWriteItem
    nodes: NodeDiscovery | None  # None: every request goes to the endpoint
    write_isolation: str | None  # the tag put on a table the toolkit creates
    client: ClientSettings = ClientSettings()
    tablets: str = "auto"  # whether a table the toolkit creates may use tablets


def note_settings(node: Node) -> None:
    """A source's Alternator settings: each is a note, for a source is DynamoDB."""
    nested = node.section("alternator")
    if nested is not None:
        nested.only(SETTINGS)
        _inert(nested, "it applies to an Alternator source (type: alternator)", ())


def read_source_settings(
    node: Node, endpoint: Endpoint
) -> tuple[NodeDiscovery | None, ClientSettings]:
    """An Alternator source's node and client settings: its reads spread over the nodes too."""
    nested = node.section("alternator")
    if nested is not None:
        nested.only(SETTINGS)
    parts = [p for p in (nested, node) if p is not None]
    for part in parts:
        _inert(part, "", USED)
        if part.data.get("maxItemsPerBatch") is not None:
            part.integer("maxItemsPerBatch", limits.BATCH_ALTERNATOR)
            part.note("maxItemsPerBatch", "it applies to the target's writes")
    return _discovery(node, parts, endpoint), _client(parts)


def read_settings(node: Node, kind: str, endpoint: Endpoint | None) -> AlternatorSettings:
    """The target's batch size and, on ``type: alternator``, its node settings."""
    alternator = kind == "alternator"
    nested = node.section("alternator")
    if nested is not None:
        nested.only((*SETTINGS, "tablets") if alternator else SETTINGS)
    parts = [p for p in (nested, node if alternator else None) if p is not None]
    used = USED if alternator else ("maxItemsPerBatch",)
    why = "" if alternator else "it applies to an Alternator target (type: alternator)"
    for part in parts:
        _inert(part, why, used)
    batch = _batch_size(node, parts, kind)
    if not alternator or endpoint is None:
        return AlternatorSettings(batch, None, None)
    isolation = node.text("writeIsolation")
    if isolation is not None and isolation not in WRITE_ISOLATIONS:
        node.wrong("writeIsolation", isolation, " or ".join(WRITE_ISOLATIONS))
    discovery = _discovery(node, parts, endpoint)
    tablets = _last(parts, lambda part: _tablets(part)) or "auto"
    return AlternatorSettings(batch, discovery, isolation, _client(parts), tablets)


def _tablets(node: Node) -> str | None:
    """auto (the default), always or never: see toolkit/logic/tablets.py."""
    value = node.text("tablets")
    if value is not None and value not in TABLETS:
        node.wrong("tablets", value, " or ".join(TABLETS))
    return value


def _inert(node: Node, why: str, used: Collection[str]) -> None:
    """Note the keys that have no effect here (``why``, else each one's own reason);
    their numbers must still be in range."""
    for key, limit in _NUMBERS.items():
        node.integer(key, limit)
    node.flag("compression", False)
    node.flag("optimizeHeaders", False)
    for key in SETTINGS:
        if key not in used and node.data.get(key) not in (None, [], {}):
            node.note(key, why or INERT[key])


def _client(parts: list[Node]) -> ClientSettings:
    def number(key: str) -> int | None:
        return _last(parts, lambda part: part.integer(key, _NUMBERS[key]))

    def compression(part: Node) -> bool | None:
        return None if part.data.get("compression") is None else part.flag("compression", False)

    return ClientSettings(
        compression=_last(parts, compression) or False,
        max_connections=number("maxConnections"),
        connect_ms=number("connectionTimeoutMs"),
        max_idle_ms=number("connectionMaxIdleTimeMs"),
        time_to_live_ms=number("connectionTimeToLiveMs"),
    )


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
