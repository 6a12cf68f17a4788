"""Point 4 of issue 24 through the real CLI: what an Alternator target does not keep.

The source is DynamoDB Local behind a small proxy; the target a fake Alternator
cluster (tests/fakes/fake_alternator.py). DynamoDB Local keeps neither multi-attribute
index keys (its CreateTable refuses them), nor Replicas, OnDemandThroughput,
TableClass or WarmThroughput, and it has no GetResourcePolicy or
DescribeContributorInsights (UnknownOperationException): the proxy adds those fields
to its DescribeTable answers, and answers those operations where a test says so, as
DynamoDB does.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.fake_alternator import FakeCluster, fake_cluster
from tests.fakes.fault_proxy import FaultProxy, Handler, Page, send_answer
from tests.refusals import ITEMS, Case
from tests.tables import load, scan_all, section, write_config

Change = Callable[[dict[str, Any]], None]  # rewrites DescribeTable's "Table", in place
JSON = "application/x-amz-json-1.0"
REPLICAS = [{"RegionName": "eu-west-1", "ReplicaStatus": "ACTIVE"}, {"RegionName": "us-east-1"}]


class DescribingProxy(FaultProxy):
    """Forwards to the source's server; its DescribeTable answers get the test's fields."""

    def __init__(self, upstream: str, change: Change) -> None:
        self.asked: Counter[str] = Counter()  # requests by operation
        super().__init__(upstream, observe=self._asked)
        self.change = change

    def __enter__(self) -> DescribingProxy:
        self.start()
        return self

    def _asked(self, target: str, body: bytes) -> None:
        self.asked[target.rsplit(".", 1)[-1]] += 1

    def _forward(self, handler: Handler, body: bytes) -> None:
        if not handler.headers.get("X-Amz-Target", "").endswith(".DescribeTable"):
            super()._forward(handler, body)
            return
        answer = self.send_upstream(handler, body)
        if answer is None or answer[0] != 200:
            super()._forward(handler, body)
            return
        described = json.loads(answer[1])
        self.change(described["Table"])
        # The body changed: its CRC32 header would no longer match, and botocore checks it.
        headers = {k: v for k, v in answer[2].items() if k.lower() != "x-amz-crc32"}
        send_answer(handler, 200, json.dumps(described).encode(), headers)


@pytest.fixture
def cluster(case: Case) -> Iterator[FakeCluster]:
    with fake_cluster(case.endpoints.target) as nodes:
        yield nodes


def config(
    case: Case, proxy: FaultProxy, cluster: FakeCluster, source: Any = (), **target: Any
) -> Path:
    """The source through the proxy (``source``: more of its section), an Alternator target."""
    return write_config(
        case.tmp / "config.yaml",
        section(proxy.url, case.table, **dict(source)),
        section(
            cluster.urls[0], case.table, type="alternator", **{"streamChanges": True, **target}
        ),
    )


def said(run: Any) -> str:
    return str(run.stdout) + str(run.stderr)


def indexed_source(case: Case, name: str = "by_a", projection: str = "KEYS_ONLY") -> None:
    """The test's source table with a global secondary index on attribute a."""
    index: Any = {
        "IndexName": name,
        "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": projection},
    }
    case.source.create_table(
        TableName=case.table,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "id", "AttributeType": "S"},
            {"AttributeName": "a", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[index],
        BillingMode="PAY_PER_REQUEST",
    )
    load(case.endpoints.source, case.table, ITEMS, ["id"])


# --- refused before anything is touched ----------------------------------------------------


def two_hash_attributes(table: dict[str, Any]) -> None:
    for index in table.get("GlobalSecondaryIndexes", []):
        index["KeySchema"] = [
            {"AttributeName": "a", "KeyType": "HASH"},
            {"AttributeName": "b", "KeyType": "HASH"},
        ]


def test_a_multi_attribute_index_key_is_refused_with_nothing_touched(
    case: Case, cluster: FakeCluster
) -> None:
    indexed_source(case, "by_ab", "ALL")
    with DescribingProxy(case.endpoints.source, two_hash_attributes) as proxy:
        line = case.refused(
            "migrate",
            config(case, proxy, cluster),
            "by_ab (a HASH, b HASH)",
            "multi-attribute key, which Alternator does not support",
        )
    assert "run again" in line
    assert not any(cluster.count(n, "CreateTable") for n in range(3))


# --- notes, once -------------------------------------------------------------------------


def everything_alternator_lacks(table: dict[str, Any]) -> None:
    table["TableClassSummary"] = {"TableClass": "STANDARD_INFREQUENT_ACCESS"}
    table["WarmThroughput"] = {"ReadUnitsPerSecond": 13000, "WriteUnitsPerSecond": 5000}
    table["OnDemandThroughput"] = {"MaxReadRequestUnits": -1, "MaxWriteRequestUnits": 300}
    # Only in the answer: on the real table, deletion protection would keep the test from
    # deleting it afterwards.
    table["DeletionProtectionEnabled"] = True


NOTES = (
    "by_a (KEYS_ONLY) projects only some attributes",
    "TableClass STANDARD_INFREQUENT_ACCESS",
    "WarmThroughput (13000 reads/s, 5000 writes/s)",
    "on-demand throughput limits (the table: 300 writes/s)",
    "DeletionProtectionEnabled",
    "a resource policy",
    "contributor insights",
)


