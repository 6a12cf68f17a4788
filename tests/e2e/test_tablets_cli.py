"""Tablets and the way back, through the real CLI and a fake ScyllaDB of a chosen version.

The cluster is tests/fakes/fake_alternator.py, which plays what these tests rely on (its
opening comment says where ScyllaDB documents each): the system tables read through
the DynamoDB API, or none (``system_tables=``), new tables given tablets by version
and ``tablets_mode`` unless tagged ``system:initial_tablets``, the tag refused as
reserved (2025.1.4 to 2025.3) or under ``enforced``, and a stream refused on a tablet
table before 2026.2, in ScyllaDB's own words.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import Endpoints
from tests.fakes.fake_alternator import FakeCluster, fake_cluster
from tests.helpers import run_cli
from tests.refusals import Case
from tests.tables import create_table, load, low_client, section, write_config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

TAG = "system:initial_tablets"
ITEMS = [{"id": {"S": f"k{n}"}, "n": {"N": str(n)}} for n in range(20)]


Cluster = Callable[..., FakeCluster]


@pytest.fixture
def scylla_cluster() -> Iterator[Cluster]:
    """Start ``fake_cluster(upstream, **options)``, with ``tablet_tables`` the tables already
    on tablets that were not created through it; every started cluster stops at the end."""
    with ExitStack() as stack:

        def start(
            upstream: str, tablet_tables: Collection[str] = (), **options: Any
        ) -> FakeCluster:
            cluster = stack.enter_context(fake_cluster(upstream, **options))
            cluster.tablet_tables.update(tablet_tables)
            return cluster

        yield start


def alternator(url: str, table: str, **extra: Any) -> dict[str, Any]:
    return {**section(url, table), "type": "alternator", **extra}


def created_tags(cluster: FakeCluster) -> list[dict[str, str]]:
    bodies = [json.loads(body) for op, body in cluster.bodies if op == "CreateTable"]
    return [tag for body in bodies for tag in body.get("Tags", [])]


def migrate(tmp: Path, source: dict[str, Any], target: dict[str, Any]) -> Any:
    tmp.mkdir(exist_ok=True)
    config = write_config(tmp / "config.yaml", source, target)
    return run_cli("migrate", "--config", str(config), "--state", str(tmp / "run.sqlite"))


def loaded(endpoints: Endpoints, client: DynamoDBClient, table: str) -> None:
    create_table(client, table)
    load(endpoints.source, table, ITEMS, ["id"])


Into = Callable[..., tuple[FakeCluster, Any]]


@pytest.fixture
def into_scylla(
    endpoints: Endpoints,
    source_client: DynamoDBClient,
    table_name: str,
    tmp_path: Path,
    scylla_cluster: Cluster,
) -> Into:
    """Migrate a loaded DynamoDB table into a fake ScyllaDB; its cluster and the CLI's result."""
    loaded(endpoints, source_client, table_name)

    def run(played: dict[str, Any], folder: str = "run", **extra: Any) -> tuple[FakeCluster, Any]:
        cluster = scylla_cluster(endpoints.target, **played)
        target = alternator(cluster.urls[0], table_name, **extra)
        result = migrate(tmp_path / folder, section(endpoints.source, table_name), target)
        assert result.returncode == 0, result.stderr[-2000:]
        return cluster, result

    return run


