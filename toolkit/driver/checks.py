"""The checks `toolkit migrate` makes before its state file exists.

They only read (both tables' descriptions, the source's TTL, the target's tablets
setting), so a refusal leaves every table and file as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from toolkit.config import MigrationConfig
from toolkit.driver.source_fit import check_source_fits
from toolkit.errors import UserError
from toolkit.logic.sizing import default_segments
from toolkit.logic.table_identity import refuse_same_table
from toolkit.logic.table_schema import check_renames, key_schema
from toolkit.logic.tablets import TabletsChoice
from toolkit.wire.connections import Connection
from toolkit.wire.schema import (
    check_target_keys,
    describe,
    describe_source,
    plan_tablets,
    ttl_attribute,
)

_Described = tuple[Connection, dict[str, Any]]  # a side's connection and its table


@dataclass(frozen=True)
class Checked:
    """What the checks learnt that the run goes on with."""

    description: dict[str, Any]  # the source table's
    ttl: str | None  # the source's TTL attribute
    segments: int  # the snapshot's scan segments
    tablets: TabletsChoice | None  # an Alternator target's, from check_target


def check_sides(config: MigrationConfig, source: Connection, target: Connection) -> Checked:
    """Reach both sides and refuse what cannot work, before anything is written."""
    description = describe_source(source.control(), config.source.table, source.where)
    ttl = ttl_attribute(source.control(), config.source.table, source.where)
    keys = [k.name for k in key_schema(description)]
    check_renames(list(config.rename_map.items()), keys, ttl, config.source.table, config.origin)
    segments = config.source.scan_segments or default_segments(description)
    check_skipped(config, segments)
    tablets = check_target(target, config, description, (source, description))
    check_source_fits(config, source, description)
    return Checked(description, ttl, segments, tablets)


def check_target(
    target: Connection, config: MigrationConfig, wanted: dict[str, Any], source: _Described | None
) -> TabletsChoice | None:
    """Before the state file is created: reach the target (its endpoint, TLS and
    credentials), check an existing target table's keys against ``wanted``'s, refuse
    a target that is the ``source`` table itself, and on Alternator decide whether
    the table can have a stream (the way back)."""
    existing = describe(target.control(), config.target.table, target.where)
    if existing is not None:
        if source is not None:
            refuse_same_table(source[1], existing, (source[0].where, target.where))
        check_target_keys(wanted, existing, config.rename_map)
    if config.target.type != "alternator":
        return None
    return plan_tablets(
        *(target.control(), config.target.table, config.target.tablets),
        *(existing is not None, target.where),
    )


def check_skipped(config: MigrationConfig, segments: int) -> None:
    beyond = [segment for segment in config.skip_segments if segment >= segments]
    if beyond:
        raise UserError(
            f"{config.origin}: skipSegments lists segment {beyond[0]}, but the scan has "
            f"{segments} segments (0 to {segments - 1}); give the scanSegments of the run "
            "that skipSegments comes from"
        )
