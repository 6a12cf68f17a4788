"""What both tables look like, from the control plane, checked before any item is read.

A missing table, an endpoint that does not answer or keys that do not match
are one ``ToolkitError`` line each, raised before the comparison starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from toolkit.config import MigrationConfig
from toolkit.errors import UserError
from toolkit.logic.sizing import segments_for
from toolkit.logic.table_identity import COMPARED_WITH_ITSELF, refuse_same_table
from toolkit.logic.table_schema import check_renames, key_schema, renamed_key_schema, show
from toolkit.wire.connections import Connection
from toolkit.wire.schema import describe, describe_source, ttl_attribute
from toolkit.wire.service_errors import translated


@dataclass(frozen=True)
class Layout:
    source_table: str
    target_table: str
    source_keys: tuple[str, ...]  # key attribute names under the source's names
    target_keys: tuple[str, ...]  # the same under the target's (renamed) names
    renames: Mapping[str, str]
    source_ttl: str | None  # the source's TTL attribute, when TTL is enabled
    source_size: int  # TableSizeBytes, as the source reports it (may lag)

    @property
    def target_ttl(self) -> str | None:
        return (
            None if self.source_ttl is None else self.renames.get(self.source_ttl, self.source_ttl)
        )

    def target_key_of(self, source_item: Mapping[str, Any]) -> dict[str, Any]:
        """The target's key for a source item, values untouched."""
        return {self.renames.get(name, name): source_item[name] for name in self.source_keys}

    @cached_property
    def _source_names(self) -> dict[str, str]:
        return {new: old for old, new in self.renames.items()}

    def source_key_of(self, target_key: Mapping[str, Any]) -> dict[str, Any]:
        """A key under the target's names, back under the source's."""
        names = self._source_names
        return {names.get(name, name): value for name, value in target_key.items()}

    def default_segments(self) -> int:
        return segments_for(self.source_size)  # as migrate: one per 128 MB, within the cap


def read_layout(config: MigrationConfig, source: Connection, target: Connection) -> Layout:
    renames = config.rename_map
    with translated("DescribeTable", source.where):
        source_control, target_control = source.control(), target.control()
    described = describe_source(source_control, config.source.table, source.where)
    target_described = describe(target_control, config.target.table, target.where)
    if target_described is None:
        raise UserError(
            f"target table {config.target.table} does not exist on {target.where}; "
            "check target.table (or --target-table), or run `toolkit migrate` first"
        )
    refuse_same_table(
        described, target_described, (source.where, target.where), COMPARED_WITH_ITSELF
    )
    keys = key_schema(described)
    wanted, found = renamed_key_schema(keys, renames), key_schema(target_described)
    if found != wanted:
        raise UserError(
            f"target table {config.target.table} has key schema [{show(found)}] but the "
            f"source's, renamed, is [{show(wanted)}]; these tables cannot hold the same items"
        )
    ttl = ttl_attribute(source_control, config.source.table, source.where)
    names = [k.name for k in keys]
    check_renames(list(config.rename_map.items()), names, ttl, config.source.table, config.origin)
    return Layout(
        source_table=config.source.table,
        target_table=config.target.table,
        source_keys=tuple(k.name for k in keys),
        target_keys=tuple(k.name for k in wanted),
        renames=renames,
        source_ttl=ttl,
        source_size=int(described.get("TableSizeBytes") or 0),
    )
