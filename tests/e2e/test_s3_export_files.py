"""Exports made as DynamoDB writes them (FULL, INCREMENTAL, ION), loaded through the CLI."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from tests.conftest import Endpoints
from tests.e2e.test_s3_export import bucket, export_source, identical_and_verified, items
from tests.fakes.s3_server import ExportWriter, files_done, s3_client
from tests.helpers import REPO, run_cli
from tests.tables import create_table, load, section, table_state, write_config
from toolkit.connectors.s3_export.files import ExportPart
from toolkit.connectors.s3_export.loading import exports_named
from toolkit.logic.export_format import parse_summary
from toolkit.wire.s3_store import LocalStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def key(n: int) -> dict[str, Any]:
    return {"id": {"S": f"k{n:05d}"}}


def change(n: int, image: dict[str, Any] | None, micros: int) -> dict[str, Any]:
    line: dict[str, Any] = {
        "Metadata": {"WriteTimestampMicros": {"N": str(micros)}},
        "Keys": key(n),
    }
    if image is not None:
        line["NewImage"] = image
    return line


def export_in_parts(export: ExportWriter, parts: int, each: int) -> str:
    """A full export of parts * each items, ``each`` to a data file: its summary's key."""
    everything = items(parts * each)
    for part in range(parts):
        export.data_file(
            [{"Item": i} for i in everything[part * each : (part + 1) * each]], f"p{part}"
        )
    return export.finish(exportTime=datetime.now(UTC))


def test_a_full_export_then_incremental_ones_in_order_of_their_windows(
    endpoints: Endpoints,
    s3_endpoint: str,
    source_client: DynamoDBClient,
    table_name: str,
    tmp_path: Path,
) -> None:
    name, client = bucket(s3_endpoint), s3_client(s3_endpoint)
    start = datetime.now(UTC) - timedelta(hours=2)
    first = items(100)
    first[99]["expires"] = {"N": str(int(time.time()) - 3600)}  # expired: skipped, as by Scan
    full = ExportWriter(client, name, "exp", "01000000000000-aaaaaaaa", output_format="ION")
    full.data_file([{"Item": i} for i in first[:60]], "part1")
    full.data_file([], "empty")  # DynamoDB writes an empty file for an empty partition
    full.data_file([{"Item": i} for i in first[60:]], "part2")
    full_key = full.finish(exportTime=start)
    # Two incremental windows: listed out of order, applied in order (the later one wins).
    second = ExportWriter(client, name, "exp", "02000000000000-bbbbbbbb")
    renamed = {**first[5], "n": {"N": "-1"}}
    second.data_file([change(n, None, 10) for n in range(10)] + [change(5, renamed, 11)], "c")
    second_key = second.finish(
        exportType="INCREMENTAL_EXPORT",
        exportFromTime=start,
        exportToTime=start + timedelta(hours=1),
    )
    third = ExportWriter(client, name, "exp", "03000000000000-cccccccc", output_format="ION")
    back = {**first[5], "n": {"N": "42"}}
    third.data_file([change(5, back, 20), change(200, {**key(200), "x": {"S": "new"}}, 21)], "d")
    third_key = third.finish(
        exportType="INCREMENTAL_EXPORT",
        exportFromTime=start + timedelta(hours=1),
        exportToTime=start + timedelta(hours=2),
    )
    expected = {n: i for n, i in enumerate(first) if not 0 <= n < 10 and n != 99} | {5: back}
    expected[200] = {**key(200), "x": {"S": "new"}}
    # The live table holds what the exports lead to, so that verify can compare.
    create_table(source_client, table_name)
    source_client.update_time_to_live(
        TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"}
    )
    load(endpoints.source, table_name, expected.values(), ["id"])
    config = write_config(
        tmp_path / "config.yaml",
        {
            **export_source(s3_endpoint, name, full_key, endpoints, table_name),
            "manifestKey": [third_key, full_key, second_key],
            "maxMapTasks": 2,
        },
        section(endpoints.target, table_name),
    )

    result = run_cli("migrate", "--config", str(config))

    assert result.returncode == 0, result.stderr
    assert "1 expired items skipped" in result.stdout
    named = ", ".join(f"s3://{name}/{key}" for key in (full_key, second_key, third_key))
    assert f"Loading 3 exports ({named}) into {table_name}: 5 data files" in result.stderr
    identical_and_verified(endpoints, table_name, config)


