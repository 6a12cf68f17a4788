"""The tables a run of several moves: its list, or the source's tables that match its
pattern and carry its tag, found when the run starts."""

from __future__ import annotations

from fnmatch import fnmatchcase

from toolkit.config import MigrationConfig
from toolkit.config.model import TableEntry, TableSelection
from toolkit.connectors.base import Connect
from toolkit.errors import ServiceError, UserError
from toolkit.wire.connections import Connection, connect
from toolkit.wire.table_list import table_names, table_tags

SHOWN = 10  # names a refusal lists at most


def selected_tables(config: MigrationConfig, connecting: Connect = connect) -> list[TableEntry]:
    """The run's tables, each into the target table of the same name unless listed."""
    selection = config.tables
    assert selection is not None  # a run of several tables
    if selection.listed:
        return list(selection.entries)
    connection = connecting("source", config.source)
    names = sorted(table_names(connection.control(), connection.where))
    found = _found(config, selection, names, connection)
    if not found:
        some = ", ".join(names[:SHOWN]) + (", ..." if len(names) > SHOWN else "")
        raise UserError(
            f"{config.origin}: {selection.describe()} match no table of the {connection.where} "
            f"({len(names)} there{': ' + some if names else ''}); correct tables in the file"
        )
    return [TableEntry(name, name) for name in found]


def _found(
    config: MigrationConfig, selection: TableSelection, names: list[str], connection: Connection
) -> list[str]:
    try:
        return [name for name in names if _matches(selection, name, connection)]
    except ServiceError as error:
        if error.code != "UnknownOperationException":
            raise
        raise UserError(  # DynamoDB Local: "Tagging is not currently supported"
            f"{config.origin}: tables.tag cannot be read: the {connection.where} keeps no tags "
            f"({error.operation} is unknown there); select the tables by pattern or list them"
        ) from None


def _matches(selection: TableSelection, name: str, connection: Connection) -> bool:
    if selection.pattern is not None and not fnmatchcase(name, selection.pattern):
        return False
    if selection.tag is None:
        return True
    key, value = selection.tag
    tags = table_tags(connection.control(), name, connection.where)
    return key in tags and (value is None or tags[key] == value)
