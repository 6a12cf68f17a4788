"""The mutation run and the bulk load against an in-memory fake server (no I/O)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest

from mutator.bodies import BodyGenerator, SizeBounds
from mutator.keys import KeySpace, LiveKeys, TableKeys
from mutator.load import Loader, LoadSettings
from mutator.oplog import OpLog
from mutator.rate import RateRange
from mutator.run import MutateSettings, Mutation
from mutator.stats import Counters
from tests.helpers import PlaneOneByOne
from toolkit.errors import ServiceBusy, ServiceError, TerminalError, ToolkitError
from toolkit.logic.items import Item, digest, key_id, key_of
from toolkit.logic.key_routing import routing_key
from toolkit.logic.table_schema import KeyAttribute
from toolkit.wire.dataplane import Answer
from toolkit.wire.retry import RetryPolicy

PARTS = (KeyAttribute("id", "HASH", "S"), KeyAttribute("version", "RANGE", "N"))
NAMES = [p.name for p in PARTS]


class FakeTime:
    """Retry waits that take no real time: sleeping moves this clock on."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


_TIME = FakeTime()
NO_WAIT = RetryPolicy(base=0.01, cap=0.01, give_up_after=1.0, sleep=_TIME.sleep, clock=_TIME.clock)


class FakeServer(PlaneOneByOne):
    """PutItem, DeleteItem and BatchWriteItem on a dict; ``fail(n)`` may raise for call n."""

    def __init__(self, fail: Callable[[int], ToolkitError | None] = lambda _: None) -> None:
        self.items: dict[bytes, Item] = {}
        self.calls = 0
        self._fail = fail
        self._lock = threading.Lock()

    def call(self, operation: str, request: dict[str, Any]) -> Answer:
        with self._lock:
            self.calls += 1
            error = self._fail(self.calls)
            if error is not None:
                raise error
            if operation == "PutItem":
                self.items[key_id(key_of(request["Item"], NAMES))] = request["Item"]
            elif operation == "DeleteItem":
                self.items.pop(key_id(request["Key"]), None)
            else:
                for write in request["RequestItems"]["t"]:
                    item = write["PutRequest"]["Item"]
                    self.items[key_id(key_of(item, NAMES))] = item
            return Answer({}, 2)


def replay(path: Path) -> dict[bytes, Item]:
    state: dict[bytes, Item] = {}
    for line in path.read_bytes().splitlines():
        entry = orjson.loads(line)
        if entry["op"] == "put":
            assert entry["digest"] == digest(entry["item"])
            state[key_id(entry["key"])] = entry["item"]
        else:
            state.pop(key_id(entry["key"]), None)
    return state


def mutate(
    server: FakeServer,
    log: Path | None,
    lines: list[str],
    operations: int = 300,
    seed: int = 1,
    stop: threading.Event | None = None,
    keys: int = 50,
    tables: tuple[str, ...] = ("t",),
) -> Mutation:
    settings = MutateSettings(
        RateRange(5000, 5000),
        0.75,
        seed,
        operations=operations,
        workers=4,
        window=0.02,
        retry=NO_WAIT,
    )
    oplog = OpLog(log, lambda: 1.0) if log else None
    mutation = Mutation(
        settings,
        server,
        [TableKeys(name, KeySpace(PARTS, keys), LiveKeys(keys)) for name in tables],
        BodyGenerator(SizeBounds(30, 400), seed),
        oplog,
        lines.append,
        stop or threading.Event(),
    )
    try:
        mutation.run()
    finally:
        if oplog:
            oplog.close()
    return mutation


def test_the_log_replayed_is_the_final_state(tmp_path: Path) -> None:
    server = FakeServer()
    lines: list[str] = []
    mutate(server, tmp_path / "ops.jsonl", lines)
    assert replay(tmp_path / "ops.jsonl") == server.items
    assert lines[-1].startswith("Mutate done: 300 operations (")
    assert "0 errors" in lines[-1]
    assert any(line.startswith("[") and " ops: " in line for line in lines[:-1])


def test_transient_errors_are_retried_and_counted(tmp_path: Path) -> None:
    def throttle(call: int) -> ToolkitError | None:
        return ServiceBusy("slow down", code="ThrottlingException") if call % 7 == 0 else None

    server = FakeServer(throttle)

    lines: list[str] = []
    mutate(server, tmp_path / "ops.jsonl", lines)
    assert replay(tmp_path / "ops.jsonl") == server.items
    summary = lines[-1]
    assert "300 operations" in summary
    errors = (server.calls) // 7
    assert f"{errors} errors retried ({errors} ThrottlingException)" in summary


def test_a_terminal_error_stops_the_run_naming_the_key(tmp_path: Path) -> None:
    def reject(call: int) -> ToolkitError | None:
        return (
            ServiceError("PutItem failed: ValidationException: no", code="V")
            if call == 40
            else None
        )

    server = FakeServer(reject)

    lines: list[str] = []
    with pytest.raises(TerminalError, match=r"of key \{\"id\".* in table t failed.*Validation"):
        mutate(server, tmp_path / "ops.jsonl", lines)
    assert lines[-1].startswith("Mutate failed: ")
    logged = replay(tmp_path / "ops.jsonl")
    assert logged == server.items  # what was acknowledged, and nothing else
    assert len((tmp_path / "ops.jsonl").read_bytes().splitlines()) < 300


def test_errors_that_never_clear_stop_the_run_once_retries_give_up() -> None:
    server = FakeServer(lambda _: ServiceBusy("down", code="InternalServerError"))
    with pytest.raises(
        TerminalError, match="failed after retrying for 1 s, so the run stopped: down"
    ):
        mutate(server, None, [])


