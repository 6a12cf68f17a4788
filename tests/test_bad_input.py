"""Bad input through the real CLI: one line, exit code 2, and both servers as they were.

Each case runs `toolkit migrate` as a user would, and `toolkit verify` and
`toolkit mutate` where the same input reaches them. Before and after each run the
test looks at both servers: the tables of this test on each side, every item of
them, and the source's stream. A refused command must change none of it.
"""

from __future__ import annotations

import contextlib
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import Endpoints
from tests.helpers import free_port, run_cli
from tests.tables import create_table, load, scan_all, section, write_config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ITEMS = [{"id": {"S": f"k{n}"}, "n": {"N": str(n)}} for n in range(5)]
# Extra flags per command: a state file in the test's folder (every run has that folder
# as its working directory), both directions, a short run.
FLAGS = {
    "migrate": ("--state", "run.sqlite"),
    "verify": ("--both-directions",),
    "mutate": ("--keys", "10", "--duration", "2"),
}


@dataclass(frozen=True)
class Seen:
    """What a refused command must leave as it found it."""

    source_tables: list[str]
    target_tables: list[str]
    source_items: dict[str, Any] | None
    target_items: dict[str, Any] | None
    stream: tuple[Any, Any]  # the source's StreamSpecification and LatestStreamArn


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
        )

    def refused(self, command: str, config: Path, *phrases: str) -> str:
        """Run the command; assert one `error: ` line with the phrases, and nothing changed."""
        before = self.seen()
        result = self.run(command, config)
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


@pytest.fixture
def case(
    endpoints: Endpoints,
    source_client: DynamoDBClient,
    target_client: DynamoDBClient,
    table_name: str,
    tmp_path: Path,
) -> Case:
    return Case(endpoints, source_client, target_client, table_name, tmp_path)


ALL = pytest.mark.parametrize("command", ["migrate", "verify", "mutate"])


@ALL
def test_malformed_yaml(case: Case, command: str) -> None:
    case.source_table()
    config = case.tmp / "config.yaml"
    config.write_text("source:\n  type: dynamodb\n  table: [unclosed\n target: x\n")
    case.refused(command, config, str(config), "YAML error at line 4")


@ALL
def test_a_misspelled_key(case: Case, command: str) -> None:
    case.source_table()
    config = case.config(streamChange=True)
    case.refused(command, config, "target.streamChange", "did you mean streamChanges?")


@ALL
def test_a_source_table_that_does_not_exist(case: Case, command: str) -> None:
    case.refused(command, case.config(), f"{case.table} does not exist", case.endpoints.source)


@ALL
def test_an_unreachable_source(case: Case, command: str) -> None:
    case.source_table()
    nobody = f"http://127.0.0.1:{free_port()}"
    case.refused(command, case.config(source=nobody), f"cannot reach source {nobody}")


@pytest.mark.parametrize("command", ["migrate", "verify"])
def test_an_unreachable_target_enables_no_stream(case: Case, command: str) -> None:
    case.source_table()
    nobody = f"http://127.0.0.1:{free_port()}"
    case.refused(command, case.config(target=nobody), f"cannot reach target {nobody}")


@pytest.mark.parametrize("command", ["migrate", "verify"])
def test_a_target_table_with_another_key_schema(case: Case, command: str) -> None:
    case.source_table()
    create_table(case.target, case.table, keys=(("id", "N"),))
    load(case.endpoints.target, case.table, [{"id": {"N": "1"}}], ["id"])
    case.refused(command, case.config(), "has key schema [id (N, HASH)]", "id (S, HASH)")


@pytest.mark.parametrize(
    ("view", "phrase"),
    [("NEW_AND_OLD_IMAGES", "already has an enabled stream"), ("KEYS_ONLY", "no new images")],
)
def test_a_source_whose_stream_is_already_enabled(case: Case, view: str, phrase: str) -> None:
    case.source_table(StreamSpecification={"StreamEnabled": True, "StreamViewType": view})
    case.refused("migrate", case.config(), phrase)


def migrated_then_stream_disabled(case: Case) -> tuple[Path, str]:
    """A first run that follows the source's stream; then that stream is disabled."""
    case.source_table()
    config = case.config()
    first = case.run("migrate", config, "--stop-when-drained")
    assert first.returncode == 0, first.stderr
    followed = case.seen().stream[1]
    case.source.update_table(TableName=case.table, StreamSpecification={"StreamEnabled": False})
    return config, followed


def test_a_state_file_of_another_stream(case: Case) -> None:
    config, old = migrated_then_stream_disabled(case)
    case.source.update_table(
        TableName=case.table,
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    new = case.seen().stream[1]
    assert new != old
    case.refused("migrate", config, f"follows stream {old}", f"now has stream {new}")


def test_a_state_file_whose_stream_was_disabled(case: Case) -> None:
    config, old = migrated_then_stream_disabled(case)
    case.refused("migrate", config, f"the stream {old} recorded in", "was disabled")
