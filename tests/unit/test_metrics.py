"""The metrics of a run of several tables: each table's series carry its name, the run's
phase and its stall gauge are the run's own (unlabeled), as Prometheus scrapes them."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from tests.unit.test_state_notes import Quiet
from toolkit.driver.metrics import PHASES, Metrics, run_phase
from toolkit.driver.observers import SnapshotObserver

Sample = tuple[str, frozenset[tuple[str, str]]]


def scraped(metrics: Metrics) -> dict[Sample, float]:
    """Every sample of the exposition, by its name and its labels."""
    text = generate_latest(metrics.registry).decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(metrics: Metrics, name: str, **labels: str) -> float:
    return scraped(metrics)[(name, frozenset(labels.items()))]


def named(metrics: Metrics, name: str) -> dict[frozenset[tuple[str, str]], float]:
    return {labels: v for (n, labels), v in scraped(metrics).items() if n == name}


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_two_tables_count_apart_each_under_its_name() -> None:
    metrics = Metrics()
    orders, users = metrics.for_table("orders"), metrics.for_table("users")
    orders.items_copied.inc(7)
    users.items_copied.inc(3)
    orders.segments_total.set(4)
    users.segments_total.set(8)
    users.segments_done.inc()
    orders.applied({"MODIFY": 2, "REMOVE": 1})
    users.applied({"MODIFY": 5})
    orders.writes_failed.inc()
    orders.shards_open.set(2)
    assert named(metrics, "toolkit_items_copied_total") == {
        frozenset({("table", "orders")}): 7,
        frozenset({("table", "users")}): 3,
    }
    assert value(metrics, "toolkit_segments_total", table="users") == 8
    assert value(metrics, "toolkit_segments_done", table="users") == 1
    assert value(metrics, "toolkit_segments_done", table="orders") == 0
    assert named(metrics, "toolkit_stream_records_applied_total") == {
        frozenset({("table", "orders"), ("type", "MODIFY")}): 2,
        frozenset({("table", "orders"), ("type", "REMOVE")}): 1,
        frozenset({("table", "users"), ("type", "MODIFY")}): 5,
    }
    assert named(metrics, "toolkit_writes_failed_total") == {
        frozenset({("table", "orders")}): 1,
        frozenset({("table", "users")}): 0,  # each table's series shows from its start
    }
    assert value(metrics, "toolkit_shards_open", table="orders") == 2
    assert value(metrics, "toolkit_shards_open", table="users") == 0
    assert metrics.for_table("orders") is orders  # the same series, not a second set


def test_a_table_s_observer_reports_under_its_name() -> None:
    metrics = Metrics()
    observer = SnapshotObserver(Quiet(), metrics.for_table("orders"), None)
    observer.started(3, 1, 0)
    observer.page_copied(10, size=200, expired=2)
    observer.segment_done()
    assert value(metrics, "toolkit_items_copied_total", table="orders") == 10
    assert value(metrics, "toolkit_bytes_copied_total", table="orders") == 200
    assert value(metrics, "toolkit_items_expired_skipped_total", table="orders") == 2
    assert value(metrics, "toolkit_segments_done", table="orders") == 2
    assert value(metrics, "toolkit_table_phase", table="orders", toolkit_table_phase="snapshot")


def phase_of_run(metrics: Metrics) -> str:
    (on,) = [dict(k)["toolkit_phase"] for k, v in named(metrics, "toolkit_phase").items() if v]
    return on


def phase_of(metrics: Metrics, table: str) -> str:
    (on,) = [
        labels["toolkit_table_phase"]
        for k, v in named(metrics, "toolkit_table_phase").items()
        if v and (labels := dict(k))["table"] == table
    ]
    return on


def test_the_run_s_phase_is_unlabeled_and_follows_its_least_advanced_table() -> None:
    metrics = Metrics()
    assert all(dict(k).keys() == {"toolkit_phase"} for k in named(metrics, "toolkit_phase"))
    assert phase_of_run(metrics) == "starting"
    orders, users = metrics.for_table("orders"), metrics.for_table("users")
    orders.phase.state("replay")
    assert phase_of_run(metrics) == "starting"  # users has not begun its snapshot
    users.phase.state("snapshot")
    assert phase_of_run(metrics) == "snapshot"
    users.phase.state("replay")
    assert (phase_of_run(metrics), phase_of(metrics, "orders")) == ("replay", "replay")
    assert all(dict(k).keys() == {"toolkit_phase"} for k in named(metrics, "toolkit_phase"))


def test_a_run_that_ends_ends_the_tables_still_running() -> None:
    metrics = Metrics()
    orders, users = metrics.for_table("orders"), metrics.for_table("users")
    orders.phase.state("failed")
    users.phase.state("replay")
    assert phase_of_run(metrics) == "replay"
    metrics.phase.state("stopped")
    assert phase_of_run(metrics) == "stopped"
    assert (phase_of(metrics, "orders"), phase_of(metrics, "users")) == ("failed", "stopped")


@given(st.lists(st.sampled_from(PHASES), min_size=1))
def test_the_run_s_phase_is_one_of_its_tables_and_none_is_behind_it(phases: list[str]) -> None:
    run = run_phase(phases)
    assert run in phases
    assert all(PHASES.index(run) <= PHASES.index(phase) for phase in phases)


def test_the_stall_gauge_counts_while_any_table_has_work_and_none_progresses() -> None:
    clock = Clock()
    metrics = Metrics(clock)
    orders, users = metrics.for_table("orders"), metrics.for_table("users")
    orders.progressed()
    users.progressed()
    orders.progressed(working=False)  # its snapshot is done; users still copies
    clock.now += 5
    assert value(metrics, "toolkit_seconds_since_progress") == 5
    orders.progressed(working=False)  # progress of any table is the run's progress
    assert value(metrics, "toolkit_seconds_since_progress") == 0
    clock.now += 2
    users.lagging(3.0, {})  # a change in hand: work remains
    assert value(metrics, "toolkit_seconds_since_progress") == 2
    users.lagging(0.0, {})  # drained: no table has work left
    clock.now += 9
    assert value(metrics, "toolkit_seconds_since_progress") == 0
    users.progressed()
    users.phase.state("failed")  # an ended table has no work left
    clock.now += 4
    assert value(metrics, "toolkit_seconds_since_progress") == 0


def test_requests_failed_carry_the_table_and_verify_s_none() -> None:
    metrics = Metrics()
    metrics.for_table("orders").request_failed("target", "BatchWriteItem", "ThrottlingException")
    metrics.for_table("users").request_failed("source", "Scan", "")
    metrics.request_failed("source", "Scan", "ConnectionError")  # verify's and mutate's own
    errors = named(metrics, "toolkit_request_errors_total")
    assert errors == {
        frozenset(
            {
                ("table", "orders"),
                ("side", "target"),
                ("operation", "BatchWriteItem"),
                ("code", "ThrottlingException"),
            }
        ): 1,
        frozenset(
            {("table", "users"), ("side", "source"), ("operation", "Scan"), ("code", "none")}
        ): 1,
        frozenset(
            {("table", ""), ("side", "source"), ("operation", "Scan"), ("code", "ConnectionError")}
        ): 1,
    }
    throttles = named(metrics, "toolkit_throttles_total")
    assert [dict(k)["table"] for k in throttles] == ["orders"]


def test_each_table_drops_only_its_own_shards_that_caught_up() -> None:
    metrics = Metrics(per_shard=True)
    orders, users = metrics.for_table("orders"), metrics.for_table("users")
    orders.lagging(4.0, {"shard-1": 4.0, "shard-2": 1.0})
    users.lagging(2.0, {"shard-1": 2.0})
    orders.lagging(1.0, {"shard-2": 1.0})
    lags = named(metrics, "toolkit_shard_lag_seconds")
    assert lags == {
        frozenset({("table", "orders"), ("shard", "shard-2")}): 1.0,
        frozenset({("table", "users"), ("shard", "shard-1")}): 2.0,
    }
    assert value(metrics, "toolkit_replication_lag_seconds", table="orders") == 1.0