def test_what_alternator_does_not_keep_is_said_once_and_the_copy_goes_on(
    case: Case, cluster: FakeCluster
) -> None:
    indexed_source(case)
    with DescribingProxy(case.endpoints.source, everything_alternator_lacks) as proxy:
        policy = json.dumps({"Policy": '{"Version": "2012-10-17"}', "RevisionId": "1"})
        proxy.answer_page(["GetResourcePolicy"], Page(200, policy.encode(), JSON))
        insights = json.dumps({"TableName": case.table, "ContributorInsightsStatus": "ENABLED"})
        proxy.answer_page(["DescribeContributorInsights"], Page(200, insights.encode(), JSON))
        run = case.run("migrate", config(case, proxy, cluster, streamChanges=False))
    assert run.returncode == 0, said(run)
    for note in NOTES:
        assert said(run).count(note) == 1, (note, said(run))
    assert scan_all(case.endpoints.target, case.table) == scan_all(
        case.endpoints.source, case.table
    )


@pytest.mark.parametrize(
    "answer",
    [
        None,  # DynamoDB Local's own: UnknownOperationException
        Page(400, b'{"__type": "x#AccessDeniedException", "message": "no"}', JSON),
        Page(400, b'{"__type": "x#PolicyNotFoundException", "message": "none"}', JSON),
    ],
)
def test_a_policy_or_insights_that_cannot_be_asked_for_is_none_known(
    case: Case, cluster: FakeCluster, answer: Page | None
) -> None:
    indexed_source(case)
    with DescribingProxy(case.endpoints.source, lambda table: None) as proxy:
        if answer is not None:
            proxy.answer_page(["GetResourcePolicy", "DescribeContributorInsights"], answer)
        run = case.run("migrate", config(case, proxy, cluster, streamChanges=False))
    assert run.returncode == 0, said(run)
    assert proxy.asked["GetResourcePolicy"] == proxy.asked["DescribeContributorInsights"] == 1
    assert "error" not in said(run).lower()
    assert "resource policy" not in said(run) and "contributor insights" not in said(run)
    assert "by_a (KEYS_ONLY)" in said(run)


def test_a_dynamodb_target_is_asked_nothing_more(case: Case) -> None:
    indexed_source(case)
    with DescribingProxy(case.endpoints.source, everything_alternator_lacks) as proxy:
        proxy.answer_page(["GetResourcePolicy"], Page(500, b"{}", JSON))
        dynamodb = section(case.endpoints.target, case.table)
        settings = write_config(case.tmp / "config.yaml", section(proxy.url, case.table), dynamodb)
        run = case.run("migrate", settings)
    assert run.returncode == 0, said(run)
    assert proxy.asked["DescribeTable"] and not proxy.asked["GetResourcePolicy"]
    assert not proxy.asked["DescribeContributorInsights"] and "Alternator" not in said(run)


# --- a global table ------------------------------------------------------------------------


def global_table(table: dict[str, Any]) -> None:
    table["Replicas"] = REPLICAS
    table["GlobalTableVersion"] = "2019.11.21"


def test_a_global_tables_stream_is_the_runs_and_a_second_run_resumes_on_it(
    case: Case, cluster: FakeCluster
) -> None:
    case.source_table(
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    )
    stream = case.seen().stream
    with DescribingProxy(case.endpoints.source, global_table) as proxy:
        settings = config(case, proxy, cluster)
        first = case.run("migrate", settings, "--stop-when-drained")
        assert first.returncode == 0, said(first)
        assert "is a global table (replicas in eu-west-1, us-east-1)" in said(first)
        assert "already has an enabled stream" not in said(first)
        case.source.put_item(TableName=case.table, Item={"id": {"S": "later"}})
        again = case.run("migrate", settings, "--stop-when-drained")
    assert again.returncode == 0, said(again)
    assert "Resuming on the stream of the global table" in said(again)
    assert "a global table (replicas in" in said(again)  # the note for Alternator
    assert case.seen().stream == stream  # the table's own stream, left as it was
    target = scan_all(case.endpoints.target, case.table)
    assert target == scan_all(case.endpoints.source, case.table)
    assert len(target) == len(ITEMS) + 1


# --- an on-demand source's read cap ----------------------------------------------------------


def capped(table: dict[str, Any]) -> None:
    table["OnDemandThroughput"] = {"MaxReadRequestUnits": 40, "MaxWriteRequestUnits": -1}


@pytest.mark.parametrize(
    ("extra", "phrase"),
    [
        ({}, "on demand with at most 40 read units a second: the snapshot reads at most 20"),
        ({"readThroughput": 1000}, "readThroughput 1000 (500 read units a second"),
    ],
)
def test_an_on_demand_maximum_caps_the_default_read_budget(
    case: Case, cluster: FakeCluster, extra: dict[str, Any], phrase: str
) -> None:
    case.source_table()
    with DescribingProxy(case.endpoints.source, capped) as proxy:
        run = case.run("migrate", config(case, proxy, cluster, extra, streamChanges=False))
    assert run.returncode == 0, said(run)
    assert said(run).count(phrase) == 1, said(run)
    assert len(scan_all(case.endpoints.target, case.table)) == len(ITEMS)
