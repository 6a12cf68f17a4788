"""The state's segment rows: added in short statements, so a signal is handled mid-way.

One SQLite statement is one C call, during which Python runs no signal handler: a
run whose segments were all added by one call ignored SIGTERM until it returned
(issue 23, point 3). The handler below counts the rows the state holds when it
runs; the signal is sent once the first rows are there.
"""

from __future__ import annotations

import signal
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.work.state import RunState

SEGMENTS = 200_000


def rows(path: Path) -> int:
    with closing(sqlite3.connect(path)) as db:
        return int(db.execute("SELECT count(*) FROM segments").fetchone()[0])


@contextmanager
def counted_when_handled(path: Path, seen: list[int]) -> Iterator[None]:
    """SIGUSR1's handler notes how many rows the state holds; the old one comes back after."""
    previous = signal.signal(signal.SIGUSR1, lambda *_: seen.append(rows(path)))
    try:
        yield
    finally:
        signal.signal(signal.SIGUSR1, previous)


def signal_once_rows_appear(path: Path, done: threading.Event) -> threading.Thread:
    def watch() -> None:
        while not done.is_set():
            if path.exists() and rows(path) > 0:
                signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGUSR1)
                return

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_a_signal_is_handled_while_the_segment_rows_are_added(tmp_path: Path) -> None:
    path = tmp_path / "run.sqlite"
    state = RunState(path)
    seen: list[int] = []
    done = threading.Event()
    with counted_when_handled(path, seen):
        watcher = signal_once_rows_appear(path, done)
        progress = state.segments(SEGMENTS)
        done.set()
        watcher.join()
    state.close()
    assert len(progress) == SEGMENTS
    assert len(seen) == 1 and 0 < seen[0] < SEGMENTS  # handled before the last row


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 30_000), min_size=1, max_size=4))
def test_segments_are_each_segment_once_whatever_the_totals_asked_before(
    totals: list[int],
) -> None:
    with _state() as state:
        for total in totals:
            progress = state.segments(total)
            assert [p.segment for p in progress] == list(range(total))
        assert rows(state.path) == max(totals)


def test_a_segment_keeps_its_progress_when_the_rows_are_added_again(tmp_path: Path) -> None:
    state = RunState(tmp_path / "run.sqlite")
    state.segments(20_001)
    state.checkpoint(20_000, {"id": {"S": "k"}}, 7)
    state.checkpoint(3, None, 2)
    again = state.segments(20_001)
    state.close()
    assert (again[20_000].last_key, again[20_000].items, again[20_000].done) == (
        {"id": {"S": "k"}},
        7,
        False,
    )
    assert again[3].done and not any(p.done for p in again if p.segment != 3)


@contextmanager
def _state() -> Iterator[RunState]:
    with tempfile.TemporaryDirectory() as folder:
        state = RunState(Path(folder) / "run.sqlite")
        try:
            yield state
        finally:
            state.close()
