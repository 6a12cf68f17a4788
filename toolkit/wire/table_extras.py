"""Control plane: what DynamoDB keeps of a table outside DescribeTable.

A resource policy (GetResourcePolicy) and contributor insights
(DescribeContributorInsights) are asked for only when the target is Alternator, which
keeps neither. A server that lacks the operation (DynamoDB Local answers
UnknownOperationException), a table without a policy, or credentials not allowed to
ask, all mean "none known": these only feed notes, never stop a run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from toolkit.errors import ServiceError
from toolkit.logic.alternator_fit import Extras
from toolkit.wire.service_errors import PERMISSION_CODES, translated

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

NONE_KNOWN = frozenset(
    {
        *PERMISSION_CODES,
        *("UnknownOperationException", "UnsupportedOperationException", "NotImplemented"),
        *("PolicyNotFoundException", "ResourceNotFoundException", "ValidationException"),
    }
)


def table_extras(client: DynamoDBClient, description: Mapping[str, Any], where: str) -> Extras:
    return Extras(
        _resource_policy(client, description, where), _insights(client, description, where)
    )


def _resource_policy(
    client: DynamoDBClient, description: Mapping[str, Any], where: str
) -> bool | None:
    arn = description.get("TableArn")
    if not arn:
        return None
    try:
        with translated("GetResourcePolicy", where):
            return bool(client.get_resource_policy(ResourceArn=arn).get("Policy"))
    except ServiceError as error:
        if error.code in NONE_KNOWN:
            return None
        raise


def _insights(client: DynamoDBClient, description: Mapping[str, Any], where: str) -> str | None:
    try:
        with translated("DescribeContributorInsights", where):
            answer = client.describe_contributor_insights(TableName=description["TableName"])
    except ServiceError as error:
        if error.code in NONE_KNOWN:
            return None
        raise
    return answer.get("ContributorInsightsStatus")
