"""What a run reports as it copies (the display, the metrics, the state's notes) adds up to
its summary line, for an export written from a table and for that export loaded back."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from tests.conftest import Endpoints
from tests.e2e.test_s3_export import DESCRIPTION, bucket, export_target, items
from tests.fakes.s3_server import s3_section
from tests.tables import create_table, load, section
from toolkit.config import parse_config
from toolkit.driver.migrate import run_migration
from toolkit.driver.migration import MigrateOptions
from toolkit.work.replay import ReplayStats
from toolkit.work.snapshot import SnapshotSummary

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class Tally:
    """A display that adds up what the copy reports."""

    def __init__(self) -> None:
        self.items = self.size = 0

    def started(self, segments: int, segments_done: int, items_done: int) -> None: ...
    def page_copied(self, items: int, size: int = 0, expired: int = 0) -> None:
        self.items += items
        self.size += size

    def segment_done(self) -> None: ...
    def finished(self) -> None: ...
    def batch_applied(self, counts: Mapping[str, int]) -> None: ...
    def tick(self, stats: ReplayStats) -> None: ...


def copied(document: dict[str, object], state: Path) -> tuple[SnapshotSummary, Tally]:
    tally = Tally()
    options = MigrateOptions(parse_config(document), state)
    result = run_migration(options, tally, tally, threading.Event())
    assert result.snapshot is not None and result.snapshot.complete
    return result.snapshot, tally


def test_an_export_and_its_load_report_the_bytes_of_their_summaries(
    endpoints: Endpoints,
    s3_endpoint: str,
    source_client: DynamoDBClient,
    table_name: str,
    tmp_path: Path,
) -> None:
    create_table(source_client, table_name)
    load(endpoints.source, table_name, items(300), ["id"])
    name = bucket(s3_endpoint)
    written, seen = copied(
        {
            "source": section(endpoints.source, table_name, scanSegments=3),
            "target": export_target(s3_endpoint, f"s3://{name}/back"),
        },
        tmp_path / "out.sqlite",
    )
    assert (seen.items, seen.size) == (written.items, written.bytes) and written.bytes > 0
    loaded, seen = copied(
        {
            "source": {
                "type": "dynamodb-s3-export",
                "bucket": name,
                "manifestKey": "back/manifest-summary.json",
                "tableDescription": DESCRIPTION,
                **s3_section(s3_endpoint),
            },
            "target": section(endpoints.target, table_name),
        },
        tmp_path / "in.sqlite",
    )
    assert (seen.items, seen.size) == (loaded.items, loaded.bytes) == (300, written.bytes)
