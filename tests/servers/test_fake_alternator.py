"""The fake Alternator cluster behaves as ScyllaDB documents a real one does
(tests/fakes/fake_alternator.py lists each fact and where it is documented)."""

from __future__ import annotations

import gzip
import http.client
import json
import zlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Endpoints
from tests.fakes.alternator_system import (
    STREAMS_ON_TABLETS_CREATE,
    STREAMS_ON_TABLETS_UPDATE,
    VNODES_ENFORCED,
)
from tests.fakes.fake_alternator import FakeCluster, fake_cluster
from tests.tables import low_client

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SKEWS = (0.0, 0.15, -0.15)
STREAM = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}


@pytest.fixture
def cluster(endpoints: Endpoints) -> Iterator[FakeCluster]:
    with fake_cluster(endpoints.target, skews=SKEWS) as nodes:
        yield nodes


def client(cluster: FakeCluster, node: int) -> DynamoDBClient:
    return low_client(cluster.urls[node])


def create(dynamodb: DynamoDBClient, table: str, **extra: Any) -> None:
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )


def value_of(endpoint: str, table: str, key: str) -> str | None:
    item = low_client(endpoint).get_item(TableName=table, Key={"id": {"S": key}}).get("Item")
    return None if item is None else item["v"]["S"]


def refusal(call: Any, **request: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as refused:
        call(**request)
    error = refused.value.response["Error"]
    return error["Code"], error["Message"]


# --- per-node clocks --------------------------------------------------------------


def test_a_later_write_through_a_node_whose_clock_lags_loses(
    cluster: FakeCluster, table_name: str, endpoints: Endpoints
) -> None:
    ahead, on_time = client(cluster, 1), client(cluster, 0)  # clocks 150 ms apart
    create(on_time, table_name)

    def put_twice(key: str) -> None:  # back to back: well within 150 ms
        ahead.put_item(TableName=table_name, Item={"id": {"S": key}, "v": {"S": "first"}})
        on_time.put_item(TableName=table_name, Item={"id": {"S": key}, "v": {"S": "second"}})

    put_twice("a")
    assert value_of(endpoints.target, table_name, "a") == "first"
    assert cluster.lost_writes == 1

    cluster.set_skew(1, 0.0)  # equal clocks: arrival order
    put_twice("b")
    assert value_of(endpoints.target, table_name, "b") == "second"
    assert cluster.lost_writes == 1


def test_batches_updates_and_deletes_are_stamped_by_their_node_too(
    cluster: FakeCluster, table_name: str, endpoints: Endpoints
) -> None:
    cluster.set_skew(1, 30.0)  # far apart: the test's own pace cannot matter
    cluster.set_skew(2, -30.0)
    create(client(cluster, 0), table_name)
    puts: list[Any] = [
        {"PutRequest": {"Item": {"id": {"S": f"k{n}"}, "v": {"S": "early"}}}} for n in range(60)
    ]
    client(cluster, 1).batch_write_item(RequestItems={table_name: puts})
    deletes: list[Any] = [{"DeleteRequest": {"Key": {"id": {"S": f"k{n}"}}}} for n in range(60)]
    answer = client(cluster, 2).batch_write_item(RequestItems={table_name: deletes})
    assert answer["UnprocessedItems"] == {}  # acknowledged, as a real node does
    client(cluster, 2).update_item(
        TableName=table_name,
        Key={"id": {"S": "k0"}},
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"S": "late"}},
    )
    client(cluster, 0).delete_item(TableName=table_name, Key={"id": {"S": "k1"}})
    assert [value_of(endpoints.target, table_name, f"k{n}") for n in (0, 1, 59)] == ["early"] * 3
    assert cluster.lost_writes == 62

    client(cluster, 1).delete_item(TableName=table_name, Key={"id": {"S": "k1"}})
    assert value_of(endpoints.target, table_name, "k1") is None


def test_writes_sent_to_the_server_directly_carry_no_timestamp(
    cluster: FakeCluster, table_name: str, endpoints: Endpoints
) -> None:
    create(client(cluster, 0), table_name)
    client(cluster, 1).put_item(TableName=table_name, Item={"id": {"S": "a"}, "v": {"S": "node"}})
    low_client(endpoints.target).put_item(
        TableName=table_name, Item={"id": {"S": "a"}, "v": {"S": "direct"}}
    )
    assert value_of(endpoints.target, table_name, "a") == "direct"
    assert cluster.lost_writes == 0


