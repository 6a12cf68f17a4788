"""`toolkit status` of a run of several tables: the verdict over them, the rows, the total
(pure)."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.test_status import FIGURES, STREAM
from toolkit.logic.status import Tables, status_of
from toolkit.logic.status_tables import RunOfTables, TableStatus, table_pairs

COUNTS = Tables(4, 1, 100, 2, 0, 0)
REPLAYING = {"phase": "replay", "snapshot": "done", "stream": STREAM}


def table(name: str, notes: dict[str, str], failed: str = "", live: bool = False) -> TableStatus:
    return TableStatus(name, name, status_of(notes, COUNTS, live and not failed, 0.0), failed)


NOTES = st.dictionaries(
    st.sampled_from(FIGURES),
    st.sampled_from(["done", "1", "0", "2.5", "50.0", "snapshot", "replay", STREAM, ""]),
)
TABLE = st.builds(
    table,
    name=st.sampled_from(["orders", "users", "carts"]),
    notes=NOTES,
    failed=st.sampled_from(["", "the target orders has another key schema"]),
    live=st.booleans(),
)
MAX_LAG = st.none() | st.floats(0.1, 100)


@given(tables=st.lists(TABLE, max_size=6), live=st.booleans(), max_lag=MAX_LAG)
def test_the_run_is_ready_only_when_every_table_is(
    tables: list[TableStatus], live: bool, max_lag: float | None
) -> None:
    run = RunOfTables(live, tuple(tables))
    expected = bool(tables) and all(
        not t.failed and t.status.ready(max_lag) for t in tables
    )  # a run that lists no table has moved nothing
    assert run.ready(max_lag) == expected
    total = run.total(max_lag)
    assert total.ready_tables == sum(t.ready(max_lag) for t in tables)
    assert sum(total.phases.values()) == len(tables)
    # A summary line, a header, a line per table, the total: one line each.
    assert len(run.lines(max_lag)) == len(tables) + 3
    assert [t["ready"] for t in run.as_json(max_lag)["tables"]] == [
        t.ready(max_lag) for t in tables
    ]


@given(notes=NOTES, live=st.booleans(), max_lag=MAX_LAG, why=st.text(min_size=1))
def test_a_failed_table_is_never_ready(
    notes: dict[str, str], live: bool, max_lag: float | None, why: str
) -> None:
    failed = table("orders", notes, failed=why, live=live)
    assert not failed.ready(max_lag) and failed.phase == "failed"
    drained = table("users", {**REPLAYING, "drained_at": "50.0"})
    run = RunOfTables(live, (drained, failed))
    assert drained.ready(max_lag) and not run.ready(max_lag)
    assert run.as_json(max_lag)["tables"][1]["failed"] == why


def copying(items: int, of: int, seconds: float) -> dict[str, str]:
    """The notes of a live snapshot that copied ``items`` of ``of`` in ``seconds``."""
    return {
        "phase": "snapshot",
        "source_items": str(of),
        "snapshot_items": str(items),
        "snapshot_started_at": "0",
        "noted_at": str(seconds),
    }


def test_the_rows_say_each_tables_phase_and_a_failed_one_says_why() -> None:
    orders = status_of({**copying(100, 1000, 10.0), "stream": STREAM}, COUNTS, True, 11.0)
    run = RunOfTables(
        True,
        (
            TableStatus("orders", "orders_v2", orders),
            table("users", {**REPLAYING, "lag_seconds": "2.5"}, live=True),
            table("carts", {"phase": "snapshot"}, failed="the target carts has another key"),
            table("logs", {"snapshot": "done"}),  # no stream followed: done
        ),
    )
    assert run.lines(None) == [
        "4 tables (running): 1 failed, 1 copying snapshot, 1 replaying, 1 done; "
        "1 of 4 ready for the cut-over",
        "table                phase             snapshot                                    "
        "records applied  lag",
        "orders -> orders_v2  copying snapshot  100 of about 1,000 items, about 2 min left  "
        "0                unknown",
        "users                replaying         done, 100 items                             "
        "0                2.5 s",
        "carts                failed            100 items                                   "
        "-                -  why: the target carts has another key",
        "logs                 done              done, 100 items                             "
        "-                -",
        # No estimate of carts and logs; the ETA is orders' (carts failed: it copies nothing).
        "total: 400 items copied, about 2 min left; 0 records applied, largest lag unknown",
    ]
    assert not run.ready(None)


def test_the_total_eta_is_the_items_left_at_the_rates_together() -> None:
    def table_copying(items: int, of: int, seconds: float) -> TableStatus:
        notes = copying(items, of, seconds)
        return TableStatus("t", "t", status_of(notes, Tables(1, 0, 0, 0, 0, 0), True, 0.0))

    # 900 + 1,000 items left at 100 + 50 items/s: the copying tables share the budgets.
    run = RunOfTables(True, (table_copying(100, 1000, 1.0), table_copying(50, 1050, 1.0)))
    total = run.total(None)
    assert total.items_estimate == 2050 and total.items_copied == 150
    assert total.eta_seconds == pytest.approx(1900 / 150)
    assert total.lag_seconds is None and not total.follows_stream
    assert run.lines(None)[-1] == (
        "total: 150 of about 2,050 items copied, about 13 s left; no stream followed"
    )


def test_the_largest_lag_leaves_out_the_failed_tables() -> None:
    lagging = {**REPLAYING, "lag_seconds": "4.0"}
    run = RunOfTables(
        True,
        (
            table("a", {**REPLAYING, "lag_seconds": "1.5"}, live=True),
            table("b", lagging, live=True),
            table("c", {**REPLAYING, "lag_seconds": "99"}, failed="stopped"),
        ),
    )
    assert run.total(None).lag_seconds == 4.0
    assert run.ready(5.0) is False  # c failed
    assert RunOfTables(True, run.tables[:2]).ready(5.0)
    assert not RunOfTables(True, run.tables[:2]).ready(3.0)


def test_the_list_of_tables_is_read_as_the_run_wrote_it() -> None:
    listed = [["orders", "orders"], ["users", "users_v2"]]
    assert table_pairs(orjson.dumps(listed).decode()) == [
        ("orders", "orders"),
        ("users", "users_v2"),
    ]


@pytest.mark.parametrize(
    "text", ["", "{", "[]", '{"orders": "orders"}', '[["orders"]]', '[["a", 1]]', '["a"]']
)
def test_a_damaged_list_of_tables_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError, match="list of tables"):
        table_pairs(text)
