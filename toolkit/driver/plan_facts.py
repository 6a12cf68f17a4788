"""What `toolkit plan` reads, and nothing more: each table's description, its stream's
shards, and the checks `toolkit migrate` makes before it touches anything, their
refusals kept as the table's "cannot migrate" rather than raised.

Reads only: no state file, no table created or changed, no stream enabled. A table
that does not exist, or a side that cannot be reached, is an error (exit 2), as in
`toolkit migrate`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from toolkit.config import MigrationConfig
from toolkit.config.tables import for_table
from toolkit.connectors import target_for
from toolkit.connectors.base import Connect, Described
from toolkit.connectors.table.fit import fit_notes, refuse_unfit
from toolkit.connectors.table.listing import selected_tables
from toolkit.connectors.table.source import TableSource
from toolkit.driver.estimate import (
    STREAM_RETENTION_SECONDS,
    WARN_FRACTION,
    read_budget,
    write_budget,
)
from toolkit.errors import UserError
from toolkit.logic.plan import Budgets, Rules, TableFacts
from toolkit.logic.sizing import share
from toolkit.logic.table_schema import check_renames, key_schema
from toolkit.wire.connections import Connection, Section, connect
from toolkit.wire.schema import describe_source, ttl_attribute
from toolkit.wire.stream_reader import describe_shards
from toolkit.wire.stream_setup import Followed
from toolkit.wire.throughput import READ_UNIT_BYTES

# One process copies at most about this many items a second, whatever its budget
# (DESIGN.md, Engines: about 8 us of client CPU per copied item on the embedded engine).
ONE_PROCESS_ITEMS_PER_SECOND = 120_000
RULES = Rules(
    STREAM_RETENTION_SECONDS, WARN_FRACTION, READ_UNIT_BYTES, ONE_PROCESS_ITEMS_PER_SECOND
)
TABLE_SOURCES = ("dynamodb", "alternator")
NO_STATE = Followed(None, "no state file")  # a plan is made before any run


def plan_facts(
    config: MigrationConfig, accept_existing_stream: bool, connecting: Connect = connect
) -> tuple[list[TableFacts], Budgets]:
    """Each table's facts, and the budgets its tables share."""
    if config.source.type not in TABLE_SOURCES:
        raise UserError(
            f"{config.origin}: toolkit plan reads a live source table, but source.type is "
            f"{config.source.type}; give a file whose source is a dynamodb or alternator table"
        )
    connecting = _once_per_side(connecting)
    several = config.tables is not None
    configs = (
        [for_table(config, entry) for entry in selected_tables(config, connecting)]
        if several
        else [config]
    )
    # Every table described first: a missing one is the one error, before any verdict.
    described = [_described(table, connecting) for table in configs]
    facts = [
        _facts(table, described, connecting, accept_existing_stream, several)
        for table, described in zip(configs, described, strict=True)
    ]
    return facts, _shared_budgets(config, several)


def _once_per_side(connecting: Connect) -> Connect:
    """One connection a side for every table: the tables share the sections' endpoints."""
    made: dict[str, Connection] = {}

    def connection(side: str, section: Section) -> Connection:
        if side not in made:
            made[side] = connecting(side, section)
        return made[side]

    return connection


def _described(config: MigrationConfig, connecting: Connect) -> Described:
    connection = connecting("source", config.source)
    control, where, name = connection.control(), connection.where, config.source.table
    description = describe_source(control, name, where)
    ttl = ttl_attribute(control, name, where)
    keys = tuple(key.name for key in key_schema(description))
    return Described(description, ttl, keys, (connection, description), "segments", "")


def _facts(
    config: MigrationConfig,
    described: Described,
    connecting: Connect,
    accept_existing_stream: bool,
    several: bool,
) -> TableFacts:
    source, target = config.source, config.target
    connection = connecting("source", source)
    description = described.description
    writing = target_for(config, connecting)
    streaming = target.stream_changes and writing.takes_changes
    renames = list(config.rename_map.items())
    checks: list[Callable[[], object]] = [
        lambda: check_renames(
            renames, described.key_names, described.ttl, source.table, config.origin
        ),
        lambda: refuse_unfit(config, description),
        lambda: writing.check(described),
    ]
    if streaming:
        table = TableSource(config, connecting)
        checks.append(lambda: table.plan_stream(described, NO_STATE, accept_existing_stream))
    return TableFacts(
        source.table,
        target.table,
        int(description.get("ItemCount") or 0),
        int(description.get("TableSizeBytes") or 0),
        None if several and source.read_throughput else read_budget(source, description),
        not target.skip_initial_snapshot_transfer,
        streaming,
        target.type != "dynamodb-s3-export",
        _shards(connection, description),
        _refusals(checks),
        tuple(fit_notes(config, connection, description)),
    )


def _refusals(checks: list[Callable[[], object]]) -> tuple[str, ...]:
    """The one line of each check that refuses the table as configured."""
    found = []
    for check in checks:
        try:
            check()
        except UserError as refusal:
            found.append(str(refusal))
    return tuple(found)


def _shards(connection: Connection, description: dict[str, Any]) -> int | None:
    """How many shards the table's stream lists now; None when it has no stream."""
    enabled = (description.get("StreamSpecification") or {}).get("StreamEnabled")
    arn = description.get("LatestStreamArn")
    if not (enabled and arn):
        return None
    return len(describe_shards(connection.streams(), str(arn), connection.where))


def _shared_budgets(config: MigrationConfig, several: bool) -> Budgets:
    """A run of several tables shares an explicit readThroughput and a writeThroughput
    (a single table has them to itself)."""
    reads = share(config.source.read_throughput, config.source.throughput_read_percent)
    return Budgets(reads if several else None, write_budget(config.target))
