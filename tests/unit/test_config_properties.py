"""Properties of the YAML configuration: valid files round-trip, typos get the nearest key."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.unit.test_config import base, error, with_value
from toolkit.config import (
    ALTERNATOR_MAX_BATCH,
    DYNAMODB_MAX_BATCH,
    Endpoint,
    MigrationConfig,
    limits,
    parse_config,
)

# Every accepted key, per section, as a Migrator DynamoDB config may hold it.
COMMON = ["type", "table", "region", "endpoint", "credentials", "removeConsumedCapacity"]
COMMON += ["caBundle"]
READS = ["scanSegments", "readThroughput", "throughputReadPercent", "maxMapTasks"]
ALTERNATOR = ["datacenter", "rack", "activeRefreshIntervalMs", "idleRefreshIntervalMs"]
ALTERNATOR += ["compression", "optimizeHeaders", "maxConnections", "connectionMaxIdleTimeMs"]
ALTERNATOR += ["connectionTimeToLiveMs", "connectionAcquisitionTimeoutMs", "connectionTimeoutMs"]
ALTERNATOR += ["maxItemsPerBatch"]
TARGET = [*COMMON, *READS, "writeThroughput", "throughputWritePercent", "streamChanges"]
TARGET += ["skipInitialSnapshotTransfer", "billingMode", "batchSize", "alternator"]
TARGET += [*ALTERNATOR, "seeds", "localNodes", "writeIsolation"]  # refused unless alternator
SECTIONS: dict[str, list[str]] = {
    "": [
        *("source", "target", "renames", "savepoints", "validation", "skipTokenRanges"),
        *("skipSegments", "skipParquetFiles"),
    ],
    "source": [*COMMON, *READS, "alternator"],
    "target": TARGET,
    "source.endpoint": ["host", "port"],
    "source.credentials": ["accessKey", "secretKey", "profile", "assumeRole"],
    "source.credentials.assumeRole": ["arn", "sessionName"],
    "source.alternator": ALTERNATOR,
    "savepoints": ["path", "intervalSeconds", "enableParquetFileTracking"],
    "validation": [
        *("compareTimestamps", "ttlToleranceMillis", "writetimeToleranceMillis"),
        *("failuresToFetch", "floatingPointTolerance", "timestampMsTolerance"),
        "hashColumns",
    ],
}
ALL_KEYS = {key for keys in SECTIONS.values() for key in keys} | {"from", "to"}


def distance(a: str, b: str) -> int:
    """Levenshtein distance, written out independently of the module's own."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


