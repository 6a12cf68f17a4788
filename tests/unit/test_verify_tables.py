"""A verify of several tables without servers: its tables (the state's, else the config's),
its shares of the run's workers, its verdict, and a table that cannot be compared."""

from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from tests.tables import section, write_config
from toolkit.config import MigrationConfig
from toolkit.config.model import TableEntry
from toolkit.config.tables import for_table
from toolkit.errors import UserError
from toolkit.wire.connections import connect
from toolkit.wire.throughput import CapacityBudget
from toolkit.work.state import RunState
from verify import tables as tables_module
from verify.report import ReportFile
from verify.run_tables import recorded_tables, tables_to_verify
from verify.session import Shared, VerifyOptions
from verify.settings import Flags, load_verify_config
from verify.tables import AT_ONCE, Compared, TablesRun, tables_at_once, verdict


def _shared(endpoint: str) -> dict[str, Any]:
    return {k: v for k, v in section(endpoint, "unused").items() if k != "table"}


def _config(folder: Path, tables: object) -> MigrationConfig:
    path = write_config(
        folder / "run.yaml",
        _shared("http://127.0.0.1:1"),
        _shared("http://127.0.0.1:2"),
        tables=tables,
    )
    return load_verify_config(path, Flags())


def _record(path: Path, value: str) -> None:
    state = RunState(path)
    state.put("tables", value)
    state.close()


@given(st.integers(1, 500), st.integers(1, 256), st.booleans())
def test_tables_at_once_share_the_workers_and_never_exceed_them(
    tables: int, workers: int, in_process: bool
) -> None:
    at_once = tables_at_once(tables, workers, in_process)

    assert 1 <= at_once <= min(tables, AT_ONCE)
    assert at_once * max(1, workers // at_once) <= max(workers, 1)
    if not in_process:
        assert at_once == 1  # a Spark cluster spreads one table already


def test_the_verdict_names_the_tables_that_differ() -> None:
    same, renamed = TableEntry("a", "a"), TableEntry("b", "b_v2")

    assert verdict([Compared(same, True), Compared(renamed, True)]) == "2 tables identical"
    assert verdict([Compared(same, True)]) == "1 table identical"
    assert verdict([Compared(same, False), Compared(renamed, False), Compared(same, True)]) == (
        "2 of 3 tables differ: a, b → b_v2"
    )


def test_the_state_recorded_tables_come_with_the_config_overrides(tmp_path: Path) -> None:
    config = _config(
        tmp_path, ["aaa", {"source": "bbb", "target": "bbb_v2", "scanSegments": 5}, "ccc"]
    )
    _record(
        tmp_path / "run.state.sqlite", orjson.dumps([["ccc", "ccc"], ["bbb", "bbb_v2"]]).decode()
    )

    entries = tables_to_verify(config, None)

    assert entries == [TableEntry("ccc", "ccc"), TableEntry("bbb", "bbb_v2", scan_segments=5)]


def test_without_a_state_the_config_list_is_compared(tmp_path: Path) -> None:
    config = _config(tmp_path, ["aaa", {"source": "bbb", "target": "bbb_v2"}])

    assert tables_to_verify(config, None) == [TableEntry("aaa", "aaa"), TableEntry("bbb", "bbb_v2")]


def test_a_state_that_recorded_no_tables_falls_back_to_the_config(tmp_path: Path) -> None:
    """A run of one table, or one stopped before it found its tables, recorded none."""
    config = _config(tmp_path, ["aaa"])
    state = RunState(tmp_path / "run.state.sqlite")
    state.put("stream", "arn:of:a:stream")
    state.close()

    assert recorded_tables(tmp_path / "run.state.sqlite") is None
    assert tables_to_verify(config, None) == [TableEntry("aaa", "aaa")]


@pytest.mark.parametrize("value", ["not json", '{"a": 1}', '[["a"]]', "[[1, 2]]"])
def test_tables_recorded_in_another_form_are_one_line(tmp_path: Path, value: str) -> None:
    path = tmp_path / "run.sqlite"
    _record(path, value)

    with pytest.raises(UserError, match="not a list of \\[source, target\\] pairs"):
        recorded_tables(path)


def test_a_file_that_is_no_state_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "run.sqlite"
    path.write_bytes(b"plain text, not SQLite" * 100)

    with pytest.raises(UserError, match="is it a run's state"):
        recorded_tables(path)


def test_a_table_that_fails_is_named_after_the_ones_compared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _config(tmp_path, ["aaa", "bbb", "ccc"])

    def compare(table: MigrationConfig, *_: Any, **__: Any) -> Any:
        if table.source.table == "bbb":
            raise UserError("source table bbb does not exist on the source")
        return SimpleNamespace(identical=table.source.table == "aaa")

    monkeypatch.setattr(tables_module, "run_verify", compare)
    screen = io.StringIO()
    run = TablesRun(
        VerifyOptions(),
        ReportFile(None),
        Console(file=screen, width=200),
        lambda name: SimpleNamespace(),
        Shared(
            connect("source", config.source), connect("target", config.target), CapacityBudget(None)
        ),
    )
    for name in ("aaa", "bbb", "ccc"):
        entry = TableEntry(name, name)
        run.compare(entry, for_table(config, entry))

    assert str(run.failure) == "table bbb: source table bbb does not exist on the source"
    assert isinstance(run.failure, UserError)
    assert (
        "table bbb could not be compared; compared before it: aaa (identical)" in screen.getvalue()
    )
    assert [done.entry.source for done in run.compared] == ["aaa"]  # ccc was not started
