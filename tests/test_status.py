"""`toolkit status`'s figures from a run's notes and tables (pure)."""

from __future__ import annotations

from toolkit.logic.status import Tables, status_of

TABLES = Tables(8, 2, 3000, 4, 0, 0)


def test_the_eta_follows_this_runs_rate_and_the_table_size() -> None:
    notes = {
        "phase": "snapshot",
        "source_items": "13000",
        "snapshot_items": "3000",
        "snapshot_items_before": "1000",  # copied by an earlier run: not this run's rate
        "snapshot_started_at": "100.0",
        "noted_at": "120.0",
        "checkpoint_at": "119.5",
    }
    now = status_of(notes, TABLES, live=True, now=121.0)
    assert now.items_per_second == 100.0
    assert now.eta_seconds == 100.0  # 10,000 items left at 100 items/s
    assert now.checkpoint_age_seconds == 1.5
    assert not now.ready(None) and not now.ready(5.0)  # the lag is not known
    assert "3,000 of about 13,000 items, 100 items/s, about 2 min left" in now.lines()[1]


def test_ready_once_drained_or_below_the_lag_asked_for() -> None:
    replaying = {"phase": "replay", "snapshot": "done", "lag_seconds": "2.5"}
    now = status_of(replaying, TABLES, live=True, now=0.0)
    assert now.lag_seconds == 2.5 and not now.ready(None)
    assert now.ready(3.0) and not now.ready(2.0)
    drained = status_of({**replaying, "drained_at": "50.0"}, TABLES, live=False, now=60.0)
    assert drained.drained and drained.ready(None) and drained.phase == "drained"
    assert drained.lag_seconds == 0.0
