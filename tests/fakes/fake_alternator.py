"""A fake Alternator cluster for the tests: nodes that forward to one DynamoDB Local
and behave as ScyllaDB documents a real cluster does.

Each node is a ``FaultProxy`` on its own port of 127.0.0.1. Facts it models, with
where ScyllaDB documents them (docs/ of the scylladb repository, or its source):

- ``GET /localnodes`` lists the live nodes of the asked node's datacenter; ``?dc=``
  and ``?rack=`` narrow it, and an unknown dc or rack gives ``[]``
  (new-apis.md "Service discovery"). Nodes share 127.0.0.1, so each is listed as
  ``127.0.0.1:PORT`` where ScyllaDB lists an address. ``places=`` gives each node's
  (dc, rack); default all dc1/rack1.
- Last-write-wins by the receiving node's clock (compatibility.md "Avoiding write
  reordering"): each write through a node (PutItem, DeleteItem, UpdateItem, each
  item of a BatchWriteItem) is stamped with that node's clock plus its skew
  (``skews=``, ``set_skew``); a write older than the key's last one is acknowledged
  and not applied (``lost_writes``). Writes sent to DynamoDB Local directly carry no
  timestamp. tests/fakes/alternator_clock.py.
- BatchWriteItem takes up to 100 items (compatibility.md "Configurable or different
  limits"); DynamoDB Local takes 25, so the node sends it in parts.
- Tablets by version (new-apis.md "Tablets"; compatibility.md "Alternator
  Streams"): from 2025.4 a table created through a node without the tag
  ``system:initial_tablets`` (or with a number) uses tablets when
  ``tablets_mode_for_new_keyspaces`` is enabled or enforced; a non-number asks for
  vnodes, refused when enforced. 2025.4 and 2026.1 refuse a stream on a tablet
  table (CreateTable and UpdateTable, texts of alternator/executor.cc before commit
  6be16cf224); 2026.2 allows it. A table not created through a node counts as
  vnodes unless the test adds it to ``tablet_tables``. DynamoDB Local keeps no tags
  (ListTagsOfResource is unknown to it), so the nodes keep the tags of the tables
  created through them and answer ListTagsOfResource, TagResource, UntagResource.
- Reserved tags (alternator/executor.cc update_tags_map, tag_key_is_internal):
  from 2025.1.4 (commit 6cbcabd100 of 2025.3.0, backported to 2025.1.4 and 2025.2.0)
  CreateTable, TagResource and UntagResource refuse every ``system:`` tag key but
  ``system:write_isolation`` ("Tag key '...' is reserved for internal use"); 2025.4.0
  frees ``system:initial_tablets``, so 2025.1.4 through 2025.3.x refuse that one too.
- System tables read by Scan and Query (new-apis.md "Accessing system tables from
  ScyllaDB"): ``.scylla.alternator.system.versions``, ``system.config``
  (``tablets_mode_for_new_keyspaces``) and ``system_schema.scylla_keyspaces``
  (``initial_tablets`` of a tablet table; a non-text CQL column reads as a string,
  alternator/serialization.cc). ``tablets_mode_for_new_keyspaces`` is listed from
  2025.2, when the option came (commit c62865df90), though Alternator follows it
  only from 2025.4. tests/fakes/alternator_system.py. ``system_tables=`` plays a server
  that answers none: ``"missing"`` relays the read to DynamoDB Local, whose
  ResourceNotFoundException is what DynamoDB (or a ScyllaDB before 4.1, when system
  tables came, commit 53bbef1e6c) answers; ``"denied"`` refuses it as ScyllaDB refuses
  a role without SELECT on the table when alternator_enforce_authorization is on
  (AccessDeniedException "SELECT access on table system.versions is denied to role
  R", R the request's access key, ", client address ..." added in 2026.1 by commit
  51186b2f2c; executor.cc verify_permission).
- Compressed request bodies, ``Content-Encoding: gzip`` or ``deflate`` (network.md
  "Compression of requests"), from 2026.1; counted per node
  (``compressed_requests``). An older version reads the body as JSON whatever the
  header says (alternator/server.cc before commit 4c7c5f4af7), so a compressed one
  gets its ValidationException "Parsing JSON failed".
- ``ReturnConsumedCapacity: INDEXES`` is refused; ``BillingMode`` and
  ``ProvisionedThroughput`` must be valid and are otherwise ignored (compatibility.md
  "Provisioning" and "Unimplemented API features"; alternator/consumed_capacity.cc,
  executor.cc verify_billing_mode).
- GetRecords as Alternator Streams gives it (compatibility.md "Alternator Streams"):
  eventSource ``scylladb:alternator`` and no SizeBytes always; INSERT and MODIFY
  swapped (``swap_every=``) and events of writes that changed nothing
  (``noop_every=``) when asked; the ~10 s before a record is visible only with
  ``stream_delay=`` (it would slow every test). tests/fakes/alternator_streams.py.

Not modelled: replication, consistency levels and LWT (writes go to one server);
hinted handoff; the many stream shards of a real cluster (DynamoDB Local has one);
the experimental tablets of versions before 2025.4; DescribeTable's throughput of a
real node (DynamoDB Local's is shown); response compression; authentication.

A node stopped with ``stop`` refuses connections and leaves the list the others
give. What each node was asked is counted per operation.
"""

