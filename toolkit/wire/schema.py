"""Control plane: read the source's schema, create or check the target's, copy TTL."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from toolkit.errors import ServiceError, UserError
from toolkit.logic import tablets
from toolkit.logic.table_schema import create_table_request, key_schema, renamed_key_schema, show
from toolkit.logic.tablets import TabletsChoice
from toolkit.wire.scylla_facts import server_facts, uses_tablets
from toolkit.wire.service_errors import translated

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

log = logging.getLogger("migrator")

WRITE_ISOLATION_TAG = "system:write_isolation"  # read by Alternator on every write


def describe(client: DynamoDBClient, table: str, where: str) -> dict[str, Any] | None:
    """The table's description, or None when it does not exist."""
    try:
        with translated("DescribeTable", where):
            return dict(client.describe_table(TableName=table)["Table"])
    except ServiceError as error:
        if error.code == "ResourceNotFoundException":
            return None
        raise


def describe_source(client: DynamoDBClient, table: str, where: str) -> dict[str, Any]:
    if not table:  # an S3 export source names no table unless it is given one
        raise UserError(
            "this needs a live source table, and source.table names none; with type "
            "dynamodb-s3-export, set table (and tableEndpoint) to the table the export came from"
        )
    description = describe(client, table, where)
    if description is None:
        raise UserError(f"source table {table} does not exist on {where}; check source.table")
    return description


def ttl_attribute(client: DynamoDBClient, table: str, where: str) -> str | None:
    with translated("DescribeTimeToLive", where):
        ttl = client.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    if ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
        return ttl.get("AttributeName")
    return None


def ensure_target(
    source: Mapping[str, Any],
    client: DynamoDBClient,
    table: str,
    billing_mode: str | None,
    renames: Mapping[str, str],
    where: str,
    write_isolation: str | None = None,
    stop: threading.Event | None = None,
    choice: TabletsChoice | None = None,
) -> bool:
    """Create the target table like the source, or check the existing one's keys.

    A created table is tagged with ``write_isolation`` when given, and asks for vnodes
    when ``choice`` says so (an existing one is left as it is). Returns whether the
    table was created. Nothing is written when keys differ. Waiting for the table to
    become ACTIVE ends early once ``stop`` is set; a later run waits for it again.
    """
    wanted = renamed_key_schema(key_schema(source), renames)
    existing = describe(client, table, where)
    if existing is not None:
        check_target_keys(source, existing, renames)
        log.info("Target table %s exists with the source's key schema", table)
        if write_isolation:
            log.info("Left the write isolation of the existing table %s as it is", table)
        _say(choice)
        if existing.get("TableStatus") != "ACTIVE":  # created by a run that was stopped
            _wait_active(client, table, where, stop)
        return False
    log.info("Creating target table %s with key schema [%s]", table, show(wanted))
    _say(choice)
    request = create_table_request(source, table, billing_mode, renames)
    tags = [{"Key": WRITE_ISOLATION_TAG, "Value": write_isolation}] if write_isolation else []
    if choice is not None and choice.tag:
        tags.append({"Key": tablets.TAG, "Value": tablets.VNODES})
    _create(client, request, tags, where)
    _wait_active(client, table, where, stop)
    if write_isolation:
        log.info(
            "Tagged target table %s %s=%s; change the tag after the cut-over if the "
            "application needs other conditional-write guarantees",
            *(table, WRITE_ISOLATION_TAG, write_isolation),
        )
    return True


def plan_tablets(
    client: DynamoDBClient, table: str, setting: str, exists: bool, where: str
) -> TabletsChoice:
    """Before anything is written: read the server's facts and decide.

    For a table to be created, the choice of ``setting`` (UserError when the server
    enforces tablets and the setting wants vnodes); for an existing one, whether it
    can have a stream (the way back).
    """
    facts = server_facts(client, where)
    if exists:
        said = tablets.existing_table_note(facts, uses_tablets(client, table, where), table)
    else:
        said = tablets.choose(setting, facts, table)
    return said  # said by ensure_target: a refusal before it stays one line


def _say(choice: TabletsChoice | None) -> None:
    if choice is not None:
        (log.warning if choice.warning else log.info)("%s", choice.note)


def _create(
    client: DynamoDBClient, request: dict[str, Any], tags: list[dict[str, str]], where: str
) -> None:
    """CreateTable; a server before 2025.4 that reserves the tablets tag gets none."""
    try:
        with translated("CreateTable", where):
            client.create_table(**({**request, "Tags": tags} if tags else request))
    except ServiceError as error:
        message, table = str(error), request["TableName"]
        if tablets.refused_as_enforced(message):
            raise UserError(
                tablets.enforced_refusal(tablets.ServerFacts(None, None), table, "auto or never")
            ) from None
        plain = [tag for tag in tags if tag["Key"] != tablets.TAG]
        if not tablets.refused_as_reserved(message) or plain == tags:
            raise
        log.info("%s reserves the tag %s: its new tables use vnodes anyway", where, tablets.TAG)
        _create(client, request, plain, where)


def check_target_keys(
    source: Mapping[str, Any], target: Mapping[str, Any], renames: Mapping[str, str]
) -> None:
    """An existing target table must have the source's keys, renamed; nothing is written else."""
    wanted, found = renamed_key_schema(key_schema(source), renames), key_schema(target)
    if found != wanted:
        raise UserError(
            f"target table {target['TableName']} has key schema [{show(found)}] but the source "
            f"needs [{show(wanted)}]; drop the target table or point target.table elsewhere"
        )


def copy_ttl(
    client: DynamoDBClient,
    table: str,
    attribute: str | None,
    renames: Mapping[str, str],
    where: str,
) -> None:
    if attribute is None:
        return
    name = renames.get(attribute, attribute)
    if ttl_attribute(client, table, where) == name:
        return
    log.info("Enabling TTL on attribute %s of target table %s", name, table)
    with translated("UpdateTimeToLive", where):
        client.update_time_to_live(
            TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": name}
        )


def _wait_active(
    client: DynamoDBClient,
    table: str,
    where: str,
    stop: threading.Event | None,
    timeout: float = 600,
) -> None:
    deadline = time.monotonic() + timeout
    pause = stop or threading.Event()
    while time.monotonic() < deadline:
        description = describe(client, table, where)
        if description is not None and description.get("TableStatus") == "ACTIVE":
            return
        if pause.wait(0.5):
            return  # stopped: the caller starts nothing more
    raise ServiceError(f"target table {table} did not become ACTIVE within {timeout:.0f} s")
