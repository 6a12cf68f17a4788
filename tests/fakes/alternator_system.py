"""What a fake Alternator node decides itself: tablets, system tables, refused options.

Pure functions of the request and of what the cluster plays (its version, its
``tablets_mode_for_new_keyspaces``); each names where ScyllaDB has the rule. An
answer is (status, body); None lets the request go on to the server.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

Answer = tuple[int, bytes]
TAG = "system:initial_tablets"
WRITE_ISOLATION_TAG = "system:write_isolation"
SYSTEM_PREFIX = ".scylla.alternator."
_PREFIX = "com.amazonaws.dynamodb.v20120810#"
# alternator/executor.cc of 2025.4 and 2026.1 (removed by commit 6be16cf224 for 2026.2)
STREAMS_ON_TABLETS_CREATE = (
    "Streams not yet supported on a table using tablets (issue #23838). If you want to use "
    "streams, create a table with vnodes by setting the tag 'system:initial_tablets' set to 'none'."
)
STREAMS_ON_TABLETS_UPDATE = (
    "Streams not yet supported on a table using tablets (issue #23838). If you want to enable "
    "streams, re-create this table with vnodes "
    "(with the tag 'system:initial_tablets' set to 'none')."
)
VNODES_ENFORCED = (  # alternator/executor.cc, commit c03081eb12 (2025.4, 2026.1)
    f"Tag {TAG} containing non-numerical value requests vnodes, but vnodes are forbidden by "
    "configuration option `tablets_mode_for_new_keyspaces: enforced`"
)


def error(code: str, message: str, status: int = 400) -> Answer:
    return status, json.dumps({"__type": _PREFIX + code, "message": message}).encode()


def validation(message: str) -> Answer:
    return error("ValidationException", message)


@dataclass(frozen=True)
class Release:
    """The ScyllaDB the cluster plays."""

    version: str = "2026.1.0"
    tablets_mode: str = "enabled"  # tablets_mode_for_new_keyspaces: disabled|enabled|enforced

    @property
    def numbers(self) -> tuple[int, int, int]:
        """(year, minor, patch) of "2025.3.2" or "2025.3.2-0.20251012.abc"."""
        found = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", self.version)
        if found is None:
            raise ValueError(f"the fake Alternator plays a version, not {self.version!r}")
        year, minor, patch = found.groups()
        return int(year), int(minor), int(patch or 0)

    def at_least(self, year: int, minor: int, patch: int = 0) -> bool:
        return self.numbers >= (year, minor, patch)

    @property
    def refuses_streams_on_tablets(self) -> bool:
        return self.at_least(2025, 4) and not self.at_least(2026, 2)

    @property
    def takes_compressed_requests(self) -> bool:  # commit 4c7c5f4af7, in 2026.1.0
        return self.at_least(2026, 1)

    def reserves_tag(self, key: str) -> bool:
        """executor.cc tag_key_is_internal: from 2025.1.4 (commit 6cbcabd100, backported)
        every ``system:`` tag but the write isolation's; 2025.4 frees the tablets tag."""
        if not key.startswith("system:") or key == WRITE_ISOLATION_TAG:
            return False
        return self.at_least(2025, 1, 4) and (key != TAG or not self.at_least(2025, 4))


def tags_of(request: Mapping[str, Any]) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in request.get("Tags", ())}


def initial_tablets(tags: Mapping[str, str], release: Release) -> int | None:
    """The table's initial tablets (0: the server picks), or None for vnodes
    (executor.cc get_initial_tablet_count: the tag is read as by std::stol)."""
    if not release.at_least(2025, 4):
        return None  # Alternator followed tablets_mode_for_new_keyspaces from 2025.4
    if TAG in tags:
        number = re.match(r"\s*[+-]?\d+", tags[TAG])
        return max(0, int(number.group())) if number else None
    return 0 if release.tablets_mode in ("enabled", "enforced") else None


def reserved_tag_refusal(keys: Iterable[str], release: Release) -> Answer | None:
    """CreateTable's Tags, TagResource's and UntagResource's keys (executor.cc update_tags_map)."""
    for key in keys:
        if release.reserves_tag(key):
            return validation(f"Tag key '{key}' is reserved for internal use")
    return None


def streams_asked(request: Mapping[str, Any]) -> bool:
    spec = request.get("StreamSpecification")
    return isinstance(spec, dict) and spec.get("StreamEnabled") is True


def create_table_refusal(request: Mapping[str, Any], release: Release) -> Answer | None:
    """CreateTable's checks, in executor.cc's order: billing, the tag, streams."""
    refused = billing_refusal(request, default="PROVISIONED")
    if refused is not None:
        return refused
    tags = tags_of(request)
    refused = reserved_tag_refusal(tags, release)
    if refused is not None:
        return refused
    tablets = initial_tablets(tags, release)
    vnodes_asked = TAG in tags and tablets is None and release.at_least(2025, 4)
    if vnodes_asked and release.tablets_mode == "enforced":
        return validation(VNODES_ENFORCED)
    if tablets is not None and streams_asked(request) and release.refuses_streams_on_tablets:
        return validation(STREAMS_ON_TABLETS_CREATE)
    return None


