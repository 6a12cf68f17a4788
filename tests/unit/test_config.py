"""The YAML configuration: Migrator files load unchanged, every mistake is one line."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from toolkit.config import (
    DYNAMODB_MAX_BATCH,
    Endpoint,
    load_config,
    parse_config,
)
from toolkit.errors import UserError

# The source and target sections of the reference blog post, verbatim.
POST = """\
source:
  type: dynamodb
  table: migration_test
  credentials:
    accessKey:
    secretKey:

  region: us-west-2
  scanSegments: 32
  readThroughput: 1
  throughputReadPercent: 1.0
  maxMapTasks: 8

target:
  type: dynamodb
  table: mutator_table

  endpoint:
    host: http://scylla
    port: 8000

  credentials:
    accessKey: empty
    secretKey: empty

  scanSegments: 8
  streamChanges: true
"""

SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"


def base() -> dict[str, Any]:
    return {"source": {"table": "src_table"}, "target": {"table": "dst_table"}}


def with_value(path: str, value: object, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """A copy of ``data`` (default: base()) with ``value`` set at a dotted path."""
    data = copy.deepcopy(data if data is not None else base())
    *parents, last = path.split(".")
    node = data
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value
    return data


def error(data: object, origin: str = "config") -> str:
    with pytest.raises(UserError) as info:
        parse_config(data, origin)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{origin}: ")
    return message


def write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "config.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def test_the_reference_post_loads_unchanged(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, POST))
    source, target = config.source, config.target
    assert config.path == tmp_path / "config.yaml"
    assert (source.type, source.table, source.region) == ("dynamodb", "migration_test", "us-west-2")
    assert source.credentials.access_key is None and source.credentials.secret_key is None
    assert (source.scan_segments, source.read_throughput, source.max_map_tasks) == (32, 1, 8)
    assert source.throughput_read_percent == 1.0 and source.endpoint is None
    assert target.endpoint == Endpoint("http://scylla", 8000)
    assert target.endpoint.url == "http://scylla:8000"
    assert target.credentials.access_key == "empty" == target.credentials.secret_key
    assert (target.scan_segments, target.stream_changes, target.batch_size) == (8, True, 25)
    assert (target.billing_mode, target.remove_consumed_capacity) == (None, False)  # as source
    assert config.renames == ()
    assert [n.split()[0] for n in config.notes] == ["target.scanSegments"]


MIGRATOR_FILE = """\
source:
  type: dynamo
  table: Items
  region: dummy
  endpoint: {host: "http://dynamodb", port: 8000}
  credentials: {accessKey: dummy, secretKey: dummy, assumeRole: {arn: "arn:aws:iam::1:role/r"}}
  alternator: {compression: false}
  removeConsumedCapacity: null
target:
  type: dynamodb
  table: Items
  endpoint: {host: "http://scylla", port: 8000}
  streamChanges: false
  skipInitialSnapshotTransfer: true
  removeConsumedCapacity: true
  billingMode: PROVISIONED
  alternator: {datacenter: dc1, maxItemsPerBatch: 20}
renames:
  - {from: a, to: b}
