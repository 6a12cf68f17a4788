"""Refused commands: what a refused command must leave as it found it, and a runner.

Each case runs `toolkit migrate` as a user would, and `toolkit verify` and
`toolkit mutate` where the same input reaches them. Before and after each run the
case looks at both servers (the tables of this test on each side, every item of
them, and the source's stream) and at the files of the test's folder, the run's
working directory, where its state file goes. A refused command must change none
of it.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.helpers import run_cli
from tests.tables import create_table, load, scan_all, section, write_config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from tests.conftest import Endpoints

ITEMS = [{"id": {"S": f"k{n}"}, "n": {"N": str(n)}} for n in range(5)]
# Extra flags per command: a state file in the test's folder (every run has that folder
# as its working directory), both directions, a short run.
FLAGS = {
    "migrate": ("--state", "run.sqlite"),
    "verify": ("--both-directions",),
    "mutate": ("--keys", "10", "--duration", "2"),
    "plan": (),
}


@dataclass(frozen=True)
class Seen:
    """What a refused command must leave as it found it."""

    source_tables: list[str]
    target_tables: list[str]
    source_items: dict[str, Any] | None
    target_items: dict[str, Any] | None
    stream: tuple[Any, Any]  # the source's StreamSpecification and LatestStreamArn
    files: list[str]  # the test folder's files (a state file, its lock), by path


@dataclass
class Case:
    endpoints: Endpoints
    source: DynamoDBClient
    target: DynamoDBClient
    table: str
    tmp: Path

    def config(self, source: str | None = None, target: str | None = None, **extra: Any) -> Path:
        """A streaming config for the test's table; ``extra`` goes into the target section."""
        return write_config(
            self.tmp / "config.yaml",
            section(source or self.endpoints.source, self.table),
            section(target or self.endpoints.target, self.table, streamChanges=True, **extra),
        )

    def source_table(self, **extra: Any) -> None:
        create_table(self.source, self.table, **extra)
        load(self.endpoints.source, self.table, ITEMS, ["id"])

    def seen(self) -> Seen:
        description: dict[str, Any] = {}
        with contextlib.suppress(self.source.exceptions.ResourceNotFoundException):
            description = dict(self.source.describe_table(TableName=self.table)["Table"])
        return Seen(
            self._tables(self.source),
            self._tables(self.target),
            self._items(self.endpoints.source, self.source),
            self._items(self.endpoints.target, self.target),
            (description.get("StreamSpecification"), description.get("LatestStreamArn")),
            sorted(str(path.relative_to(self.tmp)) for path in self.tmp.rglob("*")),
        )

    def refused(self, command: str, config: Path, *phrases: str, more: Sequence[str] = ()) -> str:
        """Run the command (with ``more`` flags); assert one `error: ` line with the
        phrases, and nothing changed."""
        before = self.seen()
        result = self.run(command, config, *more)
        assert result.returncode == 2, (result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
        for phrase in phrases:
            assert phrase in lines[0]
        assert self.seen() == before
        return lines[0]

    def run(self, command: str, config: Path, *more: str) -> subprocess.CompletedProcess[str]:
        return run_cli(command, "--config", str(config), *FLAGS[command], *more, cwd=self.tmp)

    def _tables(self, client: DynamoDBClient) -> list[str]:
        # This test's tables only: other tests' tables may come and go on shared servers.
        names = client.list_tables(Limit=100)["TableNames"]
        return [name for name in names if name.startswith(self.table)]

    def _items(self, endpoint: str, client: DynamoDBClient) -> dict[str, Any] | None:
        try:
            return scan_all(endpoint, self.table)
        except client.exceptions.ResourceNotFoundException:
            return None
