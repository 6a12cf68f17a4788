"""End to end through the real CLI, as the reference post's test run: a live load, a
migration with stream replay, the load stopped, the stream drained, and then three
independent checks: `toolkit verify --both-directions` exits 0, boto3 scans of both
tables are equal, and the target equals the mutator's operation log replayed into a
dict (in canonical form: DynamoDB Local normalises numbers).

Load phases run one after another, never two mutators at once, so that the one log
file, read in order, is the order in which the server applied them.
"""

from __future__ import annotations

import base64
import signal
import socket
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.conftest import Endpoints
from tests.fakes.fault_proxy import FaultProxy, Mode
from tests.helpers import run_cli
from tests.scenario import Process, Run, logged, progress
from tests.strategies import PADDING, deeply_nested, items_for, large_item
from tests.tables import (
    create_table,
    keyed,
    load,
    replayed,
    scan_all,
    table_state,
)
from toolkit.logic.items import canonical, item_size

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from tests.strategies import TableKeys

pytestmark = pytest.mark.convergence

KEYS = 2000
HOT = 600  # operations of the burst on 30 keys
KEY_NAMES = ("id", "version")  # the mutator's --create-table shape
SMALL_ITEMS = ("--max-item-bytes", "600")
STEADY = ("--rate", "10-25")


@pytest.fixture
def run(endpoints: Endpoints, table_name: str, tmp_path: Path) -> Iterator[Run]:
    scenario = Run(endpoints, table_name, tmp_path)
    try:
        yield scenario
    finally:
        scenario.kill_all()


def load_keys(run: Run, seed: int, *args: str, keys: int = KEYS) -> None:
    """Write keys 0..keys-1 at the server's full speed (`toolkit mutate --load`)."""
    out, _ = run.finish(run.mutate("--load", str(keys), "--seed", str(seed), *args))
    assert f"Load done: {keys} of {keys} items" in out


def stop_load(run: Run, mutator: Process) -> None:
    """Stop a steady load, once it has written something (a loaded machine may start the
    interpreter slower than the migration copies its first pages)."""
    before = run.logged_at_start[mutator]
    run.wait_until("load operations", lambda: logged(run) >= before + 5, mutator)
    out, _ = run.stop(mutator)
    summary = out.strip().splitlines()[-1]
    assert summary.startswith("Mutate stopped: ") and not summary.startswith("Mutate stopped: 0 ")


def replaying(run: Run, records: int) -> Callable[[], bool]:
    def ready() -> bool:
        now = progress(run.state)
        return now.snapshot_done and now.records >= records

    return ready


def drain(run: Run, migration: Process | None = None) -> None:
    """Stop the migration (SIGTERM: a clean stop), then run it again until drained."""
    if migration is not None:
        assert "Stream replay stopped" in run.stop(migration, signal.SIGTERM)[0]
    out, err = run.finish(run.migrate("--stop-when-drained"))
    assert "copied by an earlier run" in err
    assert "Stream replay drained" in out


def assert_same(expected: Mapping[Any, Any], actual: Mapping[Any, Any], what: str) -> None:
    missing = [k for k in expected if k not in actual]
    extra = [k for k in actual if k not in expected]
    different = [k for k in expected if k in actual and expected[k] != actual[k]]
    assert not (missing or extra or different), (
        f"{what}: {len(missing)} missing, {len(extra)} extra, {len(different)} different, "
        f"e.g. {[*missing, *extra, *different][:3]}"
    )


def assert_identical(run: Run, preloaded: Mapping[bytes, Any] | None = None) -> None:
    verify = run_cli(
        *("verify", "--config", str(run.config), "--both-directions"),
        *("--target-endpoint", run.endpoints.target),
        timeout=300,
    )
    assert verify.returncode == 0, verify.stdout[-3000:] + verify.stderr[-3000:]
    assert "IDENTICAL (both directions)" in verify.stdout
    source = scan_all(run.endpoints.source, run.table)
    assert len(source) > 0
    assert_same(source, scan_all(run.endpoints.target, run.table), "target vs source")
    expected = {**(preloaded or {}), **replayed(run.oplog, KEY_NAMES)}
    target = table_state(run.endpoints.target, run.table, KEY_NAMES)
    assert_same(expected, target, "target vs the operation log")