def test_same_seed_same_operations(tmp_path: Path) -> None:
    def entries(path: Path) -> list[tuple[int, str, bytes, str | None]]:
        found = [orjson.loads(line) for line in path.read_bytes().splitlines()]
        return sorted((e["seq"], e["op"], key_id(e["key"]), e.get("digest")) for e in found)

    for name in ("a", "b"):
        mutate(FakeServer(), tmp_path / name, [], seed=9)
    mutate(FakeServer(), tmp_path / "c", [], seed=10)
    assert entries(tmp_path / "a") == entries(tmp_path / "b")
    assert entries(tmp_path / "a") != entries(tmp_path / "c")


def test_a_stop_ends_the_run_cleanly() -> None:
    stop = threading.Event()
    lines: list[str] = []
    threading.Timer(0.2, stop.set).start()
    server = FakeServer()
    mutate(server, None, lines, operations=10**9, stop=stop)
    assert lines[-1].startswith("Mutate stopped: ")


def test_load_writes_every_key_once_and_logs_it(tmp_path: Path) -> None:
    server = FakeServer(lambda n: ServiceBusy("x", code="Busy") if n == 3 else None)
    lines: list[str] = []
    counters = Counters()
    oplog = OpLog(tmp_path / "load.jsonl", lambda: 1.0)
    space = KeySpace(PARTS, 1000)

    def write(requests: list[dict[str, Any]]) -> None:
        for start in range(0, len(requests), 25):
            body = {"RequestItems": {"t": requests[start : start + 25]}}
            for _ in range(3):
                try:
                    server.call("BatchWriteItem", body)
                    break
                except ServiceBusy:
                    counters.retried("Busy")

    loader = Loader(
        LoadSettings("t", 1000, 4, workers=3, chunk=70),
        write,
        space,
        BodyGenerator(SizeBounds(30, 300), 4),
        oplog,
        lines.append,
        threading.Event(),
        counters,
    )
    result = loader.run()
    oplog.close()
    assert result.complete and result.items == 1000
    assert set(server.items) == {key_id(space.key(i)) for i in range(1000)}
    assert replay(tmp_path / "load.jsonl") == server.items
    assert lines[-1].startswith("Load done: 1000 of 1000 items")
    assert "1 errors retried (1 Busy)" in lines[-1]


class SpreadingServer(FakeServer):
    """A cluster's data plane: records the key each PutItem and DeleteItem named."""

    spreads_writes = True

    def __init__(self) -> None:
        super().__init__()
        self.named: list[tuple[bytes, bytes]] = []  # (key named, key the request writes)

    def call_all(
        self,
        operation: str,
        requests: Sequence[dict[str, Any]],
        *,
        keys: Sequence[bytes] | None = None,
    ) -> list[Answer | ToolkitError]:
        assert keys is not None and len(keys) == len(requests)
        for key, request in zip(keys, requests, strict=True):
            written = request.get("Key") or key_of(request["Item"], NAMES)
            self.named.append((key, routing_key(written, sorted(written))))
        return super().call_all(operation, requests, keys=keys)


def test_each_put_and_delete_names_its_key_for_a_cluster(tmp_path: Path) -> None:
    server = SpreadingServer()
    mutate(server, None, [])
    assert len(server.named) == 300
    assert all(named == written for named, written in server.named)


class TablesServer(FakeServer):
    """PutItem and DeleteItem on one dict per table."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, dict[bytes, Item]] = {}

    def call(self, operation: str, request: dict[str, Any]) -> Answer:
        with self._lock:
            items = self.tables.setdefault(request["TableName"], {})
            if operation == "PutItem":
                items[key_id(key_of(request["Item"], NAMES))] = request["Item"]
            else:
                items.pop(key_id(request["Key"]), None)
            return Answer({}, 2)


def test_several_tables_share_the_operations_and_each_is_logged_and_counted(
    tmp_path: Path,
) -> None:
    server, log = TablesServer(), tmp_path / "ops.jsonl"
    lines: list[str] = []
    mutate(server, log, lines, operations=600, tables=("a", "b", "c"))
    entries = [orjson.loads(line) for line in log.read_bytes().splitlines()]
    assert sorted(e["seq"] for e in entries) == list(range(600))
    for name in ("a", "b", "c"):
        mine = [e for e in entries if e["table"] == name]
        state: dict[bytes, Item] = {}
        for e in sorted(mine, key=lambda e: e["seq"]):
            if e["op"] == "put":
                state[key_id(e["key"])] = e["item"]
            else:
                state.pop(key_id(e["key"]), None)
        assert state == server.tables[name]
        puts = sum(e["op"] == "put" for e in mine)
        assert f"Table {name}: {len(mine)} operations ({puts} puts, " in "\n".join(lines)
        assert f"{len(state)} of 50 keys live" in next(
            line for line in lines if line.startswith(f"Table {name}: ")
        )
    assert lines[-1].startswith("Mutate done: 600 operations (")
    assert lines[-1].endswith(
        f"{sum(map(len, server.tables.values()))} of 150 keys live in 3 tables"
    )


def test_a_failure_in_one_of_several_tables_names_that_table(tmp_path: Path) -> None:
    class MissingB(TablesServer):
        def call(self, operation: str, request: dict[str, Any]) -> Answer:
            if request["TableName"] == "b":
                raise ServiceError("ResourceNotFoundException: no table b", code="R")
            return super().call(operation, request)

    lines: list[str] = []
    with pytest.raises(TerminalError, match=r"of key \{\"id\".* in table b failed"):
        mutate(MissingB(), None, lines, tables=("a", "b"))
    assert lines[-1].startswith("Mutate failed: ")