def test_killed_mid_copy_then_resumed_per_data_file(
    endpoints: Endpoints, s3_endpoint: str, table_name: str, tmp_path: Path
) -> None:
    name, client = bucket(s3_endpoint), s3_client(s3_endpoint)
    summary = export_in_parts(ExportWriter(client, name, "big", "04000000000000-dddddddd"), 48, 500)
    source = export_source(s3_endpoint, name, summary, endpoints, table_name)
    del source["table"], source["tableEndpoint"]
    config = write_config(
        tmp_path / "config.yaml",
        {**source, "maxMapTasks": 1},
        section(endpoints.target, table_name),
    )
    state = tmp_path / "run.sqlite"
    args = ["-m", "toolkit", "migrate", "--config", str(config), "--state", str(state)]
    process = subprocess.Popen([sys.executable, *args], cwd=REPO, stderr=subprocess.DEVNULL)
    try:
        while files_done(state) < 2:
            assert process.poll() is None, "the copy ended before it could be killed"
            time.sleep(0.02)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    killed_at = files_done(state)
    assert killed_at < 48

    resumed = run_cli("migrate", "--config", str(config), "--state", str(state))

    assert resumed.returncode == 0, resumed.stderr
    copied = int(resumed.stdout.split("Snapshot done: ")[1].split(" items")[0])
    assert copied == (48 - killed_at) * 500  # finished files were not copied again
    target = table_state(endpoints.target, table_name, ["id"])
    assert len(target) == 24000


def test_an_export_copied_in_parts_to_another_bucket_loads(
    endpoints: Endpoints, s3_endpoint: str, table_name: str, tmp_path: Path
) -> None:
    # A copy's ETags differ from the manifest's (here: one-part multipart uploads, "-1"),
    # which says nothing of the bytes: the up-front check lets it through, MD5s decide.
    name, client = bucket(s3_endpoint), s3_client(s3_endpoint)
    summary = export_in_parts(ExportWriter(client, name, "orig", "06000000000000-ffffffff"), 3, 10)
    copy = bucket(s3_endpoint)
    for entry in client.list_objects_v2(Bucket=name)["Contents"]:
        body = client.get_object(Bucket=name, Key=entry["Key"])["Body"].read()
        upload = client.create_multipart_upload(Bucket=copy, Key=entry["Key"])["UploadId"]
        etag = client.upload_part(
            Bucket=copy, Key=entry["Key"], UploadId=upload, PartNumber=1, Body=body
        )["ETag"]
        client.complete_multipart_upload(
            Bucket=copy,
            Key=entry["Key"],
            UploadId=upload,
            MultipartUpload={"Parts": [{"ETag": etag, "PartNumber": 1}]},
        )
    copied = client.list_objects_v2(Bucket=copy, Prefix="orig/AWSDynamoDB/0600")["Contents"]
    assert all(entry["ETag"].endswith('-1"') for entry in copied)
    source = export_source(s3_endpoint, copy, summary, endpoints, table_name)
    del source["table"], source["tableEndpoint"]
    config = write_config(tmp_path / "config.yaml", source, section(endpoints.target, table_name))

    result = run_cli("migrate", "--config", str(config))

    assert result.returncode == 0, result.stderr
    assert len(table_state(endpoints.target, table_name, ["id"])) == 30


def test_the_loading_line_names_the_first_exports_and_how_many_more() -> None:
    store = LocalStore(Path("/exports"))
    parts = [
        ExportPart(parse_summary(orjson.dumps({"manifestFilesS3Key": "f"}), f"e{n}/s"), [])
        for n in range(5)
    ]
    assert exports_named(store, parts[:1]) == "the export /exports/e0/s"
    assert exports_named(store, parts[:3]) == (
        "3 exports (/exports/e0/s, /exports/e1/s, /exports/e2/s)"
    )
    assert exports_named(store, parts) == (
        "5 exports (/exports/e0/s, /exports/e1/s, /exports/e2/s and 2 more)"
    )
