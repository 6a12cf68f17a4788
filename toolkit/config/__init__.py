"""Typed YAML configuration, validated once at the edge.

The file keeps the Scylla Migrator's key names, so a Migrator DynamoDB config
loads unchanged. Everything is checked here, before any connection is made:
each problem is one ``UserError`` line naming the key by its dotted path. Keys
the Migrator accepts but that change nothing here become ``notes`` for the CLI.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from toolkit.config import limits
from toolkit.config.alternator import ALTERNATOR_MAX_BATCH, DYNAMODB_MAX_BATCH, NodeDiscovery
from toolkit.config.endpoint import Endpoint
from toolkit.config.model import MigrationConfig, SourceConfig, TargetConfig
from toolkit.config.reader import Node, read_yaml, show
from toolkit.config.renames import read_renames
from toolkit.config.s3 import check_pair
from toolkit.config.sections import read_source, read_target
from toolkit.config.tables import has_tables, read_tables, shared_sections
from toolkit.config.validation import read_validation
from toolkit.errors import UserError

__all__ = ["ALTERNATOR_MAX_BATCH", "DYNAMODB_MAX_BATCH", "Endpoint", "NodeDiscovery"]
__all__ += ["MigrationConfig", "SourceConfig", "TargetConfig"]
_TOP_KEYS: tuple[str, ...] = ("source", "target", "renames", "savepoints", "validation")
_TOP_KEYS += ("skipSegments", "metricsPort", "tables")
_INERT_TOP = {
    "skipTokenRanges": "it applies to Cassandra sources only",
    "skipParquetFiles": "it applies to Parquet sources only",
}
_SAVEPOINTS = ("path", "intervalSeconds", "enableParquetFileTracking")


def _top_level_extras(root: Node) -> None:
    node = root.section("savepoints")
    if node is not None:
        node.only(_SAVEPOINTS)
        node.integer("intervalSeconds", limits.MIGRATOR_COUNT)
        root.note("savepoints", "the toolkit records progress in its state file (--state)")
    for key, why in _INERT_TOP.items():
        if root.items(key):
            root.note(key, why)


def _skip_segments(root: Node) -> tuple[int, ...]:
    """A Migrator savepoint's finished scan segments: the snapshot does not copy them."""
    segments = root.items("skipSegments")
    names = [f"skipSegments[{i}]" for i in range(len(segments))]  # as the error names one
    entries: dict[object, object] = dict(zip(names, segments, strict=True))
    for name in names:
        Node(root.origin, root.path, entries, root.notes).integer(name, limits.SKIPPED_SEGMENT)
    return tuple(sorted(set(segments)))  # type: ignore[arg-type]


def parse_config(data: object, origin: str = "config") -> MigrationConfig:
    """Validate a parsed YAML document; raise UserError on the first problem."""
    if not isinstance(data, dict):
        fix = "it needs a source and a target section"
        raise UserError(f"{origin}: the top level must be a mapping, got {show(data)}; {fix}")
    root = Node(origin, "", data, [])
    root.only((*_TOP_KEYS, *_INERT_TOP))
    selection = read_tables(root) if has_tables(data) else None
    if selection is not None:  # the sections give what the tables share, and no table
        root = Node(origin, "", shared_sections(root), [])
    source = root.needed("source", "add a source section with type and table")
    target = root.needed("target", "add a target section with type and table")
    config = MigrationConfig(
        read_source(source),
        read_target(target),
        read_renames(root),
        None,
        (),
        read_validation(root.section("validation")),
        _skip_segments(root),
        root.integer("metricsPort", limits.PORT),
    )
    check_pair(root, config.source, config.target)
    _top_level_extras(root)
    return dataclasses.replace(config, notes=tuple(root.notes), tables=selection)


def load_config(path: Path) -> MigrationConfig:
    """Read, parse and validate one config file; every failure is one UserError line."""
    config = parse_config(read_yaml(path), origin=str(path))
    return dataclasses.replace(config, path=path)
