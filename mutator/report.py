"""Print one line per window of ``window`` seconds while a run goes on."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

from mutator.stats import Tally

# (seconds since start at the window's end, window length, counts in it, partial?) -> line
LineFormat = Callable[[float, float, Tally, bool], str]


class Counted(Protocol):
    """What a run counted so far: one table's ``Counters``, or all tables' sum."""

    def snapshot(self) -> Tally: ...


class WindowReporter:
    """A thread that prints each full window; ``finish`` prints the last partial one."""

    def __init__(
        self,
        counters: Counted,
        window: float,
        line: LineFormat,
        say: Callable[[str], None],
        clock: Callable[[], float],
        start: float,
    ) -> None:
        self._counters = counters
        self._window = window
        self._line = line
        self._say = say
        self._clock = clock
        self._start = start
        self._edge = start  # where the current window began
        self._seen = Tally()
        self._finished = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="windows", daemon=True)

    def __enter__(self) -> WindowReporter:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._finished.set()
        self._thread.join()
        self._report(self._clock(), partial=True)

    def _loop(self) -> None:
        while not self._finished.wait(max(0.0, self._edge + self._window - self._clock())):
            self._report(self._edge + self._window, partial=False)

    def _report(self, end: float, partial: bool) -> None:
        now = self._counters.snapshot()
        tally, seconds, first = now - self._seen, end - self._edge, self._edge == self._start
        self._seen, self._edge = now, end
        # A last partial window is shown only after full ones: alone, the summary says it.
        if partial and (first or tally.operations == 0 or seconds < 0.05):
            return
        self._say(self._line(end - self._start, seconds, tally, partial))
