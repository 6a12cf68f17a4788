"""The tests' fault-injecting proxy, in front of the real target server.

The client is the toolkit's own data plane, so these tests also pin down that
each injected fault reaches the toolkit as a transient error (one it retries).
"""

from __future__ import annotations

import http.client
import socket
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.conftest import Endpoints
from tests.fakes.fault_proxy import FaultProxy, Mode
from tests.tables import create_table, plane
from toolkit.errors import ServiceBusy

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@pytest.fixture
def proxy(endpoints: Endpoints) -> Iterator[FaultProxy]:
    with FaultProxy(endpoints.target) as running:
        yield running


def describe(url: str, table: str) -> str:
    answer = plane(url).call("DescribeTable", {"TableName": table})
    return str(answer.body["Table"]["TableName"])


def test_pass_forwards_and_answering_faults_look_like_dynamodb(
    proxy: FaultProxy, target_client: DynamoDBClient, table_name: str
) -> None:
    create_table(target_client, table_name)
    assert describe(proxy.url, table_name) == table_name

    for mode, code in [
        (Mode.THROTTLE, "ProvisionedThroughputExceededException"),
        (Mode.ERROR, "InternalServerError"),
    ]:
        proxy.set_mode(mode)
        with pytest.raises(ServiceBusy) as raised:
            describe(proxy.url, table_name)
        assert raised.value.code == code
        assert raised.value.transient

    proxy.set_mode(Mode.PASS)
    assert describe(proxy.url, table_name) == table_name
    counts = proxy.counts()
    assert (counts["forwarded"], counts["throttled"], counts["error500"]) == (2, 1, 1)


def test_refuse_closes_the_port_and_cuts_open_connections(
    proxy: FaultProxy, target_client: DynamoDBClient, table_name: str
) -> None:
    create_table(target_client, table_name)
    client = plane(proxy.url)
    client.call("DescribeTable", {"TableName": table_name})  # leaves a pooled connection open

    proxy.set_mode(Mode.REFUSE)

    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", proxy.port), timeout=5).close()
    with pytest.raises(ServiceBusy, match="cannot reach"):
        client.call("DescribeTable", {"TableName": table_name})
    assert proxy.count("cut") >= 1
    assert proxy.count("forwarded") == 1

    proxy.set_mode(Mode.PASS)  # the same port answers again
    assert client.call("DescribeTable", {"TableName": table_name}).body["Table"]
    assert proxy.count("forwarded") == 2


def test_reset_reads_the_request_and_answers_nothing(proxy: FaultProxy) -> None:
    proxy.set_mode(Mode.RESET)
    raw = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    try:
        with pytest.raises((ConnectionError, http.client.HTTPException)):
            raw.request("POST", "/", b"{}", {"X-Amz-Target": "DynamoDB_20120810.ListTables"})
            raw.getresponse()
    finally:
        raw.close()
    with pytest.raises(ServiceBusy):
        plane(proxy.url).call("ListTables", {})
    counts = proxy.counts()
    assert counts["reset"] == 2
    assert counts.get("forwarded", 0) == 0


def test_only_a_server_on_this_machine_can_be_the_upstream() -> None:
    with pytest.raises(ValueError, match="this machine only"):
        FaultProxy("http://example.com:8000")
