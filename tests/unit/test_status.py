"""`toolkit status`'s figures from a run's notes and tables (pure)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from toolkit.logic.status import Tables, status_of

TABLES = Tables(8, 2, 3000, 4, 0, 0)
STREAM = "arn:aws:dynamodb:us-east-1:1:table/t/stream/1"


def test_the_eta_follows_this_runs_rate_and_the_table_size() -> None:
    notes = {
        "phase": "snapshot",
        "source_items": "13000",
        "snapshot_items": "3000",
        "snapshot_items_before": "1000",  # copied by an earlier run: not this run's rate
        "snapshot_started_at": "100.0",
        "noted_at": "120.0",
        "checkpoint_at": "119.5",
        "stream": STREAM,
    }
    now = status_of(notes, TABLES, live=True, now=121.0)
    assert now.items_per_second == 100.0
    assert now.eta_seconds == 100.0  # 10,000 items left at 100 items/s
    assert now.checkpoint_age_seconds == 1.5
    assert not now.ready(None) and not now.ready(5.0)  # the lag is not known
    assert now.lines()[1] == (
        "snapshot: 3,000 of about 13,000 items, 100 items/s, about 2 min left "
        "(2 of 8 scan segments)"
    )


def test_ready_once_drained_or_below_the_lag_asked_for() -> None:
    replaying = {"phase": "replay", "snapshot": "done", "lag_seconds": "2.5", "stream": STREAM}
    now = status_of(replaying, TABLES, live=True, now=0.0)
    assert now.lag_seconds == 2.5 and not now.ready(None) and not now.done
    assert now.ready(3.0) and not now.ready(2.0)
    drained = status_of({**replaying, "drained_at": "50.0"}, TABLES, live=False, now=60.0)
    assert drained.drained and drained.ready(None) and drained.phase == "drained"
    assert drained.lag_seconds == 0.0


def test_an_export_source_counts_its_data_files_and_their_items() -> None:
    # Killed with 8 of its 16 files loaded: the files finished are in export_files.
    notes = {
        "source exports": "arn:aws:dynamodb:us-east-1:1:table/t/export/1",
        "target table": "orders",
        "phase": "snapshot",
        "segments_total": "16",
        "segments_done": "8",
    }
    killed = status_of(notes, Tables(0, 0, 0, 0, 0, 0, 8, 8000), live=False, now=0.0)
    assert (killed.kind, killed.segments_done, killed.segments_total) == ("export source", 8, 16)
    assert killed.items_copied == 8000 and not killed.ready(None)
    assert killed.lines()[1] == "snapshot: 8,000 items (8 of 16 data files of the export)"
    # Live, the items of the files in progress (noted once a second) count too.
    live = status_of(
        {**notes, "snapshot_items": "8500"}, Tables(0, 0, 0, 0, 0, 0, 8, 8000), True, 0
    )
    assert live.items_copied == 8500


def test_an_export_target_counts_the_segments_written_as_files() -> None:
    notes = {
        "source table": "orders",
        "target export": "s3://backups/orders",
        "scan segments": "24",
        "phase": "snapshot",
    }
    killed = status_of(notes, Tables(0, 0, 0, 0, 0, 0, 18, 1800), live=False, now=0.0)
    assert (killed.segments_done, killed.segments_total, killed.items_copied) == (18, 24, 1800)
    assert killed.lines()[1] == (
        "snapshot: 1,800 items (18 of 24 scan segments, each written as a data file)"
    )
    assert not killed.ready(None) and killed.phase == "snapshot"


@given(
    kind=st.sampled_from(
        [{"scan segments": "4"}, {"source exports": "e"}, {"target export": "s3://b/p"}]
    ),
    live=st.booleans(),
    stale=st.dictionaries(st.sampled_from(["lag_seconds", "drained_at", "quiet"]), st.text()),
)
def test_a_finished_run_with_no_stream_to_follow_is_done(
    kind: dict[str, str], live: bool, stale: dict[str, str]
) -> None:
    notes = {**kind, **stale, "phase": "snapshot", "snapshot": "done"}
    done = status_of(notes, Tables(4, 4, 40, 0, 0, 0, 4, 40), live=live, now=0.0)
    assert done.done and done.phase == "done" and done.ready(None)
    assert done.lines()[2:] == [
        "stream: none followed",
        "last checkpoint: none",
        "replication lag: none (no stream followed)",
    ]
    # With a stream recorded, the same run follows it: ready only once drained.
    following = status_of({**notes, "stream": STREAM}, TABLES, live=live, now=0.0)
    assert not following.done and following.ready(None) == following.drained


def test_a_state_older_than_the_notes_reads_sensibly() -> None:
    # Only what the first versions wrote: the claims, the snapshot's end, the tables.
    old = status_of(
        {"source table": "t", "target table": "t", "scan segments": "4", "snapshot": "done"},
        Tables(4, 4, 1200, 0, 0, 0),
        live=False,
        now=0.0,
    )
    assert (old.kind, old.phase, old.items_copied, old.segments_total) == ("table", "done", 1200, 4)
    assert old.ready(None)
    unknown = status_of({"source exports": "e"}, Tables(0, 0, 0, 0, 0, 0, 3, 30), False, 0.0)
    assert (
        unknown.segments_total is None and "(3 of ? data files of the export)" in unknown.lines()[1]
    )


FIGURES = ["phase", "snapshot", "stream", "lag_seconds", "drained_at", "quiet", "source_items"]
FIGURES += ["snapshot_items", "snapshot_started_at", "noted_at", "checkpoint_at", "scan segments"]
FIGURES += ["segments_total", "source exports", "target export"]


@given(
    notes=st.dictionaries(
        st.sampled_from(FIGURES),
        st.sampled_from(["nan", "inf", "-inf", "1e400", "-1", "0", "", "done", "1"])
        | st.floats().map(str)
        | st.text(),
    ),
    counts=st.lists(st.integers(0, 10**12), min_size=8, max_size=8),
    live=st.booleans(),
    now=st.floats(0, 2e9),
)
def test_any_notes_give_a_status(
    notes: dict[str, str], counts: list[int], live: bool, now: float
) -> None:
    """Whatever a file holds (an old version's, a damaged note): five lines, never a crash,
    and ready exactly when done, drained or, with --max-lag, below the lag."""
    now_ = status_of(notes, Tables(*counts), live=live, now=now)
    assert len(now_.lines()) == 5
    assert now_.ready(None) == (now_.done or now_.drained)
    assert not (now_.done and now_.follows_stream)