# --- tablets by version, tags ---------------------------------------------------------


def test_a_stream_on_a_tablet_table_is_refused_by_2026_1(
    endpoints: Endpoints, table_name: str, target_client: DynamoDBClient
) -> None:
    with fake_cluster(endpoints.target) as cluster:
        node = client(cluster, 0)
        code, message = refusal(create, dynamodb=node, table=table_name, StreamSpecification=STREAM)
        assert (code, message) == ("ValidationException", STREAMS_ON_TABLETS_CREATE)
        assert table_name not in target_client.list_tables()["TableNames"]

        create(node, table_name)
        assert cluster.tablet_tables == {table_name}
        code, message = refusal(node.update_table, TableName=table_name, StreamSpecification=STREAM)
        assert (code, message) == ("ValidationException", STREAMS_ON_TABLETS_UPDATE)
        assert "LatestStreamArn" not in target_client.describe_table(TableName=table_name)["Table"]


def test_the_tag_asks_for_vnodes_and_the_tags_are_kept(
    endpoints: Endpoints, table_name: str
) -> None:
    tags = [{"Key": "system:initial_tablets", "Value": "none"}, {"Key": "team", "Value": "x"}]
    with fake_cluster(endpoints.target) as cluster:
        node = client(cluster, 1)
        create(node, table_name, StreamSpecification=STREAM, Tags=tags)
        arn = node.describe_table(TableName=table_name)["Table"]["TableArn"]
        assert cluster.tablet_tables == set()
        assert node.list_tags_of_resource(ResourceArn=arn)["Tags"] == tags
        node.untag_resource(ResourceArn=arn, TagKeys=["team"])
        assert node.list_tags_of_resource(ResourceArn=arn)["Tags"] == tags[:1]


@pytest.mark.parametrize(
    ("version", "refused"),
    [
        ("2025.1.3", []),
        ("2025.1.4", ["system:initial_tablets", "system:ttl_attribute"]),
        ("2025.3.8-0.20260223.abc", ["system:initial_tablets", "system:ttl_attribute"]),
        ("2025.4.0", ["system:ttl_attribute"]),
        ("2026.1.0", ["system:ttl_attribute"]),
    ],
)
def test_system_tags_are_reserved_from_2025_1_4_and_the_tablets_one_freed_in_2025_4(
    endpoints: Endpoints,
    table_name: str,
    target_client: DynamoDBClient,
    version: str,
    refused: list[str],
) -> None:
    keys = ["system:initial_tablets", "system:ttl_attribute", "system:write_isolation"]
    values = {"system:initial_tablets": "none", "system:write_isolation": "forbid_rmw"}

    def tags(key: str) -> list[dict[str, str]]:
        return [{"Key": key, "Value": values.get(key, "x")}]

    def reserved(key: str) -> tuple[str, str]:
        return "ValidationException", f"Tag key '{key}' is reserved for internal use"

    with fake_cluster(endpoints.target, version=version) as cluster:
        node = client(cluster, 0)
        for key in keys:
            if key in refused:
                said = refusal(create, dynamodb=node, table=table_name, Tags=tags(key))
                assert said == reserved(key)
                assert table_name not in target_client.list_tables()["TableNames"]
            else:
                create(node, table_name, Tags=tags(key))
                node.delete_table(TableName=table_name)
        create(node, table_name)
        arn = node.describe_table(TableName=table_name)["Table"]["TableArn"]
        for key in keys:
            for call, request in (
                (node.tag_resource, {"Tags": tags(key)}),
                (node.untag_resource, {"TagKeys": [key]}),
            ):
                if key in refused:
                    assert refusal(call, ResourceArn=arn, **request) == reserved(key)
                else:
                    call(ResourceArn=arn, **request)


def test_vnodes_asked_for_are_refused_when_tablets_are_enforced(
    endpoints: Endpoints, table_name: str
) -> None:
    tags = [{"Key": "system:initial_tablets", "Value": "none"}]
    with fake_cluster(endpoints.target, tablets_mode="enforced") as cluster:
        code, message = refusal(create, dynamodb=client(cluster, 0), table=table_name, Tags=tags)
    assert (code, message) == ("ValidationException", VNODES_ENFORCED)