@st.composite
def typos(draw: st.DrawFn) -> tuple[str, str, list[str]]:
    section = draw(st.sampled_from(sorted(SECTIONS)))
    keys = SECTIONS[section]
    key = draw(st.sampled_from(keys))
    at = draw(st.integers(0, len(key)))
    letter = draw(st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    edits = [key[:at] + letter + key[at:], key[:at] + letter + key[at + 1 :]]
    edits += [key[:at] + key[at + 1 :]] if at < len(key) else []
    typo = draw(st.sampled_from(edits).filter(lambda t: t and t not in ALL_KEYS))
    return section, typo, keys


@given(typos())
def test_any_one_letter_typo_suggests_the_nearest_key(case: tuple[str, str, list[str]]) -> None:
    section, typo, keys = case
    data = {
        **base(),
        "savepoints": {"path": "/p"},
        "validation": {"failuresToFetch": 1},
    }
    data["source"]["credentials"] = {"assumeRole": {"arn": "arn:x"}}
    data["source"]["endpoint"], data["source"]["alternator"] = {"host": "h"}, {"rack": "r"}
    data = with_value(f"{section}.{typo}" if section else typo, 1, data)
    message = error(data)
    path = f"{section}.{typo}" if section else typo
    assert message.startswith(f"config: unknown key {path}; did you mean ")
    suggested = message.removesuffix("?").rsplit(" ", 1)[1]
    best = min(distance(typo.lower(), k.lower()) for k in keys)
    assert distance(typo.lower(), suggested.lower()) == best


names = st.text(st.characters(codec="ascii", exclude_categories=["Cc"]), min_size=1, max_size=12)
names = names.filter(lambda s: bool(s.strip()) and s != "<redacted>")
optional_int = st.none() | st.integers(1, 10_000)
percent = st.none() | st.floats(0.1, 1.5)
endpoints = st.none() | st.fixed_dictionaries(
    {"host": st.sampled_from(["http://scylla", "https://d.example.com", "10.0.0.1", "[::1]"])},
    optional={"port": st.integers(1, 65535)},
)
credentials = st.none() | st.builds(lambda a, s: {"accessKey": a, "secretKey": s}, names, names)


@st.composite
def configs(draw: st.DrawFn) -> dict[str, Any]:
    tables = st.from_regex(r"[A-Za-z0-9_.-]{3,30}", fullmatch=True)
    source: dict[str, Any] = {"type": "dynamodb", "table": draw(tables)}
    source |= {"region": draw(st.none() | names)}
    source |= {"endpoint": draw(endpoints), "credentials": draw(credentials)}
    source |= {"scanSegments": draw(optional_int), "readThroughput": draw(optional_int)}
    tasks = st.none() | st.integers(1, int(limits.MAP_TASKS.high))
    source |= {"throughputReadPercent": draw(percent), "maxMapTasks": draw(tasks)}
    kind = draw(st.sampled_from(["dynamodb", "alternator"]))
    limit = ALTERNATOR_MAX_BATCH if kind == "alternator" else DYNAMODB_MAX_BATCH
    target: dict[str, Any] = {"type": kind, "table": draw(tables)}
    target |= {"credentials": draw(credentials)}
    target |= {"endpoint": draw(endpoints if kind == "dynamodb" else endpoints.filter(bool))}
    target |= {"batchSize": draw(st.none() | st.integers(1, limit))}
    target |= {
        k: draw(st.none() | st.booleans()) for k in ("streamChanges", "removeConsumedCapacity")
    }
    target |= {"skipInitialSnapshotTransfer": draw(st.none() | st.booleans())}
    target |= {"billingMode": draw(st.none() | st.sampled_from(["PROVISIONED", "PAY_PER_REQUEST"]))}
    target |= {"writeThroughput": draw(optional_int), "throughputWritePercent": draw(percent)}
    if kind == "alternator":
        target |= {"datacenter": draw(st.none() | names), "localNodes": draw(st.booleans())}
        isolation = st.sampled_from(["forbid_rmw", "only_rmw_uses_lwt"])
        target |= {"writeIsolation": draw(st.none() | isolation)}
    pairs = st.lists(st.tuples(names, names), unique_by=(lambda p: p[0], lambda p: p[1]))
    renames = [{"from": a, "to": b} for a, b in draw(pairs)]
    return {"source": source, "target": target, "renames": renames}


def check_section(parsed: Any, raw: dict[str, Any]) -> None:
    assert (parsed.table, parsed.region) == (raw["table"], raw.get("region"))
    endpoint = raw["endpoint"]
    assert parsed.endpoint == (endpoint and Endpoint(endpoint["host"], endpoint.get("port")))
    keys = raw["credentials"] or {}
    assert parsed.credentials.access_key == keys.get("accessKey")
    assert parsed.credentials.secret_key == keys.get("secretKey")


@given(configs())
def test_any_valid_config_parses_and_its_values_round_trip(data: dict[str, Any]) -> None:
    config = parse_config(data)
    assert isinstance(config, MigrationConfig)
    source, target, raw_s, raw_t = config.source, config.target, data["source"], data["target"]
    check_section(source, raw_s)
    check_section(target, raw_t)
    assert source.scan_segments == raw_s["scanSegments"]
    assert source.read_throughput == raw_s["readThroughput"]
    assert source.max_map_tasks == raw_s["maxMapTasks"]
    assert source.throughput_read_percent == raw_s["throughputReadPercent"]
    alternator = raw_t["type"] == "alternator"
    assert target.type == raw_t["type"]
    assert target.batch_size == (raw_t["batchSize"] or (100 if alternator else 25))
    stream = bool(raw_t["streamChanges"])
    assert target.stream_changes is stream
    assert target.skip_initial_snapshot_transfer is (
        stream and bool(raw_t["skipInitialSnapshotTransfer"])
    )
    rcc = raw_t["removeConsumedCapacity"]
    assert target.remove_consumed_capacity is (alternator if rcc is None else rcc)
    assert target.billing_mode == raw_t["billingMode"]  # None: as the source's
    assert target.write_throughput == raw_t["writeThroughput"]
    assert target.throughput_write_percent == raw_t["throughputWritePercent"]
    assert target.write_isolation == raw_t.get("writeIsolation")
    if alternator and raw_t["localNodes"]:
        assert target.nodes is not None and target.nodes.datacenter == raw_t["datacenter"]
        assert target.nodes.seeds == (target.endpoint and target.endpoint.url,)
    else:
        assert target.nodes is None
    assert [(r.source_name, r.target_name) for r in config.renames] == [
        (r["from"], r["to"]) for r in data["renames"]
    ]


INT_KEYS = ["source.scanSegments", "source.readThroughput", "source.maxMapTasks"]
INT_KEYS += ["target.writeThroughput", "target.batchSize", "target.scanSegments"]


@given(
    st.sampled_from(INT_KEYS),
    st.booleans() | st.text() | st.floats() | st.lists(st.integers(), max_size=2),
)
def test_any_non_integer_for_an_integer_key_is_named(path: str, value: object) -> None:
    assert error(with_value(path, value)).startswith(f"config: {path} must be an integer")
