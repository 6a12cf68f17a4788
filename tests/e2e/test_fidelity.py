"""Every DynamoDB type, key type and size survives a migration byte for byte.

Items come from hypothesis; each example is loaded into a fresh source table on
the real server, migrated, and both tables are read back with boto3 (a path
independent of the toolkit's data plane) and compared exactly.
"""

from __future__ import annotations

import base64
import threading
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.conftest import Endpoints
from tests.helpers import run_cli
from tests.strategies import deeply_nested, items_for, key_schemas, large_item
from tests.tables import load, scan_all, section, write_config
from toolkit.config import parse_config
from toolkit.driver.migrate import run_migration
from toolkit.driver.migration import MigrateOptions
from toolkit.logic.items import digest, item_size, key_of
from toolkit.work.replay import ReplayStats

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from tests.strategies import TableKeys


class Quiet:
    def started(self, segments: int, segments_done: int, items_done: int) -> None: ...
    def page_copied(self, items: int, size: int = 0, expired: int = 0) -> None: ...
    def segment_done(self) -> None: ...
    def finished(self) -> None: ...
    def batch_applied(self, counts: Mapping[str, int]) -> None: ...
    def tick(self, stats: ReplayStats) -> None: ...


def unique_by_key(items: list[dict[str, Any]], key_names: list[str]) -> list[dict[str, Any]]:
    # By value: the server stores number keys "0" and "0.0" as one key.
    by_key = {digest(key_of(item, key_names)): item for item in items}
    return list(by_key.values())


def migrate_in_process(endpoints: Endpoints, table: str, state: Path) -> None:
    config = parse_config(
        {
            "source": section(endpoints.source, table, scanSegments=3),
            "target": section(endpoints.target, table),
        }
    )
    result = run_migration(MigrateOptions(config, state), Quiet(), Quiet(), threading.Event())
    assert result.snapshot is not None and result.snapshot.complete


@given(schema=key_schemas(), data=st.data())
@settings(
    max_examples=8,
    deadline=None,
    # Each example is a real table and a real migration: shrinking would take minutes.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_items_of_every_type_and_key_type_copy_exactly(
    endpoints: Endpoints,
    source_client: DynamoDBClient,
    tmp_path: Path,
    schema: Any,
    data: st.DataObject,
) -> None:
    key_schema, definitions = schema
    key_names = [k["AttributeName"] for k in key_schema]
    drawn = data.draw(st.lists(items_for(schema, max_depth=4), min_size=1, max_size=30))
    items = unique_by_key(drawn, key_names)
    table = f"f_{uuid.uuid4().hex[:12]}"
    source_client.create_table(
        TableName=table,
        KeySchema=key_schema,
        AttributeDefinitions=definitions,
        BillingMode="PAY_PER_REQUEST",
    )
    load(endpoints.source, table, items, key_names)
    migrate_in_process(endpoints, table, tmp_path / f"{table}.sqlite")
    source_items = scan_all(endpoints.source, table)
    assert len(source_items) == len(items)
    assert scan_all(endpoints.target, table) == source_items


def test_nesting_to_32_levels_and_items_near_400_kb_through_the_cli(
    endpoints: Endpoints, source_client: DynamoDBClient, table_name: str, tmp_path: Path
) -> None:
    schema: TableKeys = (
        [{"AttributeName": "pk", "KeyType": "HASH"}],
        [{"AttributeName": "pk", "AttributeType": "B"}],
    )
    source_client.create_table(
        TableName=table_name,
        KeySchema=schema[0],
        AttributeDefinitions=schema[1],
        BillingMode="PAY_PER_REQUEST",
    )

    @given(
        big=st.lists(large_item(390 * 1024, schema), min_size=6, max_size=6),
        deep=deeply_nested(32),
    )
    @settings(max_examples=1, deadline=None, database=None)
    def draw(big: list[dict[str, Any]], deep: dict[str, Any]) -> None:
        # Hypothesis's simplest draw gives every item the same key: number them instead.
        for n, item in enumerate(big, start=1):
            item["pk"] = {"B": base64.b64encode(bytes([n])).decode()}
        drawn.extend([*big, {"pk": {"B": "AA=="}, "deep": deep}])

    drawn: list[dict[str, Any]] = []
    draw()
    assert len(drawn) == 7
    assert all(380 * 1024 < item_size(item) < 400 * 1024 for item in drawn[:6])
    load(endpoints.source, table_name, drawn, ["pk"])
    config = write_config(
        tmp_path / "config.yaml",
        section(endpoints.source, table_name, scanSegments=2),
        section(endpoints.target, table_name),
    )
    result = run_cli("migrate", "--config", str(config))
    assert result.returncode == 0, result.stderr
    source_items = scan_all(endpoints.source, table_name)
    assert len(source_items) == len(drawn)
    assert scan_all(endpoints.target, table_name) == source_items
