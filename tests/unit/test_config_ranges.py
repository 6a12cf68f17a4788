"""Every number has its range, the same from a config key and from a flag (issue 23, point 3).

Each bounded key is accepted at both ends of its range and refused one step beyond,
with the key, the range and what to do in the one line; a flag that takes the same
number refuses it alike (parsed by its real click command, which runs nothing).
"""

from __future__ import annotations

import math
from typing import Any

import click
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.test_config import base, error, with_value
from toolkit.config import limits, parse_config
from toolkit.config.limits import Limit
from toolkit.driver.migrate_command import migrate
from toolkit.driver.status_command import status
from toolkit.engines.choose import check_master
from toolkit.errors import UserError
from toolkit.local.commands import up
from verify.command import verify
from verify.layout import Layout
from verify.session import VerifyOptions, pass_settings

ALTERNATOR = {"type": "alternator", "table": "dst_table", "endpoint": {"host": "http://s"}}
EXPORT = {
    "type": "dynamodb-s3-export",
    "bucket": "my-bucket",
    "manifestKey": "x/manifest-summary.json",
    "tableDescription": {
        "attributeDefinitions": [{"name": "id", "type": "S"}],
        "keySchema": [{"name": "id", "type": "HASH"}],
    },
}
ENDPOINT = {"host": "http://s"}


def alternator_target() -> dict[str, Any]:
    return with_value("target", dict(ALTERNATOR))


def alternator_source() -> dict[str, Any]:
    return with_value("source", {**ALTERNATOR, "table": "src_table"})


def export_source() -> dict[str, Any]:
    return with_value("source", dict(EXPORT))


def with_endpoint() -> dict[str, Any]:
    return with_value("source.endpoint", dict(ENDPOINT))


# (dotted key, its limit, the document it goes into)
BOUNDED: list[tuple[str, Limit, Any]] = [
    ("source.scanSegments", limits.SCAN_SEGMENTS, base),
    ("source.maxMapTasks", limits.MAP_TASKS, base),
    ("source.readThroughput", limits.CAPACITY_UNITS, base),
    ("source.throughputReadPercent", limits.THROUGHPUT_PERCENT, base),
    ("source.endpoint.port", limits.PORT, with_endpoint),
    ("target.scanSegments", limits.SCAN_SEGMENTS, base),
    ("target.maxMapTasks", limits.MAP_TASKS, base),
    ("target.readThroughput", limits.CAPACITY_UNITS, base),
    ("target.writeThroughput", limits.CAPACITY_UNITS, base),
    ("target.throughputWritePercent", limits.THROUGHPUT_PERCENT, base),
    ("target.batchSize", limits.BATCH_DYNAMODB, base),
    ("target.alternator.maxItemsPerBatch", limits.BATCH_DYNAMODB, base),
    ("target.batchSize", limits.BATCH_ALTERNATOR, alternator_target),
    ("target.maxItemsPerBatch", limits.BATCH_ALTERNATOR, alternator_target),
    ("target.activeRefreshIntervalMs", limits.REFRESH_MS, alternator_target),
    ("target.alternator.activeRefreshIntervalMs", limits.REFRESH_MS, alternator_target),
    ("target.connectionTimeoutMs", limits.CONNECT_MS, alternator_target),
    ("target.maxConnections", limits.MAX_CONNECTIONS, alternator_target),
    ("target.alternator.connectionMaxIdleTimeMs", limits.MIGRATOR_MILLIS, alternator_target),
    ("target.connectionTimeToLiveMs", limits.MIGRATOR_MILLIS, alternator_target),
    ("source.maxConnections", limits.MAX_CONNECTIONS, alternator_source),
    ("target.alternator.idleRefreshIntervalMs", limits.MIGRATOR_MILLIS, base),
    ("source.activeRefreshIntervalMs", limits.REFRESH_MS, alternator_source),
    ("source.maxItemsPerBatch", limits.BATCH_ALTERNATOR, alternator_source),
    ("source.alternator.connectionTimeoutMs", limits.CONNECT_MS, base),
    ("source.maxMapTasks", limits.MAP_TASKS, export_source),
    (
        "source.tableDescription.provisionedThroughput.readCapacityUnits",
        limits.CAPACITY_UNITS,
        export_source,
    ),
    ("metricsPort", limits.PORT, base),
    ("validation.failuresToFetch", limits.FAILURES, base),
    ("validation.floatingPointTolerance", limits.TOLERANCE, base),
    ("validation.ttlToleranceMillis", limits.MIGRATOR_MILLIS, base),
    ("savepoints.intervalSeconds", limits.MIGRATOR_COUNT, base),
]
NAMES = [f"{key} ({document.__name__})" for key, _, document in BOUNDED]


