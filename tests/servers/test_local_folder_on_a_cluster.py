"""An export written to a local folder by a cluster's executors would be spread over
their disks: refused with one line, before the state file or the folder exists."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.conftest import Endpoints
from tests.servers.test_export_bytes import Tally
from tests.tables import create_table, section
from tests.unit.test_config_ranges import Cluster  # executors on other machines
from toolkit.config import parse_config
from toolkit.driver.migrate import run_migration
from toolkit.driver.migration import MigrateOptions
from toolkit.errors import UserError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def test_a_local_export_folder_is_refused_on_a_cluster(
    endpoints: Endpoints, source_client: DynamoDBClient, table_name: str, tmp_path: Path
) -> None:
    create_table(source_client, table_name)
    folder, state = tmp_path / "export", tmp_path / "run.sqlite"
    config = parse_config(
        {
            "source": section(endpoints.source, table_name),
            "target": {"type": "dynamodb-s3-export", "path": str(folder)},
        }
    )
    options = MigrateOptions(config, state, engine=Cluster())
    tally = Tally()
    with pytest.raises(UserError, match=r"is a folder of this machine.*give an s3:// path"):
        run_migration(options, tally, tally, threading.Event())
    assert not folder.exists() and not state.exists()