from __future__ import annotations

import json
import ssl
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes.alternator_clock import KeyNames, LastWriteWins, NodeClocks, call_upstream
from tests.fakes.alternator_node import AlternatorNode
from tests.fakes.alternator_streams import StreamRewrites
from tests.fakes.alternator_system import Release
from tests.fakes.fault_proxy import Mode

Place = tuple[str, str]  # (datacenter, rack)
SYSTEM_TABLES = ("answered", "missing", "denied")


class FakeCluster:
    def __init__(
        self,
        upstream: str,
        size: int = 3,
        tls: ssl.SSLContext | None = None,
        *,
        skews: Sequence[float] | None = None,
        version: str = "2026.1.0",
        tablets_mode: str = "enabled",
        places: Sequence[Place] | None = None,
        swap_every: int = 0,
        noop_every: int = 0,
        stream_delay: float = 0.0,
        system_tables: str = "answered",
    ) -> None:
        if system_tables not in SYSTEM_TABLES:
            raise ValueError(f"system_tables is one of {SYSTEM_TABLES}, not {system_tables!r}")
        self._lock = threading.Lock()
        self._live = set(range(size))
        self.upstream = upstream
        self.release = Release(version, tablets_mode)
        self.system_tables = system_tables
        self.places = list(places or [("dc1", "rack1")] * size)
        self.clocks = NodeClocks(skews or [0.0] * size)
        self.writes = LastWriteWins()
        self.key_names = KeyNames(upstream)
        self.streams = StreamRewrites(swap_every, noop_every, stream_delay)
        self.tablet_tables: set[str] = set()
        self.initial_tablets: dict[str, int] = {}  # of the tablet tables created through a node
        self.tags: dict[str, dict[str, str]] = {}  # table -> its tags, as created or tagged
        self.compressed_requests = [0] * size
        self.operations: list[Counter[str]] = [Counter() for _ in range(size)]
        self.bodies: list[tuple[str, bytes]] = []  # control-plane requests, in order
        self.listings: list[str] = []  # the paths of /localnodes requests, with queries
        self.nodes = [AlternatorNode(self, node, upstream, tls) for node in range(size)]

    @property
    def urls(self) -> list[str]:
        return [node.url for node in self.nodes]

    @property
    def lost_writes(self) -> int:
        return self.writes.lost

    def set_skew(self, node: int, seconds: float) -> None:
        self.clocks.set_skew(node, seconds)

    def stop(self, node: int) -> None:
        """The node goes away: no connections, and no longer listed by the others."""
        with self._lock:
            self._live.discard(node)
        self.nodes[node].set_mode(Mode.REFUSE)

    def count(self, node: int, operation: str) -> int:
        with self._lock:
            return self.operations[node][operation]

    def tablets_of(self) -> dict[str, int]:
        """The tablet tables and their initial tablets (0 for one a test added)."""
        with self._lock:
            return {t: self.initial_tablets.get(t, 0) for t in self.tablet_tables}

    def created(self, table: str, tags: dict[str, str], tablets: int | None) -> None:
        with self._lock:
            self.tags[table] = tags
            if tablets is not None:
                self.tablet_tables.add(table)
                self.initial_tablets[table] = tablets

    def deleted(self, table: str) -> None:
        with self._lock:
            self.tags.pop(table, None)
            self.tablet_tables.discard(table)
            self.initial_tablets.pop(table, None)
        self.key_names.forget(table)
        self.writes.forget(table)

    def retag(self, table: str, added: dict[str, str], removed: Sequence[str]) -> dict[str, str]:
        """A table's tags after TagResource or UntagResource (nothing: ListTagsOfResource)."""
        with self._lock:
            tags = self.tags.setdefault(table, {})
            tags.update(added)
            for key in removed:
                tags.pop(key, None)
            return dict(tags)

    def compressed(self, node: int) -> None:
        with self._lock:
            self.compressed_requests[node] += 1

    def streams_call(self, operation: str, request: dict[str, Any]) -> tuple[int, Any]:
        return call_upstream(self.upstream, operation, request, api="DynamoDBStreams_20120810")

    def localnodes(self, node: int, path: str) -> bytes | None:
        if not path.startswith("/localnodes"):
            return None
        query = {k: v[-1] for k, v in parse_qs(urlsplit(path).query).items()}
        dc = query.get("dc", self.places[node][0])
        rack = query.get("rack")
        with self._lock:
            self.listings.append(path)
            live = sorted(self._live)
        chosen = [n for n in live if self.places[n][0] == dc and rack in (None, self.places[n][1])]
        return json.dumps([f"127.0.0.1:{self.nodes[n].port}" for n in chosen]).encode()

    def observe(self, node: int, target: str, body: bytes) -> None:
        operation = target.rsplit(".", 1)[-1]
        with self._lock:
            self.operations[node][operation] += 1
            if operation in ("CreateTable", "UpdateTimeToLive") or b"ReturnConsumed" in body:
                self.bodies.append((operation, body))


@contextmanager
def fake_cluster(
    upstream: str, size: int = 3, tls: ssl.SSLContext | None = None, **options: Any
) -> Iterator[FakeCluster]:
    cluster = FakeCluster(upstream, size, tls, **options)
    with ExitStack() as stack:
        for node in cluster.nodes:
            stack.enter_context(node)
        yield cluster
