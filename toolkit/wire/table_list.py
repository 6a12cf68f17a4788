"""The control plane's listing of a side's tables and their tags (rare calls: boto3)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from toolkit.wire.service_errors import translated

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def table_names(control: DynamoDBClient, where: str) -> list[str]:
    """Every table's name, page after page (ListTables gives 100 at a time)."""
    names: list[str] = []
    start: str | None = None
    while True:
        with translated("ListTables", where):
            page = (
                control.list_tables(ExclusiveStartTableName=start)
                if start
                else (control.list_tables())
            )
        names.extend(page.get("TableNames", []))
        start = page.get("LastEvaluatedTableName")
        if not start:
            return names


def table_tags(control: DynamoDBClient, table: str, where: str) -> dict[str, str]:
    """A table's tags by key, page after page."""
    with translated("DescribeTable", where):
        arn = control.describe_table(TableName=table)["Table"]["TableArn"]
    tags: dict[str, str] = {}
    token: str | None = None
    while True:
        with translated("ListTagsOfResource", where):
            page = (
                control.list_tags_of_resource(ResourceArn=arn, NextToken=token)
                if token
                else control.list_tags_of_resource(ResourceArn=arn)
            )
        tags.update({tag["Key"]: tag["Value"] for tag in page.get("Tags", [])})
        token = page.get("NextToken")
        if not token:
            return tags