def ends(limit: Limit) -> tuple[float, float]:
    """The lowest and the highest value the limit takes."""
    low = limit.low if not limit.low_open else math.nextafter(limit.low, math.inf)
    return low, limit.high


def beyond(limit: Limit) -> tuple[float, float]:
    """A value one step below the range and one step above it."""
    if limit.integer:
        return limit.low - 1, limit.high + 1
    below = limit.low if limit.low_open else math.nextafter(limit.low, -math.inf)
    return below, math.nextafter(limit.high, math.inf)


def typed(limit: Limit, value: float) -> float:
    return int(value) if limit.integer else float(value)


@pytest.mark.parametrize(("key", "limit", "document"), BOUNDED, ids=NAMES)
def test_each_bounded_key_takes_both_ends_of_its_range(
    key: str, limit: Limit, document: Any
) -> None:
    for value in ends(limit):
        parse_config(with_value(key, typed(limit, value), document()))


@pytest.mark.parametrize(("key", "limit", "document"), BOUNDED, ids=NAMES)
def test_each_bounded_key_refuses_a_step_beyond_naming_key_range_and_fix(
    key: str, limit: Limit, document: Any
) -> None:
    low, high = beyond(limit)
    for value, fix in ((low, limit.below), (high, limit.above)):
        message = error(with_value(key, typed(limit, value), document()))
        assert message.startswith(f"config: {key} must be {limit.expected}, got ")
        assert message.endswith(f"; {fix}")


def test_skip_segments_name_a_segment_a_scan_can_have() -> None:
    highest = int(limits.SCAN_SEGMENTS.high) - 1
    assert parse_config(with_value("skipSegments", [3, highest])).skip_segments == (3, highest)
    message = error(with_value("skipSegments", [3, highest + 1]))
    assert message.startswith("config: skipSegments[1] must be an integer from 0 to 9999, ")


def test_the_reported_case_is_refused_with_the_cap_and_why() -> None:
    message = error(with_value("source.scanSegments", 1_000_000_000))
    assert message.startswith(
        "config: source.scanSegments must be an integer from 1 to 10000, got 1000000000 "
    )
    assert "give at most 10,000" in message and "2.3 GB" in message


# --- the same number from a flag ---------------------------------------------------------

# (dotted key, the command and its flag that take the same number)
SHARED = [
    ("source.scanSegments", verify, "--segments"),
    ("source.maxMapTasks", verify, "--workers"),
    ("metricsPort", migrate, "--metrics-port"),
    ("metricsPort", verify, "--metrics-port"),
]


def flag_refusal(command: click.Command, flag: str, value: object) -> str | None:
    """The flag's refusal of ``value``, or None when the command takes it."""
    try:
        command.make_context(command.name or "", [flag, str(value)])
    except click.BadParameter as refused:
        return refused.format_message()
    return None


def limit_of(key: str) -> Limit:
    return next(limit for bounded, limit, _ in BOUNDED if bounded == key)