def update_table_refusal(
    request: Mapping[str, Any], tablet_tables: Collection[str], release: Release
) -> Answer | None:
    if "BillingMode" in request:
        refused = billing_refusal(request, default="PROVISIONED")
        if refused is not None:
            return refused
    on_tablets = request.get("TableName") in tablet_tables
    if on_tablets and streams_asked(request) and release.refuses_streams_on_tablets:
        return validation(STREAMS_ON_TABLETS_UPDATE)
    return None


def billing_refusal(request: Mapping[str, Any], default: str) -> Answer | None:
    """executor.cc verify_billing_mode: valid, or refused; otherwise ignored."""
    mode = request.get("BillingMode", default)
    throughput = request.get("ProvisionedThroughput")
    if mode == "PAY_PER_REQUEST":
        if throughput is not None:
            return validation(
                "When BillingMode=PAY_PER_REQUEST, ProvisionedThroughput cannot be specified."
            )
        return None
    if mode != "PROVISIONED":  # the braces are ScyllaDB's own: its message is not formatted
        return validation("Unknown BillingMode={}. Must be PAY_PER_REQUEST or PROVISIONED.")
    if throughput is None:
        return validation("When BillingMode=PROVISIONED, ProvisionedThroughput must be specified.")
    for name in ("ReadCapacityUnits", "WriteCapacityUnits"):
        if not isinstance(throughput.get(name), int):
            return validation(
                f"provisionedThroughput.{name[0].lower()}{name[1:]} is missing, when "
                "BillingMode=PROVISIONED, ProvisionedThroughput must be specified."
            )
    return None


def consumed_capacity_refusal(request: Mapping[str, Any]) -> Answer | None:
    """alternator/consumed_capacity.cc: TOTAL is counted, INDEXES refused."""
    if request.get("ReturnConsumedCapacity") == "INDEXES":
        return validation("INDEXES consumed capacity is not supported")
    return None


def visible_tags(tags: Mapping[str, str]) -> list[dict[str, str]]:
    """ListTagsOfResource hides system: tags but these two (executor.cc tag_key_is_internal)."""
    shown = {TAG, WRITE_ISOLATION_TAG}
    return [
        {"Key": k, "Value": v} for k, v in tags.items() if not k.startswith("system:") or k in shown
    ]


def system_table_denied(request: Mapping[str, Any], role: str, release: Release) -> Answer:
    """A Scan or Query of a system table by a role without SELECT on it, with
    alternator_enforce_authorization (executor.cc verify_permission; the client
    address is said from 2026.1, commit 51186b2f2c)."""
    table = request["TableName"][len(SYSTEM_PREFIX) :]
    message = f"SELECT access on table {table} is denied to role {role}"
    if release.at_least(2026, 1):
        message += ", client address 127.0.0.1"
    return error("AccessDeniedException", message)


def system_table(
    operation: str, request: Mapping[str, Any], release: Release, tablets: Mapping[str, int]
) -> Answer:
    """Scan or Query of a ``.scylla.alternator.KEYSPACE.TABLE`` name (new-apis.md,
    "Accessing system tables from ScyllaDB"). A CQL column that is not text is shown
    as a string (alternator/serialization.cc type_to_string), so ``initial_tablets``
    is ``{"S": "0"}``. tablets: the tablet tables' initial tablets, by table name."""
    name = request["TableName"][len(SYSTEM_PREFIX) :]
    rows = _rows(name, release, tablets)
    if rows is None:
        return error("ResourceNotFoundException", f"Requested resource not found: {name}")
    if operation not in ("Scan", "Query"):  # new-apis.md: only Scan and Query
        return validation(
            f"the fake Alternator reads a system table by Scan or Query, not {operation}"
        )
    if operation == "Query":
        wanted = _queried_key(request)
        rows = [row for row in rows if wanted in row.items()]
    items = [{k: {"S": v} for k, v in row.items()} for row in rows]
    return 200, json.dumps(
        {"Items": items, "Count": len(items), "ScannedCount": len(items)}
    ).encode()


def _rows(name: str, release: Release, tablets: Mapping[str, int]) -> list[dict[str, str]] | None:
    if name == "system.versions":
        return [{"key": "local", "version": release.version, "build_mode": "release"}]
    if name == "system.config":
        if not release.at_least(2025, 2):  # the option came in 2025.2 (commit c62865df90)
            return []
        value = json.dumps(release.tablets_mode)  # value_as_json: a quoted string
        return [
            {
                "name": "tablets_mode_for_new_keyspaces",
                "type": "tablets mode",
                "source": "config",
                "value": value,
            }
        ]
    if name == "system_schema.scylla_keyspaces":
        return [
            {"keyspace_name": f"alternator_{table}", "initial_tablets": str(count)}
            for table, count in sorted(tablets.items())
        ]
    return None


def _queried_key(request: Mapping[str, Any]) -> tuple[str, str]:
    """The (attribute, value) of a Query's equality on the key: KeyConditions, or a
    KeyConditionExpression ``#k = :v`` / ``name = :v``."""
    for attribute, condition in request.get("KeyConditions", {}).items():
        return attribute, condition["AttributeValueList"][0]["S"]
    expression = request.get("KeyConditionExpression", "")
    left, _, right = (part.strip() for part in expression.partition("="))
    attribute = request.get("ExpressionAttributeNames", {}).get(left, left)
    return attribute, request.get("ExpressionAttributeValues", {})[right]["S"]
