"""Session fixtures: two real DynamoDB Local servers, and fresh tables per test.

The servers start once per test session on free ports, or the ones named by
TOOLKIT_SOURCE_ENDPOINT and TOOLKIT_TARGET_ENDPOINT are used as they are. Every
folder (unit, servers, e2e) shares them; each test is marked with its folder's kind.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings as hypothesis_settings

from tests.fakes.s3_server import s3_server
from tests.helpers import CACHE_DIR, free_port
from tests.kinds import mark_kinds, refuse_servers_in_unit
from tests.refusals import Case
from tests.tables import low_client
from toolkit.local import servers

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Hypothesis's per-example deadline is a timing assertion: on a busy 2-core machine
# it fails tests whose behaviour is right. Slowness is measured under bench/ instead.
hypothesis_settings.register_profile("toolkit", deadline=None)
hypothesis_settings.load_profile("toolkit")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_kinds(items, Path(__file__).parent)


@pytest.hookimpl(tryfirst=True)  # before the fixtures are set up, so no server starts
def pytest_runtest_setup(item: pytest.Item) -> None:
    refuse_servers_in_unit(item)


@dataclass(frozen=True)
class Endpoints:
    source: str
    target: str


@pytest.fixture(scope="session")
def endpoints(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoints]:
    source = os.environ.get("TOOLKIT_SOURCE_ENDPOINT")
    target = os.environ.get("TOOLKIT_TARGET_ENDPOINT")
    if source and target:
        yield Endpoints(source, target)
        return
    home: Path = tmp_path_factory.mktemp("local-servers")
    settings = servers.LocalSettings(home, CACHE_DIR, free_port(), free_port(), heap="1g")
    started, _ = servers.up(settings)
    try:
        by_role = {s.role: s.endpoint for s in started}
        yield Endpoints(by_role["source"], by_role["target"])
    finally:
        servers.down(settings)


@pytest.fixture(scope="session")
def source_client(endpoints: Endpoints) -> DynamoDBClient:
    return low_client(endpoints.source)


@pytest.fixture(scope="session")
def target_client(endpoints: Endpoints) -> DynamoDBClient:
    return low_client(endpoints.target)


@pytest.fixture
def table_name(source_client: DynamoDBClient, target_client: DynamoDBClient) -> Iterator[str]:
    """A unique table name; whatever a test creates under it is deleted afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    yield name
    for dynamodb in (source_client, target_client):
        with contextlib.suppress(dynamodb.exceptions.ResourceNotFoundException):
            dynamodb.delete_table(TableName=name)


@pytest.fixture
def case(
    endpoints: Endpoints,
    source_client: DynamoDBClient,
    target_client: DynamoDBClient,
    table_name: str,
    tmp_path: Path,
) -> Case:
    """A command refused by the real CLI must leave both servers as they were."""
    return Case(endpoints, source_client, target_client, table_name, tmp_path)


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """moto's S3 server on 127.0.0.1 and a free port: a real S3 API for the export paths."""
    with s3_server(tmp_path_factory.mktemp("moto")) as endpoint:
        yield endpoint
