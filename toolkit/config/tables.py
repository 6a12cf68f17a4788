"""The `tables` key: one run that moves several tables of one source to one target.

The source and target sections give what the tables share (endpoints, credentials,
budgets, settings) and name no table; `tables` names them:

    tables:                        # a list: a name, or a mapping with overrides
      - orders
      - {source: users, target: users_v2, scanSegments: 8, renames: [...]}

    tables: {pattern: "shop_*", tag: {key: app, value: shop}}   # resolved at the start

A pattern or a tag is resolved against the source when a run starts; the tables it
found are kept in the state, so a resumed run moves the same ones. A file without
`tables` is the Migrator's single-table file, unchanged.
"""

from __future__ import annotations

import dataclasses

from toolkit.config import limits
from toolkit.config.model import MigrationConfig, TableEntry, TableSelection
from toolkit.config.reader import Node
from toolkit.config.renames import read_renames
from toolkit.config.sections import table_name

KINDS = ("dynamodb", "alternator")  # sides that hold tables by name
ENTRY_KEYS = ("source", "target", "renames", "scanSegments", "skipInitialSnapshotTransfer")
PLACEHOLDER = "tables-of-the-run"  # the shared sections' table, never used


def has_tables(data: dict[object, object]) -> bool:
    return data.get("tables") is not None


def shared_sections(root: Node) -> dict[object, object]:
    """The file with a placeholder table in each side, for the sections' own checks: the
    sections of a run of several tables name none."""
    data = dict(root.data)
    if root.items("skipSegments"):  # one table's savepoint: every table would skip them
        root.fail("skipSegments", "is one table's savepoint", "move that table in a run of its own")
    for side in ("source", "target"):
        fix = f"add a {side} section with the type and endpoint the tables share"
        node = root.needed(side, fix)
        if node.data.get("table") is not None:
            node.fail("table", "is set, but tables names the run's tables", "remove it")
        kind = node.data.get("type", "dynamodb")
        if not isinstance(kind, str) or kind.strip().lower() not in KINDS:
            fix = "move one table a run, without tables"
            root.fail("tables", f"needs {side}.type dynamodb or alternator", fix)
        data[side] = {**node.data, "table": PLACEHOLDER}
    return data


def read_tables(root: Node) -> TableSelection:
    value = root.data.get("tables")
    if isinstance(value, list):
        return _listed(root, value)
    if not isinstance(value, dict):  # before section(), whose words would be "a mapping"
        fix = "e.g. tables: [orders, users] or tables: {pattern: 'shop_*'}"
        root.wrong("tables", value, "a list of tables, or a mapping with pattern and/or tag", fix)
    node = Node(root.origin, "tables", value, root.notes)
    node.only(("pattern", "tag"))
    pattern, tag = node.text("pattern"), node.section("tag")
    if pattern is None and tag is None:
        root.fail("tables", "names no pattern and no tag", "give pattern: 'shop_*' and/or a tag")
    if tag is not None:
        tag.only(("key", "value"))
        for name in ("key", "value"):  # YAML reads `value: 2024` as a number
            given = tag.data.get(name)
            if given is not None and not isinstance(given, str):
                tag.wrong(name, given, "text", f"quote it: {name}: '...'")
        key = tag.text("key") or tag.fail("key", "is missing", "name the tag's key")
        return TableSelection(pattern=pattern, tag=(key, tag.text("value")))
    return TableSelection(pattern=pattern)


def _listed(root: Node, value: list[object]) -> TableSelection:
    if not value:
        root.fail("tables", "is an empty list", "name at least one table")
    entries = [_entry(root, i, item) for i, item in enumerate(value)]
    for side in ("source", "target"):
        seen: dict[str, int] = {}
        for i, entry in enumerate(entries):
            name = getattr(entry, side)
            first = seen.setdefault(name, i)
            if first != i:
                root.fail(
                    f"tables[{i}]",
                    f"{'reads' if side == 'source' else 'writes'} the same {side} table as "
                    f"tables[{first}] ({name!r})",
                    "keep one entry per table",
                )
    return TableSelection(entries=tuple(entries))


def _entry(root: Node, i: int, item: object) -> TableEntry:
    at = f"tables[{i}]"
    if isinstance(item, str):
        node = Node(root.origin, root.path, {at: item}, root.notes)
        name = table_name(node, at)
        return TableEntry(name, name)
    if not isinstance(item, dict):
        root.wrong(at, item, "a table name, or a mapping with source (and target, overrides)")
    node = Node(root.origin, root.at(at), item, root.notes)
    node.only(ENTRY_KEYS)
    source = table_name(node, "source")
    target = table_name(node, "target") if node.data.get("target") is not None else source
    return TableEntry(
        source,
        target,
        read_renames(node) if node.data.get("renames") is not None else None,
        node.integer("scanSegments", limits.SCAN_SEGMENTS),
        _skip(root, node),
    )


def _skip(root: Node, entry: Node) -> bool | None:
    """An entry's skipInitialSnapshotTransfer: a key of this file's own (not the Migrator's),
    so without streamChanges it is refused rather than ignored as the target's is."""
    if entry.data.get("skipInitialSnapshotTransfer") is None:
        return None
    skip = entry.flag("skipInitialSnapshotTransfer", False)
    target = root.data.get("target")
    if skip and not (isinstance(target, dict) and target.get("streamChanges") is True):
        fix = "set target.streamChanges: true, or remove it"
        entry.fail("skipInitialSnapshotTransfer", "copies nothing without streamChanges", fix)
    return skip


def for_table(config: MigrationConfig, entry: TableEntry) -> MigrationConfig:
    """The run's config for one of its tables: the shared sections, the entry's names and
    overrides. A Migrator single-table config of its own, to every layer below."""
    source = dataclasses.replace(
        config.source,
        table=entry.source,
        scan_segments=entry.scan_segments or config.source.scan_segments,
    )
    skip = config.target.skip_initial_snapshot_transfer
    if entry.skip_initial_snapshot_transfer is not None:
        skip = entry.skip_initial_snapshot_transfer and config.target.stream_changes
    target = dataclasses.replace(
        config.target, table=entry.target, skip_initial_snapshot_transfer=skip
    )
    renames = config.renames if entry.renames is None else entry.renames
    return dataclasses.replace(config, source=source, target=target, renames=renames, tables=None)
