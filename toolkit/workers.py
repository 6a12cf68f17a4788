"""Waiting on a pool of workers so that Ctrl-C and a failing worker both stop the rest."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from concurrent.futures import FIRST_EXCEPTION, Future, wait
from typing import Any


def wait_for_workers(futures: Iterable[Future[Any]], stop: threading.Event) -> None:
    """Return when all are done; on the first failure, stop the others and raise it."""
    try:
        pending = set(futures)
        while pending:
            # A timeout, so that Ctrl-C reaches this thread while workers run.
            finished, pending = wait(pending, timeout=0.5, return_when=FIRST_EXCEPTION)
            for future in finished:
                if future.exception() is not None:
                    stop.set()
                    wait(pending)
                    future.result()
    except BaseException:
        stop.set()
        raise