def test_load_burst_migration_and_drain_end_identical(run: Run) -> None:
    run.configure(maxMapTasks=2)
    load_keys(run, 1, "--create-table", *SMALL_ITEMS)
    steady = run.mutate("--keys", str(KEYS), *STEADY, *SMALL_ITEMS)
    migration = run.migrate("--scan-page-items", "25")
    run.wait_until("snapshot progress", lambda: progress(run.state).copied >= 100, migration)
    stop_load(run, steady)

    # Bursts at the server's full speed: every key written again, then many changes per key.
    load_keys(run, 2, *SMALL_ITEMS)
    hot = ("--keys", "30", "--rate", "400-500", "--operations", str(HOT), *SMALL_ITEMS)
    assert f"Mutate done: {HOT} operations" in run.finish(run.mutate(*hot))[0]
    steady = run.mutate("--keys", str(KEYS), *STEADY, *SMALL_ITEMS)
    run.wait_until("the bursts replayed", replaying(run, KEYS + HOT + 20), migration, steady)
    time.sleep(3)  # steady changes while the replay follows the stream
    stop_load(run, steady)
    drain(run, migration)
    assert_identical(run)


def test_killed_during_snapshot_and_during_replay_then_restarted(run: Run) -> None:
    run.configure(maxMapTasks=1)
    load_keys(run, 1, "--create-table", *SMALL_ITEMS)
    steady = run.mutate("--keys", str(KEYS), *STEADY, *SMALL_ITEMS)
    slow_pages = ("--scan-page-items", "10")

    first = run.migrate(*slow_pages)
    run.wait_until("snapshot progress", lambda: progress(run.state).copied >= 200, first, steady)
    run.kill(first)
    killed = progress(run.state)
    assert not killed.snapshot_done and killed.copied < KEYS, "killed mid-snapshot"

    second = run.migrate(*slow_pages)
    run.wait_until("replay progress", replaying(run, 30), second, steady)
    run.kill(second)
    assert progress(run.state).copied <= KEYS, "the restart continued from the checkpoints"

    time.sleep(2)  # changes made while no migrator runs
    stop_load(run, steady)
    drain(run)
    assert_identical(run)


def hold_fault(run: Run, proxy: FaultProxy, mode: Mode, counter: str, *alive: Any) -> None:
    """Answer with this fault for 2 s at least, and until the migrator met it 3 times."""
    proxy.set_mode(mode)
    since = time.monotonic()

    def met() -> bool:
        return proxy.count(counter) >= 3 and time.monotonic() - since >= 2

    run.wait_until(f"3 {counter} answers", met, *alive)
    resume(run, proxy, *alive)


def resume(run: Run, proxy: FaultProxy, *alive: Any) -> None:
    proxy.set_mode(Mode.PASS)
    before = progress(run.state).records
    run.wait_until("the replay to resume", lambda: progress(run.state).records > before, *alive)


def test_target_unreachable_then_throttling_and_500s_during_replay(run: Run) -> None:
    with FaultProxy(run.endpoints.target) as proxy:
        run.configure(target=proxy.url, maxMapTasks=2)
        load_keys(run, 1, "--create-table", *SMALL_ITEMS)
        steady = run.mutate("--keys", str(KEYS), *STEADY, *SMALL_ITEMS)
        migration = run.migrate("--scan-page-items", "50")
        run.wait_until("replay progress", replaying(run, 20), migration, steady)

        proxy.set_mode(Mode.REFUSE)
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", proxy.port), timeout=5).close()
        time.sleep(1)  # a write in flight at the switch settles
        stalled, changes = progress(run.state).records, len(run.oplog.read_bytes().splitlines())
        time.sleep(4)
        assert progress(run.state).records == stalled, "nothing is acknowledged while unreachable"
        assert len(run.oplog.read_bytes().splitlines()) > changes, "the source kept changing"
        resume(run, proxy, migration, steady)
        hold_fault(run, proxy, Mode.THROTTLE, "throttled", migration, steady)
        hold_fault(run, proxy, Mode.ERROR, "error500", migration, steady)

        stop_load(run, steady)
        drain(run, migration)
        counts = proxy.counts()
    assert counts["cut"] >= 1 and counts["forwarded"] > 0 and "upstream_failed" not in counts
    assert_identical(run)