@pytest.mark.parametrize(("key", "command", "flag"), SHARED, ids=[f for _, _, f in SHARED])
def test_a_flag_refuses_what_its_key_refuses_with_the_same_range_and_fix(
    key: str, command: click.Command, flag: str
) -> None:
    limit = limit_of(key)
    low, high = beyond(limit)
    for value, fix in ((low, limit.below), (high, limit.above)):
        from_file = error(with_value(key, int(value))).split(f"{key} ", 1)[1]
        from_flag = flag_refusal(command, flag, int(value))
        assert from_flag is not None and f"'{flag}'" in from_flag
        expected = f"must be {limit.expected}, got "
        assert from_file.startswith(expected) and from_file.endswith(f"; {fix}")
        assert from_flag.split(": ", 1)[1] == f"{expected}{int(value)}; {fix}"
    for value in ends(limit):
        assert flag_refusal(command, flag, int(value)) is None


@given(st.sampled_from(SHARED), st.integers(-10, 300) | st.integers(9_990, 10_010))
def test_key_and_flag_take_exactly_the_numbers_of_their_limit(
    shared: tuple[str, click.Command, str], value: int
) -> None:
    key, command, flag = shared
    holds = limit_of(key).holds(value)
    assert (flag_refusal(command, flag, value) is None) is holds
    try:
        parse_config(with_value(key, value))
    except UserError as refused:
        assert not holds and str(refused).startswith(f"config: {key} must be ")
    else:
        assert holds


@pytest.mark.parametrize("text", ["abc", "1e3", "inf", "nan", "", "3.5"])
def test_a_flag_that_is_no_integer_says_so(text: str) -> None:
    message = flag_refusal(verify, "--segments", text)
    assert message is not None
    assert "must be an integer from 1 to 10000, got " in message and "digits only" in message


@pytest.mark.parametrize("text", ["inf", "nan", "-1", "86400.5", "0"])
def test_a_time_beyond_its_range_or_not_finite_is_refused(text: str) -> None:
    message = flag_refusal(migrate, "--stop-when-lag-below", text)
    assert message is not None
    assert "must be a number above 0 and at most 86400 seconds, got " in message


@pytest.mark.parametrize(("text", "taken"), [("0", True), ("86400", True), ("86401", False)])
def test_status_takes_a_lag_of_at_most_a_day(text: str, taken: bool) -> None:
    assert (flag_refusal(status, "--max-lag", text) is None) is taken


# --- numbers inside other values ---------------------------------------------------------


@pytest.mark.parametrize(
    ("heap", "taken"), [("64m", True), ("64g", True), ("63m", False), ("65g", False)]
)
def test_the_local_servers_heap_is_a_size_they_can_use(heap: str, taken: bool) -> None:
    assert (flag_refusal(up, "--heap", heap) is None) is taken


def test_a_heap_that_is_no_size_is_refused() -> None:
    assert "must be a size like 512m or 2g" in (flag_refusal(up, "--heap", "512 MB") or "")


@pytest.mark.parametrize(
    ("master", "slots"),
    [("local[257]", "257"), ("local[1000,3]", "1,000"), ("local-cluster[65,4,1024]", "260")],
)
def test_a_local_spark_master_asks_for_no_more_task_slots_than_a_run_holds(
    master: str, slots: str
) -> None:
    with pytest.raises(UserError) as refused:
        check_master(master)
    assert str(refused.value).startswith(
        f"--master {master}: its task slots must be an integer from 1 to 256, got {slots}; "
    )


@pytest.mark.parametrize("master", ["local[256]", "local[*]", "local-cluster[64,4,1024]"])
def test_a_local_spark_master_within_the_cap_is_taken(master: str) -> None:
    assert check_master(master) == master


# --- what the sizes size -----------------------------------------------------------------


class Cluster:
    """An engine with more task slots than a process runs threads."""

    name = "spark"
    in_process = False
    one_machine = False
    parallelism = 10_000

    def run(self, *args: object) -> None:
        raise AssertionError("not run here")


def test_verify_on_a_large_cluster_reads_no_more_segments_at_once_than_the_cap() -> None:
    config = parse_config(base())
    layout = Layout("src_table", "dst_table", ("id",), ("id",), {}, None, 2**50)
    settings = pass_settings(config, VerifyOptions(engine=Cluster()), layout)
    assert (settings.segments, settings.workers) == (10_000, 256)
