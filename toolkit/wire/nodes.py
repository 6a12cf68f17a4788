"""Which Alternator node the next request goes to.

Alternator has no load balancer: every node answers ``GET /localnodes`` with the
live nodes of its datacenter (a JSON list of addresses; ``?dc=`` and ``?rack=``
narrow it), and clients spread their requests over that list. A rack or datacenter
that is unknown or has no live node answers ``[]`` (docs/alternator/new-apis.md):
the list then widens from the rack to its datacenter to the node's own (no query). The list is asked
for again every few seconds, so nodes that join are used and nodes that leave are
dropped; a node that fails a request is skipped at once, for a while, without
waiting for the cluster to notice. No I/O here: the GET is handed in.

Reads take the nodes in turn. Writes of an item go to the node its key maps to
(toolkit.logic.key_routing), so that they are applied in the order they were sent.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from urllib.parse import urlencode, urlsplit

import orjson

from toolkit.config.alternator import NodeDiscovery
from toolkit.logic.key_routing import NodeMap

log = logging.getLogger("migrator")

Fetch = Callable[[str], tuple[int, bytes]]  # GET url -> (status, body); raises OSError-likes
Scope = tuple[str | None, str | None]  # (datacenter, rack) asked for; (None, None): no query
DOWN_SECONDS = 10.0  # how long a node that failed a request is left alone


def localnodes_url(base: str, datacenter: str | None, rack: str | None) -> str:
    query = {k: v for k, v in (("dc", datacenter), ("rack", rack)) if v}
    return f"{base}/localnodes" + (f"?{urlencode(query)}" if query else "")


def scopes(datacenter: str | None, rack: str | None) -> list[Scope]:
    """The scopes to ask, narrowest first: the rack, its datacenter, the node's own."""
    return list(dict.fromkeys([(datacenter, rack), (datacenter, None), (None, None)]))


def scope_name(scope: Scope) -> str:
    datacenter, rack = scope
    if rack is not None:
        return f"rack {rack}" + (f" of datacenter {datacenter}" if datacenter else "")
    return f"datacenter {datacenter}" if datacenter else "the answering node's datacenter"


def parse_localnodes(base: str, body: bytes) -> list[str]:
    """The nodes' base URLs, with the scheme and port of the node that answered.

    Alternator lists bare addresses; an entry with its own port (a proxy's, or a
    test's) keeps it. Raises ValueError when the answer is not such a list.
    """
    try:
        entries = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise ValueError("the answer is not JSON") from None
    if not isinstance(entries, list) or not all(isinstance(e, str) and e for e in entries):
        raise ValueError("the answer is not a list of addresses")
    parts = urlsplit(base)
    urls = []
    for entry in entries:
        host = f"[{entry}]" if entry.count(":") > 1 and not entry.startswith("[") else entry
        has_port = urlsplit(f"//{host}").port is not None
        port = "" if has_port or parts.port is None else f":{parts.port}"
        urls.append(f"{parts.scheme}://{host}{port}")
    return list(dict.fromkeys(urls))


