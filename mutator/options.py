"""Where the mutator writes: the --config file's source section, or flags.

``source_sections`` is the one place that lists the tables a run writes to.

Checked here, before any connection: each problem is one ``UserError`` line.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from toolkit.config import Endpoint, SourceConfig, load_config
from toolkit.config.access import Credentials
from toolkit.connectors.table.listing import selected_tables
from toolkit.errors import UserError

DEFAULT_CONFIG = Path("config.yaml")
_TABLE_NAME = re.compile(r"[A-Za-z0-9_.-]{3,255}")


def endpoint_from_url(url: str) -> Endpoint:
    bad = UserError(
        f"--endpoint {url!r} is not a server address; write it like http://localhost:8000"
    )
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError:
        raise bad from None
    extra = parts.path.strip("/") or parts.query or parts.fragment or parts.username
    if parts.scheme not in ("http", "https") or not parts.hostname or extra:
        raise bad
    return Endpoint(url.rstrip("/"), None)


def check_table_name(name: str) -> str:
    if not _TABLE_NAME.fullmatch(name):
        raise UserError(
            f"--table {name!r} is not a table name: 3 to 255 letters, digits, '_', '-' or '.'"
        )
    return name


def source_sections(
    config_path: Path | None, endpoint: str | None, tables: Sequence[str], region: str | None
) -> list[SourceConfig]:
    """One source section per table to write to: each --table given (in order), or
    the config's source table. They differ in their table only."""
    seen: set[str] = set()
    for name in tables:
        if name in seen:
            raise UserError(f"--table {name} is given twice; name each table once")
        seen.add(name)
    if not tables and config_path is not None:
        tables = _tables_of_the_run(config_path)
    first = source_section(config_path, endpoint, tables[0] if tables else None, region)
    return [first, *(dataclasses.replace(first, table=check_table_name(t)) for t in tables[1:])]


def _tables_of_the_run(config_path: Path) -> list[str]:
    """A config of several tables: its source tables (a pattern's or tag's, as found now)."""
    config = load_config(config_path)
    return [] if config.tables is None else [e.source for e in selected_tables(config)]


def source_section(
    config_path: Path | None, endpoint: str | None, table: str | None, region: str | None
) -> SourceConfig:
    """The config's source section, with the flags given on top of it.

    Without --config, ./config.yaml is read only when no --endpoint, --table or
    --region is given; with flags alone, credentials come from boto3's default chain.
    """
    flags = endpoint is not None or table is not None or region is not None
    if config_path is None and not flags:
        config_path = DEFAULT_CONFIG
        if not config_path.is_file():
            raise UserError(
                "no config.yaml here: give --config FILE, or --endpoint URL and --table NAME"
            )
    if config_path is not None:
        base = load_config(config_path).source
        if not (table or base.table):  # an S3 export source without its live table
            raise UserError(
                "source.table names no table to write to; set it (with type "
                "dynamodb-s3-export: the live table, and tableEndpoint), or give --table"
            )
        return dataclasses.replace(
            base,
            table=check_table_name(table) if table else base.table,
            region=region or base.region,
            endpoint=endpoint_from_url(endpoint) if endpoint else base.endpoint,
        )
    if table is None:
        raise UserError("--table is missing: name the table to write to (or give --config FILE)")
    return SourceConfig(
        type="dynamodb",
        table=check_table_name(table),
        region=region,
        endpoint=endpoint_from_url(endpoint) if endpoint else None,
        credentials=Credentials(None, None, None, None),
        scan_segments=None,
        read_throughput=None,
        throughput_read_percent=None,
        max_map_tasks=None,
        ca_bundle=None,
    )