@pytest.mark.parametrize("version", ["2025.3.1", "2026.2.0"])
def test_streams_on_new_tables_work_before_tablets_and_once_allowed_on_them(
    endpoints: Endpoints, table_name: str, target_client: DynamoDBClient, version: str
) -> None:
    with fake_cluster(endpoints.target, version=version) as cluster:
        create(client(cluster, 0), table_name, StreamSpecification=STREAM)
        assert cluster.tablet_tables == ({table_name} if version >= "2025.4" else set())
    assert target_client.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]


def test_the_system_tables_say_the_version_the_mode_and_the_tablets(
    endpoints: Endpoints, table_name: str
) -> None:
    with fake_cluster(endpoints.target, version="2025.4.2") as cluster:
        node = client(cluster, 2)
        create(node, table_name)
        versions = node.scan(TableName=".scylla.alternator.system.versions")["Items"]
        assert [(i["key"], i["version"]) for i in versions] == [({"S": "local"}, {"S": "2025.4.2"})]
        config = node.query(
            TableName=".scylla.alternator.system.config",
            KeyConditionExpression="#k = :v",
            ExpressionAttributeNames={"#k": "name"},
            ExpressionAttributeValues={":v": {"S": "tablets_mode_for_new_keyspaces"}},
        )["Items"]
        assert [i["value"] for i in config] == [{"S": '"enabled"'}]

        def keyspace(name: str) -> list[dict[str, Any]]:
            return node.query(
                TableName=".scylla.alternator.system_schema.scylla_keyspaces",
                KeyConditions={
                    "keyspace_name": {
                        "AttributeValueList": [{"S": f"alternator_{name}"}],
                        "ComparisonOperator": "EQ",
                    }
                },
            )["Items"]

        assert [i["initial_tablets"] for i in keyspace(table_name)] == [{"S": "0"}]
        assert keyspace("not_a_tablet_table") == []
        code, _ = refusal(node.scan, TableName=".scylla.alternator.system.nothing")
        assert code == "ResourceNotFoundException"
    with fake_cluster(endpoints.target, version="2025.1.0") as old:
        config = client(old, 0).scan(TableName=".scylla.alternator.system.config")["Items"]
        assert config == []


def test_a_server_without_system_tables_or_a_role_denied_them(
    endpoints: Endpoints, table_name: str
) -> None:
    versions = ".scylla.alternator.system.versions"
    with fake_cluster(endpoints.target, system_tables="missing") as cluster:
        code, _ = refusal(client(cluster, 0).scan, TableName=versions)
        assert code == "ResourceNotFoundException"  # DynamoDB Local's own answer
        assert cluster.count(0, "Scan") == 1
    denied = "SELECT access on table system.versions is denied to role test"
    for version, address in (("2025.3.1", ""), ("2026.1.0", ", client address 127.0.0.1")):
        with fake_cluster(endpoints.target, version=version, system_tables="denied") as cluster:
            node = client(cluster, 1)
            assert refusal(node.scan, TableName=versions) == (
                "AccessDeniedException",
                denied + address,
            )
            code, _ = refusal(
                node.query,
                TableName=".scylla.alternator.system.config",
                KeyConditionExpression="#k = :v",
                ExpressionAttributeNames={"#k": "name"},
                ExpressionAttributeValues={":v": {"S": "tablets_mode_for_new_keyspaces"}},
            )
            assert code == "AccessDeniedException"
            create(node, table_name)  # the user's own tables stay open to it
            assert node.scan(TableName=table_name)["Items"] == []
            node.delete_table(TableName=table_name)
    with pytest.raises(ValueError, match="system_tables"):
        FakeCluster(endpoints.target, system_tables="hidden")


# --- compressed bodies, /localnodes, refused options ----------------------------------