class LiveNodes:
    """Round robin over the live nodes, or the node of a key; safe to share between threads."""

    def __init__(
        self,
        discovery: NodeDiscovery,
        fetch: Fetch,
        role: str = "target",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._discovery = discovery
        self._fetch = fetch
        self._role = role
        self._clock = clock
        self._lock = threading.Lock()
        self._turn = itertools.count()
        self._nodes: tuple[str, ...] = discovery.seeds
        self._down: dict[str, float] = {}
        self._up: tuple[str, ...] = self._nodes
        self._listed_map = self._map = NodeMap(self._nodes)  # built again only when a list changes
        self._next_list = 0.0
        self._due = 0.0
        self._listed: bool | None = None  # did the last listing work? (to log changes only)
        self._scopes = scopes(discovery.datacenter, discovery.rack)
        self._scope = self._scopes[0]  # the scope listed last
        self.refresh()

    @property
    def nodes(self) -> tuple[str, ...]:
        """The nodes listed last (or the seeds, when no node could list them)."""
        return self._nodes

    def pick(self) -> str:
        if self._clock() >= self._due:
            self._update()
        up = self._up
        return up[next(self._turn) % len(up)]

    def for_key(self, key: bytes) -> str:
        """The node a key's writes go to: first in the key's ranking over the listed
        nodes, skipping those marked down (``key``: its bytes, as ``routing_key`` gives them)."""
        if self._clock() >= self._due:
            self._update()
        return self._map.node_for(key)

    @property
    def spreads_writes(self) -> bool:
        """Writes may go to several nodes: a batch must hold the keys of one node only."""
        return True

    def failed(self, url: str) -> None:
        """A request to ``url`` could not reach it: skip the node for a while."""
        with self._lock:
            now = self._clock()
            if self._down.get(url, 0.0) <= now:
                log.warning("%s node %s is unreachable; skipping it for a while", self._role, url)
            self._down[url] = now + DOWN_SECONDS
            self._next_list = now  # the cluster's own view may have changed too
            self._recompute(now)

    def refresh(self) -> None:
        """Ask for the list now (also done by ``pick`` every refresh interval)."""
        with self._lock:
            self._next_list = self._clock()
            self._recompute(self._next_list)
        self._update()

    def _update(self) -> None:
        if not self._lock.acquire(blocking=False):
            return  # another thread is at it; go on with the current list
        try:
            now = self._clock()
            if now >= self._next_list:
                self._list()
                self._next_list = self._clock() + self._discovery.refresh_seconds
            self._recompute(self._clock())
        finally:
            self._lock.release()

    def _list(self) -> None:
        """Ask the live nodes, then the seeds, until one answers with a list."""
        problems = []
        for base in dict.fromkeys((*self._up, *self._discovery.seeds)):
            try:
                listed = self._ask(base)
            except (OSError, ValueError) as error:
                problems.append(f"{base}: {error}")
                continue
            if listed is not None:
                self._found(*listed)
                return
            problems.append(f"{base}: no live nodes listed")
        self._not_found(problems)

    def _ask(self, base: str) -> tuple[list[str], Scope] | None:
        """The live nodes of the narrowest scope in which the node at ``base`` lists any."""
        for scope in self._scopes:
            status, body = self._fetch(localnodes_url(base, *scope))
            if status != 200:
                raise ValueError(f"HTTP {status}")
            nodes = parse_localnodes(base, body)
            if nodes:
                return nodes, scope
        return None

    def _found(self, nodes: Sequence[str], scope: Scope) -> None:
        if scope != self._scope:
            wanted = self._scopes[0]
            if scope == wanted:
                log.info("%s: %s lists live nodes again; using them", self._role, scope_name(scope))
            else:
                log.warning(
                    "%s: /localnodes lists no live node in %s (unknown, or all its nodes down); "
                    "using the nodes of %s instead",
                    *(self._role, scope_name(wanted), scope_name(scope)),
                )
            self._scope = scope
        if self._listed is not True or set(nodes) != set(self._nodes):
            log.info("%s nodes: %s", self._role, ", ".join(nodes))
        self._nodes, self._listed = tuple(nodes), True

    def _not_found(self, problems: Sequence[str]) -> None:
        if self._listed is not False:
            log.warning(
                "%s: no node listed the live nodes (%s); sending requests to %s "
                "(set localNodes: false to send them all to the endpoint)",
                self._role,
                "; ".join(problems[:3]),
                ", ".join(self._nodes),
            )
        self._listed = False

    def _recompute(self, now: float) -> None:
        self._down = {url: until for url, until in self._down.items() if until > now}
        up = tuple(n for n in self._nodes if n not in self._down)
        self._up = up or self._nodes  # all down: try them anyway, the retries decide
        if set(self._listed_map.nodes) != set(self._nodes):
            self._listed_map = NodeMap(self._nodes)
        if set(self._map.nodes) != set(self._up):
            self._map = self._listed_map.without(tuple(self._down))
        self._due = min((self._next_list, *self._down.values()))
