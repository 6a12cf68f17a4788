"""Where verify's endpoints and tables come from: the migrate config file, or flags.

Flags override the file's values; without a file, flags alone must name both
tables. The merged document goes through the same validation as migrate's.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolkit.config import MigrationConfig, parse_config
from toolkit.config.reader import read_yaml
from toolkit.errors import UserError

DEFAULT_CONFIG = Path("config.yaml")


@dataclass(frozen=True)
class SideFlags:
    endpoint: str | None = None  # e.g. http://localhost:8000
    table: str | None = None


@dataclass(frozen=True)
class Flags:
    source: SideFlags = SideFlags()
    target: SideFlags = SideFlags()
    region: str | None = None

    @property
    def name_both_tables(self) -> bool:
        return bool(self.source.table and self.target.table)

    @property
    def name_a_table(self) -> bool:
        return bool(self.source.table or self.target.table)


def load_verify_config(path: Path | None, flags: Flags) -> MigrationConfig:
    """The config file (``path``, else ./config.yaml if there) with the flags on top."""
    file = path or DEFAULT_CONFIG
    if path is None and not file.exists():
        if not flags.name_both_tables:
            raise UserError(
                f"no {file} here: give --config FILE, or --source-table and --target-table "
                "(with --source-endpoint and --target-endpoint for servers other than AWS)"
            )
        return parse_config(overridden({}, flags), origin="the command line")
    data = read_yaml(file)
    if isinstance(data, dict) and data.get("tables") is not None and flags.name_a_table:
        raise UserError(
            f"{file} names several tables (tables:), and --source-table and --target-table "
            "one: leave them out to compare every table of the run"
        )
    config = parse_config(overridden(data, flags), origin=str(file))
    if config.target.s3_export is not None:
        raise UserError(
            f"{file}: target.type is dynamodb-s3-export, and verify compares two tables; load "
            "the export into a table (source.type: dynamodb-s3-export) and verify that one"
        )
    return dataclasses.replace(config, path=file)


def overridden(data: object, flags: Flags) -> object:
    """The YAML document with the flags' values in place of the file's."""
    if not isinstance(data, dict):
        return data  # parse_config explains what is wrong with it
    merged = dict(data)
    for role, side in (("source", flags.source), ("target", flags.target)):
        section = merged.get(role)
        if section is not None and not isinstance(section, dict):
            continue  # left for parse_config to refuse
        merged[role] = _section(dict(section or {}), side, flags.region)
    return merged


def _section(section: dict[str, Any], side: SideFlags, region: str | None) -> dict[str, Any]:
    if side.table:
        section["table"] = side.table
    if side.endpoint:
        section["endpoint"] = {"host": side.endpoint}
    if region:
        section["region"] = region
    return section