def http_call(
    url: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    """A raw request (GET without a body): its status and decoded answer."""
    host, port = url.rsplit("//", 1)[-1].rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request("GET" if body is None else "POST", path, body, headers or {})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def post(url: str, operation: str, body: bytes, encoding: str) -> tuple[int, dict[str, Any]]:
    credential = "test/20240101/us-east-1/dynamodb/aws4_request"
    headers = {
        "X-Amz-Target": f"DynamoDB_20120810.{operation}",
        "Content-Type": "application/x-amz-json-1.0",
        "Content-Encoding": encoding,
        "Authorization": f"AWS4-HMAC-SHA256 Credential={credential}",
    }
    status, answer = http_call(url, "/", body, headers)
    return status, dict(answer)


def test_gzip_and_deflate_bodies_are_taken_from_2026_1_only(
    endpoints: Endpoints, table_name: str
) -> None:
    def put(key: str) -> bytes:
        item = {"id": {"S": key}, "v": {"S": "z" * 2000}}
        return json.dumps({"TableName": table_name, "Item": item}).encode()

    with fake_cluster(endpoints.target) as cluster:
        create(client(cluster, 0), table_name)
        assert post(cluster.urls[1], "PutItem", gzip.compress(put("g")), "gzip")[0] == 200
        assert post(cluster.urls[1], "PutItem", zlib.compress(put("d")), "deflate")[0] == 200
        status, answer = post(cluster.urls[2], "PutItem", put("b"), "br")
        assert (status, answer["__type"].split("#")[-1]) == (500, "InternalServerError")
        assert cluster.compressed_requests == [0, 2, 0]
    assert value_of(endpoints.target, table_name, "g") == "z" * 2000
    assert value_of(endpoints.target, table_name, "d") == "z" * 2000
    with fake_cluster(endpoints.target, version="2025.4.0") as older:
        status, answer = post(older.urls[0], "PutItem", gzip.compress(put("o")), "gzip")
        assert (status, answer["message"]) == (400, "Parsing JSON failed: Invalid value. at 0")
        assert post(older.urls[0], "PutItem", put("p"), "gzip")[0] == 200  # the header ignored
        assert older.compressed_requests == [0, 0, 0]
    assert value_of(endpoints.target, table_name, "o") is None


def test_localnodes_by_datacenter_and_rack(endpoints: Endpoints) -> None:
    places = [("dc1", "r1"), ("dc1", "r2"), ("dc2", "r1")]
    with fake_cluster(endpoints.target, places=places) as cluster:
        ports = [f"127.0.0.1:{node.port}" for node in cluster.nodes]

        def listed(node: int, query: str) -> list[str]:
            status, answer = http_call(cluster.urls[node], f"/localnodes{query}")
            assert status == 200
            return list(answer)

        assert listed(0, "") == ports[:2]
        assert listed(2, "") == ports[2:]
        assert listed(0, "?dc=dc2") == ports[2:]
        assert listed(2, "?rack=r2") == []  # dc2 has no rack r2
        assert listed(0, "?rack=r2") == ports[1:2]
        assert listed(0, "?dc=dc1&rack=r1") == ports[:1]
        assert listed(1, "?dc=dc9") == []
        cluster.stop(1)
        assert listed(0, "") == ports[:1]


def test_indexes_consumed_capacity_and_invalid_billing_are_refused(
    cluster: FakeCluster, table_name: str, target_client: DynamoDBClient
) -> None:
    node = client(cluster, 0)
    create(node, table_name)
    code, message = refusal(
        node.get_item,
        TableName=table_name,
        Key={"id": {"S": "a"}},
        ReturnConsumedCapacity="INDEXES",
    )
    assert (code, message) == ("ValidationException", "INDEXES consumed capacity is not supported")
    node.get_item(TableName=table_name, Key={"id": {"S": "a"}}, ReturnConsumedCapacity="TOTAL")

    keys: dict[str, Any] = {
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
    }
    throughput = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
    cases: list[tuple[dict[str, Any], str]] = [
        ({"BillingMode": "FREE"}, "Unknown BillingMode"),
        ({"BillingMode": "PROVISIONED"}, "ProvisionedThroughput must be specified"),
        ({}, "ProvisionedThroughput must be specified"),
        ({"BillingMode": "PAY_PER_REQUEST", "ProvisionedThroughput": throughput}, "cannot be"),
    ]
    for extra, says in cases:
        code, message = refusal(node.create_table, TableName=f"{table_name}b", **keys, **extra)
        assert code == "ValidationException" and says in message, (extra, message)
    assert f"{table_name}b" not in target_client.list_tables()["TableNames"]
    code, _ = refusal(node.update_table, TableName=table_name, BillingMode="FREE")
    assert code == "ValidationException"
