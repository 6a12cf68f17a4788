"""Control plane: what DynamoDB keeps of a table outside DescribeTable.

A resource policy (GetResourcePolicy) and contributor insights
(DescribeContributorInsights) are asked for only when the target is Alternator, which
keeps neither. A server that lacks the operation (DynamoDB Local answers
UnknownOperationException), a table without a policy, or credentials not allowed to
ask, all mean "none known": these only feed notes, never stop a run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from toolkit.errors import ServiceError
from toolkit.logic.alternator_fit import Extras
from toolkit.wire.service_errors import PERMISSION_CODES, translated

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

T = TypeVar("T")
NONE_KNOWN = frozenset(
    {
        *PERMISSION_CODES,
        *("UnknownOperationException", "UnsupportedOperationException", "NotImplemented"),
        *("PolicyNotFoundException", "ResourceNotFoundException", "ValidationException"),
    }
)


def table_extras(client: DynamoDBClient, description: Mapping[str, Any], where: str) -> Extras:
    arn, table = str(description.get("TableArn") or ""), description["TableName"]
    policy = (
        _none_known(
            "GetResourcePolicy", where, partial(client.get_resource_policy, ResourceArn=arn)
        )
        if arn
        else None
    )
    insights = _none_known(
        "DescribeContributorInsights",
        where,
        partial(client.describe_contributor_insights, TableName=table),
    )
    return Extras(
        None if policy is None else bool(policy.get("Policy")),
        None if insights is None else insights.get("ContributorInsightsStatus"),
    )


def _none_known(operation: str, where: str, ask: Callable[[], T]) -> T | None:
    """The answer, or None where the server lacks the operation, or has nothing to say."""
    try:
        with translated(operation, where):
            return ask()
    except ServiceError as error:
        if error.code in NONE_KNOWN:
            return None
        raise
