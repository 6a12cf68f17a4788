"""The `tables` key: one file names several tables, each refusal is one line."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.test_config import POST, error, write
from tests.unit.test_config_properties import configs
from toolkit.config import load_config, parse_config
from toolkit.config.model import Rename, TableEntry, TableSelection
from toolkit.config.tables import for_table

SIDE = {"type": "dynamodb", "region": "us-east-1", "endpoint": {"host": "http://h", "port": 8000}}
RENAME = [{"from": "old", "to": "new"}]


def several(tables: object, **top: Any) -> dict[str, Any]:
    """A file whose sections name no table: what the tables share."""
    return {
        "source": dict(SIDE),
        "target": {**SIDE, "streamChanges": True},
        "tables": tables,
        **top,
    }


def test_a_list_names_each_table_and_its_target() -> None:
    entry = {"source": "users", "target": "users_v2", "scanSegments": 8, "renames": RENAME}
    config = parse_config(several(["orders", {**entry, "skipInitialSnapshotTransfer": True}]))
    assert config.tables == TableSelection(
        entries=(
            TableEntry("orders", "orders"),
            TableEntry("users", "users_v2", (Rename("old", "new"),), 8, True),
        )
    )
    assert config.tables.listed
    assert config.tables.describe() == "tables orders, users -> users_v2"


def test_for_table_applies_the_entrys_overrides_over_the_shared_sections() -> None:
    shared = several(
        ["orders", {"source": "users", "target": "users_v2", "scanSegments": 8}],
        renames=[{"from": "a_top", "to": "b_top"}],
    )
    shared["source"]["scanSegments"] = 4
    config = parse_config(shared)
    assert config.tables is not None
    orders, users = (for_table(config, entry) for entry in config.tables.entries)
    assert (orders.source.table, orders.target.table) == ("orders", "orders")
    assert (users.source.table, users.target.table) == ("users", "users_v2")
    assert (orders.source.scan_segments, users.source.scan_segments) == (4, 8)
    assert orders.renames == users.renames == (Rename("a_top", "b_top"),)
    assert orders.tables is None and users.tables is None  # each a single-table config


def test_an_entrys_renames_replace_the_shared_ones_even_when_empty() -> None:
    tables = [
        "orders",
        {"source": "users", "renames": RENAME},
        {"source": "carts", "renames": []},
    ]
    config = parse_config(several(tables, renames=[{"from": "a_top", "to": "b_top"}]))
    assert config.tables is not None
    renames = [for_table(config, entry).renames for entry in config.tables.entries]
    assert renames == [(Rename("a_top", "b_top"),), (Rename("old", "new"),), ()]


def skips(data: dict[str, Any]) -> list[bool]:
    config = parse_config(data)
    assert config.tables is not None
    return [
        for_table(config, e).target.skip_initial_snapshot_transfer for e in config.tables.entries
    ]


def test_skip_initial_snapshot_transfer_per_table() -> None:
    assert skips(several(["orders", {"source": "users", "skipInitialSnapshotTransfer": True}])) == [
        False,
        True,
    ]
    data = several(["orders", {"source": "users", "skipInitialSnapshotTransfer": False}])
    data["target"]["skipInitialSnapshotTransfer"] = True  # every table's, but one
    assert skips(data) == [True, False]


@pytest.mark.parametrize(
    ("tables", "selection", "said"),
    [
        ({"pattern": "shop_*"}, TableSelection(pattern="shop_*"), "tables with pattern 'shop_*'"),
        ({"tag": {"key": "app"}}, TableSelection(tag=("app", None)), "tables with tag app"),
        (
            {"pattern": "shop_*", "tag": {"key": "app", "value": "shop"}},
            TableSelection(pattern="shop_*", tag=("app", "shop")),
            "tables with pattern 'shop_*' and tag app=shop",
        ),
    ],
)
def test_a_pattern_and_or_a_tag(tables: object, selection: TableSelection, said: str) -> None:
    config = parse_config(several(tables))
    assert config.tables == selection
    assert not selection.listed and selection.describe() == said
    assert config.source.endpoint is not None  # the shared sections are read as ever


def test_a_file_with_tables_loads(tmp_path: Path) -> None:
    text = POST.replace("  table: migration_test\n", "").replace("  table: mutator_table\n", "")
    text += "tables:\n  - orders\n  - {source: users, target: users_v2, scanSegments: 8}\n"
    config = load_config(write(tmp_path, text))
    assert config.tables is not None and config.path == tmp_path / "config.yaml"
    users = for_table(config, config.tables.entries[1])
    assert (users.source.table, users.target.table, users.source.scan_segments) == (
        "users",
        "users_v2",
        8,
    )
    assert users.target.endpoint == config.target.endpoint and users.target.stream_changes


def test_a_single_table_file_parses_as_before(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, POST))
    assert config.tables is None
    assert (config.source.table, config.target.table) == ("migration_test", "mutator_table")
    without = copy.deepcopy(several(None))
    without["source"]["table"], without["target"]["table"] = "orders", "orders_v2"
    assert parse_config(without) == parse_config(
        {k: v for k, v in without.items() if k != "tables"}
    )


REFUSED = [
    (several([]), "tables is an empty list; name at least one table"),
    (several([3]), "tables[0] must be a table name, or a mapping with source"),
    (several(["orders", ["users"]]), "tables[1] must be a table name, or a mapping with source"),
    (
        several([{"source": "users", "scanSegment": 8}]),
        "unknown key tables[0].scanSegment; did you mean scanSegments?",
    ),
    (several([{"target": "users"}]), "tables[0].source is missing; name the table"),
    (several(["orders", "a b"]), "tables[1] must be a table name of 3 to 255 letters"),
    (
        several([{"source": "users", "target": "u"}]),
        "tables[0].target must be a table name of 3 to 255",
    ),
    (
        several(["orders", {"source": "orders", "target": "orders_v2"}]),
        "tables[1] reads the same source table as tables[0] ('orders'); keep one entry per table",
    ),
    (
        several(["orders", {"source": "users", "target": "orders"}]),
        "tables[1] writes the same target table as tables[0] ('orders'); keep one entry per table",
    ),
    (
        several([{"source": "users", "scanSegments": 0}]),
        "tables[0].scanSegments must be an integer from 1 to 10000, got 0",
    ),
    (
        several([{"source": "users", "scanSegments": 10**6}]),
        "tables[0].scanSegments must be an integer from 1 to 10000",
    ),
    (
        several([{"source": "users", "skipInitialSnapshotTransfer": "yes"}]),
        "tables[0].skipInitialSnapshotTransfer must be true or false",
    ),
    (
        several([{"source": "users", "renames": [{"from": "a"}]}]),
        "tables[0].renames[0].to is missing; give both from and to",
    ),
    (
        several([{"source": "users", "renames": RENAME * 2}]),
        "tables[0].renames[1].from repeats tables[0].renames[0].from ('old')",
    ),
    (several({}), "tables names no pattern and no tag; give pattern: 'shop_*' and/or a tag"),
    (several({"pattern": None, "tag": None}), "tables names no pattern and no tag"),
    (
        several("orders"),
        "tables must be a list of tables, or a mapping with pattern and/or tag, got 'orders' "
        "(text); e.g. tables: [orders, users]",
    ),
    (several({"patern": "shop_*"}), "unknown key tables.patern; did you mean pattern?"),
    (
        several({"tag": {"key": "app", "vale": "shop"}}),
        "unknown key tables.tag.vale; did you mean value?",
    ),
    (several({"tag": {"value": "shop"}}), "tables.tag.key is missing; name the tag's key"),
    (
        several({"tag": {"key": "year", "value": 2024}}),
        "tables.tag.value must be text, got 2024 (an integer); quote it",
    ),
    (several({"pattern": 5}), "tables.pattern must be text, got 5"),
    (
        several(["orders"], skipSegments=[1]),
        "skipSegments is one table's savepoint; move that table in a run of its own",
    ),
]


@pytest.mark.parametrize(("data", "expected"), REFUSED)
def test_each_mistake_is_one_line_naming_the_key(data: dict[str, Any], expected: str) -> None:
    assert error(data).startswith(f"config: {expected}")


def test_the_sections_name_no_table_and_hold_tables_only() -> None:
    for side in ("source", "target"):
        data = several(["orders"])
        data[side]["table"] = "orders"
        assert error(data) == (
            f"config: {side}.table is set, but tables names the run's tables; remove it"
        )
        data = several(["orders"])
        data[side] = {"type": "dynamodb-s3-export"}
        assert error(data).startswith(
            f"config: tables needs {side}.type dynamodb or alternator; move one table a run"
        )


def test_skipping_the_snapshot_of_a_table_needs_stream_changes() -> None:
    data = several([{"source": "users", "skipInitialSnapshotTransfer": True}])
    data["target"]["streamChanges"] = False
    assert error(data) == (
        "config: tables[0].skipInitialSnapshotTransfer copies nothing without streamChanges; "
        "set target.streamChanges: true, or remove it"
    )


names = st.from_regex(r"[A-Za-z0-9_.-]{3,20}", fullmatch=True)


@st.composite
def entries(draw: st.DrawFn, stream: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {"source": draw(names)}
    optional = {"target": names, "scanSegments": st.integers(1, 10_000)}
    optional["renames"] = st.lists(
        st.tuples(names, names), max_size=3, unique_by=(lambda p: p[0], lambda p: p[1])
    ).map(lambda pairs: [{"from": a, "to": b} for a, b in pairs])
    if stream:  # without streamChanges, an entry's skip is refused
        optional["skipInitialSnapshotTransfer"] = st.booleans()
    for key, values in optional.items():
        if draw(st.booleans()):
            entry[key] = draw(values)
    return entry


@given(st.data())
def test_for_table_keeps_every_shared_setting_and_takes_the_entrys_names(
    data: st.DataObject,
) -> None:
    single = data.draw(configs())
    entry = data.draw(entries(bool(single["target"]["streamChanges"])))
    shared = copy.deepcopy(single)
    del shared["source"]["table"], shared["target"]["table"]
    config = parse_config({**shared, "tables": [entry]})
    assert config.tables is not None
    # The same table in a file of its own: the entry's keys where a single file has them.
    single["source"]["table"] = entry["source"]
    single["target"]["table"] = entry.get("target", entry["source"])
    if "scanSegments" in entry:
        single["source"]["scanSegments"] = entry["scanSegments"]
    if "skipInitialSnapshotTransfer" in entry:
        single["target"]["skipInitialSnapshotTransfer"] = entry["skipInitialSnapshotTransfer"]
    single["renames"] = entry.get("renames", single["renames"])
    assert for_table(config, config.tables.entries[0]) == parse_config(single)


@given(st.lists(names, min_size=2, max_size=6), st.data())
def test_a_table_listed_twice_is_refused_at_its_second_entry(
    listed: list[str], data: st.DataObject
) -> None:
    first = data.draw(st.integers(0, len(listed) - 1))
    again = data.draw(st.integers(first + 1, len(listed)))
    tables = [*listed[:again], listed[first], *listed[again:]]
    seen = [tables.index(name) for name in tables]
    dup = next(i for i, at in enumerate(seen) if at != i)
    assert error(several(tables)) == (
        f"config: tables[{dup}] reads the same source table as tables[{seen[dup]}] "
        f"({tables[dup]!r}); keep one entry per table"
    )


def test_the_readmes_examples_parse() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    part = readme.split("## Several tables in one run")[1].split("\n## ")[0]
    blocks = [block.split("```")[0] for block in part.split("```yaml\n")[1:]]
    assert len(blocks) == 2
    listed, matched = (yaml.safe_load(block)["tables"] for block in blocks)
    config = parse_config(several(listed))
    assert config.tables is not None
    assert [(e.source, e.target) for e in config.tables.entries] == [
        ("orders", "orders"),
        ("users", "users_v2"),
    ]
    assert parse_config(several(matched)).tables == TableSelection(
        pattern="shop_*", tag=("app", "shop")
    )
