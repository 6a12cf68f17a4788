"""A state file deleted under an export run stops it too: a load from an export (its
data files' copier) and a table written as an export (its segments' writer)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Endpoints
from tests.e2e.test_s3_export import bucket, export_source, items
from tests.e2e.test_state_deleted import migrate, stopped_by_the_deletion, wait_for
from tests.fakes.fault_proxy import FaultProxy
from tests.fakes.s3_server import ExportWriter, s3_client
from tests.refusals import Case
from tests.tables import create_table, load, section, write_config


def test_a_state_file_deleted_while_an_export_is_loaded_stops_it(
    endpoints: Endpoints, s3_endpoint: str, table_name: str, tmp_path: Path
) -> None:
    name = bucket(s3_endpoint)
    export = ExportWriter(s3_client(s3_endpoint), name, "deleted", "05000000000000-eeeeeeee")
    rows = items(40)
    for part in range(4):
        export.data_file([{"Item": i} for i in rows[part * 10 : (part + 1) * 10]], f"p{part}")
    source = export_source(s3_endpoint, name, export.finish(), endpoints, table_name)
    del source["table"], source["tableEndpoint"]  # the export alone, no live table
    state = tmp_path / "run.sqlite"
    with FaultProxy(endpoints.target) as proxy:
        config = write_config(tmp_path / "config.yaml", source, section(proxy.url, table_name))
        held = proxy.hold("BatchWriteItem")  # a data file in flight, its record to come
        run = migrate(config, state)
        wait_for(lambda: proxy.count("held BatchWriteItem") > 0, run, "write")
        state.unlink()
        held.set()
        stopped_by_the_deletion(run, state)


def test_a_state_file_deleted_while_a_table_is_written_as_an_export_stops_it(
    case: Case, tmp_path: Path
) -> None:
    create_table(case.source, case.table)
    load(case.endpoints.source, case.table, items(40), ["id"])
    state = tmp_path / "run.sqlite"
    with FaultProxy(case.endpoints.source) as proxy:
        config = write_config(
            tmp_path / "config.yaml",
            section(proxy.url, case.table, scanSegments=2),
            {"type": "dynamodb-s3-export", "path": str(tmp_path / "export")},
        )
        held = proxy.hold("Scan")  # a segment in flight, its data file to come
        run = migrate(config, state)
        wait_for(lambda: proxy.count("held Scan") > 0, run, "scan")
        state.unlink()
        held.set()
        stopped_by_the_deletion(run, state)
