"""Sources and targets of a migration: one folder per kind, the same seam for each.

A kind is data here (its config ``type`` and the classes that serve it), so the
orchestration never asks which kind it runs: a new kind is a new folder and a row.
"""

from __future__ import annotations

from collections.abc import Callable

from toolkit.config import MigrationConfig
from toolkit.connectors.base import Connect, Source, Target
from toolkit.connectors.s3_export.source import ExportSource
from toolkit.connectors.s3_export.target import ExportTargetSide
from toolkit.connectors.table.source import TableSource
from toolkit.connectors.table.target import TableTarget
from toolkit.wire.connections import connect

SOURCES: dict[str, Callable[[MigrationConfig, Connect], Source]] = {
    "dynamodb": TableSource,
    "alternator": TableSource,
    "dynamodb-s3-export": ExportSource,
}
TARGETS: dict[str, Callable[[MigrationConfig, Connect, Callable[[int], None] | None], Target]] = {
    "dynamodb": TableTarget,
    "alternator": TableTarget,
    "dynamodb-s3-export": ExportTargetSide,
}


def source_for(config: MigrationConfig, connecting: Connect = connect) -> Source:
    return SOURCES[config.source.type](config, connecting)


def target_for(
    config: MigrationConfig,
    connecting: Connect = connect,
    write_failed: Callable[[int], None] | None = None,
) -> Target:
    return TARGETS[config.target.type](config, connecting, write_failed)
