"""SIGINT and SIGTERM, honoured from the process's first moment.

``install`` runs first thing in the CLI, so a signal is never lost, even when the
process was started with SIGINT ignored (a background job of a script): Python
then installs no handler of its own. Until a command arms a graceful stop, a
signal interrupts at once (nothing has been touched yet; exit 130). While armed,
the first signal asks the run to stop at its next safe point (the batch in flight
finishes, its checkpoint is saved) and a second one interrupts at once.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM)

_armed: list[tuple[threading.Event, Callable[[], None]]] = []


def _handle(signum: int, frame: FrameType | None) -> None:
    if not _armed:
        raise KeyboardInterrupt
    stop, on_stop = _armed[-1]
    if stop.is_set():
        raise KeyboardInterrupt
    stop.set()
    on_stop()


def install() -> None:
    """Take SIGINT and SIGTERM over, whatever the process inherited."""
    for signum in SIGNALS:
        signal.signal(signum, _handle)


@contextmanager
def graceful(stop: threading.Event, on_stop: Callable[[], None] = lambda: None) -> Iterator[None]:
    """Within the block, a signal sets ``stop`` (and calls ``on_stop``) instead of interrupting.

    Outside ``toolkit.cli.main`` (a test calling the CLI in-process) the handlers
    are installed here for the block, and the earlier ones put back after it.
    """
    installed = [signal.getsignal(s) for s in SIGNALS]
    own = all(handler is _handle for handler in installed)
    if not own:
        install()
    _armed.append((stop, on_stop))
    try:
        yield
    finally:
        _armed.pop()
        if not own:
            for signum, handler in zip(SIGNALS, installed, strict=True):
                signal.signal(signum, handler)
