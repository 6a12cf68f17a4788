"""What a run's size costs before any item moves: segments and threads (issue 23, point 3).

No server: each measurement runs in a child process of its own, which prints its
wall time and peak RSS.

- ``state N``: ``RunState.segments(N)`` on a new state file, twice, as a snapshot
  does at its start and its end (one row per segment); the file's size.
- ``copier N``: the snapshot copier over N segments whose units do nothing, on the
  embedded engine with 8 threads: its lists, one future per unit, one
  checkpoint per segment.
- ``threads N``: a thread pool of N threads, all started and blocked.
- ``stop N``: how long SIGTERM waits while ``RunState.segments(N)`` runs.
- ``halt N``: the copier over N segments, 256 at a time, whose units wait for the stop:
  seconds from the stop to the copier's return (units not started are skipped).
- ``waiting N``: the copier over N segments, 8 at a time, whose units wait: the share
  of one core the process spends meanwhile (its wait on the units' futures).
- ``keys N``: mutate's key space of N keys, two thirds of them live (``LiveKeys``, and
  the sorted list of live keys it starts from).

    .venv/bin/python bench/segments.py                 # all of them, a table
    .venv/bin/python bench/segments.py state 1000000   # one
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from mutator.keys import LiveKeys  # noqa: E402
from toolkit.connectors.base import Part  # noqa: E402
from toolkit.engines.embedded import EmbeddedEngine  # noqa: E402
from toolkit.work.copy import PartCopied, PartStart  # noqa: E402
from toolkit.work.ledger import Ledger  # noqa: E402
from toolkit.work.snapshot import PartsCopier  # noqa: E402
from toolkit.work.state import RunState  # noqa: E402

PLAN = [
    *(("state", n) for n in (10_000, 100_000, 1_000_000)),
    *(("copier", n) for n in (10_000, 100_000, 1_000_000)),
    *(("halt", n) for n in (10_000, 30_000, 100_000)),
    *(("waiting", n) for n in (1_000, 10_000, 100_000)),
    *(("threads", n) for n in (64, 256, 1024, 4096)),
    *(("stop", n) for n in (1_000_000, 10_000_000)),
    *(("keys", n) for n in (1_000_000, 10_000_000, 100_000_000)),
]


class _Progress:
    def started(self, segments: int, segments_done: int, items_done: int) -> None: ...
    def page_copied(self, items: int, size: int = 0, expired: int = 0) -> None: ...
    def segment_done(self) -> None: ...
    def finished(self) -> None: ...


class _Nothing:
    """A unit that copies nothing and reports its segment done."""

    @contextmanager
    def open(self, share: float) -> Iterator[Callable[[PartStart], PartCopied]]:
        yield lambda start: PartCopied(start.part, done=True)


def _state(n: int, folder: Path) -> dict[str, float]:
    state = RunState(folder / "run.sqlite")
    state.segments(n)
    state.segments(n)
    state.close()
    return {"file_mb": (folder / "run.sqlite").stat().st_size / 1e6}


def _copier_of(
    n: int, workers: int, work: _Nothing | _UntilStopped, state: RunState, stop: threading.Event
) -> PartsCopier:
    """The copier over n scan segments (a table's one wave), on the embedded engine."""
    waves = [[Part(f"segment {s}", s) for s in range(n)]]
    return PartsCopier(
        *(waves, work, EmbeddedEngine(), Ledger(state), _Progress(), stop, workers),
        records_pages=False,
    )


def _copier(n: int, folder: Path) -> dict[str, float]:
    state = RunState(folder / "run.sqlite")
    copier = _copier_of(n, 8, _Nothing(), state, threading.Event())
    summary = copier.run()
    state.close()
    assert summary.complete
    return {}


class _UntilStopped:
    """A unit that waits for the stop, as a scan in flight does, then reports its segment."""

    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop

    @contextmanager
    def open(self, share: float) -> Iterator[Callable[[PartStart], PartCopied]]:
        yield lambda start: PartCopied(start.part, done=self.stop.wait())


def _halt(n: int, folder: Path) -> dict[str, float]:
    state, stop = RunState(folder / "run.sqlite"), threading.Event()
    copier = _copier_of(n, 256, _UntilStopped(stop), state, stop)
    stopped: list[float] = []
    threading.Timer(1.0, lambda: (stopped.append(time.monotonic()), stop.set())).start()
    copier.run()
    state.close()
    return {"after_stop_s": time.monotonic() - stopped[0]}


def _waiting(n: int, folder: Path) -> dict[str, float]:
    state, stop = RunState(folder / "run.sqlite"), threading.Event()
    copier = _copier_of(n, 8, _UntilStopped(stop), state, stop)
    running = threading.Thread(target=copier.run)
    running.start()
    time.sleep(3)  # past the start: the units are submitted, 8 of them wait
    cpu, wall = time.process_time(), time.monotonic()
    time.sleep(10)
    share = (time.process_time() - cpu) / (time.monotonic() - wall)
    stop.set()
    running.join()
    state.close()
    return {"core_share": share}


def _threads(n: int, folder: Path) -> dict[str, float]:
    release = threading.Event()
    with ThreadPoolExecutor(n) as pool:
        for _ in range(n):
            pool.submit(release.wait)
        release.set()
    return {}


def _stop(n: int, folder: Path) -> dict[str, float]:
    """Seconds from SIGTERM (sent 0.2 s into segments(N)) to its handler running."""
    handled: list[float] = []
    signal.signal(signal.SIGTERM, lambda *_: handled.append(time.monotonic()))
    state = RunState(folder / "run.sqlite")
    timer = threading.Timer(0.2, lambda: os.kill(os.getpid(), signal.SIGTERM))
    timer.start()
    sent = time.monotonic() + 0.2
    state.segments(n)
    state.close()
    timer.join()
    return {"stop_delay_s": (handled[0] if handled else time.monotonic()) - sent}


def _keys(n: int, folder: Path) -> dict[str, float]:
    live = sorted(i for i in range(n) if i % 3)  # as mutator.table.live_indexes returns them
    keys = LiveKeys(n, live)
    return {"live": len(keys)}


def one(kind: str, n: int) -> None:
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as folder:
        extra = {
            "state": _state,
            "copier": _copier,
            "threads": _threads,
            "stop": _stop,
            "keys": _keys,
            "halt": _halt,
            "waiting": _waiting,
        }[kind](n, Path(folder))
    seconds = time.monotonic() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"kind": kind, "n": n, "seconds": seconds, "peak_mb": peak, **extra}))


def main() -> None:
    if len(sys.argv) == 3:
        one(sys.argv[1], int(sys.argv[2]))
        return
    baseline = _child("threads", 1)
    print(f"a child that does nothing: peak RSS {baseline['peak_mb']:.0f} MB")
    print(f"{'what':8} {'N':>10} {'seconds':>8} {'peak MB':>8}  more")
    for kind, n in PLAN:
        row = _child(kind, n)
        more = {
            k: round(v, 3) for k, v in row.items() if k not in ("kind", "n", "seconds", "peak_mb")
        }
        print(f"{kind:8} {n:>10,} {row['seconds']:>8.2f} {row['peak_mb']:>8.0f}  {more or ''}")


def _child(kind: str, n: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, kind, str(n)], capture_output=True, text=True, check=True
    ).stdout
    result: dict[str, float] = json.loads(out.splitlines()[-1])
    return result


if __name__ == "__main__":
    main()