savepoints: {path: /app/savepoints, intervalSeconds: 300}
validation: {compareTimestamps: true, failuresToFetch: 100, floatingPointTolerance: 0.001}
skipTokenRanges: []
skipSegments: [1, 2]
"""


def test_a_migrator_file_with_every_section_loads(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MIGRATOR_FILE))
    assert config.source.type == "dynamodb"
    assert config.source.credentials.assume_role is not None
    assert config.source.credentials.assume_role.session_name is None
    assert config.target.batch_size == 20 and config.target.billing_mode == "PROVISIONED"
    assert config.target.remove_consumed_capacity is True
    assert config.target.skip_initial_snapshot_transfer is False  # ignored without streams
    assert [r.source_name + r.target_name for r in config.renames] == ["ab"]
    noted = [n.split()[0] for n in config.notes]
    assert noted == [
        "source.alternator.compression",
        "target.alternator.datacenter",
        "target.skipInitialSnapshotTransfer",
        "validation.compareTimestamps",
        "savepoints",
    ]
    assert config.skip_segments == (1, 2)
    assert config.validation.failures_to_fetch == 100
    assert config.validation.floating_point_tolerance == 0.001
    assert all("\n" not in n and "no effect" in n for n in config.notes)


def test_an_alternator_target_takes_settings_at_top_level() -> None:
    target = {"type": "alternator", "table": "t_1", "endpoint": {"host": "scylla"}}
    config = parse_config(with_value("target", target))
    assert (config.target.batch_size, config.target.remove_consumed_capacity) == (100, True)
    settings = {"maxItemsPerBatch": 60, "rack": "r", "compression": True, "optimizeHeaders": True}
    config = parse_config(with_value("target", {**target, **settings}))
    assert config.target.batch_size == 60 and config.target.client.compression
    assert [note.split()[0] for note in config.notes] == ["target.optimizeHeaders"]
    assert config.target.nodes is not None and config.target.nodes.rack == "r"


@pytest.mark.parametrize(
    ("value", "stream"),
    [(None, False), (True, True), ({"type": "dynamodb-streams"}, True), ({"type": "off"}, False)],
)
def test_stream_changes_takes_the_migrator_forms(value: object, stream: bool) -> None:
    data = with_value("target.skipInitialSnapshotTransfer", True)
    target = parse_config(with_value("target.streamChanges", value, data)).target
    assert (target.stream_changes, target.skip_initial_snapshot_transfer) == (stream, stream)


def test_nulls_from_a_rendered_savepoint_mean_absent() -> None:
    keys = ("region", "endpoint", "credentials", "scanSegments", "alternator")
    data = {"source": {"table": "abc", **dict.fromkeys(keys)}, "target": base()["target"]}
    source = parse_config({**data, "renames": None}).source
    assert source.endpoint is None and source.credentials.access_key is None


@pytest.mark.parametrize(
    ("host", "port", "url"),
    [
        ("http://scylla", 8000, "http://scylla:8000"),
        ("127.0.0.1", 8000, "http://127.0.0.1:8000"),
        ("dynamodb.us-east-1.amazonaws.com", 443, "https://dynamodb.us-east-1.amazonaws.com:443"),
        ("https://example.com/", None, "https://example.com"),
        ("http://scylla:8000", None, "http://scylla:8000"),
        ("[::1]", 8000, "http://[::1]:8000"),
    ],
)
def test_endpoint_url(host: str, port: int | None, url: str) -> None:
    assert Endpoint(host, port).url == url
    source = parse_config(with_value("source.endpoint", {"host": host, "port": port})).source
    assert source.endpoint == Endpoint(host, port)


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        ("source", None, "source"),
        ("target", None, "target"),
        ("source", ["table"], "source"),
        ("source.table", None, "source.table"),
        ("target.table", "", "target.table"),
        ("source.table", "a b", "source.table"),
        ("source.type", "cassandra", "source.type"),
        ("target.type", "parquet", "target.type"),
        ("source.scanSegments", "8", "source.scanSegments"),
        ("source.scanSegments", True, "source.scanSegments"),
        ("source.scanSegments", 0, "source.scanSegments"),
        ("source.readThroughput", 1.5, "source.readThroughput"),
        ("source.maxMapTasks", -1, "source.maxMapTasks"),
        ("source.throughputReadPercent", 2.0, "source.throughputReadPercent"),
        ("source.throughputReadPercent", float("nan"), "source.throughputReadPercent"),
        ("source.throughputReadPercent", "1.0", "source.throughputReadPercent"),
        ("source.region", 5, "source.region"),
        ("target.batchSize", DYNAMODB_MAX_BATCH + 1, "target.batchSize"),
        ("target.billingMode", "ON_DEMAND", "target.billingMode"),
        ("target.streamChanges", "yes", "target.streamChanges"),
        ("target.streamChanges", {"type": "kinesis"}, "target.streamChanges.type"),
        ("target.skipInitialSnapshotTransfer", 1, "target.skipInitialSnapshotTransfer"),
        ("target.removeConsumedCapacity", "true", "target.removeConsumedCapacity"),
        ("target.writeThroughput", 0, "target.writeThroughput"),
        ("target.throughputWritePercent", 0.05, "target.throughputWritePercent"),
        ("target.readThroughput", "x", "target.readThroughput"),
        ("target.datacenter", "dc1", "target.datacenter"),
        ("source.endpoint", "http://x", "source.endpoint"),
        ("source.endpoint", {"port": 8000}, "source.endpoint.host"),
        ("source.endpoint", {"host": "ftp://x"}, "source.endpoint.host"),
        ("source.endpoint", {"host": "http://x/path"}, "source.endpoint.host"),
        ("source.endpoint", {"host": "::1"}, "source.endpoint.host"),
        ("source.endpoint", {"host": "x", "port": 70000}, "source.endpoint.port"),
        ("source.endpoint", {"host": "x", "port": "8000"}, "source.endpoint.port"),
        ("source.endpoint", {"host": "x:1", "port": 2}, "source.endpoint.port"),
        ("source.credentials", {"accessKey": "A"}, "source.credentials.secretKey"),
        ("target.credentials", {"secretKey": "S"}, "target.credentials.accessKey"),
        (
            "source.credentials",
            {"accessKey": "A", "secretKey": "S", "profile": "p"},
            "source.credentials.profile",
        ),
        (
            "source.credentials",
            {"accessKey": "A", "secretKey": "<redacted>"},
            "source.credentials.secretKey",
        ),
        (
            "source.credentials",
            {"assumeRole": {"sessionName": "s"}},
            "source.credentials.assumeRole.arn",
        ),
        ("source.credentials", {"assumeRole": "arn"}, "source.credentials.assumeRole"),
        ("renames", {"from": "a", "to": "b"}, "renames"),
        ("renames", ["a"], "renames[0]"),
        ("renames", [{"from": "a"}], "renames[0].to"),
        ("renames", [{"from": "a", "to": "b"}, {"from": "a", "to": "c"}], "renames[1].from"),
        ("renames", [{"from": "a", "to": "c"}, {"from": "b", "to": "c"}], "renames[1].to"),
        ("savepoints", [], "savepoints"),
        ("skipSegments", 3, "skipSegments"),
    ],
)
def test_each_mistake_is_one_line_naming_its_key(path: str, value: object, named: str) -> None:
    assert error(with_value(path, value)).startswith(f"config: {named} ")


@pytest.mark.parametrize(
    ("target", "named"),
    [
        ({"type": "alternator", "table": "abc"}, "target.endpoint"),
        (
            {"type": "alternator", "table": "abc", "endpoint": {"host": "h"}, "batchSize": 101},
            "target.batchSize",
        ),
        (
            {"table": "abc", "batchSize": 5, "alternator": {"maxItemsPerBatch": 6}},
            "target.batchSize",
        ),
        (
            {"table": "abc", "alternator": {"maxItemsPerBatch": 26}},
            "target.alternator.maxItemsPerBatch",
        ),
    ],
)
def test_batch_sizes_follow_the_target_type(target: dict[str, Any], named: str) -> None:
    assert error(with_value("target", target)).startswith(f"config: {named} ")


def test_a_quoted_number_is_refused_with_its_value_and_a_fix() -> None:
    message = error(with_value("source.scanSegments", "8"))
    assert message == (
        "config: source.scanSegments must be an integer from 1 to 10000, got '8' (text); "
        "write it without quotes"
    )


def test_a_typo_names_the_key_and_the_nearest_valid_one() -> None:
    message = error(with_value("source.scanSegmets", 8))
    assert message == "config: unknown key source.scanSegmets; did you mean scanSegments?"
    message = error(with_value("target.zzzzzz", 1))
    assert message.startswith("config: unknown key target.zzzzzz; valid keys: type, table, ")


@pytest.mark.parametrize("data", [None, [], "source: x", 3])
def test_the_top_level_must_be_a_mapping(data: object) -> None:
    assert "the top level must be a mapping" in error(data)


def test_a_key_that_is_not_a_name_is_refused() -> None:
    data: dict[object, object] = {True: 1, "source": {"table": "abc"}, "target": {"table": "abc"}}
    assert "key True at the top level is not a name" in error(data)


def test_secrets_stay_out_of_repr_and_str() -> None:
    data = with_value("source.credentials", {"accessKey": "AKIDEXAMPLE", "secretKey": SECRET})
    config = parse_config(with_value("target.credentials.profile", "dev", data))
    for text in (repr(config), str(config), repr(config.source), str(config.source.credentials)):
        assert SECRET not in text and "AKIDEXAMPLE" not in text
    assert "secret_key=<redacted>" in repr(config.source.credentials)
    assert "profile='dev'" in repr(config.target.credentials)


@pytest.mark.parametrize("value", [12345678901234, [SECRET], {"v": SECRET}, True])
def test_a_mistyped_secret_is_never_echoed(value: object) -> None:
    credentials = {"accessKey": "AKIDEXAMPLE", "secretKey": value}
    message = error(with_value("source.credentials", credentials))
    assert message.startswith("config: source.credentials.secretKey must be text, got ")
    assert "value hidden" in message and "12345678901234" not in message and SECRET not in message


CLIENT_SETTINGS = {
    "compression": True,
    "maxConnections": 3,
    "connectionTimeoutMs": 1500,
    "connectionMaxIdleTimeMs": 60000,
    "connectionTimeToLiveMs": 0,
}
INERT_SETTINGS = {
    "idleRefreshIntervalMs": 60000,
    "optimizeHeaders": True,
    "connectionAcquisitionTimeoutMs": 10000,
}


@pytest.mark.parametrize("side", ["source", "target"])
@pytest.mark.parametrize("nested", [False, True])
def test_the_alternator_client_settings_take_effect_and_only_three_are_notes(
    side: str, nested: bool
) -> None:
    alternator = {"type": "alternator", "table": "t_1", "endpoint": {"host": "scylla"}}
    settings = {**CLIENT_SETTINGS, **INERT_SETTINGS}
    section = {**alternator, **({"alternator": settings} if nested else settings)}
    config = parse_config(with_value(side, section))
    client = config.source.client if side == "source" else config.target.client
    assert (client.compression, client.max_connections, client.connect_ms) == (True, 3, 1500)
    assert (client.max_idle_ms, client.time_to_live_ms) == (60000, 0)
    prefix = f"{side}.alternator." if nested else f"{side}."
    assert [n.split()[0] for n in config.notes] == [prefix + key for key in INERT_SETTINGS]
    reasons = ["while the client is idle", "only the headers", "never waits"]
    assert all(why in note for why, note in zip(reasons, config.notes, strict=True))


def test_the_top_level_client_setting_wins_over_the_nested_one() -> None:
    target = {"type": "alternator", "table": "t_1", "endpoint": {"host": "scylla"}}
    nested = {"compression": True, "maxConnections": 9}
    config = parse_config(
        with_value("target", {**target, "compression": False, "alternator": nested})
    )
    assert (config.target.client.compression, config.target.client.max_connections) == (False, 9)


def test_a_dynamodb_side_notes_every_alternator_client_setting() -> None:
    config = parse_config(with_value("target.alternator", dict(CLIENT_SETTINGS)))
    noted = sorted(n.split()[0] for n in config.notes)
    assert noted == sorted(f"target.alternator.{key}" for key in CLIENT_SETTINGS)
    assert config.target.client.compression is False
