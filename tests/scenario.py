"""A scenario's files and processes, run through the real CLI as a user would.

Shared by the end-to-end tests: the migration's progress is read from its state
file as another process would, every process is killed when the test ends.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.conftest import Endpoints
from tests.tables import section, write_config

WAIT = 150.0  # the longest any phase may take on a loaded machine

Process = subprocess.Popen[str]


@dataclass(frozen=True)
class Progress:
    copied: int
    snapshot_done: bool
    records: int


def progress(state: Path) -> Progress:
    """The run's progress, read from its state file as another process would."""
    try:
        with closing(sqlite3.connect(f"file:{state}?mode=ro", uri=True)) as db:
            copied = db.execute("SELECT COALESCE(SUM(items), 0) FROM segments").fetchone()[0]
            snapshot = db.execute("SELECT value FROM run WHERE name = 'snapshot'").fetchone()
            records = db.execute("SELECT COALESCE(SUM(records), 0) FROM shards").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return Progress(0, False, 0)
    return Progress(int(copied), snapshot == ("done",), int(records))


@dataclass
class Run:
    """One scenario's files and processes; every process is killed at the end."""

    endpoints: Endpoints
    table: str
    tmp: Path
    config: Path = field(init=False)
    state: Path = field(init=False)
    oplog: Path = field(init=False)
    processes: dict[Process, tuple[Path, str]] = field(default_factory=dict)
    logged_at_start: dict[Process, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names = ("config.yaml", "run.sqlite", "ops.jsonl")
        self.config, self.state, self.oplog = (self.tmp / name for name in names)

    def configure(
        self, target: str | None = None, target_keys: Mapping[str, Any] = {}, **source: Any
    ) -> None:
        write_config(
            self.config,
            section(self.endpoints.source, self.table, scanSegments=4, **source),
            section(
                target or self.endpoints.target,
                self.table,
                **{"streamChanges": True, **target_keys},
            ),
        )

    def start(self, *args: str) -> Process:
        base = self.tmp / f"process-{len(self.processes)}"
        with base.with_suffix(".out").open("w") as out, base.with_suffix(".err").open("w") as err:
            command = [sys.executable, "-m", "toolkit", *args]
            process = subprocess.Popen(command, stdout=out, stderr=err, text=True, cwd=self.tmp)
        self.processes[process] = (base, f"toolkit {args[0]} (pid {process.pid})")
        return process

    def mutate(self, *args: str) -> Process:
        common = ("--config", str(self.config), "--log", str(self.oplog), "--window", "2")
        lines = logged(self)
        process = self.start("mutate", *common, *args)
        self.logged_at_start[process] = lines
        return process

    def migrate(self, *args: str) -> Process:
        return self.start(
            "migrate", "--config", str(self.config), "--state", str(self.state), *args
        )

    def output(self, process: Process) -> tuple[str, str]:
        base = self.processes[process][0]
        return base.with_suffix(".out").read_text(), base.with_suffix(".err").read_text()

    def finish(self, process: Process, timeout: float = WAIT) -> tuple[str, str]:
        """Wait for the process to end with exit code 0; return its stdout and stderr."""
        try:
            code = process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            code = process.wait()
        out, err = self.output(process)
        assert code == 0, (
            f"{self.processes[process][1]} exited with {code}:\n{out[-2000:]}\n{err[-3000:]}"
        )
        return out, err

    def alive(self, *processes: Process) -> None:
        for process in processes:
            assert process.poll() is None, (
                f"{self.processes[process][1]} ended: {self.output(process)}"
            )

    def stop(self, process: Process, signum: int = signal.SIGINT) -> tuple[str, str]:
        self.alive(process)
        process.send_signal(signum)
        return self.finish(process, 60)

    def kill(self, process: Process) -> None:
        self.alive(process)
        process.send_signal(signal.SIGKILL)
        process.wait()

    def wait_until(self, what: str, ready: Callable[[], bool], *alive: Process) -> None:
        deadline = time.monotonic() + WAIT
        while not ready():
            self.alive(*alive)
            assert time.monotonic() < deadline, f"no {what} within {WAIT} s: {progress(self.state)}"
            time.sleep(0.05)

    def kill_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait()


def logged(run: Run) -> int:
    """Operations acknowledged so far, as the mutators' shared --log file records them."""
    try:
        with run.oplog.open("rb") as log:
            return sum(1 for _ in log)
    except FileNotFoundError:
        return 0
