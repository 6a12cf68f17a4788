"""Waiting on a pool of workers so that Ctrl-C and a failing worker both stop the rest."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import Any


def wait_for_workers(
    futures: Iterable[Future[Any]],
    stop: threading.Event,
    finished: Callable[[Future[Any]], None] = lambda future: None,
) -> None:
    """Return when all are done; on the first failure, stop the others and raise it.

    ``finished`` is called here, in the waiting thread, for each that succeeded, also
    for those that end after another failed.
    """
    try:
        pending = set(futures)
        while pending:
            # A timeout, so that Ctrl-C reaches this thread while workers run.
            ended, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            failed = [future for future in ended if future.exception() is not None]
            for future in ended:  # the ones that succeeded first: their results count
                if future.exception() is None:
                    finished(future)
            if failed:
                stop.set()
                for future in wait(pending).done:
                    if future.exception() is None:
                        finished(future)
                failed[0].result()
    except BaseException:
        stop.set()
        raise
