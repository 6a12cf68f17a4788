"""The snapshot's progress: redrawn on a terminal, a log line now and then anywhere else."""

from __future__ import annotations

import io
import logging

import pytest
from rich.console import Console

from toolkit.driver.progress import LOG_EVERY_SECONDS, SnapshotBar


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def copy_pages(bar: SnapshotBar, clock: Clock, pages: int, seconds_apart: float) -> None:
    for _ in range(pages):
        clock.now += seconds_apart
        bar.page_copied(1000)


def test_off_a_terminal_a_line_is_logged_every_interval_and_nothing_redraws(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    bar = SnapshotBar(Console(file=io.StringIO()), clock=clock)
    with caplog.at_level(logging.INFO, logger="migrator"), bar:
        bar.started(segments=4, segments_done=1, items_done=5000)  # resumed: 5,000 before
        assert bar._progress.live._refresh_thread is None
        copy_pages(bar, clock, pages=7, seconds_apart=LOG_EVERY_SECONDS / 3)
        bar.segment_done()
        copy_pages(bar, clock, pages=3, seconds_apart=LOG_EVERY_SECONDS / 3)
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "Snapshot: 8,000 items copied, 100 items/s, 1 of 4 segments done",
        "Snapshot: 11,000 items copied, 100 items/s, 1 of 4 segments done",
        "Snapshot: 14,000 items copied, 100 items/s, 2 of 4 segments done",
    ]


def test_on_a_terminal_the_bar_redraws_and_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    bar = SnapshotBar(Console(file=io.StringIO(), force_terminal=True), clock=clock)
    with caplog.at_level(logging.INFO, logger="migrator"), bar:
        bar.started(segments=2, segments_done=0, items_done=0)
        assert bar._progress.live._refresh_thread is not None
        copy_pages(bar, clock, pages=5, seconds_apart=LOG_EVERY_SECONDS)
    assert caplog.records == []
