"""The tables of a run, found on a real DynamoDB Local: by pattern, by tag, or as listed."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.conftest import Endpoints
from tests.tables import create_table, low_client, section
from toolkit.config import MigrationConfig, parse_config
from toolkit.config.model import TableEntry
from toolkit.connectors.table.listing import SHOWN, selected_tables
from toolkit.errors import UserError
from toolkit.wire.connections import Connection, Section
from toolkit.wire.table_list import table_names

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class Made:
    """Tables a test makes on the source, each deleted afterwards."""

    def __init__(self, client: DynamoDBClient) -> None:
        self.client = client
        self.prefix = f"sel_{uuid.uuid4().hex[:8]}_"
        self.names: list[str] = []

    def table(self, suffix: str, **tags: str) -> str:
        name = self.prefix + suffix
        create_table(self.client, name)
        self.names.append(name)
        if tags:
            arn = self.client.describe_table(TableName=name)["Table"]["TableArn"]
            self.client.tag_resource(
                ResourceArn=arn, Tags=[{"Key": k, "Value": v} for k, v in tags.items()]
            )
        return name


@contextlib.contextmanager
def making(client: DynamoDBClient) -> Iterator[Made]:
    tables = Made(client)
    try:
        yield tables
    finally:
        for name in tables.names:
            with contextlib.suppress(client.exceptions.ResourceNotFoundException):
                client.delete_table(TableName=name)


@pytest.fixture
def made(source_client: DynamoDBClient) -> Iterator[Made]:
    with making(source_client) as tables:
        yield tables


@pytest.fixture
def tagged(s3_endpoint: str) -> Iterator[Made]:
    """Tables on moto's server (the one the S3 tests use): DynamoDB Local keeps no tags."""
    with making(low_client(s3_endpoint)) as tables:
        yield tables


def run_of(source: str, tables: object) -> MigrationConfig:
    """A run of several tables read from ``source`` (the target is never asked here)."""
    sides = [section(source, "unused"), section(source, "unused")]
    for side in sides:
        del side["table"]  # the tables name them
    return parse_config({"source": sides[0], "target": sides[1], "tables": tables})


def every_table(client: DynamoDBClient) -> list[str]:
    """The source's tables by boto3's own paginator: a path independent of the toolkit's."""
    pages = client.get_paginator("list_tables").paginate()
    return sorted(name for page in pages for name in page["TableNames"])


def names_of(entries: list[TableEntry]) -> list[tuple[str, str]]:
    return [(entry.source, entry.target) for entry in entries]


def test_a_pattern_selects_the_matching_tables_sorted(endpoints: Endpoints, made: Made) -> None:
    for suffix in ("orders_c", "orders_a", "users", "orders_b"):
        made.table(suffix)
    p = made.prefix
    selected = selected_tables(run_of(endpoints.source, {"pattern": f"{p}orders_*"}))
    assert names_of(selected) == [(p + s, p + s) for s in ("orders_a", "orders_b", "orders_c")]
    # A pattern is case-sensitive, as DynamoDB's table names are.
    with pytest.raises(UserError):
        selected_tables(run_of(endpoints.source, {"pattern": f"{p.upper()}ORDERS_*"}))


def test_a_pattern_that_matches_nothing_is_one_line_listing_what_is_there(
    endpoints: Endpoints, made: Made, source_client: DynamoDBClient
) -> None:
    made.table("orders")
    config = run_of(endpoints.source, {"pattern": "nothing_like_it_*"})
    with pytest.raises(UserError) as refused:
        selected_tables(config)
    there = every_table(source_client)
    shown = ", ".join(there[:SHOWN]) + (", ..." if len(there) > SHOWN else "")
    assert str(refused.value) == (
        f"config: tables with pattern 'nothing_like_it_*' match no table of the source "
        f"{endpoints.source} ({len(there)} there: {shown}); correct tables in the file"
    )


def test_a_tag_selects_the_tables_that_carry_it(s3_endpoint: str, tagged: Made) -> None:
    shop = tagged.table("carts", app="shop")
    other = tagged.table("users", app="crm")
    also = tagged.table("orders", app="shop", team="pay")
    tagged.table("logs")  # no tag at all
    by_value = {"pattern": f"{tagged.prefix}*", "tag": {"key": "app", "value": "shop"}}
    assert names_of(selected_tables(run_of(s3_endpoint, by_value))) == [(shop, shop), (also, also)]
    by_key = {"pattern": f"{tagged.prefix}*", "tag": {"key": "app"}}  # any value
    chosen = [source for source, _ in names_of(selected_tables(run_of(s3_endpoint, by_key)))]
    assert chosen == sorted([shop, other, also])


def test_a_tag_alone_looks_at_every_table(s3_endpoint: str, tagged: Made) -> None:
    key = tagged.prefix + "app"  # a key no other test's tables carry
    one, two = tagged.table("b_one", **{key: "x"}), tagged.table("a_two", **{key: "y"})
    tagged.table("c_three")
    chosen = selected_tables(run_of(s3_endpoint, {"tag": {"key": key}}))
    assert names_of(chosen) == [(two, two), (one, one)]


def test_a_pattern_and_a_tag_select_the_tables_with_both(s3_endpoint: str, tagged: Made) -> None:
    carts = tagged.table("shop_carts", app="shop")
    tagged.table("crm_users", app="shop")
    tagged.table("shop_logs", app="ops")
    tagged.table("shop_plain")
    both = tagged.table("shop_orders", app="shop")
    tables = {"pattern": f"{tagged.prefix}shop_*", "tag": {"key": "app", "value": "shop"}}
    assert names_of(selected_tables(run_of(s3_endpoint, tables))) == [(carts, carts), (both, both)]
    missing = {"pattern": f"{tagged.prefix}crm_*", "tag": {"key": "app", "value": "ops"}}
    with pytest.raises(UserError, match=r"tables with pattern '.*crm_\*' and tag app=ops match"):
        selected_tables(run_of(s3_endpoint, missing))


def test_a_tag_on_a_source_that_keeps_none_is_one_line(endpoints: Endpoints, made: Made) -> None:
    made.table("orders")  # DynamoDB Local answers TagResource and ListTagsOfResource "unknown"
    with pytest.raises(UserError) as refused:
        selected_tables(run_of(endpoints.source, {"tag": {"key": "app"}}))
    assert str(refused.value) == (
        f"config: tables.tag cannot be read: the source {endpoints.source} keeps no tags "
        "(ListTagsOfResource is unknown there); select the tables by pattern or list them"
    )


def test_a_list_is_the_run_as_written_without_asking_the_source(endpoints: Endpoints) -> None:
    listed = ["zeta_table", {"source": "alpha_table", "target": "alpha_v2"}]
    config = run_of(endpoints.source, listed)

    def no_connection(role: str, side: Section) -> Connection:
        raise AssertionError(f"a listed run connected to the {role}")

    selected = selected_tables(config, connecting=no_connection)
    assert config.tables is not None and selected == list(config.tables.entries)
    assert names_of(selected) == [("zeta_table", "zeta_table"), ("alpha_table", "alpha_v2")]


def test_every_page_of_the_source_tables_is_listed(
    endpoints: Endpoints, made: Made, source_client: DynamoDBClient
) -> None:
    for i in range(105):  # ListTables gives 100 a page
        made.table(f"t{i:03}")
    listed = table_names(source_client, "source")
    assert len(listed) > 100 and sorted(listed) == every_table(source_client)
    selected = selected_tables(run_of(endpoints.source, {"pattern": f"{made.prefix}t*"}))
    assert [s for s, _ in names_of(selected)] == sorted(made.names)
