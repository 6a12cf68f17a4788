"""Waiting on a pool of workers so that Ctrl-C and a failing worker both stop the rest."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from typing import Any

TICK_SECONDS = 0.5  # the longest the waiting thread is deaf to Ctrl-C


def wait_for_workers(
    futures: Iterable[Future[Any]],
    stop: threading.Event,
    finished: Callable[[Future[Any]], None] = lambda future: None,
) -> None:
    """Return when all are done; on the first failure, stop the others and raise it.

    ``finished`` is called here, in the waiting thread, for each that succeeded, also
    for those that end after another failed. Each future reports its own end to a
    queue: a wait costs the same per future whatever their number (waiting on the set
    of those pending, again at each end, cost a pass over all of them each time: with
    10,000 segments, seconds between a stop and the last of them).
    """
    ended: queue.SimpleQueue[Future[Any]] = queue.SimpleQueue()
    pending = 0
    for future in futures:
        future.add_done_callback(ended.put)
        pending += 1
    failed: Future[Any] | None = None
    try:
        while pending:
            try:
                # A timeout, so that Ctrl-C reaches this thread while workers run.
                future = ended.get(timeout=TICK_SECONDS)
            except queue.Empty:
                continue
            pending -= 1
            if future.exception() is None:
                finished(future)
            elif failed is None:
                failed = future
                stop.set()  # the others end soon; their results still count
    except BaseException:
        stop.set()
        raise
    if failed is not None:
        failed.result()
