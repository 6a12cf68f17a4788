"""Small helpers shared by the tests: free ports, running the real CLI, stand-in readers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from toolkit.errors import ToolkitError
from toolkit.wire.dataplane import Answer
from toolkit.wire.stream_reader import Page

REPO = Path(__file__).resolve().parents[1]
CACHE_DIR = REPO / ".toolkit" / "cache"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def run_cli(
    *args: str,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `toolkit ARGS` as a user would: a separate process, real argv."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "toolkit", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        cwd=cwd,
        check=False,
    )


def pid_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The one `error: ` line of a failed run: exit 2, last on stderr, no traceback.

    Lines before it may be the run's own log and progress, but no other error.
    """
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines and lines[-1].startswith("error: "), result.stderr
    assert sum(line.startswith("error: ") for line in lines) == 1, result.stderr
    return lines[-1]


class OneByOne:
    """``records_all`` and ``iterators_all`` for a reader that reads one page, or
    opens one iterator, at a time (stand-ins)."""

    def iterator(self, shard_id: str, after: str | None) -> str:
        raise NotImplementedError

    def iterators_all(self, shards: Sequence[tuple[str, str | None]]) -> list[str | Exception]:
        opened: list[str | Exception] = []
        for shard_id, after in shards:
            try:
                opened.append(self.iterator(shard_id, after))
            except Exception as error:  # that shard's result, as StreamReader gives it
                opened.append(error)
        return opened

    def records(self, iterator: str) -> Page:
        raise NotImplementedError

    def records_all(self, iterators: Sequence[str]) -> list[Page | Exception]:
        pages: list[Page | Exception] = []
        for iterator in iterators:
            try:
                pages.append(self.records(iterator))
            except Exception as error:  # that shard's result, as StreamReader gives it
                pages.append(error)
        return pages


class PlaneOneByOne:
    """``call_all`` for a data plane stand-in that answers one request at a time, as
    DataPlane's gives them: each one's answer, or its error, not raised."""

    in_flight: list[int]  # how many requests each call_all sent together
    spreads_writes = False  # one endpoint: every request goes to it

    def node_for(self, key: bytes) -> str:
        return ""

    def call(self, operation: str, request: dict[str, Any]) -> Answer:
        raise NotImplementedError

    def call_all(
        self,
        operation: str,
        requests: Sequence[dict[str, Any]],
        *,
        keys: Sequence[bytes] | None = None,
    ) -> list[Answer | ToolkitError]:
        self.in_flight = [*getattr(self, "in_flight", []), len(requests)]
        outcomes: list[Answer | ToolkitError] = []
        for request in requests:
            try:
                outcomes.append(self.call(operation, request))
            except ToolkitError as error:
                outcomes.append(error)
        return outcomes