SCHEMA: TableKeys = (
    [{"AttributeName": "id", "KeyType": "HASH"}, {"AttributeName": "version", "KeyType": "RANGE"}],
    [
        {"AttributeName": "id", "AttributeType": "S"},
        {"AttributeName": "version", "AttributeType": "N"},
    ],
)
EVERY_TYPE: dict[str, Any] = {  # each of the ten types, scalars at their limits
    "id": {"S": "every type 🙂"},
    "version": {"N": "0"},
    "s": {"S": "Grüße, 日本語"},
    "n": {"N": "-1.2345678901234567890123456789012345678E-100"},
    "b": {"B": base64.b64encode(bytes(range(256))).decode()},
    "bool": {"BOOL": False},
    "null": {"NULL": True},
    "ss": {"SS": ["a", "🙂"]},
    "ns": {"NS": ["1", "1.5", "-9.9999999999999999999999999999999999999E+125"]},
    "bs": {"BS": ["AA==", "AAA="]},
    "l": {"L": [{"S": "x"}, {"L": []}, {"M": {}}]},
    "m": {"M": {"nested": {"M": {"n": {"N": "1E-130"}}}}},
}
LARGE_KB = (400, 390, 200)


def resized(item: dict[str, Any], size: int) -> dict[str, Any]:
    """The item with its padding (see ``large_item``) cut or grown to ``size`` bytes."""
    name = max((a for a in item if a.rstrip("_") == PADDING), key=len)
    raw = base64.b64decode(item[name]["B"])
    missing = size - item_size(item)
    raw = raw[: len(raw) + missing] if missing < 0 else raw + bytes(missing)
    return {**item, name: {"B": base64.b64encode(raw).decode()}}


def drawn_items() -> list[dict[str, Any]]:
    """Items of 400, 390 and 200 KB, one nested 32 levels, 30 of any types, and EVERY_TYPE.

    Hypothesis draws them; its last example is kept (its first is the simplest).
    """
    drawn: list[dict[str, Any]] = []

    @given(
        big=st.tuples(*(large_item(size * 1024, SCHEMA) for size in LARGE_KB)),
        deep=deeply_nested(32),
        varied=st.lists(items_for(SCHEMA, max_depth=4), min_size=30, max_size=30),
    )
    @settings(
        max_examples=3,
        phases=[Phase.generate],
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def draw(big: tuple[Any, ...], deep: Any, varied: list[Any]) -> None:
        drawn[:] = [*big, {"id": {"S": "deep"}, "deep": deep}, *varied]

    draw()
    return [*drawn, EVERY_TYPE]


def numbered(items: list[dict[str, Any]], first: int) -> list[dict[str, Any]]:
    """The items under version numbers from ``first`` on (no two share a key), sizes kept."""
    renumbered = [{**item, "version": {"N": str(n)}} for n, item in enumerate(items, first)]
    sized = [resized(i, kb * 1024) for i, kb in zip(renumbered, LARGE_KB, strict=False)]
    return sized + renumbered[len(LARGE_KB) :]


def test_every_attribute_type_and_items_up_to_400_kb(
    run: Run, source_client: DynamoDBClient
) -> None:
    create_table(source_client, run.table, keys=(("id", "S"), ("version", "N")))
    drawn = drawn_items()
    before, during = numbered(drawn, 1), numbered(drawn, 1001)
    for items in (before, during):
        assert sorted(item_size(i) for i in items)[-3:] == [kb * 1024 for kb in sorted(LARGE_KB)]
    load(run.endpoints.source, run.table, before, KEY_NAMES)
    run.configure(maxMapTasks=2)
    largest = ("--max-item-bytes", str(400 * 1024))
    load_keys(run, 1, *largest, keys=100)
    steady = run.mutate("--keys", "100", *largest, *STEADY)
    migration = run.migrate("--scan-page-items", "5")
    run.wait_until("replay progress", replaying(run, 30), migration, steady)
    # Written after the snapshot: only the stream can bring them to the target.
    load(run.endpoints.source, run.table, during, KEY_NAMES)
    run.wait_until("replay progress", replaying(run, 30 + len(during)), migration, steady)
    stop_load(run, steady)
    drain(run, migration)
    assert_identical(run, {keyed(i, KEY_NAMES): canonical(i) for i in [*before, *during]})