def test_tablets_by_default_get_the_vnodes_tag_and_the_way_back_works(
    into_scylla: Into, table_name: str
) -> None:
    played = {"version": "2026.1.2-0.20260301.0a1b2c3d"}
    cluster, result = into_scylla(played, writeIsolation="forbid_rmw")
    assert {"Key": TAG, "Value": "none"} in created_tags(cluster)
    assert {"Key": "system:write_isolation", "Value": "forbid_rmw"} in created_tags(cluster)
    assert table_name not in cluster.tablet_tables
    said = [line for line in result.stderr.splitlines() if f"{TAG}=none" in line]
    assert len(said) == 1 and "ScyllaDB 2026.1.2 gives new tables tablets" in said[0]
    # The way back needs the table's stream: this version takes it on the created table.
    through_node = low_client(cluster.urls[1])
    spec = {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    through_node.update_table(TableName=table_name, StreamSpecification=spec)  # type: ignore[arg-type]
    through_node.update_table(TableName=table_name, StreamSpecification={"StreamEnabled": False})


def test_tablets_always_keeps_tablets_and_says_the_way_back_is_lost(
    into_scylla: Into, table_name: str
) -> None:
    played = {"version": "2026.1.0-0.20260115.abc"}
    cluster, result = into_scylla(played, alternator={"tablets": "always"})
    assert TAG not in [tag["Key"] for tag in created_tags(cluster)]
    assert table_name in cluster.tablet_tables
    assert "the way back (source.type: alternator) will not be possible" in result.stderr
    assert "ScyllaDB 2026.1.0 is one of them" in result.stderr


def test_a_server_that_reserves_the_tag_gets_a_table_without_it(into_scylla: Into) -> None:
    cluster, result = into_scylla({"version": "2025.3.2-0.2025", "system_tables": "denied"})
    creates = [json.loads(body) for op, body in cluster.bodies if op == "CreateTable"]
    assert [TAG in json.dumps(body) for body in creates] == [True, False]
    assert f"reserves the tag {TAG}" in result.stderr


def test_an_existing_tablet_table_gets_a_warning_naming_the_tag(
    into_scylla: Into, target_client: DynamoDBClient, table_name: str
) -> None:
    create_table(target_client, table_name)
    _, result = into_scylla({"version": "2026.1.0-0.2026", "tablet_tables": {table_name}})
    warning = [line for line in result.stderr.splitlines() if "uses tablets" in line]
    assert len(warning) == 1 and "ScyllaDB 2026.1.0 refuses" in warning[0]
    assert f"{TAG}=none" in warning[0] and "cannot be changed later" in warning[0]
    _, unchecked = into_scylla({"version": "2026.1.0", "system_tables": "denied"}, "again")
    assert f"could not check whether target table {table_name} uses tablets" in unchecked.stderr


def test_enforced_tablets_refuse_the_default_before_anything_is_created(
    endpoints: Endpoints, case: Case, scylla_cluster: Cluster
) -> None:
    case.source_table()
    cluster = scylla_cluster(endpoints.target, version="2026.1.0-0.2026", tablets_mode="enforced")
    for setting in ("auto", "never"):
        config = case.config(target=cluster.urls[0], type="alternator", tablets=setting)
        case.refused(
            "migrate",
            config,
            "enforces tablets",
            f"tablets: {setting}",
            "tablets: always",
            "2026.2",
        )


def test_the_way_back_from_a_tablet_table_is_one_line_before_anything_changes(
    endpoints: Endpoints, case: Case, scylla_cluster: Cluster
) -> None:
    case.source_table()
    cluster = scylla_cluster(
        endpoints.source, version="2026.1.0-0.2026", tablet_tables={case.table}
    )
    config = case.config(source=cluster.urls[0])
    back = {**section(cluster.urls[0], case.table), "type": "alternator"}
    write_config(config, back, {**section(endpoints.target, case.table), "streamChanges": True})
    case.refused("migrate", config, f"{TAG}=none", "re-create the table", "2026.2")


def test_the_servers_own_refusal_of_the_way_back_is_one_line(
    endpoints: Endpoints,
    source_client: DynamoDBClient,
    table_name: str,
    tmp_path: Path,
    scylla_cluster: Cluster,
) -> None:
    loaded(endpoints, source_client, table_name)
    cluster = scylla_cluster(
        endpoints.source,
        version="2026.1.0-0.2026",
        system_tables="denied",
        tablet_tables={table_name},
    )
    back = alternator(cluster.urls[0], table_name)
    result = migrate(
        tmp_path, back, {**section(endpoints.target, table_name), "streamChanges": True}
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("error: ") and "uses tablets" in line and f"{TAG}=none" in line
    table = source_client.describe_table(TableName=table_name)["Table"]
    assert "StreamSpecification" not in table or not table["StreamSpecification"]["StreamEnabled"]


def test_a_tablets_setting_out_of_its_three_is_one_line(endpoints: Endpoints, case: Case) -> None:
    case.source_table()
    target = {"target": endpoints.target, "type": "alternator"}
    case.refused("migrate", case.config(**target, tablets="sometimes"), "auto or always or never")
    nested = case.config(**target, alternator={"tablets": "no"})
    case.refused("migrate", nested, "alternator.tablets", "auto or always or never")
    case.refused("migrate", case.config(tablets="auto"), "is an Alternator setting")


def test_a_later_refusal_stays_one_line_on_an_alternator_target(
    endpoints: Endpoints, case: Case, scylla_cluster: Cluster
) -> None:
    stream = {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    case.source_table(StreamSpecification=stream)
    cluster = scylla_cluster(endpoints.target, version="2026.1.0-0.2026")
    config = case.config(target=cluster.urls[0], type="alternator")
    case.refused("migrate", config, "already has an enabled stream")
