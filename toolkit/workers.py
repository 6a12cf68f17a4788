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

    ``finished`` is called here, in the waiting thread, for each that succeeded.
    """
    try:
        pending = set(futures)
        while pending:
            # A timeout, so that Ctrl-C reaches this thread while workers run.
            ended, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            for future in ended:
                if future.exception() is not None:
                    stop.set()
                    wait(pending)
                    future.result()
                finished(future)
    except BaseException:
        stop.set()
        raise
